"""Decoding settings and the decoding request: every default, range and help text in ONE table.

`KNOBS` is the single place a decoding setting is defined. Everything else reads it:
  - `Settings` (the interpreter's settings record) takes its defaults and ranges from it;
  - the CLI's `decode` flags are generated from it (`add_arguments`);
  - the HTTP routes' bodies and the web UI's controls read their defaults and ranges from it;
  - `DecodeRequest.build` validates a request once, naming the field in every error, against
    the core's ranges and, for a server, its tighter per-request limits.
Adding a setting is one edit here (and, where it changes decoding, in the interpreter).

`plan_runs(mode)` is the one expansion of a run mode into the runs it makes. Two modes are
races, decoded in lockstep: "both" (PASTA against the same model decoding sequentially) and
"base" (PASTA against the base model, trained on the same answers without tags, decoding
plainly: the paper's comparison). "sot" is Skeleton-of-Thought on the same interpreter, and
"sot-sequential" its reference: the same points decoded one after another
(docs/PASTA_LANG.md §6). Mode "methods" races two to four decoding METHODS in lockstep on one
request (sequential, PASTA, Skeleton-of-Thought, APAR-style), each on its own model: the
paper's comparison of learned promises against hand-made splitting rules, live.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import lang

RUN_MODES = ("pasta", "sequential", "plain", "both", "base", "sot", "sot-sequential", "methods")
SOT_MODES = ("sot", "sot-sequential")  # Skeleton-of-Thought, and its sequential reference
RACES = {"both": ("pasta", "sequential"), "base": ("pasta", "plain")}  # PASTA, its opponent
RUNNERS = ("auto", "eager", "static")  # runners/__init__.py resolves them
MIN_METHODS, MAX_METHODS = 2, 4  # a methods race: how many methods race at once
MIN_TEMPERATURE = 0.01  # below it, sampling overflows (1/T) or is greedy in all but name
MAX_SEED = 2**63 - 1  # torch.Generator.manual_seed takes a signed 64-bit integer
TEXT_FIELDS_MAX_CHARS = 100_000  # a hard cap before any tokenizer sees a string
# the cap of an answer that is measured rather than shown: evaluated, benchmarked, raced in
# bench/, or sampled for preference pairs (the longest reference answer of the world is shorter)
EVAL_MAX_NEW_TOKENS = 320


class SettingsError(ValueError):
    """A decoding setting or request field out of range; the message names the field and the
    allowed range."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Knob:
    """One decoding setting: its type, default, allowed range and one line of help."""

    name: str
    kind: type  # int or float
    default: int | float
    lo: int | float
    hi: int | float
    help: str
    lo_open: bool = False  # the range excludes `lo` (top_p)
    floor: float | None = None  # 0 (off) or at least this (temperature: 0 is greedy)
    public: bool = True  # offered over HTTP and in the UI (runner, default_tokens are not)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def range_text(self, hi: int | float | None = None) -> str:
        hi = self.hi if hi is None else hi
        if self.floor is not None:
            return f"0 (greedy) or between {_num(self.floor)} and {_num(hi)}"
        if self.lo_open:
            return f"above {_num(self.lo)} and at most {_num(hi)}"
        return f"between {_num(self.lo)} and {_num(hi)}"

    def check(self, value: Any, hi: int | float | None = None) -> int | float:
        """`value` as this knob's type, or a SettingsError naming the knob and its range."""
        hi = self.hi if hi is None else hi
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or (isinstance(value, float) and not math.isfinite(value)):
            raise SettingsError(f"{self.name} must be a number {self.range_text(hi)} (got "
                                f"{_show(value)})", self.name)
        if self.kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise SettingsError(f"{self.name} must be a whole number "
                                    f"{self.range_text(hi)} (got {value!r})", self.name)
            value = int(value)
        else:
            value = float(value) if abs(value) < 1e300 else math.inf
        ok = (self.lo < value if self.lo_open else self.lo <= value) and value <= hi
        if self.floor is not None and 0 < value < self.floor:
            ok = False
        if not ok:
            whose = ", this server's limit" if hi != self.hi else ""
            raise SettingsError(f"{self.name} must be {self.range_text(hi)}{whose} (got "
                                f"{_show(value)})", self.name)
        return value


def _num(x: int | float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


KNOBS: tuple[Knob, ...] = (
    Knob("max_new_tokens", int, 256, 1, 100_000,
         "tokens generated by all threads together (forced tags excluded)"),
    Knob("max_threads", int, 8, 1, 64, "async threads running at once; later chunks wait"),
    Knob("max_thread_tokens", int, 256, 1, 100_000, "tokens one async thread may generate"),
    Knob("temperature", float, 0.0, 0.0, 100.0, "0: greedy; sampling otherwise",
         floor=MIN_TEMPERATURE),
    Knob("top_p", float, 1.0, 0.0, 1.0, "nucleus sampling's probability mass", lo_open=True),
    Knob("seed", int, 0, 0, MAX_SEED, "the sampler's seed"),
    Knob("default_tokens", int, lang.DEFAULT_TOKENS, 0, lang.MAX_TOKENS,
         "chunk length when a promise gives none", public=False),
)
KNOB = {k.name: k for k in KNOBS}
PUBLIC = tuple(k for k in KNOBS if k.public)


@dataclass
class Settings:
    """A run's settings; defaults and ranges from `KNOBS` (checked on construction)."""

    max_new_tokens: int = KNOB["max_new_tokens"].default  # type: ignore[assignment]
    max_threads: int = KNOB["max_threads"].default  # type: ignore[assignment]
    max_thread_tokens: int = KNOB["max_thread_tokens"].default  # type: ignore[assignment]
    default_tokens: int = KNOB["default_tokens"].default  # type: ignore[assignment]
    temperature: float = KNOB["temperature"].default
    top_p: float = KNOB["top_p"].default
    seed: int = KNOB["seed"].default  # type: ignore[assignment]
    runner: str = "auto"  # auto: static cache + CUDA graphs on a GPU, eager on CPU; eager; static

    def __post_init__(self) -> None:
        for k in KNOBS:
            setattr(self, k.name, k.check(getattr(self, k.name)))
        if not isinstance(self.runner, str) or self.runner not in RUNNERS:
            raise SettingsError(f"runner must be one of {', '.join(RUNNERS)} (got "
                                f"{_show(self.runner)})", "runner")

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Settings:
        """Settings from a mapping; an unknown name is a SettingsError that lists the known."""
        unknown = sorted(set(values) - {f for f in cls.__dataclass_fields__})
        if unknown:
            raise SettingsError(f"unknown setting {unknown[0]!r}; known: "
                                f"{', '.join(cls.__dataclass_fields__)}", unknown[0])
        return cls(**values)


@dataclass(frozen=True)
class Method:
    """A decoding method a methods race can pick: its run's name (in events and views), its
    label, the interpreter mode it runs, and whose model runs it: "chosen" (the request's
    model), "base" (the base model, trained on the same answers without tags) or "apar" (the
    APAR-style model, trained on answers split by syntax rules, `pasta_core.annotate`)."""

    name: str
    label: str
    mode: str
    model: str
    about: str


METHODS: dict[str, Method] = {m.name: m for m in (
    Method("sequential", "Sequential", "plain", "base",
           "the base model, one token per step: the reference"),
    Method("pasta", "PASTA", "pasta", "chosen",
           "the chosen model splits where it learned to (promises)"),
    Method("sot", "Skeleton-of-Thought", "sot", "base",
           "the base model writes a skeleton, then every point at once"),
    Method("apar", "APAR-style", "pasta", "apar",
           "a model trained on answers split by syntax rules (lists, paragraphs)"),
)}
DEFAULT_METHODS = ("sequential", "pasta", "sot")


def check_methods(methods: Any) -> tuple[str, ...]:
    """The methods of a methods race in METHODS' order (the reference, sequential, first), or
    a SettingsError naming what is wrong: not a list, an unknown or repeated name, too few or
    too many."""
    if methods is None:
        return DEFAULT_METHODS
    if isinstance(methods, str):
        methods = [m for m in methods.replace(",", " ").split() if m]
    if not isinstance(methods, list | tuple) or not all(isinstance(m, str) for m in methods):
        raise SettingsError(f"methods must be a list of names among {', '.join(METHODS)}",
                            "methods")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise SettingsError(f"unknown method {_show(unknown[0])}; pick from "
                            f"{', '.join(METHODS)}", "methods")
    if len(set(methods)) != len(methods):
        raise SettingsError("a method is named twice; name each method once", "methods")
    if not MIN_METHODS <= len(methods) <= MAX_METHODS:
        raise SettingsError(f"a methods race takes {MIN_METHODS} to {MAX_METHODS} methods "
                            f"(got {len(methods)}); pick from {', '.join(METHODS)}", "methods")
    return tuple(m for m in METHODS if m in methods)


def defaults() -> dict[str, int | float]:
    """The public settings' defaults (what the CLI, the API and the UI start from)."""
    return {k.name: k.default for k in PUBLIC}


def plan_runs(mode: str, methods: Any = None) -> tuple[str, ...]:
    """The runs a run mode makes, by name: a race is PASTA, then its opponent (sequential
    decoding of the same model for "both", the base model's plain decoding for "base"); a
    methods race is its methods (`check_methods`); any other mode is one run named as it."""
    if mode not in RUN_MODES:
        raise SettingsError(f"mode must be one of {', '.join(RUN_MODES)} (got {_show(mode)})",
                            "mode")
    if mode == "methods":
        return check_methods(methods)
    return RACES.get(mode, (mode,))


def run_mode(mode: str, run: str) -> str:
    """The interpreter mode of run `run` of a request in mode `mode`."""
    return METHODS[run].mode if mode == "methods" else run


def run_model(mode: str, run: str) -> str:
    """Whose model decodes run `run` of a request in mode `mode`: "chosen" (the request's),
    "base" (the base model) or "apar" (the APAR-style model)."""
    if mode == "methods":
        return METHODS[run].model
    return "base" if mode == "base" and run == "plain" else "chosen"


# -- text fields ----------------------------------------------------------------------------

def clean_text(value: Any, name: str, max_chars: int = TEXT_FIELDS_MAX_CHARS) -> str:
    """A text field as given, or a SettingsError naming it: not text, too long, or holding a
    lone UTF-16 surrogate (JSON can carry one; no tokenizer can encode it)."""
    if not isinstance(value, str):
        raise SettingsError(f"{name} must be text (got {type(value).__name__})", name)
    if len(value) > max_chars:
        raise SettingsError(f"{name} has {len(value)} characters; the limit is {max_chars}", name)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise SettingsError(f"{name} holds an invalid character at offset {e.start} (a lone "
                            "surrogate); send valid UTF-8 text", name) from None
    return value


ROLES = ("system", "user", "assistant")
Prompt = str | list[dict[str, str]]  # a user message, or a conversation [{"role", "content"}]


def clean_prompt(prompt: Any, max_messages: int = 64) -> Prompt:
    """A prompt (text, or a conversation of {"role", "content"} messages) checked field by
    field; SettingsError names the first bad field."""
    if isinstance(prompt, str):
        text = clean_text(prompt, "prompt")
        if not text.strip():
            raise SettingsError("the prompt is empty: write a question or an instruction",
                                "prompt")
        return text
    if not isinstance(prompt, list) or not prompt:
        raise SettingsError("the prompt must be text or a non-empty list of messages", "prompt")
    if len(prompt) > max_messages:
        raise SettingsError(f"the conversation has {len(prompt)} messages; this server takes "
                            f"at most {max_messages}", "messages")
    out = []
    for i, m in enumerate(prompt):
        where = f"messages[{i}]"
        if not isinstance(m, dict) or set(m) - {"role", "content"}:
            raise SettingsError(f"{where} must be an object with \"role\" and \"content\"", where)
        role = m.get("role")
        if role not in ROLES:
            raise SettingsError(f"{where}.role must be one of {', '.join(ROLES)} (got "
                                f"{_show(role)})", f"{where}.role")
        out.append({"role": role, "content": clean_text(m.get("content"), f"{where}.content")})
    if not any(m["content"].strip() for m in out):
        raise SettingsError("the prompt is empty: write a question or an instruction", "prompt")
    return out


@dataclass(frozen=True)
class RequestLimits:
    """A server's per-request limits (the CLI and the Python API have none beyond `KNOBS`)."""

    max_new_tokens: int | None = None
    max_threads: int | None = None
    max_thread_tokens: int | None = None
    max_messages: int = 64


@dataclass
class DecodeRequest:
    """One decoding request, validated once: the model, the prompt, the mode, an optional
    forced answer, and the settings. `owner` is who asked (a session or an address), for the
    per-client queue limit."""

    model: str
    prompt: Prompt
    mode: str = "pasta"
    force: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    owner: str = ""
    methods: tuple[str, ...] = ()  # mode "methods": the methods that race (`check_methods`)

    @classmethod
    def build(cls, model: Any, prompt: Any, mode: Any = "pasta", force: Any = None,
              settings: Mapping[str, Any] | None = None, owner: str = "",
              limits: RequestLimits | None = None, methods: Any = None) -> DecodeRequest:
        """Check every field (type, range, the server's limits) and name the field in the
        error. Settings not given take `KNOBS`' defaults; a methods race without `methods`
        races DEFAULT_METHODS."""
        limits = limits or RequestLimits()
        model = clean_text(model, "model", 300).strip()
        if not model:
            raise SettingsError("model is empty: name a model spec such as "
                                "bundled:pasta-tiny", "model")
        plan_runs(mode if isinstance(mode, str) else repr(mode))
        picked = check_methods(methods) if mode == "methods" else ()
        if force is not None:
            force = clean_text(force, "force")
        values = dict(settings or {})
        unknown = sorted(set(values) - {k.name for k in PUBLIC} - {"runner"})
        if unknown:
            raise SettingsError(f"unknown setting {unknown[0]!r}; known: "
                                f"{', '.join(k.name for k in PUBLIC)}", unknown[0])
        checked: dict[str, Any] = {}
        for k in PUBLIC:
            if k.name in values and values[k.name] is not None:
                checked[k.name] = k.check(values[k.name], getattr(limits, k.name, None))
            else:
                checked[k.name] = k.default
        if "runner" in values:
            checked["runner"] = values["runner"]
        Settings(**checked)  # the core's own checks (the runner's name)
        return cls(model, clean_prompt(prompt, limits.max_messages), mode, force, checked,
                   owner, picked)

    @property
    def runs(self) -> tuple[str, ...]:
        return plan_runs(self.mode, self.methods or None)

    def run_settings(self) -> Settings:
        return Settings(**self.settings)



def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The CLI flags of every public setting, generated from `KNOBS`."""
    for k in PUBLIC:
        parser.add_argument(k.flag, type=k.kind, default=k.default,
                            help=f"{k.help} ({k.range_text()}; default {k.default})")

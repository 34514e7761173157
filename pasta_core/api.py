"""`decode` and `stream`: the Python API over the interpreter (docs/DESIGN.md "CLI contract")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .events import Comparison, Done, Event, Trace
from .interpreter import Interpreter, Settings, SettingsError
from .models import LoadedModel

RUN_MODES = ("pasta", "sequential", "plain", "both")
Prompt = str | list[dict[str, str]]  # a user message, or a conversation [{"role", "content"}]


def stream(lm: LoadedModel, prompt: Prompt, mode: str = "pasta", force: str | None = None,
           should_stop: Callable[[], bool] | None = None, **settings: Any) -> Iterator[Event]:
    """Events of a run as they happen. Mode "both" runs PASTA, then sequential decoding of the
    same request with the same settings; each run ends with its own `Done` event."""
    if mode not in RUN_MODES:
        raise SettingsError(f"mode must be one of {', '.join(RUN_MODES)} (got {mode!r})")
    try:
        s = Settings(**settings)
    except TypeError as e:
        raise SettingsError(f"unknown setting: {e}; known: {', '.join(Settings().__dict__)}") from e
    runs = ("pasta", "sequential") if mode == "both" else (mode,)
    interpreters = [Interpreter(lm, prompt, m, s, force, should_stop) for m in runs]
    for it in interpreters:
        yield from it.events()


def dry_run(tokenizer, eos_id: int, annotated: str, mode: str = "pasta",
            prompt: str = "(no prompt)", **settings: Any) -> Trace:
    """The schedule of a forced answer without a model (uniform logits, `NullRunner`): the
    real interpreter's steps, positions, forks and syncs, for teaching and planning."""
    import torch

    from .runners.null import NullRunner

    lm = LoadedModel("schedule-only", None, tokenizer, torch.device("cpu"), torch.float32,
                     [eos_id])
    it = Interpreter(lm, prompt, mode, Settings(**settings), annotated,
                     runner=NullRunner(len(tokenizer)))
    *_, done = it.events()
    return done.trace


def decode(lm: LoadedModel, prompt: Prompt, mode: str = "pasta", force: str | None = None,
           should_stop: Callable[[], bool] | None = None, **settings: Any) -> Trace | Comparison:
    """Run to the end. Returns the Trace (a Comparison for mode "both")."""
    traces = [ev.trace for ev in stream(lm, prompt, mode, force, should_stop, **settings)
              if isinstance(ev, Done)]
    return Comparison(*traces) if mode == "both" else traces[0]

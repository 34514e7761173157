"""`decode` and `stream`: the Python API over the interpreter (docs/DESIGN.md "CLI contract")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from . import lang, sot
from .annotate import annotate
from .events import Comparison, Done, Event, MethodsRace, Step, Trace
from .interpreter import Interpreter
from .models import LoadedModel
from .settings import (
    RUN_MODES,
    SOT_MODES,
    Prompt,
    Settings,
    SettingsError,
    plan_runs,
    run_mode,
    run_model,
)

__all__ = ["RUN_MODES", "decode", "dry_run", "lockstep", "stream"]


def stream(lm: LoadedModel, prompt: Prompt, mode: str = "pasta", force: str | None = None,
           should_stop: Callable[[], bool] | None = None, baseline: LoadedModel | None = None,
           apar: LoadedModel | None = None, methods: Any = None,
           **settings: Any) -> Iterator[Event]:
    """Events of a run as they happen. A race races its runs on the same request with the same
    settings, in lockstep: mode "both" PASTA against sequential decoding of `lm`, mode "base"
    PASTA against `baseline` (the base model) decoding plainly, mode "methods" the `methods`
    (`settings.METHODS`: PASTA on `lm`, sequential and SoT on `baseline`, APAR-style on
    `apar`). Each run ends with its own `Done` event (every event names its run)."""
    s = Settings.of(settings)
    yield from lockstep([it.events() for it in interpreters(
        lm, prompt, mode, s, force, should_stop, baseline, apar, methods)])


def interpreters(lm: LoadedModel, prompt: Prompt, mode: str, s: Settings, force: str | None,
                 should_stop: Callable[[], bool] | None = None,
                 baseline: LoadedModel | None = None, apar: LoadedModel | None = None,
                 methods: Any = None) -> list[Interpreter]:
    """The runs a mode makes (`settings.plan_runs`), each on its model, with a forced answer
    (PASTA-LANG) forced on each in the form its method writes (`forced_for`)."""
    models = {"chosen": lm, "base": baseline, "apar": apar}
    out = []
    runs = plan_runs(mode, methods)
    for run in runs:
        whose = run_model(mode, run)
        model = models[whose]
        if model is None:
            name = "the base model" if whose == "base" else "the APAR-style model"
            raise SettingsError(f"{run} runs on {name}: load it and pass "
                                f"{'baseline' if whose == 'base' else 'apar'}=", "mode")
        # in a race each run is forced in its own form; a single run takes the text as given,
        # but SoT's (a PASTA-LANG answer becomes its transcript, a transcript stays as it is)
        m = run_mode(mode, run)
        form = "apar" if run == "apar" else m if len(runs) > 1 or m in SOT_MODES else ""
        out.append(Interpreter(model, prompt, m, s, forced_for(form, force, model),
                               should_stop, run=run))
    return out


def forced_for(form: str, force: str | None, lm: LoadedModel) -> str | None:
    """A race's forced answer (PASTA-LANG) in the form one of its runs writes: "plain" its
    spliced text (a model that writes no tags), "sot" / "sot-sequential" its SoT transcript
    (`sot.transcript_of_annotated`; a transcript given as such is kept), "apar" the spliced
    text split again by the syntax rules (`annotate`, as the APAR-style model was taught),
    anything else as given."""
    if force is None or form not in ("plain", "sot", "sot-sequential", "apar"):
        return force
    if form in SOT_MODES:  # a transcript (no PASTA-LANG tags) is already in SoT's form
        parsed = lang.parse(force)
        tagged = parsed["main"] != force or parsed["errors"]
        return sot.transcript_of_annotated(force) if tagged else force
    text = lang.parse(force)["text"]
    return annotate(text, lm.count_tokens) if form == "apar" else text


def lockstep(runs: list[Iterator[Event]]) -> Iterator[Event]:
    """Several runs in ONE loop, one step of each in turn (mode "both": a step of PASTA, then
    a step of sequential decoding), so both are timed on the same machine at the same moments;
    each run's clock counts only its own steps (`Interpreter._now`). A run's events stay in
    order; runs interleave at their `step` events."""
    live = list(runs)
    while live:
        for run in list(live):
            for ev in run:
                yield ev
                if isinstance(ev, Step):
                    break
            else:
                live.remove(run)


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
           should_stop: Callable[[], bool] | None = None, baseline: LoadedModel | None = None,
           apar: LoadedModel | None = None, methods: Any = None,
           **settings: Any) -> Trace | Comparison | MethodsRace:
    """Run to the end. Returns the Trace (a Comparison for a race: modes "both" and "base"; a
    MethodsRace for mode "methods")."""
    traces = {ev.run: ev.trace
              for ev in stream(lm, prompt, mode, force, should_stop, baseline, apar, methods,
                               **settings)
              if isinstance(ev, Done)}
    if mode == "methods":
        return MethodsRace({m: traces[m] for m in plan_runs(mode, methods)})
    if mode == "both":
        return Comparison(traces["pasta"], traces["sequential"])
    if mode == "base":
        return Comparison(traces["pasta"], traces["plain"], opponent="base")
    return traces[mode]

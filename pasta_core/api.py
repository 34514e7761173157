"""`decode` and `stream`: the Python API over the interpreter (docs/DESIGN.md "CLI contract")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from . import lang
from .events import Comparison, Done, Event, Step, Trace
from .interpreter import Interpreter
from .models import LoadedModel
from .settings import RUN_MODES, Prompt, Settings, SettingsError, plan_runs

__all__ = ["RUN_MODES", "decode", "dry_run", "lockstep", "stream"]


def stream(lm: LoadedModel, prompt: Prompt, mode: str = "pasta", force: str | None = None,
           should_stop: Callable[[], bool] | None = None, baseline: LoadedModel | None = None,
           **settings: Any) -> Iterator[Event]:
    """Events of a run as they happen. A race races PASTA and its opponent on the same request
    with the same settings, in lockstep: mode "both" against sequential decoding of `lm`, mode
    "base" against `baseline` (the base model) decoding plainly. Each run ends with its own
    `Done` event (every event names its run)."""
    s = Settings.of(settings)
    yield from lockstep([it.events() for it in interpreters(lm, prompt, mode, s, force,
                                                            should_stop, baseline)])


def interpreters(lm: LoadedModel, prompt: Prompt, mode: str, s: Settings, force: str | None,
                 should_stop: Callable[[], bool] | None = None,
                 baseline: LoadedModel | None = None) -> list[Interpreter]:
    """The runs a mode makes (`settings.plan_runs`), each on its model. In mode "base" the base
    model decodes plainly; a forced answer is forced on it as its spliced text."""
    runs = plan_runs(mode)
    if mode == "base" and baseline is None:
        raise SettingsError("mode base races the base model: load it and pass baseline=",
                            "mode")
    out = []
    for m in runs:
        if mode == "base" and m == "plain":
            plain = lang.parse(force)["text"] if force is not None else None
            out.append(Interpreter(baseline, prompt, m, s, plain, should_stop))  # type: ignore[arg-type]
        else:
            out.append(Interpreter(lm, prompt, m, s, force, should_stop))
    return out


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
           **settings: Any) -> Trace | Comparison:
    """Run to the end. Returns the Trace (a Comparison for a race: modes "both" and "base")."""
    traces = {ev.trace.mode: ev.trace
              for ev in stream(lm, prompt, mode, force, should_stop, baseline, **settings)
              if isinstance(ev, Done)}
    if mode == "both":
        return Comparison(traces["pasta"], traces["sequential"])
    if mode == "base":
        return Comparison(traces["pasta"], traces["plain"], opponent="base")
    return traces[mode]

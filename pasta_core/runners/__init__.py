"""Runners: one forward step over the shared KV cache (the contract is in `interpreter.py`).

    eager   transformers' dynamic cache, one eager forward per step (CPU, or a GPU without graphs)
    static  a preallocated cache, buckets of padded query sizes, a CUDA graph per bucket on a GPU
    auto    static with graphs on CUDA, eager elsewhere

`make_runner` is how the interpreter gets its runner. Static runners are pooled on the loaded
model (`LoadedModel.runners`): a cache and its graphs cost memory and capture time once, not once
per request, and they are captured before a run's clock starts. A "both" comparison holds two,
one per mode, so neither mode pays a capture that the other does not.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import torch

from ..settings import RUNNERS
from .eager import EagerRunner
from .static import BUCKETS, SlotsExhausted, StaticRunner, max_slots_for

if TYPE_CHECKING:
    from ..models import LoadedModel

DEFAULT_SLOTS = 1024  # when the caller has no estimate (a pooled runner grows past it)
SLOT_QUANTUM = 256  # pooled caches are sized in multiples, so that runs of close lengths share

__all__ = ["BUCKETS", "RUNNERS", "EagerRunner", "SlotsExhausted", "StaticRunner", "make_runner",
           "max_slots_for", "resolve"]

_lock = threading.Lock()


def resolve(kind: str, device: torch.device) -> str:
    """The runner that `kind` stands for on `device` ("auto": static on CUDA, eager elsewhere)."""
    if kind not in RUNNERS:
        raise ValueError(f"runner must be one of {', '.join(RUNNERS)} (got {kind!r})")
    if kind == "auto":
        return "static" if torch.device(device).type == "cuda" else "eager"
    return kind


def _weights(model: torch.nn.Module) -> tuple[int, ...]:
    """Where the weights live. A graph replays these addresses: a model whose tensors moved
    (`.to(dtype)`, a merged adapter) needs new graphs, not a pooled runner."""
    return tuple(t.data_ptr() for t in (*model.parameters(), *model.buffers()))


def make_runner(lm: LoadedModel, kind: str = "auto", max_slots: int | None = None):
    """A runner for `lm`: "eager", "static" (CUDA graphs on a CUDA device) or "auto". `max_slots`
    sizes a static cache (`max_slots_for`); a pooled runner smaller than that grows to it."""
    if resolve(kind, lm.device) == "eager":
        return EagerRunner(lm.model, lm.device, lm.dtype)
    want = max(1, max_slots or DEFAULT_SLOTS)
    want = -(-want // SLOT_QUANTUM) * SLOT_QUANTUM
    weights = _weights(lm.model)
    with _lock:
        lm.runners[:] = [r for r in lm.runners if r.model is lm.model and r.weights == weights
                         and r.dtype == lm.dtype and r.device == torch.device(lm.device)]
        runner = max(lm.runners, key=lambda r: r.max_slots, default=None)
        if runner is not None:
            lm.runners.remove(runner)
    if runner is None:
        runner = StaticRunner(lm.model, lm.device, lm.dtype, want, grow=True)
        runner.weights = weights
        runner.on_reset = lambda: _release(lm, runner)
    elif runner.max_slots < want:
        runner.resize(want)
    runner.capture()  # before the run's clock starts: no mode is charged for it
    return runner


def _release(lm: LoadedModel, runner: StaticRunner) -> None:
    with _lock:
        if not any(r is runner for r in lm.runners):
            lm.runners.append(runner)

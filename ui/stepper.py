"""Step mode: one PASTA run advanced one forward pass per button press, for teaching.

Why not `JobQueue.run`: its worker thread decodes as fast as it can and would run far ahead of
the button. A stepped run instead pulls the interpreter's event generator one step at a time in
the caller's thread, and takes the ONE decoding slot only for the length of a press (the same
line and job records as `JobQueue`: each press shows up in `/api/queue` with mode "step"), so
other requests run between presses and a stepped run never blocks the Space. Its cache stays in
memory between presses; the run is closed (its cache freed) when it ends, when the user stops it
or starts another, when the browser session ends (the UI's unload hook), and after
`limits.step_idle_s` seconds without a press, so a forgotten tab or a caller that left frees it.

On ZeroGPU hardware (where the GPU is attached only for the length of one `@spaces.GPU` call)
a run cannot keep its cache on the GPU between presses; step mode is meant for CPU and ordinary
GPU hardware.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from pasta_core.events import Done, Event, Step
from pasta_core.interpreter import Interpreter, Settings
from pasta_core.view import RunView

from .config import Limits
from .jobs import JobQueue, JobRecord, Request

log = logging.getLogger(__name__)

IDLE_S = Limits.step_idle_s  # the default; the Space's setting is `limits.step_idle_s`
SLOT_WAIT_S = 20.0  # how long a press waits for the slot before saying it is busy


class SlotBusy(RuntimeError):
    pass


class StepSession:
    """A stepped run. `start()` takes the slot and prefills; each `next()` feeds one step."""

    def __init__(self, jobs: JobQueue, req: Request, idle_s: float | None = None):
        self.jobs = jobs
        self.req = jobs.validate(req)
        self.idle_s = idle_s if idle_s is not None else jobs.config.limits.step_idle_s
        self.view = RunView("pasta")
        self.last_step: Step | None = None
        self.owners: list[int] = []  # thread of each cache slot (-1 the prompt)
        self.closed = False
        self.end_reason: str | None = None
        self._lock = threading.RLock()
        self._gen: Iterator[Event] | None = None
        self._pending: Event | None = None
        self._stop = threading.Event()
        self._has_slot = False
        self._rec: JobRecord | None = None
        self._timer: threading.Timer | None = None

    # -- the slot ----------------------------------------------------------------------------

    @contextmanager
    def _press(self, timeout: float) -> Iterator[None]:
        """Hold the slot for one press: other requests run between presses."""
        self._take_slot(timeout)
        try:
            yield
        finally:
            self._free_slot("failed" if self.end_reason == "failed" else "done")

    def _take_slot(self, timeout: float) -> None:
        self._rec = self.jobs.enqueue(self.req.model, "step", self.req.owner)
        if not self.jobs.acquire(self._rec, timeout):
            raise SlotBusy("the decoding slot is busy with another request; press again in a "
                           "moment")
        self._has_slot = True

    def _free_slot(self, state: str) -> None:
        if self._has_slot:
            self._has_slot = False
            self.jobs.release(self._rec, state, self.end_reason)

    def _touch(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if not self.closed:
            self._timer = threading.Timer(self.idle_s, self.close, kwargs={"reason": "idle"})
            self._timer.daemon = True
            self._timer.start()

    # -- stepping ----------------------------------------------------------------------------

    def start(self, slot_wait_s: float = SLOT_WAIT_S) -> list[Event]:
        """Take the slot, load the model, prefill: the events up to the first step."""
        with self._lock, self._press(slot_wait_s):
            with self._closed_on_failure():
                lm = self.jobs.registry.get(self.req.model)
                it = Interpreter(lm, self.req.prompt, "pasta", Settings(**self.req.settings),
                                 self.req.force, self._stop.is_set, record_masks=True)
                self._gen = it.events()
                self.jobs.step_runs.add(self)
                self.owners = []
                evs = self._pull(first=True)
            self._touch()
            return evs

    def next(self, slot_wait_s: float = SLOT_WAIT_S) -> list[Event]:
        """Feed one step: its Step event and everything it caused, or [] once the run ended."""
        with self._lock:
            if self.closed:
                return []
            with self._press(slot_wait_s), self._closed_on_failure():
                evs = self._pull(first=False)
            self._touch()
            return evs

    @contextmanager
    def _closed_on_failure(self) -> Iterator[None]:
        """Any error while stepping ends the session as "failed" (slot freed), then re-raises."""
        try:
            yield
        except BaseException:
            self.end_reason = "failed"
            self.close(reason="failed")
            raise

    def _pull(self, first: bool) -> list[Event]:
        """Events until the next Step event (kept for the next press). The interpreter yields
        a step's events together, so looking one event ahead costs at most one forward pass."""
        assert self._gen is not None
        out: list[Event] = []
        if self._pending is not None:
            out.append(self._pending)
            self._pending = None
        for ev in self._gen:
            if isinstance(ev, Step) and (first or any(isinstance(e, Step) for e in out)):
                self._pending = ev
                break
            out.append(ev)
        else:  # the generator ended: the run is over
            self.end_reason = self.end_reason or "completed"
            self.close(reason="done")
        for ev in out:
            self._account(ev)
        return out

    def _account(self, ev: Event) -> None:
        self.view.add(ev)
        if ev.type == "run_start":
            self.owners = [-1] * len(ev.prompt_token_ids)  # type: ignore[attr-defined]
        elif isinstance(ev, Step):
            self.last_step = ev
            for tid, n in zip(ev.threads, ev.n_tokens, strict=True):
                self.owners += [tid] * n
            if self._rec is not None:
                self._rec.steps = ev.step
        elif isinstance(ev, Done):
            self.end_reason = ev.trace.end_reason

    def close(self, reason: str = "stopped") -> None:
        """End the run now (if it is still going) and give the slot back. Idempotent."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self.closed:
                return
            self.closed = True
            self.jobs.step_runs.discard(self)
            self._stop.set()
            if self._gen is not None:
                try:
                    self._gen.close()  # the interpreter's finally frees its cache
                except Exception:  # closing must never keep the slot
                    log.exception("closing a stepped run failed")
            if reason in ("stopped", "idle", "session ended") and self.end_reason is None:
                self.end_reason = reason
            state = {"done": "done", "failed": "failed"}.get(reason, "stopped")
            self._free_slot(state)
            log.info("step mode: run closed (%s)", reason)


"""Per-browser-session state of the web app, in one place, freed by one unload hook.

A session (a browser tab; Gradio's `session_hash`) holds at most one live decoding run (its
event pump from `JobQueue.run`), at most one stepped run (`StepSession`, whose cache stays in
memory between presses), at most one training job (the Train tab's, waiting or running in the
training queue) and the trace files written for it to download. `Sessions.end` is the app's one
unload hook: it stops the run, closes the stepped run, cancels the training job (which keeps
its last finished stage) and deletes the files. Starting a new run or stepped run ends the
session's previous ones first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from pasta_core.view import RequestView

from .jobs import JobQueue
from .jobs import Request as JobRequest
from .stepper import StepSession

log = logging.getLogger(__name__)


class LiveRun:
    """One request's events, pumped from `JobQueue.run` into a buffer by a task of its own so
    the UI can batch them (and show the wait for the slot) at its own pace. `cancel()` closes
    the job's stream: the run stops within one step and the slot is freed."""

    def __init__(self, jobs: JobQueue, req: JobRequest, view: RequestView, start: bool = True):
        self.view = view
        self.buf: list[Any] = []
        self.error: BaseException | None = None
        self.finished = False
        self.wake = asyncio.Event()
        self._jobs, self._req = jobs, req
        self.task: asyncio.Task | None = None
        if start:
            self.start()

    def start(self) -> None:
        """Put the job in line and pump its events (once; never after `cancel`)."""
        if self.task is None and not self.finished:
            self._agen = self._jobs.run(self._req)
            self.task = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        try:
            async for ev in self._agen:
                self.buf.append(ev)
                if ev.type == "done":  # a run ended: draw its charts now
                    self.wake.set()
        except Exception as e:  # shown to the user by the UI loop
            self.error = e
        finally:
            self.finished = True
            self.wake.set()
            with contextlib.suppress(BaseException):
                await self._agen.aclose()

    async def wait(self, timeout: float) -> None:
        """`timeout` seconds, or less when a run ends (the UI redraws on that rhythm)."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.wake.wait(), timeout)
        self.wake.clear()

    def drain(self) -> list[Any]:
        out, self.buf = self.buf, []
        return out

    def cancel(self) -> None:
        if self.task is None:  # never started: it ends here, and nothing joins the line
            self.finished = True
            self.wake.set()
        elif not self.task.done():
            self.task.cancel()


@dataclass
class Session:
    """What one browser session holds."""

    live: LiveRun | None = None
    last: LiveRun | None = None  # the latest run, kept after it ends: Stop redraws it whole
    measuring: bool = False  # a Measure in progress (Stop turns it off)
    stepper: StepSession | None = None
    training: Any = None  # the Train tab's job (ui.training.TrainJob)
    trainer: Any = None  # the queue it is in (ui.training.Trainer), to cancel it
    files: list[Path] = field(default_factory=list)

    @property
    def training_live(self) -> bool:
        return self.training is not None and not self.training.finished

    def cancel_training(self) -> None:
        if self.training_live:
            self.trainer.cancel(self.training)

    def stop_live(self) -> LiveRun | None:
        """Stop the live run (within one step); returns it, or None when none was running."""
        live, self.live = self.live, None
        if live is not None:
            live.cancel()
        return live

    def close_stepper(self, reason: str = "stopped") -> StepSession | None:
        """End the stepped run and free its slot; returns it, or None when there was none."""
        st, self.stepper = self.stepper, None
        if st is not None:
            st.close(reason=reason)
        return st

    def release(self, reason: str) -> None:
        """Everything this session holds: its run, its stepped run, its training job, its
        files."""
        self.stop_live()
        self.close_stepper(reason)
        self.cancel_training()
        for f in self.files:
            f.unlink(missing_ok=True)
        self.files.clear()


class Sessions:
    """All sessions, keyed by Gradio's session hash (thread-safe: handlers run in threads)."""

    def __init__(self) -> None:
        self._by_id: dict[str, Session] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(request: gr.Request | None, fresh: bool = False) -> str:
        """The session's id; with `fresh`, a new one when the request has none (an API call
        without a session still gets its own entry, so its run is tracked and freed)."""
        sid = getattr(request, "session_hash", None) or ""
        return sid or (uuid.uuid4().hex if fresh else "")

    def get(self, sid: str) -> Session:
        with self._lock:
            return self._by_id.setdefault(sid, Session())

    def peek(self, sid: str) -> Session | None:
        with self._lock:
            return self._by_id.get(sid)

    def drop_if_idle(self, sid: str) -> None:
        """Forget a session that holds nothing (a request made without a browser session)."""
        with self._lock:
            s = self._by_id.get(sid)
            if (s is not None and s.live is None and s.stepper is None and not s.files
                    and not s.training_live):
                del self._by_id[sid]

    def end(self, request: gr.Request | None) -> None:
        """The unload hook: the browser session ended — free everything it holds."""
        sid = self.key(request)
        if not sid:
            return
        with self._lock:
            session = self._by_id.pop(sid, None)
        if session is not None:
            session.release(reason="session ended")
            log.info("session %s… ended: its run, stepped run, training job and files are "
                     "freed", sid[:6])

"""Models in memory and the one decoding slot, shared by the UI and the HTTP API.

One job decodes at a time (a GPU would otherwise time-slice and every timing would lie); others
wait in a bounded queue. A job runs the interpreter in a worker thread and hands its events to
the asyncio side; when the consumer goes away (a closed browser tab, a dropped SSE client, the
Stop button) the job is told to stop, which the interpreter honours within one step, and the
slot is free for the next request.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

from pasta_core import lang
from pasta_core.api import RUN_MODES
from pasta_core.events import Event
from pasta_core.interpreter import Interpreter, Settings, SettingsError, check_prompt
from pasta_core.models import LoadedModel, ModelSpecError, list_bundled, load_model

from .config import SpaceConfig

log = logging.getLogger(__name__)

try:  # ZeroGPU on Hugging Face Spaces: GPU work must run inside a @spaces.GPU function
    import spaces  # type: ignore[import-not-found]

    gpu = spaces.GPU
except ImportError:  # anywhere else it is a no-op

    def gpu(fn):  # type: ignore[no-redef]
        return fn


class QueueFull(RuntimeError):
    pass


class ModelRegistry:
    """Loads model specs on demand, keeps the last few in memory, refuses specs this Space does
    not offer."""

    def __init__(self, config: SpaceConfig):
        self.config = config
        self._models: collections.OrderedDict[str, LoadedModel] = collections.OrderedDict()
        self._lock = threading.Lock()

    def available(self) -> list[str]:
        """Specs offered here: configured ones that can load, plus finished training runs."""
        bundled = set(list_bundled())
        out = [m for m in self.config.models
               if not m.startswith("bundled:") or m.split(":", 1)[1] in bundled]
        if self.config.allow_runs:
            from pasta_core.models import RUNS_DIR

            if RUNS_DIR.is_dir():
                out += sorted(f"runs/{p.name}" for p in RUNS_DIR.iterdir()
                              if (p / "config.json").is_file())
        return out

    def check(self, spec: str) -> None:
        spec = spec.strip()
        if spec in self.config.models or spec in self._models:
            return
        if spec.startswith("runs/") and self.config.allow_runs:
            return
        if "/" in spec and not spec.startswith(("bundled:", "random:", "runs/", ".", "/")):
            if self.config.allow_hub_models:
                return
            raise ModelSpecError(f"model {spec!r} is a Hub id and this server does not load Hub "
                                 f"models; available: {', '.join(self.available())}")
        raise ModelSpecError(f"model {spec!r} is not offered here; available: "
                             f"{', '.join(self.available())}")

    def forget(self, spec: str) -> None:
        """Drop a loaded copy (its files changed: a training run was just written)."""
        with self._lock:
            self._models.pop(spec.strip(), None)

    def get(self, spec: str) -> LoadedModel:
        spec = spec.strip()
        self.check(spec)
        with self._lock:
            if spec in self._models:
                self._models.move_to_end(spec)
                return self._models[spec]
            lm = load_model(spec)
            self._models[spec] = lm
            while len(self._models) > self.config.limits.loaded_models:
                old, _ = self._models.popitem(last=False)
                log.info("unloaded %s", old)
            return lm


@dataclass
class JobRecord:
    id: int
    model: str
    mode: str
    state: str = "waiting"  # waiting, running, done, stopped, failed
    end_reason: str | None = None
    steps: int = 0
    started: float = field(default_factory=time.time)
    ended: float | None = None


@dataclass
class Request:
    """A validated decoding request, ready to queue."""

    model: str
    prompt: str | list[dict[str, str]]
    mode: str = "pasta"
    force: str | None = None
    settings: dict = field(default_factory=dict)


class JobQueue:
    def __init__(self, config: SpaceConfig, registry: ModelRegistry):
        self.config = config
        self.registry = registry
        self._slot = threading.Lock()
        self._waiting = 0
        self._count = 0
        self._guard = threading.Lock()
        self.jobs: collections.deque[JobRecord] = collections.deque(maxlen=50)

    def status(self) -> dict:
        running = [j for j in self.jobs if j.state == "running"]
        return {"running": len(running), "waiting": self._waiting,
                "queue_size": self.config.limits.queue_size,
                "recent": [j.__dict__ for j in list(self.jobs)[-10:]]}

    def validate(self, req: Request) -> Request:
        """Check a request against the Space's limits; raises SettingsError/ModelSpecError."""
        lim = self.config.limits
        if req.mode not in RUN_MODES:
            raise SettingsError(f"mode must be one of {', '.join(RUN_MODES)} (got {req.mode!r})")
        text = check_prompt(req.prompt)
        if len(text) > lim.max_prompt_chars:
            raise SettingsError(f"the prompt has {len(text)} characters; this server takes at "
                                f"most {lim.max_prompt_chars}")
        try:
            s = Settings(**req.settings)
        except TypeError as e:
            raise SettingsError(f"unknown setting: {e}") from e
        for name in ("max_new_tokens", "max_threads", "max_thread_tokens"):
            if getattr(s, name) > getattr(lim, name):
                raise SettingsError(f"{name}={getattr(s, name)} is over this server's limit of "
                                    f"{getattr(lim, name)}")
        if req.force is not None:
            errors = lang.parse(req.force)["errors"]
            if errors:
                e = errors[0]
                raise SettingsError(f"the forced response has {len(errors)} PASTA-LANG error(s), "
                                    f"first {e['code']} at {e['offset']}: {e['message']}")
        self.registry.check(req.model)
        return req

    # -- the slot: every decoding job takes it, whoever asks (API, UI, step mode) ---------------

    def enqueue(self, model: str, mode: str) -> JobRecord:
        """Join the queue (or raise QueueFull). Follow with `acquire`, then `release`."""
        with self._guard:
            if self._waiting >= self.config.limits.queue_size:
                raise QueueFull(f"the queue is full ({self._waiting} requests waiting); "
                                "try again in a moment")
            self._waiting += 1
            self._count += 1
            rec = JobRecord(self._count, model, mode)
            self.jobs.append(rec)
            return rec

    def acquire(self, rec: JobRecord, timeout: float | None = None) -> bool:
        """Wait for the slot (at most `timeout` seconds); the record leaves the queue either way."""
        try:
            got = self._slot.acquire(timeout=-1 if timeout is None else timeout)
        finally:
            with self._guard:
                self._waiting -= 1
        if got:
            rec.state = "running"
        else:
            rec.state, rec.end_reason, rec.ended = "failed", "the slot stayed busy", time.time()
        return got

    def release(self, rec: JobRecord, state: str, end_reason: str | None = None) -> None:
        rec.state, rec.ended = state, time.time()
        if end_reason is not None:
            rec.end_reason = end_reason
        self._slot.release()

    async def run(self, req: Request) -> AsyncIterator[Event]:
        """Queue `req`, then yield its events as they happen. Leaving the iteration early (or
        being cancelled) stops the run within one step and frees the slot."""
        self.validate(req)
        rec = self.enqueue(req.model, req.mode)
        loop = asyncio.get_running_loop()
        q: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()
        done = object()

        def push(item) -> None:
            loop.call_soon_threadsafe(q.put_nowait, item)

        def work() -> None:
            state, reason = "stopped", "stopped"
            try:
                self.acquire(rec)
                if not stop.is_set():
                    lm = self.registry.get(req.model)
                    for ev in _decode(lm, req, stop):
                        push(ev)
                        if ev.type == "done":
                            reason = ev.trace.end_reason
                            rec.steps += ev.trace.steps
                    state = "stopped" if stop.is_set() else "done"
            except Exception as e:  # reported to the consumer, never lost
                log.exception("job %d failed", rec.id)
                state, reason = "failed", str(e)
                push(e)
            finally:
                self.release(rec, state, reason)
                push(done)

        worker = threading.Thread(target=work, name=f"pasta-job-{rec.id}", daemon=True)
        worker.start()
        try:
            while True:
                item = await q.get()
                if item is done:
                    break
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            stop.set()  # a consumer that leaves early stops the run within one step


@gpu
def _decode(lm: LoadedModel, req: Request, stop: threading.Event) -> Iterator[Event]:
    runs = ("pasta", "sequential") if req.mode == "both" else (req.mode,)
    s = Settings(**req.settings)
    interpreters = [Interpreter(lm, req.prompt, m, s, req.force, stop.is_set) for m in runs]
    for it in interpreters:
        yield from it.events()


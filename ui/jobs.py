"""Models in memory and the one decoding slot, shared by the UI and the HTTP API.

One job decodes at a time (a GPU would otherwise time-slice and every timing would lie); others
wait in a bounded first-come-first-served line. A request is checked in full (fields, the
server's limits, its prompt's length in tokens) BEFORE it joins the line, so a request that
could not run never waits. A job runs the interpreter in a worker thread and hands its events
to the asyncio side; when the consumer goes away (a closed tab, a dropped client, the Stop
button) the job is told to stop: a waiting job leaves the line at once, a running one within
one step (one prefill chunk), and the slot is free for the next request.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from pasta_core import lang
from pasta_core.api import interpreters, lockstep
from pasta_core.events import Event
from pasta_core.models import (
    _HUB_ID,
    RUN_NAME,
    LoadedModel,
    ModelSpecError,
    list_bundled,
    load_model,
)
from pasta_core.settings import (
    SOT_MODES,
    DecodeRequest,
    RequestLimits,
    SettingsError,
    run_mode,
    run_model,
)
from pasta_core.sot import sot_prompt

from .config import SpaceConfig

log = logging.getLogger(__name__)

# torch's CPU threads as the process started, before any job thread set its own
# (`torch.set_num_threads` sets the calling thread's count and the default of threads made later)
START_THREADS = torch.get_num_threads()


def decode_threads(config: SpaceConfig) -> int:
    """The torch threads a decoding job runs on: `SpaceConfig.torch_threads`, or one fewer than
    torch's default (at least 1), so that the server's event loop keeps a core. With every core
    decoding, a step waited on the thread the page's updates took, and a race on a 2-core
    machine was mostly judged "the machine was busy" (bench/results-cpu/page-races.md)."""
    return config.torch_threads or max(1, START_THREADS - 1)


def train_threads() -> int:
    """The torch threads a Train tab job runs on: all of torch's default. Nothing times it
    against anything, and one thread fewer made the cpu-demo run 1.56x slower on 2 cores."""
    return START_THREADS

try:  # ZeroGPU on Hugging Face Spaces: GPU work must run inside a @spaces.GPU function
    import spaces  # type: ignore[import-not-found]

    gpu = spaces.GPU
except ImportError:  # anywhere else it is a no-op

    def gpu(fn):  # type: ignore[no-redef]
        return fn


Request = DecodeRequest  # the UI and the routes build the one request record

_PATHS = re.compile(r"(?:[A-Za-z]:)?(?:/[\w.~+@-]+){2,}/?")


def scrub(message: str) -> str:
    """A message fit for a visitor: any filesystem path in it becomes "<path>"."""
    return _PATHS.sub("<path>", message)


class QueueFull(RuntimeError):
    pass


class ModelRegistry:
    """Loads model specs on demand, keeps the last few in memory, refuses specs this Space does
    not offer. A visitor names models, never paths: the configured specs, `runs/NAME` (a
    finished training run, resolved inside runs/) and, where allowed, Hub ids."""

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
                base = RUNS_DIR.resolve()
                out += sorted(f"runs/{p.name}" for p in RUNS_DIR.iterdir()
                              if RUN_NAME.match(p.name) and p.resolve().parent == base
                              and (p / "config.json").is_file())
        return out

    def check(self, spec: str) -> str:
        """The spec as it will be loaded, or ModelSpecError (no server path in it)."""
        spec = spec.strip() if isinstance(spec, str) else ""
        if spec in self.config.models or spec in self._models:
            return spec
        if spec.startswith("runs/") and self.config.allow_runs:
            if spec in self.available():
                return spec
            name = spec[len("runs/"):]
            what = (f"there is no finished training run {spec!r}" if RUN_NAME.match(name) else
                    "a run is named runs/NAME, NAME being 1-64 letters, digits, '.', '_' or '-'")
            raise ModelSpecError(f"{what}; available: {', '.join(self.available())}")
        if _HUB_ID.match(spec) and not spec.startswith(("bundled:", "random:", "runs/")):
            if self.config.allow_hub_models:
                return spec
            raise ModelSpecError(f"model {spec[:80]!r} is a Hub id and this server does not load "
                                 f"Hub models; available: {', '.join(self.available())}")
        if spec.startswith(("/", ".", "~")) or "\\" in spec or "/" in spec:
            raise ModelSpecError("a model is named, never given as a path on the server; "
                                 f"available: {', '.join(self.available())}")
        raise ModelSpecError(f"model {spec[:80]!r} is not offered here; available: "
                             f"{', '.join(self.available())}")

    def is_loaded(self, spec: str) -> bool:
        """Whether the model is in memory already (a run of it starts without loading)."""
        with self._lock:
            return spec.strip() in self._models

    def forget(self, spec: str) -> None:
        """Drop a loaded copy (its files changed: a training run was just written)."""
        with self._lock:
            self._models.pop(spec.strip(), None)

    def get(self, spec: str) -> LoadedModel:
        spec = self.check(spec)
        with self._lock:
            if spec in self._models:
                self._models.move_to_end(spec)
                return self._models[spec]
            try:  # configured specs may be local folders; a visitor's never are
                lm = load_model(spec, local=spec in self.config.models)
            except ModelSpecError as e:
                raise ModelSpecError(scrub(str(e))) from e
            except Exception as e:  # broken files: the detail goes to the log, not the visitor
                log.exception("loading %s failed", spec)
                raise ModelSpecError(f"model {spec!r} could not be loaded (its files are "
                                     "missing or broken); choose another model") from e
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
    owner: str = field(default="", repr=False)

    def public(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "owner"}


@dataclass(frozen=True)
class Queued:
    """A waiting job's place in line (1 = next), sent when it joins and when it changes."""

    position: int
    waiting: int
    type: str = "queued"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "position": self.position, "waiting": self.waiting}


class Slot:
    """The one decoding slot and its first-come-first-served line of waiting jobs."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._line: list[JobRecord] = []
        self.holder: JobRecord | None = None

    def join(self, rec: JobRecord) -> None:
        with self._cv:
            self._line.append(rec)

    def waiting(self, owner: str | None = None) -> int:
        with self._cv:
            return sum(owner is None or r.owner == owner for r in self._line)

    def take(self, rec: JobRecord, timeout: float | None, cancelled: Callable[[], bool],
             on_position: Callable[[int], None] | None = None) -> bool:
        """Wait until `rec` is first in line and the slot is free. False (and out of the line)
        when `timeout` passes or `cancelled()` turns true (checked every 50 ms)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        shown = -1
        with self._cv:
            try:
                while True:
                    if cancelled():
                        return False
                    if self.holder is None and self._line and self._line[0] is rec:
                        self.holder = rec
                        return True
                    place = self._line.index(rec) + 1
                    if on_position is not None and place != shown:
                        shown = place
                        on_position(place)
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        return False
                    self._cv.wait(0.05 if left is None else min(0.05, left))
            finally:
                if rec in self._line:
                    self._line.remove(rec)
                self._cv.notify_all()

    def give(self, rec: JobRecord) -> None:
        with self._cv:
            if self.holder is rec:
                self.holder = None
            self._cv.notify_all()


class JobQueue:
    def __init__(self, config: SpaceConfig, registry: ModelRegistry):
        self.config = config
        self.registry = registry
        self.slot = Slot()
        self._count = 0
        self._guard = threading.Lock()
        self.jobs: collections.deque[JobRecord] = collections.deque(maxlen=50)
        self.step_runs: set[object] = set()  # stepped runs whose cache is in memory (stepper)

    def status(self) -> dict:
        running = [j for j in self.jobs if j.state == "running"]
        return {"running": len(running), "waiting": self.slot.waiting(),
                "queue_size": self.config.limits.queue_size, "step_runs": len(self.step_runs),
                "recent": [j.public() for j in list(self.jobs)[-10:]]}

    # -- checks: everything a request can be refused for, before it waits ----------------------

    def limits(self) -> RequestLimits:
        lim = self.config.limits
        return RequestLimits(lim.max_new_tokens, lim.max_threads, lim.max_thread_tokens,
                             lim.max_messages)

    def validate(self, req: DecodeRequest) -> DecodeRequest:
        """The request checked field by field against the core's ranges and this server's
        limits, its model loaded, and its prompt measured in tokens (after the chat template,
        roles included). Raises SettingsError or ModelSpecError naming what was wrong."""
        lim = self.config.limits
        req = DecodeRequest.build(req.model, req.prompt, req.mode, req.force, req.settings,
                                  req.owner, self.limits(), req.methods)
        chars = len(req.prompt) if isinstance(req.prompt, str) else sum(
            len(m["content"]) + len(m["role"]) for m in req.prompt)
        if chars > lim.max_prompt_chars:
            raise SettingsError(f"the prompt has {chars} characters; this server takes at most "
                                f"{lim.max_prompt_chars}", "prompt")
        if req.force is not None:
            errors = lang.parse(req.force)["errors"]
            if errors:
                e = errors[0]
                raise SettingsError(f"the forced response has {len(errors)} PASTA-LANG "
                                    f"error(s), first {e['code']} at {e['offset']}: "
                                    f"{e['message']}", "force")
        req.model = self.registry.check(req.model)
        lm = self.registry.get(req.model)
        # every model a run decodes on must fit it, with SoT's instructions where a
        # Skeleton-of-Thought run is one of them
        sot_roles = {run_model(req.mode, r) for r in req.runs
                     if run_mode(req.mode, r) in SOT_MODES}
        by_role = {"chosen": lm, **self.race_models(req, lm)}
        for m in {id(m): m for m in by_role.values() if m is not None}.values():
            self._check_tokens(req, m, sot=any(by_role[r] is m for r in sot_roles))
        return req

    def race_models(self, req: DecodeRequest, lm: LoadedModel) -> dict[str, LoadedModel | None]:
        """The models a request's runs need besides its own (`settings.run_model`): the base
        model (`baseline_model`: mode "base", and sequential and SoT in a methods race) and
        the APAR-style model (`apar_model`). A random-weight model plays every method itself:
        it writes nothing of its own, so the race replays forced answers on one model."""
        roles = {run_model(req.mode, r) for r in req.runs} - {"chosen"}
        if req.model.startswith("random:"):
            return {"base": lm, "apar": lm}
        return {"base": self.baseline(req.mode) if "base" in roles else None,
                "apar": self.apar_model() if "apar" in roles else None}

    def baseline(self, mode: str = "base") -> LoadedModel:
        """The base model a race runs against (the Space's `baseline_model`)."""
        spec = self.config.baseline_model
        try:
            return self.registry.get(spec)
        except ModelSpecError as e:
            if mode == "methods":
                raise SettingsError(f"sequential and Skeleton-of-Thought race on this Space's "
                                    f"base model, which is not available here ({e}); pick "
                                    "PASTA and APAR-style only", "methods") from e
            raise SettingsError(f"mode base races this Space's base model, which is not "
                                f"available here ({e}); use mode both", "mode") from e

    def apar_model(self) -> LoadedModel:
        """The APAR-style model a methods race runs (the Space's `apar_model`)."""
        try:
            return self.registry.get(self.config.apar_model)
        except ModelSpecError as e:
            raise SettingsError(f"APAR-style races this Space's APAR-style model, which is not "
                                f"available here ({e}); leave APAR-style out", "methods") from e

    def _check_tokens(self, req: DecodeRequest, lm: LoadedModel, sot: bool = False) -> None:
        """The request's prompt and new tokens against this server's limits and `lm`'s
        positions; with `sot`, the prompt as a Skeleton-of-Thought run gives it to `lm`
        (wrapped in SoT's instructions, `sot.sot_prompt`)."""
        lim = self.config.limits
        n_prompt = len(lm.encode_prompt(sot_prompt(req.prompt) if sot else req.prompt))
        if n_prompt > lim.max_prompt_tokens:
            how = "roles and Skeleton-of-Thought's instructions" if sot else "roles"
            raise SettingsError(f"the prompt is {n_prompt} tokens after the chat template "
                                f"({how} included); this server takes at most "
                                f"{lim.max_prompt_tokens}", "prompt")
        n_new = req.settings["max_new_tokens"]
        if req.force is not None:
            n_forced = lm.count_tokens(req.force) + 1
            if n_forced > lim.max_new_tokens:
                raise SettingsError(f"the forced response is {n_forced} tokens; this server "
                                    f"takes at most {lim.max_new_tokens}", "force")
            n_new = max(n_new, n_forced)
        cap = lm.max_positions
        if cap is not None and n_prompt + n_new > cap:
            raise SettingsError(f"the prompt ({n_prompt} tokens) plus max_new_tokens ({n_new}) "
                                f"is over the model's {cap} positions; ask for at most "
                                f"{max(cap - n_prompt, 0)} new tokens", "max_new_tokens")

    # -- the slot: every decoding job takes it, whoever asks (API, UI, step mode) ---------------

    def enqueue(self, model: str, mode: str, owner: str = "") -> JobRecord:
        """Join the line (or raise QueueFull). Follow with `acquire`, then `release`."""
        lim = self.config.limits
        with self._guard:
            if self.slot.waiting() >= lim.queue_size:
                raise QueueFull(f"the queue is full ({self.slot.waiting()} requests waiting); "
                                "try again in a moment")
            if owner and self.slot.waiting(owner) >= lim.max_queued_per_client:
                raise QueueFull(f"you already have {self.slot.waiting(owner)} requests waiting "
                                f"(the limit is {lim.max_queued_per_client} per client); wait "
                                "for them or stop one")
            self._count += 1
            rec = JobRecord(self._count, model, mode, owner=owner)
            self.slot.join(rec)
            self.jobs.append(rec)
            return rec

    def acquire(self, rec: JobRecord, timeout: float | None = None,
                cancelled: Callable[[], bool] | None = None,
                on_position: Callable[[int], None] | None = None) -> bool:
        """Wait for the slot (at most `timeout` seconds, until `cancelled()`); the record
        leaves the line either way."""
        got = self.slot.take(rec, timeout, cancelled or (lambda: False), on_position)
        if got:
            rec.state = "running"
        else:
            rec.state, rec.ended = "stopped" if cancelled and cancelled() else "failed", time.time()
            rec.end_reason = "left the queue" if rec.state == "stopped" else "the slot stayed busy"
        return got

    def release(self, rec: JobRecord, state: str, end_reason: str | None = None) -> None:
        rec.state, rec.ended = state, time.time()
        if end_reason is not None:
            rec.end_reason = end_reason
        self.slot.give(rec)

    async def submit(self, req: DecodeRequest) -> Ticket:
        """Check `req` and put it in line; raises SettingsError, ModelSpecError or QueueFull.
        Loading a model for the check runs off the event loop."""
        req = await asyncio.to_thread(self.validate, req)
        return Ticket(req, self.enqueue(req.model, req.mode, req.owner))

    async def events(self, ticket: Ticket, queued: bool = False) -> AsyncIterator[Any]:
        """The ticket's events as they happen (with `queued`, `Queued` places while it waits).
        Leaving the iteration early (or being cancelled) takes the job out of the line at once,
        or stops its run within one step, and frees the slot."""
        req, rec = ticket.req, ticket.rec
        loop = asyncio.get_running_loop()
        q: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()
        done = object()

        def push(item) -> None:
            loop.call_soon_threadsafe(q.put_nowait, item)

        def place(position: int) -> None:
            if queued:
                push(Queued(position, self.slot.waiting()))

        def work() -> None:
            torch.set_num_threads(decode_threads(self.config))  # this thread's own count
            if not self.acquire(rec, cancelled=stop.is_set, on_position=place):
                push(done)
                return
            state, reason = "stopped", "stopped"
            try:
                lm = self.registry.get(req.model)
                for ev in _decode(lm, req, stop, **self.race_models(req, lm)):
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

        threading.Thread(target=work, name=f"pasta-job-{rec.id}", daemon=True).start()
        try:
            while True:
                item = await q.get()
                if item is done:
                    break
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            stop.set()  # a consumer that leaves early stops the run (or its wait) at once

    async def run(self, req: DecodeRequest) -> AsyncIterator[Event]:
        """`submit`, then `events`: a request's events, errors raised before it waits."""
        ticket = await self.submit(req)
        async for ev in self.events(ticket):
            yield ev


@dataclass
class Ticket:
    """A checked request and its place in line."""

    req: DecodeRequest
    rec: JobRecord


@gpu
def _decode(lm: LoadedModel, req: DecodeRequest, stop: threading.Event,
            base: LoadedModel | None = None, apar: LoadedModel | None = None) -> Iterator[Event]:
    runs = interpreters(lm, req.prompt, req.mode, req.run_settings(), req.force, stop.is_set,
                        base, apar, req.methods)
    yield from lockstep([it.events() for it in runs])

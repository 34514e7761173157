"""The live view of a request: one typed model built from the event stream, read by every view.

`RequestView` follows the events of one request (the very events the HTTP API streams) and
keeps, for each of its runs (`settings.plan_runs(mode)`: two for mode "both"), a `RunView`
with the projections the lanes, the charts, the status line, step mode and the replay read:

- threads with their state (`ThreadView`: queued, running, waiting, done) and body text;
- the main thread's parts in order: text pieces and placeholders (`Placeholder`: a promise
  standing for its chunk, a sync point), cut at its tags by `events.main_pieces`, the one walk
  over the main thread's tags;
- waits at sync points (`Wait`: from ThreadWait to ThreadResume);
- the race replay: a schema of named fields (`Replay*` records, `ReplayRun`) that
  assets/replay.js reads by name;
- per-run figures (`RunFigures`): from a `TraceBuilder` fed the same events while the run goes,
  from its Trace and `pasta_core.metrics` once it is done — so every consumer shows the same
  numbers for the same run.

No web imports here: colours and HTML are the UI's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal

from . import metrics
from .events import (
    Comparison,
    Done,
    Event,
    MethodsRace,
    RunStart,
    Step,
    ThreadEnd,
    ThreadResume,
    ThreadStart,
    ThreadWait,
    Tokens,
    Trace,
    TraceBuilder,
    main_pieces,
)
from .settings import METHODS, RACES, plan_runs, run_mode  # a mode's runs, each run's mode

__all__ = ["RequestView", "RunView", "plan_runs"]

RUN_LABELS = {"pasta": "PASTA", "sequential": "Sequential", "plain": "Plain",
              "sot": "Skeleton-of-Thought", "sot-sequential": "SoT, sequential"}
LANE_MODES = ("pasta", "sot")  # runs drawn as a main lane and a lane per chunk (or SoT point)


# -- threads and the main thread's parts ----------------------------------------------------

ThreadState = Literal["queued", "running", "waiting", "done"]


@dataclass(eq=False)  # identity matters: a lane marks the very sync its thread waits at
class Placeholder:
    """In the main thread's parts: a promise (`chunk` = the thread that writes it) or a sync."""

    kind: Literal["promise", "sync"]
    chunk: int | None = None


MainPart = str | Placeholder


@dataclass
class ThreadView:
    id: int
    parent: int | None
    topic: str
    promised: int | None
    state: ThreadState = "running"
    reason: str | None = None  # why it ended (ThreadEnd.reason)
    text: str = ""  # the body text as shown (tags held back by the interpreter)
    # the main thread only: text pieces and placeholders, in order (always ends with text)
    parts: list[MainPart] = field(default_factory=lambda: [""])

    @property
    def last_sync(self) -> Placeholder | None:
        return next((p for p in reversed(self.parts)
                     if isinstance(p, Placeholder) and p.kind == "sync"), None)


@dataclass
class Wait:
    """The main thread waiting at a sync: from `start` until `end` (None while it waits)."""

    start: float
    end: float | None
    chunks: list[int]


# -- the race replay's schema (assets/replay.js reads these fields by name) -----------------

@dataclass
class ReplayEvent:
    KIND: ClassVar[str] = ""
    t: float

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.KIND, **asdict(self)}


@dataclass
class ReplayStart(ReplayEvent):
    KIND: ClassVar[str] = "start"
    thread: int
    topic: str
    promised: int | None
    parent: int | None


@dataclass
class ReplayText(ReplayEvent):
    KIND: ClassVar[str] = "text"
    thread: int
    text: str
    tokens: int  # tokens generated with it (0 for a piece cut at a tag, or forced tokens)


@dataclass
class ReplayPromise(ReplayEvent):
    KIND: ClassVar[str] = "promise"
    thread: int
    chunk: int  # the thread the promise starts


@dataclass
class ReplaySync(ReplayEvent):
    KIND: ClassVar[str] = "sync"
    thread: int


@dataclass
class ReplayWait(ReplayEvent):
    KIND: ClassVar[str] = "wait"
    thread: int
    waiting_for: list[int]


@dataclass
class ReplayResume(ReplayEvent):
    KIND: ClassVar[str] = "resume"
    thread: int


@dataclass
class ReplayDequeue(ReplayEvent):
    """A queued thread (held back by the thread cap) runs its first step."""

    KIND: ClassVar[str] = "dequeue"
    thread: int


@dataclass
class ReplayStep(ReplayEvent):
    KIND: ClassVar[str] = "step"
    step: int


@dataclass
class ReplayEnd(ReplayEvent):
    KIND: ClassVar[str] = "end"
    thread: int
    reason: str


@dataclass
class ReplayThread:
    id: int
    topic: str
    promised: int | None
    color: str | None = None  # the UI's colour for the thread (lanes, charts, replay agree)


@dataclass
class ReplayRun:
    run: str
    label: str
    threads: list[ReplayThread]
    events: list[ReplayEvent]
    wall_s: float
    steps: int
    tokens: int
    lanes: bool = False  # drawn as a main lane and a lane per chunk (else one lane)
    mode: str = ""  # the interpreter's mode ("sot": the main lane is the skeleton)

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run, "label": self.label, "lanes": self.lanes, "mode": self.mode,
                "threads": [asdict(t) for t in self.threads],
                "events": [e.to_dict() for e in self.events],
                "wall_s": self.wall_s, "steps": self.steps, "tokens": self.tokens}


# -- per-run figures ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RunFigures:
    """The numbers of a run: the Trace's once it is done, the TraceBuilder's while it runs."""

    run: str
    steps: int
    tokens_total: int
    wall_s: float
    parallelism: float
    threads: int  # main included
    kv_tokens: int | None  # known once the run is done
    kv_prefix_copy: int | None  # what KV would hold if each thread copied its prefix
    end_reason: str | None

    @property
    def tokens_per_s(self) -> float:
        return self.tokens_total / self.wall_s if self.wall_s else 0.0


# -- one run ----------------------------------------------------------------------------------

class RunView:
    """What one run shows, updated event by event. `run` is its name in the events, `mode`
    its interpreter mode (they differ in a methods race: run "apar" decodes in mode
    "pasta"), `label` what the page calls it."""

    def __init__(self, run: str, mode: str | None = None, label: str | None = None):
        self.run = run
        self.mode = mode or run
        self.label = label or RUN_LABELS.get(run, run)
        self.builder = TraceBuilder()
        self.threads: dict[int, ThreadView] = {}
        self.t = 0.0  # the latest event time of the run (seconds since it started)
        self.started = False
        self.trace: Trace | None = None
        self.replay: list[ReplayEvent] = []
        self.step_threads: list[int] = []  # threads in each step, from Step events
        self.waits: list[Wait] = []
        self.tokens_curve: list[tuple[float, int]] = [(0.0, 0)]  # (t, tokens generated so far)
        self._generated = 0

    def add(self, ev: Event) -> None:
        self.t = max(self.t, ev.t)
        if isinstance(ev, Done):
            self.trace = ev.trace
            for th in self.threads.values():
                th.state = "done"
            return
        self.builder.add(ev)
        t = round(ev.t, 6)
        if isinstance(ev, RunStart):
            self.started = True
        elif isinstance(ev, ThreadStart):
            self.threads[ev.thread] = ThreadView(ev.thread, ev.parent, ev.topic,
                                                 ev.promised_tokens,
                                                 "queued" if ev.queued else "running")
            self.replay.append(ReplayStart(t, ev.thread, ev.topic, ev.promised_tokens,
                                           ev.parent))
        elif isinstance(ev, Tokens):
            self._tokens(ev, t)
        elif isinstance(ev, Step):
            self.step_threads.append(len(ev.threads))
            for tid in ev.threads:
                if self.threads[tid].state == "queued":
                    self.threads[tid].state = "running"
                    self.replay.append(ReplayDequeue(t, tid))
            self.replay.append(ReplayStep(t, ev.step))
        elif isinstance(ev, ThreadWait):
            self.threads[ev.thread].state = "waiting"
            self.waits.append(Wait(ev.t, None, list(ev.waiting_for)))
            self.replay.append(ReplayWait(t, ev.thread, list(ev.waiting_for)))
        elif isinstance(ev, ThreadResume):
            self.threads[ev.thread].state = "running"
            if self.waits and self.waits[-1].end is None:
                self.waits[-1].end = ev.t
            self.replay.append(ReplayResume(t, ev.thread))
        elif isinstance(ev, ThreadEnd):
            th = self.threads[ev.thread]
            th.state, th.reason = "done", ev.reason
            self.replay.append(ReplayEnd(t, ev.thread, ev.reason))

    def _tokens(self, ev: Tokens, t: float) -> None:
        n = sum(lp is not None for lp in ev.logprobs)  # generated, not forced
        if n:
            self._generated += n
            self.tokens_curve.append((ev.t, self._generated))
        if ev.thread != 0:
            self.threads[ev.thread].text += ev.text
            self.replay.append(ReplayText(t, ev.thread, ev.text, n))
            return
        main = self.threads[0]
        pieces = main_pieces(ev)
        for piece in pieces[:-1]:
            if isinstance(piece, str):
                main.parts[-1] += piece
                self.replay.append(ReplayText(t, 0, piece, 0))
            elif piece["kind"] == "promise":
                main.parts += [Placeholder("promise", piece["thread"]), ""]
                self.replay.append(ReplayPromise(t, 0, piece["thread"]))
            elif piece["kind"] == "sync":
                main.parts += [Placeholder("sync"), ""]
                self.replay.append(ReplaySync(t, 0))
        main.parts[-1] += pieces[-1]  # type: ignore[operator]  # always text
        self.replay.append(ReplayText(t, 0, pieces[-1], n))  # type: ignore[arg-type]

    @property
    def lanes(self) -> bool:
        """Whether the run is drawn as lanes: a main lane and one per chunk (or SoT point)."""
        return self.mode in LANE_MODES

    # -- numbers (from the TraceBuilder while running, from the Trace once done) ---------------

    @property
    def done(self) -> bool:
        return self.trace is not None

    def thread_tokens(self, tid: int) -> int:
        rec = self.builder.threads.get(tid)
        return metrics.tokens_total([rec]) if rec is not None else 0

    def thread_elapsed(self, tid: int) -> float:
        rec = self.builder.threads.get(tid)
        if rec is None:
            return 0.0
        end = rec.end_s if rec.end_s is not None else self.t
        return max(0.0, end - rec.start_s)

    @property
    def tokens(self) -> int:
        if self.trace is not None:
            return self.trace.tokens_total
        return metrics.tokens_total(list(self.builder.threads.values()))

    @property
    def steps(self) -> int:
        return self.trace.steps if self.trace is not None else len(self.builder.step_sizes)

    @property
    def wall_s(self) -> float:
        return self.trace.wall_s if self.trace is not None else self.t

    @property
    def spliced(self) -> str:
        return self.trace.text if self.trace is not None else self.builder.splicer.text

    def figures(self) -> RunFigures:
        tr = self.trace
        if tr is not None:
            naive = metrics.prefix_copy_kv(len(tr.prompt_token_ids), tr.threads)
            return RunFigures(self.run, tr.steps, tr.tokens_total, tr.wall_s, tr.parallelism,
                              len(tr.threads), tr.kv_tokens, naive, tr.end_reason)
        tokens, steps = self.tokens, self.steps
        return RunFigures(self.run, steps, tokens, self.wall_s,
                          metrics.parallelism(list(self.builder.threads.values()), steps),
                          len(self.threads), None, None, None)

    def chunk_text(self, tid: int) -> str:
        th = self.threads.get(tid)
        return th.text if th is not None else ""

    def replay_run(self, color: Callable[[int], str] | None = None) -> ReplayRun:
        threads = [ReplayThread(th.id, th.topic, th.promised, color(th.id) if color else None)
                   for th in self.threads.values()]
        return ReplayRun(self.run, self.label, threads, list(self.replay), self.wall_s,
                         self.steps, self.tokens, self.lanes, self.mode)


# -- one request ------------------------------------------------------------------------------

class RequestView:
    """The runs of one request: a RunView per run of `plan_runs(mode, methods)`."""

    def __init__(self, mode: str, model: str, methods: Any = None):
        self.mode = mode
        self.model = model
        labels = {m.name: m.label for m in METHODS.values()} if mode == "methods" else {}
        self.runs: dict[str, RunView] = {
            r: RunView(r, run_mode(mode, r), labels.get(r)) for r in plan_runs(mode, methods)}
        self.stopped = False

    def add(self, ev: Event) -> None:
        self.runs[ev.run].add(ev)

    @property
    def done(self) -> bool:
        return all(v.done for v in self.runs.values())

    @property
    def current(self) -> RunView | None:
        """The run being decoded now (None before the first starts and after the last ends)."""
        return next((v for v in self.runs.values() if v.started and not v.done), None)

    @property
    def primary(self) -> RunView:
        """The run whose answer is shown: PASTA's when there is one."""
        return self.runs.get("pasta") or next(iter(self.runs.values()))

    def comparison(self) -> Comparison | MethodsRace | None:
        """A race once all its runs are done: the speed-ups, from `pasta_core.metrics`."""
        if self.mode == "methods":
            return MethodsRace({r: v.trace for r, v in self.runs.items()}) if self.done \
                else None  # type: ignore[misc]
        if self.mode not in RACES:
            return None
        p, s = (self.runs[r] for r in RACES[self.mode])
        if p.trace is None or s.trace is None:
            return None
        return Comparison(p.trace, s.trace, "base" if self.mode == "base" else "sequential")

    def traces(self) -> list[Trace]:
        return [v.trace for v in self.runs.values() if v.trace is not None]

    def replay(self, color: Callable[[int], str] | None = None) -> dict[str, Any]:
        """The race replay's recording: the started runs with their timed events."""
        runs = [v.replay_run(color) for v in self.runs.values() if v.started]
        return {"mode": self.mode, "model": self.model, "runs": [r.to_dict() for r in runs],
                "duration": max((r.wall_s for r in runs), default=0.0)}

"""Typed events of a decoding run and the Trace record they add up to.

Every consumer (lanes, charts, SSE, the OpenAI route, the CLI's JSON, benchmarks, training's
sampler) reads these events; the Trace is built from them by `TraceBuilder`, by the interpreter
itself as well, so nothing re-derives timings or text on its own.
Times (`t`, `start_s`, `end_s`) are seconds since the run started.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from . import lang, metrics, sot
from .settings import METHODS, SOT_MODES


@dataclass
class Event:
    run: str  # which run it belongs to: its mode ("pasta", "sot", …), or a race's method name
    t: float

    @property
    def type(self) -> str:
        return _TYPES[type(self)]

    def to_dict(self) -> dict[str, Any]:
        d = {"type": self.type}
        d.update(asdict(self) if not isinstance(self, Done) else
                 {"run": self.run, "t": self.t, "trace": self.trace.to_dict()})
        return d


@dataclass
class RunStart(Event):
    model: str
    prompt: str | list[dict[str, str]]
    prompt_token_ids: list[int]
    settings: dict[str, Any]
    mode: str  # the interpreter's mode (`run` names the run: in a methods race, the method)


@dataclass
class ThreadStart(Event):
    """A thread exists: main at the start, a chunk when its promise is made. `queued` when the
    thread cap keeps it from running yet."""

    thread: int
    parent: int | None
    topic: str
    promised_tokens: int | None
    fork_index: int | None  # index of the promise's last token in the parent's token_ids
    fork_offset: int | None  # character offset in the parent's text right after the promise
    queued: bool = False


@dataclass
class Tokens(Event):
    """Tokens a thread received: one sampled (or forced) token, or a chunk's forced opening tag.
    `raw` is the decoded text they added (tags included), `text` what is safe to show as body
    text (tags and partial tags held back), `tags` the tags they completed: `{"kind", "at"}`
    with `at` the offset in `text` where the tag stands, and for a promise `"thread"`, the id
    of the chunk it starts."""

    thread: int
    token_ids: list[int]
    logprobs: list[float | None]
    raw: str
    text: str
    tags: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Step(Event):
    """One forward pass: which threads fed how many tokens at which positions."""

    step: int
    threads: list[int]
    n_tokens: list[int]
    positions: list[list[int]]
    latency_s: float
    host_s: float  # interpreter time spent around the forward (scheduling, masks, sampling)
    # with Interpreter(record_masks=True): for each token fed, the cache slots it attends to
    # (slot order = prefill, then each step's tokens in order) — the step's attention mask
    visible: list[list[int]] | None = None


@dataclass
class ThreadWait(Event):
    """The main thread waits at a `<sync/>` for these chunks."""

    thread: int
    waiting_for: list[int]


@dataclass
class ThreadResume(Event):
    thread: int


@dataclass
class ThreadEnd(Event):
    thread: int
    reason: str  # close_tag, eos, max_thread_tokens, max_new_tokens, stopped, forced_end, cancelled


@dataclass
class Done(Event):
    trace: Trace


_TYPES = {RunStart: "run_start", ThreadStart: "thread_start", Tokens: "tokens", Step: "step",
          ThreadWait: "thread_wait", ThreadResume: "thread_resume", ThreadEnd: "thread_end",
          Done: "done"}


@dataclass
class ThreadRecord:
    id: int
    parent: int | None
    topic: str
    promised_tokens: int | None
    token_ids: list[int] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    n_forced: int = 0
    logprobs: list[float | None] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    fork_index: int | None = None
    sync_indices: list[int] = field(default_factory=list)
    text: str = ""
    start_s: float = 0.0
    end_s: float | None = None
    end_reason: str | None = None
    fork_offset: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        del d["fork_offset"]
        return d


@dataclass
class Trace:
    """A whole run. `to_dict()` is exactly the CLI's `decode --json` object (docs/DESIGN.md)."""

    mode: str
    model: str
    prompt: str | list[dict[str, str]]
    text: str  # the spliced, user-facing text (built by a Splicer from the events)
    prompt_token_ids: list[int]
    settings: dict[str, Any]
    threads: list[ThreadRecord]
    steps: int
    kv_tokens: int
    wall_s: float
    end_reason: str
    step_sizes: list[int]
    step_latency_s: list[float]
    step_host_s: list[float]
    step_t_s: list[float] = field(default_factory=list)  # when each step ended (the run's clock)

    @property
    def step_cycle_s(self) -> list[float]:
        """Each step's whole cost on the run's clock: its forward pass and all host work up to
        the next step (what a race pays per step; `step_latency_s` is the forward's share)."""
        ts = self.step_t_s
        return [b - a for a, b in zip(ts, [*ts[1:], self.wall_s], strict=True)][:-1] \
            if len(ts) > 1 else list(self.step_latency_s)

    @property
    def annotated_raw(self) -> str:
        """The run as one annotated text: each chunk's thread right after its promise (a chunk
        that ended without `</async>` is closed, so the structure survives a cap or a stop)."""
        main, chunks = self.threads[0], self.threads[1:]
        if self.mode == "plain":
            return main.text
        if self.mode in SOT_MODES:  # the transcript: skeleton, then each point's cue and body
            return main.text + "".join(c.text for c in chunks)
        out, last = [], 0
        for c in sorted(chunks, key=lambda c: (c.fork_offset or 0, c.id)):
            off = c.fork_offset or 0
            out.append(main.text[last:off])
            thread = c.text[:lang.thread_end(c.text)] or lang.async_open_tag(c.topic)
            if not thread.endswith(lang.ASYNC_CLOSE):  # ended by a cap, a stop or end-of-sequence
                thread += lang.ASYNC_CLOSE
            out.append(thread)
            last = off
        out.append(main.text[last:])
        return "".join(out)

    @property
    def document(self) -> lang.Document:
        return lang.parse_document(self.annotated_raw)

    @property
    def annotated(self) -> str:
        raw = self.annotated_raw
        return raw if self.mode in ("plain", *SOT_MODES) else lang.canonical_document(
            lang.parse_document(raw), raw)

    @property
    def tokens_total(self) -> int:
        return metrics.tokens_total(self.threads)

    @property
    def parallelism(self) -> float:
        return metrics.parallelism(self.threads, self.steps)

    def sot_figures(self) -> dict[str, Any]:
        """An SoT run's steps by part: the skeleton's, each point's, and what the same run takes
        with the points decoded one after another (their sum) — theoretical_speedup is that
        over `steps` (docs/PASTA_LANG.md §6)."""
        per = metrics.thread_steps(self.threads)
        seq = sum(per)
        return {"skeleton_steps": per[0], "point_steps": per[1:], "sequential_steps": seq,
                "theoretical_speedup": metrics.theoretical_speedup(seq, self.steps)}

    def to_dict(self) -> dict[str, Any]:
        raw = self.annotated_raw  # built and parsed once for both fields below
        plain = self.mode in ("plain", *SOT_MODES)  # no PASTA-LANG to parse
        doc = lang.parse_document("" if plain else raw)
        return {
            "text": self.text,
            "annotated": raw if plain else lang.canonical_document(doc, raw),
            "prompt_token_ids": self.prompt_token_ids,
            "threads": [t.to_dict() for t in self.threads],
            "steps": self.steps,
            "tokens_total": self.tokens_total,
            "parallelism": self.parallelism,
            "kv_tokens": self.kv_tokens,
            "wall_s": self.wall_s,
            "mode": self.mode,
            "model": self.model,
            "prompt": self.prompt,
            "settings": self.settings,
            "end_reason": self.end_reason,
            "errors": [{"code": e.code, "offset": e.offset, "message": e.message}
                       for e in doc.errors] if not plain else [],
            "step_sizes": self.step_sizes,
            "step_latency_s": self.step_latency_s,
            "step_host_s": self.step_host_s,
            "step_t_s": self.step_t_s,
            **(self.sot_figures() if self.mode in SOT_MODES else {}),
        }


def main_pieces(ev: Tokens) -> list[str | dict[str, Any]]:
    """The body text of a Tokens event cut at the tags it completed, in order: a text piece
    (maybe empty), then for each tag the tag dict and the text after it. This is the one walk
    over the main thread's tags: the Splicer and the live view (`pasta_core.view`) both read
    it, so no consumer re-parses the text."""
    out: list[str | dict[str, Any]] = []
    last = 0
    for tag in ev.tags:
        out += [ev.text[last:tag["at"]], tag]
        last = tag["at"]
    out.append(ev.text[last:])
    return out


class Splicer:
    """The user-facing text of a run, built from its events in final order: the main thread's
    text with each promise replaced by its chunk's text. `add(event)` returns the text that
    became final with that event — what a streaming client can send at once, in order.
    An SoT run (docs/PASTA_LANG.md §6) reads differently: its text is `sot.splice` of the
    points' bodies, each final when it and every point before it ended; the skeleton is the
    text only when it has no points."""

    def __init__(self) -> None:
        self.parts: list[str | int] = [""]  # main-thread text; an int stands for a chunk
        self.chunks: dict[int, str] = {}
        self.ended: set[int] = set()
        self.i = 0  # the part being sent
        self.off = 0  # characters of it already sent
        self.text = ""  # everything final so far
        self.sot = False  # set by the run's RunStart
        self.points: list[int] = []  # SoT: point threads, in skeleton order

    def add(self, ev: Event) -> str:
        if isinstance(ev, RunStart):
            self.sot = ev.mode in SOT_MODES
            return ""
        if self.sot:
            return self._add_sot(ev)
        if isinstance(ev, Tokens):
            if ev.thread == 0:
                for piece in main_pieces(ev):
                    if isinstance(piece, str):
                        self.parts[-1] += piece
                    elif piece["kind"] == "promise":
                        self.parts += [piece["thread"], ""]
            else:
                self.chunks[ev.thread] = self.chunks.get(ev.thread, "") + ev.text
        elif isinstance(ev, ThreadEnd) and ev.thread != 0:
            self.ended.add(ev.thread)
        else:
            return ""
        return self._advance()

    def _add_sot(self, ev: Event) -> str:
        if isinstance(ev, ThreadStart) and ev.thread != 0:
            self.points.append(ev.thread)
        elif isinstance(ev, Tokens):  # main: the skeleton; a point: its cue is not shown
            self.chunks[ev.thread] = self.chunks.get(ev.thread, "") + ev.text
        elif isinstance(ev, ThreadEnd):
            self.ended.add(ev.thread)
            if ev.thread == 0 and not self.points:  # no points: the skeleton is the answer
                new = self.chunks.get(0, "")
            else:
                done: list[str] = []
                for tid in self.points:
                    if tid not in self.ended:
                        break
                    done.append(self.chunks.get(tid, ""))
                new = sot.splice(done)[len(self.text):] if done else ""
            self.text += new
            return new
        return ""

    def _advance(self) -> str:
        out = []
        while True:
            p = self.parts[self.i]
            s = p if isinstance(p, str) else self.chunks.get(p, "")
            out.append(s[self.off:])
            self.off = len(s)
            if (isinstance(p, int) and p not in self.ended) or self.i == len(self.parts) - 1:
                break  # a running chunk, or the main text, which may still grow
            self.i, self.off = self.i + 1, 0
        new = "".join(out)
        self.text += new
        return new


class TraceBuilder:
    """Adds events up to a Trace. The interpreter feeds it every event it emits."""

    def __init__(self) -> None:
        self.splicer = Splicer()
        self.start: RunStart | None = None
        self.threads: dict[int, ThreadRecord] = {}
        self._placed: dict[int, int] = {}
        self.step_sizes: list[int] = []
        self.step_latency: list[float] = []
        self.step_host: list[float] = []
        self.step_t: list[float] = []

    def add(self, ev: Event) -> None:
        self.splicer.add(ev)
        if isinstance(ev, RunStart):
            self.start = ev
        elif isinstance(ev, ThreadStart):
            self.threads[ev.thread] = ThreadRecord(
                ev.thread, ev.parent, ev.topic, ev.promised_tokens, fork_index=ev.fork_index,
                start_s=ev.t, fork_offset=ev.fork_offset)
            self._placed[ev.thread] = 0
        elif isinstance(ev, Tokens):
            th = self.threads[ev.thread]
            th.token_ids.extend(ev.token_ids)
            th.logprobs.extend(ev.logprobs)
            th.n_forced += sum(lp is None for lp in ev.logprobs)
            th.text += ev.raw
            if ev.thread == 0 and any(t["kind"] == "sync" for t in ev.tags):
                th.sync_indices.append(len(th.token_ids) - 1)
        elif isinstance(ev, Step):
            self.step_sizes.append(sum(ev.n_tokens))
            self.step_latency.append(ev.latency_s)
            self.step_host.append(ev.host_s)
            self.step_t.append(ev.t)
            for tid, n, pos in zip(ev.threads, ev.n_tokens, ev.positions, strict=True):
                th = self.threads[tid]
                th.positions.extend(pos)
                th.steps.extend([ev.step] * n)
                self._placed[tid] += n
        elif isinstance(ev, ThreadEnd):
            th = self.threads[ev.thread]
            th.end_s, th.end_reason = ev.t, ev.reason

    def build(self, kv_tokens: int, wall_s: float, end_reason: str) -> Trace:
        assert self.start is not None
        s = self.start
        return Trace(
            mode=s.mode, model=s.model, prompt=s.prompt, text=self.splicer.text,
            prompt_token_ids=s.prompt_token_ids,
            settings=s.settings, threads=[self.threads[k] for k in sorted(self.threads)],
            steps=len(self.step_sizes), kv_tokens=kv_tokens, wall_s=wall_s,
            end_reason=end_reason, step_sizes=self.step_sizes,
            step_latency_s=self.step_latency, step_host_s=self.step_host,
            step_t_s=self.step_t,
        )


@dataclass
class Comparison:
    """A race: the PASTA run and its opponent on the same request — sequential decoding of the
    same model (mode "both", `opponent` "sequential") or the base model decoding plainly (mode
    "base", `opponent` "base"). `sequential` holds the opponent's trace either way."""

    pasta: Trace
    sequential: Trace
    opponent: str = "sequential"

    @property
    def wall_speedup(self) -> float:
        return metrics.wall_speedup(self.sequential.wall_s, self.pasta.wall_s)

    @property
    def theoretical_speedup(self) -> float:
        return metrics.theoretical_speedup(self.sequential.tokens_total, self.pasta.steps)

    @property
    def race(self) -> dict[str, Any]:
        """The race's honest figures and verdict (`metrics.race_figures`)."""
        p, s = self.pasta, self.sequential
        return metrics.race_figures(p.steps, p.step_cycle_s, p.wall_s, s.tokens_total,
                                    s.step_cycle_s, s.wall_s, (len(s.text), len(p.text)))

    def to_dict(self) -> dict[str, Any]:
        return {"pasta": self.pasta.to_dict(), self.opponent: self.sequential.to_dict(),
                "wall_speedup": self.wall_speedup,
                "theoretical_speedup": self.theoretical_speedup, "race": self.race}


@dataclass
class MethodsRace:
    """A methods race (mode "methods"): two to four decoding methods (`settings.METHODS`) on
    the same request in lockstep. Every speed-up is against the `reference` run, sequential
    decoding when it races, else the first method: its tokens ÷ a run's steps (theoretical),
    its seconds ÷ the run's (wall-clock), and the verdict of the same honest figures a
    two-run race reports (`Comparison.race`, `metrics.race_figures`)."""

    runs: dict[str, Trace]  # method name → its trace, in METHODS' order

    def __post_init__(self) -> None:
        self.runs = {m: self.runs[m] for m in METHODS if m in self.runs}

    @property
    def reference(self) -> str:
        return "sequential" if "sequential" in self.runs else next(iter(self.runs))

    def row(self, name: str) -> dict[str, Any]:
        """One method's figures against the reference."""
        t, ref = self.runs[name], self.runs[self.reference]
        row = {"method": name, "label": METHODS[name].label, "model": t.model,
               "steps": t.steps, "tokens_total": t.tokens_total, "wall_s": t.wall_s,
               "theoretical_speedup": metrics.theoretical_speedup(ref.tokens_total, t.steps),
               "wall_speedup": metrics.wall_speedup(ref.wall_s, t.wall_s),
               "reference": name == self.reference, "race": None}
        if name != self.reference:
            row["race"] = Comparison(t, ref).race
        return row

    @property
    def table(self) -> list[dict[str, Any]]:
        return [self.row(m) for m in self.runs]

    def to_dict(self) -> dict[str, Any]:
        return {"methods": list(self.runs), "reference": self.reference, "table": self.table,
                "runs": {m: t.to_dict() for m, t in self.runs.items()}}

"""Lanes: every thread of a run as its own lane, drawn as HTML from the event stream.

`RunView` follows one run's events (the very events the HTTP API streams) and keeps what a lane
shows: topic, state, text, and for the main thread its promise placeholders and sync points.
Its numbers (tokens, steps, times) come from a `TraceBuilder` fed the same events, and from the
run's Trace once it is done, so the lanes, the charts and the CLI agree.

`render_board` draws the views as HTML whose structure only grows (fixed lane order, one element
per lane, text appended): Gradio's HTML component patches its DOM in place, so nothing flickers.
`recording` packs the events the race replay (assets/replay.js) needs, with their timestamps.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

from pasta_core import metrics
from pasta_core.events import (
    Done,
    Event,
    RunStart,
    Step,
    ThreadEnd,
    ThreadResume,
    ThreadStart,
    ThreadWait,
    Tokens,
    Trace,
    TraceBuilder,
)

RUN_LABELS = {"pasta": "PASTA", "sequential": "Sequential", "plain": "Plain"}
MAIN_COLOR = "#475569"
PROMPT_COLOR = "#cbd5e1"
CHUNK_COLORS = ("#f97316", "#0ea5e9", "#22c55e", "#a855f7", "#ef4444", "#eab308", "#14b8a6",
                "#ec4899", "#6366f1", "#84cc16")
STATE_LABELS = {"queued": "queued", "running": "running", "waiting": "waiting at sync",
                "done": "done", "pending": "waits for the slot"}


def thread_color(tid: int) -> str:
    """The colour of a thread everywhere (lanes, charts, heatmaps): main slate, chunks cycle."""
    return MAIN_COLOR if tid == 0 else CHUNK_COLORS[(tid - 1) % len(CHUNK_COLORS)]


@dataclass
class Lane:
    id: int
    parent: int | None
    topic: str
    promised: int | None
    state: str = "running"  # queued, running, waiting, done
    reason: str | None = None
    text: str = ""  # a chunk's body text as shown (tags held back by the interpreter)
    # the main thread: text pieces, ("promise", chunk id) and ("sync",) in order
    parts: list[Any] = field(default_factory=lambda: [""])


class RunView:
    """What the lanes of one run show, updated event by event."""

    def __init__(self, run: str):
        self.run = run
        self.builder = TraceBuilder()
        self.lanes: dict[int, Lane] = {}
        self.t = 0.0  # the latest event time of the run (seconds since it started)
        self.started = False
        self.trace: Trace | None = None
        self.events: list[list[Any]] = []  # compact events for the race replay
        self.step_threads: list[int] = []  # threads in each step, from Step events
        self.waits: list[list[Any]] = []  # [t_wait, t_resume or None, chunks waited for]
        self.tokens_curve: list[tuple[float, int]] = [(0.0, 0)]  # (t, tokens generated so far)
        self._generated = 0

    # -- events -------------------------------------------------------------------------------

    def add(self, ev: Event) -> None:
        self.t = max(self.t, ev.t)
        if isinstance(ev, Done):
            self.trace = ev.trace
            for lane in self.lanes.values():
                lane.state = "done"
            return
        self.builder.add(ev)
        t = round(ev.t, 6)
        if isinstance(ev, RunStart):
            self.started = True
        elif isinstance(ev, ThreadStart):
            self.lanes[ev.thread] = Lane(ev.thread, ev.parent, ev.topic, ev.promised_tokens,
                                         "queued" if ev.queued else "running")
            self.events.append(["s", t, ev.thread, ev.topic, ev.promised_tokens, ev.parent])
        elif isinstance(ev, Tokens):
            n = sum(lp is not None for lp in ev.logprobs)  # generated, not forced
            if n:
                self._generated += n
                self.tokens_curve.append((ev.t, self._generated))
            if ev.thread == 0:
                self._main_tokens(ev, t, n)
            else:
                self.lanes[ev.thread].text += ev.text
                self.events.append(["x", t, ev.thread, ev.text, n])
        elif isinstance(ev, Step):
            self.step_threads.append(len(ev.threads))
            for tid in ev.threads:
                if self.lanes[tid].state == "queued":
                    self.lanes[tid].state = "running"
                    self.events.append(["q", t, tid])
            self.events.append(["t", t, ev.step])
        elif isinstance(ev, ThreadWait):
            self.lanes[ev.thread].state = "waiting"
            self.waits.append([ev.t, None, list(ev.waiting_for)])
            self.events.append(["w", t, ev.thread, list(ev.waiting_for)])
        elif isinstance(ev, ThreadResume):
            self.lanes[ev.thread].state = "running"
            if self.waits and self.waits[-1][1] is None:
                self.waits[-1][1] = ev.t
            self.events.append(["r", t, ev.thread])
        elif isinstance(ev, ThreadEnd):
            lane = self.lanes[ev.thread]
            lane.state, lane.reason = "done", ev.reason
            self.events.append(["e", t, ev.thread, ev.reason])

    def _main_tokens(self, ev: Tokens, t: float, n: int) -> None:
        parts = self.lanes[0].parts
        last = 0
        for tag in ev.tags:
            piece = ev.text[last:tag["at"]]
            parts[-1] += piece
            if tag["kind"] == "promise":
                parts += [("promise", tag["thread"]), ""]
                self.events.append(["x", t, 0, piece, 0])
                self.events.append(["p", t, 0, tag["thread"]])
            elif tag["kind"] == "sync":
                parts += [("sync", len(parts)), ""]  # unique: the lane marks the one it waits at
                self.events.append(["x", t, 0, piece, 0])
                self.events.append(["y", t, 0])
            last = tag["at"]
        parts[-1] += ev.text[last:]
        self.events.append(["x", t, 0, ev.text[last:], n])

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

    def chunk_text(self, tid: int) -> str:
        lane = self.lanes.get(tid)
        return lane.text if lane is not None else ""

    def recording(self) -> dict[str, Any]:
        threads = [{"id": la.id, "topic": la.topic, "promised": la.promised,
                    "color": thread_color(la.id)} for la in self.lanes.values()]
        return {"run": self.run, "label": RUN_LABELS.get(self.run, self.run),
                "threads": threads, "events": self.events, "wall_s": self.wall_s,
                "steps": self.steps, "tokens": self.tokens}


class Board:
    """The lanes of one request: a RunView per run (two for mode "both")."""

    def __init__(self, mode: str, model: str):
        self.mode = mode
        self.model = model
        runs = ("pasta", "sequential") if mode == "both" else (mode,)
        self.views: dict[str, RunView] = {r: RunView(r) for r in runs}
        self.stopped = False

    def add(self, ev: Event) -> None:
        self.views[ev.run].add(ev)

    @property
    def done(self) -> bool:
        return all(v.done for v in self.views.values())

    @property
    def current(self) -> RunView | None:
        for v in self.views.values():
            if v.started and not v.done:
                return v
        return None

    def recording(self) -> str:
        runs = [v.recording() for v in self.views.values() if v.started]
        return json.dumps({"mode": self.mode, "model": self.model, "runs": runs,
                           "duration": max((r["wall_s"] for r in runs), default=0.0)},
                          separators=(",", ":"))


# -- HTML ------------------------------------------------------------------------------------

def _e(s: str) -> str:
    return html.escape(s, quote=True)


def _lane_html(view: RunView, lane: Lane, inline_chunks: bool, board_state: str) -> str:
    state = lane.state if board_state != "stopped" or lane.state == "done" else "done"
    is_main = lane.id == 0
    tokens = view.thread_tokens(lane.id)
    elapsed = view.thread_elapsed(lane.id)
    if is_main:
        title = "main thread" if view.run == "pasta" else "one token per step"
        body = _main_text_html(view, lane, inline_chunks)
        bar = ""
        promised = ""
    else:
        title = lane.topic or "(no topic)"
        body = _e(lane.text)
        promised = f"<span class='lane-prom'>of ~{lane.promised} promised</span>" \
            if lane.promised is not None else ""
        pct = 100.0 if state == "done" else min(100.0, 100.0 * tokens / max(1, lane.promised or 50))
        bar = f"<div class='lane-bar'><i style='width:{pct:.1f}%'></i></div>"
    label = STATE_LABELS.get(state, state)
    if state == "done" and lane.reason and lane.reason not in ("close_tag", "eos", "forced_end"):
        label = f"done · {lane.reason.replace('_', ' ')}"
    if board_state == "stopped" and lane.state != "done":
        label = "stopped"
    cls = "lane lane-main" if is_main else "lane"
    return (
        f"<article class='{cls} st-{state}' data-thread='{lane.id}' data-state='{state}' "
        f"style='--c:{thread_color(lane.id)}'>"
        f"<div class='lane-head'><span class='lane-dot'></span>"
        f"<span class='lane-topic'>{_e(title)}</span>"
        f"<span class='lane-state'>{_e(label)}</span></div>"
        f"<div class='lane-meta'><span class='lane-tok' data-tokens='{tokens}'>{tokens} tok</span>"
        f"{promised}<span class='lane-time'>{elapsed:.2f} s</span></div>{bar}"
        f"<div class='lane-text'><div class='lane-inner'>{body}</div></div></article>"
    )


def _main_text_html(view: RunView, lane: Lane, inline_chunks: bool) -> str:
    out = []
    for p in lane.parts:
        if isinstance(p, str):  # always an element, even empty: the DOM diff is positional
            out.append(f"<span class='t'>{_e(p)}</span>")
        elif p[0] == "sync":
            waiting = lane.state == "waiting" and p is _last_sync(lane)
            out.append(f"<span class='sync{' sync-wait' if waiting else ''}' "
                       "title='sync: wait for every chunk promised so far'>⇥ sync</span>")
        else:
            tid = p[1]
            chunk = view.lanes.get(tid)
            color = thread_color(tid)
            ended = chunk is not None and chunk.state == "done"
            text = view.chunk_text(tid)
            if inline_chunks:  # sequential: the chunk is written right here, in order
                out.append(f"<span class='ph ph-inline' style='--c:{color}'>{_e(text)}</span>")
            elif ended:
                out.append(f"<span class='ph ph-filled' style='--c:{color}' "
                           f"data-chunk='{tid}'>{_e(text)}</span>")
            else:
                topic = chunk.topic if chunk is not None else ""
                out.append(f"<span class='ph ph-pending' style='--c:{color}' data-chunk='{tid}' "
                           f"title='promise: filled when its chunk ends'>⟨{_e(topic)}⟩</span>")
    return "".join(out)


def _last_sync(lane: Lane) -> Any:
    for p in reversed(lane.parts):
        if isinstance(p, tuple) and p[0] == "sync":
            return p
    return None


def _run_html(view: RunView, board: Board, pending_note: str = "") -> str:
    label = RUN_LABELS.get(view.run, view.run)
    if board.stopped and not view.done:
        state = "stopped"
    elif view.done:
        state = "done"
    elif view.started:
        state = "running"
    else:
        state = "pending"
    stats = (f"<span data-k='steps'>{view.steps} steps</span>"
             f"<span data-k='tokens'>{view.tokens} tokens</span>"
             f"<span data-k='wall'>{view.wall_s:.2f} s</span>")
    head = (f"<header class='run-head'><span class='run-name'>{label}</span>"
            f"<span class='run-stats'>{stats}</span>"
            f"<span class='run-state rs-{state}'>{STATE_LABELS.get(state, state)}</span></header>")
    if view.run != "pasta":  # one lane: the thread writes everything in order
        main = view.lanes.get(0)
        if main is None:
            note = pending_note or "starts when the decoding slot is free"
            body = f"<div class='lane lane-main lane-placeholder'><div class='lane-text'>{note}" \
                   "</div></div>"
        else:
            body = _lane_html(view, main, True, state)
        return f"<section class='run run-{view.run}' data-run='{view.run}'>{head}{body}</section>"
    main = view.lanes.get(0)
    if main is None:
        body = "<div class='lane lane-main lane-placeholder'><div class='lane-text'>" \
               "waiting for the decoding slot…</div></div>"
        chunks = ""
    else:
        body = _lane_html(view, main, False, state)
        chunks = "".join(_lane_html(view, la, False, state)
                         for tid, la in sorted(view.lanes.items()) if tid != 0)
    return (f"<section class='run run-pasta' data-run='pasta'>{head}{body}"
            f"<div class='chunks'>{chunks}</div></section>")


def render_board(board: Board | None) -> str:
    if board is None:
        return EMPTY_BOARD
    runs = "".join(_run_html(v, board, "runs right after PASTA, in the same decoding slot: "
                             "same machine, honest timings") for v in board.views.values())
    return f"<div class='board board-{board.mode}' data-mode='{board.mode}'>{runs}</div>"


EMPTY_BOARD = (
    "<div class='board board-empty'><div class='empty-hint'>"
    "<b>Pick an example and press Run.</b> Every thread the model starts becomes a lane here: "
    "the main thread makes <i>promises</i>, each promise starts a lane that writes its part "
    "while the main thread goes on, and a <i>sync</i> waits for them. With mode "
    "<b>both</b>, the same request is then decoded one token at a time in its own lane."
    "</div></div>"
)

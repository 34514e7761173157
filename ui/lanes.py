"""Lanes: every thread of a run as its own lane, drawn as HTML from the live view.

The model is `pasta_core.view` (`RequestView` → one `RunView` per run: threads and their
state, the main thread's parts and placeholders, numbers from the TraceBuilder and the Trace);
this file only draws it, so the lanes, the charts and the CLI agree.

`render_board` draws the views as HTML whose structure only grows (fixed lane order, one element
per lane, text appended): Gradio's HTML component patches its DOM in place, so nothing flickers.
`recording` packs the race replay's schema (assets/replay.js reads its fields by name).
"""

from __future__ import annotations

import html
import json

from pasta_core.lang import DEFAULT_TOKENS
from pasta_core.view import RequestView, RunView, ThreadView

MAIN_COLOR = "#475569"
PROMPT_COLOR = "#cbd5e1"
CHUNK_COLORS = ("#f97316", "#0ea5e9", "#22c55e", "#a855f7", "#ef4444", "#eab308", "#14b8a6",
                "#ec4899", "#6366f1", "#84cc16")
STATE_LABELS = {"queued": "queued", "running": "running", "waiting": "waiting at sync",
                "done": "done", "pending": "waits for the slot"}


def thread_color(tid: int) -> str:
    """The colour of a thread everywhere (lanes, charts, heatmaps): main slate, chunks cycle."""
    return MAIN_COLOR if tid == 0 else CHUNK_COLORS[(tid - 1) % len(CHUNK_COLORS)]


# -- HTML ------------------------------------------------------------------------------------

def _e(s: str) -> str:
    return html.escape(s, quote=True)


def _lane_html(view: RunView, lane: ThreadView, inline_chunks: bool, board_state: str) -> str:
    state = lane.state if board_state != "stopped" or lane.state == "done" else "done"
    is_main = lane.id == 0
    # a sequential run's one lane writes every thread in order: its count is the run's, the
    # same as the run's header (a main-thread count here would say 18 under a header of 78)
    tokens = view.tokens if is_main and inline_chunks else view.thread_tokens(lane.id)
    elapsed = view.thread_elapsed(lane.id)
    if is_main:
        title = {"pasta": "main thread", "sot": "skeleton"}.get(view.mode, "one token per step")
        body = _main_text_html(view, lane, inline_chunks)
        bar = ""
        promised = ""
    else:
        title = lane.topic or "(no topic)"
        # the separator before a part ("\n\n") belongs to the part; in its own lane it would
        # only push the text down
        body = _e(lane.text.lstrip("\n"))
        promises = view.mode != "sot"  # an SoT point promised nothing: it runs to its end
        promised = f"<span class='lane-prom'>of ~{lane.promised} promised</span>" \
            if lane.promised is not None and promises else ""
        goal = max(1, lane.promised or DEFAULT_TOKENS)
        pct = 100.0 if state == "done" else min(100.0, 100.0 * tokens / goal)
        bar = f"<div class='lane-bar'><i style='width:{pct:.1f}%'></i></div>" if promises else ""
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


def _main_text_html(view: RunView, lane: ThreadView, inline_chunks: bool) -> str:
    out = []
    for p in lane.parts:
        if isinstance(p, str):  # always an element, even empty: the DOM diff is positional
            out.append(f"<span class='t'>{_e(p)}</span>")
        elif p.kind == "sync":
            waiting = lane.state == "waiting" and p is lane.last_sync
            out.append(f"<span class='sync{' sync-wait' if waiting else ''}' "
                       "title='sync: wait for every chunk promised so far'>⇥ sync</span>")
        else:
            tid = p.chunk
            assert tid is not None
            chunk = view.threads.get(tid)
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


def _run_html(view: RunView, board: RequestView, pending_note: str = "") -> str:
    label = view.label
    if board.stopped and not view.done:
        state = "stopped"
    elif view.done:
        state = "done"
    elif view.started:
        state = "running"
    else:
        state = "pending"
    f = view.figures()
    stats = (f"<span data-k='steps'>{f.steps} steps</span>"
             f"<span data-k='tokens'>{f.tokens_total} tokens</span>"
             f"<span data-k='wall'>{f.wall_s:.2f} s</span>")
    head = (f"<header class='run-head'><span class='run-name'>{label}</span>"
            f"<span class='run-stats'>{stats}</span>"
            f"<span class='run-state rs-{state}'>{STATE_LABELS.get(state, state)}</span></header>")
    if not view.lanes:  # one lane: the thread writes everything in order
        main = view.threads.get(0)
        if main is None:
            note = pending_note or "starts when the decoding slot is free"
            body = f"<div class='lane lane-main lane-placeholder'><div class='lane-text'>{note}" \
                   "</div></div>"
        else:
            body = _lane_html(view, main, True, state)
        return f"<section class='run run-{view.run}' data-run='{view.run}'>{head}{body}</section>"
    main = view.threads.get(0)
    if main is None:
        body = "<div class='lane lane-main lane-placeholder'><div class='lane-text'>" \
               "waiting for the decoding slot…</div></div>"
        chunks = ""
    else:
        body = _lane_html(view, main, False, state)
        chunks = "".join(_lane_html(view, la, False, state)
                         for tid, la in sorted(view.threads.items()) if tid != 0)
    return (f"<section class='run run-{view.run} run-lanes' data-run='{view.run}'>{head}{body}"
            f"<div class='chunks'>{chunks}</div></section>")


def render_board(board: RequestView | None) -> str:
    if board is None:
        return EMPTY_BOARD
    note = ("races PASTA in the same decoding slot, one step of each in turn: same machine, "
            "honest timings")
    runs = "".join(_run_html(v, board, note) for v in board.runs.values())
    return f"<div class='board board-{board.mode}' data-mode='{board.mode}'>{runs}</div>"


EMPTY_BOARD = (
    "<div class='board board-empty'><div class='empty-hint'>"
    "<b>Pick an example and press Run.</b> Every thread the model starts becomes a lane here: "
    "the main thread makes <i>promises</i>, each promise starts a lane that writes its part "
    "while the main thread goes on, and a <i>sync</i> waits for them. With mode "
    "<b>both</b>, the same request is then decoded one token at a time in its own lane."
    "</div></div>"
)


def recording(board: RequestView) -> str:
    """The race replay's recording as JSON (named fields; the threads carry their colours)."""
    return json.dumps(board.replay(thread_color), separators=(",", ":"))

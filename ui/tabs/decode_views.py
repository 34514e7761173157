"""What the Decode tab shows, as pure functions of the live view (`pasta_core.view`): the status
line, the answer, the annotated text, and step mode's explanation, mask and lanes."""

from __future__ import annotations

import html

import plotly.graph_objects as go

from pasta_core.events import MethodsRace
from pasta_core.settings import METHODS
from pasta_core.view import RequestView

from .. import charts
from ..jobs import JobQueue
from ..lanes import render_board, thread_color
from ..stepper import StepSession

ANSWER_HINT = ("<div class='answer-text muted'>The answer appears here as it is written, in "
               "reading order.</div>")


def status_html(text: str, kind: str = "idle") -> str:
    return f"<div class='status status-{kind}' data-status='{kind}'>{text}</div>"


def force_badge(on: bool) -> str:
    """A badge over the lanes while teacher forcing is on: the lanes replay a given answer."""
    if not on:
        return ""
    return ("<div class='force-badge' data-forced='1'>⚑ Teacher-forced: every thread follows "
            "the annotated answer under the prompt, not the model's own writing. Type a new "
            "prompt to turn it off.</div>")


def board_status(view: RequestView, jobs: JobQueue, joined: bool = True) -> str:
    """The status line; `joined`: the request's job is in the line (counted in the queue)."""
    if view.stopped and not view.done:
        return stopped_status(view)
    cur = view.current
    if cur is None and not view.done:
        q = jobs.status()
        ahead = q["running"] + q["waiting"] - joined
        if ahead > 0:
            return status_html(f"… Waiting for the decoding slot ({ahead} request(s) ahead)…",
                               "waiting")
        loaded = jobs.registry.is_loaded(view.model)
        return status_html("… Starting" if loaded else "… Loading the model", "waiting")
    if cur is not None:
        label = ({"pasta": "PASTA", "sequential": "sequential decoding"}.get(cur.run, cur.run)
                 if view.mode != "methods" else f"{len(view.runs)} methods in lockstep")
        f = cur.figures()
        return status_html(f"<span class='spinner'></span> Decoding with {label} — step "
                           f"{f.steps}, {f.tokens_total} tokens, {f.wall_s:.2f} s", "running")
    comp = view.comparison()
    if isinstance(comp, MethodsRace):
        return status_html(methods_verdict(comp), "done")
    if comp is not None:
        return status_html(race_verdict(comp), "done")
    f = view.primary.figures()
    return status_html(f"✓ Done: {f.steps} steps, {f.tokens_total} tokens, {f.wall_s:.2f} s "
                       f"({f.end_reason}).", "done")


RUN_NAMES = {"pasta": "PASTA", "sequential": "sequential decoding", "plain": "plain decoding"}


def stopped_status(view: RequestView) -> str:
    """A stopped request in words: what finished (still shown) and what was cut (marked)."""
    started = [v for v in view.runs.values() if v.started]
    if not started:
        return status_html("■ Stopped before the first token: nothing was decoded. The "
                           "decoding slot is free again.", "stopped")
    said = []
    for v in view.runs.values():
        name = RUN_NAMES.get(v.run, v.label) if view.mode != "methods" else v.label
        f = v.figures()
        if v.done:
            said.append(f"{name} finished ({f.steps} steps, {f.tokens_total} tokens)")
        elif v.started:
            said.append(f"{name} was cut at step {f.steps} ({f.tokens_total} tokens; its lanes "
                        "are marked stopped)")
        else:
            said.append(f"{name} never started")
    return status_html(f"■ Stopped: {'; '.join(said)}. Nothing here is a race result. The "
                       "decoding slot is free again.", "stopped")


def race_verdict(comp) -> str:
    """The race's result in words, never a claim the run did not earn (`metrics.race_figures`:
    the same figures as `decode --mode both --json`'s `race`)."""
    r = comp.race
    rival = ("sequential decoding" if comp.opponent == "sequential" else
             f"the base model <code>{html.escape(comp.sequential.model)}</code>, plainly,")
    runs = (f"PASTA took <b>{comp.pasta.steps}</b> steps and <b>{comp.pasta.wall_s:.2f} s</b>; "
            f"{rival} <b>{comp.sequential.steps}</b> steps and "
            f"<b>{comp.sequential.wall_s:.2f} s</b>")
    band = f"±{r['band'] * 100:.0f}%"
    if r["verdict"] == "unequal work":
        return (f"✓ Done. {runs}. <span data-verdict='unequal'><b>Not a fair race:</b> the "
                f"answers differ in length (PASTA {len(comp.pasta.text)} characters, the other "
                f"{len(comp.sequential.text)}), so the wall-clock ratio "
                f"({r['wall']:.2f}×) compares unequal work.</span> Race PASTA against itself "
                "(mode “Both”) to see what the schedule alone buys.")
    if r["verdict"] == "busy":
        return (f"✓ Done. {runs}. <span data-verdict='busy'><b>The machine was busy:</b> the "
                f"wall-clock ratio {r['wall']:.2f}× (these steps should give "
                f"{r['expected']:.2f}×) is outside this run's noise ({band}), or the noise is "
                "too wide to measure anything, so it is not a result.</span> In theory: "
                f"<b>{r['theoretical']:.2f}×</b>. Race again, or read the replay below for the "
                "schedule.")
    if r["verdict"] == "no speed-up":
        return (f"✓ Done. {runs}. <span data-verdict='none'><b>No speed-up</b> on this prompt: "
                f"wall-clock {r['wall']:.2f}×, within this run's noise ({band}) of 1; "
                f"{r['theoretical']:.2f}× in theory.</span>")
    return (f"✓ Done. {runs}: <span data-verdict='faster'><b>{r['wall']:.2f}×</b> faster "
            f"wall-clock</span> (expected {r['expected']:.2f}×: {r['theoretical']:.2f}× fewer "
            f"steps in theory, each costing {r['cost_ratio']:.2f}× a sequential step; noise "
            f"{band}). Watch the race replay below.")


def methods_verdict(race: MethodsRace) -> str:
    """A methods race in one line: each method's steps and what its clock may claim (the
    table under "Numbers" has every figure)."""
    ref = METHODS[race.reference].label
    said = []
    for r in race.table:
        if r["reference"]:
            said.append(f"{r['label']} <b>{r['steps']}</b> steps, {r['wall_s']:.2f} s")
            continue
        v = r["race"]["verdict"]
        claim = (f"<b>{r['wall_speedup']:.2f}×</b> faster" if v == "faster" else
                 f"{r['wall_speedup']:.2f}× ({v})")
        said.append(f"{r['label']} <b>{r['steps']}</b> steps, {r['wall_s']:.2f} s: {claim}")
    return (f"✓ Done, raced step by step in one slot, against {ref.lower()}. "
            f"{'; '.join(said)}. The methods table has every figure.")


def answer_md(view: RequestView | None) -> str:
    """The spliced answer as plain text (escaped, line breaks kept): a model's "-" or "#"
    never turns into a Markdown heading or list."""
    if view is None:
        return ANSWER_HINT
    text = view.primary.spliced
    if not text.strip():
        return "<div class='answer-text muted'>…</div>"
    return f"<div class='answer-text'>{html.escape(text)}</div>"


def annotated(view: RequestView | None) -> str:
    if view is None:
        return ""
    tr = view.primary.trace
    return tr.annotated if tr is not None else ""


# -- step mode ---------------------------------------------------------------------------------

def step_info(st: StepSession | None, idle_s: float | None = None) -> str:
    if st is None:
        idle = f"{int(idle_s)} s" if idle_s is not None else "a while"
        return ("<div class='stepinfo muted'>Start a stepped PASTA run with the prompt, model, "
                "settings and forcing above; each press of <b>Next step</b> runs ONE forward "
                "pass of every thread that has a token to feed, and shows its attention mask. "
                "Each press takes the decoding slot for its step only; the run keeps its cache "
                f"until it ends, you end it, or {idle} pass without a press.</div>")
    step = st.last_step
    if step is None:
        prompt_n = sum(1 for o in st.owners if o < 0)
        return (f"<div class='stepinfo'><b>Prefill done:</b> the prompt's {prompt_n} tokens "
                "are in the cache and the main thread chose its first token. Press <b>Next "
                "step</b>.</div>")
    parts = []
    for tid, n, pos in zip(step.threads, step.n_tokens, step.positions, strict=True):
        th = st.view.threads.get(tid)
        name = "main" if tid == 0 else f"#{tid} {th.topic if th else ''}"
        parts.append(f"<span class='chip' style='--c:{thread_color(tid)}'>{name}: {n} token"
                     f"{'s' if n != 1 else ''} at position{'s' if n != 1 else ''} "
                     f"{', '.join(map(str, pos[:8]))}{'…' if len(pos) > 8 else ''}</span>")
    end = ""
    if st.closed:
        end = f" — <b>run ended ({st.end_reason})</b>, its cache freed"
    return (f"<div class='stepinfo'><b>Step {step.step}</b>: {len(step.threads)} thread(s) "
            f"in one forward pass, {sum(step.n_tokens)} token(s), {step.latency_s * 1000:.1f} ms"
            f"{end}<div class='chips'>{''.join(parts)}</div></div>")


def step_figure(st: StepSession | None) -> go.Figure:
    if st is None or st.last_step is None or st.last_step.visible is None:
        return charts.empty_figure("This step's attention mask",
                                   "Start step mode and press Next step.")
    step = st.last_step
    width = len(st.owners)
    names = {tid: "main" if tid == 0 else f"#{tid} {st.view.threads[tid].topic}"[:16]
             for tid in step.threads}
    rows = [f"{names[tid]} @{p}" for tid, pos in zip(step.threads, step.positions, strict=True)
            for p in pos]
    rows = [f"{i + 1}. {r}" for i, r in enumerate(rows)]  # numbered: labels must be unique
    cols = [f"slot {k}" for k in range(width)]
    return charts.mask_heatmap(step.visible, st.owners[:width], rows, cols,
                               f"Step {step.step}: tokens fed (rows) × cache slots they attend to",
                               height=min(560, 240 + 22 * len(rows)))


def step_lanes(st: StepSession | None) -> str:
    if st is None:
        return ""
    view = RequestView("pasta", st.req.model)
    view.runs["pasta"] = st.view
    view.stopped = st.closed and st.view.trace is None
    return render_board(view)

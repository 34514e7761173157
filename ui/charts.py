"""Plotly charts and summary cards of a run — every number from the events, the Trace, the
Comparison and `pasta_core.metrics`; nothing here re-derives a timing or a count of its own."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pasta_core import metrics
from pasta_core.events import Comparison, MethodsRace
from pasta_core.settings import METHODS
from pasta_core.view import RunView

from .lanes import PROMPT_COLOR, thread_color

RUN_COLORS = {"pasta": "#ea580c", "sequential": "#64748b", "plain": "#64748b",
              "sot": "#7c3aed", "apar": "#0f766e"}
FONT = dict(family="Inter, ui-sans-serif, system-ui, sans-serif", size=12, color="#334155")


def _layout(fig: go.Figure, title: str, height: int = 360, **kw: Any) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0.01, xanchor="left", font=dict(size=14)),
        template="plotly_white", height=height, font=FONT,
        # the legend sits at the figure's foot: above the plot it wraps into the title and
        # the subplot titles on a phone (390 px), where two rows of it cover them
        margin=dict(l=56, r=16, t=48, b=92),
        legend=dict(orientation="h", yref="container", yanchor="bottom", y=0.0,
                    xanchor="left", x=0.0),
        hoverlabel=dict(font_size=12), **kw)
    return fig


def empty_figure(title: str, note: str = "Run a prompt to see this chart.") -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=note, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font=dict(size=13, color="#94a3b8"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, height=260)


# -- the three charts of a run --------------------------------------------------------------

def tokens_over_time(views: Sequence[RunView]) -> go.Figure:
    """Tokens generated so far against wall-clock time, one line per run (from the Tokens
    events' timestamps; each line ends at its Trace's tokens_total and wall_s)."""
    fig = go.Figure()
    for v in views:
        if not v.started:
            continue
        ts = [t for t, _ in v.tokens_curve]
        ns = [n for _, n in v.tokens_curve]
        if v.trace is not None:
            ts.append(v.trace.wall_s)
            ns.append(v.trace.tokens_total)
        label = v.label
        name = f"{label} · {v.trace.wall_s:.2f} s" if v.trace is not None else label
        fig.add_trace(go.Scatter(
            x=ts, y=ns, mode="lines", line_shape="hv", name=name,
            line=dict(color=RUN_COLORS.get(v.run, "#334155"), width=3),
            hovertemplate=f"{label}<br>%{{x:.3f}} s: %{{y}} tokens<extra></extra>"))
        if v.trace is not None:  # the finish line: where the run's Trace says it ended
            fig.add_trace(go.Scatter(
                x=[v.trace.wall_s], y=[v.trace.tokens_total], mode="markers",
                marker=dict(size=10, color=RUN_COLORS.get(v.run, "#334155"), symbol="circle",
                            line=dict(color="white", width=2)),
                showlegend=False, hovertemplate=f"{label} done: %{{y}} tokens in %{{x:.3f}} s"
                                                "<extra></extra>"))
    fig.update_xaxes(title_text="seconds since the run started", rangemode="tozero")
    fig.update_yaxes(title_text="tokens generated", rangemode="tozero")
    return _layout(fig, "Tokens over time — " + " vs ".join(v.label for v in views if v.started))


def timeline(views: Sequence[RunView]) -> go.Figure:
    """Each thread as a bar from its start to its end (Trace threads' start_s/end_s), forks
    (a chunk starts) and joins (the main thread resumes after a sync) marked on the main row,
    and the main thread's waits at sync points (the view's `waits`) hatched."""
    runs = [v for v in views if v.trace is not None]
    if not runs:
        return empty_figure("Timeline of threads")
    fig = make_subplots(rows=len(runs), cols=1, shared_xaxes=True, vertical_spacing=0.12,
                        row_heights=[max(1, len(v.trace.threads)) for v in runs],
                        subplot_titles=[v.label for v in runs])
    legend_done: set[str] = set()

    def once(name: str) -> bool:
        first = name not in legend_done
        legend_done.add(name)
        return first

    for row, v in enumerate(runs, start=1):
        names = [_thread_name(th.id, th.topic) for th in v.trace.threads]
        for trace in (*_thread_bars(v, names), *_marks(v, names, once)):
            fig.add_trace(trace, row=row, col=1)
        fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=names,
                         row=row, col=1)
    fig.update_xaxes(title_text="seconds since the run started", rangemode="tozero",
                     row=len(runs), col=1)
    height = 140 + 26 * sum(len(v.trace.threads) for v in runs) + 40 * len(runs)
    return _layout(fig, "Timeline of threads — forks and joins", height=min(760, height),
                   barmode="overlay")


def _thread_bars(v: RunView, names: list[str]) -> list[go.Bar]:
    """One bar per thread, from its start to its end."""
    tr = v.trace
    assert tr is not None
    bars = []
    for th, name in zip(tr.threads, names, strict=True):
        end = th.end_s if th.end_s is not None else tr.wall_s
        bars.append(go.Bar(
            y=[name], x=[max(end - th.start_s, 1e-4)], base=[th.start_s], orientation="h",
            marker=dict(color=thread_color(th.id), line=dict(width=0)), width=0.6,
            name=name, showlegend=False,
            customdata=[[th.start_s, end, metrics.tokens_total([th])]],
            hovertemplate=(f"{html.escape(name)}<br>%{{customdata[0]:.3f}} → "
                           "%{customdata[1]:.3f} s<br>%{customdata[2]} tokens<extra></extra>")))
    return bars


def _marks(v: RunView, names: list[str],
           once: Callable[[str], bool]) -> list[go.Bar | go.Scatter]:
    """On the main row: its waits at syncs (hatched), forks (a chunk starts), joins."""
    tr = v.trace
    assert tr is not None
    out: list[go.Bar | go.Scatter] = []
    for w in v.waits:
        resume = w.end if w.end is not None else tr.wall_s
        out.append(go.Bar(
            y=[names[0]], x=[max(resume - w.start, 1e-4)], base=[w.start], orientation="h",
            width=0.6, marker=dict(color="rgba(255,255,255,0.55)",
                                   pattern=dict(shape="/", fgcolor="#475569")),
            name="waiting at sync", showlegend=once("wait"),
            hovertemplate="main waits at sync %{base:.3f} → %{x:.3f} s<extra></extra>"))
    forks = tr.threads[1:]
    if forks:
        out.append(go.Scatter(
            x=[th.start_s for th in forks], y=[names[0]] * len(forks), mode="markers",
            marker=dict(symbol="triangle-down", size=11,
                        color=[thread_color(th.id) for th in forks],
                        line=dict(color="#0f172a", width=1)),
            name="fork (promise)", showlegend=once("fork"),
            text=[names[th.id] for th in forks],
            hovertemplate="fork: %{text} starts at %{x:.3f} s<extra></extra>"))
    joins = [w.end for w in v.waits if w.end is not None]
    if joins:
        out.append(go.Scatter(
            x=joins, y=[names[0]] * len(joins), mode="markers",
            marker=dict(symbol="diamond", size=11, color="#0f172a"),
            name="join (sync)", showlegend=once("join"),
            hovertemplate="join: main resumes at %{x:.3f} s<extra></extra>"))
    return out


def step_chart(views: Sequence[RunView]) -> go.Figure:
    """Threads in each step (Step events) and each step's latency (Trace.step_latency_s)."""
    runs = [v for v in views if v.trace is not None]
    if not runs:
        return empty_figure("Threads per step and step latency")
    fig = make_subplots(rows=2, cols=1, shared_xaxes=False, vertical_spacing=0.2,
                        subplot_titles=["threads in each step", "step latency (ms)"])
    for v in runs:
        tr = v.trace
        assert tr is not None
        label = v.label
        color = RUN_COLORS.get(v.run, "#334155")
        xs = list(range(1, tr.steps + 1))
        fig.add_trace(go.Bar(x=xs, y=v.step_threads, name=label, marker_color=color,
                             opacity=0.85 if v.run == "pasta" else 0.45, legendgroup=v.run,
                             hovertemplate=f"{label} step %{{x}}: %{{y}} threads<extra></extra>"),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=xs, y=[s * 1000 for s in tr.step_latency_s], mode="lines",
                                 name=label, line=dict(color=color, width=1.5),
                                 legendgroup=v.run, showlegend=False,
                                 hovertemplate=f"{label} step %{{x}}: %{{y:.2f}} ms"
                                               "<extra></extra>"), row=2, col=1)
    fig.update_xaxes(title_text="step", row=2, col=1)
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_yaxes(rangemode="tozero", row=2, col=1)
    return _layout(fig, "Threads per step and step latency", height=420, barmode="overlay")


def _thread_name(tid: int, topic: str) -> str:
    return "main" if tid == 0 else f"#{tid} {topic}"[:28]


# -- summary cards ---------------------------------------------------------------------------

def _fmt(v: float, unit: str = "", digits: int = 2) -> str:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return "–"
    return f"{v:.{digits}f}{unit}" if isinstance(v, float) else f"{v}{unit}"


def _card(title: str, big: str, sub: str, metric: str, value: Any, accent: bool = False,
          cls: str = "") -> str:
    cls = " ".join(c for c in ("card", "card-accent" if accent else "", cls) if c)
    return (f"<div class='{cls}' data-metric='{metric}' data-value='{html.escape(repr(value))}'>"
            f"<div class='card-title'>{title}</div><div class='card-big'>{big}</div>"
            f"<div class='card-sub'>{sub}</div></div>")


# what the headline card says when the race earned no speed-up (metrics.race_figures' verdict)
NOT_A_WIN = {"no speed-up": "No speed-up", "busy": "Busy machine", "unequal work": "Not comparable"}
NOT_A_WIN_WHY = {
    "no speed-up": "within this run's noise of 1",
    "busy": "off what these steps should give, or too noisy: not a result",
    "unequal work": "the answers differ in length: unequal work",
}


def speedup_card(comp: Comparison) -> str:
    """The race's headline: the measured wall-clock ratio as a win only when the verdict is
    "faster"; otherwise the verdict in words, the ratio small and marked as not a result."""
    r = comp.race
    rival = "sequential" if comp.opponent == "sequential" else "base"
    sub = f"{rival} {comp.sequential.wall_s:.2f} s ÷ PASTA {comp.pasta.wall_s:.2f} s"
    if r["verdict"] == "faster":
        return _card("Wall-clock speed-up", _fmt(comp.wall_speedup, "×"),
                     f"{sub} · expected {r['expected']:.2f}× ±{r['band'] * 100:.0f}%",
                     "wall_speedup", comp.wall_speedup, accent=True, cls="card-verdict-faster")
    verdict = r["verdict"]
    return _card("Wall-clock speed-up", NOT_A_WIN[verdict],
                 f"measured {_fmt(comp.wall_speedup, '×')} ({sub}), "
                 f"{NOT_A_WIN_WHY[verdict]}", "wall_speedup", comp.wall_speedup,
                 cls=f"card-verdict-{verdict.replace(' ', '-')}")


VERDICT_WORDS = {"faster": "faster", "no speed-up": "no speed-up", "busy": "busy machine",
                 "unequal work": "unequal work"}


def methods_table(race: MethodsRace, judged: Mapping[str, float] | None = None) -> str:
    """A methods race in one table: each method's steps, tokens, wall-clock time, theoretical
    and wall-clock speed-up against the reference, the verdict its figures allow (a wall
    ratio is a win only when it is "faster"), and the judge's score when the prompt is one
    the world can score (`judged`: run → score)."""
    ref = race.runs[race.reference]
    ref_label = METHODS[race.reference].label
    rows = []
    for r in race.table:
        verdict = "reference" if r["reference"] else r["race"]["verdict"]
        wall = _fmt(r["wall_speedup"], "×")
        wall = (f"<b>{wall}</b>" if verdict == "faster" else "1×" if verdict == "reference"
                else f"<span class='muted'>{wall}</span>")
        judge = (judged or {}).get(r["method"])
        judge_cell = f"<td data-k='judge'>{judge:.2f}</td>" if judge is not None else ""
        judge_attr = f" data-judge='{judge:.6f}'" if judge is not None else ""
        rows.append(
            f"<tr data-method='{r['method']}' data-steps='{r['steps']}' "
            f"data-theoretical='{r['theoretical_speedup']:.6f}' "
            f"data-wall='{r['wall_speedup']:.6f}' data-verdict='{verdict}'{judge_attr}>"
            f"<th scope='row' title='{html.escape(METHODS[r['method']].about)}'>"
            f"<span class='mt-dot' style='--c:{RUN_COLORS.get(r['method'])}'>"
            f"</span>{html.escape(r['label'])}<small>{html.escape(r['model'])}</small></th>"
            f"<td>{r['steps']}</td><td class='mt-tok'>{r['tokens_total']}</td>"
            f"<td>{r['wall_s']:.2f} s</td><td>{_fmt(r['theoretical_speedup'], '×')}</td>"
            f"<td class='v-{verdict.replace(' ', '-')}'>{wall}"
            f"<small>{VERDICT_WORDS.get(verdict, verdict)}</small></td>{judge_cell}</tr>")
    judge_head = "<th scope='col' title='the world judge, 0 to 1'>Judge</th>" if judged else ""
    why = ("the judge scores each answer against the example's facts (0–1)" if judged else
           "no judge: the prompt is not one of the examples, whose facts the world knows")
    return (f"<div class='methods-table' data-reference='{race.reference}'>"
            f"<div class='card-title'>Methods race: speed-up in theory (its steps) and on the "
            f"clock, against {ref_label.lower()}</div><div class='mt-scroll'><table>"
            f"<thead><tr><th scope='col'>Method</th><th scope='col'>Steps</th>"
            f"<th scope='col' class='mt-tok'>Tokens</th><th scope='col'>Wall</th>"
            f"<th scope='col' title='{ref_label} tokens ÷ steps'>Theory</th>"
            f"<th scope='col' title='{ref_label} seconds ÷ seconds'>Clock</th>"
            f"{judge_head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"
            f"<div class='card-sub'>Speed-ups against {ref_label.lower()} ({ref.tokens_total} "
            f"tokens, {ref.steps} steps, {ref.wall_s:.2f} s): theory = its tokens ÷ a "
            f"method's steps; clock = its seconds ÷ a method's, a win only when the steps "
            f"explain it and the answers are of equal length; {why}.</div></div>")


def summary_cards(views: Sequence[RunView], comp: Comparison | MethodsRace | None = None,
                  judged: Mapping[str, float] | None = None) -> str:
    """The numbers of a finished request, each card carrying its exact value (data-value).
    A few large headline cards (for a race: the speed-up as the verdict allows, the theory,
    time, steps; for a methods race: one table, `methods_table`; for one run: time, steps,
    tokens); every run's own figures (`RunView.figures`) fold below them."""
    done = [v for v in views if v.trace is not None]
    if not done:
        return EMPTY_SUMMARY
    traces = {v.run: v.trace for v in done}
    head: list[str] = []
    p = traces.get("pasta")
    rival = traces.get("sequential") or traces.get("plain")
    if comp is None and p is not None and rival is not None and len(done) == 2:
        comp = Comparison(p, rival, "sequential" if "sequential" in traces else "base")
    if isinstance(comp, MethodsRace):  # the table under the lanes has the rest
        for r in comp.table:
            judge = (judged or {}).get(r["method"])
            head.append(_card(r["label"], _fmt(r["theoretical_speedup"], "×"),
                              f"{r['steps']} steps · {r['wall_s']:.2f} s"
                              + (f" · judge {judge:.2f}" if judge is not None else ""),
                              f"{r['method']}.theoretical_speedup", r["theoretical_speedup"],
                              accent=r["method"] == "pasta"))
    elif comp is not None:
        p, s = comp.pasta, comp.sequential
        name = "sequential" if comp.opponent == "sequential" else "base"
        head.append(speedup_card(comp))
        head.append(_card("Theoretical speed-up", _fmt(comp.theoretical_speedup, "×"),
                          f"{s.tokens_total} {name} tokens ÷ {p.steps} PASTA steps",
                          "theoretical_speedup", comp.theoretical_speedup, accent=True))
        head.append(_card("Time", f"{p.wall_s:.2f} s", f"PASTA · {name} {s.wall_s:.2f} s, "
                          "prefill included", "time", p.wall_s))
        head.append(_card("Steps", f"{p.steps} <small>vs</small> {s.steps}",
                          f"PASTA vs {name}: forward passes after the prompt", "steps",
                          p.steps))
    else:
        f = done[0].figures()
        head.append(_card("Time", _fmt(f.wall_s, " s"), f"{done[0].label} · prefill included",
                          "time", f.wall_s))
        head.append(_card("Steps", str(f.steps), f"{f.threads - 1} async threads", "steps",
                          f.steps))
        head.append(_card("Tokens", str(f.tokens_total),
                          f"{_fmt(f.tokens_per_s, '', 1)} tokens/s", "tokens", f.tokens_total))
    rest: list[str] = []
    figures = [(v, v.figures()) for v in done]
    for v, f in figures:
        run, label = v.run, v.label
        rest.append(_card(f"{label} wall time", _fmt(f.wall_s, " s"),
                          f"prefill included · {f.end_reason}", f"{run}.wall_s", f.wall_s))
        rest.append(_card(f"{label} steps", str(f.steps),
                          f"{f.tokens_total} tokens · {f.threads - 1} async threads",
                          f"{run}.steps", f.steps))
        rest.append(_card(f"{label} tokens", str(f.tokens_total),
                          f"{_fmt(f.tokens_per_s, '', 1)} tokens/s", f"{run}.tokens_total",
                          f.tokens_total))
        rest.append(_card(f"{label} parallelism", _fmt(f.parallelism),
                          "threads fed per step", f"{run}.parallelism", f.parallelism))
    for v, f in figures:
        if v.mode == "pasta":
            rest.append(_card(f"KV entries ({v.label})", str(f.kv_tokens),
                              f"one shared cache · {f.kv_prefix_copy} if each thread copied "
                              "its prefix", f"{v.run}.kv_tokens", f.kv_tokens))
    return (f"<div class='cards cards-head'>{''.join(head)}</div>"
            f"<details class='cards-more'><summary>Every figure, per run</summary>"
            f"<div class='cards'>{''.join(rest)}</div></details>")


EMPTY_SUMMARY = ("<div class='cards cards-empty'><div class='card'><div class='card-title'>"
                 "Numbers</div><div class='card-sub'>Wall time, steps, parallelism and speed-ups "
                 "appear here when a run ends.</div></div></div>")


# -- heatmaps: a step's attention mask, the training mask ------------------------------------

def _discrete_scale(colors: Sequence[str]) -> list[list[Any]]:
    n = len(colors)
    scale: list[list[Any]] = []
    for i, c in enumerate(colors):
        scale += [[i / n, c], [(i + 1) / n, c]]
    return scale


def mask_heatmap(visible: Sequence[Sequence[int]], owners: Sequence[int], row_labels: list[str],
                 col_labels: list[str], title: str, height: int = 420) -> go.Figure:
    """Rows = tokens (queries), columns = cache slots / sequence positions (keys); a cell is
    coloured by the thread that owns the key when the row attends to it, blank otherwise.
    `owners[k]` is the thread of key k (-1 the prompt); `visible[i]` the keys row i sees."""
    threads = sorted(set(owners))
    index = {t: i for i, t in enumerate(threads)}
    colors = [PROMPT_COLOR if t < 0 else thread_color(t) for t in threads]
    z: list[list[float | None]] = []
    for row in visible:
        r: list[float | None] = [None] * len(owners)
        for k in row:
            if k < len(owners):
                r[k] = index[owners[k]]
        z.append(r)
    names = ["prompt" if t < 0 else ("main" if t == 0 else f"thread {t}") for t in threads]
    fig = go.Figure(go.Heatmap(
        z=z, x=col_labels, y=row_labels, colorscale=_discrete_scale(colors), zmin=-0.5,
        zmax=len(threads) - 0.5, showscale=False,
        xgap=1 if len(owners) <= 80 else 0, ygap=1 if len(visible) <= 80 else 0,
        customdata=[[names[index[o]] for o in owners] for _ in visible],
        hovertemplate="%{y}<br>sees %{x} (%{customdata})<extra></extra>"))
    for t, c in zip(names, colors, strict=True):  # a legend of thread colours
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=t,
                                 marker=dict(size=10, color=c, symbol="square")))
    fig.update_yaxes(autorange="reversed", showticklabels=len(row_labels) <= 48,
                     tickfont=dict(size=9), type="category")
    fig.update_xaxes(showticklabels=len(col_labels) <= 64, tickfont=dict(size=9),
                     type="category", tickangle=-60)
    return _layout(fig, title, height=height, plot_bgcolor="#f8fafc")

"""The Train tab: run both finetuning stages from the browser and watch the model learn to split.

Layout first (start model, data, stages, preset, run name; advanced settings folded away), the
live view under it (progress with time left, loss curves, stage 2's scatter of every sampled
answer with each prompt's chosen/rejected pair and each round's Pareto front, the evaluation
table), wiring last. The work happens in `ui.training` (one training slot, a worker thread that
drives `pasta_core.train`); this file only reads its progress record, about three times a
second, and draws it.
"""

from __future__ import annotations

import html
import time
from typing import Any

import gradio as gr
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from pasta_core.train.config import ConfigError, TrainConfig

from . import charts
from .config import SpaceConfig
from .sessions import Sessions
from .training import (
    ROWS,
    TABLE_COLS,
    Progress,
    Trainer,
    TrainJob,
    TrainSettings,
    check_jsonl,
    fmt,
)

TICK_S = 0.3  # progress refreshes about three times a second
SLOT_S = 5.0  # a visitor without a job sees the training slot's state this fresh
STAGE_CHOICES = [("Stage 1 + stage 2", "both"), ("Stage 1 only", "stage1"),
                 ("Stage 2 only (start from a stage-1 model)", "stage2")]
DATA_CHOICES = [("Bundled world", "world"), ("Upload a JSONL file", "upload")]
ROUND_COLORS = ["#ea580c", "#2563eb", "#7c3aed", "#0d9488", "#db2777", "#65a30d"]
CHOSEN, REJECTED = "#16a34a", "#dc2626"
# the advanced fields, in the order of the `/train` endpoint after the main ones
ADVANCED = ["examples", "seed", "lr", "epochs", "max_steps", "batch_tokens", "lora", "prompts",
            "n_samples", "lam", "beta", "alpha", "rounds", "lr2", "epochs2", "sample_tokens",
            "eval_prompts", "grammar_weight"]
INTS = {"examples", "seed", "max_steps", "batch_tokens", "prompts", "n_samples", "rounds",
        "sample_tokens", "eval_prompts"}

INTRO = """\
**Finetune a model to write its own PASTA-LANG annotations — and watch it learn to split.**
*Stage 1* (SFT) teaches the tags from annotated answers. *Stage 2* (BoNBoN) samples N answers
per prompt from the model itself, scores each by **theoretical speed-up + λ · quality** (the
world's judge; less a penalty for tags that do not parse, a topic promised twice, or promises
that do not match the parts asked for), and trains towards the best and away from the worst —
the paper's recipe. The new model is saved under `runs/<name>` with its card and appears in the
**Decode** tab's model list at once, ready to race against the model it started from."""

STAGE2_NOTE = """\
Stage 2 always samples **bundled-world prompts**, also when stage 1 trained on an uploaded
file: the judge scores an answer against the world's facts, which an uploaded prompt does not
have."""


# -- figures ----------------------------------------------------------------------------------

def _style(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(title=dict(text=title, x=0.01, xanchor="left", font=dict(size=14)),
                      template="plotly_white", height=height, font=charts.FONT,
                      margin=dict(l=56, r=16, t=64, b=100),
                      legend=dict(orientation="h", yanchor="top", y=-0.24, xanchor="left",
                                  x=0.0, font=dict(size=11)),
                      hoverlabel=dict(font_size=12))
    return fig


def loss_figure(p: Progress | None) -> go.Figure:
    """Stage 1's SFT loss and stage 2's BoNBoN loss (with its SFT term) against the step."""
    keys = [ph.key for ph in p.phases] if p is not None else ["stage1", "stage2"]
    stages = [k for k in ("stage1", "stage2") if k in keys]
    titles = {"stage1": "Stage 1 · SFT loss", "stage2": "Stage 2 · BoNBoN loss"}
    fig = make_subplots(rows=1, cols=len(stages), horizontal_spacing=0.1,
                        subplot_titles=[titles[s] for s in stages])
    for col, st in enumerate(stages, 1):
        rows = p.loss[st] if p is not None else []
        if not rows:
            dom = fig.layout[f"xaxis{col if col > 1 else ''}"].domain  # the panel, in paper units
            fig.add_annotation(text="waiting for its first step…" if p is not None else
                               "Press ▶ Train<br>to see the loss fall.", showarrow=False,
                               x=(dom[0] + dom[1]) / 2, y=0.5, xref="paper", yref="paper",
                               xanchor="center",
                               font=dict(size=13, color="#94a3b8"))
            fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, row=1,
                             col=col)
            fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, row=1,
                             col=col)
            continue
        if st == "stage1":
            fig.add_trace(go.Scatter(
                x=[r["x"] for r in rows], y=[r["loss"] for r in rows], mode="lines+markers",
                name="SFT loss", line=dict(color="#ea580c", width=2.5),
                marker=dict(size=4), hovertemplate="step %{x}: loss %{y:.4f}<extra></extra>"),
                row=1, col=col)
            continue
        rounds = sorted({r["round"] for r in rows})
        for rnd in rounds:
            rr = [r for r in rows if r["round"] == rnd]
            color = ROUND_COLORS[(rnd - 1) % len(ROUND_COLORS)]
            fig.add_trace(go.Scatter(
                x=[r["x"] for r in rr], y=[r["loss"] for r in rr], mode="lines+markers",
                name=f"round {rnd} · total", line=dict(color=color, width=2.5),
                marker=dict(size=4), legendgroup=f"r{rnd}",
                hovertemplate=f"round {rnd}, step %{{x}}: loss %{{y:.4f}}<extra></extra>"),
                row=1, col=col)
            if any(r.get("sft") is not None for r in rr):
                fig.add_trace(go.Scatter(
                    x=[r["x"] for r in rr], y=[r.get("sft") for r in rr], mode="lines",
                    name=f"round {rnd} · SFT term", legendgroup=f"r{rnd}",
                    line=dict(color=color, width=1.5, dash="dot"),
                    hovertemplate=f"round {rnd}, step %{{x}}: SFT term %{{y:.4f}}"
                                  "<extra></extra>"), row=1, col=col)
    fig.update_xaxes(title_text="optimiser step", rangemode="tozero")
    fig.update_yaxes(title_text="loss", col=1)
    fig.update_annotations(font_size=13)
    return _style(fig, "Loss, live")


def scatter_figure(p: Progress | None) -> go.Figure:
    """Every stage-2 sample: theoretical speed-up (x) against judge quality (y); each prompt's
    chosen (best score) and rejected (worst) answers joined by a thin line; each round's
    Pareto front drawn over its cloud."""
    fig = go.Figure()
    pts = p.points if p is not None else []
    if not pts:
        note = ("Stage 2's samples appear here as they are scored:<br>speed-up vs quality, "
                "the chosen and rejected answer<br>of each prompt, each round's Pareto front.")
        if p is not None and "stage2" not in [ph.key for ph in p.phases]:
            note = "This job runs no stage 2."
        fig.add_annotation(text=note, showarrow=False, x=0.5, y=0.5, xref="paper",
                           yref="paper", font=dict(size=12, color="#94a3b8"))
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return _style(fig, "Stage 2 · every sampled answer")
    for rnd in sorted({q["round"] for q in pts}):
        color = ROUND_COLORS[rnd % len(ROUND_COLORS)]
        rp = [q for q in pts if q["round"] == rnd]
        # the pair of each prompt, joined
        xs: list[float | None] = []
        ys: list[float | None] = []
        for prompt in sorted({q["prompt"] for q in rp}):
            pair = {q["role"]: q for q in rp if q["prompt"] == prompt and q["role"]}
            if len(pair) == 2:
                xs += [pair["chosen"]["speedup"], pair["rejected"]["speedup"], None]
                ys += [pair["chosen"]["quality"], pair["rejected"]["quality"], None]
        if xs:
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", showlegend=False,
                                     line=dict(color="#cbd5e1", width=1), hoverinfo="skip",
                                     legendgroup=f"r{rnd}"))
        fig.add_trace(go.Scatter(
            x=[q["speedup"] for q in rp], y=[q["quality"] for q in rp], mode="markers",
            name=f"round {rnd + 1} samples", legendgroup=f"r{rnd}",
            marker=dict(size=8, color=color, opacity=0.55, line=dict(width=0)),
            customdata=[[q["prompt"] + 1, q["score"], q["role"] or "–"] for q in rp],
            hovertemplate="prompt %{customdata[0]}: speed-up %{x:.2f}×, quality %{y:.3f}"
                          "<br>score %{customdata[1]:.3f} · %{customdata[2]}<extra></extra>"))
        front = p.fronts.get(rnd, [])  # the core's front of the round (drawn once it is known)
        fig.add_trace(go.Scatter(
            x=[f[0] for f in front], y=[f[1] for f in front], mode="lines+markers",
            name=f"round {rnd + 1} Pareto front", legendgroup=f"r{rnd}",
            line=dict(color=color, width=2.5, shape="vh"),
            marker=dict(size=7, color=color, symbol="diamond"),
            hovertemplate="front: %{x:.2f}×, quality %{y:.3f}<extra></extra>"))
    for role, color, symbol in (("chosen", CHOSEN, "star"), ("rejected", REJECTED, "x-thin")):
        rp = [q for q in pts if q["role"] == role]
        if rp:
            fig.add_trace(go.Scatter(
                x=[q["speedup"] for q in rp], y=[q["quality"] for q in rp], mode="markers",
                name=role, marker=dict(size=13 if role == "chosen" else 11, color=color,
                                       symbol=symbol, line=dict(width=2, color=color)),
                hovertemplate=f"{role}: %{{x:.2f}}×, quality %{{y:.3f}}<extra></extra>"))
    fig.update_xaxes(title_text="theoretical speed-up (sequential tokens ÷ PASTA steps)")
    fig.update_yaxes(title_text="quality (judge score)", range=[-0.05, 1.05])
    return _style(fig, "Stage 2 · every sampled answer: speed-up vs quality")


# -- HTML -------------------------------------------------------------------------------------

def _clock(s: float | None) -> str:
    if s is None:
        return "–"
    s = max(0, round(s))
    return f"{s // 60}:{s % 60:02d}"


def estimate_html(trainer: Trainer, start: str | None, stages: str | None,
                  numbers: dict[str, Any]) -> str:
    """The form's run in seconds, from step times measured on a machine (never a constant):
    the rates of the start model's last run here, else the bench's (bench/train_rates.py)."""
    try:
        cfg = TrainConfig(**{k: _number(k, numbers[k]) for k in ADVANCED if k in numbers})
        cfg.check()
    except (gr.Error, ConfigError, TypeError, ValueError):
        return ("<div class='tr-estimate muted' data-estimate=''>Set the numbers to see how "
                "long this run should take.</div>")
    est = trainer.estimate(cfg, start or "", stages or "both")
    if est is None:
        return ("<div class='tr-estimate muted' data-estimate=''>No step times measured on "
                "this machine yet: the first run measures them, then estimates appear "
                "here.</div>")
    r = est.rates
    whose = "" if r.model == start else (f" (measured with <code>{html.escape(r.model)}"
                                         "</code>: another start model's steps differ)")
    parts = [f"load and save {est.overhead_s:.0f} s"]
    if est.stage1_steps:
        parts.append(f"stage 1 {est.stage1_s:.0f} s ({est.stage1_steps} steps × "
                     f"{cfg.batch_tokens / 1000 * r.stage1_s_per_ktoken:.2f} s)")
    if est.stage2_s:
        parts.append(f"stage 2 {est.stage2_s:.0f} s")
    if est.eval_s:
        parts.append(f"evaluations {est.eval_s:.0f} s")
    return (f"<div class='tr-estimate' data-estimate='{est.total_s:.1f}'>About "
            f"<b>{_clock(est.total_s)}</b> (min:s) end to end: {', '.join(parts)}; scaled "
            f"from measured step times ({html.escape(r.measured)}){whose}; slower while this "
            "machine is busy.</div>")


def time_left(p: Progress, job: TrainJob, trainer: Trainer) -> float | None:
    """The running phase's own ETA (from its measured steps) plus the estimates of the phases
    still to come, scaled by how this job's phases so far compared with their estimates (a
    busy machine slows every phase alike); None when neither is known yet."""
    s = job.settings
    est = trainer.estimate(s, s.start_model, s.stages)
    now = time.time()
    spent = expected = 0.0  # this job's phases so far: measured vs estimated seconds
    running_left: float | None = None
    for ph in p.phases:
        if est is None or ph.started is None:
            continue
        if ph.state == "done" and ph.ended is not None:
            spent, expected = spent + ph.ended - ph.started, expected + est.phase_s(ph.key)
        elif ph.state == "running" and ph.eta_s is not None and ph.frac > 0:
            running_left = ph.eta_s
            spent += now - ph.started + ph.eta_s
            expected += est.phase_s(ph.key)
    pace = spent / expected if expected > 0 else 1.0
    left, known = 0.0, False
    for ph in p.phases:
        if ph.state == "running":
            if ph.eta_s is not None and ph.frac > 0:
                left, known = left + ph.eta_s, True
            elif est is not None:
                left, known = left + est.phase_s(ph.key) * pace, True
        elif ph.state == "pending" and est is not None:
            left, known = left + est.phase_s(ph.key) * pace, True
    if running_left is None and not known:
        return None
    return left


def slot_html(session: Any, trainer: Trainer) -> str | None:
    """What a page's timer shows: the training slot as it is now for a visitor with no job of
    their own (free, or busy, who trains, the queue); None (leave it) when the visitor has a
    job, whose own handler draws its progress."""
    if session is not None and getattr(session, "training", None) is not None:
        return None
    return idle_html(trainer)


def idle_html(trainer: Trainer) -> str:
    """What a visitor with no job of their own sees: the training slot's real state."""
    st = trainer.status()
    cur, waiting = st["running"], st["waiting"]
    if cur is None and not waiting:
        return ("<div class='tr-progress' data-state='idle' data-slot='free'><div class='tr-head'>"
                "Ready: the training slot is free. Pick a start model, data and a preset, name "
                "the run, and press <b>▶ Train</b>.</div></div>")
    busy = (f"<code>runs/{html.escape(cur['name'])}</code> is training now" if cur
            else "a job is starting")
    return ("<div class='tr-progress status-waiting' data-state='idle' data-slot='busy' "
            f"data-waiting='{waiting}'><div class='tr-head'>The training slot is busy: {busy}, "
            f"{waiting} waiting. One job trains at a time; press <b>▶ Train</b> to join the "
            f"queue at <b>#{waiting + 1}</b> (at most {st['queue_size']} wait).</div></div>")


PHASE_MARK = {"pending": "○", "running": "●", "done": "✓", "stopped": "■", "failed": "✗"}


def progress_html(p: Progress | None, job: TrainJob | None, trainer: Trainer) -> str:
    if p is None or job is None:
        return idle_html(trainer)
    name = html.escape(job.settings.name)
    start = html.escape(job.settings.start_model)
    now = time.time()
    if p.state == "waiting":
        pos = trainer.position(job)
        if pos == 0:  # taken off the queue; its first progress comes in a moment
            return ("<div class='tr-progress status-running' data-state='starting'>"
                    f"<div class='tr-head'><span class='spinner'></span> Starting "
                    f"<code>runs/{name}</code>…</div></div>")
        st = trainer.status()
        cur = st["running"]
        other = (f" <code>runs/{html.escape(cur['name'])}</code> is training now."
                 if cur else "")
        return (f"<div class='tr-progress status-waiting' data-state='waiting' data-queue='{pos}'>"
                f"<div class='tr-head'>… Waiting for the training slot: <b>#{pos}</b> in the "
                f"queue (one training job runs at a time).{other}</div></div>")
    chips = []
    for ph in p.phases:
        state = ph.state if not (p.state != "running" and ph.state == "pending") else "skipped"
        mark = PHASE_MARK.get(state, "–")
        chips.append(f"<span class='tr-chip tr-{state}' data-phase='{ph.key}' "
                     f"data-phase-state='{state}'>{mark} {html.escape(ph.label)}</span>")
    elapsed = (p.ended or now) - (p.started or now)
    head_kind = {"running": "running", "done": "done", "cancelled": "stopped",
                 "failed": "stopped"}[p.state]
    if p.state == "running":
        cur = next((ph for ph in p.phases if ph.state == "running"), None)
        label = cur.label if cur else "Working"
        frac = cur.frac if cur else 0.0
        eta = (f"about <b>{_clock(cur.eta_s)}</b> left in this phase"
               if cur and cur.eta_s is not None and frac > 0 else "estimating time left…")
        left = time_left(p, job, trainer)
        if left is not None:
            eta += f", about <b data-left='{left:.0f}'>{_clock(left)}</b> in all"
        head = (f"<span class='spinner'></span> Training <code>runs/{name}</code> from "
                f"<code>{start}</code> · {_clock(elapsed)} elapsed")
        bar = (f"<div class='tr-bar' role='progressbar' aria-valuenow='{frac * 100:.0f}' "
               f"aria-valuemin='0' aria-valuemax='100'><div class='tr-fill' "
               f"style='width:{frac * 100:.1f}%'></div></div>"
               f"<div class='tr-detail'><b>{html.escape(label)}</b> — "
               f"{html.escape(cur.detail if cur else '')} · {eta}</div>")
    elif p.state == "done":
        head = (f"✓ Done in {_clock(elapsed)}: <code>runs/{name}</code> is saved with its card "
                "and evaluation. Pick it in the <b>Decode</b> tab to race it against "
                f"<code>{start}</code>.")
        bar = ""
    elif p.state == "cancelled":
        kept = {"stage1": "keeps the <b>stage-1</b> model, the last stage that finished (its "
                          "card says so)",
                "stage2": "keeps the stage-2 model"}.get(p.saved or "", "")
        cut = next((ph for ph in p.phases if ph.state == "stopped"
                    and ph.key in ("stage1", "stage2")), None)
        why = (f"{html.escape(cut.label)} was cut ({html.escape(cut.detail)}) before it "
               "finished, and no earlier stage had finished, so nothing was saved"
               if cut is not None else "No stage had finished, so nothing was saved")
        head = (f"■ Cancelled after {_clock(elapsed)}. "
                + (f"<code>runs/{name}</code> {kept}." if kept else
                   f"{why}; earlier runs are untouched."))
        bar = ""
    else:
        head = f"✗ Training failed: {html.escape(p.error or 'unknown error')}"
        bar = ""
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in p.notes[-6:])
    return (f"<div class='tr-progress status-{head_kind}' data-state='{p.state}' "
            f"data-saved='{p.saved or ''}'><div class='tr-head'>{head}</div>"
            f"<div class='tr-chips'>{''.join(chips)}</div>{bar}"
            + (f"<ul class='tr-notes'>{notes}</ul>" if notes else "") + "</div>")


def table_html(p: Progress | None) -> str:
    """Start model vs stage 1 vs stage 2 on the test split; every cell carries its exact
    value (data-value) — the numbers of eval.json and the card."""
    evals = p.evals if p is not None else {}
    if not evals:
        return ("<div class='tr-table-empty'>The evaluation table (start model vs stage 1 vs "
                "stage 2: quality, speed-ups, promises made, tag errors) fills in as each "
                "stage is evaluated.</div>")
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h in TABLE_COLS)
    body = []
    for row in ("start", "stage1", "stage2"):
        if row not in evals:
            continue
        o = evals[row]
        cells = "".join(
            f"<td data-metric='{k}' data-value='{o[k]!r}'>{fmt(o[k])}"
            f"{'×' if 'speedup' in k and o[k] is not None else ''}</td>" for k, _ in TABLE_COLS)
        body.append(f"<tr data-row='{row}'><th>{ROWS[row]}<br><code>"
                    f"{html.escape(o['model'])}</code></th>{cells}</tr>")
    n = next(iter(evals.values()))["n"]
    return (f"<div class='tr-table-wrap'><table class='tr-table'><caption>Test split, {n} "
            "prompt(s), greedy; baseline = the start model decoding plainly. The same numbers "
            "as <code>python -m pasta_core eval</code>.</caption><thead><tr><th>model</th>"
            f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def data_report(path: str | None) -> str:
    if not path:
        return ""
    records, problems = check_jsonl(path, skip_bad=True)
    if not problems:
        return (f"<div class='tr-data tr-data-ok' data-records='{len(records)}'>✓ "
                f"{len(records)} clean records in canonical PASTA-LANG.</div>")
    lines = sorted({int(pr.split(":")[0][5:]) for pr in problems if pr.startswith("line ")})
    items = "".join(
        f"<li data-line='{pr.split(':')[0][5:] if pr.startswith('line ') else ''}'>"
        f"{html.escape(pr)}</li>" for pr in problems[:50])
    more = f"<li>… and {len(problems) - 50} more</li>" if len(problems) > 50 else ""
    return (f"<div class='tr-data tr-data-bad' data-records='{len(records)}' "
            f"data-bad-lines='{','.join(map(str, lines))}'>✗ <b>{len(problems)} bad "
            f"line(s)</b>, {len(records)} good. Nothing trains until the file is clean or "
            f"“Skip bad lines” is ticked.<ul>{items}{more}</ul></div>")


def limits_note(config: SpaceConfig) -> str:
    t = config.training
    return (f"This server caps each stage at <b>{t.max_steps}</b> optimiser steps (stage 2: per "
            f"round) and a job's training at <b>{_clock(t.max_run_s)}</b> (min:s); a capped "
            "stage is saved as it is. One job trains at a time, the others queue "
            f"(at most {t.queue_size} waiting).")


# -- the tab ----------------------------------------------------------------------------------

class TrainUI:
    """The Train tab's form → settings; a tab's job is kept on its session (`ui.sessions`)."""

    def __init__(self, config: SpaceConfig, trainer: Trainer, sessions: Sessions):
        self.config, self.trainer, self.sessions = config, trainer, sessions

    def settings(self, v: dict[str, Any]) -> TrainSettings:
        """The form's values, by name (`tabs.train.TRAIN_FIELDS`) → checked settings."""
        spec = (v["hub"] or "").strip() or (v["start"] or "")
        if v["data_src"] == "upload":
            f = v["data_file"]
            path = f.get("path") if isinstance(f, dict) else f
            if not path:
                raise gr.Error("Upload a JSONL file of {\"prompt\", \"annotated\"} lines, or "
                               "choose the bundled world.", title="No data file")
            data = str(path)
        else:
            data = "world"
        values = {key: _number(key, v[key]) for key in ADVANCED}
        return TrainSettings(name=(v["name"] or "").strip(), start_model=spec, data=data,
                             skip_bad_lines=bool(v["skip_bad"]), stages=v["stages"] or "both",
                             overwrite=bool(v["overwrite"]), **values)


def _number(key: str, v: Any) -> float | int | bool:
    """One advanced setting from the form: a whole number, a number, or LoRA's tick."""
    if key == "lora":
        return bool(v)
    if v is None or v == "":
        raise gr.Error(f"The setting “{key}” is empty.", title="Check the settings")
    try:
        x = int(v) if key in INTS else float(v)
    except (TypeError, ValueError) as e:
        raise gr.Error(f"The setting “{key}” is not a number: {v!r}",
                       title="Check the settings") from e
    if key in INTS and float(v) != int(v):
        raise gr.Error(f"The setting “{key}” must be a whole number (got {v}).",
                       title="Check the settings")
    return x


def build_train_tab(demo: gr.Blocks, config: SpaceConfig, trainer: Trainer,
                    decode_model: gr.Dropdown, sessions: Sessions) -> None:
    """Lay out and wire the Train tab (`ui/tabs/train.py`). Call inside the app's
    `gr.Tabs()`; `decode_model` is the Decode tab's model dropdown, refreshed when a run is
    saved; `sessions` the app's per-session state (one unload hook frees a tab's job)."""
    from .tabs import train

    handles = train.build(config, trainer)
    train.wire(demo, handles | {"decode_model": decode_model}, config, trainer, sessions)


def _stem(name: str) -> str:
    """"demo-3" → "demo": the base of a suggested next name."""
    head, _, tail = name.rpartition("-")
    return head if head and tail.isdigit() else name


CSS = """
/* ---- Train tab ------------------------------------------------------------------------ */
.tr-note { font-size: .86rem; color: var(--body-text-color-subdued); }
.tr-limits { font-size: .82rem; color: var(--body-text-color-subdued); line-height: 1.45; }
.tr-adv { border: 1px solid var(--border-color-primary); border-radius: 12px; padding: 8px; }
.tr-progress { padding: 10px 14px; border-radius: 12px; line-height: 1.5;
  background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary); }
.tr-head { font-size: .95rem; }
.tr-chips { display: flex; flex-wrap: wrap; gap: 6px; margin: 8px 0 4px; }
.tr-chip { font-size: .76rem; font-weight: 650; padding: 2px 10px; border-radius: 999px;
  background: #e2e8f0; color: #475569; white-space: nowrap; }
.tr-running { background: #ffedd5; color: #9a3412; }
.tr-done { background: #dcfce7; color: #166534; }
.tr-stopped, .tr-failed { background: #fee2e2; color: #991b1b; }
.tr-skipped { background: transparent; color: #94a3b8; border: 1px dashed #cbd5e1; }
.tr-bar { height: 10px; border-radius: 999px; background: #fde7d3; overflow: hidden;
  margin: 6px 0 4px; }
.tr-fill { height: 100%; background: linear-gradient(90deg, #fb923c, #ea580c);
  border-radius: 999px; transition: width .3s ease; }
.tr-detail { font-size: .86rem; font-variant-numeric: tabular-nums; }
.tr-estimate { font-size: .86rem; line-height: 1.45; margin-top: 2px; }
.tr-notes { margin: 6px 0 0 1.1rem; padding: 0; font-size: .84rem;
  color: var(--body-text-color-subdued); }
.tr-data { padding: 8px 12px; border-radius: 10px; font-size: .88rem; line-height: 1.45; }
.tr-data ul { margin: 4px 0 0 1.1rem; padding: 0; font-family: var(--font-mono);
  font-size: .8rem; }
.tr-data-ok { background: #f0fdf4; border: 1px solid #86efac; color: #14532d; }
.tr-data-bad { background: #fef2f2; border: 1px solid #fca5a5; color: #7f1d1d; }
.tr-table-wrap { overflow-x: auto; }
.tr-table { width: 100%; border-collapse: collapse; font-size: .88rem;
  font-variant-numeric: tabular-nums; }
.tr-table caption { caption-side: bottom; text-align: left; font-size: .8rem; padding-top: 6px;
  color: var(--body-text-color-subdued); }
.tr-table th, .tr-table td { padding: 6px 10px; border-bottom: 1px solid
  var(--border-color-primary); text-align: right; }
.tr-table thead th { font-size: .72rem; text-transform: uppercase; letter-spacing: .04em;
  color: var(--body-text-color-subdued); vertical-align: bottom; }
.tr-table tbody th { text-align: left; font-weight: 700; white-space: nowrap; }
.tr-table tbody th code { font-weight: 400; font-size: .78rem; }
.tr-table tr[data-row='stage2'] td, .tr-table tr[data-row='stage2'] th {
  background: var(--pasta-soft, #fff7ed); }
.tr-table-empty { padding: 14px; border: 2px dashed var(--border-color-primary);
  border-radius: 12px; color: var(--body-text-color-subdued); text-align: center; }
.dark .tr-chip { background: #334155; color: #e2e8f0; }
.dark .tr-data-ok, .dark .tr-data-bad { background: var(--background-fill-secondary);
  color: var(--body-text-color); }
"""

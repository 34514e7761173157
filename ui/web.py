"""The web app (Gradio 6 Blocks), mounted at "/" on the API's FastAPI app by `python app.py`.

Tabs:
  Decode  prompt, examples, model and settings → live lanes (one per thread), the spliced
          answer, charts, a race replay of PASTA against sequential decoding, step mode
  Learn   an annotated response taken apart live: structure, errors, splice, positions, mask
  Train   both finetuning stages from the browser, live (ui/train_tab.py, ui/training.py);
          it has its own training slot and never holds the decoding slot

Every decoding run goes through `JobQueue.run` — the one decoding slot the HTTP API uses too —
and everything shown is read from its events, Traces and `pasta_core.metrics`. Leaving a run
(the Stop button, a closed tab) closes its event stream, which stops it within one step.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI

from pasta_core.events import Comparison
from pasta_core.interpreter import SettingsError
from pasta_core.models import ModelSpecError
from pasta_core.view import RequestView

from . import charts, learn
from .config import ROOT, SpaceConfig
from .jobs import JobQueue, ModelRegistry, QueueFull
from .jobs import Request as JobRequest
from .lanes import EMPTY_BOARD, recording, render_board, thread_color
from .stepper import IDLE_S, SlotBusy, StepSession
from .train_tab import CSS as TRAIN_CSS
from .train_tab import build_train_tab
from .training import Trainer

log = logging.getLogger(__name__)

ASSETS = ROOT / "assets"
UPDATE_S = 1 / 16  # lanes refresh up to 16 times a second (events are batched in between)
MODES = [("PASTA", "pasta"), ("Sequential", "sequential"), ("Both — race", "both")]
THREAD_TOKENS = 256  # per async thread, as the CLI's default (capped by the Space's limit)
KEEP_TRACES = 64  # trace files kept on disk for download


def load_examples() -> list[dict[str, Any]]:
    return json.loads((ASSETS / "examples.json").read_text(encoding="utf-8"))["examples"]


class LiveRun:
    """One request's events, pumped from `JobQueue.run` into a buffer by a task of its own so
    the UI can batch them (and show the wait for the slot) at its own pace. `cancel()` closes
    the job's stream: the run stops within one step and the slot is freed."""

    def __init__(self, jobs: JobQueue, req: JobRequest, board: RequestView):
        self.board = board
        self.buf: list[Any] = []
        self.error: BaseException | None = None
        self.finished = False
        self.wake = asyncio.Event()
        self._agen = jobs.run(req)
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
        if not self.task.done():
            self.task.cancel()


class App:
    """The UI's state that outlives one event: live runs and stepped runs, per session."""

    def __init__(self, config: SpaceConfig, registry: ModelRegistry, jobs: JobQueue):
        self.config, self.registry, self.jobs = config, registry, jobs
        self.examples = load_examples()
        self.live: dict[str, LiveRun] = {}
        self.steppers: dict[str, StepSession] = {}
        self.trace_dir = Path(tempfile.mkdtemp(prefix="pasta-traces-"))

    # -- models -----------------------------------------------------------------------------

    def model_choices(self) -> tuple[list[str], str | None, str]:
        """(offered models, the one to select, a notice when the default is not available)."""
        avail = self.registry.available()
        default = self.config.default_model
        if default in avail:
            return avail, default, ""
        pick = avail[0] if avail else None
        note = (f"⚠ The default model <code>{default}</code> is not available here yet"
                f"{' (the bundled models are built by training)' if 'bundled:' in default else ''}"
                ".")
        if pick:
            note += f" Using <code>{pick}</code> instead."
        if pick and self.needs_forcing(pick):
            note += (" Random-weight models never write PASTA tags on their own, so the "
                     "examples <b>teacher-force</b> their annotated answers (see the folded box "
                     "under the prompt).")
        elif not pick:
            note += " No model is offered by this Space's settings (spaces.yaml)."
        return avail, pick, note

    def needs_forcing(self, model: str | None) -> bool:
        """Whether a model cannot write PASTA tags itself (random weights)."""
        return bool(model) and str(model).startswith("random:")

    # -- a decoding request from the form ----------------------------------------------------

    def request(self, prompt: str, model: str | None, hub_id: str, mode: str, max_new: float,
                threads: float, temperature: float, top_p: float, seed: float, force_on: bool,
                force_text: str) -> JobRequest:
        spec = (hub_id or "").strip() or (model or "")
        if not spec:
            raise gr.Error("Choose a model first.", title="No model")
        if not (prompt or "").strip():
            raise gr.Error("The prompt is empty: write a question or an instruction, or pick "
                           "an example.", title="Empty prompt")
        force = None
        if force_on:
            if not (force_text or "").strip():
                raise gr.Error("Teacher forcing is on but its answer box is empty: paste an "
                               "annotated answer or turn forcing off.", title="Nothing to force")
            force = force_text
        lim = self.config.limits
        try:
            settings = {"max_new_tokens": int(max_new), "max_threads": int(threads),
                        "max_thread_tokens": min(THREAD_TOKENS, lim.max_thread_tokens),
                        "temperature": float(temperature), "top_p": float(top_p),
                        "seed": int(seed)}
        except (TypeError, ValueError) as e:
            raise gr.Error(f"A setting is not a number: {e}", title="Bad setting") from e
        req = JobRequest(spec, prompt, mode, force, settings)
        try:
            self.jobs.validate(req)
        except ModelSpecError as e:
            raise gr.Error(str(e), title="Unknown model") from e
        except (SettingsError, ValueError) as e:
            raise gr.Error(str(e), title="Check the settings") from e
        return req

    def write_trace(self, board: RequestView) -> str | None:
        traces = [v.trace for v in board.runs.values() if v.trace is not None]
        if not traces or len(traces) != len(board.runs):
            return None
        obj = Comparison(*traces).to_dict() if board.mode == "both" else traces[0].to_dict()
        path = self.trace_dir / f"pasta-trace-{board.mode}-{uuid.uuid4().hex[:8]}.json"
        path.write_text(json.dumps(obj), encoding="utf-8")
        old = sorted(self.trace_dir.iterdir(), key=lambda f: f.stat().st_mtime)[:-KEEP_TRACES]
        for f in old:  # Gradio serves its own copy; ours only has to outlive the response
            f.unlink(missing_ok=True)
        return str(path)

    def forget(self, request: gr.Request | None) -> None:
        """The browser session ended: stop its run and give back a held slot."""
        sid = getattr(request, "session_hash", None)
        if not sid:
            return
        live = self.live.pop(sid, None)
        if live is not None:
            live.cancel()
        st = self.steppers.pop(sid, None)
        if st is not None:
            st.close(reason="session ended")


# -- HTML bits ------------------------------------------------------------------------------

def status_html(text: str, kind: str = "idle") -> str:
    return f"<div class='status status-{kind}' data-status='{kind}'>{text}</div>"


def _board_status(board: RequestView, jobs: JobQueue) -> str:
    if board.stopped:
        return status_html("■ Stopped. The run ended within one step and the decoding slot is "
                           "free again.", "stopped")
    cur = board.current
    if cur is None and not board.done:
        q = jobs.status()
        ahead = q["running"] + q["waiting"] - 1
        return status_html(f"… Waiting for the decoding slot ({max(ahead, 0)} request(s) "
                           "ahead)…" if ahead > 0 else "… Loading the model", "waiting")
    if cur is not None:
        label = {"pasta": "PASTA", "sequential": "sequential decoding"}.get(cur.run, cur.run)
        return status_html(f"<span class='spinner'></span> Decoding with {label} — step "
                           f"{cur.steps}, {cur.tokens} tokens, {cur.wall_s:.2f} s", "running")
    views = list(board.runs.values())
    if board.mode == "both":
        comp = Comparison(views[0].trace, views[1].trace)  # type: ignore[arg-type]
        return status_html(
            f"✓ Done. PASTA took <b>{comp.pasta.steps}</b> steps and <b>{comp.pasta.wall_s:.2f}"
            f" s</b>; sequential decoding <b>{comp.sequential.steps}</b> steps and "
            f"<b>{comp.sequential.wall_s:.2f} s</b>: <b>{comp.wall_speedup:.2f}×</b> faster "
            f"wall-clock, <b>{comp.theoretical_speedup:.2f}×</b> in theory. Watch the race "
            "replay below.", "done")
    tr = views[0].trace
    assert tr is not None
    return status_html(f"✓ Done: {tr.steps} steps, {tr.tokens_total} tokens, {tr.wall_s:.2f} s "
                       f"({tr.end_reason}).", "done")


def _answer_md(board: RequestView | None) -> str:
    if board is None:
        return "*The answer appears here as it is written, in reading order.*"
    view = board.runs.get("pasta") or next(iter(board.runs.values()))
    text = view.spliced
    return text if text.strip() else "*…*"


def _annotated(board: RequestView | None) -> str:
    if board is None:
        return ""
    view = board.runs.get("pasta") or next(iter(board.runs.values()))
    return view.trace.annotated if view.trace is not None else ""


def _step_info(st: StepSession | None) -> str:
    if st is None:
        return ("<div class='stepinfo muted'>Start a stepped PASTA run with the prompt, model, "
                "settings and forcing above; each press of <b>Next step</b> runs ONE forward "
                "pass of every thread that has a token to feed, and shows its attention mask. "
                "The run holds the decoding slot until it ends, you end it, or "
                f"{int(IDLE_S)} s pass without a press.</div>")
    step = st.last_step
    if step is None:
        prompt_n = sum(1 for o in st.owners if o < 0)
        return (f"<div class='stepinfo'><b>Prefill done:</b> the prompt's {prompt_n} tokens "
                "are in the cache and the main thread chose its first token. Press <b>Next "
                "step</b>.</div>")
    parts = []
    for tid, n, pos in zip(step.threads, step.n_tokens, step.positions, strict=True):
        lane = st.view.threads.get(tid)
        name = "main" if tid == 0 else f"#{tid} {lane.topic if lane else ''}"
        parts.append(f"<span class='chip' style='--c:{thread_color(tid)}'>{name}: {n} token"
                     f"{'s' if n != 1 else ''} at position{'s' if n != 1 else ''} "
                     f"{', '.join(map(str, pos[:8]))}{'…' if len(pos) > 8 else ''}</span>")
    end = ""
    if st.closed:
        end = f" — <b>run ended ({st.end_reason})</b>, slot released"
    return (f"<div class='stepinfo'><b>Step {step.step}</b>: {len(step.threads)} thread(s) "
            f"in one forward pass, {sum(step.n_tokens)} token(s), {step.latency_s * 1000:.1f} ms"
            f"{end}<div class='chips'>{''.join(parts)}</div></div>")


def _step_figure(st: StepSession | None):
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


def _step_lanes(st: StepSession | None) -> str:
    if st is None:
        return ""
    board = RequestView("pasta", st.req.model)
    board.runs["pasta"] = st.view
    board.stopped = st.closed and st.view.trace is None
    return render_board(board)


# -- the Blocks -----------------------------------------------------------------------------

HEADER = """
<div class='hero'>
  <div class='hero-top'>
    <div class='hero-title'><b>PASTA</b> <span>learned asynchronous decoding, live</span></div>
    <div class='hero-links'><a href='https://arxiv.org/abs/2502.11517' target='_blank'>Paper</a>
    <a href='/api/docs' target='_blank'>HTTP API</a></div>
  </div>
  <div class='hero-sub'>The model marks the independent parts of its answer with
  <code>&lt;promise/&gt;</code>, <code>&lt;async&gt;</code> and <code>&lt;sync/&gt;</code>;
  the interpreter writes those parts <b>at the same time</b>, each in its own lane, in one
  forward pass per step over one shared KV cache — then races the same request decoded one
  token at a time.</div>
</div>
"""


def warm_up() -> None:
    """Import transformers' lazy modules and build the Learn tab's tokenizer once, here, before
    serving: first imports racing in two worker threads (a model load and a Learn request) can
    fail half-way, and the first Learn edit should not wait for them."""
    from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: F401

    learn.tokenizer()


def build_demo(config: SpaceConfig, registry: ModelRegistry, jobs: JobQueue) -> gr.Blocks:
    warm_up()
    ui = App(config, registry, jobs)
    lim = config.limits
    models, default_model, notice = ui.model_choices()
    examples = ui.examples
    first = next((e for e in examples if e["parts"]), examples[0])
    replay_js = (ASSETS / "replay.js").read_text(encoding="utf-8")

    # delete_cache: downloaded traces older than an hour leave Gradio's cache every hour
    with gr.Blocks(title=config.title, analytics_enabled=False,
                   delete_cache=(3600, 3600)) as demo:
        gr.HTML(HEADER)
        banner = gr.HTML(f"<div class='notice'>{notice}</div>", visible=bool(notice),
                         elem_id="model-notice")
        with gr.Tabs():
            # ---------------------------------------------------------------- Decode
            with gr.Tab("Decode", id="decode"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=320):
                        prompt = gr.Textbox(label="Prompt", value=first["prompt"], lines=3,
                                            max_lines=8, elem_id="prompt",
                                            placeholder="Ask for something with parts…")
                        example_set = gr.Dataset(
                            components=["textbox"], type="index",
                            label="Examples — ∥ has parts to split, → has none",
                            samples=[[("∥ " if e["parts"] else "→ ") + e["label"]]
                                     for e in examples],
                            samples_per_page=10, elem_id="examples")
                        with gr.Accordion("Teacher-force an annotated answer (advanced)",
                                          open=False, elem_id="force-box"):
                            gr.Markdown(
                                "Makes every thread follow this annotated answer (PASTA-LANG) "
                                "while the schedule, masks and positions stay those of a real "
                                "run — how a random-weight model shows real lanes, and how "
                                "answers are scored. Examples fill it in.")
                            force_on = gr.Checkbox(
                                label="Teacher-force this answer",
                                value=ui.needs_forcing(default_model), elem_id="force-on")
                            force_text = gr.Textbox(show_label=False, value=first["answer"],
                                                    lines=5, max_lines=14, elem_id="force-text")
                    with gr.Column(scale=2, min_width=280):
                        model = gr.Dropdown(models, value=default_model, label="Model",
                                            elem_id="model",
                                            info="Bundled models, runs trained here, random "
                                                 "weights for tests")
                        mode = gr.Radio(MODES, value="both", label="Mode", elem_id="mode")
                        with gr.Row():
                            run_btn = gr.Button("▶ Run", variant="primary", elem_id="run",
                                                scale=2)
                            stop_btn = gr.Button("■ Stop", variant="stop", elem_id="stop",
                                                 scale=1)
                        with gr.Accordion("Settings", open=False):
                            max_new = gr.Slider(1, lim.max_new_tokens,
                                                value=min(256, lim.max_new_tokens), step=1,
                                                label="Max new tokens (all threads)")
                            threads = gr.Slider(1, lim.max_threads, value=min(8, lim.max_threads),
                                                step=1, label="Threads at once")
                            temperature = gr.Slider(0.0, 2.0, value=0.0, step=0.05,
                                                    label="Temperature (0 = greedy)")
                            top_p = gr.Slider(0.05, 1.0, value=1.0, step=0.05, label="Top-p")
                            seed = gr.Number(value=0, precision=0, minimum=0, label="Seed")
                            hub_id = gr.Textbox(
                                label="Hugging Face Hub model id (optional)",
                                placeholder="owner/name — overrides the dropdown",
                                info=("Any causal LM that takes a 4D attention mask."
                                      if config.allow_hub_models else
                                      "This Space does not load Hub models "
                                      "(allow_hub_models in spaces.yaml)."))
                status = gr.HTML(status_html("Ready. Pick an example and press ▶ Run."),
                                 elem_id="status")
                lanes = gr.HTML(EMPTY_BOARD, elem_id="lanes")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=300):
                        answer_view = gr.Radio(["Answer", "Annotated"], value="Answer",
                                               show_label=False, elem_id="answer-toggle")
                        answer = gr.Markdown(_answer_md(None), elem_id="answer",
                                             container=True, min_height=80)
                        annotated = gr.Code("", language="html", visible=False, lines=6,
                                            wrap_lines=True, label="Annotated (canonical form)",
                                            elem_id="annotated")
                    with gr.Column(scale=2, min_width=280):
                        summary = gr.HTML(charts.EMPTY_SUMMARY, elem_id="summary")
                        download = gr.DownloadButton("↓ Download the trace JSON", value=None,
                                                     visible=False, elem_id="download",
                                                     size="md")
                with gr.Tabs(elem_id="result-tabs"):
                    with gr.Tab("Charts", id="charts"):
                        fig_tokens = gr.Plot(charts.empty_figure("Tokens over time"),
                                             show_label=False, elem_id="chart-tokens")
                        fig_timeline = gr.Plot(charts.empty_figure("Timeline of threads"),
                                               show_label=False, elem_id="chart-timeline")
                        fig_steps = gr.Plot(charts.empty_figure("Threads per step"),
                                            show_label=False, elem_id="chart-steps")
                    with gr.Tab("Race replay", id="replay"):
                        replay = gr.HTML("", html_template=REPLAY_TEMPLATE,
                                         js_on_load=replay_js, elem_id="replay")
                    with gr.Tab("Step mode", id="step"):
                        with gr.Row():
                            step_start = gr.Button("Start step mode", elem_id="step-start")
                            step_next = gr.Button("Next step ▶", variant="primary",
                                                  elem_id="step-next")
                            step_stop = gr.Button("End", variant="stop", elem_id="step-stop")
                        step_info = gr.HTML(_step_info(None), elem_id="step-info")
                        step_fig = gr.Plot(_step_figure(None), show_label=False,
                                           elem_id="step-mask")
                        step_lanes = gr.HTML("", elem_id="step-lanes")

            # ---------------------------------------------------------------- Learn
            with gr.Tab("Learn", id="learn"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=320):
                        learn_text = gr.Textbox(
                            label="An annotated response — edit it", lines=8, max_lines=20,
                            value=first["answer"], elem_id="learn-text")
                        learn_examples = gr.Dataset(
                            components=["textbox"], type="index",
                            label="Load an example", samples=[[e["label"]] for e in examples])
                        learn_errors = gr.HTML(elem_id="learn-errors")
                        gr.Markdown("**Spliced text** — what the reader sees")
                        learn_spliced = gr.Textbox(show_label=False, lines=3, max_lines=10,
                                                   interactive=False, elem_id="learn-spliced")
                    with gr.Column(scale=2, min_width=280):
                        gr.Markdown(learn.EXPLAINER)
                        learn_speed = gr.HTML(elem_id="learn-speedup")
                gr.Markdown("**Structure** — the main thread with its promises and syncs, and "
                            "each chunk's thread")
                learn_structure = gr.HTML(elem_id="learn-structure")
                gr.Markdown("**Tokens and position ids** — the training sequence")
                learn_tokens = gr.HTML(elem_id="learn-tokens")
                learn_mask = gr.Plot(show_label=False, elem_id="learn-mask")

            # ---------------------------------------------------------------- Train
            trainer = Trainer(config, registry)
            build_train_tab(demo, config, trainer, model)

        # ====================================================================== wiring
        run_inputs = [prompt, model, hub_id, mode, max_new, threads, temperature, top_p, seed,
                      force_on, force_text]
        run_outputs = [status, lanes, answer, annotated, summary, fig_tokens, fig_timeline,
                       fig_steps, replay, download]

        def pick_example(i: int, model_now: str | None):
            e = examples[int(i)]
            return e["prompt"], e["answer"], ui.needs_forcing(model_now)

        example_set.click(pick_example, [example_set, model], [prompt, force_text, force_on],
                          api_name=False, queue=False)

        def on_model(model_now: str | None, force_now: str):
            return gr.update(value=ui.needs_forcing(model_now) and bool(force_now.strip()))

        model.input(on_model, [model, force_text], [force_on], api_name=False, queue=False)

        async def run(prompt_v, model_v, hub_v, mode_v, max_new_v, threads_v, temp_v, top_p_v,
                      seed_v, force_on_v, force_text_v, request: gr.Request):
            req = ui.request(prompt_v, model_v, hub_v, mode_v, max_new_v, threads_v, temp_v,
                             top_p_v, seed_v, force_on_v, force_text_v)
            board = RequestView(req.mode, req.model)
            sid = request.session_hash or uuid.uuid4().hex
            old = ui.live.pop(sid, None)
            if old is not None:
                old.cancel()
            stepped = ui.steppers.pop(sid, None)  # this tab's stepped run would hold the slot
            if stepped is not None:
                stepped.close()
            live = LiveRun(jobs, req, board)  # a full queue surfaces as its first "event"
            ui.live[sid] = live
            skip = gr.skip()
            empty = charts.empty_figure
            yield (_board_status(board, jobs), render_board(board), _answer_md(board), "",
                   charts.EMPTY_SUMMARY, empty("Tokens over time", "Running…"),
                   empty("Timeline of threads", "Running…"), empty("Threads per step", "Running…"),
                   "", gr.update(visible=False, value=None))
            try:
                last = time.monotonic()
                finished_runs = 0
                while True:
                    await live.wait(max(0.0, last + UPDATE_S - time.monotonic()))
                    fin = live.finished  # read before draining: no event can come after it
                    for ev in live.drain():
                        board.add(ev)
                    if live.error is not None:
                        raise _as_gr_error(live.error)
                    done_now = sum(v.done for v in board.runs.values())
                    if fin or done_now != finished_runs:  # a run ended: its charts too
                        finished_runs = done_now
                        views = list(board.runs.values())
                        last = time.monotonic()
                        yield (_board_status(board, jobs), render_board(board), _answer_md(board),
                               skip, skip, charts.tokens_over_time(views), charts.timeline(views),
                               charts.step_chart(views), skip, skip)
                        if fin:
                            break
                    elif time.monotonic() - last >= UPDATE_S:
                        last = time.monotonic()
                        yield (_board_status(board, jobs), render_board(board), _answer_md(board),
                               skip, skip, skip, skip, skip, skip, skip)
            finally:
                live.cancel()
                if ui.live.get(sid) is live:
                    del ui.live[sid]
            if not board.done:  # the job ended without its last events (stopped elsewhere)
                board.stopped = True
                yield (_board_status(board, jobs), render_board(board), skip, skip, skip, skip,
                       skip, skip, skip, skip)
                return
            views = list(board.runs.values())
            path = ui.write_trace(board)
            yield (_board_status(board, jobs), render_board(board), _answer_md(board),
                   _annotated(board), charts.summary_cards(views), skip, skip, skip,
                   recording(board), gr.update(value=path, visible=path is not None))

        run_evt = gr.on([run_btn.click, prompt.submit], run, run_inputs, run_outputs,
                        api_name="decode", show_progress="hidden", concurrency_limit=None)

        def stop(request: gr.Request):
            live = ui.live.pop(request.session_hash or "", None)
            if live is None:
                return status_html("Nothing is running.", "idle"), gr.skip()
            live.cancel()
            live.board.stopped = True
            return _board_status(live.board, jobs), render_board(live.board)

        stop_btn.click(stop, None, [status, lanes], cancels=[run_evt], api_name="stop",
                       queue=False)

        def toggle(which: str):
            return gr.update(visible=which == "Answer"), gr.update(visible=which != "Answer")

        answer_view.change(toggle, answer_view, [answer, annotated], api_name=False,
                           queue=False)

        # -- step mode
        def step_start_fn(prompt_v, model_v, hub_v, max_new_v, threads_v, temp_v, top_p_v,
                          seed_v, force_on_v, force_text_v, request: gr.Request):
            req = ui.request(prompt_v, model_v, hub_v, "pasta", max_new_v, threads_v, temp_v,
                             top_p_v, seed_v, force_on_v, force_text_v)
            sid = request.session_hash or ""
            old = ui.steppers.pop(sid, None)
            if old is not None:
                old.close()
            st = StepSession(jobs, req)
            try:
                st.start()
            except (SlotBusy, QueueFull) as e:
                raise gr.Error(str(e), title="Busy") from e
            except Exception as e:
                raise _as_gr_error(e) from e
            ui.steppers[sid] = st
            return _step_info(st), _step_figure(st), _step_lanes(st)

        def step_next_fn(request: gr.Request):
            st = ui.steppers.get(request.session_hash or "")
            if st is None:
                raise gr.Error("Press “Start step mode” first.", title="No stepped run")
            if st.closed:
                gr.Info("This run has ended; press “Start step mode” for a new one.")
                return _step_info(st), gr.skip(), _step_lanes(st)
            try:
                st.next()
            except Exception as e:
                raise _as_gr_error(e) from e
            return _step_info(st), _step_figure(st), _step_lanes(st)

        def step_stop_fn(request: gr.Request):
            st = ui.steppers.pop(request.session_hash or "", None)
            if st is None:
                return _step_info(None), gr.skip(), gr.skip()
            st.close()
            return _step_info(st), gr.skip(), _step_lanes(st)

        step_outputs = [step_info, step_fig, step_lanes]
        step_start.click(step_start_fn, [prompt, model, hub_id, max_new, threads, temperature,
                                         top_p, seed, force_on, force_text], step_outputs,
                         api_name="step_start", concurrency_limit=4, show_progress="minimal")
        step_next.click(step_next_fn, None, step_outputs, api_name="step_next",
                        concurrency_limit=4, show_progress="hidden")
        step_stop.click(step_stop_fn, None, step_outputs, api_name="step_stop",
                        concurrency_limit=4, show_progress="hidden")

        # -- learn
        def analyze(text: str):
            a = learn.analyze(text)
            return (a.structure_html, a.errors_html, a.spliced, a.tokens_html, a.mask_figure,
                    a.speedup_html)

        learn_outputs = [learn_structure, learn_errors, learn_spliced, learn_tokens, learn_mask,
                         learn_speed]
        learn_text.change(analyze, learn_text, learn_outputs, api_name="learn",
                          trigger_mode="always_last", show_progress="hidden",
                          concurrency_limit=2)
        learn_examples.click(lambda i: examples[int(i)]["answer"], learn_examples, learn_text,
                             api_name=False, queue=False)

        # -- page load and session end
        def on_load(model_now: str | None):
            avail, pick, note = ui.model_choices()
            value = model_now if model_now in avail else pick
            return (gr.update(choices=avail, value=value),
                    gr.update(value=f"<div class='notice'>{note}</div>", visible=bool(note)))

        demo.load(on_load, [model], [model, banner], api_name=False, queue=False)
        demo.load(analyze, learn_text, learn_outputs, api_name=False, show_progress="hidden")
        demo.unload(ui.forget)
    demo.pasta_app = ui  # type: ignore[attr-defined]
    demo.pasta_trainer = trainer  # type: ignore[attr-defined]
    return demo


def _as_gr_error(e: BaseException) -> gr.Error:
    if isinstance(e, gr.Error):
        return e
    if isinstance(e, ModelSpecError):
        return gr.Error(str(e), title="Model")
    if isinstance(e, QueueFull | SlotBusy):
        return gr.Error(str(e), title="Busy")
    if isinstance(e, SettingsError | ValueError):
        return gr.Error(str(e), title="Check the input")
    log.exception("decoding failed", exc_info=e)
    return gr.Error(f"Decoding failed: {e}", title="Error")


REPLAY_TEMPLATE = """
<div class='replay'>
  <div class='rp-bar'>
    <button class='rp-play' data-act='play' type='button'>▶ Replay the race</button>
    <span class='rp-speeds'>
      <button type='button' data-speed='1'>1×</button>
      <button type='button' data-speed='0.25' class='on'>0.25×</button>
      <button type='button' data-speed='0.1'>0.1×</button>
    </span>
    <span class='rp-clock'>0.00 s</span>
  </div>
  <div class='rp-stage'></div>
</div>
"""


def mount_ui(app: FastAPI, config: SpaceConfig, registry: ModelRegistry, jobs: JobQueue) -> None:
    """Mount the Gradio app at "/" (the API routes, registered first, keep their paths)."""
    demo = build_demo(config, registry, jobs)
    demo.queue(default_concurrency_limit=4, max_size=max(8, 4 * config.limits.queue_size))
    gr.mount_gradio_app(
        app, demo, path="/", theme=THEME, css=TRAIN_CSS, css_paths=[ASSETS / "pasta.css"],
        footer_links=["api", "gradio"], run_history=False, show_error=True,
        head='<meta name="description" content="PASTA: learned asynchronous decoding, live">')
    app.state.demo = demo


# system fonts only: the page loads nothing from outside (offline classrooms, tests)
THEME = gr.themes.Soft(primary_hue="orange", secondary_hue="amber", neutral_hue="slate",
                       font=["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto",
                             "Helvetica Neue", "Arial", "sans-serif"],
                       font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas",
                                  "monospace"])

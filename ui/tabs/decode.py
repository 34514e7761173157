"""The Decode tab: prompt, examples, model and settings → live lanes (one per thread), the spliced
answer, charts, a race replay of PASTA against sequential decoding (or of two to four methods:
sequential, PASTA, Skeleton-of-Thought, APAR-style, with one table of their figures and the
judge's scores), and step mode.

Every decoding run goes through `JobQueue.run` — the one decoding slot the HTTP API uses too —
and everything shown is read from the live view (`pasta_core.view`), the Traces and
`pasta_core.metrics`. Leaving a run (the Stop button, a closed tab) closes its event stream,
which stops it within one step. Handlers take the form by name (`inputs_kwargs`, in the order
of the `/decode` endpoint) and return updates keyed by component.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from pasta_core.events import MethodsRace
from pasta_core.settings import DEFAULT_METHODS, KNOB, METHODS
from pasta_core.view import RequestView

from .. import charts
from ..errors import as_gr_error
from ..jobs import Request as JobRequest
from ..lanes import EMPTY_BOARD, recording, render_board
from ..sessions import LiveRun, Session
from ..stepper import StepSession
from . import decode_views as views
from . import measure as measuring
from . import prompt_builder
from .common import ASSETS, App

UPDATE_S = 1 / 16  # lanes refresh up to 16 times a second (events are batched in between)
MODES = [("PASTA", "pasta"), ("Sequential", "sequential"), ("Both — race", "both"),
         ("PASTA vs base", "base"), ("Skeleton-of-Thought", "sot"), ("Race methods", "methods")]
METHODS_NOTE = ("PASTA runs the chosen model; sequential and Skeleton-of-Thought the base "
                "model; APAR-style the model trained on syntax-rule splits. Pick 2 to 4.")
FORCE_NOTE = ("Makes every thread follow this annotated answer (PASTA-LANG) while the schedule, "
              "masks and positions stay those of a real run — how a random-weight model shows "
              "real lanes, and how answers are scored. Examples fill it in.")
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


@dataclass
class DecodeForm:
    """The form's values, by name (the `/decode` endpoint's parameters, in order)."""

    prompt: str
    model: str | None
    hub_id: str
    mode: str
    max_new: float
    threads: float
    temperature: float
    top_p: float
    seed: float
    force_on: bool
    force_text: str
    methods: list[str] | None = None  # mode "methods": the methods that race


FORM_FIELDS = tuple(DecodeForm.__dataclass_fields__)
STEP_FIELDS = tuple(f for f in FORM_FIELDS if f not in ("mode", "methods"))  # always PASTA


@dataclass
class DecodeTab:
    """The Decode tab's components, by name."""

    # the form
    about: gr.HTML
    prompt: gr.Textbox
    examples: gr.Dataset
    force_on: gr.Checkbox
    force_text: gr.Textbox
    model: gr.Dropdown
    mode: gr.Radio
    methods: gr.CheckboxGroup
    run: gr.Button
    large: gr.Checkbox
    measure_n: gr.Number
    measure: gr.Button
    measure_out: gr.HTML
    stop: gr.Button
    max_new: gr.Slider
    threads: gr.Slider
    temperature: gr.Slider
    top_p: gr.Slider
    seed: gr.Number
    hub_id: gr.Textbox
    builder: dict[str, Any]
    # the live run and its results
    force_badge: gr.HTML
    status: gr.HTML
    lanes: gr.HTML
    race_table: gr.HTML
    answer_view: gr.Radio
    answer: gr.HTML
    annotated: gr.Code
    summary: gr.HTML
    download: gr.DownloadButton
    fig_tokens: gr.Plot
    fig_timeline: gr.Plot
    fig_steps: gr.Plot
    replay: gr.HTML
    # step mode
    step_start: gr.Button
    step_next: gr.Button
    step_stop: gr.Button
    step_info: gr.HTML
    step_fig: gr.Plot
    step_lanes: gr.HTML

    def form(self, fields: tuple[str, ...] = FORM_FIELDS) -> dict[str, gr.components.Component]:
        return {f: getattr(self, f) for f in fields}

    @property
    def run_outputs(self) -> list[gr.components.Component]:
        """The `/decode` endpoint's outputs, in order."""
        return [self.status, self.lanes, self.answer, self.annotated, self.summary,
                self.fig_tokens, self.fig_timeline, self.fig_steps, self.replay, self.download,
                self.race_table]

    @property
    def step_outputs(self) -> list[gr.components.Component]:
        return [self.step_info, self.step_fig, self.step_lanes]


# == layout =====================================================================================

def build(app: App) -> DecodeTab:
    """Lay out the Decode tab (call inside the app's `gr.Tabs()`)."""
    with gr.Tab("Decode", id="decode"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                prompt_part = _prompt_column(app)
            with gr.Column(scale=2, min_width=280):
                model_part = _model_column(app)
        results = _results(app.config.limits.step_idle_s,
                           app.needs_forcing(app.model_choices()[1]))
    return DecodeTab(**prompt_part, **model_part, **results)


def _prompt_column(app: App) -> dict[str, Any]:
    first = app.first_example
    about = gr.HTML(app.model_about(app.model_choices()[1]), elem_id="model-about")
    prompt = gr.Textbox(label="Prompt", value=first["prompt"], lines=3, max_lines=8,
                        elem_id="prompt", placeholder="Ask for something with parts…")
    examples = gr.Dataset(
        components=["textbox"], type="index",
        label="Examples — ∥ has parts to split, → has none",
        samples=[[("∥ " if e["parts"] else "→ ") + e["label"]] for e in app.examples],
        samples_per_page=10, elem_id="examples")
    builder = prompt_builder.build()
    with gr.Accordion("Teacher-force an annotated answer (advanced)", open=False,
                      elem_id="force-box"):
        gr.Markdown(FORCE_NOTE)
        force_on = gr.Checkbox(label="Teacher-force this answer",
                               value=app.needs_forcing(app.model_choices()[1]),
                               elem_id="force-on")
        force_text = gr.Textbox(show_label=False, value=first["answer"], lines=5, max_lines=14,
                                elem_id="force-text")
    return dict(about=about, prompt=prompt, examples=examples, force_on=force_on,
                force_text=force_text, builder=builder)


def _model_column(app: App) -> dict[str, Any]:
    lim = app.config.limits
    models, default_model, _ = app.model_choices()
    model = gr.Dropdown(models, value=default_model, label="Model", elem_id="model",
                        info="Bundled models, runs trained here, random weights for tests")
    mode = gr.Radio(MODES, value="both", label="Mode", elem_id="mode")
    methods = gr.CheckboxGroup([(m.label, m.name) for m in METHODS.values()],
                               value=list(DEFAULT_METHODS), label="Methods that race",
                               info=METHODS_NOTE, visible=False, elem_id="methods")
    with gr.Row():
        run = gr.Button("▶ Run", variant="primary", elem_id="run", scale=2)
        stop = gr.Button("■ Stop", variant="stop", elem_id="stop", scale=1)
    large = gr.Checkbox(label="Large type (for a projector)", value=False, elem_id="large-type")
    with gr.Row(equal_height=True):
        measure_n = gr.Number(3, precision=0, minimum=1, maximum=measuring.MAX_RACES,
                              label="Races", elem_id="measure-n", scale=1, min_width=80)
        measure = gr.Button("Measure: race N times", elem_id="measure", scale=2)
    measure_out = gr.HTML("", elem_id="measure-out")
    with gr.Accordion("Settings", open=False):
        # defaults from the core's one table of settings (pasta_core.settings.KNOBS)
        max_new = gr.Slider(1, lim.max_new_tokens, step=1, label="Max new tokens (all threads)",
                            value=min(KNOB["max_new_tokens"].default, lim.max_new_tokens))
        threads = gr.Slider(1, lim.max_threads, step=1, label="Threads at once",
                            value=min(KNOB["max_threads"].default, lim.max_threads))
        temperature = gr.Slider(0.0, 2.0, value=KNOB["temperature"].default, step=0.05,
                                label="Temperature (0 = greedy)")
        top_p = gr.Slider(0.05, 1.0, value=KNOB["top_p"].default, step=0.05, label="Top-p")
        seed = gr.Number(value=KNOB["seed"].default, precision=0, minimum=0, label="Seed")
        hub_id = gr.Textbox(
            label="Hugging Face Hub model id (optional)",
            placeholder="owner/name — overrides the dropdown",
            info=("Any causal LM that takes a 4D attention mask." if app.config.allow_hub_models
                  else "This Space does not load Hub models (allow_hub_models in spaces.yaml)."))
    return dict(model=model, mode=mode, methods=methods, run=run, large=large, measure_n=measure_n,
                measure=measure, measure_out=measure_out, stop=stop, max_new=max_new,
                threads=threads, temperature=temperature, top_p=top_p, seed=seed, hub_id=hub_id)


def _results(idle_s: float, forced: bool) -> dict[str, Any]:
    force_badge = gr.HTML(views.force_badge(forced), elem_id="force-badge")
    status = gr.HTML(views.status_html("Ready. Pick an example and press ▶ Run."),
                     elem_id="status")
    lanes = gr.HTML(EMPTY_BOARD, elem_id="lanes")
    # a methods race's table: every method's figures and the judge's scores, under its lanes
    race_table = gr.HTML("", elem_id="race-table")
    replay = gr.HTML("", html_template=REPLAY_TEMPLATE, elem_id="replay",
                     js_on_load=(ASSETS / "replay.js").read_text(encoding="utf-8"))
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300):
            answer_view = gr.Radio(["Answer", "Annotated"], value="Answer", show_label=False,
                                   elem_id="answer-toggle")
            # plain text, never Markdown: a stopped "Lithium\n-" must not become a heading
            answer = gr.HTML(views.answer_md(None), elem_id="answer", container=True,
                             min_height=80)
            annotated = gr.Code("", language="html", visible=False, lines=6, wrap_lines=True,
                                label="Annotated (canonical form)", elem_id="annotated")
        with gr.Column(scale=2, min_width=280):
            summary = gr.HTML(charts.EMPTY_SUMMARY, elem_id="summary")
            download = gr.DownloadButton("↓ Download the trace JSON", value=None, visible=False,
                                         elem_id="download", size="md")
    with gr.Tabs(elem_id="result-tabs"):
        with gr.Tab("Charts", id="charts"):
            gr.HTML("<div class='muted charts-hint'>The charts appear when a run ends.</div>",
                    elem_id="charts-hint")
            # hidden until a run has drawn them: no empty axes before anything ran
            fig_tokens = gr.Plot(None, show_label=False, elem_id="chart-tokens", visible=False)
            fig_timeline = gr.Plot(None, show_label=False, elem_id="chart-timeline",
                                   visible=False)
            fig_steps = gr.Plot(None, show_label=False, elem_id="chart-steps", visible=False)
        with gr.Tab("Step mode", id="step"):
            with gr.Row():
                step_start = gr.Button("Start step mode", elem_id="step-start")
                step_next = gr.Button("Next step ▶", variant="primary", elem_id="step-next")
                step_stop = gr.Button("End", variant="stop", elem_id="step-stop")
            step_info = gr.HTML(views.step_info(None, idle_s), elem_id="step-info")
            step_fig = gr.Plot(views.step_figure(None), show_label=False, elem_id="step-mask")
            step_lanes = gr.HTML("", elem_id="step-lanes")
    return dict(force_badge=force_badge, status=status, lanes=lanes, race_table=race_table,
                answer_view=answer_view,
                answer=answer, annotated=annotated, summary=summary, download=download,
                fig_tokens=fig_tokens, fig_timeline=fig_timeline, fig_steps=fig_steps,
                replay=replay,
                step_start=step_start, step_next=step_next, step_stop=step_stop,
                step_info=step_info, step_fig=step_fig, step_lanes=step_lanes)


# == the form → a decoding request =============================================================

def make_request(app: App, form: DecodeForm, owner: str = "") -> JobRequest:
    """The validated request of a form (`owner`: the session, for the per-client queue
    limit), or a `gr.Error` saying what to fix."""
    spec = (form.hub_id or "").strip() or (form.model or "")
    if not spec:
        raise gr.Error("Choose a model first.", title="No model")
    if not (form.prompt or "").strip():
        raise gr.Error("The prompt is empty: write a question or an instruction, or pick "
                       "an example.", title="Empty prompt")
    force = None
    if form.force_on:
        if not (form.force_text or "").strip():
            raise gr.Error("Teacher forcing is on but its answer box is empty: paste an "
                           "annotated answer or turn forcing off.", title="Nothing to force")
        force = form.force_text
    lim = app.config.limits
    try:
        settings = {"max_new_tokens": int(form.max_new), "max_threads": int(form.threads),
                    "max_thread_tokens": min(KNOB["max_thread_tokens"].default,
                                             lim.max_thread_tokens),
                    "temperature": float(form.temperature), "top_p": float(form.top_p),
                    "seed": int(form.seed)}
    except (TypeError, ValueError) as e:
        raise gr.Error(f"A setting is not a number: {e}", title="Bad setting") from e
    # none ticked is an error of the request's own check (settings.check_methods), not the
    # default methods: only a request that names no methods at all races those
    methods = tuple(form.methods or ()) if form.mode == "methods" else ()
    req = JobRequest(spec, form.prompt, form.mode, force, settings, owner, methods)
    try:
        app.jobs.validate(req)
    except Exception as e:
        raise as_gr_error(e, "checking the request", invalid_title="Check the settings") from e
    return req


# == wiring =====================================================================================

def wire(app: App, tab: DecodeTab) -> None:
    """Connect the Decode tab's events (api_names are the public endpoints: keep them)."""
    _wire_form(app, tab)
    gr.on([tab.run.click, tab.prompt.submit], _run_handler(app, tab),
                    inputs_kwargs=tab.form(), outputs=tab.run_outputs, api_name="decode",
                    show_progress="hidden", concurrency_limit=None)

    async def stop(request: gr.Request) -> dict[Any, Any]:
        """Whatever the moment, the page ends consistent: a finished request is shown whole
        (its last update may be the one cancelled here), a cut one says what finished and
        what was cut; with nothing ever run, nothing changes."""
        session = app.sessions.peek(app.sessions.key(request))
        if session is not None:
            session.measuring = False  # a Measure in progress ends after its current step
        live = (session.stop_live() or session.last) if session is not None else None
        if live is None:  # nothing ever ran here: the page stays as it is
            return {tab.status: gr.skip()}
        for ev in live.drain():  # on the event loop, as the run's own loop: no race
            live.view.add(ev)
        return _final_update(app, tab, live.view, session)

    async def measure(request: gr.Request, n: float, **form: Any) -> AsyncIterator[str]:
        """The race N times (mode both), its wall ratio's median and range."""
        sid = app.sessions.key(request, fresh=True)
        req = make_request(app, DecodeForm(**{**form, "mode": "both"}), sid)
        count = max(1, min(int(n or 1), measuring.MAX_RACES))
        session = app.sessions.get(sid)
        session.measuring = True
        async for html in measuring.measure(app.jobs, req, count,
                                            lambda: not session.measuring):
            yield html

    tab.measure.click(measure, inputs_kwargs={"n": tab.measure_n, **tab.form()},
                      outputs=tab.measure_out, api_name="measure", show_progress="hidden",
                      concurrency_limit=None)
    # no `cancels`: a cancelled event marks its outputs "Error". Stop ends the run through the
    # session instead; the run's own handler then draws the cut run within one step.
    tab.stop.click(stop, None, tab.run_outputs, api_name="stop", queue=False,
                   show_progress="hidden")
    _wire_step_mode(app, tab)


def _wire_form(app: App, tab: DecodeTab) -> None:
    def pick_example(i: int, model_now: str | None) -> dict[Any, Any]:
        e = app.examples[int(i)]
        return {tab.prompt: e["prompt"], tab.force_text: e["answer"],
                tab.force_on: app.needs_forcing(model_now)}

    tab.examples.click(pick_example, [tab.examples, tab.model],
                       [tab.prompt, tab.force_text, tab.force_on], api_name=False, queue=False)

    def on_model(model_now: str | None, force_now: str) -> dict[Any, Any]:
        return {tab.force_on: app.needs_forcing(model_now) and bool(force_now.strip()),
                tab.about: app.model_about(model_now)}

    tab.model.input(on_model, [tab.model, tab.force_text], [tab.force_on, tab.about],
                    api_name=False)
    # a prompt typed by hand is a new question: the forced answer no longer fits it
    tab.prompt.input(lambda: False, None, tab.force_on, api_name=False, queue=False,
                     show_progress="hidden")
    tab.force_on.change(views.force_badge, tab.force_on, tab.force_badge, api_name=False,
                        queue=False, show_progress="hidden")
    prompt_builder.wire(tab.builder, tab.prompt, tab.force_on)
    tab.large.change(None, tab.large, None, api_name=False, queue=False,
                     js="(on) => { document.body.classList.toggle('pasta-large', on); return []; }")

    def toggle(which: str) -> dict[Any, Any]:
        return {tab.answer: gr.update(visible=which == "Answer"),
                tab.annotated: gr.update(visible=which != "Answer")}

    tab.mode.change(lambda m: gr.update(visible=m == "methods"), tab.mode, tab.methods,
                    api_name=False, queue=False, show_progress="hidden")
    tab.answer_view.change(toggle, tab.answer_view, [tab.answer, tab.annotated], api_name=False,
                           queue=False)


def _run_handler(app: App, tab: DecodeTab) -> Callable[..., AsyncIterator[dict[Any, Any]]]:
    """The `/decode` handler: start the run, then redraw from its events as they arrive."""

    async def run(request: gr.Request, **form: Any) -> AsyncIterator[dict[Any, Any]]:
        sid = app.sessions.key(request, fresh=True)
        req = make_request(app, DecodeForm(**form), sid)
        view = RequestView(req.mode, req.model, req.methods)
        session = app.sessions.get(sid)
        session.stop_live()
        session.close_stepper()  # this tab's stepped run would hold the slot
        live = LiveRun(app.jobs, req, view, start=False)
        session.live = session.last = live
        yield _first_update(app, tab, view)
        # started once the first update is drawn: Gradio rebuilds the components it hides, and
        # that work would slow the race's first steps (PASTA's: it steps first) on this
        # process's lock. A Stop in between ends it unstarted
        live.start()  # a full queue surfaces as its first "event"
        try:
            async for update in _follow(app, tab, live):
                yield update
        finally:
            live.cancel()
            if session.live is live:
                session.live = None
            if not getattr(request, "session_hash", None):
                app.sessions.drop_if_idle(sid)
        yield _final_update(app, tab, view, session)

    return run


def _first_update(app: App, tab: DecodeTab, view: RequestView) -> dict[Any, Any]:
    """The page as a request starts (before its job joins the line): the results emptied
    (`_unchanged`), the charts and the download hidden."""
    return {**_unchanged(tab),
            tab.status: views.board_status(view, app.jobs, joined=False),
            tab.lanes: render_board(view), tab.answer: views.answer_md(view),
            tab.fig_tokens: gr.update(visible=False), tab.fig_timeline: gr.update(visible=False),
            tab.fig_steps: gr.update(visible=False),
            tab.download: gr.update(visible=False, value=None)}


def _unchanged(tab: DecodeTab) -> dict[Any, Any]:
    """The outputs a live update does not change, as `_first_update` leaves them (it also hides
    the charts and the download, once). A live update sends them as values, not left out:
    Gradio 6 treats an output a handler leaves out as an
    empty update and rebuilds its component, config and API schema every time. On this
    process's one interpreter lock that work, 8 components 16 times a second, made the page's
    decoding steps about 2× slower than the library's and its races too noisy to judge
    (bench/results-cpu/page-races.md)."""
    return {tab.annotated: "", tab.summary: charts.EMPTY_SUMMARY, tab.fig_tokens: None,
            tab.fig_timeline: None, tab.fig_steps: None, tab.replay: "", tab.download: None,
            tab.race_table: ""}


async def _follow(app: App, tab: DecodeTab, live: LiveRun) -> AsyncIterator[dict[Any, Any]]:
    """Updates while the run goes: lanes up to 16 times a second, and at once when a run ends.
    The charts wait for the final update, when every run has ended: built while the opponent
    still races, they would slow its steps alone (this process's one interpreter lock) and the
    race would no longer be fair. Each update names every output (`_unchanged`)."""
    view = live.view
    last = time.monotonic()
    finished_runs = 0
    unchanged = _unchanged(tab)
    while True:
        await live.wait(max(0.0, last + UPDATE_S - time.monotonic()))
        fin = live.finished  # read before draining: no event can come after it
        for ev in live.drain():
            view.add(ev)
        if live.error is not None:
            raise as_gr_error(live.error) from live.error
        done_now = sum(v.done for v in view.runs.values())
        lanes = {tab.status: views.board_status(view, app.jobs), tab.lanes: render_board(view),
                 tab.answer: views.answer_md(view)}
        if fin:
            return  # `_final_update` draws the finished request, charts included
        if done_now != finished_runs or time.monotonic() - last >= UPDATE_S:
            finished_runs = done_now
            last = time.monotonic()
            yield {**lanes, **unchanged}


def _charts(tab: DecodeTab, runs: list[Any]) -> dict[Any, Any]:
    """The three charts of the runs that have events, shown."""
    return {tab.fig_tokens: gr.update(value=charts.tokens_over_time(runs), visible=True),
            tab.fig_timeline: gr.update(value=charts.timeline(runs), visible=True),
            tab.fig_steps: gr.update(value=charts.step_chart(runs), visible=True)}


def _final_update(app: App, tab: DecodeTab, view: RequestView,
                  session: Session) -> dict[Any, Any]:
    runs = [v for v in view.runs.values() if v.started]
    if not view.done:  # stopped, or the job ended without its last events
        view.stopped = True
        cut = {tab.status: views.board_status(view, app.jobs), tab.lanes: render_board(view),
               tab.answer: views.answer_md(view)}
        return {**cut, **_charts(tab, runs)} if any(v.done for v in runs) else cut
    path = app.write_trace(view)
    if path is not None:
        session.files.append(path)
    comp, judged = view.comparison(), app.judge(view)
    return {**_charts(tab, runs),
            tab.race_table: charts.methods_table(comp, judged)
            if isinstance(comp, MethodsRace) else "",
            tab.status: views.board_status(view, app.jobs), tab.lanes: render_board(view),
            tab.answer: views.answer_md(view), tab.annotated: views.annotated(view),
            tab.summary: charts.summary_cards(list(view.runs.values()), comp, judged),
            tab.replay: recording(view),
            tab.download: gr.update(value=str(path) if path else None, visible=path is not None)}


def _wire_step_mode(app: App, tab: DecodeTab) -> None:
    def shown(st: StepSession | None, figure: bool = True) -> dict[Any, Any]:
        out = {tab.step_info: views.step_info(st), tab.step_lanes: views.step_lanes(st)}
        return {**out, tab.step_fig: views.step_figure(st)} if figure else out

    def start(request: gr.Request, **form: Any) -> dict[Any, Any]:
        sid = app.sessions.key(request)
        req = make_request(app, DecodeForm(mode="pasta", **form), sid)
        session = app.sessions.get(sid)
        session.close_stepper()
        st = StepSession(app.jobs, req)
        try:
            st.start()
        except Exception as e:
            raise as_gr_error(e) from e
        session.stepper = st
        return shown(st)

    def step(request: gr.Request) -> dict[Any, Any]:
        session = app.sessions.peek(app.sessions.key(request))
        st = session.stepper if session is not None else None
        if st is None:
            raise gr.Error("Press “Start step mode” first.", title="No stepped run")
        if st.closed:
            gr.Info("This run has ended; press “Start step mode” for a new one.")
            return shown(st, figure=False)
        try:
            st.next()
        except Exception as e:
            raise as_gr_error(e) from e
        return shown(st)

    def end(request: gr.Request) -> dict[Any, Any]:
        session = app.sessions.peek(app.sessions.key(request))
        st = session.close_stepper() if session is not None else None
        if st is None:
            return {tab.step_info: views.step_info(None, app.config.limits.step_idle_s)}
        return shown(st, figure=False)

    tab.step_start.click(start, inputs_kwargs=tab.form(STEP_FIELDS), outputs=tab.step_outputs,
                         api_name="step_start", concurrency_limit=4, show_progress="minimal")
    tab.step_next.click(step, None, tab.step_outputs, api_name="step_next", concurrency_limit=4,
                        show_progress="hidden")
    tab.step_stop.click(end, None, tab.step_outputs, api_name="step_stop", concurrency_limit=4,
                        show_progress="hidden")

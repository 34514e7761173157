"""The Train tab: `build()` lays it out and returns its components by name, `wire()` connects
them. The train handler reads its inputs by name (`TRAIN_FIELDS`, the `/train` endpoint's
order), so adding a setting is one name here and one component in `build()`.

The figures, HTML and the per-session record (`TrainUI`) are in `ui/train_tab.py`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import gradio as gr

from ..config import SpaceConfig
from ..sessions import Sessions
from ..train_tab import (
    ADVANCED,
    DATA_CHOICES,
    INTRO,
    SLOT_S,
    STAGE2_NOTE,
    STAGE_CHOICES,
    TICK_S,
    TrainUI,
    _stem,
    data_report,
    estimate_html,
    idle_html,
    limits_note,
    loss_figure,
    progress_html,
    scatter_figure,
    slot_html,
    table_html,
)
from ..training import PRESETS, Trainer, TrainError, default_start, next_free_name
from ..training import preset as preset_values

# the `/train` endpoint's inputs, in its order (clients pass them positionally)
TRAIN_FIELDS = ("start", "hub", "data_src", "data_file", "skip_bad", "stages", "name",
                "overwrite", *ADVANCED)
TRAIN_OUTPUTS = ("progress", "loss_plot", "scatter", "table", "decode_model", "start", "name")
Handles = dict[str, Any]


def build(config: SpaceConfig, trainer: Trainer) -> Handles:
    """Lay out the tab (call inside the app's `gr.Tabs()`); returns its components by name."""
    h: Handles = {}
    with gr.Tab("Train", id="train"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                _what(h, config, trainer)
            with gr.Column(scale=2, min_width=280):
                _how(h, config, trainer)
        with gr.Accordion("Advanced settings", open=False, elem_id="train-advanced"):
            gr.HTML(f"<div class='tr-limits'>{limits_note(config)}</div>")
            _advanced(h, config)
        h["progress"] = gr.HTML(progress_html(None, None, trainer), elem_id="train-progress")
        h["slot_timer"] = gr.Timer(SLOT_S)  # the slot's state, live, for a visitor without a job
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=320):
                h["loss_plot"] = gr.Plot(loss_figure(None), show_label=False,
                                         elem_id="train-loss")
            with gr.Column(scale=1, min_width=320):
                h["scatter"] = gr.Plot(scatter_figure(None), show_label=False,
                                       elem_id="train-scatter")
        h["table"] = gr.HTML(table_html(None), elem_id="train-table")
    return h


def _what(h: Handles, config: SpaceConfig, trainer: Trainer) -> None:
    """Start model, data, stages."""
    choices = trainer.choices()
    gr.Markdown(INTRO, elem_id="train-intro")
    with gr.Row():
        h["start"] = gr.Dropdown(choices, value=default_start(config, choices),
                                 label="Start model", elem_id="train-start",
                                 info="Bundled models, runs trained here, random weights (for "
                                      "tests)")
        h["hub"] = gr.Textbox(label="…or a Hugging Face Hub id", elem_id="train-hub",
                              placeholder="owner/name — overrides the list",
                              info=("Any causal LM that takes a 4D attention mask."
                                    if config.allow_hub_models else
                                    "Off on this server (allow_hub_models in spaces.yaml)."))
    h["data_src"] = gr.Radio(DATA_CHOICES, value="world", label="Data", elem_id="train-data")
    with gr.Group(visible=False, elem_id="train-upload") as h["upload_box"]:
        h["data_file"] = gr.File(label='JSONL: one {"prompt", "annotated"} object per line, '
                                       "annotated in canonical PASTA-LANG",
                                 file_types=[".jsonl", ".json", ".txt"], type="filepath",
                                 elem_id="train-file", height=120)
        h["skip_bad"] = gr.Checkbox(label="Skip bad lines (train on the good ones)",
                                    value=False, elem_id="train-skip-bad")
        h["report"] = gr.HTML("", elem_id="train-data-report", padding=False)
    h["stages"] = gr.Radio(STAGE_CHOICES, value="both", label="Stages", elem_id="train-stages")
    gr.Markdown(STAGE2_NOTE, elem_classes=["tr-note"])


def _how(h: Handles, config: SpaceConfig, trainer: Trainer) -> None:
    """Preset and its measured time, run name, the buttons."""
    h["preset"] = gr.Radio(list(PRESETS), value="CPU demo", label="Preset",
                           elem_id="train-preset",
                           info="“CPU demo”: a short run sized for a 2-core CPU. “Full”: the "
                                "paper's shape of a run, for a GPU.")
    p = preset_values("CPU demo", config.training)
    start = default_start(config, trainer.choices())
    h["estimate"] = gr.HTML(estimate_html(trainer, start, "both", p | {"seed": 0}),
                            elem_id="train-estimate")
    with gr.Row():
        h["name"] = gr.Textbox(label="Run name → runs/<name>", value="pasta-run-1",
                               elem_id="train-name", scale=3, info="Letters, digits, - _ .")
        h["overwrite"] = gr.Checkbox(label="Overwrite", value=False, elem_id="train-overwrite",
                                     scale=1, info="an existing run")
    with gr.Row():
        h["go_btn"] = gr.Button("▶ Train", variant="primary", elem_id="train-go", scale=2)
        h["cancel_btn"] = gr.Button("■ Cancel", variant="stop", elem_id="train-cancel",
                                    scale=1)


def _num(h: Handles, key: str, p: dict, label: str, elem: str, **kw) -> None:
    h[key] = gr.Number(p[key], label=label, elem_id=f"train-{elem}", **kw)


def _advanced(h: Handles, config: SpaceConfig) -> None:
    """The advanced settings, named as TrainSettings names them (ADVANCED)."""
    t = config.training
    p = preset_values("CPU demo", t) | {"seed": 0}
    with gr.Row(equal_height=False):
        with gr.Column(min_width=240, elem_classes=["tr-adv"]):
            gr.Markdown("**Data and evaluation**")
            with gr.Row():
                _num(h, "examples", p, "World examples", "examples", precision=0, minimum=1,
                     maximum=t.max_examples)
                _num(h, "seed", p, "Seed", "seed", precision=0, minimum=0)
            _num(h, "eval_prompts", p, "Evaluation prompts (test split)", "eval",
                 precision=0, minimum=1, maximum=t.max_eval_prompts)
        with gr.Column(min_width=240, elem_classes=["tr-adv"]):
            gr.Markdown("**Stage 1 · SFT**")
            with gr.Row():
                _num(h, "lr", p, "Learning rate", "lr", minimum=0)
                _num(h, "epochs", p, "Epochs", "epochs", minimum=0)
            with gr.Row():
                _num(h, "max_steps", p, "Max steps (0 = all)", "max-steps", precision=0,
                     minimum=0)
                _num(h, "batch_tokens", p, "Batch (padded tokens)", "batch", precision=0,
                     minimum=128)
            with gr.Row():
                _num(h, "grammar_weight", p, "Tag-grammar weight", "grammar", minimum=0,
                     info="penalty on tags a thread may never write (main: </async>)")
                h["lora"] = gr.Checkbox(False, label="LoRA adapters (needs peft)",
                                        elem_id="train-lora")
        with gr.Column(scale=2, min_width=320, elem_classes=["tr-adv"]):
            gr.Markdown("**Stage 2 · BoNBoN** — max steps applies per round")
            with gr.Row():
                _num(h, "prompts", p, "Prompts per round", "prompts", precision=0, minimum=1,
                     maximum=t.max_stage2_prompts)
                _num(h, "n_samples", p, "N samples", "n-samples", precision=0, minimum=2,
                     maximum=16)
                _num(h, "rounds", p, "Rounds", "rounds", precision=0, minimum=1, maximum=20)
                _num(h, "sample_tokens", p, "Tokens per sample", "sample-tokens", precision=0,
                     minimum=4, maximum=1024)
            with gr.Row():
                _num(h, "lam", p, "λ (quality weight)", "lam", minimum=0)
                _num(h, "beta", p, "β (IPO)", "beta", minimum=0)
                _num(h, "alpha", p, "α (SFT share)", "alpha", minimum=0, maximum=1)
                _num(h, "lr2", p, "Learning rate", "lr2", minimum=0)
                _num(h, "epochs2", p, "Epochs per round", "epochs2", minimum=0)


def wire(demo: gr.Blocks, h: Handles, config: SpaceConfig, trainer: Trainer,
         sessions: Sessions) -> None:
    """Connect the tab's events. `h["decode_model"]`: the Decode tab's model dropdown,
    refreshed when a run is saved. A tab's job is kept on its session (`ui.sessions`: the
    app's one unload hook cancels it). The `api_name`s are the app's public endpoints."""
    tui = TrainUI(config, trainer, sessions)
    adv_inputs = [h[k] for k in ADVANCED]

    def on_data(src: str):
        return gr.update(visible=src == "upload"), "" if src == "world" else gr.skip()

    h["data_src"].change(on_data, h["data_src"], [h["upload_box"], h["report"]],
                         api_name=False, queue=False)

    def check(path: Any) -> str:
        """The uploaded file's bad lines, each with its number and the parser's error."""
        out = data_report(path.get("path") if isinstance(path, dict) else path)
        if "tr-data-bad" in out:
            gr.Warning("The JSONL file has bad lines: see the list under the upload.")
        return out

    h["data_file"].change(check, h["data_file"], h["report"], api_name="train_check",
                          show_progress="minimal", concurrency_limit=2)

    def on_preset(name_v: str):
        p = preset_values(name_v, config.training)
        return [gr.update(value=p[k]) if k in p else gr.skip() for k in ADVANCED]

    h["preset"].change(on_preset, h["preset"], adv_inputs, api_name=False, queue=False)

    def on_form(start: str | None, hub: str | None, stages: str | None, **numbers: Any) -> str:
        """The run's time from measured step times, whenever the form changes."""
        return estimate_html(trainer, (hub or "").strip() or start, stages, numbers)

    gr.on([h[k].change for k in ("start", "hub", "stages", *ADVANCED)], on_form,
          inputs_kwargs={"start": h["start"], "hub": h["hub"], "stages": h["stages"],
                         **{k: h[k] for k in ADVANCED}},
          outputs=h["estimate"], api_name=False, queue=False, show_progress="hidden")

    async def train(request: gr.Request, *values: Any):
        # Gradio passes the request first (by its annotation), then TRAIN_FIELDS' values
        async for out in _train(tui, trainer, dict(zip(TRAIN_FIELDS, values, strict=True)),
                                request.session_hash or ""):
            yield out

    h["go_btn"].click(train, [h[k] for k in TRAIN_FIELDS], [h[k] for k in TRAIN_OUTPUTS],
                      api_name="train", show_progress="hidden", concurrency_limit=None)

    def cancel(request: gr.Request) -> str:
        session = sessions.peek(Sessions.key(request))
        job = session.training if session is not None else None
        if job is None or job.finished:
            return ("<div class='tr-progress' data-state='idle'><div class='tr-head'>Nothing "
                    "is training from this tab.</div></div>")
        trainer.cancel(job)
        return progress_html(job.snapshot(), job, trainer)

    h["cancel_btn"].click(cancel, None, h["progress"], api_name="train_cancel", queue=False)

    def on_load():
        ch = trainer.choices()
        return (gr.update(choices=ch, value=default_start(config, ch)),
                gr.update(value=next_free_name("pasta-run", trainer.busy_names())),
                idle_html(trainer))  # the slot's real state, not a static "Ready"

    demo.load(on_load, None, [h["start"], h["name"], h["progress"]], api_name=False,
              queue=False)

    def slot_state(request: gr.Request) -> Any:
        """The training slot as it is now, for a visitor with no job of their own."""
        shown = slot_html(sessions.peek(Sessions.key(request)), trainer)
        return gr.skip() if shown is None else shown

    h["slot_timer"].tick(slot_state, None, h["progress"], api_name=False, queue=False,
                         show_progress="hidden")


async def _train(tui: TrainUI, trainer: Trainer, values: dict[str, Any], sid: str):
    """Submit a job from the form's values, then stream its progress until it ends."""
    s = tui.settings(values)
    session = tui.sessions.get(sid)
    if session.training_live:
        raise gr.Error("This tab already has a training job; cancel it first.",
                       title="Already training")
    try:
        job = trainer.submit(s, owner=sid)
    except TrainError as e:
        raise gr.Error(str(e), title="Cannot train") from e
    session.training, session.trainer = job, trainer
    skip, seen = gr.skip(), {}

    def changed(snap, *keys: str) -> bool:
        hit = False
        for k in keys:
            v = snap.version.get(k, 0)
            if seen.get(k) != v:
                seen[k], hit = v, True
        return hit

    try:
        while True:
            snap = job.snapshot()
            done = snap.state in ("done", "cancelled", "failed")
            avail = trainer.available() if (changed(snap, "saved") or done) else None
            yield (progress_html(snap, job, trainer),
                   loss_figure(snap) if changed(snap, "loss") or done else skip,
                   scatter_figure(snap) if changed(snap, "points") or done else skip,
                   table_html(snap) if changed(snap, "evals") or done else skip,
                   gr.update(choices=avail) if avail is not None else skip,
                   gr.update(choices=trainer.choices()) if avail is not None else skip,
                   gr.update(value=next_free_name(_stem(s.name), trainer.busy_names()))
                   if done and snap.saved else skip)
            if done:
                break
            await asyncio.sleep(TICK_S)
    finally:
        if not job.finished:  # the page went away (or the event was cancelled)
            trainer.cancel(job)

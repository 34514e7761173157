"""The web app (Gradio 6 Blocks), mounted at "/" on the API's FastAPI app by `python app.py`.

This file only assembles the tabs and mounts them; each tab lives in its own module:
  Decode  ui/tabs/decode.py  prompt, examples, model and settings → live lanes (one per
          thread), the spliced answer, charts, a race replay, step mode
  Learn   ui/tabs/learn.py   an annotated response taken apart live: structure, errors, splice,
          positions, mask
  Train   ui/train_tab.py    both finetuning stages from the browser, live (ui/training.py); it
          has its own training slot and never holds the decoding slot
Per-session state (live runs, stepped runs, trace files) is in `ui.sessions`, freed by one
unload hook; domain errors become visitor messages in `ui.errors`.
"""

from __future__ import annotations

import logging

import gradio as gr
from fastapi import FastAPI

from . import learn
from .config import SpaceConfig
from .jobs import JobQueue, ModelRegistry
from .tabs import decode as decode_tab
from .tabs import learn as learn_tab
from .tabs.common import ASSETS, App
from .train_tab import CSS as TRAIN_CSS
from .train_tab import build_train_tab
from .training import Trainer

log = logging.getLogger(__name__)

__all__ = ["App", "build_demo", "mount_ui"]

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
    """The Blocks: layout first (header, notice, the three tabs), wiring after."""
    warm_up()
    app = App(config, registry, jobs)
    _, _, notice = app.model_choices()
    # delete_cache: downloaded traces older than an hour leave Gradio's cache every hour
    with gr.Blocks(title=config.title, analytics_enabled=False,
                   delete_cache=(3600, 3600)) as demo:
        gr.HTML(HEADER)
        banner = gr.HTML(f"<div class='notice'>{notice}</div>", visible=bool(notice),
                         elem_id="model-notice")
        with gr.Tabs():
            decode = decode_tab.build(app)
            learn_ = learn_tab.build(app)
            trainer = Trainer(config, registry)
            build_train_tab(demo, config, trainer, decode.model, app.sessions)  # wires itself

        decode_tab.wire(app, decode)

        def on_load(model_now: str | None) -> dict:
            avail, pick, note = app.model_choices()
            value = model_now if model_now in avail else pick
            return {decode.model: gr.update(choices=avail, value=value),
                    decode.about: app.model_about(value),
                    banner: gr.update(value=f"<div class='notice'>{note}</div>",
                                      visible=bool(note))}

        demo.load(on_load, [decode.model], [decode.model, decode.about, banner], api_name=False,
                  queue=False)
        learn_tab.wire(app, learn_, demo)
        demo.unload(app.sessions.end)  # one hook frees all a session holds
    demo.pasta_app = app  # type: ignore[attr-defined]
    demo.pasta_trainer = trainer  # type: ignore[attr-defined]
    return demo


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

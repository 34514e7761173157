"""The Learn tab: an annotated response taken apart live, with no model (`ui.learn` does the
work: structure, errors, splice, token positions, the training mask, the speed-up)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from .. import learn
from .common import App


@dataclass
class LearnTab:
    """The Learn tab's components, by name."""

    text: gr.Textbox
    by_rules: gr.Button
    examples: gr.Dataset
    errors: gr.HTML
    spliced: gr.Textbox
    speedup: gr.HTML
    structure: gr.HTML
    tokens: gr.HTML
    mask: gr.Plot

    @property
    def outputs(self) -> list[gr.components.Component]:
        """The `/learn` endpoint's outputs, in order."""
        return [self.structure, self.errors, self.spliced, self.tokens, self.mask, self.speedup]


def build(app: App) -> LearnTab:
    """Lay out the Learn tab (call inside the app's `gr.Tabs()`)."""
    with gr.Tab("Learn", id="learn"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                text = gr.Textbox(label="An annotated response — edit it", lines=8,
                                  max_lines=20, value=app.first_example["answer"],
                                  elem_id="learn-text")
                by_rules = gr.Button("✂ Split by syntax rules instead (APAR-style)", size="sm",
                                     elem_id="learn-by-rules")
                examples = gr.Dataset(components=["textbox"], type="index",
                                      label="Load an example",
                                      samples=[[e["label"]] for e in app.examples])
                errors = gr.HTML(elem_id="learn-errors")
                gr.Markdown("**Spliced text** — what the reader sees")
                spliced = gr.Textbox(show_label=False, lines=3, max_lines=10, interactive=False,
                                     elem_id="learn-spliced")
            with gr.Column(scale=2, min_width=280):
                gr.Markdown(learn.EXPLAINER)
                speedup = gr.HTML(elem_id="learn-speedup")
        gr.Markdown("**Structure** — the main thread with its promises and syncs, and each "
                    "chunk's thread")
        structure = gr.HTML(elem_id="learn-structure")
        gr.Markdown("**Tokens and position ids** — the training sequence")
        tokens = gr.HTML(elem_id="learn-tokens")
        mask = gr.Plot(show_label=False, elem_id="learn-mask")
    return LearnTab(text, by_rules, examples, errors, spliced, speedup, structure, tokens, mask)


def wire(app: App, tab: LearnTab, demo: gr.Blocks) -> None:
    """Connect the Learn tab: every edit is analysed again; the page load draws the first."""

    def analyze(text: str) -> dict[Any, Any]:
        a = learn.analyze(text)
        return {tab.structure: a.structure_html, tab.errors: a.errors_html,
                tab.spliced: a.spliced, tab.tokens: a.tokens_html, tab.mask: a.mask_figure,
                tab.speedup: a.speedup_html}

    tab.text.change(analyze, tab.text, tab.outputs, api_name="learn", trigger_mode="always_last",
                    show_progress="hidden", concurrency_limit=2)
    tab.examples.click(lambda i: app.examples[int(i)]["answer"], tab.examples, tab.text,
                       api_name=False, queue=False)
    # the same answer split where its syntax allows (lists, paragraphs), not where it is safe
    tab.by_rules.click(learn.split_by_rules, tab.text, tab.text, api_name="learn_by_rules",
                       queue=False)
    demo.load(analyze, tab.text, tab.outputs, api_name=False, show_progress="hidden")

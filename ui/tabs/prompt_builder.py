"""What the model knows, next to the prompt box: the bundled world's categories with clickable
entities, and a prompt builder (a request kind + 2–8 entities → a phrasing the shipped model was
trained on, `pasta_core.world.builder`)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from pasta_core.world import builder

CATALOG = builder.catalog()
CATEGORY_TITLES = [title for title, _ in CATALOG]
ALL_ENTITIES = sorted({name for _, names in CATALOG for name in names})
DEFAULT_PICK = ["Lithium", "Giraffe", "Mars"]


def entity_samples(title: str | None) -> list[list[str]]:
    names = dict(CATALOG).get(title or "", [])
    return [[n] for n in names]


def build() -> dict[str, Any]:
    """The builder's components (call inside the prompt column)."""
    with gr.Accordion("What the model knows — build a prompt", open=True,
                      elem_id="builder"):
        category = gr.Dropdown(CATEGORY_TITLES, value=CATEGORY_TITLES[0],
                               label="The world's categories", elem_id="category")
        entities = gr.Dataset(components=["textbox"], samples=entity_samples(CATEGORY_TITLES[0]),
                              label="Click a thing to add it to the builder",
                              samples_per_page=40, elem_id="entities")
        with gr.Row(equal_height=True):
            kind = gr.Radio([(label, k) for k, (label, _, _) in builder.KINDS.items()],
                            value="describe", label="Request", elem_id="kind", scale=3)
        with gr.Row(equal_height=True):
            picked = gr.Dropdown(ALL_ENTITIES, value=DEFAULT_PICK, multiselect=True,
                                 max_choices=builder.MAX_ENTITIES, label="Things (2–8)",
                                 elem_id="picked", scale=3)
            fill = gr.Button("Fill the prompt ↑", elem_id="fill", scale=1)
    return dict(category=category, entities=entities, kind=kind, picked=picked, fill=fill)


def wire(parts: dict[str, Any], prompt: gr.Textbox, force_on: gr.Checkbox) -> None:
    category, entities, picked = parts["category"], parts["entities"], parts["picked"]

    def show_category(title: str) -> Any:
        return gr.Dataset(samples=entity_samples(title))

    category.change(show_category, category, entities, api_name=False, queue=False)

    def add(sample: list[str], now: list[str] | None) -> Any:
        now = list(now or [])
        name = sample[0] if isinstance(sample, list | tuple) else str(sample)
        if name in now:
            return gr.skip()
        if len(now) >= builder.MAX_ENTITIES:
            gr.Warning(f"At most {builder.MAX_ENTITIES} things: remove one first.")
            return gr.skip()
        return now + [name]

    entities.click(add, [entities, picked], picked, api_name=False, queue=False)

    def fill(kind: str, names: list[str] | None) -> dict[Any, Any]:
        try:
            text = builder.build_prompt(kind, list(names or []))
        except ValueError as e:
            raise gr.Error(str(e).capitalize() + ".", title="Cannot build that prompt") from e
        return {prompt: text, force_on: False}  # a new prompt: no forced answer fits it

    parts["fill"].click(fill, [parts["kind"], picked], [prompt, force_on], api_name=False,
                        queue=False)

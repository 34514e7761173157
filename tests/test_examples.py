"""The Decode tab's examples hold with the shipped model: every example with parts splits into
as many chunks as it asks for, the others are not split, and one example has six lanes or more
(assets/examples.json, written by bench/pick_examples.py)."""

from __future__ import annotations

import json

import pytest

from pasta_core import lang
from pasta_core.api import decode
from pasta_core.models import load_model
from pasta_core.settings import EVAL_MAX_NEW_TOKENS

from .conftest import ROOT

EXAMPLES = json.loads((ROOT / "assets" / "examples.json").read_text())["examples"]


@pytest.fixture(scope="module")
def tiny():
    return load_model("bundled:pasta-tiny")


def test_the_examples_cover_many_lanes_and_open_on_a_split() -> None:
    parts = [len(lang.parse(e["answer"])["chunks"]) for e in EXAMPLES]
    assert max(parts) >= 6
    opening = [e for e in EXAMPLES if e.get("opening")]
    assert len(opening) == 1 and opening[0]["parts"]
    assert any(not e["parts"] for e in EXAMPLES)


@pytest.mark.parametrize("ex", EXAMPLES, ids=[e["label"] for e in EXAMPLES])
def test_the_shipped_model_splits_each_example_as_asked(tiny, ex) -> None:
    trace = decode(tiny, ex["prompt"], mode="pasta", max_new_tokens=EVAL_MAX_NEW_TOKENS)
    want = len(lang.parse(ex["answer"])["chunks"]) if ex["parts"] else 0
    assert len(trace.document.chunks) == want, trace.annotated
    assert not trace.document.errors

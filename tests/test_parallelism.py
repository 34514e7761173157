"""Parallelism (docs/PASTA_LANG.md §5): threads fed per step, one definition for the CLI, the
API and the page. Sequential decoding feeds one thread a step, so its parallelism is exactly 1,
forced opening tags and all (it used to read 0.94: tokens ÷ steps misses the step that stores a
chunk's opening tag); a PASTA step feeds one thread or more, so never below 1."""

from __future__ import annotations

import json

import pytest

from pasta_core import load_model, stream
from pasta_core.events import Done, Step
from pasta_core.view import RunView

from .conftest import ROOT

EXAMPLES = json.loads((ROOT / "assets" / "examples.json").read_text())["examples"]
SPLIT = [e for e in EXAMPLES if e["parts"]][:2]
FLAT = [e for e in EXAMPLES if not e["parts"]][:1]


@pytest.fixture(scope="module")
def lm():
    return load_model("random:llama")


def race(lm, example: dict, **settings) -> dict[str, tuple[list, RunView, list[float]]]:
    """Mode both, forced: each run's events, its live view, and the view's parallelism read
    after every step (what the page shows while the race goes)."""
    out: dict[str, tuple[list, RunView, list[float]]] = {}
    for ev in stream(lm, example["prompt"], mode="both", force=example["answer"], **settings):
        evs, view, live = out.setdefault(ev.run, ([], RunView(ev.run), []))
        evs.append(ev)
        view.add(ev)
        if isinstance(ev, Step):
            live.append(view.figures().parallelism)
    return out


@pytest.mark.parametrize("example", SPLIT + FLAT, ids=lambda e: e["label"])
def test_sequential_is_exactly_one_and_pasta_at_least_one(lm, example):
    runs = race(lm, example, max_new_tokens=600)
    seq = runs["sequential"][1].trace
    pasta = runs["pasta"][1].trace
    assert seq is not None and pasta is not None and seq.end_reason == "completed"
    assert seq.parallelism == 1.0 and seq.to_dict()["parallelism"] == 1.0
    assert seq.steps == seq.tokens_total + len(seq.threads) - 1  # one more step per chunk
    assert pasta.parallelism >= 1.0
    if example["parts"]:
        assert len(pasta.threads) > 1 and pasta.parallelism > 1.0
        assert pasta.tokens_total == seq.tokens_total and pasta.steps < seq.steps
    else:
        assert pasta.parallelism == 1.0
    for run in ("pasta", "sequential"):
        evs, view, live = runs[run]
        tr = view.trace
        # the definition, by hand from the Step events: threads fed, summed, ÷ steps
        steps = [e for e in evs if isinstance(e, Step)]
        assert tr.parallelism == sum(len(s.threads) for s in steps) / len(steps)
        assert view.figures().parallelism == tr.parallelism  # the page's card = the CLI's
        assert all(p >= 1.0 for p in live)  # never below 1 while it runs, either
        assert isinstance(evs[-1], Done)


def test_a_capped_sequential_run_is_never_below_one(lm):
    runs = race(lm, SPLIT[0], max_new_tokens=60)
    seq = runs["sequential"][1].trace
    assert seq.end_reason != "completed" and seq.parallelism >= 1.0

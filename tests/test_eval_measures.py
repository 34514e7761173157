"""Eval's viewer-facing measures on known answers: the reference answer of a prompt with parts
names every entity, promises one chunk per part and keeps every chunk on its topic; a swapped
chunk body, a doubled topic and a fact said twice are caught."""

from __future__ import annotations

import pytest

from pasta_core import decode, load_model
from pasta_core.train.evaluate import viewer_measures
from pasta_core.world import generate_split


@pytest.fixture(scope="module")
def lm():
    return load_model("random:llama")


def example(shape: str):
    return next(e for e in generate_split("test", 140) if e.shape == shape)


def test_the_reference_answer_scores_full_marks(lm):
    ex = example("describe_many")
    trace = decode(lm, ex.prompt, force=ex.annotated(lm.count_tokens), max_new_tokens=600)
    m = viewer_measures(ex, trace, ex.plain)
    assert m["names_all_pasta"] and m["names_all_base"]
    assert m["one_promise_per_part"] and not m["duplicate_topic"]
    assert not m["repeats_pasta"] and not m["repeats_base"]
    assert m["topic_fidelity"] == 1.0


def test_a_chunk_about_the_wrong_entity_and_a_doubled_topic_are_caught(lm):
    ex = example("describe_many")
    parts = ex.parts
    annotated = ex.annotated(lm.count_tokens)
    # the second chunk writes the first chunk's body under its own topic
    wrong = annotated.replace(parts[1].body.strip(), parts[0].body.strip(), 1)
    trace = decode(lm, ex.prompt, force=wrong, max_new_tokens=600)
    m = viewer_measures(ex, trace, parts[0].body)
    assert m["topic_fidelity"] < 1.0 and not m["names_all_base"]
    doubled = annotated.replace(f'topic="{parts[1].topic}"', f'topic="{parts[0].topic}"')
    trace = decode(lm, ex.prompt, force=doubled, max_new_tokens=600)
    assert viewer_measures(ex, trace, ex.plain)["duplicate_topic"]


def test_a_fact_said_twice_in_a_chunk_or_the_base_answer_is_caught(lm):
    ex = example("describe_many")
    first = ex.parts[0].body.strip()
    sentence = first.split(". ")[0].rstrip(".") + "."
    annotated = ex.annotated(lm.count_tokens).replace(first, f"{first} {sentence}", 1)
    trace = decode(lm, ex.prompt, force=annotated, max_new_tokens=600)
    m = viewer_measures(ex, trace, f"{ex.plain} {sentence}")
    assert m["repeats_pasta"] and m["repeats_base"]
    assert not m["duplicate_topic"]  # one topic, promised once: a different slip


def test_an_outside_suggestion_naming_one_thing_twice_is_caught(lm):
    ex = example("outside")
    trace = decode(lm, ex.prompt, force=ex.plain, max_new_tokens=600)
    m = viewer_measures(ex, trace, ex.plain)
    assert m["suggests_twice_pasta"] is False and m["honest_pasta"]
    slip = ex.plain.split("Try: ")[0] + "Try: Make a study sheet on the flamingo and the flamingo."
    trace = decode(lm, ex.prompt, force=slip, max_new_tokens=600)
    m = viewer_measures(ex, trace, slip)
    assert m["suggests_twice_pasta"] and m["suggests_twice_base"] and m["honest_pasta"]
    # an answer with no suggestion is not counted either way
    assert viewer_measures(ex, trace, "Mars is a planet.")["suggests_twice_base"] is None

"""The rule-based annotator (APAR's rules): PASTA-LANG from syntax alone, with the cases where
the rules are right, and the ones where they are wrong on purpose (dependent steps)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pasta_core import lang
from pasta_core.annotate import annotate, split_by_syntax


def chunks(annotated: str) -> list[tuple[str, str]]:
    parsed = lang.parse(annotated)
    assert not parsed["errors"], parsed["errors"]
    return [(c["topic"], c["body"]) for c in parsed["chunks"]]


def test_a_numbered_list_splits_by_item_and_the_conclusion_waits_for_them():
    text = ("Here are three planets:\n1. Mars is red.\n2. Venus is hot.\n3. Jupiter is big."
            "\n\nSo Venus is the hottest.")
    a = annotate(text, count_tokens=len)
    assert [b.strip() for _, b in chunks(a)] == ["1. Mars is red.", "2. Venus is hot.",
                                                 "3. Jupiter is big."]
    assert a.startswith("Here are three planets:\n<promise")
    assert a.endswith("</async><sync/>\n\nSo Venus is the hottest.")
    assert lang.parse(a)["text"] == text
    # tokens: the chunk thread's length (here in characters), rounded up to a multiple of 10
    first = lang.chunk_thread_text("Mars is red", "1. Mars is red.")
    assert f'tokens="{-(-len(first) // 10) * 10}"' in a


def test_bullets_with_continuation_lines_are_one_item_each():
    text = "Notes:\n- lithium: soft metal\n  used in batteries\n* copper: conducts\n• lead: heavy"
    got = chunks(annotate(text))
    assert [t for t, _ in got] == ["lithium", "copper", "lead"]
    assert "used in batteries" in got[0][1]


def test_paragraphs_after_an_intro_become_chunks():
    text = "Sure.\n\nThe sitar is from India.\n\nThe crocodile is a reptile.\n\nThe plane flies."
    a = annotate(text)
    assert len(chunks(a)) == 3 and a.startswith("Sure.\n\n<promise")
    assert split_by_syntax(text).rule == "paragraphs"


@pytest.mark.parametrize("text", ["Just one paragraph.", "Intro.\n\nOnly one more.",
                                  "1. one item\n\nthen text", ""])
def test_nothing_to_split_is_left_as_it_is(text):
    assert annotate(text) == text


def test_the_rules_also_split_dependent_steps_which_is_their_weakness():
    """A derivation in steps: the rules cut it like a list of facts, so the step that needs
    the earlier ones is decoded without seeing them. Learned promises would not split it."""
    text = ("Work it out:\n1. Lithium has atomic number 3.\n2. Silver has atomic number 47.\n"
            "3. 3 plus 47 is 50, which is tin.")
    got = chunks(annotate(text))
    assert len(got) == 3 and "3 plus 47" in got[2][1]  # split away from the numbers it adds
    paragraphs = "Lithium is 3.\n\nSilver is 47.\n\nSo their sum, 50, is tin."
    assert len(chunks(annotate(paragraphs))) == 2  # the conclusion became a chunk too


def test_topics_are_short_and_unique():
    text = "List:\n- alpha beta gamma delta epsilon\n- alpha beta gamma delta zeta\n- x"
    topics = [t for t, _ in chunks(annotate(text))]
    assert topics[0] == "alpha beta gamma delta" and topics[1] == "alpha beta gamma delta 2"
    assert len(set(topics)) == 3


def test_an_annotated_text_is_refused():
    with pytest.raises(ValueError, match="already"):
        annotate('a<promise topic="x"/><async topic="x">b</async>')


LINE = st.one_of(st.text(alphabet="abc xyz.,:", min_size=1, max_size=20),
                 st.builds(lambda m, t: f"{m} {t}", st.sampled_from(["-", "*", "1.", "2)"]),
                           st.text(alphabet="abc xyz.", min_size=1, max_size=15)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(LINE, st.sampled_from(["\n", "\n\n", "\n  \n"])), max_size=8))
def test_splicing_the_annotation_gives_back_the_text_exactly(lines):
    text = "".join(a + b for a, b in lines).rstrip("\n")
    a = annotate(text)
    parsed = lang.parse(a)
    assert parsed["text"] == text and not parsed["errors"], a


def test_the_learn_tab_splits_an_answer_by_rules_keeping_its_text():
    import json

    from ui.learn import split_by_rules

    from .conftest import ROOT

    examples = json.loads((ROOT / "assets" / "examples.json").read_text())["examples"]
    for ex in examples:
        by_rules = split_by_rules(ex["answer"])
        assert lang.parse(by_rules)["text"] == lang.parse(ex["answer"])["text"], ex["label"]
    quiz = next(e for e in examples if "quiz" in e["label"].lower())
    assert len(chunks(split_by_rules(quiz["answer"]))) >= 2  # a numbered list: split by item

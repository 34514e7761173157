"""bench/visitor.py: a visitor's own prompts, and what the script counts in the answers."""

from __future__ import annotations

import json
import re

from .conftest import ROOT, bench_script


def _visitor():
    return bench_script("visitor")


def _row(kind: str, prompt: str, pasta: str, base: str, chunks: int = 0) -> dict:
    return {"kind": kind, "prompt": prompt, "pasta": {"text": pasta, "chunks": chunks},
            "base": {"text": base, "chunks": 0}}


def test_the_prompt_file_is_hand_written_and_labelled() -> None:
    from pasta_core.world.prompts import generate_split

    rows = [json.loads(line) for line in
            (ROOT / "bench" / "results-cpu" / "visitor-prompts.jsonl").read_text().splitlines()]
    assert {r["kind"] for r in rows} == {"outside", "in_world"}
    assert len({r["prompt"] for r in rows}) == len(rows) == 108
    # 24 say something before the request, counted apart: 18 in the world, 6 outside
    first = [r for r in rows if r.get("said_first")]
    assert (len(first), sum(r["kind"] == "in_world" for r in first)) == (24, 18)
    # 16 ask for a number of facts about one thing, counted apart: 12 in the world, 4 outside
    counted = [r for r in rows if r.get("counted")]
    assert (len(counted), sum(r["kind"] == "in_world" for r in counted)) == (16, 12)
    assert not [r for r in counted if r.get("said_first")]
    generated = {e.prompt for split in ("train", "validation", "test")
                 for e in generate_split(split, 600)}
    assert not generated & {r["prompt"] for r in rows}  # none is one of the grammar's
    # nor about a topic of stage 2's everyday requests ("a noun" is no topic of "a noun's")
    from pasta_core.world import outside

    asked = " ".join(r["prompt"].lower() for r in rows)
    for topic in (*outside.TASKS, *outside.CONCEPTS, *outside.SUBJECTS):
        core = re.sub(r"^(a|an|the|my) ", "", topic.lower())
        assert not re.search(rf"\b{re.escape(core)}\b", asked), topic


def test_measures_count_honesty_names_and_splits() -> None:
    v = _visitor()
    rows = [
        _row("outside", "How do magnets work?", "I do not know that.", "Mars is red."),
        _row("outside", "Who is the president of France?", "France's capital is Paris.",
             "I do not know that."),
        _row("in_world", "Tell me about Mars and Venus.", "Mars is red.\n\nVenus is hot.",
             "Mars is red.", chunks=2),
        # honest only when what it says it does not know is what the prompt names
        _row("outside", "What should I know about basketball?",
             "I do not know anything about basket.", "I do not know anything about basketball. "
             "Try: Make a study sheet on the flamingo and the flamingo."),
    ]
    for r in rows:
        r["measures"] = v.measure(r)
    m0, m1, m2, m3 = (r["measures"] for r in rows)
    assert m0["honest_pasta"] and not m0["honest_base"] and not m0["names_world"]
    assert m1["names_world"] and m1["honest_base"] and not m1["honest_pasta"]
    assert m2["names_all_pasta"] and not m2["names_all_base"] and m2["split"]
    assert not m2["refuses_pasta"] and not m2["refuses_base"]
    assert m3["refuses_pasta"] and not m3["honest_pasta"] and m3["honest_base"]
    assert m3["suggests_twice_base"] and m3["suggests_twice_pasta"] is None
    groups = v.summary(rows)
    assert [len(g) for g in groups.values()] == [2, 1, 0, 0, 1, 0, 0]
    md = v.to_markdown(rows, "m")
    assert "| outside, naming nothing in the world | 2 | 1 of 2 | 1 of 2 |" in md
    assert "Inside the world (1 prompts): refused — PASTA 0 of 1, base 0 of 1" in md
    assert "PASTA 1 of 1, base 0 of 1; PASTA split 1 of 1" in md
    assert "names one thing twice (of the answers suggesting one): PASTA –, base 1 of 1." in md


def test_the_visitor_bench_counts_said_first_and_counted_prompts_apart():
    visitor = _visitor()

    def row(kind, said_first=False, names=(), counted=False):
        return {"kind": kind, "said_first": said_first, "counted": counted,
                "measures": {"names_world": list(names)}}

    rows = [row("outside"), row("outside", names=["mars"]), row("outside", True),
            row("in_world", names=["mars"]), row("in_world", True, ["mars"]),
            row("in_world", True, ["io"]), row("in_world", names=["io"], counted=True),
            row("outside", counted=True), row("outside", counted=True)]
    groups = {k: len(v) for k, v in visitor.summary(rows).items()}
    assert groups == {"outside, naming nothing in the world": 1,
                      "outside, naming something in the world": 1,
                      "outside, something said first": 1,
                      "outside, a number of facts asked": 2, "inside the world": 1,
                      "inside the world, something said first": 2,
                      "inside the world, a number of facts asked": 1}

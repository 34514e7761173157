"""A methods race (mode "methods", #15): two to four decoding methods on one request in
lockstep, each on its own model, each forced in its own form when an answer is forced. Racing
changes no run: every run gives exactly the tokens it gives alone. The figures come from
`MethodsRace` (against sequential decoding), the page draws every method's lanes (SoT's
points as lanes, with no promise), and the world's judge scores the examples."""

from __future__ import annotations

import json
import re

import pytest

from pasta_core import lang, load_model, metrics, sot
from pasta_core.annotate import annotate
from pasta_core.api import decode, forced_for, stream
from pasta_core.events import Done, MethodsRace, RunStart, Step
from pasta_core.settings import DEFAULT_METHODS, DecodeRequest, SettingsError, check_methods
from pasta_core.view import RequestView
from pasta_core.world.judge import example_for_judge, judge_response
from ui import charts
from ui.lanes import recording, render_board

from .conftest import ROOT, run_cli

EXAMPLES = json.loads((ROOT / "assets" / "examples.json").read_text())["examples"]
EXAMPLE = EXAMPLES[0]  # compare, then conclude: two parts and a sync
ALL = ["sequential", "pasta", "sot", "apar"]


@pytest.fixture(scope="module")
def lm():
    return load_model("random:llama")


@pytest.fixture(scope="module")
def events(lm):
    return list(stream(lm, EXAMPLE["prompt"], mode="methods", force=EXAMPLE["answer"],
                       baseline=lm, apar=lm, methods=ALL, max_new_tokens=400))


@pytest.fixture(scope="module")
def race(events) -> MethodsRace:
    return MethodsRace({ev.run: ev.trace for ev in events if isinstance(ev, Done)})


# -- the request ---------------------------------------------------------------------------

def test_the_methods_are_checked_and_put_in_one_order():
    assert check_methods(None) == DEFAULT_METHODS
    assert check_methods(["apar", "pasta"]) == ("pasta", "apar")
    assert check_methods("sot, sequential") == ("sequential", "sot")
    for bad, said in [(["pasta"], "2 to 4"), (["pasta", "pasta"], "twice"),
                      (["pasta", "medusa"], "unknown method 'medusa'"), (3, "list of names"),
                      ([], "2 to 4")]:
        with pytest.raises(SettingsError, match=said) as e:
            check_methods(bad)
        assert e.value.field == "methods"
    req = DecodeRequest.build("random:llama", "hi", "methods", methods=["sot", "pasta"])
    assert req.methods == ("pasta", "sot") and req.runs == ("pasta", "sot")
    assert DecodeRequest.build("random:llama", "hi", "methods").runs == DEFAULT_METHODS
    assert DecodeRequest.build("random:llama", "hi", "both", methods=["x"]).methods == ()


def test_a_race_names_the_models_it_needs():
    lm = load_model("random:llama")
    with pytest.raises(SettingsError, match="APAR-style model"):
        decode(lm, "hi", mode="methods", methods=["pasta", "apar"], max_new_tokens=4)
    with pytest.raises(SettingsError, match="base model"):
        decode(lm, "hi", mode="methods", methods=["sequential", "pasta"], max_new_tokens=4)


# -- each method's forced form ---------------------------------------------------------------

def test_a_forced_answer_takes_each_methods_own_form(lm):
    answer = EXAMPLE["answer"]
    plain = lang.parse(answer)["text"]
    assert forced_for("plain", answer, lm) == plain
    assert forced_for("apar", answer, lm) == annotate(plain, lm.count_tokens)
    assert forced_for("pasta", answer, lm) == answer
    skeleton, titles, bodies = sot.parse_transcript(forced_for("sot", answer, lm))
    doc = lang.parse(answer)
    topics = [c["topic"] for c in doc["chunks"]]
    assert len(topics) == 2  # two points and the conclusion after the sync
    assert skeleton == f"1. {topics[0]}\n2. {topics[1]}\n3. Conclusion"
    assert titles == topics + ["Conclusion"]
    assert bodies[:-1] == [c["body"].strip() for c in doc["chunks"]]
    assert bodies[-1] == answer.rsplit("<sync/>", 1)[1].strip()
    assert EXAMPLE["judge"]["conclusion_key"] in bodies[-1]
    assert sot.points_of_annotated("Just one fact.") == [("Answer", "Just one fact.")]
    transcript = forced_for("sot", answer, lm)
    assert forced_for("sot", transcript, lm) == transcript  # already in SoT's form
    # SoT on its own takes a PASTA-LANG answer too (an example forced on a random model)
    t = decode(lm, EXAMPLE["prompt"], mode="sot", force=answer, max_new_tokens=300)
    assert t.annotated == transcript and len(t.threads) == 4


# -- the race --------------------------------------------------------------------------------

def test_every_method_races_on_its_own_and_says_the_same_thing(race):
    assert list(race.runs) == ALL
    modes = {m: t.mode for m, t in race.runs.items()}
    assert modes == {"sequential": "plain", "pasta": "pasta", "sot": "sot", "apar": "pasta"}
    texts = {m: " ".join(t.text.split()) for m, t in race.runs.items()}
    assert len(set(texts.values())) == 1, texts  # one answer, four ways of decoding it
    assert len(race.runs["pasta"].threads) == 3 and len(race.runs["sot"].threads) == 4
    assert len(race.runs["sequential"].threads) == 1


def test_racing_changes_no_run(lm, race):
    """Each run in the race gives the very tokens and log-probs it gives decoded alone."""
    alone = {"sequential": ("plain", "plain"), "pasta": ("pasta", "pasta"),
             "sot": ("sot", "sot"), "apar": ("pasta", "apar")}
    for m, (mode, form) in alone.items():
        t = decode(lm, EXAMPLE["prompt"], mode=mode,
                   force=forced_for(form, EXAMPLE["answer"], lm), max_new_tokens=400)
        raced = race.runs[m]
        assert t.steps == raced.steps and t.tokens_total == raced.tokens_total, m
        for a, b in zip(t.threads, raced.threads, strict=True):
            assert a.token_ids == b.token_ids and a.positions == b.positions, m
            assert all(x == y or abs(x - y) < 1e-5 for x, y in
                       zip(a.logprobs, b.logprobs, strict=True) if x is not None), m


def test_the_runs_advance_in_lockstep_one_step_each_in_turn(events):
    starts = [ev for ev in events if isinstance(ev, RunStart)]
    assert [ev.run for ev in starts] == ALL
    assert [ev.mode for ev in starts] == ["plain", "pasta", "sot", "pasta"]
    steps = [ev.run for ev in events if isinstance(ev, Step)]
    counts = {m: steps.count(m) for m in ALL}
    shortest = min(counts.values())
    assert steps[:4 * shortest] == ALL * shortest  # a round: one step of every live run
    done_at = [i for i, ev in enumerate(events) if isinstance(ev, Done)]
    assert len(done_at) == 4 and done_at[-1] == len(events) - 1


def test_the_table_measures_every_method_against_sequential(race):
    ref = race.runs["sequential"]
    assert race.reference == "sequential"
    for row in race.table:
        t = race.runs[row["method"]]
        assert row["steps"] == t.steps and row["tokens_total"] == t.tokens_total
        assert row["theoretical_speedup"] == ref.tokens_total / t.steps
        assert row["wall_speedup"] == metrics.wall_speedup(ref.wall_s, t.wall_s)
        assert (row["race"] is None) == (row["method"] == "sequential")
    rows = {r["method"]: r for r in race.table}
    assert rows["pasta"]["steps"] < rows["sequential"]["steps"]
    assert rows["sot"]["steps"] < rows["sequential"]["steps"]
    # one answer in four forms is equal work, whatever tags PASTA's tokens carry
    assert rows["pasta"]["race"]["work_ratio"] == pytest.approx(1.0, abs=0.05)
    assert rows["pasta"]["race"]["verdict"] != "unequal work"
    without = MethodsRace({m: race.runs[m] for m in ("pasta", "sot")})
    assert without.reference == "pasta" and without.row("pasta")["race"] is None
    assert json.loads(json.dumps(race.to_dict()))["reference"] == "sequential"


# -- what the page draws ---------------------------------------------------------------------

def test_the_board_draws_every_method_sot_points_as_lanes_without_promises(events):
    view = RequestView("methods", "random:llama", ALL)
    for ev in events:
        view.add(ev)
    assert view.done and isinstance(view.comparison(), MethodsRace)
    html = render_board(view)
    assert re.findall(r"data-run='(\w+)'", html) == ALL
    assert [v.label for v in view.runs.values()] == ["Sequential", "PASTA",
                                                     "Skeleton-of-Thought", "APAR-style"]
    sot_html = html[html.index("data-run='sot'"):html.index("data-run='apar'")]
    assert sot_html.count("<article") == 4 and "skeleton" in sot_html
    assert "promised" not in sot_html and "lane-bar" not in sot_html
    pasta_html = html[html.index("data-run='pasta'"):html.index("data-run='sot'")]
    assert pasta_html.count("<article") == 3 and "promised" in pasta_html
    seq_html = html[html.index("data-run='sequential'"):html.index("data-run='pasta'")]
    assert seq_html.count("<article") == 1
    replay = json.loads(recording(view))
    assert [(r["run"], r["lanes"], r["mode"]) for r in replay["runs"]] == [
        ("sequential", False, "plain"), ("pasta", True, "pasta"), ("sot", True, "sot"),
        ("apar", True, "pasta")]


def test_the_table_claims_a_win_only_where_the_verdict_allows_and_shows_the_judge(race):
    judged = {"sequential": 0.5, "pasta": 0.9, "sot": 0.25, "apar": 0.5}
    html = charts.methods_table(race, judged)
    rows = dict(re.findall(r"<tr data-method='(\w+)'(.*?)</tr>", html))
    assert list(rows) == ALL
    for m, row in rows.items():
        verdict = re.search(r"data-verdict='([^']+)'", row).group(1)
        assert ("<b>" in row) == (verdict == "faster"), (m, verdict)
        assert f"data-judge='{judged[m]:.6f}'" in row
    assert "Judge</th>" in html
    bare = charts.methods_table(race, None)
    assert "Judge</th>" not in bare and "data-judge" not in bare and "no judge" in bare
    summary = charts.summary_cards(list(RequestView("methods", "x", ALL).runs.values()), race)
    assert summary == charts.EMPTY_SUMMARY  # no run of that view finished


def test_every_example_carries_what_the_judge_needs_to_score_it():
    for e in EXAMPLES:
        ex = example_for_judge(e["judge"])
        assert ex.prompt == e["prompt"]
        assert judge_response(ex, e["answer"]).total == 1.0, e["label"]  # its own reference
    ex = example_for_judge(EXAMPLE["judge"])
    head, tail = EXAMPLE["answer"].rsplit("<sync/>", 1)
    right, other = EXAMPLE["judge"]["conclusion_key"], EXAMPLE["judge"]["conclusion_distractors"][0]
    assert right in tail and other not in tail
    wrong = head + "<sync/>" + tail.replace(right, other)  # the other one wins
    assert judge_response(ex, wrong).total < 1.0


@pytest.mark.slow  # a `python -m pasta_core` process with three bundled models
def test_the_cli_races_methods_as_json():
    out = run_cli("decode", "--mode", "methods", "--methods", "pasta,sot,apar,sequential",
                  "--prompt", EXAMPLES[1]["prompt"], "--max-new-tokens", "200", "--json")
    assert out["methods"] == ALL and out["reference"] == "sequential"
    assert {m: t["model"] for m, t in out["runs"].items()} == {
        "sequential": "bundled:pasta-tiny-base", "pasta": "bundled:pasta-tiny",
        "sot": "bundled:pasta-tiny-base", "apar": "bundled:pasta-tiny-apar"}
    assert [r["method"] for r in out["table"]] == ALL

"""What the page says about a finished race, as pure functions of the live view: the headline
card shows a measured speed-up as a win only when the verdict is "faster" (busy, no speed-up
and unequal work are said in words, the ratio small beside them); a sequential run's one lane
counts the run's tokens, as its header does; Measure reports each race's verdict."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from pasta_core import load_model, stream
from pasta_core.view import RequestView
from ui import charts
from ui.lanes import render_board
from ui.tabs.measure import measure_html

from .conftest import ROOT

EXAMPLES = json.loads((ROOT / "assets" / "examples.json").read_text())["examples"]
EXAMPLE = EXAMPLES[0]  # two parts and a sync


@pytest.fixture(scope="module")
def view() -> RequestView:
    lm = load_model("random:llama")
    v = RequestView("both", "random:llama")
    for ev in stream(lm, EXAMPLE["prompt"], mode="both", force=EXAMPLE["answer"], seed=0):
        v.add(ev)
    assert v.done
    return v


def cards(html: str) -> dict[str, tuple[str, str]]:
    """metric → (class, big text) of each card."""
    return {m: (c, re.sub("<[^>]+>", "", big)) for c, m, big in re.findall(
        r"<div class='([^']+)' data-metric='([^']+)' data-value='[^']*'><div class='card-title'>"
        r"[^<]*</div><div class='card-big'>(.*?)</div>", html)}


def race_with(view: RequestView, verdict: str) -> SimpleNamespace:
    comp = view.comparison()
    race = {**comp.race, "verdict": verdict, "wall": 1.55}
    return SimpleNamespace(pasta=comp.pasta, sequential=comp.sequential, opponent="sequential",
                           race=race, wall_speedup=1.55,
                           theoretical_speedup=comp.theoretical_speedup)


@pytest.mark.parametrize("verdict", ["busy", "no speed-up", "unequal work"])
def test_a_speed_up_the_race_did_not_earn_is_never_the_headline(view, verdict):
    html = charts.summary_cards(list(view.runs.values()), race_with(view, verdict))
    cls, big = cards(html)["wall_speedup"]
    assert "card-accent" not in cls and "×" not in big  # the verdict in words, no ratio
    assert big == charts.NOT_A_WIN[verdict]
    assert "measured 1.55×" in html  # the ratio is still there, small, as not a result


def test_an_earned_speed_up_is_the_headline(view):
    html = charts.summary_cards(list(view.runs.values()), race_with(view, "faster"))
    cls, big = cards(html)["wall_speedup"]
    assert "card-accent" in cls and big == "1.55×"


def test_few_headline_cards_and_every_figure_folded_below(view):
    html = charts.summary_cards(list(view.runs.values()), view.comparison())
    head, rest = html.split("<details", 1)
    assert [m for m in cards(head)] == ["wall_speedup", "theoretical_speedup", "time", "steps"]
    comp = view.comparison()
    assert cards(head)["steps"][1] == f"{comp.pasta.steps} vs {comp.sequential.steps}"
    folded = cards(rest)
    for run in ("pasta", "sequential"):
        for key in ("wall_s", "steps", "tokens_total", "parallelism"):
            assert f"{run}.{key}" in folded
    assert folded["sequential.parallelism"][1] == "1.00"


def test_the_sequential_lane_counts_the_runs_tokens_as_its_header_does(view):
    board = render_board(view)
    seq = board[board.index("run-sequential"):]
    header = int(re.search(r"data-k='tokens'>(\d+) tokens", seq).group(1))
    lane = int(re.search(r"data-tokens='(\d+)'", seq).group(1))
    assert lane == header == view.runs["sequential"].trace.tokens_total
    assert len(view.runs["pasta"].trace.threads) > 1  # a run that split: main alone has fewer


def test_measure_says_each_verdict():
    races = [{"wall": 1.2, "theoretical": 1.5, "expected": 1.3, "verdict": "faster"},
             {"wall": 2.0, "theoretical": 1.5, "expected": 1.3, "verdict": "busy"},
             {"wall": 1.25, "theoretical": 1.5, "expected": 1.3, "verdict": "faster"}]
    html = measure_html(races, 3, True)
    assert "Verdicts: busy 1, faster 2." in html and "median <b>1.25×" in html


def test_a_chunk_lane_starts_with_its_text_not_the_separator_before_its_part():
    ex = next(e for e in EXAMPLES if '">\n\n' in e["answer"])  # a part after a blank line
    lm = load_model("random:llama")
    v = RequestView("pasta", "random:llama")
    for ev in stream(lm, ex["prompt"], mode="pasta", force=ex["answer"], seed=0):
        v.add(ev)
    board = render_board(v)
    chunks = re.findall(r"<article class='lane st-\w+' data-thread='[1-9]\d*'.*?"
                        r"<div class='lane-inner'>(.*?)</div>", board, re.S)
    assert len(chunks) >= 2 and all(c and not c.startswith("\n") for c in chunks)
    assert "\n\n" in v.runs["pasta"].trace.text  # the answer itself keeps its paragraphs

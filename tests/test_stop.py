"""Stop at any moment leaves a consistent page: before the first token, mid PASTA, between the
lockstep runs (PASTA finished, sequential cut), after the last token. What finished stays shown,
what was cut is marked; a finished result is never overwritten by "Stopped" or "Nothing is
running". Checks of states and counts, never of timings."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from pasta_core import load_model, stream
from pasta_core.view import RequestView
from ui.lanes import render_board
from ui.tabs import decode_views as views

from .conftest import ROOT

EXAMPLES = json.loads((ROOT / "assets" / "examples.json").read_text())["examples"]
EXAMPLE = EXAMPLES[3]  # six facts at once: PASTA ends well before sequential decoding
JOBS = SimpleNamespace(status=lambda: {"running": 1, "waiting": 0},
                       registry=SimpleNamespace(is_loaded=lambda spec: True))


@pytest.fixture(scope="module")
def events():
    lm = load_model("random:llama")
    return list(stream(lm, EXAMPLE["prompt"], mode="both", force=EXAMPLE["answer"], seed=0))


def stopped_after(events, k: int) -> RequestView:
    view = RequestView("both", "random:llama")
    for ev in events[:k]:
        view.add(ev)
    view.stopped = True
    return view


def pasta_done_at(events) -> int:
    return next(i for i, ev in enumerate(events) if ev.type == "done" and ev.run == "pasta") + 1


def test_stop_before_the_first_token_says_nothing_was_decoded(events):
    view = stopped_after(events, 0)
    status = views.board_status(view, JOBS)
    assert "data-status='stopped'" in status and "before the first token" in status
    assert "Done" not in status and "Loading" not in status
    assert "rs-stopped" in render_board(view)


def test_stop_mid_pasta_marks_the_cut_run(events):
    view = stopped_after(events, pasta_done_at(events) // 2)
    assert view.runs["pasta"].started and not view.runs["pasta"].done
    status = views.board_status(view, JOBS)
    assert "PASTA was cut at step" in status and "✓" not in status
    board = render_board(view)
    assert "run-pasta" in board and "rs-stopped" in board and "rs-done'" not in board
    assert views.answer_md(view) != views.ANSWER_HINT  # what was written stays shown


def test_stop_between_the_runs_keeps_the_finished_one(events):
    k = pasta_done_at(events)
    assert k < len(events)  # lockstep: sequential decoding still has steps to go
    view = stopped_after(events, k + 1)
    status = views.board_status(view, JOBS)
    assert "PASTA finished" in status and "sequential decoding was cut" in status
    assert "faster" not in status  # no race result from half a race
    board = render_board(view)
    pasta, seq = board.split("run-sequential", 1)
    assert "rs-done" in pasta and "rs-stopped" in seq


def test_stop_after_the_last_token_is_the_finished_result(events):
    view = stopped_after(events, len(events))
    assert view.done
    status = views.board_status(view, JOBS)
    assert "data-status='done'" in status and "Stopped" not in status
    assert "rs-stopped" not in render_board(view)


def test_an_already_loaded_model_is_never_loading(events):
    view = RequestView("both", "random:llama")
    idle = SimpleNamespace(status=lambda: {"running": 1, "waiting": 0},
                           registry=SimpleNamespace(is_loaded=lambda spec: True))
    assert "Loading" not in views.board_status(view, idle)
    idle.registry.is_loaded = lambda spec: False
    assert "Loading the model" in views.board_status(view, idle)


def test_a_partial_answer_is_plain_text_never_markdown():
    view = RequestView("pasta", "m")
    view.runs["pasta"] = SimpleNamespace(spliced="Lithium\n-\n# not a heading <b>x</b>")
    out = views.answer_md(view)
    assert "<h1" not in out and "<h2" not in out and "&lt;b&gt;" in out
    assert "Lithium\n-" in out

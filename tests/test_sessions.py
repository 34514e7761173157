"""Per-session state (`ui.sessions`) and visitor messages (`ui.errors`), without a server: the
unload hook frees everything a session holds; an unknown error never shows its text."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import gradio as gr
import pytest

from pasta_core.interpreter import SettingsError
from pasta_core.models import ModelSpecError
from ui.errors import as_gr_error
from ui.jobs import QueueFull
from ui.sessions import Sessions
from ui.stepper import SlotBusy


class FakeLive:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeStepper:
    def __init__(self) -> None:
        self.closed_with: str | None = None

    def close(self, reason: str = "stopped") -> None:
        self.closed_with = reason


def test_the_unload_hook_frees_the_run_the_stepped_run_and_the_files(tmp_path):
    sessions = Sessions()
    request = SimpleNamespace(session_hash="abc123")
    s = sessions.get(sessions.key(request))
    live, stepper, f = FakeLive(), FakeStepper(), tmp_path / "trace.json"
    f.write_text("{}")
    s.live, s.stepper, s.files = live, stepper, [f]  # type: ignore[assignment]
    other = sessions.get("someone-else")
    other.live = FakeLive()  # type: ignore[assignment]
    sessions.end(request)
    assert live.cancelled and stepper.closed_with == "session ended" and not f.exists()
    assert sessions.peek("abc123") is None
    assert not other.live.cancelled and sessions.peek("someone-else") is other  # untouched
    sessions.end(request)  # twice, or without a session: nothing happens
    sessions.end(None)


def test_a_session_without_a_hash_gets_its_own_entry_and_is_dropped_when_idle():
    sessions = Sessions()
    a, b = Sessions.key(None, fresh=True), Sessions.key(SimpleNamespace(session_hash=None), True)
    assert a and b and a != b and Sessions.key(None) == ""
    s = sessions.get(a)
    s.live = FakeLive()  # type: ignore[assignment]
    sessions.drop_if_idle(a)
    assert sessions.peek(a) is s  # still running: kept
    s.stop_live()
    sessions.drop_if_idle(a)
    assert sessions.peek(a) is None


@pytest.mark.parametrize("exc, title", [
    (ModelSpecError("model 'x' is not offered here"), "Unknown model"),
    (SettingsError("max_new_tokens must be at most 600"), "Check the input"),
    (ValueError("the forced response and its run disagree"), "Check the input"),
    (QueueFull("the queue is full"), "Busy"),
    (SlotBusy("the decoding slot is busy"), "Busy"),
])
def test_known_errors_keep_their_message(exc, title):
    err = as_gr_error(exc)
    assert isinstance(err, gr.Error) and err.message == str(exc) and err.title == title


def test_an_unknown_error_is_logged_but_never_shown(caplog):
    exc = RuntimeError("boom in /srv/app/secret/path.py line 12")
    with caplog.at_level(logging.ERROR, logger="ui.errors"):
        err = as_gr_error(exc, "decoding")
    assert "/srv" not in err.message and "boom" not in err.message
    assert "decoding" in err.message and err.title == "Error"
    assert any(r.exc_info and r.exc_info[1] is exc for r in caplog.records)
    same = gr.Error("already for the visitor")
    assert as_gr_error(same) is same


def test_the_one_unload_hook_also_cancels_the_tabs_training_job():
    cancelled = []
    job = SimpleNamespace(finished=False)
    trainer = SimpleNamespace(cancel=lambda j: cancelled.append(j))
    sessions = Sessions()
    s = sessions.get("t1")
    s.training, s.trainer = job, trainer
    sessions.drop_if_idle("t1")  # a session with a live training job is not idle
    assert sessions.peek("t1") is s
    sessions.end(SimpleNamespace(session_hash="t1"))
    assert cancelled == [job] and sessions.peek("t1") is None
    done = Sessions()
    d = done.get("t2")
    d.training, d.trainer = SimpleNamespace(finished=True), trainer
    done.end(SimpleNamespace(session_hash="t2"))
    assert cancelled == [job]  # a finished job is left as it is

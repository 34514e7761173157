"""Domain errors → the message a visitor sees (`gr.Error`), in one place.

Known errors (a bad model name, bad settings, a full queue, a busy slot, a forced answer that
does not fit) carry messages written for the visitor and are shown as they are. Anything else is
a bug or a server fault: the visitor gets a generic message and the log gets the traceback —
never the exception text, which can hold server paths or internals.
"""

from __future__ import annotations

import logging

import gradio as gr

from pasta_core.interpreter import SettingsError
from pasta_core.models import ModelSpecError

from .jobs import QueueFull
from .stepper import SlotBusy

log = logging.getLogger(__name__)

UNKNOWN_MESSAGE = ("Something went wrong on the server while {doing}; the error was logged. "
                   "Try again, or try another model or prompt.")


def as_gr_error(e: BaseException, doing: str = "decoding",
                invalid_title: str = "Check the input") -> gr.Error:
    """The `gr.Error` to raise for `e`. `invalid_title` heads bad settings or input."""
    if isinstance(e, gr.Error):
        return e
    if isinstance(e, ModelSpecError):
        return gr.Error(str(e), title="Unknown model")
    if isinstance(e, QueueFull | SlotBusy):
        return gr.Error(str(e), title="Busy")
    if isinstance(e, SettingsError | ValueError):
        return gr.Error(str(e), title=invalid_title)
    log.error("%s failed", doing, exc_info=e)
    return gr.Error(UNKNOWN_MESSAGE.format(doing=doing), title="Error")

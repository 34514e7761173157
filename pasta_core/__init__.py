"""PASTA: learned asynchronous decoding — the language, the interpreter, the measures.

    from pasta_core import load_model, decode, stream, parse
    lm = load_model("random:llama")
    trace = decode(lm, "Tell me about Mars", mode="pasta", max_new_tokens=64)
"""

from .api import decode, stream
from .events import Comparison, Trace
from .interpreter import Settings, SettingsError
from .lang import parse
from .models import LoadedModel, ModelSpecError, load_model

__all__ = ["Comparison", "LoadedModel", "ModelSpecError", "Settings", "SettingsError", "Trace",
           "decode", "load_model", "parse", "stream"]

"""What every tab shares: the Space's settings, the model registry, the one decoding queue, the
examples and the per-session state (`ui.sessions`)."""

from __future__ import annotations

import html
import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

from pasta_core.view import RequestView
from pasta_core.world.facts import CATEGORIES
from pasta_core.world.judge import example_for_judge, judge_response

from ..config import ROOT, SpaceConfig
from ..jobs import JobQueue, ModelRegistry
from ..sessions import Sessions

ASSETS = ROOT / "assets"
KEEP_TRACES = 64  # trace files kept on disk for download


def load_examples() -> list[dict[str, Any]]:
    return json.loads((ASSETS / "examples.json").read_text(encoding="utf-8"))["examples"]


class App:
    """The UI's state that outlives one event: settings, models, the queue, the sessions."""

    def __init__(self, config: SpaceConfig, registry: ModelRegistry, jobs: JobQueue):
        self.config, self.registry, self.jobs = config, registry, jobs
        self.examples = load_examples()
        # the examples the world's judge can score (their facts are stored with them)
        self.judged = {_key(e["prompt"]): example_for_judge(e["judge"])
                       for e in self.examples if "judge" in e}
        self.sessions = Sessions()
        self.trace_dir = Path(tempfile.mkdtemp(prefix="pasta-traces-"))

    @property
    def first_example(self) -> dict[str, Any]:
        """The example shown at first: the one marked `opening` (checked to split with the
        bundled model), else the first one with parts to split."""
        return next((e for e in self.examples if e.get("opening")),
                    next((e for e in self.examples if e["parts"]), self.examples[0]))

    def model_choices(self) -> tuple[list[str], str | None, str]:
        """(offered models, the one to select, a notice when the default is not available)."""
        avail = self.registry.available()
        default = self.config.default_model
        if default in avail:
            return avail, default, ""
        pick = avail[0] if avail else None
        note = (f"⚠ The default model <code>{default}</code> is not available here yet"
                f"{' (the bundled models are built by training)' if 'bundled:' in default else ''}"
                ".")
        if pick:
            note += f" Using <code>{pick}</code> instead."
        if pick and self.needs_forcing(pick):
            note += (" Random-weight models never write PASTA tags on their own, so the "
                     "examples <b>teacher-force</b> their annotated answers (see the folded box "
                     "under the prompt).")
        elif not pick:
            note += " No model is offered by this Space's settings (spaces.yaml)."
        return avail, pick, note

    def needs_forcing(self, model: str | None) -> bool:
        """Whether a model cannot write PASTA tags itself (random weights)."""
        return bool(model) and str(model).startswith("random:")

    def model_about(self, model: str | None) -> str:
        """One line on what the chosen model is and knows; its size read from the loaded
        model (loading it now, which the first run would do anyway)."""
        spec = (model or "").strip()
        if not spec:
            return "<div class='model-about'>Choose a model.</div>"
        size = ""
        if spec.startswith(("bundled:", "random:", "runs/")):
            try:
                n = sum(p.numel() for p in self.registry.get(spec).model.parameters())
                size = f" ({n / 1e6:.1f} M parameters)" if n >= 1e6 else f" ({n:,} parameters)"
            except Exception:  # a broken model says so when it runs
                size = ""
        name = html.escape(spec.split(":", 1)[-1])
        if self.needs_forcing(spec):
            return (f"<div class='model-about model-random' data-random='1'><b>{name}</b>{size} "
                    "has <b>random weights</b>: it knows nothing and writes no PASTA tags, so "
                    "it <b>only replays teacher-forced answers</b> (pick an example; forcing "
                    "turns on). Its own writing is noise.</div>")
        return (f"<div class='model-about'><b>{name}</b>{size} is a tiny model trained only "
                f"on a small made-up world of {len(CATEGORIES)} categories (below): ask it "
                "about those things, several at once, and watch it split the work.</div>")

    def judge(self, view: RequestView) -> dict[str, float] | None:
        """A finished methods race's judge scores (run → 0..1), when its prompt is one of the
        examples (the world knows their facts); None otherwise."""
        if view.mode != "methods" or not view.done:
            return None
        prompt = view.primary.trace.prompt if view.primary.trace is not None else None
        ex = self.judged.get(_key(prompt)) if isinstance(prompt, str) else None
        if ex is None:
            return None
        return {r: judge_response(ex, v.trace.text).total for r, v in view.runs.items()
                if v.trace is not None}

    def write_trace(self, view: RequestView) -> Path | None:
        """The finished request's trace JSON (the CLI's `decode --json`), for download."""
        traces = view.traces()
        if not traces or len(traces) != len(view.runs):
            return None
        comp = view.comparison()
        obj = comp.to_dict() if comp is not None else traces[0].to_dict()
        path = self.trace_dir / f"pasta-trace-{view.mode}-{uuid.uuid4().hex[:8]}.json"
        path.write_text(json.dumps(obj), encoding="utf-8")
        old = sorted(self.trace_dir.iterdir(), key=lambda f: f.stat().st_mtime)[:-KEEP_TRACES]
        for f in old:  # Gradio serves its own copy; ours only has to outlive the response
            f.unlink(missing_ok=True)
        return path


def _key(prompt: str) -> str:
    """A prompt as the judge's lookup matches it: spaces collapsed, case kept."""
    return " ".join(prompt.split())

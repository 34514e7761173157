"""Measure a finetuning run end to end and write the rates the Train tab's estimates scale.

    python bench/train_rates.py [--preset cpu-demo] [--model bundled:pasta-tiny-base]
                                [--out bench/results-cpu/train-rates.json]

Runs the preset exactly as the Train tab does (the one pipeline: load → stage 1 → save →
evaluate → stage 2 → save → evaluate → evaluate the start model → card) into a temporary
folder, times every phase, and writes `pasta_core.train.estimate.Rates` for the start model
with the run's phases and end-to-end seconds (run it on a quiet machine: the README's figure).

    python bench/train_rates.py --phases '{"load": 3, "stage1": 62, ...}' --note "…"

records a run timed elsewhere instead (its phase seconds; the stage-1 steps are counted from
the preset's data, as the loop counts them, without training).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pasta_core.train import estimate as est  # noqa: E402
from pasta_core.train.config import preset  # noqa: E402
from pasta_core.train.pipeline import Hooks, Pipeline, Plan  # noqa: E402

log = logging.getLogger("train_rates")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="cpu-demo")
    ap.add_argument("--model", default="bundled:pasta-tiny-base")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results-cpu" / "train-rates.json"))
    ap.add_argument("--max-steps", type=int, default=None,
                    help="cap on each stage's steps (default: spaces.yaml's training.max_steps, "
                         "as the Train tab applies it)")
    ap.add_argument("--phases", help="JSON {phase: seconds} of a run timed elsewhere")
    ap.add_argument("--note", default="", help="where and when that run was timed")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cfg = replace(preset(a.preset), seed=0)
    if a.max_steps is None:
        from ui.config import load_config

        a.max_steps = load_config().training.max_steps
    if a.phases:
        return record(a, cfg, json.loads(a.phases))
    started: dict[str, float] = {}
    seconds: dict[str, float] = {}
    steps1 = [0]

    def phase(key: str, **kw) -> None:
        now = time.monotonic()
        if kw.get("state") == "running":
            started.setdefault(key, now)
        elif kw.get("state") == "done" and key in started:
            seconds[key] = round(now - started[key], 2)
            log.info("%-12s %6.1f s", key, seconds[key])

    def loss(stage: str, row: dict) -> None:
        if stage == "stage1":
            steps1[0] += 1

    with tempfile.TemporaryDirectory() as tmp:
        plan = Plan(start_model=a.model, out=Path(tmp) / "run", cfg=cfg, stages="both",
                    spec=None, origin="bench/train_rates.py",  # evaluated from its folder
                    max_steps=a.max_steps or None)
        t0 = time.monotonic()
        end = Pipeline(plan, Hooks(phase=phase, loss=loss)).run()
        total = time.monotonic() - t0
    if end.state != "done":
        log.error("the run ended %s: %s", end.state, end.error)
        return 1
    when = time.strftime("%Y-%m-%d")
    planned = math.ceil(stage1_groups(a.model, cfg) * cfg.epochs)
    rates = est.rates_from_run(a.model, cfg, "both", seconds, steps1[0], planned,
                               measured=f"{a.preset} from {a.model}, {est.machine()}, {when}")
    assert rates is not None
    check = est.estimate(cfg, rates, cap=a.max_steps or None)
    out = {"rates": {a.model: rates.to_dict()},
           "run": {"preset": a.preset, "model": a.model, "total_s": round(total, 1),
                   "phases_s": seconds, "stage1_steps": steps1[0], "max_steps": a.max_steps,
                   "stage1_planned_steps": planned,
                   "estimate_s": round(check.total_s, 1), "machine": est.machine(),
                   "date": when}}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    log.info("%s end to end: %.1f s (stage 1 %d steps); its own estimate %.1f s → %s",
             a.preset, total, steps1[0], check.total_s, a.out)
    return 0


def stage1_groups(model: str, cfg) -> int:
    """Stage 1's batches of the preset's world data, as `loop.train_sft` forms them."""
    import random

    from pasta_core import load_model
    from pasta_core.train import stages
    from pasta_core.train.data import batches, encode_record, grammar_contexts

    lm = load_model(model)
    _, records = stages.world_data(lm, cfg.examples, seed=cfg.seed)
    eos = lm.eos_token_id
    seqs = [encode_record(r, lm.tokenizer, eos, annotated=True) for r in records]
    if cfg.grammar_weight:
        seqs += grammar_contexts(records, lm.tokenizer, eos)
    return len(list(batches(seqs, cfg.batch_tokens, random.Random(cfg.seed))))


def record(a: argparse.Namespace, cfg, seconds: dict[str, float]) -> int:
    """The rates of a run timed elsewhere: its phases, the stage-1 steps its data gives."""
    planned = math.ceil(stage1_groups(a.model, cfg) * cfg.epochs)
    steps1 = min(planned, a.max_steps) if a.max_steps else planned
    rates = est.rates_from_run(a.model, cfg, "both", seconds, steps1, planned,
                               measured=f"{a.preset} from {a.model}, {a.note}")
    assert rates is not None, "give every phase: load, stage1, stage2, eval-*, card"
    check = est.estimate(cfg, rates, cap=a.max_steps or None)
    out = {"rates": {a.model: rates.to_dict()},
           "run": {"preset": a.preset, "model": a.model, "total_s": round(sum(seconds.values()), 1),
                   "phases_s": seconds, "stage1_steps": steps1, "max_steps": a.max_steps,
                   "stage1_planned_steps": planned,
                   "estimate_s": round(check.total_s, 1), "note": a.note}}
    Path(a.out).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    log.info("recorded %s: %d stage-1 steps, estimate %.1f s → %s", a.preset, steps1,
             check.total_s, a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

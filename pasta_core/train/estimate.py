"""How long a finetuning run will take, from step times MEASURED on a machine — never from a
constant. A finished run's phases give its rates (`rates_from_run`): seconds per stage-1
optimiser step per 1000 batch tokens, padded batch tokens per world example, seconds per 1000
tokens sampled in stage 2 (its updates included), seconds per evaluation prompt, and the fixed
cost of loading, saving and the card. `estimate` scales them by another run's settings.

Where the rates come from: `bench/train_rates.py` runs the "cpu-demo" preset end to end and
writes them (`bench/results-cpu/train-rates.json`, with the machine it ran on); the Train tab
starts from that table and replaces a start model's rates with those of every run it finishes
here, so its estimate is this machine's, for the chosen start model, as soon as one run ended.
"""

from __future__ import annotations

import json
import logging
import math
import platform
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .config import TrainConfig

log = logging.getLogger(__name__)

STAGE_KEYS = {"both": ("stage1", "stage2"), "stage1": ("stage1",), "stage2": ("stage2",)}


@dataclass(frozen=True)
class Rates:
    """Seconds measured for one start model on one machine."""

    model: str
    stage1_s_per_ktoken: float  # a stage-1 step's seconds per 1000 padded batch tokens
    ktokens_per_example: float  # padded batch tokens (÷ 1000) one world example takes
    stage2_s_per_ktoken: float  # stage 2's seconds per 1000 sampled tokens, updates included
    eval_s_per_prompt: float  # one evaluation's seconds per prompt (both models decode, judge)
    overhead_s: float  # loading the start model, saving, writing the card
    measured: str = ""  # where and how: the machine, the run it came from

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def of(cls, d: dict) -> Rates:
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})


@dataclass(frozen=True)
class Estimate:
    """A run's expected seconds, phase by phase (0 for a phase the run skips)."""

    stage1_steps: int
    stage1_s: float
    stage2_s: float
    eval_s: float
    overhead_s: float
    rates: Rates

    evals: int = 0  # evaluations made (each stage's, the start model's)

    @property
    def total_s(self) -> float:
        return self.stage1_s + self.stage2_s + self.eval_s + self.overhead_s

    def phase_s(self, key: str) -> float:
        """One phase's expected seconds (the pipeline's phase keys; the fixed cost is the
        load's)."""
        if key.startswith("eval-"):
            return self.eval_s / self.evals if self.evals else 0.0
        return {"load": self.overhead_s, "stage1": self.stage1_s,
                "stage2": self.stage2_s}.get(key, 0.0)


def stage1_steps(cfg: TrainConfig, rates: Rates, cap: int | None = None) -> int:
    """Optimiser steps of stage 1: the world examples packed into batches of `batch_tokens`,
    `epochs` times (as `loop.run_loop` counts them), within the run's and the Space's caps."""
    groups = max(1, math.ceil(cfg.examples * rates.ktokens_per_example * 1000
                              / cfg.batch_tokens))
    steps = math.ceil(groups * cfg.epochs)
    for c in (cfg.max_steps, cap):
        if c:
            steps = min(steps, c)
    return steps


def sampled_ktokens(cfg: TrainConfig) -> float:
    """Stage 2's sampling budget: rounds × prompts × N samples × tokens per sample (÷ 1000)."""
    return cfg.rounds * cfg.prompts * cfg.n_samples * cfg.sample_tokens / 1000


def estimate(cfg: TrainConfig, rates: Rates, stages: str = "both", evaluate: bool = True,
             cap: int | None = None) -> Estimate:
    """The seconds `cfg` should take with these measured rates (`cap`: the Space's steps)."""
    run = STAGE_KEYS.get(stages, STAGE_KEYS["both"])
    n1 = stage1_steps(cfg, rates, cap) if "stage1" in run else 0
    s1 = n1 * cfg.batch_tokens / 1000 * rates.stage1_s_per_ktoken
    s2 = sampled_ktokens(cfg) * rates.stage2_s_per_ktoken if "stage2" in run else 0.0
    evals = (len(run) + 1) * cfg.eval_prompts if evaluate else 0  # each stage, the start
    return Estimate(n1, s1, s2, evals * rates.eval_s_per_prompt, rates.overhead_s, rates,
                    len(run) + 1 if evaluate else 0)


def rates_from_run(model: str, cfg: TrainConfig, stages: str, seconds: dict[str, float],
                   steps1: int, planned1: int | None = None, measured: str = "",
                   old: Rates | None = None) -> Rates | None:
    """The rates a finished run measured: `seconds` per phase (the pipeline's keys: load,
    stage1, eval-stage1, …, card), `steps1` stage-1 steps made, `planned1` the steps its data
    gave before any cap (packing is learnt only from an uncapped stage 1). A phase the run did
    not make keeps `old`'s rate; None when there is nothing to learn from."""
    def rate(new: float | None, prev: float | None) -> float | None:
        return new if new is not None else prev

    s1 = seconds.get("stage1")
    per1 = s1 / (steps1 * cfg.batch_tokens / 1000) if s1 and steps1 else None
    pack = None
    if planned1 and "stage1" in STAGE_KEYS.get(stages, ()) and cfg.epochs > 0:
        pack = planned1 / cfg.epochs * cfg.batch_tokens / 1000 / cfg.examples
    s2 = seconds.get("stage2")
    per2 = s2 / sampled_ktokens(cfg) if s2 and sampled_ktokens(cfg) > 0 else None
    ev = [v for k, v in seconds.items() if k.startswith("eval-")]
    per_ev = sum(ev) / (len(ev) * cfg.eval_prompts) if ev and cfg.eval_prompts else None
    over = sum(seconds.get(k, 0.0) for k in ("load", "card")) if "load" in seconds else None
    values = {
        "stage1_s_per_ktoken": rate(per1, old and old.stage1_s_per_ktoken),
        "ktokens_per_example": rate(pack, old and old.ktokens_per_example),
        "stage2_s_per_ktoken": rate(per2, old and old.stage2_s_per_ktoken),
        "eval_s_per_prompt": rate(per_ev, old and old.eval_s_per_prompt),
        "overhead_s": rate(over, old and old.overhead_s),
    }
    if any(v is None for v in values.values()):
        return None
    return Rates(model=model, measured=measured, **values)  # type: ignore[arg-type]


def machine() -> str:
    """This machine in a few words (the rates are its own)."""
    import os

    return f"{platform.machine()} {os.cpu_count()} cores, {platform.system()}"


class RateTable:
    """Measured rates by start model, read from a JSON file (the bench's, or one the app
    keeps), updated by each finished run, written back. The first model's rates stand in for
    a model never measured (the estimate says whose they are)."""

    def __init__(self, path: Path | None, seed: Path | None = None):
        self.path = path
        self.rates: dict[str, Rates] = {}
        for p in (seed, path):
            if p is not None and p.is_file():
                try:
                    data = json.loads(p.read_text(encoding="utf-8"))
                    self.rates.update({k: Rates.of(v) for k, v in data["rates"].items()})
                except (OSError, ValueError, KeyError, TypeError):
                    log.warning("ignoring an unreadable rate table %s", p.name)

    def get(self, model: str) -> Rates | None:
        return self.rates.get(model) or next(iter(self.rates.values()), None)

    def update(self, rates: Rates) -> None:
        self.rates[rates.model] = rates
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(
                {"rates": {k: v.to_dict() for k, v in self.rates.items()}}, indent=1),
                encoding="utf-8")
        except OSError:
            log.warning("could not keep the measured training rates in %s", self.path.name)

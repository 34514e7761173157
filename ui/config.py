"""The Space's settings (spaces.yaml): default model, offered models, per-request limits, and
the Train tab's limits."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Limits:
    max_new_tokens: int = 512
    max_threads: int = 16
    max_thread_tokens: int = 512
    max_prompt_tokens: int = 1024  # after the chat template, roles included
    max_prompt_chars: int = 8000  # a cheap first check, before any tokenizer runs
    max_messages: int = 32
    max_body_bytes: int = 65536
    queue_size: int = 16
    max_queued_per_client: int = 2  # waiting requests one client (session or address) may have
    step_idle_s: float = 20.0  # a stepped run left alone this long gives the slot back
    loaded_models: int = 3


@dataclass(frozen=True)
class TrainLimits:
    """The Train tab (one training job at a time; the others wait in a queue)."""

    enabled: bool = True
    max_steps: int = 2000  # optimiser steps per stage (stage 2: per round); more are capped
    max_run_s: int = 3600  # training time of one job; past it the job stops like a cancel
    max_examples: int = 6000  # world examples or uploaded records
    max_eval_prompts: int = 140
    max_stage2_prompts: int = 256  # prompts sampled per stage-2 round
    queue_size: int = 4  # training jobs waiting; more are refused


@dataclass(frozen=True)
class SpaceConfig:
    title: str = "PASTA"
    hardware: str = "cpu-basic"
    default_model: str = "bundled:pasta-tiny"
    baseline_model: str = "bundled:pasta-tiny-base"
    apar_model: str = "bundled:pasta-tiny-apar"  # the methods race's APAR-style model
    models: tuple[str, ...] = ("bundled:pasta-tiny", "random:llama")
    allow_hub_models: bool = False
    allow_runs: bool = True
    # torch's CPU threads per decoding job; 0: one fewer than torch's default, at least 1, so
    # the server keeps a core (ui/jobs.decode_threads; training keeps them all)
    torch_threads: int = 0
    limits: Limits = field(default_factory=Limits)
    training: TrainLimits = field(default_factory=TrainLimits)


def load_config(path: str | Path | None = None) -> SpaceConfig:
    """Read spaces.yaml (or PASTA_SPACES_CONFIG); PASTA_DEFAULT_MODEL overrides the default
    model. Unknown keys are an error, so a typo does not silently fall back to a default."""
    path = Path(path or os.environ.get("PASTA_SPACES_CONFIG") or ROOT / "spaces.yaml")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise SystemExit(f"error: cannot read the Space settings {path}: {e}") from e
    known = {f.name for f in fields(SpaceConfig)}
    lim_known = {f.name for f in fields(Limits)}
    train_known = {f.name for f in fields(TrainLimits)}
    bad = (set(raw) - known | set(raw.get("limits") or {}) - lim_known
           | {f"training.{k}" for k in set(raw.get("training") or {}) - train_known})
    if bad:
        raise SystemExit(f"error: unknown settings in {path}: {', '.join(sorted(bad))}")
    limits = Limits(**(raw.pop("limits", None) or {}))
    raw["training"] = TrainLimits(**(raw.pop("training", None) or {}))
    if "models" in raw:
        raw["models"] = tuple(raw["models"])
    cfg = SpaceConfig(**raw, limits=limits)
    if os.environ.get("PASTA_DEFAULT_MODEL"):
        model = os.environ["PASTA_DEFAULT_MODEL"]
        cfg = SpaceConfig(**{**cfg.__dict__, "default_model": model,
                             "models": tuple(dict.fromkeys((model, *cfg.models)))})
    return cfg

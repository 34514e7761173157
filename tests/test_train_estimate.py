"""The Train tab's time estimates come from step times measured on a machine, never from a
constant: a finished run's phases give rates (`pasta_core.train.estimate`), an estimate scales
them by another run's settings, the app learns the rates of each run it finishes here, and the
page shows the estimate and the time left in all. Cancel says what it kept and why. Checks of
arithmetic and of what the page says — no timing is measured here."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from types import SimpleNamespace

import pytest

from pasta_core.train.config import PRESETS, TrainConfig
from pasta_core.train.estimate import Rates, RateTable, estimate, rates_from_run, stage1_steps

CFG = PRESETS["cpu-demo"]
# a run as bench/train_rates.py records it: seconds per phase, stage-1 steps made
SECONDS = {"load": 2.0, "stage1": 60.0, "eval-stage1": 2.0, "stage2": 12.0, "eval-stage2": 2.0,
           "eval-start": 2.0, "card": 0.5}
STEPS1 = 300


def measured() -> Rates:
    r = rates_from_run("bundled:pasta-tiny-base", CFG, "both", SECONDS, STEPS1, STEPS1,
                       measured="a test")
    assert r is not None
    return r


def test_an_estimate_of_the_measured_run_is_that_run():
    est = estimate(CFG, measured())
    assert est.stage1_steps == STEPS1
    assert est.total_s == pytest.approx(sum(SECONDS.values()))
    assert est.stage1_s == pytest.approx(60.0) and est.stage2_s == pytest.approx(12.0)
    assert est.eval_s == pytest.approx(6.0) and est.phase_s("eval-stage2") == pytest.approx(2.0)


def test_an_estimate_scales_with_the_settings():
    r = measured()
    base = estimate(CFG, r)
    twice = estimate(replace(CFG, examples=CFG.examples * 2), r)
    assert twice.stage1_steps in (2 * STEPS1 - 1, 2 * STEPS1, 2 * STEPS1 + 1)
    assert estimate(replace(CFG, sample_tokens=CFG.sample_tokens * 2), r).stage2_s == \
        pytest.approx(2 * base.stage2_s)
    bigger = estimate(replace(CFG, batch_tokens=CFG.batch_tokens * 2), r)
    assert abs(bigger.stage1_steps - STEPS1 / 2) <= 1  # half the steps, each twice the cost
    assert bigger.stage1_s == pytest.approx(base.stage1_s, rel=0.01)
    only1 = estimate(CFG, r, stages="stage1")
    assert only1.stage2_s == 0 and only1.eval_s == pytest.approx(4.0)  # stage 1's, the start's
    assert estimate(CFG, r, evaluate=False).eval_s == 0
    assert estimate(CFG, r, cap=50).stage1_steps == 50  # the Space's step cap
    assert stage1_steps(replace(CFG, max_steps=7), r) == 7


def test_a_capped_stage_1_teaches_its_step_cost_but_not_the_packing():
    old = measured()
    r = rates_from_run("m", CFG, "both", {**SECONDS, "stage1": 30.0}, 100, None, old=old)
    assert r.ktokens_per_example == old.ktokens_per_example
    assert r.stage1_s_per_ktoken == pytest.approx(30.0 / (100 * CFG.batch_tokens / 1000))
    assert rates_from_run("m", CFG, "both", {"stage1": 1.0}, 3, None) is None  # too little


def test_the_rate_table_keeps_rates_by_model_and_survives_a_bad_file(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"rates": {"a": measured().to_dict()}}))
    path = tmp_path / "runs" / ".rates.json"
    table = RateTable(path, seed=seed)
    assert table.get("a").model == "bundled:pasta-tiny-base"
    assert table.get("never-measured") is table.get("a")  # whose they are is said on the page
    table.update(replace(measured(), model="b", overhead_s=9.0))
    assert RateTable(path).get("b").overhead_s == 9.0  # written back, read again
    path.write_text("{not json")
    broken = RateTable(path, seed=seed)  # an unreadable file is skipped, not a crash
    assert set(broken.rates) == {"a"}
    assert RateTable(None).get("a") is None


@pytest.fixture()
def trainer(tmp_path, monkeypatch):
    from pasta_core import models
    from ui import training
    from ui.config import SpaceConfig, TrainLimits

    monkeypatch.setattr(models, "RUNS_DIR", tmp_path / "runs")
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"rates": {"random:llama": replace(
        measured(), model="random:llama").to_dict()}}))
    monkeypatch.setattr(training, "RATES_SEED", seed)
    cfg = SpaceConfig(models=("random:llama",), default_model="random:llama",
                      baseline_model="random:llama", training=TrainLimits())
    return training.Trainer(cfg)


def numbers(cfg: TrainConfig) -> dict:
    from ui.train_tab import ADVANCED

    return {k: getattr(cfg, k) for k in ADVANCED}


def test_the_page_shows_the_estimate_and_whose_rates_it_used(trainer):
    from ui.train_tab import estimate_html

    shown = estimate_html(trainer, "random:llama", "both", numbers(CFG))
    total = sum(SECONDS.values())
    assert f"data-estimate='{total:.1f}'" in shown and "About" in shown
    assert f"{STEPS1} steps" in shown and "a test" in shown and "another start" not in shown
    other = estimate_html(trainer, "bundled:pasta-tiny", "both", numbers(CFG))
    assert "another start model" in other  # the rates of the model measured, said so
    bad = estimate_html(trainer, "random:llama", "both", {**numbers(CFG), "examples": ""})
    assert "data-estimate=''" in bad and "Set the numbers" in bad
    trainer.rates.rates.clear()
    assert "No step times measured" in estimate_html(trainer, "random:llama", "both",
                                                     numbers(CFG))


def job_with(phases: list[tuple[str, str, float, float | None]], state: str = "running",
             saved: str | None = None, notes: list[str] | None = None):
    """A job whose progress record holds these (key, state, seconds, eta) phases."""
    from ui.training import PHASES, Phase, Progress, TrainJob, TrainSettings

    s = TrainSettings(name="t", start_model="random:llama", **{
        k: getattr(CFG, k) for k in numbers(CFG)})
    job = TrainJob(1, s, None)
    now = time.time()
    job.p = Progress(state=state, saved=saved, notes=notes or [], started=now - 100,
                     ended=None if state == "running" else now)
    for key, st, secs, eta in phases:
        job.p.phases.append(Phase(key, PHASES[key], st, 0.5 if eta else 0.0, eta,
                                  "step 150/300" if key == "stage1" else "",
                                  now - secs if st != "pending" else None,
                                  now if st in ("done", "stopped") else None))
    job.p.loss["stage1"] = [{}] * (STEPS1 if saved or state == "done" else 150)
    return job


ALL = ["load", "stage1", "eval-stage1", "stage2", "eval-stage2", "eval-start", "card"]


def test_time_left_is_the_running_phase_eta_plus_the_phases_to_come(trainer):
    from ui.train_tab import progress_html, time_left

    job = job_with([("load", "done", 2, None), ("stage1", "running", 30, 30.0)]
                   + [(k, "pending", 0, None) for k in ALL[2:]])
    left = time_left(job.snapshot(), job, trainer)
    # this job's pace so far: load 2 s of 2.5 estimated, stage 1 30 s + 30 s left of 60
    pace = (2 + 60) / (2.5 + 60)
    assert left == pytest.approx(30.0 + (2 + 12 + 2 + 2) * pace, rel=1e-3)  # card: fixed cost
    assert f"data-left='{left:.0f}'" in progress_html(job.snapshot(), job, trainer)
    # a busy machine: stage 1 on course to take twice its estimate, so will the rest
    slow = job_with([("load", "done", 2.5, None), ("stage1", "running", 60, 60.0)]
                    + [(k, "pending", 0, None) for k in ALL[2:]])
    pace = (2.5 + 120) / (2.5 + 60)  # about twice
    assert time_left(slow.snapshot(), slow, trainer) == pytest.approx(60 + 18 * pace, rel=1e-3)


def test_a_finished_run_teaches_the_app_its_rates_and_a_capped_one_does_not(trainer):
    job = job_with([(k, "done", SECONDS[k], None) for k in ALL], state="done", saved="stage2")
    trainer.learn(job)
    r = trainer.rates.get("random:llama")
    assert r.measured.startswith("the last run here")
    assert estimate(CFG, r).total_s == pytest.approx(sum(SECONDS.values()), rel=0.01)
    assert json.loads((trainer.rates.path).read_text())["rates"]["random:llama"]
    from ui.training import CAP_NAME

    before = trainer.rates.get("random:llama")
    capped = job_with([(k, "done", 1.0, None) for k in ALL], state="done", saved="stage2",
                      notes=[f"Stage 1 stopped by {CAP_NAME} (3 s)"])
    trainer.learn(capped)
    assert trainer.rates.get("random:llama") == before


def test_cancel_says_what_it_kept_and_why(trainer):
    from ui.train_tab import progress_html

    cut = job_with([("load", "done", 2, None), ("stage1", "stopped", 30, None)]
                   + [(k, "pending", 0, None) for k in ALL[2:]], state="cancelled")
    shown = progress_html(cut.snapshot(), cut, trainer)
    assert "Stage 1 · SFT was cut (step 150/300)" in shown and "nothing was saved" in shown
    kept = job_with([(k, "done", 1, None) for k in ALL[:3]] + [("stage2", "stopped", 5, None)]
                    + [(k, "pending", 0, None) for k in ALL[4:]], state="cancelled",
                    saved="stage1")
    shown = progress_html(kept.snapshot(), kept, trainer)
    assert "keeps the <b>stage-1</b> model, the last stage that finished" in shown
    assert "data-saved='stage1'" in shown and "Nothing was saved" not in shown


def test_a_visitor_sees_a_waiting_jobs_place(trainer):
    from ui.train_tab import progress_html

    first = job_with([(k, "pending", 0, None) for k in ALL], state="waiting")
    trainer._waiting.extend([job_with([], state="waiting"), first])
    trainer.current = SimpleNamespace(id=9, settings=SimpleNamespace(name="someone"))
    shown = progress_html(first.snapshot(), first, trainer)
    assert "data-queue='2'" in shown and "<b>#2</b> in the queue" in shown
    assert "runs/someone" in shown


def test_a_pages_timer_shows_the_slot_to_a_visitor_without_a_job(trainer):
    from ui.sessions import Session
    from ui.train_tab import slot_html

    assert "data-slot='free'" in slot_html(None, trainer)
    trainer.current = SimpleNamespace(id=3, settings=SimpleNamespace(name="someone"))
    shown = slot_html(Session(), trainer)  # a visitor who never trained
    assert "data-slot='busy'" in shown and "runs/someone" in shown and "Ready" not in shown
    mine = Session()
    mine.training = job_with([], state="running")
    assert slot_html(mine, trainer) is None  # their own job's progress stays

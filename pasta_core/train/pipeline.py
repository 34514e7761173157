"""One finetuning pipeline — what `python -m pasta_core train stage1|stage2` and the Train tab
both run — driven by callbacks, and the one writer of a run's model card.

    load the start model ─ stage 1 (SFT) ─ save OUT ─ evaluate it
                         ─ stage 2 (BoNBoN) ─ save OUT again ─ evaluate it
                         ─ evaluate the start model ─ write the card, eval.json, eval.md

* OUT always holds the last FINISHED stage: `save_run` writes a temporary sibling folder and
  renames it, so a failed or cancelled run never leaves half a model.
* `Hooks.cancelled()` stops within one optimiser step, one prompt's samples in stage 2, or one
  evaluation prompt; what a cancelled stage had learned is dropped. A time cap (`max_run_s`)
  stops training the same way but keeps the capped stage (it is the result the cap allows).
* Evaluation is `evaluate.evaluate` on the test split, seed 0, greedy, with the start model as
  the baseline, on the SAVED weights loaded back from disk — so `python -m pasta_core eval
  --model OUT --baseline START --split test --n N` prints the numbers of the card.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..models import LoadedModel, ModelSpecError, load_model
from . import stages
from .config import TrainConfig
from .data import Record
from .loop import LogEntry
from .prefs import Point, PrefConfig, pareto_front

log = logging.getLogger(__name__)

EVAL_SPLIT, EVAL_SEED = "test", 0  # the CLI's `eval` defaults: the card's numbers are its own
PHASES = {
    "load": "Load the start model",
    "stage1": "Stage 1 · SFT",
    "eval-stage1": "Evaluate stage 1",
    "stage2": "Stage 2 · BoNBoN",
    "eval-stage2": "Evaluate stage 2",
    "eval-start": "Evaluate the start model",
    "card": "Write the card",
}


class Cancelled(Exception):
    """Raised inside a run when it is cancelled (evaluate has no stop hook of its own)."""


def _nop(*_a, **_k) -> None:
    return None


@dataclass
class Hooks:
    """What a caller sees of a run and how it stops one; every hook is optional.

    phase(key, **fields)     a phase's state ("running", "done", "stopped", "failed"), frac,
                             eta_s and detail changed (keys: PHASES)
    loss(stage, row)         one optimiser step: {"x", "loss", "lr", "stage", …}
    points(round, points)    one stage-2 prompt's scored samples (dicts), its pair's roles set
    front(round, front)      a round's Pareto front so far
    evaluated(row, overall)  an evaluation ended: row "start", "stage1" or "stage2"
    saved(stage)             OUT now holds this stage's model (its card is provisional)
    note(text)               something the user should read
    cancelled()              True once the user asked to stop
    """

    phase: Callable[..., None] = _nop
    loss: Callable[[str, dict], None] = _nop
    points: Callable[[int, list[dict]], None] = _nop
    front: Callable[[int, list], None] = _nop
    evaluated: Callable[[str, dict], None] = _nop
    saved: Callable[[str], None] = _nop
    note: Callable[[str], None] = _nop
    cancelled: Callable[[], bool] = lambda: False


@dataclass
class Plan:
    """What to train: from `start_model`, which `stages`, into `out` (shown as `spec`)."""

    start_model: str
    out: Path
    cfg: TrainConfig
    stages: str = "both"  # both, stage1, stage2
    records: list[Record] | None = None  # stage 1's data; None: the bundled world
    data_name: str = "world"
    spec: str = ""  # how the card names the run (runs/NAME, or the CLI's --out)
    origin: str = "`python -m pasta_core train`"  # where the card says it was trained
    evaluate: bool = True
    max_steps: int | None = None  # a cap on every stage's steps over cfg.max_steps
    max_run_s: float | None = None  # training time; past it training stops like a cancel
    cap_name: str = "the time limit"  # what the notes call that cap
    progress: bool = False  # tqdm bars on stderr (the CLI)
    pref: PrefConfig | None = None  # stage 2's full settings, over cfg's (the world recipe)

    def phase_keys(self) -> list[str]:
        keys = ["load"]
        if self.stages in ("both", "stage1"):
            keys += ["stage1"] + (["eval-stage1"] if self.evaluate else [])
        if self.stages in ("both", "stage2"):
            keys += ["stage2"] + (["eval-stage2"] if self.evaluate else [])
        return keys + (["eval-start"] if self.evaluate else []) + ["card"]


@dataclass
class Outcome:
    """How a run ended: "done", "cancelled" or "failed"; `saved`: the stage OUT holds."""

    state: str
    saved: str | None
    error: str | None = None


@dataclass
class _Record:
    """What the card and training.json say: per-stage meta and history, evaluations."""

    hist: dict[str, list[dict]] = field(default_factory=lambda: {"stage1": [], "stage2": []})
    meta: dict[str, dict] = field(default_factory=dict)  # per stage: data, config, steps, s
    stage2_out: dict = field(default_factory=dict)
    results: dict[str, dict] = field(default_factory=dict)  # start / stage1 / stage2 → eval
    status: list[str] = field(default_factory=list)  # how the run ended, for the card
    saved: str | None = None


class Pipeline:
    """One run of a Plan, reporting through Hooks. `run()` never raises for the run's own
    failures: it returns an Outcome whose `error` says what to change."""

    def __init__(self, plan: Plan, hooks: Hooks | None = None,
                 load: Callable[[str], LoadedModel] = load_model):
        self.plan, self.hooks, self.load = plan, hooks or Hooks(), load
        self.cfg = plan.cfg
        self.rec = _Record()
        self.files = _Files(plan, self.cfg, self.rec, self.hooks, load)
        self.deadline = float("inf")
        self.capped_by_time = False

    # -- stopping ------------------------------------------------------------------------------

    def should_stop(self) -> bool:
        if self.hooks.cancelled():
            return True
        if time.monotonic() > self.deadline:
            self.capped_by_time = True
            return True
        return False

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> Outcome:
        plan, current = self.plan, "load"
        if plan.max_run_s:
            self.deadline = time.monotonic() + plan.max_run_s
        try:
            if self.hooks.cancelled():
                raise Cancelled
            self.hooks.phase("load", state="running", detail=plan.start_model)
            lm = self.load(plan.start_model)
            self.hooks.phase("load", state="done")
            for stage in ("stage1", "stage2"):
                if plan.stages not in ("both", stage):
                    continue
                if stage == "stage2" and (self.hooks.cancelled() or self.capped_by_time):
                    self._not_started("stage2")
                    continue
                current = stage
                (self.stage1 if stage == "stage1" else self.stage2)(lm)
                current = f"eval-{stage}"
                self.files.evaluate_saved(stage)
            del lm
            current = "eval-start"
            if self.rec.saved is None:
                raise Cancelled
            if plan.evaluate:
                self.files.evaluate("start", plan.start_model)
            current = "card"
            return self.finish("done")
        except Cancelled:
            return self._stopped(current)
        except Exception as e:  # the message is the user's; the traceback the log's
            log.exception("training %s failed in %s", plan.spec or plan.out, current)
            return self._failed(current, e)
        finally:
            self.files.forget_base()

    def _not_started(self, stage: str) -> None:
        self.hooks.phase(stage, state="stopped", detail="not started")
        if self.plan.evaluate:
            self.hooks.phase(f"eval-{stage}", state="stopped", detail="not started")

    # -- stage 1 -------------------------------------------------------------------------------

    def stage1(self, lm: LoadedModel) -> None:
        key, plan = "stage1", self.plan
        self.hooks.phase(key, state="running", detail="tokenizing the data")
        if plan.records is not None:
            records, source = plan.records, f"{len(plan.records)} uploaded records"
        else:
            _, records = stages.world_data(lm, self.cfg.examples, seed=self.cfg.seed)
            source = f"{len(records)} bundled-world examples"
        loop = self.cfg.loop1(plan.max_steps)
        t0 = time.monotonic()

        def on_log(e: LogEntry) -> None:
            self.rec.hist["stage1"].append(e.to_dict())
            self.hooks.loss(key, {"x": e.step, "loss": e.loss, "lr": e.lr, "stage": e.stage})
            self.hooks.phase(key, frac=e.step / e.total, eta_s=e.eta_s,
                             detail=f"step {e.step}/{e.total} · loss {e.loss:.3f} · {source}")

        hist = stages.stage1(lm, records, loop, self.cfg.lora, self.cfg.grammar_weight,
                             on_log=on_log, should_stop=self.should_stop,
                             progress=plan.progress)
        if self.hooks.cancelled():
            self.hooks.phase(key, state="stopped", detail=f"cancelled after {len(hist)} steps")
            self.hooks.note("Stage 1 was cancelled: what it had learned is dropped "
                            "(earlier runs are untouched).")
            raise Cancelled
        note = ""
        if self.capped_by_time:
            total = hist[-1].total if hist else None
            note = f"{_cap_note(plan)} after {len(hist)} of {total} steps"
            if not hist:
                self.hooks.phase(key, state="stopped", detail=note)
                raise Cancelled
            self.rec.status.append(f"Stage 1 was {note}.")
            self.hooks.note(f"Stage 1 {note}; its model is saved as it is.")
        self.rec.meta["stage1"] = {"data": source, "config": asdict(loop), "steps": len(hist),
                                   "seconds": round(time.monotonic() - t0, 1), "note": note}
        self.hooks.phase(key, detail=f"{len(hist)} steps · saving {plan.spec}")
        self.files.save(lm, "stage1")
        self.hooks.phase(key, state="done", detail=f"{len(hist)} steps · loss "
                         f"{hist[0].loss:.3f} → {hist[-1].loss:.3f}" if hist else "no steps")

    # -- stage 2 -------------------------------------------------------------------------------

    def stage2(self, lm: LoadedModel) -> None:
        key, plan = "stage2", self.plan
        self.hooks.phase(key, state="running", detail="preparing world prompts")
        cfg = plan.pref or self.cfg.pref(plan.max_steps)
        examples, records = stages.stage2_data(lm, self.cfg.examples, cfg.everyday,
                                               seed=self.cfg.seed)
        watch = _Stage2Watch(self.hooks, cfg.rounds, min(cfg.prompts, len(examples)),
                             cfg.n_samples, cfg.loop.epochs)
        out = stages.stage2(lm, examples, cfg, self.cfg.lora, replay=records,
                            on_log=watch.on_log,
                            on_points=watch.on_points, on_prompt=watch.on_prompt,
                            should_stop=self.should_stop, seed=self.cfg.seed,
                            progress=plan.progress)
        self.rec.stage2_out = out
        self.rec.hist["stage2"] = out["history"]
        kept = ("the stage-1 model saved before it is kept"
                if self.rec.saved == "stage1" else "nothing was saved")
        if self.hooks.cancelled():
            self.hooks.phase(key, state="stopped", detail=f"cancelled in round {watch.round + 1}")
            if self.rec.saved == "stage1":
                self.rec.status.append("Stage 2 was cancelled: this is the stage-1 model.")
            self.hooks.note(f"Stage 2 was cancelled: {kept}.")
            raise Cancelled
        note = ""
        if self.capped_by_time:
            note = f"{_cap_note(plan)} in round {watch.round + 1} of {cfg.rounds}"
            if not out["history"]:
                self.hooks.phase(key, state="stopped", detail=note)
                self.hooks.note(f"Stage 2 {note} before any update: {kept}.")
                if self.rec.saved is None:
                    raise Cancelled
                self.rec.status.append(f"Stage 2 was {note} before any update: this is the "
                                       "stage-1 model.")
                return
            self.rec.status.append(f"Stage 2 was {note}.")
            self.hooks.note(f"Stage 2 {note}; its model is saved as it is.")
        if not out["history"]:
            self.hooks.note("Stage 2 found no pair with a preference (all samples scored the "
                            "same): the model did not change in stage 2.")
        self.rec.meta["stage2"] = {"data": f"{len(examples)} bundled-world prompts",
                                   "config": asdict(cfg), "steps": len(out["history"]),
                                   "samples": len(out["points"]),
                                   "seconds": round(time.monotonic() - watch.t0, 1),
                                   "note": note}
        self.hooks.phase(key, detail=f"saving {plan.spec}")
        self.files.save(lm, "stage2")
        self.hooks.phase(key, state="done", detail=f"{len(out['points'])} samples · "
                         f"{len(out['history'])} optimiser steps")

    def finish(self, state: str, error: str | None = None) -> Outcome:
        stage = self.rec.saved
        if stage is not None:
            self.hooks.phase("card", state="running")
            self.files.write_card(stage)
            self.hooks.phase("card", state="done", detail=f"{self.plan.spec}/README.md")
        return Outcome(state, stage, error)

    def _stopped(self, where: str) -> Outcome:
        if self.rec.saved is not None:
            if where.startswith("eval") or where == "card":
                self.rec.status.append("The evaluation was cancelled: the table is incomplete.")
            try:
                self.finish("cancelled")
            except OSError as e:
                self.hooks.note(f"Could not update the card: {e}")
        elif self.capped_by_time and not self.hooks.cancelled():
            self.hooks.note(f"Stopped by {self.plan.cap_name} before a stage finished: nothing "
                            "was saved (earlier runs are untouched).")
        else:
            self.hooks.note("Cancelled before a stage finished: nothing was saved "
                            "(earlier runs are untouched).")
        return Outcome("cancelled", self.rec.saved)

    def _failed(self, where: str, e: BaseException) -> Outcome:
        msg = explain(e, PHASES.get(where, where))
        if self.rec.saved is not None:
            self.rec.status.append(f"The job failed afterwards ({msg}).")
            try:
                self.finish("failed", msg)
            except OSError:
                pass
            self.hooks.note(f"{self.plan.spec} keeps the "
                            f"{self.rec.saved.replace('stage', 'stage ')} model that finished "
                            "before the failure.")
        else:
            self.hooks.note("Nothing was saved; earlier runs are untouched.")
        return Outcome("failed", self.rec.saved, msg)

class _Files:
    """A run's outputs: the saved model, its evaluations, training.json and the card."""

    def __init__(self, plan: Plan, cfg: TrainConfig, rec: _Record, hooks: Hooks,
                 load: Callable[[str], LoadedModel]):
        self.plan, self.cfg, self.rec, self.hooks, self.load = plan, cfg, rec, hooks, load
        self._base: LoadedModel | None = None

    def save(self, lm: LoadedModel, stage: str) -> None:
        stages.save_run(lm, self.plan.out, self.card(stage, provisional=True), self.info(stage))
        self.rec.saved = stage
        self.hooks.saved(stage)

    def forget_base(self) -> None:
        self._base = None

    def base(self) -> LoadedModel:
        """The start model as the CLI loads it (a fresh copy: the trained one changed)."""
        if self._base is None:
            self._base = self.load(self.plan.start_model)
        return self._base

    def evaluate_saved(self, stage: str) -> None:
        """Evaluate the run as `stage` left it, if that stage got as far as saving it."""
        if not self.plan.evaluate:
            return
        if self.rec.saved == stage:
            self.evaluate(stage, self.plan.spec or str(self.plan.out))
        else:
            self.hooks.phase(f"eval-{stage}", state="stopped", detail="nothing to evaluate")

    def evaluate(self, row: str, spec: str) -> None:
        from .evaluate import evaluate

        key, n = f"eval-{row}", self.cfg.eval_prompts
        self.hooks.phase(key, state="running", detail=f"loading {spec}")
        pasta = self.base() if spec == self.plan.start_model else self.load(spec)
        base = self.base()
        t0, done = time.monotonic(), [0]

        def on_row(r: dict) -> None:
            if self.hooks.cancelled():
                raise Cancelled
            done[0] += 1
            el = time.monotonic() - t0
            self.hooks.phase(key, frac=done[0] / n, eta_s=el / done[0] * (n - done[0]),
                             detail=f"prompt {done[0]}/{n} of the {EVAL_SPLIT} split")

        self.hooks.phase(key, detail=f"prompt 0/{n} of the {EVAL_SPLIT} split")
        result = evaluate(pasta, base, EVAL_SPLIT, n, seed=EVAL_SEED,
                          progress=self.plan.progress, on_row=on_row)
        self.rec.results[row] = result
        self.hooks.evaluated(row, overall_row(result) | {"model": spec})
        self.hooks.phase(key, state="done", detail=f"{n} prompts")
        if row != "start" and row == self.rec.saved:
            self.write_card(row)

    def write_card(self, stage: str) -> None:
        """training.json, the card, and (after an evaluation) eval.json and eval.md of the
        saved model — what `python -m pasta_core eval` writes."""
        from .evaluate import write

        out = self.plan.out
        if stage in self.rec.results:
            write(self.rec.results[stage], out)
        _write_text(out / "training.json", json.dumps(self.info(stage), indent=1))
        _write_text(out / "README.md", self.card(stage))

    def info(self, stage: str) -> dict:
        return run_info(self.plan, self.cfg, self.rec, stage)

    def card(self, stage: str, provisional: bool = False) -> str:
        return run_card(self.plan, self.cfg, self.rec, stage, provisional)


class _Stage2Watch:
    """Stage 2's progress: which round, how many prompts sampled and steps taken; the Pareto
    front of the round's points so far. One record, fed by the three stage-2 callbacks."""

    def __init__(self, hooks: Hooks, rounds: int, n_prompts: int, n_samples: int,
                 epochs: float):
        self.hooks, self.rounds, self.n_prompts = hooks, rounds, n_prompts
        self.n_samples, self.epochs = n_samples, epochs
        self.round = self.prompts = self.steps = self.x = 0
        self.total: int | None = None
        self.round_points: list[tuple[float, float]] = []
        self.t0 = time.monotonic()

    def _update(self, detail: str) -> None:
        unit = self.n_prompts + (self.total if self.total is not None else
                                 max(1, round(self.n_prompts * self.epochs)))
        frac = min((self.round + (self.prompts + self.steps) / unit) / self.rounds, 0.999)
        el = time.monotonic() - self.t0
        self.hooks.phase("stage2", frac=frac, eta_s=el * (1 - frac) / frac if frac > 0 else None,
                         detail=f"round {self.round + 1}/{self.rounds} · {detail}")

    def on_prompt(self, pts: list[Point]) -> None:
        if pts and pts[0].round != self.round:
            self.round, self.prompts, self.steps, self.total = pts[0].round, 0, 0, None
            self.round_points = []
        self.prompts += 1
        self.round_points += [(p.speedup, p.quality) for p in pts]
        self.hooks.points(self.round, [asdict(p) for p in pts])
        self.hooks.front(self.round, pareto_front(self.round_points))
        self._update(f"sampled prompt {self.prompts}/{self.n_prompts} "
                     f"({self.n_samples} answers each)")

    def on_points(self, pts: list[Point]) -> None:
        if pts:
            self.hooks.front(pts[0].round, pareto_front([(p.speedup, p.quality) for p in pts]))

    def on_log(self, e: LogEntry) -> None:
        self.x += 1
        self.steps, self.total = e.step, e.total
        self.hooks.loss("stage2", {"x": self.x, "loss": e.loss, "lr": e.lr, "stage": e.stage,
                                   "round": self.round + 1,
                                   **{k: e.extra.get(k) for k in ("sft", "ipo")}})
        self._update(f"optimising step {e.step}/{e.total} · loss {e.loss:.3f}")


# -- the model card ----------------------------------------------------------------------------

ROWS = {"start": "start model", "stage1": "after stage 1", "stage2": "after stage 2"}
TABLE_COLS = [  # (key in evaluate's "overall", header)
    ("judge_pasta", "quality (judge)"),
    ("theoretical_speedup_geomean", "theoretical speed-up"),
    ("wall_speedup_geomean", "wall-clock speed-up"),
    ("promise_rate_splittable", "promises (splittable)"),
    ("promise_rate_other", "promises (other)"),
    ("parse_ok_rate", "answers without tag errors"),
    ("tag_errors", "tag errors"),
]


def overall_row(result: dict) -> dict:
    """evaluate()'s overall measures, with the tag errors of all its rows summed."""
    return result["overall"] | {"tag_errors": sum(r["pasta"]["tag_errors"]
                                                  for r in result["rows"])}


def fmt(v) -> str:
    return "–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def comparison_markdown(results: dict[str, dict]) -> str:
    head = "| model | " + " | ".join(h for _, h in TABLE_COLS) + " |"
    out = [head, "|---" * (len(TABLE_COLS) + 1) + "|"]
    for row in ("start", "stage1", "stage2"):
        if row in results:
            o = overall_row(results[row])
            out.append(f"| {ROWS[row]} (`{results[row]['pasta_model']}`) | "
                       + " | ".join(fmt(o[k]) for k, _ in TABLE_COLS) + " |")
    return "\n".join(out)


def front_matter(tags: str, license: str | None = None) -> list[str]:
    """A model card's YAML header (a run's license is its start model's: none stated)."""
    return ["---", *([f"license: {license}"] if license else []),
            "library_name: transformers", "pipeline_tag: text-generation", f"tags: [{tags}]",
            "---"]


def run_info(plan: Plan, cfg: TrainConfig, rec: _Record, stage: str) -> dict:
    """training.json: what ran, how it ended, the history, samples, fronts, evaluations."""
    return {"name": plan.out.name, "start_model": plan.start_model, "stage": stage,
            "settings": asdict(cfg) | {"stages": plan.stages, "data": plan.data_name},
            "status": rec.status, **rec.meta, "history": rec.hist,
            "stage2_samples": rec.stage2_out.get("points", []),
            "stage2_fronts": rec.stage2_out.get("fronts", {}),
            "eval": {k: v["overall"] for k, v in rec.results.items()}}


def run_card(plan: Plan, cfg: TrainConfig, rec: _Record, stage: str,
             provisional: bool = False) -> str:
    """The README.md of a finetuned run: what it is, how it was trained, its evaluation."""
    from .evaluate import to_markdown

    spec = plan.spec or str(plan.out)
    what = ("stage 1 (SFT on PASTA-LANG annotated answers, the shared layout)"
            if stage == "stage1" else
            "stage 2 (BoNBoN preference optimisation on its own samples, scored by "
            f"theoretical speed-up + λ·quality, λ = {cfg.lam})")
    did = {"both": "stage 1 then stage 2", "stage1": "stage 1 only",
           "stage2": "stage 2 only"}[plan.stages]
    lines = [*front_matter("pasta, parallel-decoding"), f"# {plan.out.name}", "",
             f"`{spec}` was trained in {plan.origin} from `{plan.start_model}` ({did}). "
             f"**These weights are the model after {what}.**", ""]
    if rec.status:
        lines += [f"> {t}" for t in rec.status] + [""]
    if provisional:
        lines += ["*Training or evaluation is still running; this card is rewritten when "
                  "the job ends.*", ""]
    lines += ["## Training", ""]
    for st in ("stage1", "stage2"):
        m = rec.meta.get(st)
        if m is None:
            continue
        loss = rec.hist[st]
        first_last = (f"loss {loss[0]['loss']:.3f} → {loss[-1]['loss']:.3f}"
                      if loss else "no optimiser step")
        lines.append(f"* {'Stage 1' if st == 'stage1' else 'Stage 2'}: {m['data']}; "
                     f"{m['steps']} optimiser steps, {first_last}, {m['seconds']} s"
                     + (f" ({m['note']})" if m["note"] else "") + ".")
        lines.append(f"  Settings: `{json.dumps(m['config'], separators=(',', ':'))}`.")
    lines += [f"* Seed {cfg.seed}. Full history, stage-2 samples and Pareto fronts: "
              "`training.json`.", ""]
    if rec.results:
        n = next(iter(rec.results.values()))["n"]
        lines += ["## Evaluation", "",
                  f"Test split, {n} prompts, seed {EVAL_SEED}, greedy; the baseline "
                  f"(sequential, plain decoding) is the start model `{plan.start_model}`.", "",
                  comparison_markdown(rec.results), ""]
        if stage in rec.results:
            lines += [f"### This model, as `python -m pasta_core eval --model {spec} "
                      f"--baseline {plan.start_model} --split {EVAL_SPLIT} --n {n}` reports "
                      "it", "", to_markdown(rec.results[stage])]
    return "\n".join(lines) + "\n"


def _cap_note(plan: Plan) -> str:
    return f"stopped by {plan.cap_name} ({plan.max_run_s} s)"


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def explain(e: BaseException, where: str) -> str:
    """A failure in words the user can act on."""
    text = str(e) or type(e).__name__
    oom = isinstance(e, MemoryError) or "out of memory" in text.lower() or (
        type(e).__name__ == "OutOfMemoryError")
    if oom:
        return (f"Out of memory during “{where}”: try a smaller batch size, fewer stage-2 "
                "samples or shorter samples, or LoRA.")
    if isinstance(e, ModelSpecError):
        return f"The model could not be loaded: {text}"
    if isinstance(e, OSError):
        return f"A file could not be written or read during “{where}”: {text}"
    return f"{type(e).__name__} during “{where}”: {text}"

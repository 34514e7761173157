"""Training jobs for the Train tab, without any UI: settings and presets, one training slot with
a visible queue, and a worker thread that DRIVES `pasta_core.train` (world_data, stage1,
stage2, save_run, evaluate) while it fills a thread-safe progress record the page polls.

A job, start to end:

    load the start model ─ stage 1 (SFT) ─ save runs/NAME ─ evaluate it
                         ─ stage 2 (BoNBoN) ─ save runs/NAME again ─ evaluate it
                         ─ evaluate the start model ─ write the card, eval.json, eval.md

* One job trains at a time (its own lock, not the decoding slot: decoding goes on meanwhile,
  sharing the CPU); the others wait in a bounded queue and see their place in it.
* `runs/NAME` always holds the last FINISHED stage: `save_run` writes through a temporary
  sibling folder and renames, so a failed or cancelled job never leaves half a model, and
  earlier runs are only replaced by a finished stage of a job that was told to overwrite them.
* Cancel stops within one optimiser step (`should_stop`), or one prompt's samples in stage 2,
  or one evaluation prompt. What a cancelled stage had learned is dropped; the card says
  which stage the saved model is. The Space's run-time cap (`training.max_run_s`) stops
  training the same way but keeps the capped stage (it is the result the Space allows).
* Evaluation is `pasta_core.train.evaluate.evaluate` on the test split, seed 0, greedy,
  with the start model as the baseline, on the SAVED weights loaded back from disk — so
  `python -m pasta_core eval --model runs/NAME --baseline START --split test --n N` prints the
  numbers of the card.
"""

from __future__ import annotations

import collections
import copy
import json
import logging
import re
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from pasta_core import models as pasta_models
from pasta_core.models import LoadedModel, ModelSpecError, list_bundled, load_model
from pasta_core.train.config import PRESETS as CORE_PRESETS
from pasta_core.train.config import ConfigError, TrainConfig
from pasta_core.train.data import Record, read_jsonl
from pasta_core.train.loop import LogEntry
from pasta_core.train.prefs import Point, pareto_front

from .config import SpaceConfig

log = logging.getLogger(__name__)

RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")
STAGES = ("both", "stage1", "stage2")
EVAL_SPLIT, EVAL_SEED = "test", 0  # the CLI's `eval` defaults: the card's numbers are its own
MAX_UPLOAD_BYTES = 32 * 2**20


class TrainError(ValueError):
    """Settings, data or a model that cannot train; the message says what to change."""


class Cancelled(Exception):
    """Raised inside an evaluation when the job is cancelled (evaluate has no stop hook)."""


@dataclass(kw_only=True)
class TrainSettings(TrainConfig):
    """Everything a job needs; the form's fields, one to one. The numbers and their defaults
    are `pasta_core.train.config.TrainConfig`'s."""

    name: str
    start_model: str
    data: str = "world"  # "world", or the path of a JSONL file of {"prompt", "annotated"}
    skip_bad_lines: bool = False
    stages: str = "both"  # both, stage1, stage2
    overwrite: bool = False


# The presets fill the form; the form's values are what runs (`pasta_core.train.config`).
# The form's labels → the core's preset names; seed and LoRA are the user's, not a preset's.
PRESET_NAMES = {"CPU demo": "cpu-demo", "Full": "full"}
PRESETS: dict[str, dict] = {
    label: {k: v for k, v in asdict(CORE_PRESETS[key]).items() if k not in ("seed", "lora")}
    for label, key in PRESET_NAMES.items()}


def preset(name: str, limits) -> dict:
    """A preset's values, within this Space's limits."""
    p = dict(PRESETS.get(name, PRESETS["CPU demo"]))
    p["examples"] = min(p["examples"], limits.max_examples)
    p["eval_prompts"] = min(p["eval_prompts"], limits.max_eval_prompts)
    p["prompts"] = min(p["prompts"], limits.max_stage2_prompts)
    return p


SETTING_NAMES = [f.name for f in fields(TrainSettings)]


# -- what can be trained ------------------------------------------------------------------

def start_choices(config: SpaceConfig, available: list[str]) -> list[str]:
    """Start models offered: the bundled models that exist (the base first), then what the
    Space offers (`available`: configured models that load, finished runs)."""
    bundled = sorted((f"bundled:{n}" for n in list_bundled()),
                     key=lambda s: (s != "bundled:pasta-tiny-base", s))
    return list(dict.fromkeys(bundled + available))


def default_start(config: SpaceConfig, choices: list[str]) -> str | None:
    for spec in ("bundled:pasta-tiny-base", config.baseline_model):
        if spec in choices:
            return spec
    return choices[0] if choices else None


def check_start(spec: str, choices: list[str], allow_hub: bool) -> str:
    spec = (spec or "").strip()
    if not spec:
        raise TrainError("Choose a start model (or type a Hub id).")
    if spec in choices:
        return spec
    if spec.startswith("runs/"):
        raise TrainError(f"There is no finished run {spec!r}; runs here: "
                         f"{', '.join(c for c in choices if c.startswith('runs/')) or 'none'}.")
    if HUB_ID.match(spec) and not spec.startswith(("bundled:", "random:")):
        if allow_hub:
            return spec
        raise TrainError(f"{spec!r} is a Hugging Face Hub id and this server does not load Hub "
                         "models (allow_hub_models: false in spaces.yaml). Start from one of: "
                         f"{', '.join(choices)}.")
    raise TrainError(f"The start model {spec!r} is not offered here; choose one of: "
                     f"{', '.join(choices) or 'none'}.")


def check_jsonl(path: str | Path, skip_bad: bool = True) -> tuple[list[Record], list[str]]:
    """`read_jsonl` with the file's own troubles (missing, too big, not text) as problems."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as e:
        return [], [f"cannot read the file: {e.strerror}"]
    if size > MAX_UPLOAD_BYTES:
        return [], [f"the file has {size / 2**20:.1f} MiB; at most "
                    f"{MAX_UPLOAD_BYTES // 2**20} MiB are accepted"]
    try:
        return read_jsonl(p, skip_bad=skip_bad)
    except UnicodeDecodeError:
        return [], ["the file is not UTF-8 text (a JSONL file has one JSON object per line)"]


def next_free_name(base: str = "pasta-run", taken: set[str] | None = None) -> str:
    runs = pasta_models.RUNS_DIR
    taken = taken or set()
    k = 1
    while (runs / f"{base}-{k}").exists() or f"{base}-{k}" in taken:
        k += 1
    return f"{base}-{k}"


def _numbers(s: TrainSettings) -> None:
    if s.stages not in STAGES:
        raise TrainError(f"stages must be one of {', '.join(STAGES)}")
    try:
        s.check()
    except ConfigError as e:
        raise TrainError(str(e)) from e


# -- the progress record ------------------------------------------------------------------

PHASES = {
    "load": "Load the start model",
    "stage1": "Stage 1 · SFT",
    "eval-stage1": "Evaluate stage 1",
    "stage2": "Stage 2 · BoNBoN",
    "eval-stage2": "Evaluate stage 2",
    "eval-start": "Evaluate the start model",
    "card": "Write the card",
}


@dataclass
class Phase:
    key: str
    label: str
    state: str = "pending"  # pending, running, done, stopped, failed
    frac: float = 0.0
    eta_s: float | None = None
    detail: str = ""
    started: float | None = None
    ended: float | None = None


@dataclass
class Progress:
    """What the page shows; written by the job's thread under the job's lock, read as a copy."""

    state: str = "waiting"  # waiting, running, done, cancelled, failed
    phases: list[Phase] = field(default_factory=list)
    loss: dict[str, list[dict]] = field(default_factory=lambda: {"stage1": [], "stage2": []})
    points: list[dict] = field(default_factory=list)
    fronts: dict[int, list] = field(default_factory=dict)
    evals: dict[str, dict] = field(default_factory=dict)  # start / stage1 / stage2 → overall
    saved: str | None = None  # which stage runs/NAME holds: "stage1", "stage2", or None
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    started: float | None = None
    ended: float | None = None
    version: dict[str, int] = field(default_factory=lambda: collections.defaultdict(int))


class TrainJob:
    def __init__(self, jid: int, settings: TrainSettings, records: list[Record] | None,
                 owner: str = ""):
        self.id, self.settings, self.records, self.owner = jid, settings, records, owner
        self.cancel_event = threading.Event()
        self.lock = threading.Lock()
        self.p = Progress()
        self.created = time.time()

    @property
    def spec(self) -> str:
        return f"runs/{self.settings.name}"

    @property
    def finished(self) -> bool:
        return self.p.state in ("done", "cancelled", "failed")

    def snapshot(self) -> Progress:
        with self.lock:
            return copy.deepcopy(self.p)

    def bump(self, *what: str) -> None:
        for w in what:
            self.p.version[w] += 1

    def phase(self, key: str) -> Phase:
        return next(ph for ph in self.p.phases if ph.key == key)


# -- the one training slot and its queue --------------------------------------------------

class Trainer:
    """One training job at a time; the others wait (bounded) and see their place."""

    def __init__(self, config: SpaceConfig, registry=None):
        self.config, self.registry = config, registry
        self.limits = config.training
        self._cv = threading.Condition()
        self._waiting: collections.deque[TrainJob] = collections.deque()
        self.current: TrainJob | None = None
        self.recent: collections.deque[TrainJob] = collections.deque(maxlen=20)
        self._count = 0
        self._worker: threading.Thread | None = None

    # -- what the form offers ----------------------------------------------------------------

    def available(self) -> list[str]:
        return self.registry.available() if self.registry is not None else list(
            self.config.models)

    def choices(self) -> list[str]:
        return start_choices(self.config, self.available())

    def busy_names(self) -> set[str]:
        with self._cv:
            jobs = list(self._waiting) + ([self.current] if self.current else [])
        return {j.settings.name for j in jobs}

    # -- submit, queue, cancel ---------------------------------------------------------------

    def validate(self, s: TrainSettings) -> list[Record] | None:
        """Check a job before it queues; returns the uploaded records (read now: the upload
        may be gone by the time the job starts). Raises TrainError."""
        if not self.limits.enabled:
            raise TrainError("Training is turned off on this server (training.enabled in "
                             "spaces.yaml).")
        name = (s.name or "").strip()
        if not RUN_NAME.match(name) or name.endswith(".partial") or ".." in name:
            raise TrainError(f"The run name {s.name!r} is not valid: use 1 to 64 letters, "
                             "digits, '-', '_' or '.', starting with a letter or a digit.")
        s.name = name
        if not self.config.allow_runs:
            raise TrainError("This server does not keep trained runs (allow_runs: false).")
        if name in self.busy_names():
            raise TrainError(f"A training job for runs/{name} is already queued or running.")
        if (pasta_models.RUNS_DIR / name).exists() and not s.overwrite:
            raise TrainError(f"runs/{name} already exists: choose another name, or tick "
                             "“Overwrite” to replace it when the new run's first stage ends.")
        s.start_model = check_start(s.start_model, self.choices(), self.config.allow_hub_models)
        if s.start_model == f"runs/{name}":
            raise TrainError("A run cannot overwrite its own start model; choose another name.")
        _numbers(s)
        lim = self.limits
        if s.examples > lim.max_examples:
            raise TrainError(f"{s.examples} world examples is over this server's limit of "
                             f"{lim.max_examples}")
        if s.eval_prompts > lim.max_eval_prompts:
            raise TrainError(f"{s.eval_prompts} evaluation prompts is over this server's limit "
                             f"of {lim.max_eval_prompts}")
        if s.prompts > lim.max_stage2_prompts:
            raise TrainError(f"{s.prompts} stage-2 prompts per round is over this server's "
                             f"limit of {lim.max_stage2_prompts}")
        if s.lora:
            import importlib.util

            if importlib.util.find_spec("peft") is None:
                raise TrainError("LoRA needs the peft package, which is not installed here "
                                 "(pip install peft); turn LoRA off.")
        if s.data == "world":
            return None
        if s.stages == "stage2":
            raise TrainError("Stage 2 alone does not read an uploaded file: it samples world "
                             "prompts (the judge needs the world's facts). Choose the bundled "
                             "world, or include stage 1.")
        records, problems = check_jsonl(s.data, skip_bad=s.skip_bad_lines)
        if problems and not s.skip_bad_lines:
            raise TrainError(f"The JSONL file has {len(problems)} bad line(s); nothing runs "
                             "until they are fixed or “Skip bad lines” is ticked:\n"
                             + "\n".join(problems[:20])
                             + (f"\n… and {len(problems) - 20} more" if len(problems) > 20
                                else ""))
        if not records:
            raise TrainError("The JSONL file has no usable records.")
        if len(records) > lim.max_examples:
            raise TrainError(f"The file has {len(records)} records; this server trains on at "
                             f"most {lim.max_examples}.")
        return records

    def submit(self, s: TrainSettings, owner: str = "") -> TrainJob:
        records = self.validate(s)
        with self._cv:
            if s.name in {j.settings.name for j in self._waiting} or (
                    self.current is not None and self.current.settings.name == s.name):
                raise TrainError(f"A training job for runs/{s.name} is already queued or "
                                 "running.")
            if len(self._waiting) >= self.limits.queue_size:
                raise TrainError(f"The training queue is full ({len(self._waiting)} jobs "
                                 "waiting); try again later.")
            self._count += 1
            job = TrainJob(self._count, s, records, owner)
            job.p.phases = [Phase(k, PHASES[k]) for k in _phase_keys(s)]
            self._waiting.append(job)
            self.recent.append(job)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="pasta-train",
                                                daemon=True)
                self._worker.start()
            self._cv.notify_all()
        return job

    def position(self, job: TrainJob) -> int:
        """0 while it runs (or has ended), k ≥ 1 while k − 1 jobs wait ahead of it."""
        with self._cv:
            try:
                return list(self._waiting).index(job) + 1
            except ValueError:
                return 0

    def cancel(self, job: TrainJob) -> None:
        job.cancel_event.set()
        with self._cv:
            if job in self._waiting:
                self._waiting.remove(job)
                with job.lock:
                    job.p.state, job.p.ended = "cancelled", time.time()
                    job.p.notes.append("Cancelled while waiting in the queue; nothing ran.")
                    job.bump("state")

    def status(self) -> dict:
        with self._cv:
            cur = self.current
            return {"running": None if cur is None else {"id": cur.id,
                                                         "name": cur.settings.name},
                    "waiting": len(self._waiting), "queue_size": self.limits.queue_size}

    def _work(self) -> None:
        while True:
            with self._cv:
                while not self._waiting:
                    if not self._cv.wait(timeout=60):
                        self._worker = None  # idle: the next submit starts a new worker
                        return
                job = self._waiting.popleft()
                self.current = job
            try:
                Run(job, self).execute()
            except Exception:  # Run reports its own failures; this is a last resort
                log.exception("training job %d crashed", job.id)
            finally:
                with self._cv:
                    self.current = None

    # -- a run that was just written must not be served from the registry's old copy --------

    def forget_loaded(self, spec: str) -> None:
        if self.registry is not None:  # a Trainer used without the app has none
            self.registry.forget(spec)


def _phase_keys(s: TrainSettings) -> list[str]:
    keys = ["load"]
    if s.stages in ("both", "stage1"):
        keys += ["stage1", "eval-stage1"]
    if s.stages in ("both", "stage2"):
        keys += ["stage2", "eval-stage2"]
    return keys + ["eval-start", "card"]


# -- one job --------------------------------------------------------------------------------

class Run:
    """The body of a job, in the worker thread."""

    def __init__(self, job: TrainJob, trainer: Trainer):
        self.job, self.trainer = job, trainer
        self.s = job.settings
        self.out = pasta_models.RUNS_DIR / self.s.name
        self.deadline = 0.0
        self.capped_by_time = False
        self.hist: dict[str, list[dict]] = {"stage1": [], "stage2": []}
        self.stage2_out: dict | None = None
        self.results: dict[str, dict] = {}  # start / stage1 / stage2 → evaluate() result
        self.status: list[str] = []  # what the card says about how the job ended
        self.meta: dict[str, dict] = {}  # per stage: data, settings, steps, seconds
        self._base: LoadedModel | None = None

    # -- progress helpers (all under the job's lock) -----------------------------------------

    def _set(self, key: str, **kw) -> None:
        with self.job.lock:
            ph = self.job.phase(key)
            for k, v in kw.items():
                setattr(ph, k, v)
            if kw.get("state") == "running" and ph.started is None:
                ph.started = time.time()
            if kw.get("state") in ("done", "stopped", "failed"):
                ph.ended = time.time()
                if kw["state"] == "done":
                    ph.frac, ph.eta_s = 1.0, 0.0
            self.job.bump("phases")

    def _note(self, text: str) -> None:
        with self.job.lock:
            self.job.p.notes.append(text)
            self.job.bump("notes")

    def should_stop(self) -> bool:
        if self.job.cancel_event.is_set():
            return True
        if time.monotonic() > self.deadline:
            self.capped_by_time = True
            return True
        return False

    @property
    def cancelled(self) -> bool:
        return self.job.cancel_event.is_set()

    # -- the job -----------------------------------------------------------------------------

    def execute(self) -> None:
        job = self.job
        with job.lock:
            job.p.state, job.p.started = "running", time.time()
            job.bump("state")
        self.deadline = time.monotonic() + self.trainer.limits.max_run_s
        current = "load"
        try:
            if job.cancel_event.is_set():
                raise Cancelled
            self._set("load", state="running", detail=self.s.start_model)
            lm = load_model(self.s.start_model)
            self._set("load", state="done")
            if self.s.stages in ("both", "stage1"):
                current = "stage1"
                self.stage1(lm)
                current = "eval-stage1"
                self.evaluate_saved("stage1")
            if self.s.stages in ("both", "stage2") and not self.cancelled and not (
                    self.capped_by_time):
                current = "stage2"
                self.stage2(lm)
                current = "eval-stage2"
                self.evaluate_saved("stage2")
            elif self.s.stages in ("both", "stage2"):
                self._set("stage2", state="stopped", detail="not started")
                self._set("eval-stage2", state="stopped", detail="not started")
            del lm
            current = "eval-start"
            if self.job.p.saved is None:
                raise Cancelled
            self.evaluate("start", self.s.start_model)
            current = "card"
            self.finish("done")
        except Cancelled:
            self._stopped(current)
        except Exception as e:  # the message is the user's; the traceback the log's
            log.exception("training job %d failed in %s", job.id, current)
            self._failed(current, e)
        finally:
            self._base = None  # (save_run cleans up its own temporary folder)

    # -- stage 1 -------------------------------------------------------------------------------

    def stage1(self, lm: LoadedModel) -> None:
        from pasta_core.train import stages

        key = "stage1"
        self._set(key, state="running", detail="tokenizing the data")
        if self.job.records is not None:
            records = self.job.records
            source = f"{len(records)} uploaded records"
        else:
            _, records = stages.world_data(lm, self.s.examples, seed=self.s.seed)
            source = f"{len(records)} bundled-world examples"
        cfg = self.s.loop1(self.trainer.limits.max_steps)
        t0 = time.monotonic()

        def on_log(e: LogEntry) -> None:
            row = {"x": e.step, "loss": e.loss, "lr": e.lr, "stage": e.stage}
            self.hist["stage1"].append(e.to_dict())
            with self.job.lock:
                self.job.p.loss["stage1"].append(row)
                ph = self.job.phase(key)
                ph.frac, ph.eta_s = e.step / e.total, e.eta_s
                ph.detail = f"step {e.step}/{e.total} · loss {e.loss:.3f} · {source}"
                self.job.bump("loss", "phases")

        hist = stages.stage1(lm, records, cfg, self.s.lora, self.s.grammar_weight, on_log=on_log,
                             should_stop=self.should_stop, progress=False)
        total = hist[-1].total if hist else None
        if self.cancelled:
            self._set(key, state="stopped", detail=f"cancelled after {len(hist)} steps")
            self._note("Stage 1 was cancelled: what it had learned is dropped "
                       "(earlier runs are untouched).")
            raise Cancelled
        note = ""
        if self.capped_by_time:
            note = (f"stopped by this Space's time limit ({self.trainer.limits.max_run_s} s) "
                    f"after {len(hist)} of {total} steps")
            if not hist:
                self._set(key, state="stopped", detail=note)
                raise Cancelled
            self.status.append(f"Stage 1 was {note}.")
            self._note(f"Stage 1 {note}; its model is saved as it is.")
        self.meta["stage1"] = {"data": source, "config": asdict(cfg), "steps": len(hist),
                               "seconds": round(time.monotonic() - t0, 1), "note": note}
        self._set(key, detail=f"{len(hist)} steps · saving runs/{self.s.name}")
        self.save(lm, "stage1")
        self._set(key, state="done", detail=f"{len(hist)} steps · loss "
                  f"{hist[0].loss:.3f} → {hist[-1].loss:.3f}" if hist else "no steps")

    # -- stage 2 -------------------------------------------------------------------------------

    def stage2(self, lm: LoadedModel) -> None:
        from pasta_core.train import stages

        key = "stage2"
        self._set(key, state="running", detail="preparing world prompts")
        examples, _ = stages.world_data(lm, self.s.examples, seed=self.s.seed)
        cfg = self.s.pref(self.trainer.limits.max_steps)
        n_prompts = min(cfg.prompts, len(examples))
        t0 = time.monotonic()
        st = {"round": 0, "prompts": 0, "steps": 0, "total": None, "x": 0}

        def update(detail: str) -> None:
            unit = n_prompts + (st["total"] if st["total"] is not None else
                                max(1, round(n_prompts * cfg.loop.epochs)))
            frac = (st["round"] + (st["prompts"] + st["steps"]) / unit) / cfg.rounds
            frac = min(frac, 0.999)
            el = time.monotonic() - t0
            ph = self.job.phase(key)
            ph.frac, ph.eta_s = frac, el * (1 - frac) / frac if frac > 0 else None
            ph.detail = f"round {st['round'] + 1}/{cfg.rounds} · {detail}"
            self.job.bump("phases")

        def on_prompt(pts: list[Point]) -> None:
            with self.job.lock:
                if pts and pts[0].round != st["round"]:
                    st.update(round=pts[0].round, prompts=0, steps=0, total=None)
                st["prompts"] += 1
                self.job.p.points += [asdict(p) for p in pts]
                rnd = [(p["speedup"], p["quality"]) for p in self.job.p.points
                       if p["round"] == st["round"]]
                self.job.p.fronts[st["round"]] = pareto_front(rnd)
                self.job.bump("points")
                update(f"sampled prompt {st['prompts']}/{n_prompts} "
                       f"({cfg.n_samples} answers each)")

        def on_points(pts: list[Point]) -> None:
            with self.job.lock:
                if pts:
                    self.job.p.fronts[pts[0].round] = pareto_front(
                        [(p.speedup, p.quality) for p in pts])
                    self.job.bump("points")

        def on_log(e: LogEntry) -> None:
            st["x"] += 1
            row = {"x": st["x"], "loss": e.loss, "lr": e.lr, "stage": e.stage,
                   "round": st["round"] + 1, **{k: e.extra.get(k) for k in ("sft", "ipo")}}
            with self.job.lock:
                st["steps"], st["total"] = e.step, e.total
                self.job.p.loss["stage2"].append(row)
                self.job.bump("loss")
                update(f"optimising step {e.step}/{e.total} · loss {e.loss:.3f}")

        out = stages.stage2(lm, examples, cfg, self.s.lora, on_log=on_log, on_points=on_points,
                            on_prompt=on_prompt, should_stop=self.should_stop, seed=self.s.seed,
                            progress=False)
        self.stage2_out = out
        self.hist["stage2"] = out["history"]
        kept = ("the stage-1 model saved before it is kept"
                if self.job.p.saved == "stage1" else "nothing was saved")
        if self.cancelled:
            self._set(key, state="stopped", detail=f"cancelled in round {st['round'] + 1}")
            if self.job.p.saved == "stage1":
                self.status.append("Stage 2 was cancelled: this is the stage-1 model.")
            self._note(f"Stage 2 was cancelled: {kept}.")
            raise Cancelled
        note = ""
        if self.capped_by_time:
            note = (f"stopped by this Space's time limit ({self.trainer.limits.max_run_s} s) "
                    f"in round {st['round'] + 1} of {cfg.rounds}")
            if not out["history"]:
                self._set(key, state="stopped", detail=note)
                self._note(f"Stage 2 {note} before any update: {kept}.")
                if self.job.p.saved is None:
                    raise Cancelled
                self.status.append(f"Stage 2 was {note} before any update: this is the "
                                   "stage-1 model.")
                return
            self.status.append(f"Stage 2 was {note}.")
            self._note(f"Stage 2 {note}; its model is saved as it is.")
        if not out["history"]:
            self._note("Stage 2 found no pair with a preference (all samples scored the "
                       "same): the model did not change in stage 2.")
        self.meta["stage2"] = {"data": f"{len(examples)} bundled-world prompts",
                               "config": asdict(cfg), "steps": len(out["history"]),
                               "samples": len(out["points"]),
                               "seconds": round(time.monotonic() - t0, 1), "note": note}
        self._set(key, detail=f"saving runs/{self.s.name}")
        self.save(lm, "stage2")
        self._set(key, state="done", detail=f"{len(out['points'])} samples · "
                  f"{len(out['history'])} optimiser steps")

    # -- saving, evaluating, the card ------------------------------------------------------

    def save(self, lm: LoadedModel, stage: str) -> None:
        from pasta_core.train.stages import save_run

        save_run(lm, self.out, self.card(stage, provisional=True), self.info(stage))
        self.trainer.forget_loaded(self.job.spec)
        with self.job.lock:
            self.job.p.saved = stage
            self.job.bump("saved")
        self._note(f"Saved {'stage 1' if stage == 'stage1' else 'stage 2'} as "
                   f"runs/{self.s.name}: it is in the Decode tab's model list now.")

    def base(self) -> LoadedModel:
        """The start model as the CLI loads it (a fresh copy: the trained one changed)."""
        if self._base is None:
            self._base = load_model(self.s.start_model)
        return self._base

    def evaluate_saved(self, stage: str) -> None:
        """Evaluate the run as `stage` left it, if that stage got as far as saving it."""
        if self.job.p.saved == stage:
            self.evaluate(stage, self.job.spec)
        else:
            self._set(f"eval-{stage}", state="stopped", detail="nothing to evaluate")

    def evaluate(self, row: str, spec: str) -> None:
        from pasta_core.train.evaluate import evaluate

        key = f"eval-{row}"
        n = self.s.eval_prompts
        self._set(key, state="running", detail=f"loading {spec}")
        pasta = self.base() if spec == self.s.start_model else load_model(spec)
        base = self.base()
        t0 = time.monotonic()
        done = [0]

        def on_row(r: dict) -> None:
            if self.cancelled:
                raise Cancelled
            done[0] += 1
            el = time.monotonic() - t0
            with self.job.lock:
                ph = self.job.phase(key)
                ph.frac = done[0] / n
                ph.eta_s = el / done[0] * (n - done[0])
                ph.detail = f"prompt {done[0]}/{n} of the {EVAL_SPLIT} split"
                self.job.bump("phases")

        self._set(key, detail=f"prompt 0/{n} of the {EVAL_SPLIT} split")
        result = evaluate(pasta, base, EVAL_SPLIT, n, seed=EVAL_SEED, progress=False,
                          on_row=on_row)
        self.results[row] = result
        with self.job.lock:
            self.job.p.evals[row] = result["overall"] | {
                "tag_errors": sum(r["pasta"]["tag_errors"] for r in result["rows"]),
                "model": spec}
            self.job.bump("evals")
        self._set(key, state="done", detail=f"{n} prompts")
        if row != "start" and row == self.job.p.saved:
            self.write_eval(row)

    def write_eval(self, stage: str) -> None:
        """eval.json and eval.md of the saved model — what `python -m pasta_core eval`
        writes — and the card with its numbers."""
        from pasta_core.train.evaluate import write

        write(self.results[stage], self.out)
        (self.out / "training.json").write_text(json.dumps(self.info(stage), indent=1))
        _write_text(self.out / "README.md", self.card(stage))

    def finish(self, state: str) -> None:
        stage = self.job.p.saved
        if stage is not None and "card" in [p.key for p in self.job.p.phases]:
            self._set("card", state="running")
            if stage in self.results:
                self.write_eval(stage)
            else:
                (self.out / "training.json").write_text(json.dumps(self.info(stage), indent=1))
                _write_text(self.out / "README.md", self.card(stage))
            self._set("card", state="done", detail=f"runs/{self.s.name}/README.md")
        with self.job.lock:
            self.job.p.state, self.job.p.ended = state, time.time()
            self.job.bump("state")

    def _stopped(self, where: str) -> None:
        with self.job.lock:
            for ph in self.job.p.phases:
                if ph.state == "running":
                    ph.state, ph.ended = "stopped", time.time()
            self.job.bump("phases")
        if self.job.p.saved is not None:
            if where.startswith("eval") or where == "card":
                self.status.append("The evaluation was cancelled: the table is incomplete.")
            try:
                self.finish("cancelled")
            except OSError as e:
                self._note(f"Could not update the card: {e}")
        elif self.capped_by_time and not self.cancelled:
            self._note("Stopped by this Space's time limit before a stage finished: nothing "
                       "was saved (earlier runs are untouched).")
        else:
            self._note("Cancelled before a stage finished: nothing was saved "
                       "(earlier runs are untouched).")
        with self.job.lock:
            self.job.p.state, self.job.p.ended = "cancelled", time.time()
            self.job.bump("state")

    def _failed(self, where: str, e: BaseException) -> None:
        msg = explain(e, PHASES.get(where, where))
        with self.job.lock:
            for ph in self.job.p.phases:
                if ph.state == "running":
                    ph.state, ph.ended = "failed", time.time()
            self.job.p.error = msg
            self.job.bump("phases")
        if self.job.p.saved is not None:
            self.status.append(f"The job failed afterwards ({msg}).")
            try:
                self.finish("failed")
            except OSError:
                pass
            self._note(f"runs/{self.s.name} keeps the {self.job.p.saved.replace('stage', 'stage ')}"
                       " model that finished before the failure.")
        else:
            self._note("Nothing was saved; earlier runs are untouched.")
        with self.job.lock:
            self.job.p.state, self.job.p.ended = "failed", time.time()
            self.job.bump("state")

    def info(self, stage: str) -> dict:
        return {"name": self.s.name, "start_model": self.s.start_model, "stage": stage,
                "settings": asdict(self.s) | {"data": "world" if self.job.records is None
                                                       else Path(self.s.data).name},
                "status": self.status, **self.meta,
                "history": self.hist,
                "stage2_samples": (self.stage2_out or {}).get("points", []),
                "stage2_fronts": (self.stage2_out or {}).get("fronts", {}),
                "eval": {k: v["overall"] for k, v in self.results.items()}}

    def card(self, stage: str, provisional: bool = False) -> str:
        s = self.s
        name = s.name
        what = ("stage 1 (SFT on PASTA-LANG annotated answers, the shared layout)"
                if stage == "stage1" else
                "stage 2 (BoNBoN preference optimisation on its own samples, scored by "
                f"theoretical speed-up + λ·quality, λ = {s.lam})")
        did = {"both": "stage 1 then stage 2", "stage1": "stage 1 only",
               "stage2": "stage 2 only"}[s.stages]
        meta = self.meta
        lines = ["---", "library_name: transformers", "pipeline_tag: text-generation",
                 "tags: [pasta, parallel-decoding]", "---", f"# {name}", "",
                 f"`runs/{name}` was trained in the PASTA app's Train tab from "
                 f"`{s.start_model}` ({did}). **These weights are the model after {what}.**",
                 ""]
        if self.status:
            lines += [f"> {t}" for t in self.status] + [""]
        if provisional:
            lines += ["*Training or evaluation is still running; this card is rewritten when "
                      "the job ends.*", ""]
        lines += ["## Training", ""]
        for st in ("stage1", "stage2"):
            m = meta.get(st)
            if m is None:
                continue
            loss = self.hist[st]
            first_last = (f"loss {loss[0]['loss']:.3f} → {loss[-1]['loss']:.3f}"
                          if loss else "no optimiser step")
            lines.append(f"* {'Stage 1' if st == 'stage1' else 'Stage 2'}: {m['data']}; "
                         f"{m['steps']} optimiser steps, {first_last}, {m['seconds']} s"
                         + (f" ({m['note']})" if m["note"] else "") + ".")
            cfg = m["config"]
            lines.append(f"  Settings: `{json.dumps(cfg, separators=(',', ':'))}`.")
        lines += [f"* Seed {s.seed}. Full history, stage-2 samples and Pareto fronts: "
                  "`training.json`.", ""]
        if self.results:
            n = next(iter(self.results.values()))["n"]
            lines += ["## Evaluation", "",
                      f"Test split, {n} prompts, seed {EVAL_SEED}, greedy; the baseline "
                      f"(sequential, plain decoding) is the start model `{s.start_model}`.", "",
                      comparison_markdown(self.results), ""]
            if stage in self.results:
                lines += [f"### This model, as `python -m pasta_core eval --model runs/{name} "
                          f"--baseline {s.start_model} --split {EVAL_SPLIT} --n {n}` reports "
                          "it", "", _to_markdown(self.results[stage])]
        return "\n".join(lines) + "\n"


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


def _to_markdown(result: dict) -> str:
    from pasta_core.train.evaluate import to_markdown

    return to_markdown(result)


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

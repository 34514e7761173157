"""Training jobs for the Train tab, without any UI: settings and presets, one training slot
with a visible queue, and a worker thread that runs the core's pipeline
(`pasta_core.train.pipeline`: stages, saving, evaluation, the card — the same one the CLI
runs) while its callbacks fill a thread-safe progress record the page polls.

* One job trains at a time (its own lock, not the decoding slot: decoding goes on meanwhile,
  sharing the CPU); the others wait in a bounded queue and see their place in it.
* `runs/NAME` always holds the last FINISHED stage, and earlier runs are only replaced by a
  finished stage of a job that was told to overwrite them.
* Cancel stops within one optimiser step, one prompt's samples in stage 2, or one evaluation
  prompt. The Space's caps (`training.max_steps`, `training.max_run_s`) are the pipeline's
  `max_steps` and `max_run_s`.
"""

from __future__ import annotations

import collections
import copy
import logging
import re
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch

from pasta_core import models as pasta_models
from pasta_core.models import list_bundled
from pasta_core.train.config import PRESETS as CORE_PRESETS
from pasta_core.train.config import ConfigError, TrainConfig
from pasta_core.train.data import Record, read_jsonl
from pasta_core.train.estimate import Estimate, RateTable, estimate, rates_from_run
from pasta_core.train.pipeline import (  # noqa: F401  (ROWS … fmt: the tab's table)
    EVAL_SEED,
    EVAL_SPLIT,
    PHASES,
    ROWS,
    TABLE_COLS,
    Hooks,
    Pipeline,
    Plan,
    comparison_markdown,
    explain,
    fmt,
    overall_row,
)

from .config import SpaceConfig
from .jobs import train_threads

log = logging.getLogger(__name__)

RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")
STAGES = ("both", "stage1", "stage2")
MAX_UPLOAD_BYTES = 32 * 2**20
# measured training rates: the bench's (bench/train_rates.py), then each run finished here
RATES_SEED = pasta_models.ROOT / "bench" / "results-cpu" / "train-rates.json"
# in the runs folder: never a run name (those start with a letter or digit), never listed
RATES_FILE = "_train-rates.json"
CAP_NAME = "this Space's time limit"


class TrainError(ValueError):
    """Settings, data or a model that cannot train; the message says what to change."""


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
        self.rates = RateTable(pasta_models.RUNS_DIR / RATES_FILE if config.allow_runs
                               else None, seed=RATES_SEED)

    def estimate(self, cfg: TrainConfig, start_model: str, stages: str) -> Estimate | None:
        """How long `cfg` should take here, from measured step times (None: none yet)."""
        rates = self.rates.get(start_model)
        return estimate(cfg, rates, stages, cap=self.limits.max_steps) if rates else None

    def learn(self, job: TrainJob) -> None:
        """A job that ended "done" without a cap measured this machine's rates for its
        start model: the next estimate uses them."""
        p, s = job.snapshot(), job.settings
        if p.state != "done" or any(CAP_NAME in n for n in p.notes):
            return
        seconds = {ph.key: ph.ended - ph.started for ph in p.phases
                   if ph.state == "done" and ph.started is not None and ph.ended is not None}
        steps1 = len(p.loss["stage1"])
        caps = [c for c in (s.max_steps, self.limits.max_steps) if c]
        uncapped = steps1 and not any(steps1 >= c for c in caps)
        planned = steps1 if uncapped and s.data == "world" else None  # world packing
        rates = rates_from_run(s.start_model, s, s.stages, seconds, steps1, planned,
                               measured=f"the last run here from {s.start_model} "
                                        f"({time.strftime('%Y-%m-%d %H:%M')})",
                               old=self.rates.rates.get(s.start_model))
        if rates is not None:
            self.rates.update(rates)

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
        torch.set_num_threads(train_threads())  # this thread's own count (`jobs.train_threads`)
        while True:
            with self._cv:
                while not self._waiting:
                    if not self._cv.wait(timeout=60):
                        self._worker = None  # idle: the next submit starts a new worker
                        return
                job = self._waiting.popleft()
                self.current = job
            try:
                JobProgress(job, self).run()
            except Exception:  # the pipeline reports its own failures; this is a last resort
                log.exception("training job %d crashed", job.id)
            finally:
                with self._cv:
                    self.current = None

    # -- a run that was just written must not be served from the registry's old copy --------

    def forget_loaded(self, spec: str) -> None:
        if self.registry is not None:  # a Trainer used without the app has none
            self.registry.forget(spec)


def _phase_keys(s: TrainSettings) -> list[str]:
    return Plan(s.start_model, Path(s.name), s, stages=s.stages).phase_keys()


# -- one job: the core pipeline, its callbacks writing the progress record -----------------

class JobProgress:
    """`pipeline.Hooks` for a job: each callback updates the job's Progress under its lock
    and bumps what changed (the page redraws only that)."""

    def __init__(self, job: TrainJob, trainer: Trainer):
        self.job, self.trainer = job, trainer

    def hooks(self) -> Hooks:
        return Hooks(phase=self.phase, loss=self.loss, points=self.points, front=self.front,
                     evaluated=self.evaluated, saved=self.saved, note=self.note,
                     cancelled=self.job.cancel_event.is_set)

    def phase(self, key: str, **kw) -> None:
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

    def _change(self, what: str, fn) -> None:
        with self.job.lock:
            fn(self.job.p)
            self.job.bump(what)

    def loss(self, stage: str, row: dict) -> None:
        self._change("loss", lambda p: p.loss[stage].append(row))

    def points(self, rnd: int, pts: list[dict]) -> None:
        self._change("points", lambda p: p.points.extend(pts))

    def front(self, rnd: int, front: list) -> None:
        self._change("points", lambda p: p.fronts.__setitem__(rnd, front))

    def evaluated(self, row: str, overall: dict) -> None:
        self._change("evals", lambda p: p.evals.__setitem__(row, overall))

    def note(self, text: str) -> None:
        self._change("notes", lambda p: p.notes.append(text))

    def saved(self, stage: str) -> None:
        self.trainer.forget_loaded(self.job.spec)  # the registry's copy is stale now
        self._change("saved", lambda p: setattr(p, "saved", stage))
        self.note(f"Saved {'stage 1' if stage == 'stage1' else 'stage 2'} as "
                  f"{self.job.spec}: it is in the Decode tab's model list now.")

    def run(self) -> None:
        job, s, lim = self.job, self.job.settings, self.trainer.limits
        self._change("state", lambda p: (setattr(p, "state", "running"),
                                         setattr(p, "started", time.time())))
        plan = Plan(start_model=s.start_model, out=pasta_models.RUNS_DIR / s.name, cfg=s,
                    stages=s.stages, records=job.records,
                    data_name="world" if job.records is None else Path(s.data).name,
                    spec=job.spec, origin="the PASTA app's Train tab",
                    max_steps=lim.max_steps, max_run_s=lim.max_run_s,
                    cap_name=CAP_NAME)
        end = Pipeline(plan, self.hooks()).run()
        with job.lock:
            for ph in job.p.phases:
                if ph.state == "running":
                    ph.state, ph.ended = ("failed" if end.error else "stopped"), time.time()
            job.p.error, job.p.saved = end.error, end.saved
            job.p.state, job.p.ended = end.state, time.time()
            job.bump("phases", "state")
        self.trainer.learn(job)

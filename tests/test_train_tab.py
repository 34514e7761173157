"""The Train tab driven through `gradio_client` against a launched `python app.py`: an upload's
bad lines come back by number and nothing trains until they are skipped; a run streams its
progress and loss, saves runs/NAME with a card whose numbers are `python -m pasta_core eval`'s
on the saved model; a second job waits in the queue and sees its place; Cancel during stage 2
keeps the stage-1 model and says so; bad settings are clear messages."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT, without_timings

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import handle_file  # noqa: E402

GOOD = ('Two parts:<promise topic="a" tokens="20"/><async topic="a"> the first part</async>'
        '<promise topic="b" tokens="10"/><async topic="b"> second</async><sync/> done.')
EVAL_N = 2


def train_args(name: str, *, start: str = "random:llama", hub: str = "", data: str = "world",
               file: str | None = None, skip_bad: bool = False, stages: str = "both",
               overwrite: bool = False, examples: int = 8, seed: int = 0, lr: float = 3e-3,
               epochs: float = 1.0, max_steps: int = 2, batch: int = 2048, lora: bool = False,
               prompts: int = 2, n_samples: int = 4, lam: float = 1.0, beta: float = 0.1,
               alpha: float = 0.5, rounds: int = 1, lr2: float = 1e-4, epochs2: float = 1.0,
               sample_tokens: int = 12, eval_n: int = EVAL_N, grammar: float = 1.0) -> tuple:
    """The Train tab's inputs, in the order of the `/train` endpoint."""
    return (start, hub, data, handle_file(file) if file else None, skip_bad, stages, name,
            overwrite, examples, seed, lr, epochs, max_steps, batch, lora, prompts, n_samples,
            lam, beta, alpha, rounds, lr2, epochs2, sample_tokens, eval_n, grammar)


@pytest.fixture(scope="module")
def client(server):
    c = gradio_client.Client(server + "/", verbose=False)
    yield c
    c.close()


@pytest.fixture(scope="module")
def runs(server, tmp_path_factory) -> Path:
    """The server's PASTA_RUNS_DIR: conftest's `server` fixture runs it in <basetemp>/server*
    with PASTA_RUNS_DIR=<that>/runs."""
    dirs = [d for d in Path(tmp_path_factory.getbasetemp()).glob("server*")
            if (d / "app.log").is_file() and not d.is_symlink()]
    assert len(dirs) == 1, dirs
    return dirs[0] / "runs"


def jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def upload(tmp_path_factory) -> Path:
    """Five lines, two of them bad: line 2 is not JSON, line 4 has an unfulfilled promise."""
    d = tmp_path_factory.mktemp("upload")
    return jsonl(d / "data.jsonl", [
        json.dumps({"prompt": "Describe a and b.", "annotated": GOOD}),
        "{not json",
        json.dumps({"prompt": "Say hi.", "annotated": "Hi there."}),
        json.dumps({"prompt": "Broken", "annotated": "x<promise topic='a'/>y"}),
        json.dumps({"prompt": "Describe b and a.", "annotated": GOOD.replace("Two", "Both")}),
    ])


@pytest.mark.slow  # a launched app.py through gradio_client
def test_an_upload_with_two_bad_lines_gets_both_line_numbers_back(client, upload, runs):
    report = client.predict(handle_file(str(upload)), api_name="/train_check")
    assert "data-bad-lines='2,4'" in report
    assert "line 2: not JSON" in report and "line 4: unfulfilled_promise" in report
    # and nothing runs until the file is clean or bad lines are skipped
    with pytest.raises(Exception) as err:
        client.predict(*train_args("never", data="upload", file=str(upload)), api_name="/train")
    assert "line 2" in str(err.value) and "line 4" in str(err.value)
    assert not (runs / "never").exists()


@pytest.fixture(scope="module")
def finished(client, upload, runs):
    """One job through both stages: stage 1 on the upload's three good lines, stage 2 on world
    prompts. Returns (streamed updates with their times, the final outputs)."""
    job = client.submit(*train_args("upl-1", data="upload", file=str(upload), skip_bad=True),
                        api_name="/train")
    updates = []
    for out in job:
        updates.append((time.perf_counter(), out))
    return updates, job.result()


@pytest.mark.slow  # a launched app.py through gradio_client
def test_a_run_streams_progress_and_loss_then_saves_runs_name(finished, runs):
    updates, final = finished
    progress, loss, scatter, table, decode_model, start_model, next_name = final
    assert "data-state='done'" in progress and "data-saved='stage2'" in progress
    # streamed: the progress bar and the loss curve while it ran, about 3 updates a second
    running = [(t, o) for t, o in updates if "data-state='running'" in o[0]]
    assert len(running) >= 3
    assert any("class='tr-bar'" in o[0] and "left in this phase" in o[0] for _, o in running)
    def plot(o) -> dict | None:  # a skipped output is not a figure
        return json.loads(o[1]["plot"]) if isinstance(o[1], dict) and "plot" in o[1] else None

    assert any(plot(o) is not None for _, o in running), "no loss curve while running"
    # in order (counts, not rates: a busy CPU slows the job, not the order of its updates):
    # starting/waiting, then running, then done once, last; the loss curve only ever grows
    rank = {"starting": 0, "waiting": 0, "running": 1, "done": 2}
    states = [re.search(r"data-state='(\w+)'", o[0]).group(1) for _, o in updates]
    assert [rank[s] for s in states] == sorted(rank[s] for s in states), states
    assert states[-1] == "done" and states.count("done") == 1
    n_loss = [sum(len(tr.get("y", [])) for tr in plot(o)["data"])
              for _, o in updates if plot(o) is not None]
    assert len(n_loss) >= 2 and n_loss == sorted(n_loss) and n_loss[0] < n_loss[-1], n_loss
    plot = json.loads(loss["plot"])
    ys = [y for tr in plot["data"] for y in tr.get("y", [])]
    assert ys and all(isinstance(y, float) for y in ys if y is not None)
    pts = json.loads(scatter["plot"])["data"]
    names = {tr.get("name") for tr in pts}
    assert {"round 1 samples", "round 1 Pareto front"} <= names
    # the run exists on disk with its card, and the Decode list has it now
    out = runs / "upl-1"
    card = (out / "README.md").read_text()
    assert "3 uploaded records" in card and "stage 2" in card
    assert "runs/upl-1" in [c[0] for c in decode_model["choices"]]
    assert "runs/upl-1" in [c[0] for c in start_model["choices"]]
    assert next_name["value"] == "upl-2"
    for row in ("start", "stage1", "stage2"):
        assert f"data-row='{row}'" in table


@pytest.mark.slow  # a launched app.py through gradio_client
def test_the_cards_and_tables_numbers_equal_the_cli_eval(finished, runs, tmp_path):
    _, final = finished
    table = final[3]
    out = runs / "upl-1"
    # one torch thread: on a loaded 2-core machine it is several times faster than two, and
    # greedy decoding's tokens do not depend on it (the comparison below is exact)
    env = {**os.environ, "PASTA_RUNS_DIR": str(runs), "OMP_NUM_THREADS": "1"}
    cli = subprocess.run([sys.executable, "-m", "pasta_core", "eval", "--model", "runs/upl-1",
                          "--baseline", "random:llama", "--split", "test", "--n", str(EVAL_N),
                          "--out", str(tmp_path)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr
    theirs = json.loads((tmp_path / "eval.json").read_text())
    ours = json.loads((out / "eval.json").read_text())
    # everything but wall-clock: judge scores, texts, steps, speed-ups, promise rates, parse ok
    drop = {"wall_speedup_geomean"}

    def strip(r):
        r = without_timings(r)
        return {k: strip(v) if isinstance(v, dict) else v for k, v in r.items() if k not in drop}

    assert strip(ours["overall"]) == strip(theirs["overall"])
    assert [without_timings(r) for r in ours["rows"]] == [without_timings(r)
                                                          for r in theirs["rows"]]
    # the page's table shows those numbers exactly (stage 2 = the saved model)
    cells = dict(re.findall(r"data-metric='([^']+)' data-value='([^']+)'",
                            table.split("data-row='stage2'")[1]))
    for key in ("judge_pasta", "theoretical_speedup_geomean", "promise_rate_splittable",
                "promise_rate_other", "parse_ok_rate"):
        assert cells[key] == repr(theirs["overall"][key]), key
    assert cells["tag_errors"] == repr(sum(r["pasta"]["tag_errors"] for r in theirs["rows"]))
    # and the card carries the CLI's Markdown table, line for line (wall-clock column aside)
    card = (out / "README.md").read_text().split("reports it\n\n", 1)[1].splitlines()
    cli_md = (tmp_path / "eval.md").read_text().splitlines()
    header = next(x for x in cli_md if "| wall_speedup_geomean |" in x)  # the speed table's
    wall = header.split("|").index(" wall_speedup_geomean ")

    def masked(line: str) -> list[str]:
        cells = line.split("|")
        if len(cells) > wall and not line.startswith("|---"):
            cells[wall] = "*"
        return cells

    assert [masked(x) for x in card[:len(cli_md)]] == [masked(x) for x in cli_md]
    info = json.loads((out / "training.json").read_text())
    assert info["stage"] == "stage2" and info["eval"]["stage2"] == ours["overall"]


@pytest.mark.slow  # a launched app.py through gradio_client
def test_bad_settings_are_clear_messages_and_nothing_breaks(client, runs, upload, finished):
    cases = [
        (train_args("../escape"), "not valid"),
        (train_args("x1", hub="someone/some-model"), "Hub"),
        (train_args("x2", hub="random:nonexistent"), "not offered here"),
        (train_args("x3", hub="runs/nope"), "no finished run"),
        (train_args("upl-1"), "already exists"),
        (train_args("x4", lora=True), "peft"),
        (train_args("x5", beta=0.0), "β"),
        (train_args("x6", stages="stage2", data="upload", file=str(upload)), "Stage 2 alone"),
    ]
    for args, needle in cases:
        with pytest.raises(Exception) as err:
            client.predict(*args, api_name="/train")
        assert needle in str(err.value), (needle, str(err.value))
    assert not any((runs / n).exists() for n in ("x1", "x2", "x3", "x4", "x5", "x6", "escape"))
    out = client.predict(api_name="/train_cancel")
    assert "Nothing is training" in out


@pytest.mark.slow  # a launched app.py through gradio_client
def test_queue_place_then_cancel_in_stage2_keeps_the_stage1_model(server, runs, finished):
    a = gradio_client.Client(server + "/", verbose=False)
    b = gradio_client.Client(server + "/", verbose=False)
    # stage 2 long enough to be caught in: many prompts, long samples, several rounds
    job_a = a.submit(*train_args("cancel-1", prompts=8, rounds=3, sample_tokens=64,
                                 eval_n=1), api_name="/train")
    saw_running = False
    for out in job_a:
        if "data-state='running'" in out[0]:
            saw_running = True
            break
    assert saw_running
    # a second job from another tab waits in the queue and is told its place
    job_b = b.submit(*train_args("queued-1"), api_name="/train")
    for out in job_b:
        if "data-state='waiting'" in out[0]:
            assert "data-queue='1'" in out[0] and "#1</b> in the queue" in out[0]
            assert "runs/cancel-1" in out[0]  # who is training now
            break
    b.predict(api_name="/train_cancel")
    final_b = job_b.result()
    assert "data-state='cancelled'" in final_b[0] and "nothing ran" in final_b[0]
    # A: wait for stage 2, then cancel
    for out in job_a:
        if "data-phase='stage2' data-phase-state='running'" in out[0]:
            break
    t0 = time.perf_counter()
    a.predict(api_name="/train_cancel")
    final_a = job_a.result()
    assert time.perf_counter() - t0 < 30
    assert "data-state='cancelled'" in final_a[0] and "data-saved='stage1'" in final_a[0]
    assert "stage-1" in final_a[0]
    card = (runs / "cancel-1" / "README.md").read_text()
    assert "Stage 2 was cancelled: this is the stage-1 model." in card
    assert json.loads((runs / "cancel-1" / "training.json").read_text())["stage"] == "stage1"
    assert not (runs / "queued-1").exists()
    assert [p.name for p in runs.iterdir() if p.name.startswith(".")] == []  # no temp folder
    a.close()
    b.close()


# -- the job runner on its own (no server): the Space's time cap, a failed start ------------

@pytest.fixture()
def trainer(tmp_path, monkeypatch):
    import torch

    from pasta_core import models
    from ui.config import SpaceConfig, TrainLimits
    from ui.jobs import ModelRegistry
    from ui.training import Trainer

    monkeypatch.setattr(models, "RUNS_DIR", tmp_path / "runs")
    (tmp_path / "runs").mkdir()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # this process only; the loaded test machine prefers one

    def make(**limits):
        cfg = SpaceConfig(models=("random:llama",), default_model="random:llama",
                          baseline_model="random:llama", training=TrainLimits(**limits))
        return Trainer(cfg, ModelRegistry(cfg))

    yield make
    torch.set_num_threads(threads)


def wait(job, timeout: float = 120):
    deadline = time.time() + timeout
    while not job.finished:
        assert time.time() < deadline, job.snapshot()
        time.sleep(0.1)
    return job.snapshot()


@pytest.mark.slow  # trains until the Space's time cap stops it (9 s)
def test_the_spaces_time_cap_stops_training_and_keeps_the_capped_stage(trainer, tmp_path):
    from pasta_core import load_model
    from ui.training import TrainSettings

    load_model("random:llama")  # warm imports: the time cap below counts loading too
    tr = trainer(max_steps=3)
    s = TrainSettings(name="capped", start_model="random:llama", examples=8, epochs=100,
                      max_steps=0, batch_tokens=512, eval_prompts=1, stages="stage1")
    p = wait(tr.submit(s))
    assert p.state == "done" and p.saved == "stage1"
    steps = len(p.loss["stage1"])
    assert steps == 3  # the Space's max_steps caps a stage that asked for no cap
    info = json.loads((tmp_path / "runs" / "capped" / "training.json").read_text())
    assert info["stage1"]["config"]["max_steps"] == 3

    tr = trainer(max_run_s=3)
    s = TrainSettings(name="timed", start_model="random:llama", examples=8, epochs=100,
                      batch_tokens=512, eval_prompts=1)
    p = wait(tr.submit(s))
    assert p.state == "done" and p.saved == "stage1", p.notes
    assert [ph.state for ph in p.phases if ph.key.startswith("stage")] == ["done", "stopped"]
    card = (tmp_path / "runs" / "timed" / "README.md").read_text()
    assert "time limit" in card and "## Evaluation" in card


def test_a_failed_run_says_what_went_wrong_and_leaves_earlier_runs_untouched(
        trainer, tmp_path, monkeypatch):
    from pasta_core.train import stages
    from ui.training import TrainSettings

    runs = tmp_path / "runs"
    (runs / "broken").mkdir()
    (runs / "broken" / "config.json").write_text("{\"model_type\": \"nope\"}")
    before = {p: p.read_bytes() for p in runs.rglob("*") if p.is_file()}
    tr = trainer()
    assert "runs/broken" in tr.choices()
    p = wait(tr.submit(TrainSettings(name="new", start_model="runs/broken", eval_prompts=1)))
    assert p.state == "failed" and p.saved is None
    assert "during “Load the start model”" in p.error
    assert "Nothing was saved; earlier runs are untouched." in p.notes
    assert {p: p.read_bytes() for p in runs.rglob("*") if p.is_file()} == before
    assert not (runs / "new").exists()

    def oom(*a, **kw):
        raise MemoryError("out of memory")

    monkeypatch.setattr(stages, "stage2", oom)  # stage 2 runs out of memory
    p = wait(tr.submit(TrainSettings(name="new", start_model="random:llama", examples=8,
                                     max_steps=2, eval_prompts=1)))
    assert p.state == "failed" and p.saved == "stage1"
    assert p.error.startswith("Out of memory during “Stage 2 · BoNBoN”")
    card = (runs / "new" / "README.md").read_text()
    assert "after stage 1" in card and "The job failed afterwards (Out of memory" in card
    assert json.loads((runs / "new" / "training.json").read_text())["stage"] == "stage1"
    assert {p: p.read_bytes() for p in runs.rglob("*") if p.is_file()
            and "new" not in p.parts} == before


def test_a_trainer_without_the_apps_registry_saves_its_run(trainer, tmp_path):
    """The runner works outside the app (no model registry to refresh): it once crashed at
    its first save."""
    from ui.training import Trainer, TrainSettings

    cfg = trainer(max_steps=2).config
    tr = Trainer(cfg)  # no registry
    s = TrainSettings(name="no-registry", start_model="random:llama", examples=8,
                      batch_tokens=512, eval_prompts=1, stages="stage1")
    p = wait(tr.submit(s))
    assert p.state == "done" and p.saved == "stage1", p.notes
    assert (tmp_path / "runs" / "no-registry" / "config.json").is_file()


def test_a_visitor_without_a_job_sees_the_training_slots_real_state():
    from types import SimpleNamespace

    from ui.train_tab import idle_html

    free = SimpleNamespace(status=lambda: {"running": None, "waiting": 0, "queue_size": 4})
    assert "data-slot='free'" in idle_html(free) and "Ready" in idle_html(free)
    busy = SimpleNamespace(status=lambda: {"running": {"id": 1, "name": "someone"},
                                           "waiting": 2, "queue_size": 4})
    shown = idle_html(busy)
    assert "data-slot='busy'" in shown and "Ready" not in shown
    assert "runs/someone" in shown and "#3" in shown

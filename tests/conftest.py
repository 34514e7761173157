"""Shared fixtures: a launched `python app.py` on a free port, and the CLI as a subprocess."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
# A random model big enough that its greedy answer to SLOW_PROMPT (294 tokens, no tags) takes
# seconds per run, so a browser test can stop it mid-run on any machine; the default
# random:llama writes 65 tokens of it in 0.1 s, over before a page can see it running.
SLOW_RANDOM = "random:llama?hidden=768&layers=6&heads=12&kv_heads=4&intermediate=3072"
SLOW_PROMPT = "Tell me a long story about rivers. Now."
TEST_CONFIG = f"""\
title: PASTA (tests)
hardware: cpu-basic
default_model: random:llama
baseline_model: bundled:pasta-tiny-base
apar_model: bundled:pasta-tiny-apar
models: [random:llama, random:qwen2, bundled:pasta-tiny, bundled:pasta-tiny-base,
         bundled:pasta-tiny-apar, "{SLOW_RANDOM}"]
allow_hub_models: false
allow_runs: true
limits:
  max_new_tokens: 600
  max_threads: 8
  max_thread_tokens: 600
  max_prompt_chars: 2000
  max_body_bytes: 20000
  queue_size: 4
  loaded_models: 3
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """`python app.py` exactly as a user starts it, on a free port, with test settings."""
    tmp = tmp_path_factory.mktemp("server")
    config = tmp / "spaces.yaml"
    config.write_text(TEST_CONFIG)
    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1",
           "PASTA_SPACES_CONFIG": str(config), "PASTA_RUNS_DIR": str(tmp / "runs"),
           "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}
    log = open(tmp / "app.log", "w")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited: {(tmp / 'app.log').read_text()[-3000:]}")
        try:
            if httpx.get(url + "/v1/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.time() > deadline:
            proc.kill()
            raise RuntimeError("app.py did not start serving within 120 s")
        time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def run_cli(*args: str) -> dict:
    """`python -m pasta_core …` → its JSON output."""
    out = subprocess.run([sys.executable, "-m", "pasta_core", *args], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def bench_script(name: str):
    """`bench/NAME.py`, imported as a module (the bench scripts are not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


TIMING_KEYS = {"wall_s", "start_s", "end_s", "step_latency_s", "step_host_s", "step_t_s", "t",
               "wall_speedup", "race"}  # race: a race's measured figures (metrics.race_figures)


def without_timings(obj):
    """A trace (or any JSON) with the wall-clock fields removed, for run-to-run comparison."""
    if isinstance(obj, dict):
        return {k: without_timings(v) for k, v in obj.items() if k not in TIMING_KEYS}
    if isinstance(obj, list):
        return [without_timings(v) for v in obj]
    return obj


def assert_same(a, b, path="$"):
    """Equal JSON values; floats (log-probabilities, ratios) to 1e-6, in case the two processes
    reduce in a different order (the app serves on one fewer torch thread than the CLI runs
    on: `ui.jobs.decode_threads`)."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, int | float) and isinstance(b, int | float), path
        assert math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6), (path, a, b)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), (path, sorted(a), sorted(b))
        for k in a:
            assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            assert_same(u, v, f"{path}[{i}]")
    else:
        assert a == b, (path, a, b)


# -- the browser (Playwright driving Debian's chromium; .ci/run installs it) --------------------

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts"


def _playwright():
    """In CI (the CI variable set) a missing browser is a failure, never a skip; elsewhere
    the browser tests are skipped only when chromium itself is absent."""
    if not CHROMIUM.exists():
        msg = f"{CHROMIUM} is missing: `apt-get install -y chromium` (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install -r requirements-dev.txt")
    return sync_playwright


@pytest.fixture(scope="session")
def browser():
    sync_playwright = _playwright()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield b
        b.close()


def open_app(browser, server: str):
    """A new page on the app, its JavaScript errors collected in `page.js_errors`."""
    pg = browser.new_page(viewport={"width": 1366, "height": 900})
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server + "/")
    pg.wait_for_selector("#run", timeout=60_000)
    pg.js_errors = errors  # type: ignore[attr-defined]
    return pg


def pytest_terminal_summary(terminalreporter):
    """The hostile-input suite's line: cases tried, failures (tests/test_hostile.py)."""
    hostile = sys.modules.get("tests.test_hostile")
    if hostile is not None and hostile.TALLY["ran"]:
        tally = hostile.TALLY
        terminalreporter.write_line(f"hostile-input suite: {tally['cases']} cases tried, "
                                    f"{tally['failures']} failures")


def visibility_mask(seq: list, vis: dict):
    """The bool mask (row sees column) of token keys `seq` given each key's visible keys, as
    the equivalence tests rebuild it from a trace's JSON alone."""
    import torch

    index = {key: k for k, key in enumerate(seq)}
    mask = torch.zeros(len(seq), len(seq), dtype=torch.bool)
    for key, seen in vis.items():
        for other in seen:
            mask[index[key], index[other]] = True
    return mask


def check_rebuilt_logprobs(lm, trace: dict, seq: list, pos: dict, mask, tol: float) -> int:
    """Check the rebuilt positions against a trace's JSON, run ONE causal-order forward over
    the rebuilt sequence with the rebuilt mask, and check every generated token's log-prob
    against the trace's within `tol`; returns how many were checked."""
    import torch

    threads = {th["id"]: th for th in trace["threads"]}
    for (tid, j), p in pos.items():
        if tid >= 0:
            assert threads[tid]["positions"][j] == p, (tid, j)
    assert not mask.triu(1).any()  # every visible token precedes: one causal-order forward
    ids = [trace["prompt_token_ids"][j] if tid < 0 else threads[tid]["token_ids"][j]
           for tid, j in seq]
    additive = torch.where(mask, 0.0, torch.finfo(torch.float32).min)[None, None]
    with torch.no_grad():
        logits = lm.model(input_ids=torch.tensor([ids]),
                          position_ids=torch.tensor([[pos[k] for k in seq]]),
                          attention_mask=additive).logits[0]
    logp = torch.log_softmax(logits.float(), -1)
    where = {key: k for k, key in enumerate(seq)}
    checked = 0
    for th in trace["threads"]:  # each token's log-prob, read at its predecessor's row
        for j, (tok, lp) in enumerate(zip(th["token_ids"], th["logprobs"], strict=True)):
            if lp is None:  # a chunk's forced opening tag is not generated
                assert th["id"] != 0 and j < th["n_forced"]
                continue
            prev = (th["id"], j - 1) if j > 0 else (-1, len(trace["prompt_token_ids"]) - 1)
            assert abs(logp[where[prev], tok].item() - lp) < tol, (th["id"], j)
            checked += 1
    return checked

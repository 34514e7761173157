"""`python -m pasta_core` against the CLI contract of docs/DESIGN.md.

Each subprocess pays the imports (several seconds on a small CPU), so the few real runs are
started together once per module and checked by the tests below.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pasta_core import cli, decode, load_model, parse

from .conftest import assert_same, without_timings

ROOT = Path(__file__).resolve().parent.parent
FORCED = (
    'Two facts:<promise topic="mars" tokens="20"/><async topic="mars"> Mars has two moons.'
    '</async> and<promise topic="paris" tokens="10"/><async topic="paris"> Paris is the capital'
    " of France.</async><sync/> Done."
)
DECODE = ["decode", "--model", "random:llama", "--prompt", "hi", "--json", "--max-new-tokens",
          "8"]
SAMPLED = ["--temperature", "1.0", "--seed", "5"]
TRACE_KEYS = {"text", "annotated", "prompt_token_ids", "threads", "steps", "tokens_total",
              "parallelism", "kv_tokens", "wall_s"}
THREAD_KEYS = {"id", "parent", "topic", "promised_tokens", "token_ids", "positions", "n_forced",
               "logprobs", "steps", "fork_index", "sync_indices", "text", "start_s", "end_s"}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    (d / "forced.txt").write_text(FORCED, encoding="utf-8")
    # a file with PASTA-LANG errors and non-ASCII text: parse must report, never fail
    (d / "bad.txt").write_text('Été<promise topic="x" tokens="lots"/>中</async><async topic="y">'
                               "open", encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def runs(files):
    """The five real runs, started at once: name → (returncode, stdout, stderr)."""
    commands = {
        "decode": DECODE + SAMPLED,
        "both": ["decode", "--model", "random:llama", "--prompt", "hi", "--json", "--mode",
                 "both", "--force-file", str(files / "forced.txt")],
        "parse": ["parse", "--file", str(files / "bad.txt"), "--json"],
        "bad_model": ["decode", "--model", "random:nosuch", "--prompt", "hi", "--json"],
        "no_force_file": DECODE + ["--force-file", str(files / "missing.txt")],
    }
    env = dict(os.environ, PYTHONWARNINGS="ignore", TOKENIZERS_PARALLELISM="false")
    procs = {name: subprocess.Popen([sys.executable, "-m", "pasta_core", *args], cwd=ROOT,
                                    env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, encoding="utf-8")
             for name, args in commands.items()}
    out = {}
    for name, p in procs.items():
        stdout, stderr = p.communicate(timeout=240)
        out[name] = (p.returncode, stdout, stderr)
    return out


@pytest.fixture(scope="module")
def lm():
    return load_model("random:llama")


def one_json_object(stdout: str):
    lines = [ln for ln in stdout.splitlines() if ln.strip()]
    assert len(lines) == 1, stdout[:2000]
    return json.loads(lines[0])


def check_trace(d: dict) -> None:
    assert TRACE_KEYS <= d.keys()
    assert d["threads"] and d["threads"][0]["id"] == 0
    for th in d["threads"]:
        assert THREAD_KEYS <= th.keys()
        n = len(th["token_ids"])
        assert len(th["positions"]) == len(th["logprobs"]) == len(th["steps"]) == n
        assert th["logprobs"][:th["n_forced"]] == [None] * th["n_forced"]
        assert all(isinstance(v, float) for v in th["logprobs"][th["n_forced"]:])
        assert all(1 <= s <= d["steps"] for s in th["steps"])
        assert th["start_s"] <= th["end_s"] <= d["wall_s"]
    main, chunks = d["threads"][0], d["threads"][1:]
    assert main["parent"] is None and main["fork_index"] is None and main["n_forced"] == 0
    for k, th in enumerate(chunks, start=1):
        assert th["id"] == k and th["parent"] == 0 and th["n_forced"] > 0
        assert 0 <= th["fork_index"] < len(main["token_ids"]) and th["sync_indices"] == []
    total = sum(len(th["token_ids"]) - th["n_forced"] for th in d["threads"])
    assert d["tokens_total"] == total
    fed = sum(len(set(th["steps"])) for th in d["threads"])  # threads fed per step
    assert d["parallelism"] == pytest.approx(fed / d["steps"]) and d["parallelism"] >= 1
    assert d["kv_tokens"] == len(d["prompt_token_ids"]) + sum(
        len(th["token_ids"]) for th in d["threads"])


@pytest.mark.slow  # the `runs` fixture: five `python -m pasta_core` processes
def test_decode_json_has_the_contract_fields(runs):
    rc, stdout, stderr = runs["decode"]
    assert rc == 0, stderr
    d = one_json_object(stdout)
    check_trace(d)
    assert d["tokens_total"] == 8 and len(d["threads"]) == 1
    assert d["steps"] == 8 and d["parallelism"] == 1.0  # one thread: one token per step


@pytest.mark.slow  # the `runs` fixture: five `python -m pasta_core` processes
def test_decode_json_equals_the_python_api(runs, lm):
    rc, stdout, stderr = runs["decode"]
    assert rc == 0, stderr
    cli_json = one_json_object(stdout)
    api = decode(lm, "hi", max_new_tokens=8, temperature=1.0, seed=5).to_dict()
    assert_same(without_timings(cli_json), without_timings(json.loads(json.dumps(api))))
    other = decode(lm, "hi", max_new_tokens=8, temperature=1.0, seed=6).to_dict()
    assert other["threads"][0]["token_ids"] != cli_json["threads"][0]["token_ids"]  # seed counts


@pytest.mark.slow  # the `runs` fixture: five `python -m pasta_core` processes
def test_decode_both_with_a_force_file(runs, lm):
    rc, stdout, stderr = runs["both"]
    assert rc == 0, stderr
    d = one_json_object(stdout)
    assert d.keys() == {"pasta", "sequential", "wall_speedup", "theoretical_speedup", "race"}
    assert d["race"]["verdict"] in ("faster", "no speed-up", "busy")
    assert d["race"]["theoretical"] == d["theoretical_speedup"]
    par, seq = d["pasta"], d["sequential"]
    for t in (par, seq):
        check_trace(t)
        assert t["text"] == parse(FORCED)["text"]
        assert len(t["threads"]) == 3 and t["threads"][0]["sync_indices"]
    assert [t["token_ids"] for t in par["threads"]] == [t["token_ids"] for t in seq["threads"]]
    assert par["steps"] < seq["steps"]
    assert d["theoretical_speedup"] == pytest.approx(seq["tokens_total"] / par["steps"])
    assert d["theoretical_speedup"] > 1 and d["wall_speedup"] > 0
    api = decode(lm, "hi", mode="both", force=FORCED).to_dict()
    assert_same(without_timings(d), without_timings(json.loads(json.dumps(api))))


@pytest.mark.slow  # the `runs` fixture: five `python -m pasta_core` processes
def test_parse_json_prints_exactly_parse(runs, files):
    rc, stdout, stderr = runs["parse"]
    assert rc == 0, stderr
    got = one_json_object(stdout)
    want = parse((files / "bad.txt").read_text(encoding="utf-8"))
    assert got == json.loads(json.dumps(want)) and got.keys() == want.keys()
    assert [e["code"] for e in got["errors"]] == ["bad_tokens", "stray_close", "unclosed_async"]
    assert [e["offset"] for e in got["errors"]] == sorted(e["offset"] for e in got["errors"])
    assert got["chunks"] == [{"topic": "x", "tokens": None, "body": "open"}]
    assert got["text"] == "Étéopen中"


def _check_error(rc: int, stderr: str, words: str) -> None:
    assert rc != 0
    assert "Traceback" not in stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert words in lines[0]


@pytest.mark.slow  # the `runs` fixture: five `python -m pasta_core` processes
def test_bad_model_spec_is_a_one_line_error(runs):
    rc, stdout, stderr = runs["bad_model"]
    _check_error(rc, stderr, "nosuch")
    assert stdout == ""


@pytest.mark.slow  # the `runs` fixture: five `python -m pasta_core` processes
def test_missing_force_file_is_a_one_line_error(runs):
    rc, stdout, stderr = runs["no_force_file"]
    _check_error(rc, stderr, "missing.txt")
    assert stdout == ""


def test_empty_prompt_is_a_one_line_error(capsys):
    # in-process (the same error path as a bad model spec, without another interpreter start)
    rc = cli.main(["decode", "--model", "random:llama", "--prompt", "  ", "--json"])
    out, err = capsys.readouterr()
    _check_error(rc, err, "prompt is empty")
    assert out == ""


def test_negative_grammar_weight_is_a_one_line_error(capsys, tmp_path):
    rc = cli.main(["train", "stage1", "--out", str(tmp_path / "x"), "--grammar-weight", "-1"])
    out, err = capsys.readouterr()
    _check_error(rc, err, "--grammar-weight")
    assert out == "" and not (tmp_path / "x").exists()

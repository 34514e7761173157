"""The static runner (issue 7) is a drop-in for the eager one: same tokens, positions, log-probs.

On CPU (always): fp32, log-probs to 1e-4 as in test_equivalence.py; the graph path runs as an
emulated graph (`graphs=True` on a CPU: one recorded call on the static buffers, replayed), so
its bookkeeping — buckets, padding, scratch slots, buffers refilled in place — is tested here.
With PASTA_TEST_CUDA=1 on a machine with CUDA (bench/gpu_check.sh), every test also runs on the
GPU with real CUDA graphs: in fp32 to 1e-3 (other kernels, other summation orders), and in bf16
to 0.25 + 2% of the value: bf16 keeps 8 bits of mantissa, so a logit near 30 moves in steps of
0.125 (tokens are forced, so they stay equal). Logits themselves are compared 10× looser.
"""

from __future__ import annotations

import io
import json
import os
from contextlib import redirect_stdout

import pytest
import torch

from pasta_core import Settings, SettingsError, decode, load_model
from pasta_core.cli import main as cli_main
from pasta_core.interpreter import Interpreter
from pasta_core.layout import MAIN, ThreadLayout
from pasta_core.runners import (
    BUCKETS,
    EagerRunner,
    SlotsExhausted,
    StaticRunner,
    make_runner,
    max_slots_for,
    resolve,
)

from .test_equivalence import FORCED, PROMPT

ARCHS = ["random:llama", "random:qwen2", "random:gemma"]
CPU = ("cpu", torch.float32, 1e-4, 0.0)  # device, dtype, log-prob tolerance: absolute, relative
CUDA = [("cuda", torch.float32, 1e-3, 0.0), ("cuda", torch.bfloat16, 0.25, 0.02)]
ON_CUDA = os.environ.get("PASTA_TEST_CUDA") == "1" and torch.cuda.is_available()
DEVICES = [CPU, *CUDA] if ON_CUDA else [CPU]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The test machines are small and shared: one intra-op thread is faster, and kinder."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _id(p) -> str:
    arch, (dev, dtype, *_) = p
    return f"{arch.split(':')[1]}-{dev}-{str(dtype).split('.')[-1]}"


@pytest.fixture(scope="module", params=[(a, d) for d in DEVICES for a in ARCHS], ids=_id)
def case(request):
    arch, (device, dtype, atol, rtol) = request.param
    return load_model(arch, device=device, dtype=dtype), atol, rtol


def _close(got: float, want: float, atol: float, rtol: float) -> bool:
    return abs(got - want) <= atol + rtol * abs(want)


def _run(lm, mode: str, runner=None, kind: str = "eager"):
    """A forced run; returns its trace dict, the runner it used and its step sizes."""
    it = Interpreter(lm, PROMPT, mode, Settings(runner=kind), FORCED, runner=runner)
    events = list(it.events())
    sizes = [sum(ev.n_tokens) for ev in events if ev.type == "step"]
    return events[-1].trace.to_dict(), it.runner, sizes


@pytest.mark.parametrize("mode", ["pasta", "sequential"])
def test_static_runner_decodes_what_the_eager_one_decodes(case, mode):
    lm, atol, rtol = case
    want, eager, _ = _run(lm, mode)
    assert isinstance(eager, EagerRunner)
    captured = StaticRunner(lm.model, lm.device, lm.dtype, 512, graphs=True)
    captured.capture()  # every bucket up front, on padding-only steps (emulated on a CPU)
    assert sorted(captured._graphs) == list(BUCKETS)
    for runner, kind in ((None, "static"), (captured, "eager")):
        got, used, sizes = _run(lm, mode, runner, kind)
        assert isinstance(used, StaticRunner)
        assert used.graphs == (runner is captured or lm.device.type == "cuda")
        assert bool(used._graphs) == used.graphs  # replayed, not just configured
        if mode == "pasta":  # the schedule exercised padding: steps of 3, 5, 6 … tokens
            assert any(n not in BUCKETS and n < max(BUCKETS) for n in sizes), sizes
        assert (got["steps"], got["tokens_total"], got["kv_tokens"]) == (
            want["steps"], want["tokens_total"], want["kv_tokens"])
        assert len(got["threads"]) == len(want["threads"]) == 6
        checked = 0
        for g, w in zip(got["threads"], want["threads"], strict=True):
            assert g["token_ids"] == w["token_ids"] and g["positions"] == w["positions"]
            assert [x is None for x in g["logprobs"]] == [x is None for x in w["logprobs"]]
            for x, y in zip(g["logprobs"], w["logprobs"], strict=True):
                if y is not None:
                    assert _close(x, y, atol, rtol), (g["id"], x, y)
                    checked += 1
        assert checked == want["tokens_total"]


def _feed(runner, lm, sizes: list[int], n_prompt: int = 20) -> list[torch.Tensor]:
    """A prompt, then main-thread steps of `sizes` tokens keeping every row: all logits fed."""
    gen = torch.Generator().manual_seed(0)
    vocab = lm.model.config.vocab_size
    lay = ThreadLayout(lm.device, capacity=n_prompt + sum(sizes))
    out = []
    for n in [n_prompt, *sizes]:
        positions, rows = lay.place(MAIN, n)
        ids = torch.randint(vocab, (n,), generator=gen).tolist()
        out.append(runner.forward(ids, positions, rows[:, :lay.n_slots], list(range(n))).float())
    return out


STEPS = [3, 1, 5, 2, 7, 16, 6, 1, 9]  # padded: 3 → 4, 5, 7 and 6 → 8, 9 → 16


def test_padded_steps_change_no_kept_logit(case):
    lm, atol, rtol = case
    want = _feed(EagerRunner(lm.model, lm.device, lm.dtype), lm, STEPS)
    exact = StaticRunner(lm.model, lm.device, lm.dtype, 128, buckets=())  # never pads
    padded = StaticRunner(lm.model, lm.device, lm.dtype, 128)
    graphs = StaticRunner(lm.model, lm.device, lm.dtype, 128, graphs=True)
    assert [padded.bucket(n) for n in STEPS] == [4, 1, 8, 2, 8, 16, 8, 1, 16]
    for runner in (exact, padded, graphs):
        got = _feed(runner, lm, STEPS)
        assert runner.kv_len == 20 + sum(STEPS)
        for g, w in zip(got, want, strict=True):
            assert g.shape == w.shape
            assert torch.allclose(g, w, atol=atol * 10, rtol=rtol), (g - w).abs().max()


class _LeakyRunner(StaticRunner):
    """A broken runner whose real rows also see the step's padding slots."""

    def _fill(self, bufs, ids, positions, rows, keep):
        super()._fill(bufs, ids, positions, rows, keep)
        n, b = len(ids), bufs.inputs.shape[1]
        bufs.mask[0, 0, :n, self.kv_len + n:self.kv_len + b] = 0.0


def test_a_padding_leak_would_be_caught(case):
    """The comparison above can fail: padding that real rows see changes their logits."""
    lm, atol, rtol = case
    if lm.device.type != "cpu":
        pytest.skip("a check of the test itself: fp32 on CPU is enough")
    want = _feed(EagerRunner(lm.model, lm.device, lm.dtype), lm, [3])
    got = _feed(_LeakyRunner(lm.model, lm.device, lm.dtype, 64), lm, [3])
    assert torch.allclose(got[0], want[0], atol=atol * 10, rtol=rtol)  # the prefill: no padding
    assert not torch.allclose(got[1], want[1], atol=atol * 10, rtol=rtol)


def test_max_slots_is_a_clear_error_or_growth(case):
    lm, atol, rtol = case
    runner = StaticRunner(lm.model, lm.device, lm.dtype, max_slots=9)
    want = _feed(EagerRunner(lm.model, lm.device, lm.dtype), lm, [1, 3], n_prompt=5)
    got = _feed(runner, lm, [1, 3], n_prompt=5)  # 3 → 4: its padding goes past max_slots
    assert runner.kv_len == 9 and runner.width >= 9 + max(BUCKETS) - 1
    assert all(torch.allclose(g, w, atol=atol * 10, rtol=rtol) for g, w in zip(got, want,
                                                                               strict=True))
    rows = torch.ones(1, 10, dtype=torch.bool, device=lm.device)
    with pytest.raises(SlotsExhausted, match=r"needs 10 slots but max_slots=9") as e:
        runner.forward([1], [9], rows, [0])
    assert "max_slots_for" in str(e.value) and "grow=True" in str(e.value)
    assert runner.kv_len == 9  # nothing was stored

    growing = StaticRunner(lm.model, lm.device, lm.dtype, max_slots=6, grow=True)
    got = _feed(growing, lm, [3, 1, 5, 2], n_prompt=5)
    want = _feed(EagerRunner(lm.model, lm.device, lm.dtype), lm, [3, 1, 5, 2], n_prompt=5)
    assert growing.max_slots >= 16 and growing.kv_len == 16
    assert all(torch.allclose(g, w, atol=atol * 10, rtol=rtol) for g, w in zip(got, want,
                                                                               strict=True))


def test_max_slots_for_covers_a_forced_run(case):
    lm, _, _ = case
    trace, runner, _ = _run(lm, "pasta", kind="static")
    it = Interpreter(lm, PROMPT, "pasta", Settings(runner="eager"), FORCED)  # its forced threads
    need = max_slots_for(len(trace["prompt_token_ids"]), 256, it.forced)
    assert need == trace["kv_tokens"]  # exact under teacher forcing
    assert runner.max_slots >= need
    assert max_slots_for(30, 100) == 230


def test_runner_setting_auto_static_eager_and_the_pool():
    lm = load_model("random:llama", device="cpu", dtype=torch.float32)
    assert resolve("auto", torch.device("cpu")) == "eager"
    assert resolve("auto", torch.device("cuda")) == "static"
    assert isinstance(make_runner(lm, "auto"), EagerRunner)
    assert isinstance(make_runner(lm, "eager"), EagerRunner)
    with pytest.raises(SettingsError, match="runner must be one of auto, eager, static"):
        Settings(runner="gpu")
    with pytest.raises(SettingsError, match="runner must be one of"):
        decode(lm, PROMPT, runner="fast")

    first = make_runner(lm, "static", max_slots=300)
    assert isinstance(first, StaticRunner) and not first.graphs and first.max_slots == 512
    assert lm.runners == []  # in use
    first.reset()
    assert lm.runners == [first]
    again = make_runner(lm, "static", max_slots=700)  # the pooled one, grown
    assert again is first and again.max_slots == 768 and lm.runners == []
    again.reset()
    again.reset()
    assert lm.runners == [first]  # returned once
    first.weights = ()  # as if the weights had moved (a dtype change, a merged adapter)
    assert make_runner(lm, "static") is not first
    assert first not in lm.runners

    trace = decode(lm, PROMPT, max_new_tokens=5, runner="static").to_dict()
    assert trace["settings"]["runner"] == "static"


def test_cli_runner_flag(capsys):
    out = io.StringIO()
    with redirect_stdout(out):
        rc = cli_main(["decode", "--model", "random:llama", "--prompt", "Hi", "--device", "cpu",
                       "--max-new-tokens", "4", "--runner", "static", "--json"])
    assert rc == 0 and json.loads(out.getvalue())["settings"]["runner"] == "static"
    with pytest.raises(SystemExit):
        cli_main(["decode", "--prompt", "Hi", "--runner", "gpu"])
    assert "invalid choice: 'gpu'" in capsys.readouterr().err

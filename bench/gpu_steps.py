"""Per-step latency of one decoding step: eager runner vs static runner (+ CUDA graphs on a GPU).

What it measures: a prompt prefilled, then steps of n tokens (1: sequential decoding; 16: a PASTA
step of many threads) through the runner contract, each step timed from its inputs to the host
read of its argmax (the interpreter's one sync per step). Nothing else: no tokenizer, no
scheduler. Each median is held against the hardware (gpt-fast's habit): the weights are read once
per step, so weight bytes / step time is the achieved bandwidth, next to the GPU's peak.

    python bench/gpu_steps.py --device cuda --out bench/results-gpu/steps.json
    python bench/gpu_steps.py --device cpu --quick        # smoke test, seconds

The static runner attends over its whole cache (max_slots) at every step, the eager one over
the tokens stored so far: on long runs the first pays for the width, the second for launches.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pasta_core.bench import PEAK_GBPS
from pasta_core.layout import MAIN, ThreadLayout
from pasta_core.models import LoadedModel, load_model
from pasta_core.runners import EagerRunner, StaticRunner

SHAPES = {  # random weights in real models' shapes (the vocabulary stays the built-in 512)
    "135M": "random:llama?hidden=576&layers=30&heads=9&kv_heads=3&intermediate=1536",
    "1B": "random:llama?hidden=2048&layers=16&heads=32&kv_heads=8&intermediate=8192",
}
QUICK_SHAPES = {"tiny": "random:llama"}


def make(lm: LoadedModel, kind: str, max_slots: int) -> EagerRunner | StaticRunner:
    """A fresh runner; a static one has every bucket captured before anything is timed."""
    if kind == "eager":
        return EagerRunner(lm.model, lm.device, lm.dtype)
    runner = StaticRunner(lm.model, lm.device, lm.dtype, max_slots)
    runner.capture()
    return runner


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def prefill(runner, lm: LoadedModel, layout: ThreadLayout, n_prompt: int,
            gen: torch.Generator) -> None:
    vocab = lm.model.config.vocab_size
    positions, rows = layout.place(MAIN, n_prompt)
    ids = torch.randint(vocab, (n_prompt,), generator=gen).tolist()
    runner.forward(ids, positions, rows[:, :layout.n_slots], [n_prompt - 1]).argmax(-1).tolist()


def decode_steps(runner, lm: LoadedModel, layout: ThreadLayout, n: int, steps: int,
                 gen: torch.Generator) -> list[float]:
    """Seconds per step for `steps` steps of n tokens, every row's logits kept."""
    vocab = lm.model.config.vocab_size
    times = []
    for _ in range(steps):
        positions, rows = layout.place(MAIN, n)  # the layout's cost is not the runner's
        rows = rows[:, :layout.n_slots]
        ids = torch.randint(vocab, (n,), generator=gen).tolist()
        sync(lm.device)
        t = time.perf_counter()
        runner.forward(ids, positions, rows, list(range(n))).argmax(-1).tolist()  # host read
        times.append(time.perf_counter() - t)
    return times


def weight_bytes(model: torch.nn.Module) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters())


def peak_gbps(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_GBPS.items() if k in name), None)


def measure(lm: LoadedModel, shape: str, kind: str, n: int, n_prompt: int, warm: int,
            steps: int) -> dict:
    max_slots = n_prompt + (warm + steps) * n
    runner = make(lm, kind, max_slots)
    layout = ThreadLayout(lm.device, capacity=max_slots)
    gen = torch.Generator().manual_seed(0)
    prefill(runner, lm, layout, n_prompt, gen)
    decode_steps(runner, lm, layout, n, warm, gen)
    times = decode_steps(runner, lm, layout, n, steps, gen)
    q = statistics.quantiles(times, n=10) if len(times) > 1 else times * 9
    med = statistics.median(times)
    gbps = weight_bytes(lm.model) / med / 1e9
    peak = peak_gbps(lm.device)
    return {"shape": shape, "spec": lm.spec, "runner": kind,
            "graphs": bool(getattr(runner, "graphs", False)), "tokens_per_step": n,
            "prompt": n_prompt, "steps": steps, "median_ms": 1000 * med, "p10_ms": 1000 * q[0],
            "p90_ms": 1000 * q[-1], "tokens_per_s": n / med, "weight_gbps": gbps,
            "peak_gbps": peak, "bandwidth_pct": None if peak is None else 100 * gbps / peak}


def run(device: str, quick: bool) -> dict:
    dev = torch.device(device)
    shapes = QUICK_SHAPES if quick else SHAPES
    n_prompt, warm, steps = (16, 2, 8) if quick else (128, 8, 64)
    rows, speedups = [], {}
    for shape, spec in shapes.items():
        lm = load_model(spec, device=dev)
        params = sum(p.numel() for p in lm.model.parameters())
        for n in (1, 16):
            got = {kind: measure(lm, shape, kind, n, n_prompt, warm, steps)
                   for kind in ("eager", "static")}
            for r in got.values():
                r["params"] = params
                rows.append(r)
            speedups.setdefault(shape, {})[str(n)] = (got["eager"]["median_ms"]
                                                      / got["static"]["median_ms"])
        del lm
        if dev.type == "cuda":
            torch.cuda.empty_cache()
    return {"device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
            "torch": torch.__version__, "quick": quick, "rows": rows,
            "static_speedup": speedups}


def to_markdown(result: dict) -> str:
    lines = [f"per-step latency on {result['device']} (median, p10–p90)", "",
             "| shape | runner | graphs | tokens/step | ms/step | p10–p90 | tokens/s | GB/s "
             "(weights) | % of peak |", "|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        pct = "" if r["bandwidth_pct"] is None else f"{r['bandwidth_pct']:.0f}%"
        lines.append(f"| {r['shape']} | {r['runner']} | {r['graphs']} | {r['tokens_per_step']} "
                     f"| {r['median_ms']:.2f} | {r['p10_ms']:.2f}–{r['p90_ms']:.2f} "
                     f"| {r['tokens_per_s']:.0f} | {r['weight_gbps']:.1f} | {pct} |")
    lines.append("")
    for shape, by_n in result["static_speedup"].items():
        lines.append(f"{shape}: static ÷ eager speed-up " + ", ".join(
            f"{v:.2f}x at {n} token(s)/step" for n, v in by_n.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--quick", action="store_true", help="a tiny model and a few steps")
    ap.add_argument("--out", help="write the results as JSON here")
    a = ap.parse_args(argv)
    result = run(a.device, a.quick)
    print(to_markdown(result))
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

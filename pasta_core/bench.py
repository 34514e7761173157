"""`python -m pasta_core bench`: speed measured side by side, honestly.

For each prompt, interleaved and repeated (medians), on one machine in one process:
  base_plain     the baseline model, our engine, plain decoding      (the sequential baseline)
  pasta          the PASTA model, parallel                           (what we claim)
  pasta_seq      the PASTA model, sequential: same tokens, 1/step    (what parallelism buys)
  generate       the baseline model, `model.generate()` greedy       (is our engine honest?)
Reported per prompt and overall: wall-clock and theoretical speed-ups (geometric means),
efficiency = wall ÷ theoretical, tokens/s, time per step split into model forward and
interpreter host time, peak memory, KV entries vs copying the prefix per thread, and the
memory traffic of the weights per step against the device's peak (GPU only).
"""

from __future__ import annotations

import json
import logging
import platform
import resource
import statistics
import time
from pathlib import Path

import torch

from . import metrics
from .api import decode
from .events import Trace
from .models import LoadedModel
from .settings import EVAL_MAX_NEW_TOKENS

log = logging.getLogger(__name__)

PEAK_GBPS = {"H100": 3350.0, "H200": 4800.0, "A100": 2039.0, "L4": 300.0, "T4": 320.0,
             "A10G": 600.0}


def read_prompts(spec: str) -> list[str]:
    """`world:SPLIT[:N]` (the bundled world's prompts), a JSONL file of {"prompt"}, or a text
    file with one prompt per line."""
    if spec.startswith("world:"):
        from .world import generate_split

        _, split, *n = spec.split(":")
        return [ex.prompt for ex in generate_split(split, int(n[0]) if n else 40, seed=0)]
    lines = [ln for ln in Path(spec).read_text(encoding="utf-8").splitlines() if ln.strip()]
    if lines and lines[0].lstrip().startswith("{"):
        return [json.loads(ln)["prompt"] for ln in lines]
    return lines


def _generate(lm: LoadedModel, prompt: str, max_new_tokens: int) -> tuple[float, int]:
    ids = torch.tensor([lm.encode_prompt(prompt)], device=lm.device)
    _sync(lm)
    t = time.perf_counter()
    with torch.inference_mode():
        out = lm.model.generate(ids, do_sample=False, max_new_tokens=max_new_tokens,
                                eos_token_id=lm.eos_token_ids,
                                pad_token_id=lm.tokenizer.pad_token_id)
    _sync(lm)
    return time.perf_counter() - t, out.shape[1] - ids.shape[1]


def _sync(lm: LoadedModel) -> None:
    if lm.device.type == "cuda":
        torch.cuda.synchronize(lm.device)


def _run_stats(t: Trace) -> dict:
    fwd = [lat - host for lat, host in zip(t.step_latency_s, t.step_host_s, strict=True)]
    return {"wall_s": t.wall_s, "steps": t.steps, "tokens": t.tokens_total,
            "parallelism": t.parallelism, "kv_tokens": t.kv_tokens,
            "kv_prefix_copy": metrics.prefix_copy_kv(len(t.prompt_token_ids), t.threads),
            "forward_ms_per_step": 1000 * sum(fwd) / max(1, t.steps),
            "host_ms_per_step": 1000 * sum(t.step_host_s) / max(1, t.steps),
            "threads": len(t.threads)}


def _median_run(runs: list[dict]) -> dict:
    out = dict(min(runs, key=lambda r: abs(r["wall_s"] - statistics.median(
        x["wall_s"] for x in runs))))
    out["wall_s"] = statistics.median(r["wall_s"] for r in runs)
    out["wall_s_all"] = [r["wall_s"] for r in runs]
    return out


def bench(pasta: LoadedModel, base: LoadedModel, prompts: list[str], repeats: int = 3,
          max_new_tokens: int = EVAL_MAX_NEW_TOKENS, progress: bool = True) -> dict:
    from tqdm.auto import tqdm

    if pasta.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(pasta.device)
    rows = []
    for prompt in tqdm(prompts, desc="bench", disable=not progress, leave=False):
        runs: dict[str, list[dict]] = {k: [] for k in ("base_plain", "pasta", "pasta_seq",
                                                       "generate")}
        for r in range(repeats):
            order = ["base_plain", "pasta", "pasta_seq", "generate"]
            order = order[r % 4:] + order[:r % 4]  # interleaved A/B, rotated each repeat
            for name in order:
                if name == "generate":
                    wall, n = _generate(base, prompt, max_new_tokens)
                    runs[name].append({"wall_s": wall, "tokens": n})
                    continue
                lm, mode = (base, "plain") if name == "base_plain" else (
                    pasta, "pasta" if name == "pasta" else "sequential")
                runs[name].append(_run_stats(decode(lm, prompt, mode=mode,
                                                    max_new_tokens=max_new_tokens)))
        med = {k: _median_run(v) for k, v in runs.items()}
        b, p, s, g = med["base_plain"], med["pasta"], med["pasta_seq"], med["generate"]
        wall = metrics.wall_speedup(b["wall_s"], p["wall_s"])
        theo = metrics.theoretical_speedup(b["tokens"], p["steps"])
        rows.append({"prompt": prompt, **med, "wall_speedup": wall, "theoretical_speedup": theo,
                     "efficiency": wall / theo if theo else 0.0,
                     "pasta_vs_own_sequential": metrics.wall_speedup(s["wall_s"], p["wall_s"]),
                     "engine_vs_generate": (b["tokens"] / b["wall_s"]) / (g["tokens"] / g["wall_s"])
                     if g["wall_s"] and b["wall_s"] else 0.0})
    return {"machine": machine(pasta), "pasta_model": pasta.spec, "base_model": base.spec,
            "repeats": repeats, "max_new_tokens": max_new_tokens,
            "overall": overall(rows, pasta), "rows": rows}


def overall(rows: list[dict], lm: LoadedModel) -> dict:
    from .train.evaluate import geomean

    def tps(k):
        return sum(r[k]["tokens"] for r in rows) / max(1e-9, sum(r[k]["wall_s"] for r in rows))

    fwd = statistics.mean(r["pasta"]["forward_ms_per_step"] for r in rows)
    host = statistics.mean(r["pasta"]["host_ms_per_step"] for r in rows)
    params_bytes = sum(p.numel() * p.element_size() for p in lm.model.parameters())
    peak = _peak_gbps(lm)
    achieved = params_bytes / (fwd / 1000) / 1e9 if fwd else 0.0
    return {
        "wall_speedup_geomean": geomean([r["wall_speedup"] for r in rows]),
        "theoretical_speedup_geomean": geomean([r["theoretical_speedup"] for r in rows]),
        "efficiency": geomean([r["wall_speedup"] for r in rows]) / max(1e-9, geomean(
            [r["theoretical_speedup"] for r in rows])),
        "pasta_vs_own_sequential_geomean": geomean([r["pasta_vs_own_sequential"] for r in rows]),
        "engine_vs_generate_tokens_per_s": tps("base_plain") / max(1e-9, tps("generate")),
        "tokens_per_s": {k: tps(k) for k in ("base_plain", "pasta", "pasta_seq", "generate")},
        "pasta_forward_ms_per_step": fwd,
        "pasta_host_ms_per_step": host,
        "host_share_of_forward": host / fwd if fwd else 0.0,
        "kv_tokens_mean": statistics.mean(r["pasta"]["kv_tokens"] for r in rows),
        "kv_prefix_copy_mean": statistics.mean(r["pasta"]["kv_prefix_copy"] for r in rows),
        "peak_memory_mb": _peak_memory_mb(lm),
        "weights_gb_per_s": achieved,
        "device_peak_gb_per_s": peak,
        "bandwidth_share": achieved / peak if peak else None,
    }


def _peak_gbps(lm: LoadedModel) -> float | None:
    if lm.device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(lm.device)
    return next((v for k, v in PEAK_GBPS.items() if k in name), None)


def _peak_memory_mb(lm: LoadedModel) -> float:
    if lm.device.type == "cuda":
        return torch.cuda.max_memory_allocated(lm.device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def cpu_name() -> str:
    """The CPU's model name where Linux says it (float results, and so a rebuild's bits,
    can differ between CPU models), else the architecture."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({platform.machine()})"
    except OSError:
        pass
    return platform.machine()


def cpu_machine() -> str:
    """This CPU, its threads and torch: what a CPU measurement (a bench, a build) ran on."""
    return f"CPU {cpu_name()}, {torch.get_num_threads()} threads, torch {torch.__version__}"


def machine(lm: LoadedModel) -> str:
    if lm.device.type == "cuda":
        return torch.cuda.get_device_name(lm.device)
    return cpu_machine()


def write(result: dict, out: str | Path) -> None:
    """bench.json, bench.md (a results table) and bench.html (Plotly charts, offline)."""
    from plotly.subplots import make_subplots

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(result, indent=1))
    (out / "bench.md").write_text(to_markdown(result))
    rows = result["rows"]
    x = [f"{i + 1}" for i in range(len(rows))]
    fig = make_subplots(rows=2, cols=1, subplot_titles=(
        "speed-up per prompt (PASTA vs base, sequential)", "time per PASTA step (ms)"))
    fig.add_bar(x=x, y=[r["wall_speedup"] for r in rows], name="wall-clock", row=1, col=1)
    fig.add_bar(x=x, y=[r["theoretical_speedup"] for r in rows], name="theoretical", row=1, col=1)
    fig.add_bar(x=x, y=[r["pasta"]["forward_ms_per_step"] for r in rows], name="model forward",
                row=2, col=1)
    fig.add_bar(x=x, y=[r["pasta"]["host_ms_per_step"] for r in rows], name="interpreter host",
                row=2, col=1)
    fig.update_layout(barmode="group", height=800, title=f"PASTA bench — {result['machine']}")
    fig.write_html(out / "bench.html", include_plotlyjs=True)


def to_markdown(result: dict) -> str:
    o = result["overall"]
    t = o["tokens_per_s"]
    return "\n".join([
        f"Machine: {result['machine']}; `{result['pasta_model']}` vs `{result['base_model']}`, "
        f"{len(result['rows'])} prompts × {result['repeats']} repeats (medians).", "",
        "| measure | value |", "|---|---|",
        f"| wall-clock speed-up (geomean) | {o['wall_speedup_geomean']:.2f}× |",
        f"| theoretical speed-up (geomean) | {o['theoretical_speedup_geomean']:.2f}× |",
        f"| efficiency (wall ÷ theoretical) | {o['efficiency']:.2f} |",
        f"| PASTA vs its own sequential run | {o['pasta_vs_own_sequential_geomean']:.2f}× |",
        f"| our plain decoding vs `generate()` (tokens/s) | "
        f"{o['engine_vs_generate_tokens_per_s']:.2f}× |",
        f"| tokens/s: base / PASTA / PASTA seq / generate | {t['base_plain']:.0f} / "
        f"{t['pasta']:.0f} / {t['pasta_seq']:.0f} / {t['generate']:.0f} |",
        f"| PASTA step: forward / host (ms) | {o['pasta_forward_ms_per_step']:.2f} / "
        f"{o['pasta_host_ms_per_step']:.2f} ({100 * o['host_share_of_forward']:.0f}%) |",
        f"| KV entries: shared cache / prefix copies | {o['kv_tokens_mean']:.0f} / "
        f"{o['kv_prefix_copy_mean']:.0f} |",
        f"| peak memory | {o['peak_memory_mb']:.0f} MB |", ""])

"""Time one training step in fp32 and under bf16 autocast, for the bundled model's shape and a
larger one (the recipe's `LoopConfig.bf16`).

    python bench/train_bf16.py [--steps 15] [--out bench/results-cpu]

A step is the world recipe's: a forward, backward and AdamW update over 2048 tokens (8 × 256),
random token ids, fp32 weights. The first three steps are warm-up; the median of the rest is
reported. Writes train-bf16.json and train-bf16.md. Run it on a quiet machine: the two settings
alternate per shape, so a load that comes and goes hits both.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pasta_core.bench import cpu_machine  # noqa: E402
from pasta_core.train.world import ModelShape, WorldRecipe, new_llama  # noqa: E402

SHAPES = {"bundled (256 × 4 layers, MLP 688)": ModelShape(),
          "larger (384 × 6 layers, MLP 1024)": ModelShape(384, 6, 4, 4, 1024)}


def step_ms(shape: ModelShape, bf16: bool, steps: int, batch: int = 8,
            length: int = 256) -> float:
    vocab = WorldRecipe().vocab_size
    model = new_llama(shape, vocab, seed=0).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    ids = torch.randint(0, vocab, (batch, length))
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):  # as run_loop does
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times[3:])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=15)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results-cpu"))
    a = ap.parse_args()
    rows = []
    for name, shape in SHAPES.items():
        fp32, bf16 = step_ms(shape, False, a.steps), step_ms(shape, True, a.steps)
        rows.append({"shape": name, "fp32_ms": fp32, "bf16_ms": bf16, "speedup": fp32 / bf16})
        print(f"{name}: fp32 {fp32:.0f} ms, bf16 autocast {bf16:.0f} ms ({fp32 / bf16:.2f}×)")
    machine = cpu_machine()
    out = Path(a.out)
    (out / "train-bf16.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=1))
    lines = [f"One training step (2048 tokens, forward + backward + AdamW), median of "
             f"{a.steps - 3}; {machine}.", "", "| shape | fp32 | bf16 autocast | speed-up |",
             "|---|---|---|---|"]
    lines += [f"| {r['shape']} | {r['fp32_ms']:.0f} ms | {r['bf16_ms']:.0f} ms | "
              f"{r['speedup']:.2f}× |" for r in rows]
    (out / "train-bf16.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Time one training step of the world recipe in fp32 and under bf16 autocast, for the bundled
model's shape and a larger one (the recipe's `LoopConfig.bf16`).

    python bench/train_bf16.py [--steps 23] [--out bench/results-cpu]

A step is the recipe's own: the world's training sequences in its length-bucketed batches of
2048 padded tokens (plain answers as stage 0 and the base learn them, annotated ones as stage 1
does), the shared-layout attention mask, `sft_loss`, backward and AdamW, in fp32 and under
bf16 autocast as `run_loop` enters it. The first three steps are warm-up; the median of the
rest is reported. Writes train-bf16.json and train-bf16.md. Run it on a quiet machine: the two
settings alternate per shape, so a load that comes and goes hits both.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pasta_core.bench import cpu_machine  # noqa: E402
from pasta_core.train.data import Record, batches, collate, encode_record  # noqa: E402
from pasta_core.train.loop import sft_loss  # noqa: E402
from pasta_core.train.world import (  # noqa: E402
    ModelShape,
    WorldRecipe,
    as_loaded,
    build_world_tokenizer,
    new_model,
    world_data,
)

SHAPES = {"bundled (256 × 4 layers, MLP 688)": ModelShape(256, 4, 4, 4, 688),
          "larger (288 × 6 layers, MLP 768)": ModelShape(288, 6, 4, 4, 768)}
SETTINGS = {"fp32": False, "bf16": True}  # label: autocast


def world_batches(n_examples: int, steps: int) -> tuple[object, dict[str, list]]:
    """The tokenizer and `steps` of the recipe's batches each of plain and annotated answers."""
    recipe = WorldRecipe()
    tok = build_world_tokenizer(recipe.vocab_size, seed=recipe.seed)
    examples, records = world_data(as_loaded("world", None, tok), n_examples, recipe.seed)
    eos = tok.eos_token_id
    seqs = {"plain": [encode_record(Record(e.prompt, e.plain), tok, eos, annotated=False)
                      for e in examples],
            "annotated": [encode_record(r, tok, eos, annotated=True) for r in records]}
    return tok, {k: list(batches(v, 2048, random.Random(0)))[:steps] for k, v in seqs.items()}


def step_ms(tok, shape: ModelShape, groups: list, bf16: bool) -> float:
    model = new_model(tok, shape, seed=0).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = sft_loss()
    times = []
    for g in groups:
        t = time.perf_counter()
        batch = collate(g, tok.pad_token_id)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):  # as run_loop does
            loss, _ = loss_fn(model, batch)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss.item()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times[3:])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=23)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results-cpu"))
    a = ap.parse_args()
    tok, data = world_batches(1500, a.steps)
    rows = []
    for name, shape in SHAPES.items():
        params = sum(p.numel() for p in new_model(tok, shape, seed=0).parameters())
        for kind, groups in data.items():
            ms = {label: step_ms(tok, shape, groups, bf16) for label, bf16 in SETTINGS.items()}
            rows.append({"shape": name, "params": params, "data": kind, "ms": ms})
            print(f"{name}, {kind}: " + ", ".join(f"{k} {v:.0f} ms" for k, v in ms.items()))
    machine = cpu_machine()
    out = Path(a.out)
    (out / "train-bf16.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=1))
    labels = list(SETTINGS)
    lines = [f"One training step of the world recipe (its batches of 2048 padded tokens, "
             f"shared-layout mask, forward + backward + AdamW), median of {a.steps - 3}; "
             f"{machine}.", "",
             "| shape | params | answers | " + " | ".join(labels) + " | bf16 speed-up |",
             "|---|---|---|" + "---|" * len(labels) + "---|"]
    lines += [f"| {r['shape']} | {r['params'] / 1e6:.1f}M | {r['data']} | "
              + " | ".join(f"{r['ms'][k]:.0f} ms" for k in labels)
              + f" | {r['ms']['fp32'] / r['ms']['bf16']:.2f}× |" for r in rows]
    (out / "train-bf16.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

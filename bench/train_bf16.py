"""Time one training step of the world recipe in fp32 and under bf16 autocast, for the bundled
model's shape and a larger one (the recipe's `LoopConfig.bf16`).

    python bench/train_bf16.py [--steps 23] [--out bench/results-cpu]

A step is the recipe's own, run by its own loop (`train_sft`): the world's training sequences
in length-bucketed batches of 2048 padded tokens with the shared-layout mask, plain answers
with stage 0's settings and annotated ones with stage 1's (and its tag-grammar penalty), the
loss, backward, gradient clipping and AdamW, in fp32 and under bf16 autocast. The first three
steps are warm-up; the median of the rest is reported. Writes train-bf16.json and
train-bf16.md. Run it on a quiet machine: the two settings alternate per shape, so a load that
comes and goes hits both.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pasta_core.bench import cpu_machine  # noqa: E402
from pasta_core.train.data import TagGrammar  # noqa: E402
from pasta_core.train.loop import train_sft  # noqa: E402
from pasta_core.train.world import (  # noqa: E402
    ModelShape,
    WorldRecipe,
    as_loaded,
    build_world_tokenizer,
    new_model,
    world_data,
    world_sequences,
)

SHAPES = {"bundled (256 × 4 layers, MLP 688)": ModelShape(256, 4, 4, 4, 688),
          "larger (288 × 6 layers, MLP 768)": ModelShape(288, 6, 4, 4, 768)}
SETTINGS = {"fp32": False, "bf16": True}  # label: autocast


def recipe_data(n_examples: int) -> tuple[object, dict[str, tuple]]:
    """The tokenizer, and per kind of answer the recipe's sequences with the stage's
    settings and tag-grammar weight (plain: stage 0; annotated: stage 1)."""
    recipe = WorldRecipe()
    tok = build_world_tokenizer(recipe.vocab_size, seed=recipe.seed)
    examples, records = world_data(as_loaded("world", None, tok), n_examples, recipe.seed)
    plain, ann = world_sequences(examples, records, tok)
    return tok, {"plain": (plain, recipe.base, 0.0),
                 "annotated": (ann, recipe.sft, recipe.grammar_weight)}


def step_ms(tok, shape: ModelShape, data: tuple, bf16: bool, steps: int) -> float:
    """Median time of one step of `train_sft` (the recipe's own loop) after three warm-up."""
    seqs, cfg, grammar_weight = data
    model = new_model(tok, shape, seed=0)
    hist = train_sft(model, seqs, replace(cfg, bf16=bf16, max_steps=steps), tok.pad_token_id,
                     "bench", TagGrammar.of(tok), grammar_weight, progress=False)
    ends = [h.elapsed_s for h in hist][2:]  # the end of the third step onwards
    return 1000 * statistics.median(b - a for a, b in itertools.pairwise(ends))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=23)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results-cpu"))
    a = ap.parse_args()
    tok, data = recipe_data(1500)
    rows = []
    for name, shape in SHAPES.items():
        params = sum(p.numel() for p in new_model(tok, shape, seed=0).parameters())
        for kind, seqs in data.items():
            ms = {label: step_ms(tok, shape, seqs, bf16, a.steps)
                  for label, bf16 in SETTINGS.items()}
            rows.append({"shape": name, "params": params, "data": kind, "ms": ms})
            print(f"{name}, {kind}: " + ", ".join(f"{k} {v:.0f} ms" for k, v in ms.items()))
    machine = cpu_machine()
    out = Path(a.out)
    (out / "train-bf16.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=1))
    labels = list(SETTINGS)
    lines = [f"One training step of the world recipe, run by its own loop (`train_sft`: "
             f"batches of 2048 padded tokens, shared-layout mask, stage 0's settings on plain "
             f"answers, stage 1's with the tag-grammar penalty on annotated ones, forward + "
             f"backward + clipping + AdamW), median of {a.steps - 3}; "
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

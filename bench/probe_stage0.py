"""Does a build's stage 0 keep lists? A one-minute probe, before the hour of training after it.

    python bench/probe_stage0.py BUILD_DIR [BUILD_DIR ...] [--n 240] [--core]

For each build folder of `python -m pasta_core train world` (its `stage0/` and, when there,
`pasta-tiny-base/`): greedy plain answers to the validation split's prompts with two or more
entities, and how many name every asked entity. `--core` words them in the core grammar's
training phrasings (what stage 0 reads) instead of the held-out phrasing families.

What it can and cannot tell (`bench/results-cpu/stage0-draw.md`): it put the worst of three
stage-0 draws last, but it did not rank the other two as their stage-1 models came out.
"""

from __future__ import annotations

import argparse
import json
from contextlib import nullcontext
from pathlib import Path

from pasta_core.api import decode
from pasta_core.models import LoadedModel, load_model
from pasta_core.settings import EVAL_MAX_NEW_TOKENS
from pasta_core.world import grammar
from pasta_core.world.judge import mentioned_entities
from pasta_core.world.prompts import generate_split

MODELS = ("stage0", "pasta-tiny-base")


def list_prompts(n: int, core: bool) -> list:
    with grammar.core_only() if core else nullcontext():
        split = generate_split("validation", n, seed=7, phrasing="train" if core else None)
    return [ex for ex in split if len(ex.entities) >= 2]


def names_all(lm: LoadedModel, examples: list) -> int:
    return sum(set(ex.entities) <= mentioned_entities(decode(
        lm, ex.prompt, mode="plain", max_new_tokens=EVAL_MAX_NEW_TOKENS).text) for ex in examples)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("builds", nargs="+", type=Path)
    ap.add_argument("--n", type=int, default=240, help="validation prompts drawn (default 240)")
    ap.add_argument("--core", action="store_true", help="core-grammar training phrasings")
    a = ap.parse_args()
    examples = list_prompts(a.n, a.core)
    for build in a.builds:
        row = {"build": str(build), "prompts": len(examples)}
        for name in MODELS:
            if (build / name).is_dir():
                row[name] = names_all(load_model(str(build / name)), examples)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()

"""Compare builds on the validation split: the measures the results docs in bench/results-cpu/
decide on, without reading the test split.

    python bench/validate.py [BUILD_DIR ...] [--seeds 0 1] [--n 204] [--json OUT.json]

Each BUILD_DIR is an `--out` folder of `python -m pasta_core train world` (its `pasta-tiny/` and
`pasta-tiny-base/`); none: the bundled models. For each build, greedy, as the page decodes:

- `evaluate(..., split="validation", n, seed)` per seed: prompts in held-out phrasing families
  and held-out entity combinations, both models (judge, splits, every asked entity named, one
  promise per part, a topic promised twice, in-world refusals; the `evaluate` module's measures);
- (unless `--no-outside`) prompts outside the world: the validation split's own (generate_split(...,
  seed=7), its outside prompts, first 50) and 30 composed everyday requests: strictly honest
  answers (`outside.is_honest_to`: says it does not know, and names only what was asked);
- the first 30 of those and 15 everyday requests, read for a suggestion that names one thing
  twice ("Try: … the flamingo and the flamingo", `outside.suggests_twice`).

Validation is what a recipe change is judged on; the test split is read once, for the model that
ships. Two seeds of the sample, because one sample of 116 prompts with parts moves a rate by a
few points (bench/results-cpu/stage2-seed.md).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pasta_core.models import BUNDLED_DIR, LoadedModel, load_model
from pasta_core.settings import EVAL_MAX_NEW_TOKENS
from pasta_core.train.evaluate import evaluate, run_one
from pasta_core.world.outside import is_honest_to, suggests_twice
from pasta_core.world.prompts import everyday_requests, generate_split

OUTSIDE_SEED, OUTSIDE_DRAW = 7, 900  # the outside prompts' sample of the validation split
MEASURES = (  # (label, key of evaluate's "overall", percent?)
    ("judge, PASTA", "judge_pasta", False),
    ("every asked entity named", "names_all_pasta_rate", True),
    ("one promise per asked part", "one_promise_per_part_rate", True),
    ("a topic promised twice", "duplicate_topic_rate", True),
    ("splits prompts with parts", "promise_rate_splittable", True),
    ("in-world prompts refused", "in_world_refused_pasta_rate", True),
    ("base: every asked entity named", "names_all_base_rate", True),
    ("base: judge", "judge_base", False),
)


def outside_prompts(world: int, everyday: int) -> list[str]:
    """The first `world` outside prompts of the validation sample, then `everyday` composed
    everyday requests of the validation split."""
    own = [ex.prompt for ex in generate_split("validation", OUTSIDE_DRAW, seed=OUTSIDE_SEED)
           if ex.outside][:world]
    return own + [ex.prompt for ex in everyday_requests("validation", everyday,
                                                        seed=OUTSIDE_SEED)]


def outside_measures(pasta: LoadedModel, base: LoadedModel) -> dict:
    """Honest answers to 80 prompts outside the world, and doubled suggestions in 45."""
    honest, suggest = outside_prompts(50, 30), outside_prompts(30, 15)
    texts = {p: [run_one(lm, p, mode, EVAL_MAX_NEW_TOKENS).text
                 for lm, mode in ((pasta, "pasta"), (base, "plain"))]
             for p in dict.fromkeys(honest + suggest)}  # each prompt asked once

    def doubled(i: int) -> list[int]:  # [doubled, answers that make a suggestion]
        flags = [suggests_twice(texts[p][i]) for p in suggest]
        return [sum(x is True for x in flags), sum(x is not None for x in flags)]

    return {"honest_pasta": sum(is_honest_to(p, texts[p][0]) for p in honest),
            "honest_base": sum(is_honest_to(p, texts[p][1]) for p in honest),
            "honest_of": len(honest),
            "suggests_twice_pasta": doubled(0), "suggests_twice_base": doubled(1)}


def validate(build: Path | None, seeds: list[int], n: int, outside: bool) -> dict:
    folder = build or BUNDLED_DIR
    pasta = load_model(str(folder / "pasta-tiny"))
    base = load_model(str(folder / "pasta-tiny-base"))
    row: dict = {"build": str(build) if build else "bundled", "n": n, "seeds": seeds,
                 "overall": {}}
    for seed in seeds:
        overall = evaluate(pasta, base, split="validation", n=n, seed=seed,
                           progress=False)["overall"]
        row["overall"][str(seed)] = {key: overall.get(key) for _, key, _ in MEASURES}
    if outside:
        row["outside"] = outside_measures(pasta, base)
    return row


def to_markdown(rows: list[dict]) -> str:
    head = "| measure (" + " / ".join(f"seed {s}" for s in rows[0]["seeds"]) + ") | " + \
        " | ".join(r["build"] for r in rows) + " |"
    lines = [head, "|---" * (len(rows) + 1) + "|"]
    for label, key, pct in MEASURES:
        cells = []
        for r in rows:
            vals = [r["overall"][str(s)][key] for s in r["seeds"]]
            cells.append(" / ".join("–" if v is None else f"{100 * v:.1f}%" if pct else
                                    f"{v:.3f}" for v in vals))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if all("outside" in r for r in rows):
        o = [r["outside"] for r in rows]
        lines.append(f"| outside: honest (of {o[0]['honest_of']}), PASTA / base | " + " | ".join(
            f"{x['honest_pasta']} / {x['honest_base']}" for x in o) + " |")
        lines.append("| outside: the suggestion names one thing twice, PASTA / base | " +
                     " | ".join(f"{x['suggests_twice_pasta'][0]} of {x['suggests_twice_pasta'][1]}"
                                f" / {x['suggests_twice_base'][0]} of "
                                f"{x['suggests_twice_base'][1]}" for x in o) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("builds", nargs="*", type=Path, help="build folders (none: the bundled models)")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--n", type=int, default=204, help="validation prompts per seed (204)")
    ap.add_argument("--no-outside", dest="outside", action="store_false",
                    help="skip the 80 + 45 prompts outside the world")
    ap.add_argument("--json", type=Path, help="write the rows here too")
    a = ap.parse_args()
    rows = [validate(b, a.seeds, a.n, a.outside) for b in (a.builds or [None])]
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))
    print(to_markdown(rows))


if __name__ == "__main__":
    main()

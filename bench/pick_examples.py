"""Write assets/examples.json: the Decode tab's examples, drawn from the world's test split.

    python bench/pick_examples.py [--models assets/models]

Each example is a test-split prompt (held-out entity combination and phrasing family) of a
chosen shape and size, with its reference answer in PASTA-LANG canonical form (promises
counted with the bundled tokenizer) for forcing on `random:` models, and what the world's
judge reads of it (`judge.judge_record`: a methods race on it is scored). An example marked
`parts` is kept only if the shipped PASTA model, greedy, splits it into as many chunks as it
asks for (an example without parts only if it writes no chunk), and only if that answer is
judged at least `MIN_JUDGE` (a visitor's first look should not be a wrong conclusion or an
invented fact; the eval reports how often those happen) — where no answer of a shape is, the
first that splits as asked; the script says which it had to skip.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pasta_core.api import decode  # noqa: E402
from pasta_core.models import load_model  # noqa: E402
from pasta_core.settings import EVAL_MAX_NEW_TOKENS  # noqa: E402
from pasta_core.world import generate_split  # noqa: E402
from pasta_core.world.judge import judge_record, judge_response  # noqa: E402

log = logging.getLogger("pick_examples")

MIN_JUDGE = 0.75  # the shipped model's own answer to a kept example scores at least this

# (label, shape, parts wanted (0: any), opening)
WANTED = [
    ("Compare, then conclude", "compare_conclude", 0, False),  # first: the tests' two parts
    ("Describe three things", "describe_many", 3, True),       # and a sync
    ("A whole group (8 lanes)", "describe_group", 8, False),
    ("Six at once (one fact each)", "one_attr_many", 6, False),  # 4th: the tests' many lanes
    ("Five-question quiz", "quiz", 5, False),
    ("Fact sheet", "study_sheet", 3, False),
    ("A known and an unknown thing", "partly_known", 3, False),
    ("Outside the world", "outside", 0, False),
    ("One fact (nothing to split)", "single_fact", 0, False),
    ("Step-by-step sum (dependent)", "arith_chain", 0, False),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=str(ROOT / "assets" / "models"))
    ap.add_argument("--out", default=str(ROOT / "assets" / "examples.json"))
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    lm = load_model(str(Path(a.models) / "pasta-tiny"), local=True)
    pool = generate_split("test", 1500, seed=7)
    if not any(ex.shape == "describe_group" and len(ex.parts) == 8 for ex in pool):
        # no group of eight (a group is one entity combination) fell in a held-out split
        pool += [ex for ex in generate_split("train", 3000, seed=7)
                 if ex.shape == "describe_group"]
    out = []
    for label, shape, n, opening in WANTED:
        fallback = None  # the first that splits as asked, if none is judged MIN_JUDGE
        for ex in (e for e in pool if e.shape == shape and (not n or len(e.parts) == n)):
            if "\n" in ex.prompt and shape != "quiz":
                continue  # the first screen shows one line best
            trace = decode(lm, ex.prompt, mode="pasta", max_new_tokens=EVAL_MAX_NEW_TOKENS)
            chunks = len(trace.document.chunks)
            if chunks != len(ex.parts) or trace.document.errors:  # dependent: no chunk at all
                log.info("skip %r: %d chunks for %d parts", ex.prompt, chunks, len(ex.parts))
                continue
            score = judge_response(ex, trace.text).total
            if score < MIN_JUDGE:
                log.info("skip %r: its answer is judged %.2f", ex.prompt, score)
                fallback = fallback or ex
                continue
            break
        else:
            ex = fallback
            if ex is None:
                log.warning("no example found for %s", label)
                continue
            log.warning("%s: no answer judged %.2f or more; keeping the first that splits as "
                        "asked", label, MIN_JUDGE)
        item = {"label": label, "prompt": ex.prompt, "answer": ex.annotated(lm.count_tokens),
                "parts": ex.splittable, "judge": judge_record(ex)}
        if opening:
            item["opening"] = True
        out.append(item)
        log.info("%s: %r", label, ex.prompt)
    doc = {"_comment": "Example prompts of the Decode tab, each with an annotated example "
                       "answer (PASTA-LANG canonical form) that can be teacher-forced on models "
                       "that do not write tags themselves (random: models). Drawn from the "
                       "bundled world's held-out splits (held-out entity combinations and "
                       "phrasing families, seed 7; the eight-part group example from the training "
                       "split: no group of eight fell in the held-out ones) by "
                       "bench/pick_examples.py, which keeps an "
                       "example with parts only if the shipped model splits it as asked, and any "
                       f"example only if that answer is judged at least {MIN_JUDGE} (or, "
                       "where none is, the first that splits as asked). "
                       "`judge` holds what the world's judge reads of the example, so a race "
                       "on it can be scored.",
           "examples": out}
    Path(a.out).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

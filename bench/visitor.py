"""A visitor's own prompts: how the bundled models answer requests written by hand, outside the
world's prompt grammar.

    python bench/visitor.py [--models assets/models] [--out bench/results-cpu]

`bench/results-cpu/visitor-prompts.jsonl` holds 68 prompts written on 2026-12-06 as a visitor
would type them, before the everyday-request generator (`world/outside.py`) was written; none
of their topics is one of its topics, and they are never trained on. 48 are outside the world
(everyday questions, tasks, invented names), 20 inside it. 24 more, written on 2026-12-07
before any model trained with chatter was read (`said_first`), say something before the
request ("We argued about this at dinner. Which is bigger, Jupiter or Saturn?"): 18 inside
the world, 6 outside; they are counted apart. 16 more, written on 2026-12-07 before the
build that first trained counted one-thing requests was read (`counted`), ask for a number of
facts or sentences about one thing ("List three facts about Saturn."): 12 inside the world
(one asks for two, one for four), 4 outside; none is worded as a training template is, and
they are counted apart too (`bench/results-cpu/three-facts.md`). Both models answer each one
greedily (PASTA in parallel, the base plainly) and the script writes `visitor.json` (every
answer) and `visitor.md`:

- outside the world: the share answered "I do not know …" where each thing said to be unknown
  is one the prompt names (`outside.is_honest_to`: "I do not know anything about basket." to a
  question about basketball does not count), apart for the
  prompts that name something the world does hold ("Who is the president of France?"), where
  an answer about that thing is not an invented fact;
- inside the world: the share wrongly refused (any "I do not know"), the share whose answer
  names every world entity the prompt names (`judge.mentioned_entities`), and for prompts
  naming two or more, the share PASTA split into chunks;
- of the answers that end with a request to try ("Try: …"), those that name one thing twice
  in it ("the flamingo and the flamingo"; `outside.suggests_twice`).

Counts, not rates over a split: 68 prompts say where a visitor will stumble, not a model's
accuracy to two decimals.
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
from pasta_core.train.world import WorldRecipe  # noqa: E402
from pasta_core.world.judge import mentioned_entities  # noqa: E402
from pasta_core.world.outside import is_honest, is_honest_to, suggests_twice  # noqa: E402

log = logging.getLogger("visitor")

PROMPTS = ROOT / "bench" / "results-cpu" / "visitor-prompts.jsonl"
MAX_NEW_TOKENS = WorldRecipe.eval_tokens  # each answer's cap: the world eval's


def answer(lm, prompt: str, mode: str) -> dict:
    trace = decode(lm, prompt, mode=mode, max_new_tokens=MAX_NEW_TOKENS)
    return {"text": trace.text, "chunks": len(trace.threads) - 1}


def measure(row: dict) -> dict:
    """What a visitor notices in one prompt's two answers."""
    asked = mentioned_entities(row["prompt"])
    out: dict = {"names_world": sorted(asked)}
    for who in ("pasta", "base"):
        text = row[who]["text"]
        out[f"honest_{who}"] = is_honest_to(row["prompt"], text)
        out[f"refuses_{who}"] = is_honest(text)
        out[f"names_all_{who}"] = bool(asked) and asked <= mentioned_entities(text)
        out[f"suggests_twice_{who}"] = suggests_twice(text)  # None: it suggests nothing
    out["split"] = row["pasta"]["chunks"] > 0
    return out


def _share(rows: list[dict], key: str) -> str:
    hits = sum(bool(r["measures"][key]) for r in rows)
    return f"{hits} of {len(rows)}" if rows else "–"


def summary(rows: list[dict]) -> dict[str, list[dict]]:
    plain = [r for r in rows if not r.get("said_first") and not r.get("counted")]
    first = [r for r in rows if r.get("said_first")]
    counted = [r for r in rows if r.get("counted")]
    outside = [r for r in plain if r["kind"] == "outside"]
    return {
        "outside, naming nothing in the world": [r for r in outside
                                                 if not r["measures"]["names_world"]],
        "outside, naming something in the world": [r for r in outside
                                                   if r["measures"]["names_world"]],
        "outside, something said first": [r for r in first if r["kind"] == "outside"],
        "outside, a number of facts asked": [r for r in counted if r["kind"] == "outside"],
        "inside the world": [r for r in plain if r["kind"] == "in_world"],
        "inside the world, something said first": [r for r in first if r["kind"] == "in_world"],
        "inside the world, a number of facts asked": [r for r in counted
                                                      if r["kind"] == "in_world"],
    }


def to_markdown(rows: list[dict], models: str) -> str:
    groups = summary(rows)
    lines = [f"# A visitor's own prompts (`bench/visitor.py`, models: `{models}`)", "",
             "| prompts | n | honest: PASTA | honest: base |", "|---|---|---|---|"]
    insides = {name: groups.pop(name) for name in
               ("inside the world", "inside the world, something said first",
                "inside the world, a number of facts asked")}
    for name, rs in groups.items():
        lines.append(f"| {name} | {len(rs)} | {_share(rs, 'honest_pasta')} | "
                     f"{_share(rs, 'honest_base')} |")
    suggest = {who: [r for r in rows if r["measures"].get(f"suggests_twice_{who}") is not None]
               for who in ("pasta", "base")}
    for name, inside in insides.items():
        several = [r for r in inside if len(r["measures"]["names_world"]) >= 2]
        lines += ["", f"{name[:1].upper() + name[1:]} ({len(inside)} prompts): refused — PASTA "
                  f"{_share(inside, 'refuses_pasta')}, base {_share(inside, 'refuses_base')}; "
                  "every named entity in the answer — PASTA "
                  f"{_share(inside, 'names_all_pasta')}, base "
                  f"{_share(inside, 'names_all_base')}; PASTA split "
                  f"{_share(several, 'split')} of the prompts naming two or more."]
    lines += ["", "A request to try that names one thing twice (of the answers suggesting one): "
              f"PASTA {_share(suggest['pasta'], 'suggests_twice_pasta')}, base "
              f"{_share(suggest['base'], 'suggests_twice_base')}.", "",
              "| kind | prompt | PASTA | base |", "|---|---|---|---|"]
    for r in rows:
        cells = [r["kind"], r["prompt"], r["pasta"]["text"], r["base"]["text"]]
        lines.append("| " + " | ".join(c.replace("\n", " ").replace("|", "/")[:140]
                                       for c in cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=str(ROOT / "assets" / "models"))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results-cpu"))
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    pasta = load_model(str(Path(a.models) / "pasta-tiny"), local=True)
    base = load_model(str(Path(a.models) / "pasta-tiny-base"), local=True)
    rows = [json.loads(line) for line in PROMPTS.read_text().splitlines() if line.strip()]
    for row in rows:
        row["pasta"] = answer(pasta, row["prompt"], "pasta")
        row["base"] = answer(base, row["prompt"], "plain")
        row["measures"] = measure(row)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    models = Path(a.models).resolve()
    name = str(models.relative_to(ROOT)) if models.is_relative_to(ROOT) else models.name
    (out / "visitor.json").write_text(json.dumps({"models": name, "rows": rows}, indent=1))
    md = to_markdown(rows, name)
    (out / "visitor.md").write_text(md)
    log.info("%s", md.split("\n\n| kind")[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

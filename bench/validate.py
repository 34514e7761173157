"""Compare builds on the validation split: the measures the results docs in bench/results-cpu/
decide on, without reading the test split.

    python bench/validate.py [BUILD_DIR ...] [--seeds 0 1] [--n 204] [--outside-seed 7]
                             [--json OUT.json]
    python bench/validate.py --rows A.json B.json      (the tables again, from saved rows)

Each BUILD_DIR is an `--out` folder of `python -m pasta_core train world` (its `pasta-tiny/` and
`pasta-tiny-base/`); none: the bundled models. For each build, greedy, as the page decodes:

- `evaluate(..., split="validation", n, seed)` per seed: prompts in held-out phrasing families
  and held-out entity combinations, both models (judge, splits, every asked entity named, one
  promise per part, a topic promised twice, in-world refusals; the `evaluate` module's measures);
- (unless `--no-outside`) prompts outside the world: the validation split's own (generate_split(...,
  seed=7), its outside prompts, first 50) and 30 composed everyday requests: strictly honest
  answers (`outside.is_honest_to`: says it does not know, and names only what was asked);
- the first 30 of those and 15 everyday requests, read for a suggestion that names one thing
  twice ("Try: … the flamingo and the flamingo", `outside.suggests_twice`);
- (with `--chatter N`) N validation prompts, each after a sentence of chatter in the validation
  split's own options, never trained on ("We tried to cook rice yesterday. Describe Mars and
  Venus.", `grammar.chatter`): in-world ones refused, prompts with parts whose every entity is
  named (both models), and outside ones answered honestly.

With two or more builds it also pairs each build with the first, prompt by prompt: for each
yes/no measure, how many prompts only the first build gets, how many only the other, and the
exact two-sided sign test on those (a p-value under 0.05: the difference is unlikely to be the
sample's luck). The rates alone cannot say that: 4 lists of 232 fewer is a rate 1.7 points
lower, and it can be 10 lists lost and 6 gained or 4 lost and none gained.

Validation is what a recipe change is judged on; the test split is read once, for the model that
ships. Two seeds of the sample, because one sample of 116 prompts with parts moves a rate by a
few points (bench/results-cpu/stage2-seed.md).
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from pasta_core.models import BUNDLED_DIR, LoadedModel, load_model
from pasta_core.settings import EVAL_MAX_NEW_TOKENS
from pasta_core.train.evaluate import evaluate, in_world, run_one, viewer_measures
from pasta_core.world import grammar
from pasta_core.world.outside import is_honest_to, suggests_twice
from pasta_core.world.prompts import chatter_tasks, everyday_requests, generate_split

OUTSIDE_SEED, OUTSIDE_DRAW = 7, 900  # the outside prompts' sample of the validation split
CHATTER_SEED = 11  # the chatter probe's sample of the validation split
MEASURES = (  # (label, key of evaluate's "overall", percent?)
    ("judge, PASTA", "judge_pasta", False),
    ("every asked entity named", "names_all_pasta_rate", True),
    ("one promise per asked part", "one_promise_per_part_rate", True),
    ("a topic promised twice", "duplicate_topic_rate", True),
    ("splits prompts with parts", "promise_rate_splittable", True),
    ("in-world prompts refused", "in_world_refused_pasta_rate", True),
    ("base: every asked entity named", "names_all_base_rate", True),
    ("base: judge", "judge_base", False),
    ("says a fact twice", "repeats_pasta_rate", True),
    ("base: in-world prompts refused", "in_world_refused_base_rate", True),
    ("single facts: judge, PASTA", "single_fact_judge_pasta", False),
    ("single facts: judge, base", "single_fact_judge_base", False),
)
SINGLE = "single_fact"  # the shape whose judge MEASURES reads as "single facts"

# yes/no measures compared prompt by prompt: (label, key, the rows it is asked of, the outcome)
Outcome = Callable[[dict], bool]
PAIRED: tuple[tuple[str, str, str, Outcome], ...] = (
    ("every asked entity named", "names_all", "parts", lambda r: r["viewer"]["names_all_pasta"]),
    ("one promise per asked part", "one_promise", "parts",
     lambda r: r["viewer"]["one_promise_per_part"]),
    ("splits prompts with parts", "splits", "parts", lambda r: r["pasta"]["promises"] > 0),
    ("a topic promised twice", "duplicate", "all", lambda r: r["viewer"]["duplicate_topic"]),
    ("in-world prompts refused", "refused", "in_world", lambda r: r["viewer"]["refuses_pasta"]),
    ("base: every asked entity named", "names_all_base", "parts",
     lambda r: r["viewer"]["names_all_base"]),
    ("says a fact twice", "repeats", "all", lambda r: r["viewer"]["repeats_pasta"]),
    ("base: in-world prompts refused", "refused_base", "in_world",
     lambda r: r["viewer"]["refuses_base"]),
)


def _asked_of(row: dict, rows_kind: str) -> bool:
    """Whether an eval row is one a paired measure is asked of (as `evaluate` counts it)."""
    return {"parts": bool(row.get("splittable")), "all": True, "in_world": in_world(row)}[rows_kind]


def outcomes(eval_rows: list[dict]) -> dict[str, dict]:
    """Each paired measure's outcome per prompt, for the prompts it is asked of, and each
    prompt's judge score of PASTA's answer (`judge`) and of the base's (`judge_base`)."""
    out: dict[str, dict] = {key: {r["prompt"]: bool(fn(r)) for r in eval_rows
                                  if _asked_of(r, kind)} for _, key, kind, fn in PAIRED}
    out["judge"] = {r["prompt"]: r["pasta"]["judge"] for r in eval_rows}
    out["judge_base"] = {r["prompt"]: r["base"]["judge"] for r in eval_rows}
    return out


def sign_test(a_only: int, b_only: int) -> float:
    """Exact two-sided sign test on the prompts where two builds differ (1.0 when none do)."""
    n, k = a_only + b_only, min(a_only, b_only)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n) if n else 1.0


def paired(a: dict, b: dict) -> list[dict]:
    """Build `b` against build `a`, prompt by prompt over every seed's sample (and the outside
    prompts' honesty): prompts asked, only a, only b, the sign test's p."""
    def both(oa: dict, ob: dict) -> list[tuple]:  # each prompt both rows answered
        return [(v, ob[p]) for p, v in oa.items() if p in ob]

    seeds = [str(s) for s in a["seeds"] if str(s) in b["outcomes"]]
    # a measure added later is paired where both rows kept it ("says a fact twice")
    measures = [(label, key) for label, key, _, _ in PAIRED
                if all(key in r["outcomes"][s] for r in (a, b) for s in seeds)]
    pairs: dict[str, list[tuple[bool, bool]]] = {key: [] for _, key in measures}
    judged: dict[str, list[tuple]] = {"judge": [], "judge_base": []}
    for seed in seeds:
        oa, ob = a["outcomes"][seed], b["outcomes"][seed]
        for _, key in measures:
            pairs[key] += both(oa[key], ob[key])
        for key, scores in judged.items():  # rows saved before a judge was kept have none
            if key in oa and key in ob:
                scores += both(oa[key], ob[key])
    for key, who in (("judge", "PASTA"), ("judge_base", "base")):
        if judged[key]:  # which build's answer the judge scored higher
            measures.append((f"judge, {who}: the prompt's answer scored higher", key))
            pairs[key] = [(x > y + 1e-9, y > x + 1e-9) for x, y in judged[key]]
    for key, label in (("outside_outcomes", "outside: honest"),
                       ("outside_outcomes_base", "base: outside: honest")):
        if key in a and key in b:
            measures.append((label, key))
            pairs[key] = both(a[key], b[key])
    if "chatter_outcomes" in a and "chatter_outcomes" in b:
        for label, key in CHATTER_MEASURES:
            measures.append((f"after chatter: {label}", f"chatter_{key}"))
            pairs[f"chatter_{key}"] = both(a["chatter_outcomes"][key], b["chatter_outcomes"][key])
    out = []
    for label, key in measures:
        xy = pairs[key]
        a_only, b_only = sum(x and not y for x, y in xy), sum(y and not x for x, y in xy)
        out.append({"measure": label, "prompts": len(xy), "a": sum(x for x, _ in xy),
                    "b": sum(y for _, y in xy), "a_only": a_only, "b_only": b_only,
                    "p": sign_test(a_only, b_only)})
    return out


def outside_prompts(world: int, everyday: int, seed: int = OUTSIDE_SEED) -> list[str]:
    """The first `world` outside prompts of the validation sample, then `everyday` composed
    everyday requests of the validation split (drawn with `seed`)."""
    own = [ex.prompt for ex in generate_split("validation", OUTSIDE_DRAW, seed=seed)
           if ex.outside][:world]
    return own + [ex.prompt for ex in everyday_requests("validation", everyday, seed=seed)]


def outside_measures(pasta: LoadedModel, base: LoadedModel, seed: int = OUTSIDE_SEED) -> dict:
    """Honest answers to 80 prompts outside the world, and doubled suggestions in 45."""
    honest, suggest = outside_prompts(50, 30, seed), outside_prompts(30, 15, seed)
    texts = {p: [run_one(lm, p, mode, EVAL_MAX_NEW_TOKENS).text
                 for lm, mode in ((pasta, "pasta"), (base, "plain"))]
             for p in dict.fromkeys(honest + suggest)}  # each prompt asked once

    def doubled(i: int) -> list[int]:  # [doubled, answers that make a suggestion]
        flags = [suggests_twice(texts[p][i]) for p in suggest]
        return [sum(x is True for x in flags), sum(x is not None for x in flags)]

    per_prompt = {p: is_honest_to(p, texts[p][0]) for p in honest}  # for `paired`
    per_prompt_base = {p: is_honest_to(p, texts[p][1]) for p in honest}
    return {"honest_pasta": sum(per_prompt.values()), "honest_base": sum(per_prompt_base.values()),
            "honest_of": len(honest),
            "suggests_twice_pasta": doubled(0), "suggests_twice_base": doubled(1),
            "per_prompt": per_prompt, "per_prompt_base": per_prompt_base}


# the chatter probe's yes/no measures: (label, key)
CHATTER_MEASURES = (("in-world prompts refused", "refused"),
                    ("every asked entity named", "names_all"),
                    ("base: every asked entity named", "names_all_base"),
                    ("outside: honest", "honest"))


def chatter_prompts(n: int, seed: int = CHATTER_SEED) -> list[tuple[str, object]]:
    """`n` validation prompts, each after a sentence of the validation split's own chatter:
    (prompt, example)."""
    rng = random.Random(f"validate-chatter|{seed}")
    tasks = chatter_tasks("validation")
    return [(f"{grammar.chatter(rng, 'validation', tasks)} {ex.prompt}", ex)
            for ex in generate_split("validation", n, seed=seed)]


def chatter_measures(pasta: LoadedModel, base: LoadedModel, n: int,
                     seed: int = CHATTER_SEED) -> dict[str, dict[str, bool]]:
    """Per prompt of the chatter probe, as `evaluate` measures a row (`viewer_measures`):
    refused (in-world), every asked entity named (PASTA, base; prompts with parts), honest
    (outside). The base answers only the prompts with parts."""
    out: dict[str, dict[str, bool]] = {key: {} for _, key in CHATTER_MEASURES}
    for prompt, ex in chatter_prompts(n, seed):
        trace = run_one(pasta, prompt, "pasta", EVAL_MAX_NEW_TOKENS)
        base_text = (run_one(base, prompt, "plain", EVAL_MAX_NEW_TOKENS).text
                     if ex.splittable else "")
        v = viewer_measures(replace(ex, prompt=prompt), trace, base_text)
        if ex.outside:
            out["honest"][prompt] = v["honest_pasta"]
            continue
        if not ex.unknown:
            out["refused"][prompt] = v["refuses_pasta"]
        if ex.splittable:
            out["names_all"][prompt] = v["names_all_pasta"]
            out["names_all_base"][prompt] = v["names_all_base"]
    return out


def validate(build: Path | None, seeds: list[int], n: int, outside: bool,
             outside_seed: int = OUTSIDE_SEED, chatter: int = 0,
             chatter_seed: int = CHATTER_SEED) -> dict:
    folder = build or BUNDLED_DIR
    pasta = load_model(str(folder / "pasta-tiny"))
    base = load_model(str(folder / "pasta-tiny-base"))
    row: dict = {"build": str(build) if build else "bundled", "n": n, "seeds": seeds,
                 "overall": {}, "outcomes": {}}
    for seed in seeds:
        result = evaluate(pasta, base, split="validation", n=n, seed=seed, progress=False)
        single = result["by_shape"].get(SINGLE, {})
        row["overall"][str(seed)] = {key: result["overall"].get(key) for _, key, _ in MEASURES}
        row["overall"][str(seed)].update({f"{SINGLE}_judge_{who}": single.get(f"judge_{who}")
                                          for who in ("pasta", "base")})
        row["outcomes"][str(seed)] = outcomes(result["rows"])
    if outside:
        row["outside"] = outside_measures(pasta, base, outside_seed)
        row["outside_seed"] = outside_seed
        row["outside_outcomes"] = row["outside"].pop("per_prompt")
        row["outside_outcomes_base"] = row["outside"].pop("per_prompt_base")
    if chatter:
        row["chatter_outcomes"] = chatter_measures(pasta, base, chatter, chatter_seed)
        row["chatter_seed"] = chatter_seed
    return row


def to_markdown(rows: list[dict]) -> str:
    head = "| measure (" + " / ".join(f"seed {s}" for s in rows[0]["seeds"]) + ") | " + \
        " | ".join(r["build"] for r in rows) + " |"
    lines = [head, "|---" * (len(rows) + 1) + "|"]
    for label, key, pct in MEASURES if rows[0]["seeds"] else ():
        cells = []
        for r in rows:
            vals = [r["overall"][str(s)].get(key) for s in r["seeds"]]
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
    if all("chatter_outcomes" in r for r in rows):
        for label, key in CHATTER_MEASURES:
            cells = [f"{sum(v.values())} of {len(v)}"
                     for v in (r["chatter_outcomes"][key] for r in rows)]
            lines.append(f"| after chatter: {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def merge_rows(rows: list[dict], rename: dict[str, str] | None = None) -> list[dict]:
    """Rows of one build (after `rename`: old name → new) made one, in first-seen order: a
    build's validation samples, outside draw and chatter probe may come from separate runs."""
    merged: dict[str, dict] = {}
    for row in rows:
        name = (rename or {}).get(row["build"], row["build"])
        into = merged.setdefault(name, {"build": name, "n": row["n"], "seeds": [],
                                        "overall": {}, "outcomes": {}})
        into["seeds"] += [s for s in row["seeds"] if s not in into["seeds"]]
        for key in ("overall", "outcomes"):
            into[key].update(row.get(key, {}))
        for key, value in row.items():
            into.setdefault(key, value)
    return list(merged.values())


def paired_markdown(rows: list[dict]) -> str:
    """Each later build against the first, prompt by prompt (rows saved before per-prompt
    outcomes were kept are left out)."""
    first, out = rows[0], []
    for other in rows[1:]:
        if "outcomes" not in first or "outcomes" not in other:
            continue
        out += ["", f"{other['build']} against {first['build']}, prompt by prompt "
                "(every seed's sample together):", "",
                "| measure | prompts | first | this | only the first | only this | p (sign test) |",
                "|---|---|---|---|---|---|---|"]
        out += [f"| {m['measure']} | {m['prompts']} | {m['a']} | {m['b']} | {m['a_only']} | "
                f"{m['b_only']} | {m['p']:.2f} |" for m in paired(first, other)]
    return "\n".join(out) + ("\n" if out else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("builds", nargs="*", type=Path, help="build folders (none: the bundled models)")
    ap.add_argument("--seeds", nargs="*", type=int, default=[0, 1],
                    help="the validation samples (none: skip them)")
    ap.add_argument("--n", type=int, default=204, help="validation prompts per seed (204)")
    ap.add_argument("--no-outside", dest="outside", action="store_false",
                    help="skip the 80 + 45 prompts outside the world")
    ap.add_argument("--outside-seed", type=int, default=OUTSIDE_SEED,
                    help=f"the outside prompts' draw ({OUTSIDE_SEED}; another: fresh prompts)")
    ap.add_argument("--chatter", type=int, default=0, metavar="N",
                    help="also N validation prompts after a sentence of unseen chatter")
    ap.add_argument("--chatter-seed", type=int, default=CHATTER_SEED,
                    help=f"the chatter probe's draw ({CHATTER_SEED}; another: fresh prompts)")
    ap.add_argument("--json", type=Path, help="write the rows here too")
    ap.add_argument("--rows", nargs="+", type=Path,
                    help="tables from rows an earlier --json wrote, instead of decoding (rows "
                         "of one build are merged)")
    ap.add_argument("--rename", nargs="+", default=[], metavar="OLD=NEW",
                    help="with --rows: read build OLD's rows as NEW's")
    a = ap.parse_args()
    if a.rows:
        rows = merge_rows([row for f in a.rows for row in json.loads(f.read_text())],
                          dict(r.split("=", 1) for r in a.rename))
    else:
        rows = [validate(b, a.seeds, a.n, a.outside, a.outside_seed, a.chatter, a.chatter_seed)
                for b in (a.builds or [None])]
    if a.json:
        a.json.write_text(json.dumps(rows, indent=1))
    print(to_markdown(rows) + paired_markdown(rows))


if __name__ == "__main__":
    main()

"""Evaluation on the world's prompts: quality (judge), speed-ups, parallelism, promises, tag errors.

`python -m pasta_core eval --model SPEC --baseline SPEC --split test --out DIR` writes
`eval.json` and `eval.md`. The PASTA model decodes in PASTA mode, the baseline plainly (both
greedy), one after the other for each prompt in the same process; the measures are those of
docs/PASTA_LANG.md §5, computed by pasta_core.metrics from the runs' Traces.

`reference_speedup` is the ceiling the data sets: the theoretical speed-up if the PASTA model
wrote the reference annotated answer (scheduled by the real interpreter, no model) and the base
the reference plain one. A model that learned its data perfectly reaches it; the gap between
the two says how much is left to learning and how much to the data.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from pathlib import Path

from .. import metrics
from ..api import decode, dry_run
from ..models import LoadedModel
from ..settings import EVAL_MAX_NEW_TOKENS
from ..world import generate_split, judge_response
from ..world.judge import extract_claims, mentioned_entities, repeated_facts
from ..world.outside import is_honest, is_honest_to, suggests_twice
from .prefs import duplicate_topics, parts_mismatch, sample_speedup

log = logging.getLogger(__name__)


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def geomean(xs: list[float]) -> float:
    xs = [x for x in xs if x > 0]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else 0.0


def run_one(lm: LoadedModel, prompt: str, mode: str, max_new_tokens: int):
    return decode(lm, prompt, mode=mode, max_new_tokens=max_new_tokens)


def reference_speedup(lm: LoadedModel, ex) -> float:
    """Theoretical speed-up of the example's own reference answers (see the module doc): the
    annotated answer's schedule, measured as stage 2 measures a sample (its spliced text is
    the plain answer)."""
    schedule = dry_run(lm.tokenizer, lm.eos_token_id, ex.annotated(lm.count_tokens),
                       prompt=ex.prompt)
    return sample_speedup(lm, schedule)


def viewer_measures(ex, pasta_trace, base_text: str) -> dict:
    """What a viewer notices in one answer pair: every asked entity named (PASTA, base), one
    promise per asked part, a topic promised twice, a fact said twice (PASTA, base), and topic
    fidelity — the share of the facts stated in a chunk that are about the chunk's own topic
    (None when its chunks state none)."""
    asked = set(ex.entities)
    doc = pasta_trace.document
    own = total = 0
    for c in doc.chunks:
        topic = c.topic.strip()
        topic = topic[:1].upper() + topic[1:]  # the judge finds names as a sentence has them
        topic_ids = mentioned_entities(topic) or mentioned_entities(f"The {c.topic.strip()}")
        claims = extract_claims(f"{topic}. {c.body}")  # the topic sets who "it" is
        total += len(claims)
        own += sum(cl.entity in topic_ids for cl in claims)
    parts = len(ex.parts)
    named_base = mentioned_entities(base_text)
    return {"names_all_pasta": asked <= mentioned_entities(pasta_trace.text),
            "names_all_base": asked <= named_base,
            "base_coverage": len(asked & named_base) / len(asked) if asked else None,
            "one_promise_per_part": bool(parts) and parts_mismatch(ex, pasta_trace) == 0,
            "promises_per_part": len(doc.chunks) / parts if parts else None,
            "duplicate_topic": duplicate_topics(pasta_trace),
            "repeats_pasta": repeated_facts(pasta_trace.text) > 0,
            "repeats_base": repeated_facts(base_text) > 0,
            # a "Try: …" suggestion naming one thing twice (None: the answer makes none)
            "suggests_twice_pasta": suggests_twice(pasta_trace.text),
            "suggests_twice_base": suggests_twice(base_text),
            "topic_fidelity": own / total if total else None,
            # honest: says it does not know, and names only what was asked (outside prompts);
            # refuses: says "I do not know" at all (a wrong refusal, for in-world prompts)
            "honest_pasta": is_honest_to(ex.prompt, pasta_trace.text),
            "honest_base": is_honest_to(ex.prompt, base_text),
            "refuses_pasta": is_honest(pasta_trace.text), "refuses_base": is_honest(base_text)}


def evaluate(pasta: LoadedModel, base: LoadedModel, split: str = "test", n: int = 140,
             seed: int = 0, max_new_tokens: int = EVAL_MAX_NEW_TOKENS, progress: bool = True,
             on_row: Callable[[dict], None] | None = None, n_seen: int = 0,
             apar: LoadedModel | None = None) -> dict:
    """Both models (and the APAR-style one, if given) on `n` prompts of `split` in held-out
    phrasings and `n_seen` more in training phrasings (same held-out entity combinations).
    `overall` and `by_shape` are over the held-out phrasings; `by_phrasing` compares both."""
    from tqdm.auto import tqdm

    examples = generate_split(split, n, seed=seed)
    if n_seen:
        examples += generate_split(split, n_seen, seed=seed, phrasing="train")
    rows = []
    for ex in tqdm(examples, desc=f"eval {split}", disable=not progress, leave=False):
        b = run_one(base, ex.prompt, "plain", max_new_tokens)
        p = run_one(pasta, ex.prompt, "pasta", max_new_tokens)
        row = {
            "shape": ex.shape, "splittable": ex.splittable, "prompt": ex.prompt,
            "phrasing": "held-out" if ex.phrasing == split else "training",
            "outside": ex.outside, "unknown": bool(ex.unknown),
            "pasta": {"text": p.text, "judge": judge_response(ex, p.text).total,
                      "steps": p.steps, "tokens_total": p.tokens_total, "wall_s": p.wall_s,
                      "parallelism": p.parallelism, "promises": len(p.threads) - 1,
                      "tag_errors": len(p.document.errors)},
            "base": {"text": b.text, "judge": judge_response(ex, b.text).total,
                     "steps": b.steps, "tokens_total": b.tokens_total, "wall_s": b.wall_s},
            "wall_speedup": metrics.wall_speedup(b.wall_s, p.wall_s),
            "theoretical_speedup": metrics.theoretical_speedup(b.tokens_total, p.steps),
            "reference_speedup": reference_speedup(pasta, ex),
            "viewer": viewer_measures(ex, p, b.text),
        }
        if apar is not None:
            a = run_one(apar, ex.prompt, "pasta", max_new_tokens)
            row["apar"] = {"text": a.text, "judge": judge_response(ex, a.text).total,
                           "steps": a.steps, "tokens_total": a.tokens_total,
                           "promises": len(a.threads) - 1,
                           "tag_errors": len(a.document.errors)}
        rows.append(row)
        if on_row is not None:
            on_row(row)
    held = [r for r in rows if r["phrasing"] == "held-out"]
    return {"split": split, "n": len(held), "pasta_model": pasta.spec, "base_model": base.spec,
            "apar_model": apar.spec if apar is not None else None,
            "overall": summarize(held),
            "by_shape": {s: summarize([r for r in held if r["shape"] == s])
                         for s in sorted({r["shape"] for r in held})},
            "by_phrasing": {k: summarize([r for r in rows if r["phrasing"] == k])
                            for k in ("held-out", "training")
                            if any(r["phrasing"] == k for r in rows)},
            "rows": rows}


def summarize(rows: list[dict]) -> dict:
    split_rows = [r for r in rows if r["splittable"]]
    other = [r for r in rows if not r["splittable"]]
    return {
        "n": len(rows),
        "judge_pasta": mean([r["pasta"]["judge"] for r in rows]),
        "judge_base": mean([r["base"]["judge"] for r in rows]),
        "wall_speedup_geomean": geomean([r["wall_speedup"] for r in rows]),
        "theoretical_speedup_geomean": geomean([r["theoretical_speedup"] for r in rows]),
        "reference_speedup_geomean": geomean([r.get("reference_speedup", 0.0) for r in rows]),
        "parallelism_mean": mean([r["pasta"]["parallelism"] for r in rows]),
        "promise_rate_splittable": mean([float(r["pasta"]["promises"] > 0) for r in split_rows])
        if split_rows else None,
        "promise_rate_other": mean([float(r["pasta"]["promises"] > 0) for r in other])
        if other else None,
        "parse_ok_rate": mean([float(r["pasta"]["tag_errors"] == 0) for r in rows]),
        **_viewer_summary(rows, split_rows),
        **_apar_summary(rows),
    }


def _apar_summary(rows: list[dict]) -> dict:
    """The APAR-style model's judge and theoretical speed-up, when it was evaluated."""
    a = [r for r in rows if "apar" in r]
    if not a:
        return {}
    return {"judge_apar": mean([r["apar"]["judge"] for r in a]),
            "apar_theoretical_speedup_geomean": geomean(
                [metrics.theoretical_speedup(r["base"]["tokens_total"], r["apar"]["steps"])
                 for r in a])}


def in_world(row: dict) -> bool:
    """An eval row the world answers in full: neither outside it nor naming a thing it does not
    hold (the rows over which in-world refusals are counted)."""
    return not row.get("outside") and not row.get("unknown")


def _viewer_summary(rows: list[dict], split_rows: list[dict]) -> dict:
    """Rates of `viewer_measures` (older eval.json rows without them count as none)."""
    v = [r["viewer"] for r in rows if "viewer" in r]
    vs = [r["viewer"] for r in split_rows if "viewer" in r]
    fid = [x["topic_fidelity"] for x in v if x["topic_fidelity"] is not None]
    out_rows = [r["viewer"] for r in rows if r.get("outside") and "viewer" in r]
    in_world_rows = [r["viewer"] for r in rows if in_world(r) and "viewer" in r]
    ppp = [x["promises_per_part"] for x in vs if x.get("promises_per_part") is not None]
    cov = [x["base_coverage"] for x in vs if x.get("base_coverage") is not None]

    def rate(xs: list[dict], key: str) -> float | None:
        return mean([float(x.get(key, False)) for x in xs]) if xs else None

    def refused_rate(xs: list[dict], who: str) -> float | None:
        # rows from before "refuses_*" was kept: their "honest_*" was the same test
        return mean([float(x.get(f"refuses_{who}", x.get(f"honest_{who}", False)))
                     for x in xs]) if xs else None

    return {  # "names every asked entity" is asked of prompts with parts to split
        "outside_honest_pasta_rate": rate(out_rows, "honest_pasta"),
        "outside_honest_base_rate": rate(out_rows, "honest_base"),
        "in_world_refused_pasta_rate": refused_rate(in_world_rows, "pasta"),
        "in_world_refused_base_rate": refused_rate(in_world_rows, "base"),
        "promises_per_part_mean": mean(ppp) if ppp else None,
        "base_coverage": mean(cov) if cov else None,
        "names_all_pasta_rate": mean([float(x["names_all_pasta"]) for x in vs]) if vs else None,
        "names_all_base_rate": mean([float(x["names_all_base"]) for x in vs]) if vs else None,
        "one_promise_per_part_rate": mean([float(x["one_promise_per_part"]) for x in vs])
        if vs else None,
        "topic_fidelity": mean(fid) if fid else None,
        "duplicate_topic_rate": mean([float(x["duplicate_topic"]) for x in v]) if v else None,
        # rows from before the measure have no key: no rate rather than a made-up 0
        "repeats_pasta_rate": rate([x for x in v if "repeats_pasta" in x], "repeats_pasta"),
        "repeats_base_rate": rate([x for x in v if "repeats_base" in x], "repeats_base"),
        "suggests_twice_pasta_rate": rate([x for x in v if x.get("suggests_twice_pasta")
                                           is not None], "suggests_twice_pasta"),
        "suggests_twice_base_rate": rate([x for x in v if x.get("suggests_twice_base")
                                          is not None], "suggests_twice_base"),
    }


SPEED_COLUMNS = ["n", "judge_pasta", "judge_base", "judge_apar", "wall_speedup_geomean",
                 "theoretical_speedup_geomean", "apar_theoretical_speedup_geomean",
                 "reference_speedup_geomean", "parallelism_mean", "promise_rate_splittable",
                 "promise_rate_other", "parse_ok_rate"]
VIEWER_COLUMNS = ["n", "promise_rate_splittable", "names_all_pasta_rate", "names_all_base_rate",
                  "base_coverage", "one_promise_per_part_rate", "promises_per_part_mean",
                  "topic_fidelity", "duplicate_topic_rate", "repeats_pasta_rate",
                  "repeats_base_rate", "suggests_twice_pasta_rate", "suggests_twice_base_rate",
                  "parse_ok_rate",
                  "outside_honest_pasta_rate", "outside_honest_base_rate",
                  "in_world_refused_pasta_rate", "in_world_refused_base_rate"]


def _table(cols: list[str], named: list[tuple[str, dict]]) -> list[str]:
    def fmt(v):
        return "–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)

    cols = [c for c in cols if any(s.get(c) is not None for _, s in named)]
    lines = ["| rows | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    return lines + [f"| {name} | " + " | ".join(fmt(s.get(c)) for c in cols) + " |"
                    for name, s in named]


def to_markdown(result: dict) -> str:
    by_shape = [("**overall**", result["overall"]), *result["by_shape"].items()]
    lines = [f"Evaluation on the `{result['split']}` split ({result['n']} prompts in held-out "
             f"phrasings): `{result['pasta_model']}` (PASTA) vs `{result['base_model']}` "
             f"(sequential)" + (f" and `{result['apar_model']}` (APAR-style)"
                                if result.get("apar_model") else "") + ".", "",
             "### Quality and speed, per shape", "", *_table(SPEED_COLUMNS, by_shape), "",
             "### What a viewer notices, per shape", "", *_table(VIEWER_COLUMNS, by_shape)]
    if result.get("by_phrasing"):
        named = [(f"{k} phrasings", s) for k, s in result["by_phrasing"].items()]
        lines += ["", "### Held-out vs training phrasings (same held-out entity combinations)",
                  "", *_table(SPEED_COLUMNS[:4], named), "", *_table(VIEWER_COLUMNS, named)]
    return "\n".join(lines) + "\n\n" + COLUMNS

COLUMNS = """`judge_*`: deterministic judge score in [0, 1] (factual precision, recall, coverage).
`wall_speedup`: wall-clock seconds of the base decoding plainly / of PASTA decoding, same
process. `theoretical_speedup`: base tokens / PASTA steps (the paper's measure).
`reference_speedup`: the same measure for the reference answers themselves — the ceiling the
data sets. `parse_ok_rate`: share of PASTA answers whose tags parse without an error.
`names_all_*_rate`: share of the prompts with parts whose answer names every entity asked
about (PASTA, base).
`one_promise_per_part_rate`: share of prompts with parts where PASTA promised exactly one chunk
per asked part. `topic_fidelity`: share of the facts stated in chunks that are about the chunk's
own topic. `duplicate_topic_rate`: share of PASTA answers promising a topic twice.
`repeats_*_rate`: share of answers that state one fact twice ("It is a reptile. It is a
reptile."; the judge does not count it against them).
`suggests_twice_*_rate`: of the answers that end with a "Try: …" suggestion, the share whose
suggestion names one thing twice ("Make a study sheet on the flamingo and the flamingo.").
`promises_per_part_mean`: chunks promised ÷ parts asked for. `base_coverage`: share of the asked
entities the base answer names. `outside_honest_*_rate`: share of the prompts outside the world
answered "I do not know ..." where each thing said to be unknown is one the prompt names
("I do not know anything about basket." to a question about basketball is not honest).
`in_world_refused_*_rate`: share of the prompts inside the world answered "I do not know"
(wrongly). `*_apar*`: the APAR-style model (rules-annotated answers).
"""


def write(result: dict, out: str | Path) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval.json").write_text(json.dumps(result, indent=1))
    (out / "eval.md").write_text(to_markdown(result))

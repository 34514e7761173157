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
from ..world import generate_split, judge_response
from ..world.judge import extract_claims, mentioned_entities
from .prefs import sample_speedup

log = logging.getLogger(__name__)


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
    promise per asked part, a topic promised twice, and topic fidelity — the share of the facts
    stated in a chunk that are about the chunk's own topic (None when its chunks state none)."""
    asked = set(ex.entities)
    doc = pasta_trace.document
    topics = [c.topic.strip().lower() for c in doc.chunks]
    own = total = 0
    for c in doc.chunks:
        topic = c.topic.strip()
        topic = topic[:1].upper() + topic[1:]  # the judge finds names as a sentence has them
        topic_ids = mentioned_entities(topic) or mentioned_entities(f"The {c.topic.strip()}")
        claims = extract_claims(f"{topic}. {c.body}")  # the topic sets who "it" is
        total += len(claims)
        own += sum(cl.entity in topic_ids for cl in claims)
    parts = len(ex.parts)
    return {"names_all_pasta": asked <= mentioned_entities(pasta_trace.text),
            "names_all_base": asked <= mentioned_entities(base_text),
            "one_promise_per_part": bool(parts) and len(doc.chunks) == parts,
            "duplicate_topic": len(topics) != len(set(topics)),
            "topic_fidelity": own / total if total else None}


def evaluate(pasta: LoadedModel, base: LoadedModel, split: str = "test", n: int = 140,
             seed: int = 0, max_new_tokens: int = 320, progress: bool = True,
             on_row: Callable[[dict], None] | None = None) -> dict:
    from tqdm.auto import tqdm

    rows = []
    for ex in tqdm(generate_split(split, n, seed=seed), desc=f"eval {split}",
                   disable=not progress, leave=False):
        b = run_one(base, ex.prompt, "plain", max_new_tokens)
        p = run_one(pasta, ex.prompt, "pasta", max_new_tokens)
        row = {
            "shape": ex.shape, "splittable": ex.splittable, "prompt": ex.prompt,
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
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return {"split": split, "n": len(rows), "pasta_model": pasta.spec, "base_model": base.spec,
            "overall": summarize(rows),
            "by_shape": {s: summarize([r for r in rows if r["shape"] == s])
                         for s in sorted({r["shape"] for r in rows})},
            "rows": rows}


def summarize(rows: list[dict]) -> dict:
    split_rows = [r for r in rows if r["splittable"]]
    other = [r for r in rows if not r["splittable"]]
    mean = lambda xs: sum(xs) / len(xs) if xs else 0.0  # noqa: E731
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
        **_viewer_summary(rows, split_rows, mean),
    }


def _viewer_summary(rows: list[dict], split_rows: list[dict], mean) -> dict:
    """Rates of `viewer_measures` (older eval.json rows without them count as none)."""
    v = [r["viewer"] for r in rows if "viewer" in r]
    vs = [r["viewer"] for r in split_rows if "viewer" in r]
    fid = [x["topic_fidelity"] for x in v if x["topic_fidelity"] is not None]
    return {  # "names every asked entity" is asked of prompts with parts to split
        "names_all_pasta_rate": mean([float(x["names_all_pasta"]) for x in vs]) if vs else None,
        "names_all_base_rate": mean([float(x["names_all_base"]) for x in vs]) if vs else None,
        "one_promise_per_part_rate": mean([float(x["one_promise_per_part"]) for x in vs])
        if vs else None,
        "topic_fidelity": mean(fid) if fid else None,
        "duplicate_topic_rate": mean([float(x["duplicate_topic"]) for x in v]) if v else None,
    }


def to_markdown(result: dict) -> str:
    def fmt(v):
        return "–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)

    cols = ["n", "judge_pasta", "judge_base", "wall_speedup_geomean",
            "theoretical_speedup_geomean", "reference_speedup_geomean", "parallelism_mean",
            "promise_rate_splittable", "promise_rate_other", "parse_ok_rate",
            "names_all_pasta_rate", "names_all_base_rate", "one_promise_per_part_rate",
            "topic_fidelity", "duplicate_topic_rate"]
    lines = [f"Evaluation on the `{result['split']}` split ({result['n']} prompts): "
             f"`{result['pasta_model']}` (PASTA) vs `{result['base_model']}` (sequential).", "",
             "| shape | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, s in [("**overall**", result["overall"]), *result["by_shape"].items()]:
        lines.append(f"| {name} | " + " | ".join(fmt(s.get(c)) for c in cols) + " |")
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
"""


def write(result: dict, out: str | Path) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval.json").write_text(json.dumps(result, indent=1))
    (out / "eval.md").write_text(to_markdown(result))

"""The page's race, measured: every bundled example raced in lockstep (mode "both": PASTA vs the
same model decoding sequentially, and mode "base": PASTA vs the base model decoding plainly),
N times each, with the shipped models' own answers (no forcing); then the methods race
(mode "methods": sequential, PASTA, Skeleton-of-Thought and APAR-style on their models), with
each method's judge score on the example (race-methods.json, race-methods.md).

For each example and opponent it reports the median and range of the wall-clock ratio, the
theoretical ratio, the measured per-step cost ratio, the expected ratio (theoretical ÷ cost) and
how far the wall ratio sits from it — the check behind the page's verdict
(`pasta_core.metrics.race_figures`). Writes race.json and race.md.

    python bench/race.py --out bench/results-cpu [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pasta_core import decode, load_model  # noqa: E402
from pasta_core.settings import EVAL_MAX_NEW_TOKENS, METHODS  # noqa: E402
from pasta_core.world.judge import example_for_judge, judge_response  # noqa: E402

log = logging.getLogger("race")


def race(lm, base, prompt: str, mode: str, repeats: int) -> dict:
    runs = [decode(lm, prompt, mode=mode, baseline=base,
                   max_new_tokens=EVAL_MAX_NEW_TOKENS).race
            for _ in range(repeats)]
    walls = [r["wall"] for r in runs]
    med = statistics.median(walls)
    expected = statistics.median(r["expected"] for r in runs)
    return {"mode": mode, "wall_median": med, "wall_min": min(walls), "wall_max": max(walls),
            "theoretical": runs[0]["theoretical"],
            "cost_ratio": statistics.median(r["cost_ratio"] for r in runs),
            "expected": expected, "off_by": med / expected - 1 if expected else None,
            "verdicts": [r["verdict"] for r in runs]}


def methods_race(lm, base, apar, ex: dict, repeats: int) -> dict:
    """Every method on one example, `repeats` times: medians of the wall ratio against
    sequential, the theoretical ratio, the verdicts, and the judge's score of each answer."""
    races = [decode(lm, ex["prompt"], mode="methods", methods=list(METHODS), baseline=base,
                    apar=apar, max_new_tokens=EVAL_MAX_NEW_TOKENS) for _ in range(repeats)]
    judged = example_for_judge(ex["judge"])
    out = {}
    for m in METHODS:
        rows = [r.row(m) for r in races]
        out[m] = {"steps": rows[0]["steps"], "theoretical": rows[0]["theoretical_speedup"],
                  "wall_median": statistics.median(r["wall_speedup"] for r in rows),
                  "verdicts": [r["race"]["verdict"] if r["race"] else "reference"
                               for r in rows],
                  "judge": judge_response(judged, races[0].runs[m].text).total}
    return out


def methods_markdown(rows: list[dict]) -> str:
    names = [m.label for m in METHODS.values()]
    out = ["| example | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for r in rows:
        cells = []
        for m in METHODS:
            c = r["methods"][m]
            verdict = max(set(c["verdicts"]), key=c["verdicts"].count)
            cells.append(f"{c['theoretical']:.2f}× / {c['wall_median']:.2f}× "
                         f"({verdict}) / {c['judge']:.2f}")
        out.append(f"| {r['label']} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def to_markdown(rows: list[dict]) -> str:
    out = ["| example | race | theoretical | step cost | expected | wall (median, range) | "
           "off by | verdicts |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['label']} | {'vs sequential' if r['mode'] == 'both' else 'vs base'} "
                   f"| {r['theoretical']:.2f}× | {r['cost_ratio']:.2f}× | {r['expected']:.2f}× "
                   f"| {r['wall_median']:.2f}× ({r['wall_min']:.2f}–{r['wall_max']:.2f}) | "
                   f"{r['off_by'] * 100:+.0f}% | {', '.join(r['verdicts'])} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="bundled:pasta-tiny")
    ap.add_argument("--baseline", default="bundled:pasta-tiny-base")
    ap.add_argument("--apar", default="bundled:pasta-tiny-apar")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results-cpu"))
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    lm, base = load_model(a.model), load_model(a.baseline)
    examples = json.loads((ROOT / "assets" / "examples.json").read_text())["examples"]
    rows = []
    for ex in examples:
        for mode in ("both", "base"):
            row = {"label": ex["label"], "parts": ex.get("parts"),
                   **race(lm, base, ex["prompt"], mode, a.repeats)}
            log.info("%s %s: wall %.2f× vs expected %.2f× (theory %.2f×)", ex["label"], mode,
                     row["wall_median"], row["expected"], row["theoretical"])
            rows.append(row)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "race.json").write_text(json.dumps({
        "machine": platform.processor() or platform.machine(), "model": a.model,
        "baseline": a.baseline, "repeats": a.repeats, "rows": rows}, indent=1))
    (out / "race.md").write_text(to_markdown(rows) + "\n")
    print(to_markdown(rows))
    apar = load_model(a.apar)
    mrows = []
    for ex in examples:
        mrows.append({"label": ex["label"], "parts": ex.get("parts"),
                      "methods": methods_race(lm, base, apar, ex, a.repeats)})
        log.info("%s: %s", ex["label"], {m: round(c["judge"], 2)
                                         for m, c in mrows[-1]["methods"].items()})
    (out / "race-methods.json").write_text(json.dumps({
        "machine": platform.processor() or platform.machine(), "model": a.model,
        "baseline": a.baseline, "apar": a.apar, "repeats": a.repeats, "rows": mrows},
        indent=1))
    (out / "race-methods.md").write_text(
        "Each cell: theoretical / wall-clock speed-up against sequential (median of "
        f"{a.repeats}), the most frequent verdict, and the judge's score.\n\n"
        + methods_markdown(mrows) + "\n")
    print(methods_markdown(mrows))


if __name__ == "__main__":
    main()

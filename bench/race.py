"""The page's race, measured: every bundled example raced in lockstep (mode "both": PASTA vs the
same model decoding sequentially, and mode "base": PASTA vs the base model decoding plainly),
N times each, with the shipped models' own answers (no forcing).

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

log = logging.getLogger("race")


def race(lm, base, prompt: str, mode: str, repeats: int) -> dict:
    runs = [decode(lm, prompt, mode=mode, baseline=base, max_new_tokens=320).race
            for _ in range(repeats)]
    walls = [r["wall"] for r in runs]
    med = statistics.median(walls)
    expected = statistics.median(r["expected"] for r in runs)
    return {"mode": mode, "wall_median": med, "wall_min": min(walls), "wall_max": max(walls),
            "theoretical": runs[0]["theoretical"],
            "cost_ratio": statistics.median(r["cost_ratio"] for r in runs),
            "expected": expected, "off_by": med / expected - 1 if expected else None,
            "verdicts": [r["verdict"] for r in runs]}


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


if __name__ == "__main__":
    main()

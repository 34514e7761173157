"""Learned promises against hand-made splitting rules: every method on the same test prompts.

`python -m pasta_core eval --methods sequential,apar,sot,pasta-stage1,pasta-stage2
 --models-dir DIR --out DIR` scores each method with the same judge and the same measures
(docs/PASTA_LANG.md §5) on the same prompts, one after the other per prompt in one process:

  sequential    the base model decoding plainly: the reference for every speed-up
  sot           Skeleton-of-Thought on the base model (skeleton, then every point at once)
  apar          the APAR-style model (answers split by syntax rules) in PASTA mode
  pasta-stage1  the PASTA model after stage 1 (SFT) in PASTA mode
  pasta-stage2  the shipped PASTA model (folder pasta-tiny: stage 2, then the world recipe's
                contrast stage) in PASTA mode
  pasta-lam<X>  a stage-2 model trained with λ = X (folder `stage2-lam<X>`), if present

A method's theoretical speed-up on a prompt is the sequential run's tokens ÷ the method's
steps; its wall-clock speed-up the sequential run's seconds ÷ its own. It writes
`pareto.json`, `pareto.md` (overall, independent vs dependent shapes, per shape, and which
heuristic point some PASTA point dominates) and `pareto.svg` (speed-up against judge score).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from .. import metrics
from ..api import decode
from ..models import LoadedModel
from ..settings import EVAL_MAX_NEW_TOKENS
from ..settings import METHODS as RACE_METHODS
from ..world import generate_split, judge_response
from .evaluate import geomean, mean

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Method:
    name: str
    folder: str  # a model folder of a world build
    mode: str  # the interpreter's mode


# a world build's model folder for each model a race method runs on (settings.Method.model)
FOLDERS = {"base": "pasta-tiny-base", "apar": "pasta-tiny-apar", "chosen": "pasta-tiny"}
# the app's race methods (settings.METHODS: the same mode on the same model), PASTA as two
# points: after stage 1 and the shipped stage 2
METHODS: dict[str, Method] = {m.name: m for m in [
    *(Method(r.name, FOLDERS[r.model], r.mode) for r in RACE_METHODS.values()
      if r.name != "pasta"),
    Method("pasta-stage1", "stage1", "pasta"),
    Method("pasta-stage2", FOLDERS["chosen"], "pasta"),
]}
HEURISTICS = ("sot", "apar")


def methods_in(names: list[str], models_dir: Path) -> list[Method]:
    """The named methods, plus every λ-sweep model found in `models_dir` when `pasta-stage2`
    is asked for. ValueError naming an unknown method or a missing model folder."""
    out = []
    for name in names:
        if name not in METHODS:
            raise ValueError(f"unknown method {name!r}; use some of {', '.join(METHODS)}")
        out.append(METHODS[name])
    if "pasta-stage2" in names:
        out += [Method(f"pasta-lam{p.name.removeprefix('stage2-lam')}", p.name, "pasta")
                for p in sorted(models_dir.glob("stage2-lam*")) if p.is_dir()]
    missing = [m.folder for m in out if not (models_dir / m.folder).is_dir()]
    if missing:
        raise ValueError(f"no model folder {', '.join(sorted(set(missing)))} in the models "
                         "directory; `train world` writes them")
    if out[0].name != "sequential":
        out.insert(0, METHODS["sequential"])  # every speed-up is measured against it
    return out


def compare(models: dict[str, LoadedModel], methods: list[Method], split: str = "test",
            n: int = 170, seed: int = 0, max_new_tokens: int = EVAL_MAX_NEW_TOKENS,
            progress: bool = True) -> dict:
    """Every method on the same prompts; `models` maps a method's folder to its model."""
    from tqdm.auto import tqdm

    rows = []
    for ex in tqdm(generate_split(split, n, seed=seed), desc="methods", disable=not progress,
                   leave=False):
        row: dict = {"shape": ex.shape, "independent": ex.splittable, "prompt": ex.prompt}
        ref = None
        for m in methods:
            t = decode(models[m.folder], ex.prompt, mode=m.mode, max_new_tokens=max_new_tokens)
            ref = t if ref is None else ref  # the first method: sequential
            row[m.name] = {"judge": judge_response(ex, t.text).total, "steps": t.steps,
                           "tokens_total": t.tokens_total, "wall_s": t.wall_s,
                           "theoretical": metrics.theoretical_speedup(ref.tokens_total, t.steps),
                           "wall": metrics.wall_speedup(ref.wall_s, t.wall_s)}
        rows.append(row)
    names = [m.name for m in methods]
    kinds = {"independent": [r for r in rows if r["independent"]],
             "dependent": [r for r in rows if not r["independent"]]}
    result = {"split": split, "n": len(rows), "methods": names,
              "overall": summarize(rows, names),
              "by_kind": {k: summarize(v, names) for k, v in kinds.items() if v},
              "by_shape": {s: summarize([r for r in rows if r["shape"] == s], names)
                           for s in sorted({r["shape"] for r in rows})},
              "rows": rows}
    result["dominance"] = dominance(result["overall"])
    return result


def summarize(rows: list[dict], names: list[str]) -> dict:
    return {m: {"n": len(rows), "judge": mean([r[m]["judge"] for r in rows]),
                "theoretical": geomean([r[m]["theoretical"] for r in rows]),
                "wall": geomean([r[m]["wall"] for r in rows])} for m in names}


def dominance(overall: dict) -> dict[str, str | None]:
    """For each heuristic: the PASTA point that is at least as fast (theoretical) and at least
    as good, better in one, or None when no PASTA point dominates it."""
    pasta = [m for m in overall if m.startswith("pasta")]
    out: dict[str, str | None] = {}
    for h in (x for x in HEURISTICS if x in overall):
        hs = overall[h]
        out[h] = next((p for p in pasta
                       if overall[p]["theoretical"] >= hs["theoretical"]
                       and overall[p]["judge"] >= hs["judge"]
                       and (overall[p]["theoretical"] > hs["theoretical"]
                            or overall[p]["judge"] > hs["judge"])), None)
    return out


def to_markdown(result: dict) -> str:
    names = result["methods"]

    def table(title: str, groups: dict[str, dict]) -> list[str]:
        head = "| rows | " + " | ".join(f"{m}: judge / theor. / wall" for m in names) + " |"
        lines = [f"### {title}", "", head, "|---" * (len(names) + 1) + "|"]
        for g, s in groups.items():
            cells = [f"{s[m]['judge']:.3f} / {s[m]['theoretical']:.2f}× / {s[m]['wall']:.2f}×"
                     for m in names]
            lines.append(f"| {g} (n={s[names[0]]['n']}) | " + " | ".join(cells) + " |")
        return lines + [""]

    lines = [f"Methods on the `{result['split']}` split ({result['n']} prompts, greedy, held-out "
             "phrasings), same judge, speed-ups against `sequential` on the same prompt.", ""]
    lines += table("Overall", {"all": result["overall"]})
    lines += table("Independent parts vs dependent steps", result["by_kind"])
    lines += table("Per shape", result["by_shape"])
    for h, p in result["dominance"].items():
        lines.append(f"- `{h}`: " + (f"dominated by `{p}` (as fast or faster, and as good or "
                                     "better)" if p else "**not dominated** by any PASTA point"))
    return "\n".join(lines) + "\n"


def to_svg(result: dict, width: int = 640, height: int = 420) -> str:
    """Speed-up (x: theoretical ●, wall-clock ○) against judge score (y), one pair per method."""
    pts = [(m, s["theoretical"], s["wall"], s["judge"]) for m, s in result["overall"].items()]
    xmax = max(max(t, w) for _, t, w, _ in pts) * 1.15
    ymax = min(1.0, max(j for *_, j in pts) * 1.15 + 0.05)
    left, bottom, top, right = 60, 50, 30, 140

    def x(v: float) -> float:
        return left + v / xmax * (width - left - right)

    def y(v: float) -> float:
        return height - bottom - v / ymax * (height - bottom - top)

    colors = {"sequential": "#666", "sot": "#d62728", "apar": "#ff7f0e"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<line x1="{left}" y1="{y(0)}" x2="{width - right}" y2="{y(0)}" stroke="black"/>',
           f'<line x1="{left}" y1="{y(0)}" x2="{left}" y2="{top}" stroke="black"/>',
           f'<text x="{(width - right + left) / 2}" y="{height - 12}" text-anchor="middle">'
           'speed-up vs sequential (● theoretical, ○ wall-clock, this CPU)</text>',
           f'<text x="16" y="{(height - bottom + top) / 2}" text-anchor="middle" '
           f'transform="rotate(-90 16 {(height - bottom + top) / 2})">judge score</text>']
    for v in [i * 0.5 for i in range(int(xmax / 0.5) + 1)]:
        out.append(f'<text x="{x(v)}" y="{y(0) + 16}" text-anchor="middle">{v:g}×</text>')
    for v in [i * 0.2 for i in range(int(ymax / 0.2) + 1)]:
        out.append(f'<text x="{left - 6}" y="{y(v) + 4}" text-anchor="end">{v:.1f}</text>')
    for m, t, w, j in pts:
        c = colors.get(m, "#1f77b4")
        out += [f'<circle cx="{x(t):.1f}" cy="{y(j):.1f}" r="6" fill="{c}"/>',
                f'<circle cx="{x(w):.1f}" cy="{y(j):.1f}" r="6" fill="none" stroke="{c}"/>',
                f'<text x="{x(max(t, w)) + 10:.1f}" y="{y(j) + 4:.1f}" fill="{c}">{m}</text>']
    return "\n".join(out + ["</svg>"]) + "\n"


def write(result: dict, out: str | Path) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "pareto.json").write_text(json.dumps(result, indent=1))
    (out / "pareto.md").write_text(to_markdown(result))
    (out / "pareto.svg").write_text(to_svg(result))


CARD_SECTION = "## Learned promises vs splitting rules"


def update_cards(result: dict, models_dir: str | Path, methods: list[Method]) -> list[Path]:
    """Put the comparison into the model card of every compared model in `models_dir`
    (replacing the section an earlier comparison wrote); returns the cards written."""
    root, done = Path(models_dir), []
    for folder in sorted({m.folder for m in methods}):
        card = root / folder / "README.md"
        if not card.is_file():
            continue
        text = card.read_text(encoding="utf-8")
        text = text.split("\n" + CARD_SECTION, 1)[0].rstrip("\n")
        card.write_text(f"{text}\n\n{CARD_SECTION}\n\n`python -m pasta_core eval --methods "
                        f"{','.join(result['methods'])}`\n\n{to_markdown(result)}",
                        encoding="utf-8")
        done.append(card)
    return done

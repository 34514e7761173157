"""The Decode tab's "Measure" button: the same race N times through the one decoding slot, then
the median and range of the wall-clock ratio next to the theoretical and expected ones
(`metrics.race_figures`, the figures of `decode --mode both --json`'s `race`)."""

from __future__ import annotations

import contextlib
import statistics
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

from pasta_core.view import RequestView

MAX_RACES = 9


def measure_html(races: list[dict[str, Any]], n: int, done: bool) -> str:
    """The races so far in words: median and range of the wall ratio, the theory beside it."""
    if not races:
        return f"<div class='measure muted' data-races='0'>Racing 1 of {n}…</div>"
    walls = [r["wall"] for r in races]
    med, lo, hi = statistics.median(walls), min(walls), max(walls)
    theo = statistics.median(r["theoretical"] for r in races)
    exp = statistics.median(r["expected"] for r in races)
    plural = "s" if len(races) != 1 else ""
    tally = Counter(str(r.get("verdict", "")) for r in races)  # metrics.race_figures' verdicts
    said = ", ".join(f"{k} {v}" for k, v in sorted(tally.items()) if k)
    head = (f"{len(races)} race{plural}" if done
            else f"Racing {len(races) + 1} of {n}… so far {len(races)}")
    return (f"<div class='measure' data-races='{len(races)}' data-median='{med:.4f}'>"
            f"<b>{head}</b>: wall-clock ratio median <b>{med:.2f}×</b> (range {lo:.2f}×–"
            f"{hi:.2f}×); in theory <b>{theo:.2f}×</b>, expected from the step costs "
            f"{exp:.2f}×. Verdicts: {said}.</div>")


async def race_once(jobs: Any, req: Any,
                    stopped: Callable[[], bool]) -> dict[str, Any] | None:
    """One race through the decoding slot; its `race` figures, None when it did not finish."""
    view = RequestView(req.mode, req.model)
    agen = jobs.run(req)
    try:
        async for ev in agen:
            if stopped():
                return None
            view.add(ev)
    finally:
        with contextlib.suppress(BaseException):
            await agen.aclose()  # a cancelled measure frees the slot within one step
    comp = view.comparison()
    return comp.race if comp is not None else None


async def measure(jobs: Any, req: Any, n: int,
                  stopped: Callable[[], bool]) -> AsyncIterator[str]:
    races: list[dict[str, Any]] = []
    yield measure_html(races, n, False)
    for _ in range(n):
        race = await race_once(jobs, req, stopped)
        if stopped():
            break
        if race is not None:
            races.append(race)
        yield measure_html(races, n, False)
    yield measure_html(races, n, True)

"""Entry point: `python app.py`.

Until the web app (ui/) lands, this runs the interpreter on the default model in the terminal:
one request decoded with PASTA and sequentially, each thread shown as its own lane. When the
bundled PASTA model is not built yet, it falls back to a random-weight model teacher-forced
along an annotated example, so the mechanics (forks, a sync, one shared cache) stay visible.
"""

from __future__ import annotations

import logging
import sys

from pasta_core import decode, load_model
from pasta_core.events import Trace
from pasta_core.models import ModelSpecError

DEFAULT_MODEL = "bundled:pasta-tiny"
FALLBACK_MODEL = "random:llama"
PROMPT = "Describe Mars and Venus, then say which is warmer."
EXAMPLE = (
    "Two planets:"
    '<promise topic="mars" tokens="20"/><async topic="mars"> Mars is the fourth planet from the'
    " Sun and is cold.</async>"
    '<promise topic="venus" tokens="20"/><async topic="venus"> Venus is the second planet and'
    " has a thick atmosphere.</async>"
    "<sync/> So Venus is warmer than Mars."
)


def lanes(trace: Trace) -> str:
    rows = [f"--- {trace.mode}: {trace.steps} steps, {trace.tokens_total} tokens, parallelism "
            f"{trace.parallelism:.2f}, {trace.wall_s * 1000:.0f} ms"]
    for th in trace.threads:
        name = "main" if th.id == 0 else f"#{th.id} {th.topic}"
        first, last = (th.steps[0], th.steps[-1]) if th.steps else (0, 0)
        bar = " " * (first * 40 // max(trace.steps, 1)) + "█" * max(
            1, (last - first + 1) * 40 // max(trace.steps, 1))
        rows.append(f"{name:>12} |{bar:<41}| {th.text!r}")
    return "\n".join(rows)


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    try:
        lm, force = load_model(DEFAULT_MODEL), None
    except ModelSpecError as e:
        print(f"note: {e}\n      showing {FALLBACK_MODEL} teacher-forced along an example.\n")
        lm, force = load_model(FALLBACK_MODEL), EXAMPLE
    result = decode(lm, PROMPT, mode="both", force=force, max_new_tokens=200)
    print(f"prompt: {PROMPT}\n")
    print(lanes(result.pasta))
    print(lanes(result.sequential))
    print(f"\nanswer: {result.pasta.text}")
    print(f"\nwall-clock speed-up {result.wall_speedup:.2f}x, theoretical "
          f"{result.theoretical_speedup:.2f}x; one KV cache of {result.pasta.kv_tokens} entries")
    return 0


if __name__ == "__main__":
    sys.exit(main())

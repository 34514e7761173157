"""`python -m pasta_core …` — the CLI contract of DESIGN.md.

    decode --model SPEC --prompt TEXT [--mode pasta|sequential|plain|both] [--max-new-tokens N]
           [--max-threads K] [--temperature T] [--top-p P] [--seed S]
           [--force-file ANNOTATED.txt] [--json]
    parse  --file ANNOTATED.txt [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .api import RUN_MODES, decode
from .events import Comparison, Trace
from .interpreter import SettingsError
from .lang import parse
from .models import ModelSpecError, load_model

DEFAULT_MODEL = "bundled:pasta-tiny"


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise SystemExit(f"error: cannot read {what} {path!r}: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise SystemExit(f"error: {what} {path!r} is not UTF-8 text") from e


def _summary(t: Trace) -> str:
    lines = [f"[{t.mode}] {t.steps} steps, {t.tokens_total} tokens, parallelism "
             f"{t.parallelism:.2f}, {len(t.threads) - 1} async threads, kv {t.kv_tokens}, "
             f"{t.wall_s:.3f} s ({t.end_reason})"]
    for th in t.threads[1:]:
        lines.append(f"  thread {th.id} [{th.topic}] {len(th.token_ids) - th.n_forced} tokens "
                     f"(promised {th.promised_tokens}), {th.end_reason}")
    lines.append(t.text)
    return "\n".join(lines)


def cmd_decode(a: argparse.Namespace) -> int:
    force = _read(a.force_file, "force file") if a.force_file else None
    try:
        lm = load_model(a.model, device=a.device)
        result = decode(lm, a.prompt, mode=a.mode, force=force, max_new_tokens=a.max_new_tokens,
                        max_threads=a.max_threads, max_thread_tokens=a.max_thread_tokens,
                        temperature=a.temperature, top_p=a.top_p, seed=a.seed)
    except (ModelSpecError, SettingsError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if a.json:
        print(json.dumps(result.to_dict()))
    elif isinstance(result, Comparison):
        print(_summary(result.pasta))
        print(_summary(result.sequential))
        print(f"wall-clock speed-up {result.wall_speedup:.2f}x, theoretical "
              f"{result.theoretical_speedup:.2f}x")
    else:
        print(_summary(result))
    return 0


def cmd_parse(a: argparse.Namespace) -> int:
    result = parse(_read(a.file, "file"))
    if a.json:
        print(json.dumps(result))
    else:
        print(result["text"])
        for e in result["errors"]:
            print(f"{e['code']} at {e['offset']}: {e['message']}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    ap = argparse.ArgumentParser(prog="python -m pasta_core", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("decode", help="decode one prompt (PASTA, sequential, plain or both)")
    d.add_argument("--model", default=DEFAULT_MODEL, help=f"model spec (default {DEFAULT_MODEL})")
    d.add_argument("--prompt", required=True)
    d.add_argument("--mode", choices=RUN_MODES, default="pasta")
    d.add_argument("--max-new-tokens", type=int, default=256)
    d.add_argument("--max-threads", type=int, default=8)
    d.add_argument("--max-thread-tokens", type=int, default=256)
    d.add_argument("--temperature", type=float, default=0.0)
    d.add_argument("--top-p", type=float, default=1.0)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--force-file", help="teacher-force this annotated response")
    d.add_argument("--device", help="cpu, cuda, cuda:1 … (default: cuda when available)")
    d.add_argument("--json", action="store_true", help="print the Trace as one JSON object")
    d.set_defaults(fn=cmd_decode)
    p = sub.add_parser("parse", help="parse an annotated response")
    p.add_argument("--file", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_parse)
    a = ap.parse_args(argv)
    return a.fn(a)

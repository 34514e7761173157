"""`python -m pasta_core …` — the CLI contract of DESIGN.md.

    decode --model SPEC --prompt TEXT [--mode pasta|sequential|plain|both] [--max-new-tokens N]
           [--max-threads K] [--temperature T] [--top-p P] [--seed S]
           [--force-file ANNOTATED.txt] [--runner auto|eager|static] [--json]
    parse  --file ANNOTATED.txt [--json]
    train  world --out DIR [--quick] [--seed S]
    train  stage1 --model SPEC --out DIR [--data world|FILE.jsonl] [--epochs E] [--lr LR] …
    train  stage2 --model SPEC --out DIR [--prompts P] [--n-samples N] [--lam L] …
    eval   --model SPEC --baseline SPEC [--split test] [--n N] --out DIR
    bench  --model SPEC --baseline SPEC --prompts world:test[:N]|FILE --out DIR [--repeats R]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .api import RUN_MODES, decode
from .events import Comparison, Trace
from .lang import parse
from .models import ModelSpecError, load_model
from .settings import PUBLIC, RUNNERS, SettingsError, add_arguments

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
        settings = {k.name: getattr(a, k.name) for k in PUBLIC}
        result = decode(lm, a.prompt, mode=a.mode, force=force, runner=a.runner, **settings)
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


def cmd_train(a: argparse.Namespace) -> int:
    from .train.loop import LoopConfig
    from .train.prefs import PrefConfig

    if a.grammar_weight < 0:
        print("error: --grammar-weight must be 0 (off) or more", file=sys.stderr)
        return 2
    if a.stage == "world":
        from .train.world import WorldRecipe, build_world

        recipe = WorldRecipe.quick() if a.quick else WorldRecipe()
        recipe.seed = a.seed
        recipe.grammar_weight = recipe.stage2.grammar_weight = a.grammar_weight
        report = build_world(a.out, recipe, resume=a.resume)
        print(json.dumps(report["eval"]["overall"], indent=1))
        print(f"models in {a.out}/pasta-tiny and {a.out}/pasta-tiny-base "
              f"({report['total_s'] / 60:.1f} min)")
        return 0
    from .train import stages
    from .train.data import read_jsonl

    try:
        lm = load_model(a.model, device=a.device)
    except ModelSpecError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    loop = LoopConfig(epochs=a.epochs, lr=a.lr, batch_tokens=a.batch_tokens,
                      max_steps=a.max_steps, seed=a.seed)
    if a.stage == "stage1":
        if a.data == "world":
            _, records = stages.world_data(lm, a.n, seed=a.seed)
        else:
            records, problems = read_jsonl(a.data, skip_bad=a.skip_bad_lines)
            for p in problems:
                print(f"{a.data}: {p}", file=sys.stderr)
            if not records:
                print("error: no usable records (fix the lines above, or pass "
                      "--skip-bad-lines)", file=sys.stderr)
                return 2
        info = {"stage": "stage1", "from": a.model, "data": a.data, "records": len(records),
                "history": [h.to_dict() for h in stages.stage1(lm, records, loop, a.lora,
                                                                a.grammar_weight)]}
    else:
        examples, _ = stages.world_data(lm, a.n, seed=a.seed)
        cfg = PrefConfig(prompts=a.prompts, n_samples=a.n_samples, lam=a.lam, beta=a.beta,
                         alpha=a.alpha, rounds=a.rounds, grammar_weight=a.grammar_weight,
                         loop=loop)
        info = {"stage": "stage2", "from": a.model, **stages.stage2(lm, examples, cfg, a.lora)}
    card = f"# {Path(a.out).name}\n\n{a.stage} from `{a.model}` (see training.json).\n"
    stages.save_run(lm, a.out, card, info)
    print(f"saved {a.out}")
    return 0


def cmd_eval(a: argparse.Namespace) -> int:
    from .train.evaluate import evaluate, to_markdown, write

    try:
        pasta, base = load_model(a.model, device=a.device), load_model(a.baseline, device=a.device)
    except ModelSpecError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    result = evaluate(pasta, base, a.split, a.n, seed=a.seed)
    write(result, a.out)
    print(to_markdown(result))
    return 0


def cmd_bench(a: argparse.Namespace) -> int:
    from .bench import bench, read_prompts, to_markdown, write

    try:
        prompts = read_prompts(a.prompts)
        pasta, base = load_model(a.model, device=a.device), load_model(a.baseline, device=a.device)
    except (ModelSpecError, OSError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    result = bench(pasta, base, prompts, a.repeats, a.max_new_tokens)
    write(result, a.out)
    print(to_markdown(result))
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
    add_arguments(d)  # every decoding setting, from settings.KNOBS
    d.add_argument("--force-file", help="teacher-force this annotated response")
    d.add_argument("--device", help="cpu, cuda, cuda:1 … (default: cuda when available)")
    d.add_argument("--runner", choices=RUNNERS, default="auto",
                   help="forward steps: static cache + CUDA graphs, or eager (default auto: "
                   "static on CUDA, eager on CPU)")
    d.add_argument("--json", action="store_true", help="print the Trace as one JSON object")
    d.set_defaults(fn=cmd_decode)
    p = sub.add_parser("parse", help="parse an annotated response")
    p.add_argument("--file", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_parse)
    t = sub.add_parser("train", help="finetuning stages, or rebuild the bundled models")
    t.add_argument("stage", choices=["world", "stage1", "stage2"])
    t.add_argument("--out", required=True)
    t.add_argument("--model", default="bundled:pasta-tiny-base", help="model to finetune")
    t.add_argument("--quick", action="store_true", help="world: a tiny recipe (minutes)")
    t.add_argument("--resume", action="store_true",
                   help="world: reuse a stage-0 model in --out trained with the same recipe")
    t.add_argument("--data", default="world", help="stage1: world, or a JSONL of "
                   '{"prompt", "annotated"} lines')
    t.add_argument("--skip-bad-lines", action="store_true")
    t.add_argument("--n", type=int, default=2000, help="world examples to use")
    t.add_argument("--epochs", type=float, default=2.0)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--batch-tokens", type=int, default=4096)
    t.add_argument("--max-steps", type=int)
    t.add_argument("--lora", action="store_true", help="train LoRA adapters (needs peft)")
    t.add_argument("--grammar-weight", type=float, default=1.0,
                   help="penalty on tags a thread may never write (0: plain SFT / BoNBoN)")
    t.add_argument("--prompts", type=int, default=96)
    t.add_argument("--n-samples", type=int, default=4)
    t.add_argument("--lam", type=float, default=1.0)
    t.add_argument("--beta", type=float, default=0.1)
    t.add_argument("--alpha", type=float, default=0.5)
    t.add_argument("--rounds", type=int, default=2)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device")
    t.set_defaults(fn=cmd_train)
    e = sub.add_parser("eval", help="judge and speed-ups on the world's prompts")
    e.add_argument("--model", default=DEFAULT_MODEL)
    e.add_argument("--baseline", default="bundled:pasta-tiny-base")
    e.add_argument("--split", default="test", choices=["train", "validation", "test"])
    e.add_argument("--n", type=int, default=140)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--out", required=True)
    e.add_argument("--device")
    e.set_defaults(fn=cmd_eval)
    b = sub.add_parser("bench", help="side-by-side speed: PASTA vs base vs generate()")
    b.add_argument("--model", default=DEFAULT_MODEL)
    b.add_argument("--baseline", default="bundled:pasta-tiny-base")
    b.add_argument("--prompts", default="world:test:40")
    b.add_argument("--repeats", type=int, default=3)
    b.add_argument("--max-new-tokens", type=int, default=320)
    b.add_argument("--out", required=True)
    b.add_argument("--device")
    b.set_defaults(fn=cmd_bench)
    a = ap.parse_args(argv)
    return a.fn(a)

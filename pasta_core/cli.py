"""`python -m pasta_core …` — the CLI contract of docs/DESIGN.md.

    decode --model SPEC --prompt TEXT [--mode pasta|sequential|plain|both|base|sot|sot-sequential
           |methods] [--methods sequential,pasta,sot,apar] [--baseline SPEC] [--apar SPEC]
           [--max-new-tokens N] [--max-threads K] [--temperature T] [--top-p P] [--seed S]
           [--force-file ANNOTATED.txt] [--runner auto|eager|static] [--json]
    parse  --file ANNOTATED.txt [--json]
    train  world --out DIR [--quick] [--seed S] [--overwrite]
    train  stage1 --model SPEC --out DIR [--preset full|cpu-demo] [--data world|FILE.jsonl]
                  [--epochs E] [--lr LR] … [--overwrite]
    train  stage2 --model SPEC --out DIR [--preset …] [--prompts P] [--n-samples N] [--lam L] …
    eval   --model SPEC --baseline SPEC [--split test] [--n N] --out DIR
    eval   --methods sequential,apar,sot,pasta-stage1,pasta-stage2 [--models-dir DIR] --out DIR
    bench  --model SPEC --baseline SPEC --prompts world:test[:N]|FILE --out DIR [--repeats R]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .api import RUN_MODES, decode
from .events import Comparison, MethodsRace, Trace
from .lang import parse
from .models import ModelSpecError, load_model
from .settings import (
    EVAL_MAX_NEW_TOKENS,
    METHODS,
    PUBLIC,
    RUNNERS,
    SOT_MODES,
    SettingsError,
    add_arguments,
    plan_runs,
    run_model,
)

DEFAULT_MODEL = "bundled:pasta-tiny"
DEFAULT_BASELINE = "bundled:pasta-tiny-base"
DEFAULT_APAR = "bundled:pasta-tiny-apar"
log = logging.getLogger(__name__)


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
    if t.mode in SOT_MODES:
        f = t.sot_figures()
        lines.append(f"  skeleton {f['skeleton_steps']} steps + longest point "
                     f"{max(f['point_steps'], default=0)} (points one after another: "
                     f"{f['sequential_steps']} steps): theoretical {f['theoretical_speedup']:.2f}x")
    for th in t.threads[1:]:
        lines.append(f"  thread {th.id} [{th.topic}] {len(th.token_ids) - th.n_forced} tokens "
                     f"(promised {th.promised_tokens}), {th.end_reason}")
    lines.append(t.text)
    return "\n".join(lines)


def cmd_decode(a: argparse.Namespace) -> int:
    force = _read(a.force_file, "force file") if a.force_file else None
    try:
        lm = load_model(a.model, device=a.device)
        roles = {run_model(a.mode, r) for r in plan_runs(a.mode, a.methods)}
        base = load_model(a.baseline, device=a.device) if "base" in roles else None
        apar = load_model(a.apar, device=a.device) if "apar" in roles else None
        settings = {k.name: getattr(a, k.name) for k in PUBLIC}
        result = decode(lm, a.prompt, mode=a.mode, force=force, runner=a.runner,
                        baseline=base, apar=apar, methods=a.methods, **settings)
    except (ModelSpecError, SettingsError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if a.json:
        print(json.dumps(result.to_dict()))
    elif isinstance(result, MethodsRace):
        for row in result.table:
            print(_summary(result.runs[row["method"]]))
        for row in result.table:
            verdict = "reference" if row["reference"] else row["race"]["verdict"]
            print(f"{row['label']}: {row['steps']} steps, {row['wall_s']:.3f} s, theoretical "
                  f"{row['theoretical_speedup']:.2f}x, wall-clock {row['wall_speedup']:.2f}x "
                  f"({verdict})")
    elif isinstance(result, Comparison):
        print(_summary(result.pasta))
        print(_summary(result.sequential))
        r = result.race
        print(f"PASTA vs {result.opponent}: wall-clock {r['wall']:.2f}x (expected "
              f"{r['expected']:.2f}x, noise ±{r['band']:.0%}: {r['verdict']}), theoretical "
              f"{r['theoretical']:.2f}x")
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


# train flags → TrainConfig fields (stage 2's --lr and --epochs are its own: lr2, epochs2)
TRAIN_FLAGS = {"n": "examples", "epochs": "epochs", "lr": "lr", "batch_tokens": "batch_tokens",
               "max_steps": "max_steps", "grammar_weight": "grammar_weight",
               "prompts": "prompts", "n_samples": "n_samples", "lam": "lam", "beta": "beta",
               "alpha": "alpha", "rounds": "rounds", "seed": "seed"}
STAGE2_FLAGS = {"epochs": "epochs2", "lr": "lr2"}


class UsageError(Exception):
    """A flag's value the run cannot use: one line for stderr, exit code 2."""


def _train_config(a: argparse.Namespace):
    """The preset, with the flags given on the command line over it; checked."""
    from .train.config import ConfigError, preset

    flags = {**TRAIN_FLAGS, **(STAGE2_FLAGS if a.stage == "stage2" else {})}
    given = {f: getattr(a, k) for k, f in flags.items() if getattr(a, k) is not None}
    cfg = preset(a.preset, **given, lora=a.lora)
    try:
        cfg.check()
    except ConfigError as e:
        names = [f"--{k.replace('_', '-')}" for k, f in flags.items() if f in e.fields]
        raise UsageError(f"{' / '.join(names) or 'a setting'}: {e}") from e
    return cfg


def _check_out(out: str, overwrite: bool) -> None:
    """Refuse a file, or a non-empty folder this package did not write (unless --overwrite)."""
    from .train.stages import is_run

    p = Path(out)
    if p.exists() and not p.is_dir():
        raise UsageError(f"--out {out!r} is a file; give a folder for the model")
    if p.is_dir() and any(p.iterdir()) and not is_run(p) and not overwrite:
        raise UsageError(f"--out {out!r} is a folder with other files in it; choose a new or "
                         "empty folder, or pass --overwrite to replace it")


def _records(a: argparse.Namespace):
    """Stage 1's uploaded records (None: the bundled world, made with the model's tokenizer)."""
    from .train.data import read_jsonl

    if a.stage != "stage1" or a.data == "world":
        return None
    records, problems = read_jsonl(a.data, skip_bad=a.skip_bad_lines)
    for p in problems:
        print(f"{a.data}: {p}", file=sys.stderr)
    if not records:
        raise UsageError("--data: no usable records (fix the lines above, or pass "
                         "--skip-bad-lines)")
    return records


def _check_data(a: argparse.Namespace) -> None:
    if a.stage != "stage1" or a.data == "world":
        return
    try:
        with open(a.data, encoding="utf-8") as f:
            f.read(1 << 16)
    except OSError as e:
        raise UsageError(f"--data {a.data!r}: cannot read it ({e.strerror}); give a JSONL "
                         "file of {\"prompt\", \"annotated\"} lines, or `world`") from e
    except UnicodeDecodeError as e:
        raise UsageError(f"--data {a.data!r} is not UTF-8 text (a JSONL file has one JSON "
                         "object per line)") from e


def cmd_train(a: argparse.Namespace) -> int:
    try:
        a.cfg = _train_config(a)
        _check_out(a.out, a.overwrite)
        _check_data(a)
        if a.stage == "world":
            return _train_world(a)
        return _train_stage(a)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _train_world(a: argparse.Namespace) -> int:
    from .train.world import WorldRecipe, build_world

    recipe = WorldRecipe.quick() if a.quick else WorldRecipe()
    recipe.seed = a.cfg.seed
    recipe.grammar_weight = recipe.stage2.grammar_weight = a.cfg.grammar_weight
    report = build_world(a.out, recipe, resume=a.resume)
    print(json.dumps(report["eval"]["overall"], indent=1))
    print(f"models in {a.out}/pasta-tiny and {a.out}/pasta-tiny-base "
          f"({report['total_s'] / 60:.1f} min)")
    return 0


def _train_stage(a: argparse.Namespace) -> int:
    """stage1 or stage2 through the one training pipeline (the Train tab's), without its
    evaluation (`python -m pasta_core eval` does that)."""
    from .train.pipeline import Hooks, Pipeline, Plan

    records = _records(a)
    try:
        first = [load_model(a.model, device=a.device)]
    except ModelSpecError as e:
        raise UsageError(str(e)) from e

    def load(spec: str):
        return first.pop() if first else load_model(spec, device=a.device)

    plan = Plan(start_model=a.model, out=Path(a.out), cfg=a.cfg, stages=a.stage,
                records=records, data_name="world" if records is None else Path(a.data).name,
                spec=a.out, evaluate=False, progress=True)
    end = Pipeline(plan, Hooks(note=lambda text: log.info("%s", text)), load).run()
    if end.state != "done":
        print(f"error: {end.error or 'training stopped'}", file=sys.stderr)
        return 1
    print(f"saved {a.out}")
    return 0


def cmd_eval(a: argparse.Namespace) -> int:
    from .train.evaluate import evaluate, to_markdown, write

    if a.methods:
        return _eval_methods(a)
    try:
        pasta, base = load_model(a.model, device=a.device), load_model(a.baseline, device=a.device)
    except ModelSpecError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    result = evaluate(pasta, base, a.split, a.n, seed=a.seed)
    write(result, a.out)
    print(to_markdown(result))
    return 0


def _eval_methods(a: argparse.Namespace) -> int:
    from .train import pareto

    root = Path(a.models_dir)
    try:
        methods = pareto.methods_in([m.strip() for m in a.methods.split(",") if m.strip()], root)
        models = {f: load_model(str(root / f), device=a.device)
                  for f in {m.folder for m in methods}}
    except (ValueError, ModelSpecError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    result = pareto.compare(models, methods, a.split, a.n, seed=a.seed)
    pareto.write(result, a.out)
    pareto.update_cards(result, root, methods)
    print(pareto.to_markdown(result))
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


def _train_parser(sub) -> None:
    from .train.config import DEFAULT_PRESET, PRESETS

    d = PRESETS[DEFAULT_PRESET]
    t = sub.add_parser("train", help="finetuning stages, or rebuild the bundled models",
                       description="Defaults come from --preset (pasta_core/train/config.py).")
    t.add_argument("stage", choices=["world", "stage1", "stage2"])
    t.add_argument("--out", required=True, help="folder for the model (a new or empty one, a "
                   "run of ours, or any with --overwrite)")
    t.add_argument("--overwrite", action="store_true",
                   help="replace --out even if it holds files this program did not write")
    t.add_argument("--model", default="bundled:pasta-tiny-base", help="model to finetune")
    t.add_argument("--preset", choices=list(PRESETS), default=DEFAULT_PRESET,
                   help=f"the settings a flag does not give (default {DEFAULT_PRESET})")
    t.add_argument("--quick", action="store_true", help="world: a tiny recipe (minutes)")
    t.add_argument("--resume", action="store_true",
                   help="world: reuse the models in --out whose stage (stage 0, base, stage 1, "
                        "APAR-style) was trained with the same recipe; stage 2 and the "
                        "eval always run")
    t.add_argument("--data", default="world", help="stage1: world, or a JSONL of "
                   '{"prompt", "annotated"} lines')
    t.add_argument("--skip-bad-lines", action="store_true")
    num = {"n": (int, f"world examples to use ({d.examples})"),
           "epochs": (float, f"stage1 {d.epochs}, stage2 {d.epochs2} per round"),
           "lr": (float, f"stage1 {d.lr}, stage2 {d.lr2}"),
           "batch_tokens": (int, f"stage1 ({d.batch_tokens})"),
           "max_steps": (int, "optimiser steps per stage or round (0: no cap)"),
           "grammar_weight": (float, "penalty on tags a thread may never write (0: plain SFT "
                                     f"/ BoNBoN; {d.grammar_weight})"),
           "prompts": (int, f"stage2 prompts per round ({d.prompts})"),
           "n_samples": (int, f"stage2 samples per prompt ({d.n_samples})"),
           "lam": (float, f"stage2 λ, quality weight ({d.lam})"),
           "beta": (float, f"stage2 IPO β ({d.beta})"),
           "alpha": (float, f"stage2 SFT share α ({d.alpha})"),
           "rounds": (int, f"stage2 rounds ({d.rounds})"),
           "seed": (int, f"({d.seed})")}
    for key, (typ, text) in num.items():
        t.add_argument(f"--{key.replace('_', '-')}", type=typ, help=text)
    t.add_argument("--lora", action="store_true", help="train LoRA adapters (needs peft)")
    t.add_argument("--device")
    t.set_defaults(fn=cmd_train)


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand and flag (decoding settings from settings.KNOBS, training defaults
    from train.config.TrainConfig)."""
    ap = argparse.ArgumentParser(prog="python -m pasta_core", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("decode", help="decode one prompt (PASTA, sequential, plain, a race, "
                       "or Skeleton-of-Thought)")
    d.add_argument("--model", default=DEFAULT_MODEL, help=f"model spec (default {DEFAULT_MODEL})")
    d.add_argument("--prompt", required=True)
    d.add_argument("--mode", choices=RUN_MODES, default="pasta",
                   help="pasta, sequential, plain, or a race in lockstep: both (PASTA vs this "
                   "model decoding sequentially) or base (PASTA vs --baseline decoding plainly); "
                   "sot: Skeleton-of-Thought (a skeleton, then its points at once; --force-file "
                   "takes a transcript), sot-sequential: the same points one after another; "
                   "methods: --methods racing in lockstep (a forced answer is forced on each "
                   "in its own form)")
    d.add_argument("--methods", default=None,
                   help=f"mode methods: 2 to 4 of {','.join(METHODS)}, comma-separated "
                   "(default sequential,pasta,sot); PASTA runs --model, sequential and sot "
                   "--baseline, apar --apar")
    d.add_argument("--baseline", default=DEFAULT_BASELINE,
                   help=f"the base model of mode base and of a methods race's sequential and "
                   f"SoT runs (default {DEFAULT_BASELINE})")
    d.add_argument("--apar", default=DEFAULT_APAR,
                   help=f"a methods race's APAR-style model (default {DEFAULT_APAR})")
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
    _train_parser(sub)
    e = sub.add_parser("eval", help="judge and speed-ups on the world's prompts")
    e.add_argument("--model", default=DEFAULT_MODEL)
    e.add_argument("--baseline", default=DEFAULT_BASELINE)
    e.add_argument("--split", default="test", choices=["train", "validation", "test"])
    e.add_argument("--n", type=int, default=140)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--out", required=True)
    e.add_argument("--device")
    e.add_argument("--methods", help="compare methods on the same prompts instead, e.g. "
                   "sequential,apar,sot,pasta-stage1,pasta-stage2 (writes pareto.json/.md/.svg)")
    e.add_argument("--models-dir", default="assets/models",
                   help="a `train world` output holding the methods' model folders")
    e.set_defaults(fn=cmd_eval)
    b = sub.add_parser("bench", help="side-by-side speed: PASTA vs base vs generate()")
    b.add_argument("--model", default=DEFAULT_MODEL)
    b.add_argument("--baseline", default=DEFAULT_BASELINE)
    b.add_argument("--prompts", default="world:test:40")
    b.add_argument("--repeats", type=int, default=3)
    b.add_argument("--max-new-tokens", type=int, default=EVAL_MAX_NEW_TOKENS)
    b.add_argument("--out", required=True)
    b.add_argument("--device")
    b.set_defaults(fn=cmd_bench)
    return ap


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    a = build_parser().parse_args(argv)
    return a.fn(a)

"""`python -m pasta_core train world --out DIR`: rebuild both bundled models from nothing.

  tokenizer  byte-level BPE on the world's text, PASTA-LANG tags as dedicated tokens
  stage 0    a small Llama trained from scratch on the PLAIN answers (the "pretrained" model)
  base       pasta-tiny-base: stage 0 finetuned further on the PLAIN answers with stage 1's
             settings (the sequential baseline, the paper's Baseline-SFT)
  stage 1    from stage 0, SFT on the ANNOTATED answers with the shared layout, so that the
             base and the PASTA model get the same epochs on the same answers and differ
             only in the annotations
  apar       pasta-tiny-apar: stage 0 finetuned with stage 1's settings on the same answers
             annotated by syntax rules alone (`pasta_core.annotate`, APAR's recipe): the
             hand-made splitting baseline of issue #15
  stage 2    preference optimisation (BoNBoN) on the model's own samples
  contrast   the base and the PASTA model, a short SFT last: counted requests in fours that
             differ only in the names (one world entity: a paragraph; several: one part each;
             a named group: its members, then one part each; a thing the world does not
             hold: "I do not know"), composed everyday requests answered honestly, and the
             first of stage 1's own examples again (`WorldRecipe.contrast`)
  eval       test split: the models, judge and speed-ups → model cards

Every stage also sees Skeleton-of-Thought's two prompts (`pasta_core.sot`) over a share of
the examples, so the SoT mode runs on the bundled models.

Deterministic for a seed (CPU, one process). Each model is saved in bf16 safetensors with a
model card that holds its data, settings and metrics.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from ..annotate import annotate
from ..bench import cpu_machine
from ..models import LoadedModel
from ..settings import EVAL_MAX_NEW_TOKENS
from ..world import SHAPES, grammar
from ..world.prompts import (
    COUNTED_WORDINGS,
    Example,
    core_phrasings,
    counted_contrasts,
    everyday_requests,
    generate_split,
    grammar_fingerprint,
    group_lists,
    phrasings,
    reading_drills,
    render_annotated,
)
from ..world.tokenizer import build_world_tokenizer
from .config import TrainConfig, preset
from .data import (
    Record,
    TagGrammar,
    TrainSeq,
    drill_sequences,
    encode_record,
    grammar_contexts,
    sot_sequences,
)
from .evaluate import evaluate, to_markdown
from .evaluate import write as write_eval
from .loop import LoopConfig, train_sft, uses_bf16
from .pipeline import Pipeline, Plan, front_matter
from .prefs import PrefConfig
from .stages import GRAMMAR_WEIGHT, PROMISE_SLACK, save_run, world_data

log = logging.getLogger(__name__)


@dataclass
class ModelShape:
    hidden: int = 256
    layers: int = 4
    heads: int = 4
    kv_heads: int = 4
    intermediate: int = 688


@dataclass
class WorldRecipe:
    seed: int = 0
    vocab_size: int = 2048
    shape: ModelShape = field(default_factory=ModelShape)
    # examples the base, stage 1 and the APAR-style model read (each once: sft.epochs), and
    # stage 0's own (core grammar, each once: base.epochs). Fresh examples instead of epochs
    # over 6000: the 6000 x 8 + 4 build scored 0.95 on its own training prompts and 0.63 on
    # held-out ones; it learned the examples more than the reading
    n_train: int = 24000
    # (48000 before bf16 autocast: the fp32 build's stage-0 loss still fell by a seventh over
    # its last tenth of steps, and bf16 pays for a third more of them)
    n_stage0: int = 64000
    # test prompts per evaluation: in held-out phrasings, and (n_eval_seen) in training ones
    n_eval: int = 340
    n_eval_seen: int = 170
    eval_tokens: int = EVAL_MAX_NEW_TOKENS  # max_new_tokens of each evaluated answer
    # share of the examples that also teach Skeleton-of-Thought's two prompts
    sot_rate: float = 0.15
    # long list requests (4-8 names, training phrasings and combinations) read back as SoT
    # skeletons, in every stage: the models lose their place in long lists
    # (this many beside n_train's examples; stage 0 gets as many per example)
    drills: int = 6000
    # group lists ("List the reptiles." -> "There are 4: ...") beside n_train's examples,
    # every group's: membership is a fact of the world; without it no model named one member
    # of the held-out groups (test judge 0.000 on "describe the reptiles"). Stage 0 gets as
    # many per example
    group_lists: int = 1500
    # build the APAR-style model (rule-annotated answers) too
    apar: bool = True
    # the tokenizer and stage 0 read requests worded by the core grammar only (its first
    # options, 258,048 phrasings); the base, stage 1, APAR-style and stage 2 the whole grammar.
    # Stage 0 on the whole grammar named every asked entity less often after stage 1 and 2
    # (validation, two seeds: bench/results-cpu/wider-grammar.md)
    stage0_core_grammar: bool = True
    # many small steps: a model this small needs updates more than tokens to learn to copy
    # the prompt's entities into its answer. Under bf16 autocast (weights and optimiser fp32):
    # 1.2-1.8x a step on a CPU with AVX512-BF16 (bench/results-cpu/train-bf16.md)
    # Stage 0 at 1e-3 (2e-3 before) with order seed 1: five stage-0 draws at 2e-3 named every
    # asked entity 64.7-84.9% after stage 1, two at 1e-3 75.4% and 79.7%
    # (bench/results-cpu/stage0-lr.md)
    base: LoopConfig = field(default_factory=lambda: LoopConfig(epochs=1, lr=1e-3, seed=1,
                                                                batch_tokens=2048, bf16=True))
    sft: LoopConfig = field(default_factory=lambda: LoopConfig(epochs=1, lr=1e-3,
                                                               batch_tokens=2048, bf16=True))
    # stage 1 (and stage 2's SFT term): penalty on tags a thread may never write; without it
    # 11% of test answers had a main thread that closed a block it never opened
    grammar_weight: float = GRAMMAR_WEIGHT
    # stage 1's promises: real length rounded up to a multiple of 10, plus 0, 10, … this many
    # tokens (drawn per chunk; see stages.PROMISE_SLACK)
    promise_slack: int = PROMISE_SLACK
    # stage 2: the "full" preset's settings (config.py), over more prompts and one more round
    # (bench/results-cpu/stage2-variants.md: λ = 3, or 256 prompts × 4 rounds, did no better)
    # A tenth of its prompt pool is everyday requests outside the world (PrefConfig.everyday)
    stage2: PrefConfig = field(default_factory=lambda: _bf16_loop(
        preset("full", prompts=128, rounds=3, alpha=1.0).pref(everyday=0.1)))
    # the last stage, for the base (after its SFT) and the PASTA model (after stage 2):
    # `contrasts` fours of counted requests that differ only in the names: one world entity, a
    # thing the world does not hold, several world entities, a named group
    # (`prompts.counted_contrasts`); `contrast_everyday` composed everyday requests answered
    # honestly, and the first `contrast_replay` of stage 1's own examples (annotated for PASTA,
    # plain for the base), so that the rest is kept. The models refused "List three facts
    # about Mars." (23 of 24 held-out probes) because the one counted one-thing wording they had
    # read was an outside one; the same wordings in the grammar fixed that but cost outside
    # honesty and splits in a rebuild (bench/results-cpu/three-facts.md); pairs, then triples
    # without the group, at lr 3e-4 and 2e-4, cost splits (counted-contrasts.md).
    # fp32 on every device (a few hundred steps): the shipped models were trained so on a CPU
    # without bf16 kernels
    contrasts: int = 600
    contrast_everyday: int = 300
    contrast_replay: int = 2400
    contrast: LoopConfig = field(default_factory=lambda: LoopConfig(epochs=1, lr=1e-4,
                                                                    batch_tokens=2048))

    @classmethod
    def quick(cls) -> WorldRecipe:
        """A few minutes end to end, for tests and the UI's CPU demo: tiny and undertrained."""
        return cls(vocab_size=512, shape=ModelShape(64, 2, 2, 2, 128), n_train=120, n_stage0=120,
                   drills=8, group_lists=8,
                   n_eval=8, n_eval_seen=4, eval_tokens=48,
                   base=LoopConfig(epochs=1, lr=3e-3, batch_tokens=2048, bf16=True),
                   sft=LoopConfig(epochs=1, lr=3e-3, batch_tokens=2048, bf16=True),
                   stage2=PrefConfig(prompts=4, n_samples=4, rounds=1, max_new_tokens=48,
                                     loop=LoopConfig(epochs=1, lr=1e-4, batch_tokens=1024,
                                                     bf16=True)),
                   contrasts=4, contrast_everyday=2, contrast_replay=8,
                   contrast=LoopConfig(epochs=1, lr=1e-4, batch_tokens=1024))


def _bf16_loop(pref: PrefConfig) -> PrefConfig:
    """Stage 2's settings with its optimisation loop under bf16 autocast."""
    return replace(pref, loop=replace(pref.loop, bf16=True))


# stage checkpoints kept in `out` for --resume (not shipped): stage 0, stage 1, the base
# before the contrast stage and the PASTA model after stage 2
STAGE0_DIR, STAGE1_DIR, BASE_SFT_DIR, STAGE2_DIR = "stage0", "stage1", "base-sft", "stage2"
APAR_DIR = "pasta-tiny-apar"
# bump when the world's generated data changes, so --resume never reuses a stale stage
DATA_VERSION = 6


def new_model(tok, shape: ModelShape, seed: int) -> torch.nn.Module:
    return new_llama(shape, len(tok), seed, tok.eos_token_id, tok.pad_token_id)


def new_llama(shape: ModelShape, vocab_size: int, seed: int, eos_id: int | None = None,
              pad_id: int | None = None) -> torch.nn.Module:
    """A freshly initialised Llama of `shape` (the world recipe's, and its step bench's)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=vocab_size, hidden_size=shape.hidden, num_hidden_layers=shape.layers,
        num_attention_heads=shape.heads, num_key_value_heads=shape.kv_heads,
        intermediate_size=shape.intermediate, max_position_embeddings=4096,
        bos_token_id=None, eos_token_id=eos_id, pad_token_id=pad_id,
        tie_word_embeddings=True, rope_theta=10000.0)
    config._attn_implementation = "sdpa"
    torch.manual_seed(seed)
    return LlamaForCausalLM(config).eval()


def plain_sequences(examples: Sequence, tok) -> list[TrainSeq]:
    """Each example's plain answer (stage 0 and the base learn them); anything with a
    `prompt` and a `plain` answer (an Example, a group list)."""
    eos = tok.eos_token_id
    return [encode_record(Record(ex.prompt, ex.plain), tok, eos, annotated=False)
            for ex in examples]


def world_sequences(examples: list, records: list[Record],
                    tok) -> tuple[list[TrainSeq], list[TrainSeq]]:
    """The recipe's own sequences, before Skeleton-of-Thought's: each example's plain answer
    and its annotated record (stage 1 learns them)."""
    eos = tok.eos_token_id
    return (plain_sequences(examples, tok),
            [encode_record(r, tok, eos, annotated=True) for r in records])


def stage0_share(count: int, n_stage0: int, n_train: int) -> int:
    """Stage 0's reading drills or group lists: as many per example as the later stages
    read."""
    return round(count * n_stage0 / n_train)


def as_loaded(spec: str, model, tok) -> LoadedModel:
    return LoadedModel(spec, model, tok, torch.device("cpu"), torch.float32, [tok.eos_token_id])


def build_world(out: str | Path, recipe: WorldRecipe | None = None,
                progress: bool = True, resume: bool = False) -> dict:
    """Run the whole recipe; write `pasta-tiny-base/`, `pasta-tiny/` and `report.json` in out.
    With `resume`, each SFT stage's model already in `out` (stage 0, the base, stage 1, the
    APAR-style model) whose key matches this recipe's is reused, so a change to stage 2 alone
    reruns only stage 2 and the eval (`out/stage1` only serves that; it is not one of the
    shipped models)."""
    from transformers import AutoModelForCausalLM

    recipe, out = recipe or WorldRecipe(), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(recipe.seed)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}

    reused: dict[str, float | None] = {}  # stage → seconds it took when trained (--resume)

    def lap(name: str) -> None:
        timings[name] = time.perf_counter() - t0 - sum(timings.values())
        log.info("%s done in %.0f s", name, timings[name])

    with grammar.core_only() if recipe.stage0_core_grammar else nullcontext():
        tok = build_world_tokenizer(recipe.vocab_size, seed=recipe.seed)
    eos = tok.eos_token_id
    world_lm = as_loaded("world", None, tok)  # the tokenizer alone: promises count its tokens
    examples, records = world_data(world_lm, recipe.n_train, recipe.seed,
                                   promise_slack=recipe.promise_slack)
    lap("tokenizer+data")

    shared_seqs = _shared_sequences(examples, tok, recipe, recipe.drills, recipe.group_lists)
    plain, ann = world_sequences(examples, records, tok)
    plain_seqs, ann_seqs = plain + shared_seqs, ann + shared_seqs
    # stage 0's own plain answers, drills and group lists (in the core grammar where the recipe
    # says so)
    with grammar.core_only() if recipe.stage0_core_grammar else nullcontext():
        ex0 = generate_split("train", recipe.n_stage0, seed=recipe.seed)
        drills0, lists0 = (stage0_share(c, recipe.n_stage0, recipe.n_train)
                           for c in (recipe.drills, recipe.group_lists))
        stage0_seqs = (plain_sequences(ex0, tok)
                       + _shared_sequences(ex0, tok, recipe, drills0, lists0))
    # stage 0's key holds what its data and training depend on, and nothing else: a recipe
    # that changes only the later stages reuses it with --resume
    key0 = {"seed": recipe.seed, "vocab_size": recipe.vocab_size,
            "n_stage0": recipe.n_stage0, "stage0_drills": drills0, "stage0_lists": lists0,
            "shape": asdict(recipe.shape), "base": asdict(recipe.base),
            "sot_rate": recipe.sot_rate, "data": DATA_VERSION,
            "stage0_core_grammar": recipe.stage0_core_grammar}
    # the later stages read the whole grammar, so their key holds its word lists too (stage
    # 0's holds the core grammar's only through DATA_VERSION)
    key_sft = {**key0, "n_train": recipe.n_train, "drills": recipe.drills,
               "chatter": grammar.CHATTER_RATE, "grammar": grammar_fingerprint(),
               "group_lists": recipe.group_lists, "sft": asdict(recipe.sft)}

    def sft_stage(name: str, folder: str, key: dict | None, seqs, cfg: LoopConfig,
                  start: str | None, grammar_weight: float = 0.0) -> list[dict]:
        """Train from `start` (a folder in out; None: a new model) and save into `folder`
        (bf16, read back by the next stage whether it ran now or was reused; key None: never
        reused)."""
        done = out / folder / "training.json"
        if (resume and key is not None and done.is_file()
                and json.loads(done.read_text()).get("key") == key):
            log.info("%s: reusing %s (same recipe)", name, done.parent)
            info = json.loads(done.read_text())
            reused[name.split()[0]] = info.get("seconds")  # the time it took when trained
            return info["history"]
        started = time.perf_counter()
        model = (new_model(tok, recipe.shape, recipe.seed) if start is None else
                 AutoModelForCausalLM.from_pretrained(out / start, dtype=torch.float32).eval())
        hist = [h.to_dict() for h in train_sft(model, seqs, cfg, tok.pad_token_id, name,
                                               TagGrammar.of(tok), grammar_weight,
                                               progress=progress)]
        save_run(as_loaded(name, model, tok), out / folder, "",
                 {"key": key, "history": hist, "seconds": time.perf_counter() - started})
        return hist

    hist0 = sft_stage("stage0 pretrain", STAGE0_DIR, key0, stage0_seqs, recipe.base, None)
    lap("stage0")
    # the baseline gets the same finetuning as stage 1, on the plain answers: base and PASTA
    # model differ only in the annotations (the paper's Baseline-SFT vs PASTA-SFT)
    hist_base = sft_stage("base sft", BASE_SFT_DIR, key_sft, plain_seqs, recipe.sft,
                          STAGE0_DIR)
    lap("base")
    key_grammar = {**key_sft, "grammar_weight": recipe.grammar_weight, "grammar_contexts": True}
    key1 = {**key_grammar, "promise_slack": recipe.promise_slack}
    ctx = grammar_contexts(records, tok, eos) if recipe.grammar_weight else []
    hist1_dicts = sft_stage("stage1 sft", STAGE1_DIR, key1, ann_seqs + ctx, recipe.sft,
                            STAGE0_DIR, recipe.grammar_weight)
    lap("stage1")
    hist_apar: list[dict] = []
    if recipe.apar:  # the same recipe as stage 1, on answers split by syntax rules alone
        rule_records = [Record(ex.prompt, annotate(ex.plain, lambda t: len(tok.encode(
            t, add_special_tokens=False)))) for ex in examples]
        apar_seqs = [encode_record(r, tok, eos, annotated=True) for r in rule_records]
        actx = grammar_contexts(rule_records, tok, eos) if recipe.grammar_weight else []
        # (its promises are the rules', so stage 1's promise slack is not in its key)
        hist_apar = sft_stage("apar sft", APAR_DIR, {**key_grammar, "apar": True},
                              apar_seqs + shared_seqs + actx, recipe.sft, STAGE0_DIR,
                              recipe.grammar_weight)
        lap("apar")

    model = AutoModelForCausalLM.from_pretrained(out / STAGE1_DIR, dtype=torch.float32).eval()
    s2 = _stage2(as_loaded("stage1", model, tok), out / STAGE2_DIR, recipe, progress)
    lap("stage2")

    # the contrast stage: the same fours, everyday requests and replayed examples for both
    # models, annotated for PASTA (with stage 1's tag-grammar penalty) and plain for the base
    n_replay = min(recipe.contrast_replay, len(examples))
    contrast = contrast_examples(recipe)
    key_c = {**key_sft, "contrasts": recipe.contrasts, "wordings": list(COUNTED_WORDINGS),
             "contrast_everyday": recipe.contrast_everyday, "contrast_replay": n_replay,
             "contrast": asdict(recipe.contrast)}
    # ("contrast-base": with --resume its reused seconds are added to the total, not taken
    # for the contrast lap, which trains the PASTA model either way)
    hist_cbase = sft_stage("contrast-base", "pasta-tiny-base", key_c,
                           plain_sequences(contrast + examples[:n_replay], tok), recipe.contrast,
                           BASE_SFT_DIR)
    contrast_records = [Record(ex.prompt, render_annotated(ex, world_lm.count_tokens))
                        for ex in contrast]
    # (never reused: stage 2, which it starts from, runs each time)
    hist_c = sft_stage("contrast pasta", "pasta-tiny", None,
                       [encode_record(r, tok, eos, annotated=True)
                        for r in contrast_records + records[:n_replay]],
                       recipe.contrast, STAGE2_DIR, recipe.grammar_weight)
    lap("contrast")

    result = _evaluate_shipped(out, recipe, progress)
    lap("eval")

    report = {
        "recipe": asdict(recipe), "timings_s": timings,
        "total_s": time.perf_counter() - t0, "machine": cpu_machine(),
        # whether the SFT stages trained under bf16 autocast: only where the device they trained
        # on has bf16 kernels (loop.bf16_is_fast), and their times depend on it
        "bf16": uses_bf16(recipe.sft),
        # with --resume: the stages reused and the seconds each took when it was trained
        "reused_s": reused,
        "stage_s": {k: reused.get(k) or v for k, v in timings.items()},
        "from_nothing_s": time.perf_counter() - t0 + sum(v or 0.0 for v in reused.values()),
        "params": sum(p.numel() for p in model.parameters()),
        "vocab": len(tok), "train_examples": len(examples),
        "phrasings": phrasings(),
        "core_phrasings": core_phrasings(),
        "chatter_rate": grammar.CHATTER_RATE,
        "train_tokens": {"plain": sum(map(len, plain_seqs)), "annotated": sum(map(len, ann_seqs))},
        "history": {"stage0": hist0, "base": hist_base, "stage1": hist1_dicts,
                    "apar": hist_apar, "stage2": s2["history"],
                    "contrast_base": hist_cbase, "contrast": hist_c},
        "stage2": {"points": s2["points"], "fronts": s2["fronts"]},
        "eval": {k: v for k, v in result.items() if k != "rows"},
    }
    _write_outputs(out, report, result, recipe)
    return report


def _shared_sequences(examples: list, tok, recipe: WorldRecipe, drills: int,
                      lists: int) -> list[TrainSeq]:
    """What every stage reads beside its own answers: Skeleton-of-Thought's two prompts over a
    share of the examples, `drills` reading drills and `lists` group lists (plain text, so the
    same sequence for a plain and an annotated stage)."""
    eos = tok.eos_token_id
    return (sot_sequences(examples, tok, eos, recipe.sot_rate, recipe.seed)
            + drill_sequences(reading_drills(drills, recipe.seed), tok, eos)
            + plain_sequences(group_lists(lists, recipe.seed), tok))


def contrast_examples(recipe: WorldRecipe) -> list[Example]:
    """The contrast stage's own examples: its fours, then its everyday requests (both of the
    training split)."""
    return (counted_contrasts(recipe.contrasts, recipe.seed)
            + everyday_requests("train", recipe.contrast_everyday, seed=recipe.seed))


def _evaluate_shipped(out: Path, recipe: WorldRecipe, progress: bool) -> dict:
    """Evaluate what ships: the saved bf16 weights, loaded back as the app loads them."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    loaded = {}
    for name in shipped(recipe):
        m = AutoModelForCausalLM.from_pretrained(out / name, dtype=torch.float32).eval()
        loaded[name] = as_loaded(f"bundled:{name}", m, AutoTokenizer.from_pretrained(out / name))
    return evaluate(loaded["pasta-tiny"], loaded["pasta-tiny-base"], "test", recipe.n_eval,
                    seed=recipe.seed, max_new_tokens=recipe.eval_tokens, progress=progress,
                    n_seen=recipe.n_eval_seen,
                    apar=loaded.get(APAR_DIR))


def shipped(recipe: WorldRecipe) -> tuple[str, ...]:
    """The model folders a world build ships."""
    return ("pasta-tiny", "pasta-tiny-base") + ((APAR_DIR,) if recipe.apar else ())


def _write_outputs(out: Path, report: dict, result: dict, recipe: WorldRecipe) -> None:
    """report.json, eval.json/eval.md and the model cards."""
    (out / "report.json").write_text(json.dumps(report, indent=1))
    write_eval(result, out)
    for name in shipped(recipe):
        (out / name / "README.md").write_text(model_card(name, report, result))


def _stage2(lm: LoadedModel, out: Path, recipe: WorldRecipe, progress: bool) -> dict:
    """Stage 2 through the one training pipeline (the CLI's and the Train tab's), on the
    world's training prompts; returns its points, fronts and history."""
    plan = Plan(start_model=lm.spec, out=out, cfg=TrainConfig(examples=recipe.n_train,
                                                              seed=recipe.seed),
                stages="stage2", evaluate=False, progress=progress, pref=recipe.stage2)
    run = Pipeline(plan, load=lambda _spec: lm)
    end = run.run()
    if end.state != "done":
        raise RuntimeError(f"stage 2 of the world recipe {end.state}: {end.error}")
    return run.rec.stage2_out


def model_card(name: str, report: dict, result: dict) -> str:
    r = report["recipe"]
    # reports from before the contrast stage have none
    contrast = r.get("contrasts")
    last = (f", and last a short SFT on {contrast:,} contrasts of four (one counted request "
            "about a world entity, about several, about a named group and about a thing the "
            f"world does not hold), {r['contrast_everyday']:,} everyday requests answered "
            f"honestly and {r['contrast_replay']:,} of stage 1's examples again"
            if contrast else "")
    role = ("the PASTA model: the stage-0 model (trained from scratch on the plain answers), "
            "finetuned on PASTA-LANG annotated answers (stage 1, SFT with the shared layout) "
            "and then on its own samples (stage 2, BoNBoN preference optimisation scored by "
            "theoretical speed-up + λ·quality)" + last
            if name == "pasta-tiny" else
            "the APAR-style model (issue #15's hand-made baseline): the same stage-0 model, "
            "finetuned with stage 1's settings on the same answers annotated by syntax rules "
            "alone (`pasta_core.annotate`: list items and paragraphs after an intro become "
            "chunks), so it differs from the PASTA model's stage 1 only in where the splits are"
            if name == APAR_DIR else
            "the sequential baseline (the paper's Baseline-SFT): the same stage-0 model, "
            "finetuned with stage 1's settings on the same answers without annotations, so it "
            "has had exactly the PASTA model's stage-0 and stage-1 training but for the tags"
            + (last + " (plain, as the PASTA model reads them annotated)" if contrast else ""))
    s = r["shape"]
    core = ""
    if r.get("stage0_core_grammar"):  # reports from before core_phrasings: the grammar's now
        n_core = report.get("core_phrasings") or core_phrasings()
        core = (f"; the tokenizer and stage 0 read only its core options, {n_core:,} "
                "phrasings, every later stage all of it")
    # reports from before n_stage0: stage 0 read the same examples and drills as the rest
    n0 = r.get("n_stage0")
    stage0 = f" (stage 0 reads {n0:,} examples of its own)" if n0 else ""
    drills0 = (f", {stage0_share(r['drills'], n0, r['n_train']):,} in stage 0" if n0 else
               " in every stage")
    lists = r.get("group_lists", 0)  # reports from before group lists have none
    lists0 = stage0_share(lists, n0 or r["n_train"], r["n_train"])
    lists_said = (f"; and {lists:,} group lists ({lists0:,} in stage 0), which members a named "
                  "group has ('List the reptiles.' answered 'There are 4: ...'), for every "
                  "group, the held-out groups' too; describe requests over those stay held out"
                  if lists else "")
    # reports from before the slack promised each chunk's length rounded up, nothing more
    slack = (f"; stage 1's promises: each chunk's real length rounded up to a multiple of 10, "
             f"plus 0 to {r['promise_slack']} tokens (drawn per chunk)"
             if r.get("promise_slack") else "")
    # reports from before chatter have none
    chatter = (f"; a share {report['chatter_rate']} of the later stages' training requests say "
               "one sentence of chatter first ('My dad fixed a bike yesterday.')"
               if report.get("chatter_rate") else "")
    core += chatter
    header = "\n".join(front_matter("pasta, parallel-decoding, tiny", license="apache-2.0"))
    return f"""{header}
# {name}

`bundled:{name}` is {role}.

* Architecture: LlamaForCausalLM, hidden {s['hidden']}, {s['layers']} layers, {s['heads']} heads
  ({s['kv_heads']} KV), MLP {s['intermediate']}, vocabulary {report['vocab']} (byte-level BPE on
  the world's text, PASTA-LANG tags as dedicated tokens); {report['params']:,} parameters;
  bf16 safetensors.
* Data: the bundled synthetic world (`pasta_core/world`), {report['train_examples']:,} training
  examples over {len(SHAPES)} prompt shapes{stage0}, worded by a prompt grammar
  (`pasta_core/world/grammar.py`, {report.get('phrasings', 0):,} distinct phrasings{core}); a share
  {r.get('sot_rate', 0)} of them also as Skeleton-of-Thought's two prompts; and
  {r.get('drills', 0):,} reading drills beside them (a list request of 4 to 8 names in training
  phrasings, answered with its SoT skeleton: the topics in the order asked){drills0 + lists_said}.
  Test prompts use entity combinations and phrasing families never seen in training.
* Settings: seed {r['seed']}; stage 0 {r['base']}; base finetuning and stage 1 {r['sft']};
  stage 1 tag-grammar weight {r.get('grammar_weight', 0.0)} (penalty on tags a thread may never
  write, also over each answer's main-thread-only form){slack}; stage 2 {r['stage2']}{
      f"; contrast stage {r['contrast']}" if contrast else ""}.
* Rebuild: `python -m pasta_core train world --out DIR` ({report.get('from_nothing_s',
  report['total_s']) / 60:.1f} min from nothing on
  {report['machine']}; stages: {', '.join(f'{k} {v:.0f} s' for k, v in
                                            report.get('stage_s',
                                                       report['timings_s']).items())}{
      f"; the contrast stage and the evaluation timed on {report['contrast_machine']}"
      if report.get("contrast_machine") else ""}).

## Metrics (test split, this machine, greedy)

{to_markdown(result)}"""

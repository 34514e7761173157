"""The two finetuning stages on any loaded model — what the CLI and the UI's Train tab call.

    stage1(lm, records, LoopConfig(...))          SFT on annotated answers (shared layout)
    stage2(lm, examples, PrefConfig(...))         BoNBoN on the model's own samples
    save_run(lm, out, card)                       a model directory the app can load (runs/NAME)
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch

from ..models import LoadedModel
from ..world import Example, generate_split, judge_response
from ..world.judge import says_twice
from ..world.prompts import everyday_requests, render_annotated
from .config import TrainConfig
from .data import Record, TagGrammar, TrainSeq, encode_record, grammar_contexts
from .loop import LogEntry, LoopConfig, train_sft
from .prefs import PrefConfig, run_stage2

log = logging.getLogger(__name__)

GRAMMAR_WEIGHT = TrainConfig.grammar_weight  # the forbidden-tag penalty's default weight
# stage 1's promises: each chunk's real length rounded up to a multiple of 10, plus 0, 10 or 20
# tokens more (drawn per chunk). Exact promises made the promise a length to fill: a chunk
# promised 40 whose facts came to 30 wrote a fourth sentence, often one it had written ("It is
# a reptile. It is a reptile."): 15.0% of the world build's chunks said a fact twice, 6.4% with
# the slack (bench/results-cpu/promise-slack.md)
PROMISE_SLACK = 20


def world_data(lm: LoadedModel, n: int, seed: int = 0, split: str = "train",
               promise_slack: int = PROMISE_SLACK) -> tuple[list[Example], list[Record]]:
    """World examples and their annotated records, `tokens` counted with this model's
    tokenizer (so promises state real lengths), each promise rounded up to a multiple of 10
    and then given 0, 10, … `promise_slack` tokens more (drawn per chunk, seeded)."""
    examples = generate_split(split, n, seed=seed)
    rng = random.Random(f"slack|{seed}")
    slack = (lambda: 10 * rng.randint(0, promise_slack // 10)) if promise_slack else None
    return examples, [Record(ex.prompt, render_annotated(ex, lm.count_tokens, slack))
                      for ex in examples]


def stage2_data(lm: LoadedModel, n: int, everyday: float = 0.0,
                seed: int = 0) -> tuple[list[Example], list[Record]]:
    """Stage 2's prompt pool: `n` world training examples, and everyday requests outside the
    world (`prompts.everyday_requests`) to make up the share `everyday` of the pool; and the
    world examples' annotated records (stage 1's data, for `PrefConfig.replay`)."""
    examples, records = world_data(lm, n, seed=seed)
    extra = round(everyday / (1 - everyday) * len(examples)) if 0 < everyday < 1 else 0
    return examples + everyday_requests("train", extra, seed=seed), records


def replay_sequences(lm: LoadedModel, records: Sequence[Record], cfg: PrefConfig,
                     seed: int = 0) -> list[TrainSeq]:
    """As many of `records` as stage 2 can replay (`cfg.replay` × every pair of every round),
    drawn at random and encoded as stage 1 encodes them; none when `cfg.replay` is 0."""
    k = min(len(records), round(cfg.replay * cfg.prompts * cfg.rounds))
    picked = random.Random(f"replay-records|{seed}").sample(records, k) if k > 0 else []
    return [encode_record(r, lm.tokenizer, lm.eos_token_id, annotated=True) for r in picked]


def _trainable(lm: LoadedModel, lora: bool) -> torch.nn.Module:
    if lm.dtype != torch.float32:  # train in fp32 master weights
        lm.model.to(torch.float32)
        lm.dtype = torch.float32
    if not lora:
        return lm.model
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as e:
        raise RuntimeError("LoRA needs the peft package: pip install peft") from e
    cfg = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0,
                     target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
    return get_peft_model(lm.model, cfg)


def _merge(lm: LoadedModel, model: torch.nn.Module, lora: bool) -> None:
    if lora:
        lm.model = model.merge_and_unload()


def stage1(lm: LoadedModel, records: list[Record], cfg: LoopConfig, lora: bool = False,
           grammar_weight: float = GRAMMAR_WEIGHT, **kw) -> list[LogEntry]:
    """Supervised finetuning on annotated answers (the loss of docs/PASTA_LANG.md §4), plus
    `grammar_weight` × the penalty on tags a thread may never write (`loop.grammar_penalty`),
    also over the answers' main-thread-only forms (`data.grammar_contexts`)."""
    model = _trainable(lm, lora)
    eos = lm.eos_token_id
    seqs = [encode_record(r, lm.tokenizer, eos, annotated=True) for r in records]
    if grammar_weight:
        seqs += grammar_contexts(records, lm.tokenizer, eos)
    hist = train_sft(model, seqs, cfg, lm.tokenizer.pad_token_id, "stage1 sft",
                     grammar=TagGrammar.of(lm.tokenizer), grammar_weight=grammar_weight, **kw)
    _merge(lm, model, lora)
    return hist


def stage2(lm: LoadedModel, examples: list[Example], cfg: PrefConfig, lora: bool = False,
           replay: Sequence[Record] = (), seed: int = 0, **kw) -> dict:
    """BoNBoN on the model's own samples (`prefs.run_stage2`), judged by the world's judge;
    `replay`: stage-1 records it may replay (`PrefConfig.replay`), drawn under `seed` as the
    prompts are."""
    model = _trainable(lm, lora)
    lm_view = LoadedModel(lm.spec, model, lm.tokenizer, lm.device, lm.dtype, lm.eos_token_ids)
    seqs = replay_sequences(lm, replay, cfg, seed=seed)
    out = run_stage2(lm_view, examples, lambda ex, text: judge_response(ex, text).total, cfg,
                     repeats=says_twice, replay=seqs, seed=seed, **kw)
    _merge(lm, model, lora)
    return out


def is_run(path: str | Path) -> bool:
    """A folder this package wrote: a saved run (`training.json`) or a world build
    (`report.json`, or its first checkpoint `stage0/`). Only such a folder is replaced without
    being told to."""
    p = Path(path)
    return p.is_dir() and any((p / f).is_file() for f in ("training.json", "report.json",
                                                          "stage0/training.json"))


def save_run(lm: LoadedModel, out: str | Path, card: str, info: dict | None = None) -> Path:
    """Save as a Hugging Face model directory (bf16 safetensors) with its card. Written to a
    temporary sibling folder first and renamed into place, so a failed save leaves neither
    half a model nor the temporary folder. An existing `out` (a folder) is replaced only
    once the new one is complete; the caller decides whether it may be (`is_run`)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out.name} is a file, not a model folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    old = None
    try:
        dtype = next(lm.model.parameters()).dtype
        lm.model.to(torch.bfloat16).save_pretrained(tmp, safe_serialization=True)
        lm.model.to(dtype)
        lm.tokenizer.save_pretrained(tmp)
        (tmp / "README.md").write_text(card)
        if info is not None:
            (tmp / "training.json").write_text(json.dumps(info, indent=1))
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            out.rename(old / "run")
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not out.exists():  # put the previous run back
            (old / "run").rename(out)
            shutil.rmtree(old, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return out

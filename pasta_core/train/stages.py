"""The two finetuning stages on any loaded model — what the CLI and the UI's Train tab call.

    stage1(lm, records, LoopConfig(...))          SFT on annotated answers (shared layout)
    stage2(lm, examples, PrefConfig(...))         BoNBoN on the model's own samples
    save_run(lm, out, card)                       a model directory the app can load (runs/NAME)
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch

from ..models import LoadedModel
from ..world import Example, generate_split, judge_response
from ..world.prompts import render_annotated
from .data import Record, TagGrammar, encode_record, grammar_contexts
from .loop import LogEntry, LoopConfig, train_sft
from .prefs import PrefConfig, run_stage2

log = logging.getLogger(__name__)

GRAMMAR_WEIGHT = 1.0  # stage 1's default weight of the forbidden-tag penalty


def world_data(lm: LoadedModel, n: int, seed: int = 0,
               split: str = "train") -> tuple[list[Example], list[Record]]:
    """World examples and their annotated records, `tokens` counted with this model's
    tokenizer (so promises state real lengths)."""
    examples = generate_split(split, n, seed=seed)
    return examples, [Record(ex.prompt, render_annotated(ex, lm.count_tokens))
                      for ex in examples]


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
    """Supervised finetuning on annotated answers (the loss of PASTA_LANG.md §4), plus
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
           **kw) -> dict:
    model = _trainable(lm, lora)
    lm_view = LoadedModel(lm.spec, model, lm.tokenizer, lm.device, lm.dtype, lm.eos_token_ids)
    out = run_stage2(lm_view, examples, lambda ex, text: judge_response(ex, text).total, cfg,
                     **kw)
    _merge(lm, model, lora)
    return out


def save_run(lm: LoadedModel, out: str | Path, card: str, info: dict | None = None) -> Path:
    """Save as a Hugging Face model directory (bf16 safetensors) with its card. Written to a
    temporary folder first and moved into place, so a failed save leaves no half model."""
    out = Path(out)
    tmp = out.with_name(out.name + ".partial")
    tmp.mkdir(parents=True, exist_ok=True)
    dtype = next(lm.model.parameters()).dtype
    lm.model.to(torch.bfloat16).save_pretrained(tmp, safe_serialization=True)
    lm.model.to(dtype)
    lm.tokenizer.save_pretrained(tmp)
    (tmp / "README.md").write_text(card)
    if info is not None:
        (tmp / "training.json").write_text(json.dumps(info, indent=1))
    if out.exists():
        import shutil

        shutil.rmtree(out)
    tmp.rename(out)
    return out

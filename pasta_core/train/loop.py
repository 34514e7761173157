"""The optimisation loop shared by every stage (an `accelerate` loop: `accelerate launch`
spreads the same code over several GPUs), and the log-probabilities both losses use.

Logits come from ONE forward over the shared layout; `labels[i]` is the token the logits at i
must predict (already aligned with its thread's predecessor), so no shift happens here.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

from .data import Batch, TagGrammar, TrainSeq, batches, collate

log = logging.getLogger(__name__)


@dataclass
class LoopConfig:
    epochs: float = 4.0
    lr: float = 2e-3
    min_lr_ratio: float = 0.1
    warmup: float = 0.05  # share of the steps
    batch_tokens: int = 4096  # padded tokens per optimiser step
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    max_steps: int | None = None  # cap (the Space's training limits)
    seed: int = 0
    # run each training forward and backward under bf16 autocast (the weights and the
    # optimiser stay fp32) where the device has bf16 kernels (`bf16_is_fast`): 1.6–1.8× a step
    # of the world recipe for the bundled model's shape on a CPU with AVX512; on one without
    # (AVX2 only) bf16 is emulated, 30× slower, so the loop trains in fp32 there
    # (bench/results-cpu/train-bf16.md)
    bf16: bool = False


@dataclass
class LogEntry:
    stage: str
    step: int
    total: int
    loss: float
    lr: float
    elapsed_s: float
    eta_s: float
    extra: dict

    def to_dict(self) -> dict:
        return asdict(self)


def bf16_is_fast(device_type: str) -> bool:
    """Whether bf16 autocast speeds training up on this device: a GPU with bf16, or a CPU whose
    oneDNN has bf16 kernels (AVX512 or newer). A CPU with AVX2 only emulates bf16: a step of
    the world recipe took 13.7 s there against 0.42 s in fp32."""
    if device_type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device_type == "cpu":
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


def uses_bf16(cfg: LoopConfig, device_type: str | None = None) -> bool:
    """Whether a loop with `cfg` runs under bf16 autocast on this device (``cfg.bf16`` asks for
    it; it is used only where it is fast). Default device: the one `run_loop` trains on."""
    return cfg.bf16 and bf16_is_fast(device_type or _loop_device_type())


def _loop_device_type() -> str:
    """The device `run_loop`'s Accelerator trains on: a GPU where there is one, else the CPU."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def _logp(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
    """Log-softmax of the logits of ONE forward over the shared layout (B × L × V)."""
    logits = model(input_ids=batch.input_ids, position_ids=batch.position_ids,
                   attention_mask=batch.attention_mask).logits.float()
    return torch.log_softmax(logits, dim=-1)


def _label_logprobs(logp: torch.Tensor, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    mask = batch.labels != -100
    lp = logp.gather(-1, batch.labels.clamp(min=0)[..., None])[..., 0]
    return lp * mask, mask


def token_logprobs(model: torch.nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token log-probabilities of the labels (B × L, 0 where there is no label) and the
    label mask (B × L)."""
    return _label_logprobs(_logp(model, batch), batch)


def grammar_penalty(logp: torch.Tensor, batch: Batch, grammar: TagGrammar) -> torch.Tensor:
    """Unlikelihood (Welleck et al. 2019) of the tags a thread may never write: the mean over
    learned positions of −log(1 − p(a forbidden tag token)). The labels never hold such a
    token in well-formed data, so this only sharpens what the SFT loss already asks; its
    gradient is ≈ p, so it acts where a thread is tempted (a tiny model's main thread that has
    just written a fact sentence, as chunks do before their `</async>`)."""
    mask = batch.labels != -100
    if not mask.any():
        return logp.new_zeros(())
    forbidden = logp.new_full(mask.shape, float("-inf"))
    for ids, rows in ((grammar.main, ~batch.in_chunk), (grammar.chunk, batch.in_chunk)):
        if ids:
            lse = logp[..., list(ids)].logsumexp(-1)
            forbidden = torch.where(rows, lse, forbidden)
    pen = -torch.log1p(-forbidden.exp().clamp(max=1 - 1e-6))
    return (pen * mask).sum() / mask.sum()


def sft_terms(logp: torch.Tensor, batch: Batch, grammar: TagGrammar | None,
              weight: float) -> tuple[torch.Tensor, dict]:
    """Mean negative log-likelihood of the labels (of sequences with `nll_weight` > 0), plus
    `weight` × the grammar penalty (on every sequence)."""
    lp, mask = _label_logprobs(logp, batch)
    w = mask * batch.nll_weight[:, None]
    nll = -((lp * w).sum() / w.sum().clamp(min=1))
    if not grammar or not weight:
        return nll, {}
    pen = grammar_penalty(logp, batch, grammar)
    return nll + weight * pen, {"nll": nll.item(), "grammar": pen.item()}


def sft_loss(grammar: TagGrammar | None = None, weight: float = 0.0) -> Callable:
    """The SFT loss (docs/PASTA_LANG.md §4), with the grammar penalty when `grammar` and
    `weight`."""

    def loss(model, batch):
        return sft_terms(_logp(model, batch), batch, grammar, weight)

    return loss


def _lr_at(step: int, total: int, cfg: LoopConfig) -> float:
    warm = max(1, int(total * cfg.warmup))
    if step < warm:
        return cfg.lr * (step + 1) / warm
    t = (step - warm) / max(1, total - warm)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t)))


def run_loop(model: torch.nn.Module, groups: list[list], loss_fn: Callable, cfg: LoopConfig,
             stage: str, collate_fn: Callable[[list], object],
             on_log: Callable[[LogEntry], None] | None = None,
             should_stop: Callable[[], bool] | None = None,
             progress: bool = True) -> list[LogEntry]:
    """Optimise `loss_fn(model, collate_fn(group))` over `groups` (one optimiser step each)
    for cfg.epochs passes. Returns the log. Stops cleanly between two optimiser steps when
    `should_stop()` says so (the model keeps the last finished step)."""
    from accelerate import Accelerator
    from tqdm.auto import tqdm

    acc = Accelerator(cpu=_loop_device_type() == "cpu")
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                            betas=(0.9, 0.95))
    model, opt = acc.prepare(model, opt)
    groups = groups[acc.process_index::acc.num_processes]  # each process its share (multi-GPU)
    total = math.ceil(len(groups) * cfg.epochs)
    if cfg.max_steps is not None:
        total = min(total, cfg.max_steps)
    rng = random.Random(cfg.seed)
    history: list[LogEntry] = []
    t0 = time.perf_counter()
    model.train()
    bf16 = uses_bf16(cfg, acc.device.type)
    if cfg.bf16 and not bf16:
        log.warning("%s: bf16 was asked for, but this %s has no bf16 kernels (it would emulate "
                    "them, about 30x slower); training in fp32", stage, acc.device.type)
    bar = tqdm(total=total, desc=stage, disable=not progress, leave=False)
    order: list[int] = []
    running = None
    try:
        for step in range(total):
            if should_stop is not None and should_stop():
                log.info("%s: stopped after %d of %d steps", stage, step, total)
                break
            if not order:
                order = list(range(len(groups)))
                rng.shuffle(order)
            batch = _to(collate_fn(groups[order.pop()]), acc.device)
            lr = _lr_at(step, total, cfg)
            for g in opt.param_groups:
                g["lr"] = lr
            with torch.autocast(acc.device.type, dtype=torch.bfloat16, enabled=bf16):
                loss, extra = _unpack(loss_fn(model, batch))
            acc.backward(loss)
            if cfg.grad_clip:
                acc.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            opt.zero_grad(set_to_none=True)
            value = loss.item()
            running = value if running is None else 0.9 * running + 0.1 * value
            elapsed = time.perf_counter() - t0
            entry = LogEntry(stage, step + 1, total, value, lr, elapsed,
                             elapsed / (step + 1) * (total - step - 1), extra)
            history.append(entry)
            bar.update(1)
            bar.set_postfix(loss=f"{running:.3f}")
            if on_log is not None:
                on_log(entry)
    finally:
        bar.close()
        model.eval()
    return history


def _to(obj, device):
    if isinstance(obj, tuple):
        return tuple(_to(o, device) for o in obj)
    return obj.to(device)


def _unpack(out) -> tuple[torch.Tensor, dict]:
    if isinstance(out, tuple):
        return out[0], out[1]
    return out, {}


def train_sft(model: torch.nn.Module, seqs: list[TrainSeq], cfg: LoopConfig, pad_id: int,
              stage: str = "sft", grammar: TagGrammar | None = None, grammar_weight: float = 0.0,
              **kw) -> list[LogEntry]:
    """Supervised finetuning on shared-layout sequences (stage 0 on plain answers, stage 1 on
    annotated ones, with the grammar penalty when `grammar_weight` > 0)."""
    groups = list(batches(seqs, cfg.batch_tokens, random.Random(cfg.seed)))
    return run_loop(model, groups, sft_loss(grammar, grammar_weight), cfg, stage,
                    lambda g: collate(g, pad_id), **kw)


@torch.no_grad()
def sequence_logprobs(model: torch.nn.Module, seqs: list[TrainSeq], pad_id: int,
                      batch_tokens: int = 8192) -> list[float]:
    """Summed log-probability of each sequence's learned tokens (the layout's labels)."""
    model.eval()
    out = [0.0] * len(seqs)
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    i = 0
    while i < len(order):
        j = i + 1
        while j < len(order) and len(seqs[order[j]]) * (j - i + 1) <= batch_tokens:
            j += 1
        idx = order[i:j]
        batch = collate([seqs[k] for k in idx], pad_id).to(next(model.parameters()).device)
        lp, _ = token_logprobs(model, batch)
        for k, v in zip(idx, lp.sum(-1).tolist(), strict=True):
            out[k] = v
        i = j
    return out


def ipo_terms(policy_w: torch.Tensor, policy_l: torch.Tensor, ref_w: torch.Tensor,
              ref_l: torch.Tensor, beta: float) -> torch.Tensor:
    """IPO (Azar et al. 2023): (h − 1/(2β))², h the log-ratio margin of chosen over rejected."""
    h = (policy_w - ref_w) - (policy_l - ref_l)
    return (h - 1.0 / (2.0 * beta)) ** 2


def bonbon_loss(alpha: float, beta: float, grammar: TagGrammar | None = None,
                grammar_weight: float = 0.0) -> Callable:
    """BoNBoN (Gui et al. 2024), as PASTA's stage 2 uses it: α · SFT on the best sample +
    (1 − α) · IPO on best vs worst against the stage-1 reference. With a grammar, α ·
    `grammar_weight` × the forbidden-tag penalty on BOTH samples: the worst one is where a
    model's own slips show (a main thread that wrote `</async>`). On the world's training
    prompts they were rare (≤ 1 of 512 samples a round), so stage 1's main-thread-only
    contexts are what removed them; this term keeps stage 2 from bringing them back. A batch
    is (chosen Batch, rejected Batch, ref chosen log-probs, ref rejected log-probs)."""

    def loss(model, batch):
        chosen, rejected, ref_w, ref_l = batch
        logp_w, logp_l = _logp(model, chosen), _logp(model, rejected)
        lp_w, _ = _label_logprobs(logp_w, chosen)
        lp_l, _ = _label_logprobs(logp_l, rejected)
        sw, sl = lp_w.sum(-1), lp_l.sum(-1)
        sft, extra = sft_terms(logp_w, chosen, grammar, grammar_weight)
        ipo = ipo_terms(sw, sl, ref_w, ref_l, beta).mean()
        total = alpha * sft + (1 - alpha) * ipo
        if grammar and grammar_weight:
            pen_l = grammar_penalty(logp_l, rejected, grammar)
            total = total + alpha * grammar_weight * pen_l
            extra["grammar_rejected"] = pen_l.item()
        return total, {**extra, "sft": sft.item(), "ipo": ipo.item(),
                       "margin": ((sw - ref_w) - (sl - ref_l)).mean().item()}

    return loss

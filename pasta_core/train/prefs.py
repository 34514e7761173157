"""Stage 2 — preference optimisation on the model's own samples (the paper's recipe).

Each round: for every training prompt, the interpreter samples N annotated responses from the
current model; each is scored `theoretical_speedup + λ · quality` (judge), less a penalty
when its tags do not parse (docs/PASTA_LANG.md §3: the interpreter copes, but the answer is
not what the model meant to promise), one when it promises a topic twice, and one for each
promise more or fewer than the parts the prompt asks for, and one (`repeat_penalty`, where the
caller says what a repeat is) when it says something twice; the best and the worst form a pair
(with `clean_chosen`, only when the best has nothing taken off)
(the world recipe adds everyday requests outside the world to the prompt pool:
`PrefConfig.everyday`);
the model trains with BoNBoN (SFT on the best + IPO on best vs worst, against the stage-1
reference). Every sample's (speed-up, quality) point and each round's Pareto front are
recorded — the paper's picture.

The speed-up of a sample is measured against what a sequential model would need for the same
answer: (tokens of its spliced text + end of sequence) / (decoding steps of the PASTA run), so
tags are counted as the overhead they are.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import torch

from ..events import Trace
from ..interpreter import Interpreter, Settings
from ..layout import ThreadTokens, build_layout
from ..models import LoadedModel
from ..settings import EVAL_MAX_NEW_TOKENS
from .data import TagGrammar, TrainSeq, collate, from_layout
from .loop import LogEntry, LoopConfig, bonbon_loss, run_loop, sequence_logprobs

log = logging.getLogger(__name__)


@dataclass
class PrefConfig:
    prompts: int = 96  # training prompts per round
    n_samples: int = 4  # N ≥ 4 samples per prompt
    lam: float = 1.0  # λ: weight of quality against speed-up
    error_penalty: float = 1.0  # taken off the score of a sample whose tags do not parse
    # taken off a sample that promises one topic twice: a repeated chunk is more tokens per
    # step, so the speed-up term alone rewards it (33% of test answers did so without this)
    duplicate_penalty: float = 1.0
    # taken off a sample times |promises − parts asked| ÷ parts (`parts_mismatch`): a part
    # left out makes a shorter answer and a part split twice a faster one, so neither the
    # speed-up term nor the judge's coverage share alone holds an answer to one promise a part
    parts_penalty: float = 1.0
    # share of the prompt pool that is everyday requests outside the world, composed from a
    # form and a topic (`prompts.everyday_requests`, training topics and wordings): the judge
    # scores only an honest "I do not know" answer to one of them, so stage 2 teaches it on
    # requests no earlier stage read
    everyday: float = 0.0
    # taken off a sample that says something twice (`run_stage2`'s `repeats`; the world's:
    # a fact restated, or an outside answer's suggestion naming one thing twice)
    repeat_penalty: float = 0.0
    # the first of the N samples is the greedy one: what the Decode tab and the eval show. A
    # slip that lives only in the greedy path (the suggestion "the flamingo and the flamingo":
    # 33 of 45 greedy outside answers, 0 of 180 sampled at T = 0.8) then shows up in a pair
    greedy_first: bool = False
    # a pair is formed only when its best sample has nothing taken off: it parses, promises no
    # topic twice, one promise per asked part, and says nothing twice. Otherwise stage 2 would
    # train towards (SFT) and prefer (IPO) an answer that breaks the rules it scores
    clean_chosen: bool = False
    # stage-1 examples (annotated reference answers of the world's training prompts) trained
    # on in each round beside its pairs, as a share of the pairs (SFT only; the caller gives
    # them: `run_stage2`'s `replay`). Stage 2 learns only from what it samples and scores, so
    # what it does not score drifts: its everyday refusals taught the model to refuse in-world
    # requests worded as no training prompt is (validation: one-entity descriptions refused
    # 0 of 11 after stage 1, 3 of 11 after stage 2). Replay holds stage 1's answers in place,
    # and with them stage 1's honesty: at 1.0 (with `repeat_penalty` 1) validation refusals
    # after chatter fell 11 -> 6 of 178, but honest outside answers 72 -> 64 of 80, so the
    # recipe leaves it off (bench/results-cpu/stage2-repeats-criterion.md)
    replay: float = 0.0
    grammar_weight: float = 1.0  # stage 1's penalty on forbidden tags, in the SFT term
    beta: float = 0.1  # IPO's β
    alpha: float = 0.5  # weight of the SFT term
    rounds: int = 2
    temperature: float = 0.8
    top_p: float = 0.95
    max_new_tokens: int = EVAL_MAX_NEW_TOKENS
    # one gentle pass per round: IPO's margin is a sum over a whole answer, so a larger step
    # (2e-4, two epochs) overshot it by tens of nats and cost quality round after round
    loop: LoopConfig = field(default_factory=lambda: LoopConfig(epochs=1, lr=5e-5,
                                                                batch_tokens=2048))


@dataclass
class Point:
    round: int
    prompt: int
    speedup: float
    quality: float
    score: float
    role: str = ""  # "chosen", "rejected" or ""


def sample_speedup(lm: LoadedModel, trace: Trace) -> float:
    """Sequential tokens for the same answer / PASTA steps (see the module docstring)."""
    plain = lm.count_tokens(trace.text) + 1
    return plain / max(1, trace.steps)


def duplicate_topics(trace: Trace) -> bool:
    """Whether a sample promises some topic twice (case and spaces aside)."""
    topics = [c.topic.strip().lower() for c in trace.document.chunks]
    return len(topics) != len(set(topics))


def parts_mismatch(example: object, trace: Trace) -> float:
    """|chunks promised − parts asked for| ÷ parts (÷ 1 when nothing is to be split, so each
    promise there counts whole); 0 for an example that does not say its parts."""
    parts = getattr(example, "parts", None)
    if parts is None:
        return 0.0
    return abs(len(trace.document.chunks) - len(parts)) / max(1, len(parts))


def tag_errors(trace: Trace) -> list:
    """The parse errors of a sample's annotated text (docs/PASTA_LANG.md §3)."""
    return trace.document.errors


def penalty(cfg: PrefConfig, example: object, trace: Trace,
            repeats: Callable[[str], bool] | None = None) -> float:
    """What stage 2 takes off a sample's score: tags that do not parse, a topic promised twice,
    promises off the parts asked for, and (where the caller says what a repeat is) saying
    something twice."""
    bad = cfg.error_penalty if tag_errors(trace) else 0.0
    bad += cfg.duplicate_penalty if duplicate_topics(trace) else 0.0
    bad += cfg.parts_penalty * parts_mismatch(example, trace)
    if cfg.repeat_penalty and repeats is not None and repeats(trace.text):
        bad += cfg.repeat_penalty
    return bad


def pareto_front(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points not dominated in (speed-up, quality), sorted by speed-up."""
    front = []
    for p in sorted(set(points), key=lambda q: (-q[0], -q[1])):
        if not front or p[1] > front[-1][1]:
            front.append(p)
    return sorted(front)


def dominates(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> bool:
    """Front `a` dominates front `b`: every point of b is weakly beaten by a point of a, one
    strictly."""
    def beaten(p, strict):
        return any(q[0] >= p[0] and q[1] >= p[1] and (not strict or q != p) for q in a)
    return bool(b) and all(beaten(p, False) for p in b) and any(beaten(p, True) for p in b)


def sample(lm: LoadedModel, prompt: str, seed: int, cfg: PrefConfig,
           greedy: bool = False) -> Trace:
    s = Settings(max_new_tokens=cfg.max_new_tokens, temperature=0.0 if greedy else
                 cfg.temperature, top_p=cfg.top_p, seed=seed)
    *_, done = Interpreter(lm, prompt, "pasta", s).events()
    return done.trace


def run_stage2(lm: LoadedModel, examples: list, judge: Callable[[object, str], float],
               cfg: PrefConfig, on_log: Callable[[LogEntry], None] | None = None,
               on_points: Callable[[list[Point]], None] | None = None,
               should_stop: Callable[[], bool] | None = None, seed: int = 0,
               progress: bool = True,
               on_prompt: Callable[[list[Point]], None] | None = None,
               repeats: Callable[[str], bool] | None = None,
               replay: Sequence[TrainSeq] = ()) -> dict:
    """Train `lm.model` in place. `examples` have `.prompt`; `judge(example, text)` → [0, 1];
    `repeats(text)`: the sample says something twice (`cfg.repeat_penalty`); `replay`: stage-1
    sequences, `cfg.replay` × the round's pairs of them trained on beside the pairs (each as
    its own chosen and rejected: the IPO term of a pair with itself is constant).
    Returns {"points": [...], "fronts": {round: front}, "history": [...]}.
    `on_points` gets each round's points when its sampling ends; `on_prompt` gets one prompt's
    N points as soon as they are scored, its pair's roles set (the UI's live scatter)."""
    from tqdm.auto import tqdm

    pad = lm.tokenizer.pad_token_id
    rng = random.Random(seed)
    replay_rng = random.Random(f"replay|{seed}")  # its own: the prompts drawn stay the same
    points: list[Point] = []
    fronts: dict[int, list] = {}
    history: list[LogEntry] = []
    # the reference is the stage-1 model (the model as it comes in): its weights are kept aside
    ref_state = {k: v.detach().clone() for k, v in lm.model.state_dict().items()}
    loss = bonbon_loss(cfg.alpha, cfg.beta, TagGrammar.of(lm.tokenizer), cfg.grammar_weight)
    for rnd in range(cfg.rounds):
        if should_stop is not None and should_stop():
            break
        chosen, rejected, round_points = [], [], []
        batch = rng.sample(examples, min(cfg.prompts, len(examples)))
        for i, ex in enumerate(tqdm(batch, desc=f"stage2 round {rnd + 1} sampling",
                                    disable=not progress, leave=False)):
            if should_stop is not None and should_stop():
                break
            scored = []
            for k in range(cfg.n_samples):
                trace = sample(lm, ex.prompt, seed=seed * 100_000 + rnd * 1000 + k * 7 + i,
                               cfg=cfg, greedy=cfg.greedy_first and k == 0)
                q, sp = judge(ex, trace.text), sample_speedup(lm, trace)
                bad = penalty(cfg, ex, trace, repeats)
                pt = Point(rnd, i, sp, q, sp + cfg.lam * q - bad)
                scored.append((pt.score, k, trace, pt, bad))
                round_points.append(pt)
            scored.sort(key=lambda x: (x[0], -x[1]))
            (lo, _, worst, p_lo, _), (hi, _, best, p_hi, best_bad) = scored[0], scored[-1]
            # no preference to learn when all score alike, nor (clean_chosen) a best to learn
            if hi - lo >= 1e-6 and not (cfg.clean_chosen and best_bad > 0):
                p_lo.role, p_hi.role = "rejected", "chosen"
                chosen.append(_seq(best))
                rejected.append(_seq(worst))
            if on_prompt is not None:
                on_prompt(round_points[-len(scored):])
        points += round_points
        fronts[rnd] = pareto_front([(p.speedup, p.quality) for p in round_points])
        if on_points is not None:
            on_points(round_points)
        if not chosen:
            log.warning("stage 2 round %d: no pairs with a preference", rnd + 1)
            continue
        for seq in replay_rng.sample(replay, min(len(replay), round(cfg.replay * len(chosen)))):
            chosen.append(seq)
            rejected.append(seq)
        ref_w, ref_l = _ref_logprobs(ref_state, lm, chosen, rejected, pad)
        groups = [[j] for j in range(len(chosen))]
        loop_cfg = cfg.loop

        def collate_pair(g, chosen=chosen, rejected=rejected, ref_w=ref_w, ref_l=ref_l):
            return (collate([chosen[j] for j in g], pad), collate([rejected[j] for j in g], pad),
                    torch.tensor([ref_w[j] for j in g]), torch.tensor([ref_l[j] for j in g]))

        history += run_loop(lm.model, groups, loss, loop_cfg,
                            f"stage2 round {rnd + 1}", collate_pair, on_log=on_log,
                            should_stop=should_stop, progress=progress)
    return {"points": [asdict(p) for p in points],
            "fronts": {str(r): f for r, f in fronts.items()},
            "history": [h.to_dict() for h in history]}


def _seq(trace: Trace):
    tt = ThreadTokens.from_trace(trace.to_dict())
    return from_layout(build_layout(trace.prompt_token_ids, tt))


def _ref_logprobs(state: dict, lm: LoadedModel, chosen, rejected, pad):
    current = {k: v.detach().clone() for k, v in lm.model.state_dict().items()}
    lm.model.load_state_dict(state)
    try:
        return (sequence_logprobs(lm.model, chosen, pad),
                sequence_logprobs(lm.model, rejected, pad))
    finally:
        lm.model.load_state_dict(current)

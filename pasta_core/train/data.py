"""Training examples → sequences with the shared layout → padded batches.

Every sequence is built by `layout.build_layout`, the same rules the interpreter decodes with:
plain responses (the base model) are simply responses with no chunks.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from .. import lang
from ..layout import Layout, ThreadTokens, build_layout
from ..models import encode_prompt


@dataclass
class Record:
    """One training example: a prompt and a response (annotated, canonical form, or plain)."""

    prompt: str
    response: str


@dataclass
class TrainSeq:
    input_ids: list[int]
    position_ids: list[int]
    visible: torch.Tensor  # L × L bool
    labels: list[int]
    in_chunk: list[bool]  # the prediction at i is a chunk thread's (else the main thread's)
    nll_weight: float = 1.0  # 0: a grammar-only context (`grammar_contexts`), nothing imitated

    def __len__(self) -> int:
        return len(self.input_ids)


def encode_record(rec: Record, tok, eos_id: int, annotated: bool,
                  prompt_ids: Sequence[int] | None = None) -> TrainSeq:
    ids = prompt_ids if prompt_ids is not None else encode_prompt(tok, rec.prompt)

    def enc(text: str) -> list[int]:
        return tok.encode(text, add_special_tokens=False)

    if annotated:
        tt = ThreadTokens.from_text(rec.response, enc, eos_id)
    else:
        tt = ThreadTokens(main=enc(rec.response) + [eos_id])
    return from_layout(build_layout(ids, tt))


def from_layout(lay: Layout) -> TrainSeq:
    return TrainSeq(lay.input_ids[0].tolist(), lay.position_ids[0].tolist(),
                     lay.visible, lay.labels[0].tolist(),
                     (lay.thread_ids > 0).tolist())


@dataclass(frozen=True)
class TagGrammar:
    """Tag tokens a thread may never write (docs/PASTA_LANG.md §1, §4): the main thread never closes
    or opens an async block (the interpreter writes a chunk's opening tag in the chunk's own
    thread); a chunk never promises, syncs or opens another block. Only tags that are ONE token
    in this tokenizer count (the bundled one has them as dedicated tokens); a tokenizer that
    spells them in pieces gets an empty grammar, since a piece like `</` is ordinary text."""

    main: tuple[int, ...] = ()
    chunk: tuple[int, ...] = ()

    MAIN_NEVER = ("</async>", '<async topic="', "<async")
    CHUNK_NEVER = ('<async topic="', "<async", '<promise topic="', "<promise", "<sync/>")

    @classmethod
    def of(cls, tok) -> TagGrammar:
        def single(pieces: tuple[str, ...]) -> tuple[int, ...]:
            ids = []
            for piece in pieces:
                enc = tok.encode(piece, add_special_tokens=False)
                if len(enc) == 1 and tok.decode(enc) == piece:
                    ids.append(enc[0])
            return tuple(sorted(set(ids)))

        return cls(single(cls.MAIN_NEVER), single(cls.CHUNK_NEVER))

    def __bool__(self) -> bool:
        return bool(self.main or self.chunk)


def grammar_contexts(records: Sequence[Record], tok, eos_id: int) -> list[TrainSeq]:
    """Each annotated answer that promises, spliced and written by the main thread alone, as a
    sequence for the grammar penalty only (`nll_weight` 0): nothing there is imitated, so the
    model is not taught to answer without promises, but it sees its main thread write fact
    sentences, the very place a chunk would close, and learns that main never writes
    `</async>` there. Without them the rule is only ever checked where main writes tags.
    No contexts for a tokenizer without a grammar (`TagGrammar.of`): they would teach nothing."""
    if not TagGrammar.of(tok):
        return []
    out = []
    for rec in records:
        doc = lang.parse_document(rec.response)
        if doc.chunks and not doc.errors:
            seq = encode_record(Record(rec.prompt, lang.splice(rec.response)), tok, eos_id,
                                annotated=False)
            seq.nll_weight = 0.0
            out.append(seq)
    return out


@dataclass
class Batch:
    input_ids: torch.Tensor  # B × L
    position_ids: torch.Tensor  # B × L
    attention_mask: torch.Tensor  # B × 1 × L × L additive
    labels: torch.Tensor  # B × L, aligned with the logits (no shift)
    in_chunk: torch.Tensor  # B × L bool: the prediction at i is a chunk thread's
    nll_weight: torch.Tensor  # B: weight of each sequence's labels in the likelihood term

    def to(self, device) -> Batch:
        return Batch(*(t.to(device) for t in (self.input_ids, self.position_ids,
                                               self.attention_mask, self.labels,
                                               self.in_chunk, self.nll_weight)))


def collate(seqs: Sequence[TrainSeq], pad_id: int, dtype: torch.dtype = torch.float32) -> Batch:
    """Right-pad to the longest sequence; a pad token sees only itself and is not learned."""
    L = max(len(s) for s in seqs)
    B = len(seqs)
    ids = torch.full((B, L), pad_id, dtype=torch.long)
    pos = torch.zeros((B, L), dtype=torch.long)
    labels = torch.full((B, L), -100, dtype=torch.long)
    in_chunk = torch.zeros((B, L), dtype=torch.bool)
    vis = torch.eye(L, dtype=torch.bool).repeat(B, 1, 1)
    for b, s in enumerate(seqs):
        n = len(s)
        ids[b, :n] = torch.tensor(s.input_ids)
        pos[b, :n] = torch.tensor(s.position_ids)
        labels[b, :n] = torch.tensor(s.labels)
        in_chunk[b, :n] = torch.tensor(s.in_chunk)
        vis[b, :n, :n] = s.visible
    mask = torch.where(vis, 0.0, torch.finfo(dtype).min).to(dtype)[:, None]
    return Batch(ids, pos, mask, labels, in_chunk,
                 torch.tensor([s.nll_weight for s in seqs], dtype=torch.float32))


def batches(seqs: list[TrainSeq], batch_tokens: int, rng: random.Random) -> Iterator[list]:
    """Length-bucketed batches of about `batch_tokens` padded tokens, in random order."""
    order = sorted(range(len(seqs)), key=lambda i: (len(seqs[i]), rng.random()))
    groups, cur, longest = [], [], 0
    for i in order:
        longest = max(longest, len(seqs[i]))
        if cur and longest * (len(cur) + 1) > batch_tokens:
            groups.append(cur)
            cur, longest = [], len(seqs[i])
        cur.append(i)
    if cur:
        groups.append(cur)
    rng.shuffle(groups)
    for g in groups:
        yield [seqs[i] for i in g]


def read_jsonl(path: str | Path, skip_bad: bool = False) -> tuple[list[Record], list[str]]:
    """Records from a JSONL file of {"prompt", "annotated"} (canonical PASTA-LANG) lines.
    Returns (records, problems); each problem names its line number and what is wrong.
    With skip_bad=False any problem means no records."""
    records, problems = [], []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"line {n}: not JSON ({e.msg})")
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("prompt"), str) or not isinstance(
                obj.get("annotated"), str):
            problems.append(f'line {n}: needs string fields "prompt" and "annotated"')
            continue
        if not obj["prompt"].strip():
            problems.append(f"line {n}: the prompt is empty")
            continue
        errors = lang.parse(obj["annotated"])["errors"]
        if errors:
            e = errors[0]
            problems.append(f"line {n}: {e['code']} at offset {e['offset']}: {e['message']}")
            continue
        records.append(Record(obj["prompt"], obj["annotated"]))
    if problems and not skip_bad:
        return [], problems
    return records, problems


def _skeleton_lines(tok, question: str, titles: Sequence[str]) -> tuple[list[int], list[int]]:
    """SoT's skeleton prompt for `question` and its skeleton of `titles`, tokenised as the SoT
    mode feeds them: (prompt ids, skeleton ids without the end token)."""
    from .. import sot

    return (encode_prompt(tok, sot.skeleton_prompt(question)),
            tok.encode(sot.render_skeleton(list(titles)), add_special_tokens=False))


def _main_only(prompt_ids: list[int], main: list[int]) -> TrainSeq:
    return from_layout(build_layout(prompt_ids, ThreadTokens(main=main)))


def sot_sequences(examples: Sequence, tok, eos_id: int, rate: float,
                  seed: int = 0) -> list[TrainSeq]:
    """Skeleton-of-Thought's two prompts (`pasta_core.sot`) over a share `rate` of the world's
    examples: the skeleton alone, and the skeleton followed by one point's cue and body,
    each piece tokenised on its own as the SoT mode feeds them."""
    from .. import sot

    rng = random.Random(f"sot|{seed}")

    def enc(text: str) -> list[int]:
        return tok.encode(text, add_special_tokens=False)

    out: list[TrainSeq] = []
    for ex in examples:
        if rng.random() >= rate:
            continue
        points = sot.reference_points(ex)
        prompt_ids, skeleton = _skeleton_lines(tok, ex.prompt, [t for t, _ in points])
        i = rng.randrange(len(points))
        title, body = points[i]
        for main in (skeleton + [eos_id],
                     skeleton + enc(sot.point_cue(i + 1, title)) + enc(body) + [eos_id]):
            out.append(_main_only(prompt_ids, main))
    return out


def drill_sequences(drills: Sequence, tok, eos_id: int) -> list[TrainSeq]:
    """Reading drills (`world.prompts.reading_drills`) as Skeleton-of-Thought skeletons: the
    list request asked for its skeleton, answered with the topics in the order asked (the
    first of `sot_sequences`' two prompts)."""
    out: list[TrainSeq] = []
    for d in drills:
        prompt_ids, skeleton = _skeleton_lines(tok, d.prompt, d.topics)
        out.append(_main_only(prompt_ids, skeleton + [eos_id]))
    return out

"""Threads → position ids and attention masks (docs/PASTA_LANG.md §4), for the interpreter AND
training.

`ThreadLayout` is the rule book, applied incrementally: every token placed gets a cache slot, a
position id and a visibility row. The interpreter places tokens step by step as it decodes;
`build_layout` replays a whole response through the same object, in the order of sequential
execution, to get the training sequence. There is no second implementation of the rules.

Rules (thread 0 is the main thread; the prompt belongs to it):
1. positions count up per thread;
2. `fork(parent, child, N)` after the parent placed its promise's last token at position p:
   the child sees what the parent sees and continues at p+1; the parent continues at p+1+N;
3. a child sees its own tokens and its snapshot of the parent, nothing placed later elsewhere;
4. `join(main, chunks)` before main places the token that ends a `<sync/>`: main sees the
   chunks from that token on, and continues at max(own next, 1 + each chunk's last position).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from . import lang, sot

MAIN = 0


class ThreadLayout:
    """Slots, positions and visibility of every token of a run, maintained incrementally.

    Visibility is one boolean row per thread over cache slots (`views`); placing n tokens costs
    O(n · width) tensor work on the layout's device and O(n) Python, whatever the run's length.
    """

    def __init__(self, device: torch.device | str = "cpu", capacity: int = 256, threads: int = 8):
        self.device = torch.device(device)
        self.views = torch.zeros(threads, capacity, dtype=torch.bool, device=self.device)
        self.next_pos: dict[int, int] = {MAIN: 0}
        self.last_pos: dict[int, int] = {}
        self.n_slots = 0

    def _grow(self, thread: int, slots: int) -> None:
        t, cap = self.views.shape
        if thread < t and slots <= cap:
            return
        nt, ncap = max(t, thread + 1), cap
        while ncap < slots:
            ncap *= 2
        if thread >= t:
            nt = max(2 * t, thread + 1)
        grown = torch.zeros(nt, ncap, dtype=torch.bool, device=self.device)
        grown[:t, :cap] = self.views
        self.views = grown

    def place(self, thread: int, n: int) -> tuple[list[int], torch.Tensor]:
        """Place n consecutive tokens of `thread`. Returns their positions and their visibility
        rows (n × capacity; row j sees the thread's view plus its first j+1 new tokens)."""
        start = self.n_slots
        self._grow(thread, start + n)
        self.n_slots += n
        p = self.next_pos[thread]
        positions = list(range(p, p + n))
        self.next_pos[thread] = p + n
        self.last_pos[thread] = p + n - 1
        view = self.views[thread]
        rows = view.expand(n, -1).clone()
        rows[:, start : start + n] = _tril(n, self.device)
        view[start : start + n] = True
        return positions, rows

    def fork(self, parent: int, child: int, promised: int) -> None:
        """Start `child` after the parent's last placed token (a promise's last token)."""
        self._grow(child, self.n_slots)
        self.views[child] = self.views[parent]
        p = self.last_pos[parent]
        self.next_pos[child] = p + 1
        self.next_pos[parent] = p + 1 + promised

    def join(self, main: int, chunks: Sequence[int]) -> None:
        """`main` sees `chunks` from its next token on, and moves past their positions."""
        for c in chunks:
            self.views[main] |= self.views[c]
            if c in self.last_pos:
                self.next_pos[main] = max(self.next_pos[main], self.last_pos[c] + 1)


# runs up to this long share one triangle (at most ~5.6 MB of them per device); a longer prompt
# makes its own, so a server's memory does not grow with the prompt lengths it has seen
_TRIL_SHARED = 256


def _tril(n: int, device: torch.device) -> torch.Tensor:
    """n × n lower-triangular visibility (read, never written): a training set builds tens of
    thousands of layouts, and making the triangle was most of their cost."""
    return _shared_tril(n, device) if n <= _TRIL_SHARED else _make_tril(n, device)


def _make_tril(n: int, device: torch.device) -> torch.Tensor:
    arange = torch.arange(n, device=device)
    return arange[:, None] >= arange[None, :]


_shared_tril = functools.lru_cache(maxsize=None)(_make_tril)


def additive_mask(rows: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Boolean visibility (q × k) → additive float mask (1 × 1 × q × k) in the model's dtype."""
    zero = torch.zeros((), dtype=dtype, device=rows.device)
    neg = torch.full((), torch.finfo(dtype).min, dtype=dtype, device=rows.device)
    return torch.where(rows, zero, neg)[None, None]


# ---------------------------------------------------------------------------------------------
# A whole response as threads of token ids


@dataclass
class ThreadTokens:
    """A response split into threads of token ids — what training and teacher forcing use.

    `main` holds the main thread (promise and sync tags as their own segments, end-of-sequence
    last when the response is complete); `chunks[k]` the whole thread of chunk k (forced opening
    tag, body, closing tag); `fork_index[k]` the index in `main` of chunk k's promise's last
    token; `sync_indices` the indices in `main` of tokens that end a `<sync/>`."""

    main: list[int]
    chunks: list[list[int]] = field(default_factory=list)
    n_forced: list[int] = field(default_factory=list)
    promised: list[int] = field(default_factory=list)
    fork_index: list[int] = field(default_factory=list)
    sync_indices: list[int] = field(default_factory=list)

    @classmethod
    def from_text(cls, annotated: str, encode: Callable[[str], list[int]], eos_id: int | None,
                  default_tokens: int = lang.DEFAULT_TOKENS) -> ThreadTokens:
        """Tokenize an annotated response, each tag as its own segment so that a promise always
        ends on a token boundary. Raises ValueError when the text has PASTA-LANG errors."""
        doc = lang.parse_document(annotated)
        if doc.errors:
            listed = "; ".join(f"{e.code} at {e.offset}: {e.message}" for e in doc.errors)
            raise ValueError(f"the annotated response has PASTA-LANG errors: {listed}")
        tt = cls(main=[])
        text: list[str] = []

        def flush_text() -> None:
            if text:
                tt.main.extend(encode("".join(text)))
                text.clear()

        for piece in doc.main:
            if isinstance(piece, str):
                text.append(piece)
            elif isinstance(piece, lang.Promise):
                flush_text()
                c = doc.chunks[piece.chunk]
                tt.main.extend(encode(lang.promise_tag(c.topic, c.tokens)))
                tt.fork_index.append(len(tt.main) - 1)
                opening = encode(lang.async_open_tag(c.topic))
                body = encode(c.body) if c.body else []
                tt.chunks.append(opening + body + encode(lang.ASYNC_CLOSE))
                tt.n_forced.append(len(opening))
                tt.promised.append(default_tokens if c.tokens is None else c.tokens)
            elif isinstance(piece, lang.Sync):
                flush_text()
                tt.main.extend(encode(lang.SYNC))
                tt.sync_indices.append(len(tt.main) - 1)
        flush_text()
        if eos_id is not None:
            tt.main.append(eos_id)
        return tt

    @classmethod
    def from_sot(cls, transcript: str, encode: Callable[[str], list[int]], eos_id: int | None,
                 promised: int) -> ThreadTokens:
        """The threads of a Skeleton-of-Thought run given as a transcript
        (`sot.render_transcript`; docs/PASTA_LANG.md §6): main holds the skeleton, then the
        end-of-turn that ends it (chosen by the run but neither stored nor recorded); chunk k
        is point k+1's thread (forced cue, body, end-of-turn), forked at the skeleton's last
        token and never joined (no chunks for a skeleton alone: its points decode freely).
        `promised` is each point's budget. Each segment is tokenized on its own, as the run
        does. `build_layout` over it is the run's training sequence: the skeleton's end-of-turn
        comes after the points' fork, so no point sees it; it only gives the skeleton's last
        token its label. Raises ValueError when the skeleton and the points disagree."""
        skeleton, titles, bodies = sot.parse_transcript(transcript)
        main = encode(skeleton)
        tt = cls(main=main + ([eos_id] if eos_id is not None else []))
        for i, (title, body) in enumerate(zip(titles[:len(bodies)], bodies, strict=True), 1):
            cue = encode(sot.point_cue(i, title))
            tt.chunks.append(cue + (encode(body) if body else [])
                             + ([eos_id] if eos_id is not None else []))
            tt.n_forced.append(len(cue))
            tt.promised.append(promised)
            tt.fork_index.append(len(main) - 1)
        return tt

    @classmethod
    def from_trace(cls, trace: dict) -> ThreadTokens:
        """The threads of a recorded run (a Trace's `to_dict()`)."""
        main, *chunks = sorted(trace["threads"], key=lambda t: t["id"])
        return cls(
            main=list(main["token_ids"]),
            chunks=[list(c["token_ids"]) for c in chunks],
            n_forced=[c["n_forced"] for c in chunks],
            promised=[c["promised_tokens"] for c in chunks],
            fork_index=[c["fork_index"] for c in chunks],
            sync_indices=list(main["sync_indices"]),
        )


@dataclass
class Layout:
    """One training sequence. `labels[i]` is the token that the logits at i must predict (the
    next token of i's thread; already aligned, no shift), -100 where nothing is learned: the
    prompt, forced opening tags, and the last token of each thread."""

    input_ids: torch.Tensor  # 1 × L
    position_ids: torch.Tensor  # 1 × L
    visible: torch.Tensor  # L × L bool: may token i see token j
    labels: torch.Tensor  # 1 × L
    thread_ids: torch.Tensor  # L, -1 for the prompt, 0 main, k+1 chunk k
    index: list[list[int]]  # per thread (0 main, k+1 chunk k): sequence index of each token
    dtype: torch.dtype = torch.float32  # of the additive mask

    @functools.cached_property
    def attention_mask(self) -> torch.Tensor:
        """1 × 1 × L × L additive mask in `dtype`, for a model's forward (made on first use:
        training sets keep only `visible`)."""
        return additive_mask(self.visible, self.dtype)

    def thread_logprobs(self, logits: torch.Tensor, tt: ThreadTokens,
                        n_prompt: int) -> list[list[float | None]]:
        """Per-thread log-probabilities of each token given what its thread saw, in the format
        of a Trace thread's `logprobs` (None for forced opening tags)."""
        logp = torch.log_softmax(logits[0].float(), dim=-1)
        out: list[list[float | None]] = []
        for t, idx in enumerate(self.index):
            forced = 0 if t == MAIN else tt.n_forced[t - 1]
            prev = [n_prompt - 1] + idx[:-1] if t == MAIN else [None] + idx[:-1]
            toks = self.input_ids[0, idx].tolist()
            row: list[float | None] = []
            for j, (p, tok) in enumerate(zip(prev, toks, strict=True)):
                row.append(None if j < forced or p is None else float(logp[p, tok]))
            out.append(row)
        return out


def build_layout(prompt_ids: Sequence[int], tt: ThreadTokens, dtype: torch.dtype = torch.float32,
                 device: torch.device | str = "cpu") -> Layout:
    """The training sequence of one example: prompt, then the main thread with each chunk's
    thread right after its promise (sequential execution order: every token's visible set
    precedes it), with positions and mask from the same ThreadLayout the interpreter uses."""
    lay = ThreadLayout(device, capacity=len(prompt_ids) + len(tt.main) + sum(map(len, tt.chunks)),
                       threads=len(tt.chunks) + 1)
    ids: list[int] = list(prompt_ids)
    tids: list[int] = [-1] * len(prompt_ids)
    positions, rows = lay.place(MAIN, len(prompt_ids))
    all_pos, all_rows = [positions], [rows]
    index: list[list[int]] = [[] for _ in range(len(tt.chunks) + 1)]
    forks: dict[int, list[int]] = {}
    for k, f in enumerate(tt.fork_index):
        forks.setdefault(f, []).append(k)
    syncs = set(tt.sync_indices)
    pending: list[int] = []  # chunks forked, not yet joined
    # the main thread in runs between events (a sync before a token, forks after one):
    # placing a run at once is placing its tokens one by one
    cuts = sorted({0, len(tt.main)} | {i for i in syncs if i < len(tt.main)}
                  | {i + 1 for i in forks if i < len(tt.main)})
    for a, b in itertools.pairwise(cuts):
        if a in syncs:
            lay.join(MAIN, [k + 1 for k in pending])
            pending = []
        p, r = lay.place(MAIN, b - a)
        index[MAIN].extend(range(len(ids), len(ids) + b - a))
        ids.extend(tt.main[a:b])
        tids.extend([MAIN] * (b - a))
        all_pos.append(p)
        all_rows.append(r)
        for k in forks.get(b - 1, []):
            lay.fork(MAIN, k + 1, tt.promised[k])
            pending.append(k)
            if tt.chunks[k]:
                p, r = lay.place(k + 1, len(tt.chunks[k]))
                index[k + 1].extend(range(len(ids), len(ids) + len(tt.chunks[k])))
                ids.extend(tt.chunks[k])
                tids.extend([k + 1] * len(tt.chunks[k]))
                all_pos.append(p)
                all_rows.append(r)
    L = len(ids)
    labels = [-100] * L
    if tt.main and prompt_ids:
        labels[len(prompt_ids) - 1] = tt.main[0]
    for t, idx in enumerate(index):
        first = 0 if t == MAIN else tt.n_forced[t - 1]
        toks = tt.main if t == MAIN else tt.chunks[t - 1]
        for j in range(max(first, 1), len(idx)):
            labels[idx[j - 1]] = toks[j]
    rows = torch.cat(all_rows)[:, :L].contiguous()
    return Layout(
        input_ids=torch.tensor([ids], device=device),
        position_ids=torch.tensor([[q for ps in all_pos for q in ps]], device=device),
        visible=rows,
        labels=torch.tensor([labels], device=device),
        thread_ids=torch.tensor(tids, device=device),
        index=index,
        dtype=dtype,
    )

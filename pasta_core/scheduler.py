"""The scheduler: which threads feed how many tokens each step (vLLM's name for it).

A thread's life is ONE explicit state (`ThreadState`), not a set of flags:

    PENDING ──admitted──▶ RUNNING ──end (eos, close tag, cap, stop)──▶ FINISHING ──stored──▶ DONE
       └────────────── stop: "cancelled" ──────────────────────────────▶┘

A chunk is PENDING from the promise that creates it until it is admitted under `max_threads`
(main starts RUNNING); FINISHING means no more tokens will be chosen but some are still to be
stored. The rest is data, not state: whether a chunk is in the cache's layout yet follows from
main's progress (`placed`: main stored its promise's last token), and main waits at a `<sync/>`
while `join` lists chunks that have not ended.

`schedule` is pure bookkeeping over the threads: no model, no tensors, testable on its own.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import torch

from .output import ThreadOutput


class ThreadState(enum.Enum):
    PENDING = "pending"  # a chunk not yet admitted (its promise read; waits for a thread slot)
    RUNNING = "running"  # choosing tokens (main: unless it waits at a sync, see `join`)
    FINISHING = "finishing"  # no more tokens will be chosen; some may still be stored
    DONE = "done"  # finished and every token stored


@dataclass
class Thread:
    id: int
    parent: int | None
    output: ThreadOutput  # tokens → text, tags, actions
    topic: str = ""
    promised: int | None = None
    state: ThreadState = ThreadState.PENDING
    tokens: list[int] = field(default_factory=list)
    fed: int = 0  # tokens already stored in the cache
    n_forced: int = 0
    generated: int = 0
    fork_at: int | None = None  # index of the parent's token after which this chunk starts
    end_reason: str | None = None
    sync_at: int | None = None  # main: index of a token ending <sync/>, not yet stored
    join: list[int] = field(default_factory=list)  # main: chunks its sync waits for
    unjoined: list[int] = field(default_factory=list)  # main: chunks forked, not yet joined
    forced: list[int] | None = None
    gen: torch.Generator | None = None

    @property
    def pending(self) -> int:
        return len(self.tokens) - self.fed

    @property
    def final(self) -> bool:
        return self.state in (ThreadState.FINISHING, ThreadState.DONE)

    @property
    def done(self) -> bool:
        return self.state is ThreadState.DONE

    @property
    def active(self) -> bool:
        """Holds a thread slot: admitted, not yet done (a run that is not stopping)."""
        return self.state in (ThreadState.RUNNING, ThreadState.FINISHING)

    def admit(self) -> None:
        if self.state is ThreadState.PENDING:
            self.state = ThreadState.RUNNING

    def finish(self, reason: str) -> None:
        """No more tokens will be chosen (a PENDING chunk ends "cancelled" unadmitted)."""
        self.state, self.end_reason = ThreadState.FINISHING, reason


Batch = list[tuple[Thread, int]]


def placed(c: Thread, main: Thread) -> bool:
    """A chunk is in the layout once main stored its promise's last token."""
    return c.fork_at is not None and main.fed > c.fork_at


def schedule(threads: list[Thread], mode: str, max_threads: int, stopping: bool) -> Batch:
    """Which threads feed how many tokens this step: main first, then chunks by id. PASTA mode
    feeds every runnable thread; the other modes one token a step, a chunk run to its end at
    its promise (its forced opening tag is one piece, as in PASTA mode)."""
    main, chunks = threads[0], threads[1:]
    if stopping:
        return flush(threads)
    main_ready = main.pending > 0 and not main.join
    main_feeds = main.fed if main_ready else None  # index of the main token fed now
    if mode != "pasta":
        for c in chunks:
            if not c.done and placed(c, main):
                c.admit()
                return [(c, c.pending)] if c.pending else []
        return [(main, 1)] if main_ready else []
    batch: Batch = [(main, 1)] if main_ready else []
    running = sum(c.active for c in chunks)
    for c in chunks:
        if c.done:
            continue
        if c.state is ThreadState.PENDING:
            if not (placed(c, main) or c.fork_at == main_feeds):
                continue
            if running >= max_threads:
                continue  # waits its turn
            c.admit()
            running += 1
        if c.pending:
            batch.append((c, c.pending))
    return batch


def flush(threads: list[Thread]) -> Batch:
    """A stopping run stores every chosen token in ONE last step: main first when its token
    makes a promise (the chunk sees it), last when it ends a sync (it sees the chunks)."""
    main, chunks = threads[0], threads[1:]
    main_last = main.sync_at is not None
    batch: Batch = [(main, main.pending)] if main.pending and not main_last else []
    for c in chunks:
        if c.pending and not c.done and (placed(c, main) or (
                batch and c.fork_at is not None and c.fork_at >= main.fed)):
            batch.append((c, c.pending))
    if main.pending and main_last:
        batch.append((main, main.pending))
    return batch


def resume_main(threads: list[Thread]) -> bool:
    """Main, waiting at a sync, resumes once every chunk it waits for has ended."""
    main = threads[0]
    if main.join and all(threads[c].done for c in main.join):
        main.join = []
        return True
    return False


def stop_all(threads: list[Thread], reason: str) -> list[Thread]:
    """Mark every thread final (unadmitted chunks "cancelled"); the ones with nothing left to
    store, to be ended now."""
    ended = []
    for th in threads:
        if th.done:
            continue
        if th.state is ThreadState.PENDING:
            th.finish("cancelled")
        elif not th.final:
            th.finish(reason)
        if not th.pending:
            ended.append(th)
    return ended

"""The PASTA interpreter: threads, a scheduler, one shared KV cache, sampling, forcing, events.

A run is a loop of steps. Each step is ONE forward pass that carries the pending tokens of
every runnable thread (a new chunk's forced opening tag rides along as a ragged piece); the
cache stores every token once, and each token attends only to what its thread may see
(docs/PASTA_LANG.md §4, applied by `layout.ThreadLayout`, the same object training uses).

The parts, named as vLLM names them: the scheduler (`scheduler.py`: which threads feed how many
tokens, over one explicit `ThreadState` per thread), the runner (`runners/`: one forward pass
over the shared cache), and the output processor (`output.py`: tokens → text, tags, actions).
This module drives them, top to bottom: `_prefill` (the prompt, in chunks → main's first
token), `scheduler.schedule`, `_step` (slots, positions, mask rows, ONE forward), `choose`
(force, sample or take the argmax; one host read per step), `_accept` (apply what the output
processor found: fork, wait, end). `Interpreter.events()` yields typed events; the Trace is
built from them.

Modes: "pasta" (parallel), "sequential" (same engine, one token per step, each chunk decoded
right at its promise: same tokens and log-probs, more steps), "plain" (tags are plain text: the
baseline model's ordinary decoding), "sot" (Skeleton-of-Thought, docs/PASTA_LANG.md §6: main
writes a skeleton of numbered points; when it ends, `_expand` forks one thread per point at the
skeleton's last token, all decoded at once) and "sot-sequential" (the same points one after
another: same tokens and log-probs, more steps).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict

import torch

from . import lang, sot
from . import scheduler as sched
from .events import (
    Done,
    Event,
    RunStart,
    Step,
    ThreadEnd,
    ThreadResume,
    ThreadStart,
    ThreadWait,
    Tokens,
    TraceBuilder,
)
from .layout import MAIN, ThreadLayout, ThreadTokens
from .models import LoadedModel
from .output import Detokenizer, ThreadOutput
from .runners import make_runner, max_slots_for
from .scheduler import Thread, ThreadState
from .settings import SOT_MODES, Settings, SettingsError

__all__ = ["MODES", "Detokenizer", "Interpreter", "Settings", "SettingsError", "check_prompt"]

log = logging.getLogger(__name__)

MODES = ("pasta", "sequential", "plain", *SOT_MODES)
PREFILL_CHUNK = 512  # prompt tokens per prefill forward: a stop or disconnect lands within one


def check_prompt(prompt: str | list[dict[str, str]]) -> str:
    """The prompt's text (a conversation's contents joined); SettingsError when it is empty."""
    text = prompt if isinstance(prompt, str) else " ".join(
        str(m.get("content", "")) for m in prompt if isinstance(m, dict))
    if not text.strip():
        raise SettingsError("the prompt is empty: write a question or an instruction")
    return text


class Interpreter:
    """One run of one request. Iterate `events()`; the last event is `Done` with the Trace."""

    initial_slots = 256  # cache slots the layout starts with beyond the prompt (it doubles)

    def __init__(self, lm: LoadedModel, prompt: str | list[dict[str, str]], mode: str = "pasta",
                 settings: Settings | None = None, force: str | None = None,
                 should_stop: Callable[[], bool] | None = None, runner=None,
                 record_masks: bool = False, run: str | None = None):
        if mode not in MODES:
            raise SettingsError(f"mode must be one of {', '.join(MODES)} (got {mode!r})")
        check_prompt(prompt)
        self.lm = lm
        self.prompt = prompt
        self.mode = mode
        self.run = run or mode  # the run's name in its events (a methods race: the method's)
        self.sot = mode in SOT_MODES
        # what the model reads: an SoT run asks for the skeleton of the answer
        self.model_prompt = sot.sot_prompt(prompt) if self.sot else prompt
        self.s = settings or Settings()
        self.should_stop = should_stop or (lambda: False)
        self.record_masks = record_masks  # for teaching (the UI's step mode): costs a copy
        self.forced: ThreadTokens | None = None
        if force is not None:
            if mode == "plain":
                self.forced = ThreadTokens(main=lm.encode(force) + [lm.eos_token_id])
            elif self.sot:
                self.forced = ThreadTokens.from_sot(force, lm.encode, lm.eos_token_id,
                                                    self.s.max_thread_tokens)
            else:
                self.forced = ThreadTokens.from_text(force, lm.encode, lm.eos_token_id,
                                                     self.s.default_tokens)
        self.runner = runner if runner is not None else make_runner(
            lm, self.s.runner, max_slots_for(len(lm.encode_prompt(self.model_prompt)),
                                             self.s.max_new_tokens, self.forced))
        self.eos = set(lm.eos_token_ids)
        self.threads: list[Thread] = []
        self.builder = TraceBuilder()
        self.stopping: str | None = None
        self.tokens_total = 0
        self.step = 0
        self._t0 = 0.0  # when the run last resumed
        self._worked = 0.0  # seconds the run worked before that

    # -- events ------------------------------------------------------------------------------

    def _now(self) -> float:
        """Seconds this run has worked. Its clock stops while its events are out with the
        consumer (drawing them, or, in a lockstep race, stepping the other run), so a run is
        timed by its own steps and host work only."""
        return self._worked + time.perf_counter() - self._t0

    def _emit(self, ev: Event, out: list[Event]) -> None:
        out.append(ev)

    def events(self) -> Iterator[Event]:
        """The run's events in order; each one is added to the Trace as it is handed out."""
        self._worked, self._t0 = 0.0, time.perf_counter()
        try:
            for ev in self._run():
                if not isinstance(ev, Done):
                    self.builder.add(ev)
                self._worked += time.perf_counter() - self._t0
                yield ev
                self._t0 = time.perf_counter()
        finally:
            self.runner.reset()  # a stopped or abandoned run frees its cache at once

    def _run(self) -> Iterator[Event]:
        out: list[Event] = []
        prompt_ids = self.lm.encode_prompt(self.model_prompt)
        self.layout = ThreadLayout(self.lm.device, capacity=len(prompt_ids) + self.initial_slots)
        self._emit(RunStart(self.run, 0.0, self.lm.spec, self.prompt, prompt_ids,
                            asdict(self.s), self.mode), out)
        main = self._new_thread(None, "", None, None, out)
        main.state = ThreadState.RUNNING
        logits = self._prefill(prompt_ids)
        if logits is None:
            self._stop("stopped", out)
        else:
            self._accept([main], logits, out)
            if main.final and not main.pending:  # an SoT skeleton that ended at once
                self._end(main, out)
        yield from out
        out.clear()
        while True:
            if self.stopping is None and self.should_stop():
                self._stop("stopped", out)
            batch = self._schedule(out)
            if not batch:
                break
            self._step(batch, out)
            yield from out
            out.clear()
        yield from out
        unfinished = [t.id for t in self.threads if not t.done]
        if unfinished:  # the scheduler must never strand a thread; say so loudly if it does
            raise RuntimeError(f"interpreter stalled with threads {unfinished} unfinished")
        wall = self._now()
        trace = self.builder.build(self.runner.kv_len, wall, self.stopping or "completed")
        yield Done(self.run, wall, trace)

    # -- stages ------------------------------------------------------------------------------

    def _prefill(self, prompt_ids: list[int]) -> torch.Tensor | None:
        """The prompt, PREFILL_CHUNK tokens a forward, so that a stop lands within one chunk;
        the last token's logits, or None when the run was stopped first."""
        logits = None
        for start in range(0, len(prompt_ids), PREFILL_CHUNK):
            if start and self.should_stop():
                return None
            piece = prompt_ids[start:start + PREFILL_CHUNK]
            positions, rows = self.layout.place(MAIN, len(piece))
            logits = self.runner.forward(piece, positions, rows, keep=[len(piece) - 1])
        return logits

    def _schedule(self, out: list[Event]) -> sched.Batch:
        """Which threads feed how many tokens this step (the scheduler's decision)."""
        if sched.resume_main(self.threads):  # every chunk the sync waits for has ended
            self._emit(ThreadResume(self.run, self._now(), MAIN), out)
        mode = {"sot": "pasta", "sot-sequential": "sequential"}.get(self.mode, self.mode)
        return sched.schedule(self.threads, mode, self.s.max_threads, self.stopping is not None)

    def _step(self, batch: sched.Batch, out: list[Event]) -> None:
        t_start = time.perf_counter()
        ids: list[int] = []
        positions: list[list[int]] = []
        rows: list[torch.Tensor] = []
        keep: list[int] = []
        choosers: list[Thread] = []
        for th, n in batch:
            first = th.fed
            if th.id == MAIN and th.sync_at is not None and first <= th.sync_at < first + n:
                self.layout.join(MAIN, th.unjoined)  # the token ending <sync/> sees the chunks
                th.unjoined, th.sync_at = [], None
            pos, r = self.layout.place(th.id, n)
            ids.extend(th.tokens[first:first + n])
            positions.append(pos)
            rows.append(r)
            th.fed += n
            if th.id == MAIN:
                for c in self.threads[1:]:
                    if c.fork_at is not None and first <= c.fork_at < th.fed:
                        self.layout.fork(MAIN, c.id, c.promised)  # its promise is stored
            if not th.final and not th.pending:  # its next token comes from these logits
                keep.append(len(ids) - 1)
                choosers.append(th)
        t_fwd = time.perf_counter()
        mask = _stack_rows(rows, self.layout.n_slots)
        logits = self.runner.forward(ids, [p for ps in positions for p in ps], mask, keep)
        fwd_s = time.perf_counter() - t_fwd
        self.step += 1
        # the Step event goes before the tokens chosen from its logits; timings filled below
        step_ev = Step(self.run, self._now(), self.step, [th.id for th, _ in batch],
                       [n for _, n in batch], positions, 0.0, 0.0)
        if self.record_masks:
            step_ev.visible = [r.nonzero()[:, 0].tolist() for r in mask[:, :self.runner.kv_len]]
        self._emit(step_ev, out)
        self._accept(choosers, logits, out)
        latency = time.perf_counter() - t_start
        step_ev.latency_s, step_ev.host_s = latency, latency - fwd_s  # t stays ≤ its tokens' t
        for th, _ in batch:
            if th.final and not th.pending:
                self._end(th, out)

    def _accept(self, threads: list[Thread], logits: torch.Tensor, out: list[Event]) -> None:
        """Take each thread's next token and do what it says: fork, wait, end, stop."""
        if not threads:
            return
        tokens, logprobs = choose(threads, logits, self.s)
        for th, tok, lp in zip(threads, tokens, logprobs, strict=True):
            if self.stopping is not None:
                break
            if self.sot and th.id == MAIN and tok in self.eos:
                th.finish("eos")  # the skeleton's end-of-turn: neither stored nor recorded
                self._expand(th, out)
                continue
            th.tokens.append(tok)
            th.generated += 1
            self.tokens_total += 1
            end = "eos" if tok in self.eos else (
                "forced_end" if th.forced is not None and len(th.tokens) >= len(th.forced)
                else None)
            o = th.output.token(tok, end, len(self.threads))
            if o.sync:
                th.sync_at = len(th.tokens) - 1
            self._emit(Tokens(self.run, self._now(), th.id, [tok], [lp], o.raw, o.text,
                              o.tags), out)
            for tag in o.promises:
                self._fork(th, tag, out)
            if o.sync:
                th.join = [c for c in th.unjoined if not self.threads[c].done]
                if th.join:
                    self._emit(ThreadWait(self.run, self._now(), MAIN, list(th.join)), out)
            end = o.end
            if end is None and th.id != MAIN and th.generated >= self.s.max_thread_tokens:
                end = "max_thread_tokens"
            if end is not None:
                th.finish(end)
            if self.tokens_total >= self.s.max_new_tokens:
                self._stop("max_new_tokens", out)

    def _fork(self, main: Thread, tag: lang.Tag, out: list[Event]) -> None:
        """The main thread made a promise: a chunk thread exists from now on; it is placed in
        the layout (snapshot of main) when the promise's last token is stored."""
        tokens, _ = lang.parse_tokens(tag.attrs.get("tokens"))
        promised = self.s.default_tokens if tokens is None else tokens
        c = self._new_thread(MAIN, tag.topic, promised, len(main.tokens) - 1, out, tag.end)
        opening = self.lm.encode(lang.async_open_tag(tag.topic))
        if self.forced is not None:
            k = c.id - 1
            if k >= len(self.forced.chunks) or self.forced.chunks[k][:len(opening)] != opening:
                raise ValueError("the forced response and its run disagree at chunk "
                                 f"{k} (topic {tag.topic!r}); check the annotated text")
            c.forced = self.forced.chunks[k]
        c.tokens = list(opening)
        c.n_forced = len(opening)
        raw = c.output.opening(opening)
        main.unjoined.append(c.id)
        self._emit(Tokens(self.run, self._now(), c.id, list(opening), [None] * len(opening), raw,
                          "", [{"kind": "async", "at": 0}]), out)

    def _expand(self, main: Thread, out: list[Event]) -> None:
        """SoT: the skeleton ended. One thread per numbered point, each forked right after the
        skeleton's last stored token (all at the same positions, each seeing the prompt and the
        skeleton, never another point) and opened by its forced cue (docs/PASTA_LANG.md §6)."""
        skeleton = self.lm.tokenizer.decode(main.tokens, skip_special_tokens=True)
        titles = sot.parse_skeleton(skeleton)
        forced = self.forced.chunks if self.forced is not None else []  # none: free points
        if forced and len(titles) != len(forced):
            raise ValueError(f"the forced transcript has {len(forced)} points but the run "
                             f"parsed {len(titles)} from its skeleton; check the transcript")
        budget = self.s.max_thread_tokens
        for i, title in enumerate(titles, 1):
            c = self._new_thread(MAIN, title, budget, len(main.tokens) - 1, out, len(skeleton),
                                 ahead=i - 1)
            cue = self.lm.encode(sot.point_cue(i, title))
            if forced:
                if forced[i - 1][:len(cue)] != cue:
                    raise ValueError(f"the forced transcript and its run disagree at point {i} "
                                     f"({title!r}); check the transcript")
                c.forced = forced[i - 1]
            c.tokens, c.n_forced = list(cue), len(cue)
            self.layout.fork(MAIN, c.id, budget)
            raw = c.output.opening(cue)
            self._emit(Tokens(self.run, self._now(), c.id, list(cue), [None] * len(cue), raw,
                              ""), out)

    def _new_thread(self, parent: int | None, topic: str, promised: int | None,
                    fork_at: int | None, out: list[Event], fork_offset: int | None = None,
                    ahead: int = 0) -> Thread:
        """A new thread; `ahead`: threads created before it that will take a slot first."""
        tid = len(self.threads)
        output = ThreadOutput(self.lm.tokenizer, tid == MAIN, self.mode == "plain" or self.sot)
        th = Thread(tid, parent, output, topic, promised, fork_at=fork_at)
        if self.forced is not None and tid == MAIN:
            th.forced = self.forced.main
        if self.s.temperature > 0:
            th.gen = torch.Generator(device=self.lm.device)
            th.gen.manual_seed((self.s.seed * 1_000_003 + tid) % 2**63)  # a stream per thread: the
            # same tokens whatever the schedule, so PASTA and sequential runs stay comparable
        self.threads.append(th)
        running = sum(c.active for c in self.threads[1:]) + ahead
        self._emit(ThreadStart(self.run, self._now(), tid, parent, topic, promised, fork_at,
                               fork_offset, queued=parent is not None
                               and running >= self.s.max_threads), out)
        return th

    def _stop(self, reason: str, out: list[Event]) -> None:
        """End the run cleanly: nothing more is chosen and what was chosen is stored (chunks
        that never started store their opening tag and end "cancelled")."""
        self.stopping = reason
        for th in sched.stop_all(self.threads, reason):
            self._end(th, out)

    def _end(self, th: Thread, out: list[Event]) -> None:
        if th.done:
            return
        th.state = ThreadState.DONE
        held, shown = th.output.finish(th.end_reason)
        if held or shown:
            self._emit(Tokens(self.run, self._now(), th.id, [], [], held, shown), out)
        self._emit(ThreadEnd(self.run, self._now(), th.id, th.end_reason or "completed"), out)


def _stack_rows(rows: list[torch.Tensor], width: int) -> torch.Tensor:
    """One step's visibility rows as one mask; rows placed before the layout grew are narrower
    (they see none of the newer slots)."""
    mask = torch.zeros(sum(r.shape[0] for r in rows), width, dtype=torch.bool,
                       device=rows[0].device)
    at = 0
    for r in rows:
        w = min(width, r.shape[1])
        mask[at:at + r.shape[0], :w] = r[:, :w]
        at += r.shape[0]
    return mask


def choose(threads: list[Thread], logits: torch.Tensor,
           s: Settings) -> tuple[list[int], list[float]]:
    """Next token of each thread (forced, greedy or sampled) and its log-probability under
    the model (temperature 1, no top-p: what the thread saw, not how it was sampled)."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    choice = logits.argmax(dim=-1)
    for i, th in enumerate(threads):
        if th.forced is not None and len(th.tokens) < len(th.forced):
            choice[i] = th.forced[len(th.tokens)]
        elif s.temperature > 0 and th.forced is None:
            choice[i] = _sample(logits[i].float(), s.temperature, s.top_p, th.gen)
    lps = logp.gather(1, choice[:, None])[:, 0]
    return choice.tolist(), lps.tolist()  # the one host read of the step


def _sample(logits: torch.Tensor, temperature: float, top_p: float,
            gen: torch.Generator | None) -> torch.Tensor:
    probs = torch.softmax(logits / temperature, dim=-1)
    if top_p < 1.0:
        sorted_p, order = probs.sort(descending=True)
        drop = sorted_p.cumsum(0) - sorted_p > top_p  # keep the smallest set reaching top_p
        sorted_p[drop] = 0.0
        probs = torch.zeros_like(probs).scatter(0, order, sorted_p)
    return torch.multinomial(probs, 1, generator=gen)[0]

"""The interpreter's parts without a model: the output processor (tokens → text, tags and
actions) and the scheduler (which threads feed what, over one explicit state per thread)."""

from __future__ import annotations

from pasta_core.models import builtin_tokenizer
from pasta_core.output import ThreadOutput
from pasta_core.scheduler import Thread, ThreadState, flush, schedule, stop_all

TOK = builtin_tokenizer()


def feed(out: ThreadOutput, text: str, next_thread: int = 1):
    """Each token through `out`, the next chunk's id growing as the interpreter's would."""
    ids = TOK.encode(text, add_special_tokens=False)
    results = []
    for t in ids:
        results.append(out.token(t, None, next_thread))
        next_thread += len(results[-1].promises)
    return ids, results


def test_main_thread_output_finds_promises_and_syncs_and_hides_tags():
    out = ThreadOutput(TOK, is_main=True)
    _, res = feed(out, 'Two:<promise topic="a" tokens="5"/><promise topic="b"/> then<sync/> end')
    shown = "".join(r.text for r in res)
    assert shown == "Two: then end"  # tags never shown, not even half of one
    promises = [p for r in res for p in r.promises]
    assert [p.topic for p in promises] == ["a", "b"]
    kinds = [(t["kind"], t.get("thread")) for r in res for t in r.tags]
    assert kinds == [("promise", 1), ("promise", 2), ("sync", None)]
    assert sum(r.sync for r in res) == 1
    # the sync is reported on the token that completes it, and nothing ends the main thread
    assert next(r for r in res if r.sync).raw.endswith(">")
    assert all(r.end is None for r in res)


def test_chunk_output_ends_at_its_close_tag_and_a_cut_tag_is_shown_as_text():
    chunk = ThreadOutput(TOK, is_main=False)
    chunk.opening(TOK.encode('<async topic="a">', add_special_tokens=False))
    _, res = feed(chunk, " Body.</async>")
    assert "".join(r.text for r in res) == " Body."
    assert res[-1].end == "close_tag" and all(r.end is None for r in res[:-1])
    assert chunk.finish("close_tag") == ("", "")
    cut = ThreadOutput(TOK, is_main=True)
    _, res = feed(cut, "Text <prom")
    _held, shown = cut.finish("max_new_tokens")
    assert "".join(r.text for r in res) + shown == "Text <prom"


def test_plain_output_treats_tags_as_text():
    out = ThreadOutput(TOK, is_main=True, plain=True)
    text = 'a<promise topic="x"/>b'
    _, res = feed(out, text)
    assert "".join(r.text for r in res) == text and not any(r.promises for r in res)


def thread(i: int, state=ThreadState.PENDING, fork_at=None, tokens=(), fed=0) -> Thread:
    return Thread(i, None if i == 0 else 0, ThreadOutput(TOK, i == 0), state=state,
                  fork_at=fork_at, tokens=list(tokens), fed=fed)


def test_scheduler_admits_chunks_in_order_under_max_threads_and_main_waits_at_a_sync():
    main = thread(0, ThreadState.RUNNING, tokens=[1, 2, 3, 4], fed=3)  # one token pending
    chunks = [thread(i, fork_at=1, tokens=[9, 9]) for i in (1, 2, 3)]  # placed: main.fed > 1
    threads = [main, *chunks]
    batch = schedule(threads, "pasta", max_threads=2, stopping=False)
    assert [(t.id, n) for t, n in batch] == [(0, 1), (1, 2), (2, 2)]
    assert [c.state for c in chunks] == [ThreadState.RUNNING] * 2 + [ThreadState.PENDING]
    main.join = [1]  # main waits at a sync: it feeds nothing until chunk 1 is done
    assert [t.id for t, _ in schedule(threads, "pasta", 2, False)] == [1, 2]
    seq = [thread(0, ThreadState.RUNNING, tokens=[1, 2], fed=2),
           thread(1, fork_at=0, tokens=[5, 6, 7])]
    assert [(t.id, n) for t, n in schedule(seq, "sequential", 8, False)] == [(1, 3)]


def test_stopping_cancels_pending_chunks_and_flushes_once():
    main = thread(0, ThreadState.RUNNING, tokens=[1, 2], fed=1)
    running = thread(1, ThreadState.RUNNING, fork_at=0, tokens=[5, 6], fed=2)
    pending = thread(2, fork_at=0, tokens=[7])
    ended = stop_all([main, running, pending], "stopped")
    assert [t.id for t in ended] == [1]  # nothing left to store
    assert pending.state is ThreadState.FINISHING and pending.end_reason == "cancelled"
    assert main.end_reason == "stopped" and main.final
    assert [(t.id, n) for t, n in flush([main, running, pending])] == [(0, 1), (2, 1)]

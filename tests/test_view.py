"""The live view (`pasta_core.view`) built from the events of a forced run of a random-weight
model: threads and their states, the main thread's parts and placeholders, waits at syncs, the
race replay's named fields and the per-run figures — all agree with the run's Trace."""

from __future__ import annotations

import json

import pytest

from pasta_core import lang, load_model, metrics, stream
from pasta_core.events import Done, ThreadResume, ThreadWait
from pasta_core.view import (
    Placeholder,
    ReplayEnd,
    ReplayPromise,
    ReplayStart,
    ReplaySync,
    ReplayText,
    RequestView,
    plan_runs,
)

from .conftest import ROOT

EXAMPLES = json.loads((ROOT / "assets" / "examples.json").read_text())["examples"]
EXAMPLE = EXAMPLES[0]  # two parts, then a sync: forks, a wait and a join


@pytest.fixture(scope="module")
def both():
    """A RequestView of a forced mode-"both" run, and the events it was built from."""
    lm = load_model("random:llama")
    events = list(stream(lm, EXAMPLE["prompt"], mode="both", force=EXAMPLE["answer"], seed=0))
    view = RequestView("both", "random:llama")
    for ev in events:
        view.add(ev)
    return view, events


def test_plan_runs_expands_both_in_one_place():
    from pasta_core import settings

    assert plan_runs is settings.plan_runs  # the view uses the core's one expansion
    assert plan_runs("both") == ("pasta", "sequential")
    for mode in ("pasta", "sequential", "plain"):
        assert plan_runs(mode) == (mode,)
    assert list(RequestView("both", "m").runs) == ["pasta", "sequential"]


def test_threads_and_states_follow_the_trace(both):
    view, _ = both
    assert view.done and view.current is None and view.primary.run == "pasta"
    p = view.runs["pasta"]
    tr = p.trace
    doc = lang.parse_document(EXAMPLE["answer"])
    assert len(doc.chunks) >= 2
    assert sorted(p.threads) == [th.id for th in tr.threads] == list(range(1 + len(doc.chunks)))
    for th in tr.threads:
        v = p.threads[th.id]
        assert v.state == "done" and v.reason == th.end_reason
        assert (v.parent, v.topic, v.promised) == (th.parent, th.topic, th.promised_tokens)
    for k, c in enumerate(doc.chunks, start=1):
        assert p.threads[k].topic == c.topic
        assert p.threads[k].text.strip() == c.body.strip()  # body text, tags held back


def test_main_parts_hold_placeholders_in_order_and_splice_to_the_answer(both):
    view, _ = both
    p = view.runs["pasta"]
    parts = p.threads[0].parts
    holders = [x for x in parts if isinstance(x, Placeholder)]
    main = lang.parse_document(EXAMPLE["answer"]).main
    expected = ["promise" if isinstance(x, lang.Promise) else "sync" for x in main
                if isinstance(x, lang.Promise | lang.Sync)]
    # promise numbers follow the chunks' order, syncs carry no chunk
    got = [(h.kind, h.chunk) for h in holders]
    assert [k for k, _ in got] == expected
    assert [c for k, c in got if k == "promise"] == list(range(1, len(p.threads)))
    assert all(c is None for k, c in got if k == "sync")
    assert isinstance(parts[-1], str)
    spliced = "".join(x if isinstance(x, str) else
                      (p.chunk_text(x.chunk) if x.kind == "promise" else "") for x in parts)
    assert spliced == p.trace.text == p.spliced
    assert p.threads[0].last_sync is holders[-1] and holders[-1].kind == "sync"


def test_waits_match_the_wait_and_resume_events(both):
    view, events = both
    p = view.runs["pasta"]
    waits = [e for e in events if e.run == "pasta" and isinstance(e, ThreadWait)]
    resumes = [e for e in events if e.run == "pasta" and isinstance(e, ThreadResume)]
    assert waits, "the example's sync should make the main thread wait"
    assert [(w.start, w.chunks) for w in p.waits] == [(e.t, e.waiting_for) for e in waits]
    assert [w.end for w in p.waits] == [e.t for e in resumes]
    assert view.runs["sequential"].waits == []


def test_replay_has_named_fields_that_rebuild_the_run(both):
    view, _ = both
    rec = json.loads(json.dumps(view.replay(lambda tid: f"c{tid}")))
    assert rec["mode"] == "both" and [r["run"] for r in rec["runs"]] == ["pasta", "sequential"]
    for r, (name, v) in zip(rec["runs"], view.runs.items(), strict=True):
        tr = v.trace
        assert (r["run"], r["steps"], r["tokens"], r["wall_s"]) == (name, tr.steps,
                                                                    tr.tokens_total, tr.wall_s)
        assert r["threads"] == [{"id": th.id, "topic": th.topic, "promised": th.promised_tokens,
                                 "color": f"c{th.id}"} for th in tr.threads]
        evs = r["events"]
        assert all(isinstance(e, dict) and "kind" in e and "t" in e for e in evs)
        assert [e["t"] for e in evs] == sorted(e["t"] for e in evs)
        # every generated token is counted once, and each thread's text is its shown text
        assert sum(e["tokens"] for e in evs if e["kind"] == ReplayText.KIND) == tr.tokens_total
        for th in tr.threads[1:]:
            text = "".join(e["text"] for e in evs
                           if e["kind"] == ReplayText.KIND and e["thread"] == th.id)
            assert text == v.threads[th.id].text
        starts = [e for e in evs if e["kind"] == ReplayStart.KIND]
        assert [(e["thread"], e["topic"], e["promised"], e["parent"]) for e in starts] == \
            [(th.id, th.topic, th.promised_tokens, th.parent) for th in tr.threads]
        ends = {e["thread"]: e["reason"] for e in evs if e["kind"] == ReplayEnd.KIND}
        assert ends == {th.id: th.end_reason for th in tr.threads}
        promises = [e["chunk"] for e in evs if e["kind"] == ReplayPromise.KIND]
        assert promises == [th.id for th in tr.threads[1:]]
        n_syncs = sum(isinstance(x, Placeholder) and x.kind == "sync"
                      for x in v.threads[0].parts)
        assert sum(e["kind"] == ReplaySync.KIND for e in evs) == n_syncs
    assert rec["duration"] == max(r["wall_s"] for r in rec["runs"])


def test_figures_are_the_traces_and_the_comparison_is_the_cores(both):
    view, events = both
    for v in view.runs.values():
        f, tr = v.figures(), v.trace
        assert (f.steps, f.tokens_total, f.wall_s, f.parallelism, f.kv_tokens, f.end_reason) == \
            (tr.steps, tr.tokens_total, tr.wall_s, tr.parallelism, tr.kv_tokens, tr.end_reason)
        assert f.threads == len(tr.threads) and f.tokens_per_s == tr.tokens_total / tr.wall_s
        assert f.kv_prefix_copy == metrics.prefix_copy_kv(len(tr.prompt_token_ids), tr.threads)
    comp = view.comparison()
    assert comp is not None
    assert comp.theoretical_speedup == comp.sequential.tokens_total / comp.pasta.steps
    # while a run is going, its figures come from the events seen so far
    partial = RequestView("pasta", "random:llama")
    for ev in (e for e in events if e.run == "pasta"):  # the runs of "both" interleave
        if isinstance(ev, Done):
            break
        partial.add(ev)
    f = partial.runs["pasta"].figures()
    assert partial.current is not None and f.kv_tokens is None
    assert f.tokens_total == view.runs["pasta"].trace.tokens_total
    assert partial.comparison() is None

"""Behaviour of the interpreter through the public API (docs/DESIGN.md, docs/PASTA_LANG.md §4–5).

Caps, stops, sampling, text, the event stream, error messages, local model directories and
incremental detokenisation. Random-weight models never write tags, so forks and syncs are
exercised by teacher forcing (`force=`). Numeric equivalence and the layout have their own files.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pasta_core import ModelSpecError, SettingsError, decode, lang, load_model, parse, stream
from pasta_core.interpreter import Detokenizer, Interpreter, Settings

PROMPT = "Tell me about Mars"
# Three chunks before one sync. Each body is longer than the main-thread text between two
# promises, so a chunk still runs when the next promise is made; the last one still runs when
# the main thread reaches <sync/>, so the main thread must wait there.
FORCED = (
    'Intro<promise topic="a" tokens="20"/><async topic="a">First body, long enough to still be'
    ' running at the next promise.</async>mid<promise topic="b" tokens="10"/><async topic="b">'
    "Second body, also longer than the gap before the next one.</async>"
    '<promise topic="c" tokens="10"/><async topic="c">Third body, written while main waits.'
    "</async><sync/>End"
)
TAG_MARKUP = ("<promise", "<sync", "<async", "</async")


@pytest.fixture(scope="module")
def lm():
    return load_model("random:llama")


@pytest.fixture(scope="module")
def forced_events(lm):
    """Events of the forced response in parallel mode, no caps."""
    return list(stream(lm, PROMPT, force=FORCED))


def trace_of(events):
    done = [e for e in events if e.type == "done"]
    assert len(done) == 1 and events[-1] is done[0]
    return done[0].trace


def check_kv(trace) -> None:
    """docs/PASTA_LANG.md §5: prompt + every thread's tokens, each stored once."""
    stored = len(trace.prompt_token_ids) + sum(len(t.token_ids) for t in trace.threads)
    assert trace.kv_tokens == stored


def check_all_ended(events, trace) -> None:
    ends = [e.thread for e in events if e.type == "thread_end"]
    assert sorted(ends) == list(range(len(trace.threads)))  # each thread ends exactly once
    assert all(t.end_reason is not None and t.end_s is not None for t in trace.threads)


def check_well_formed(trace) -> None:
    """The annotated form parses without errors, with one chunk per async thread whose body is
    the thread's text (a chunk cut by a cap or a stop is closed)."""
    d = trace.to_dict()
    assert d["errors"] == []
    doc = parse(d["annotated"])
    assert doc["errors"] == []
    assert len(doc["chunks"]) == len(trace.threads) - 1
    for th, chunk in zip(trace.threads[1:], doc["chunks"], strict=True):
        body = th.text[len(lang.async_open_tag(th.topic)):]
        assert chunk["body"] == body.removesuffix(lang.ASYNC_CLOSE)
    if trace.end_reason == "completed":
        assert doc["text"] == d["text"]


def tag_kinds(ev) -> list[str]:
    return [t["kind"] if isinstance(t, dict) else t for t in ev.tags]


def chunk_steps(trace) -> list[set[int]]:
    return [set(t.steps) for t in trace.threads[1:]]


# -- caps ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("max_threads", [1, 2])
def test_max_threads_caps_running_chunks(lm, forced_events, max_threads):
    events = list(stream(lm, PROMPT, force=FORCED, max_threads=max_threads))
    trace = trace_of(events)
    assert len(trace.threads) == 4 and trace.end_reason == "completed"
    for ev in events:
        if ev.type == "step":
            assert sum(t != 0 for t in ev.threads) <= max_threads
    if max_threads == 1:
        a, b, c = chunk_steps(trace)
        assert not (a & b or a & c or b & c)  # no two async threads share a step
        assert max(a) < min(b) and max(b) < min(c)  # in promise order
        starts = {e.thread: e for e in events if e.type == "thread_start"}
        assert [starts[k].queued for k in (0, 1, 2, 3)] == [False, False, True, True]
        assert trace.steps > trace_of(forced_events).steps  # the cap costs steps
    # the cap changes the schedule, never the content
    assert [t.token_ids for t in trace.threads] == \
        [t.token_ids for t in trace_of(forced_events).threads]
    assert trace.text == parse(FORCED)["text"]
    assert trace.annotated == lang.canonical(FORCED)
    assert all(t.end_reason == "close_tag" for t in trace.threads[1:])
    check_kv(trace)
    check_all_ended(events, trace)


@pytest.mark.parametrize("cap", [1, 3])
def test_max_thread_tokens_ends_each_chunk(lm, cap):
    events = list(stream(lm, PROMPT, force=FORCED, max_thread_tokens=cap))
    trace = trace_of(events)
    assert trace.end_reason == "completed"
    assert trace.threads[0].end_reason == "eos"
    bodies = []
    for th in trace.threads[1:]:
        assert th.end_reason == "max_thread_tokens"
        assert len(th.token_ids) - th.n_forced == cap  # exactly `cap` generated tokens
        opening = lang.async_open_tag(th.topic)
        assert th.text.startswith(opening) and not th.text.endswith(lang.ASYNC_CLOSE)
        bodies.append(th.text[len(opening):])
    full = parse(FORCED)["chunks"]
    for f, b in zip(full, bodies, strict=True):
        assert f["body"].startswith(b) and b != f["body"]
    # the annotated view closes the truncated chunks, so the structure survives the cap
    for th, body in zip(trace.threads[1:], bodies, strict=True):
        assert lang.async_open_tag(th.topic) + body + lang.ASYNC_CLOSE in trace.annotated
    assert [c["body"] for c in parse(trace.annotated)["chunks"]] == bodies
    assert trace.text == "Intro" + bodies[0] + "mid" + bodies[1] + bodies[2] + "End"
    check_well_formed(trace)
    check_kv(trace)
    check_all_ended(events, trace)


@pytest.mark.parametrize("mode", ["pasta", "sequential", "plain"])
@pytest.mark.parametrize("forced", [True, False], ids=["forced", "free"])
@pytest.mark.parametrize("cap", [1, 11, 37, pytest.param(70, marks=pytest.mark.slow)])
def test_max_new_tokens_is_strict(lm, mode, forced, cap):
    events = list(stream(lm, PROMPT, mode=mode, force=FORCED if forced else None,
                         max_new_tokens=cap))
    trace = trace_of(events)
    assert trace.tokens_total == cap
    assert trace.end_reason == "max_new_tokens"
    chosen = [lp for e in events if e.type == "tokens" for lp in e.logprobs if lp is not None]
    assert len(chosen) == cap  # nothing is chosen past the cap
    check_kv(trace)
    check_all_ended(events, trace)
    if mode != "plain":
        check_well_formed(trace)


def _stop_after(lm, mode, n_steps, **kw):
    """Run with should_stop turning True once `n_steps` Step events were handed out. Returns
    (events, index of the first event after the stop was seen)."""
    seen = {"steps": 0, "stop_at": None}
    events = []

    def should_stop() -> bool:
        if seen["steps"] >= n_steps:
            if seen["stop_at"] is None:
                seen["stop_at"] = len(events)
            return True
        return False

    for ev in stream(lm, PROMPT, mode=mode, force=FORCED, should_stop=should_stop, **kw):
        events.append(ev)
        seen["steps"] += ev.type == "step"
    assert seen["stop_at"] is not None
    return events, seen["stop_at"]


def _wait_step(lm) -> int:
    """Steps made before the main thread starts waiting at <sync/> (parallel mode), plus one."""
    steps = 0
    for ev in stream(lm, PROMPT, force=FORCED):
        steps += ev.type == "step"
        if ev.type == "thread_wait":
            return steps + 1
    raise AssertionError("the main thread never waited")


def _fork_step(lm) -> int:
    """Sequential mode: steps made when chunk a's forced opening tag is still to be stored."""
    trace = decode(lm, PROMPT, mode="sequential", force=FORCED)
    return trace.threads[1].steps[0] - 1


STOP_CASES = [("pasta", 0), ("pasta", 5), ("pasta", 14), ("pasta", 30), ("sequential", 0),
              ("sequential", 5), ("sequential", 30), ("pasta", "wait"), ("sequential", "fork")]


def _resolve(lm, n):
    return {"wait": _wait_step, "fork": _fork_step}[n](lm) if isinstance(n, str) else n


@pytest.mark.parametrize(("mode", "n"), STOP_CASES)
def test_stop_ends_the_run_cleanly(lm, mode, n):
    events, stop_at = _stop_after(lm, mode, _resolve(lm, n))
    trace = trace_of(events)
    assert trace.end_reason == "stopped"
    after = events[stop_at:]
    assert not [e for e in after if e.type == "tokens" and e.token_ids]  # nothing is chosen
    assert not [e for e in after if e.type == "thread_start"]
    ended_before = {e.thread for e in events[:stop_at] if e.type == "thread_end"}
    for th in trace.threads:
        if th.id not in ended_before:
            assert th.end_reason in ("stopped", "cancelled")
    assert trace.threads[0].end_reason == "stopped"
    check_kv(trace)
    check_all_ended(events, trace)
    check_well_formed(trace)


@pytest.mark.parametrize(("mode", "n"), [
    ("pasta", 0), ("pasta", 5), ("pasta", 14), ("pasta", 30), ("sequential", 0),
    ("sequential", 5),
    # the main thread waits at <sync/> with a chunk token pending: chunk, then main, one step
    ("pasta", "wait"),
    # a chunk runs while main holds its next token: both stored in the one last step
    ("sequential", 30),
    # just after a fork: the chunk's forced opening tag and main's token in one step
    ("sequential", "fork"),
])
def test_stop_stores_pending_tokens_within_one_step(lm, mode, n):
    events, stop_at = _stop_after(lm, mode, _resolve(lm, n))
    assert sum(e.type == "step" for e in events[stop_at:]) <= 1


def test_stopped_and_abandoned_runs_free_the_cache(lm):
    it = Interpreter(lm, PROMPT, force=FORCED, should_stop=lambda: True)
    assert trace_of(list(it.events())).end_reason == "stopped"
    assert it.runner.cache is None and it.runner.kv_len == 0
    it = Interpreter(lm, PROMPT, force=FORCED)
    gen = it.events()
    for ev in gen:
        if ev.type == "step" and ev.step == 15:
            break
    assert it.runner.kv_len > 0
    gen.close()  # a client that disconnects
    assert it.runner.cache is None and it.runner.kv_len == 0


# -- sampling -----------------------------------------------------------------------------------


def _main_tokens(lm, **kw):
    return decode(lm, PROMPT, max_new_tokens=24, **kw).threads[0].token_ids


def test_same_seed_same_tokens_other_seed_other_tokens(lm):
    a = _main_tokens(lm, temperature=1.0, seed=11)
    assert a == _main_tokens(lm, temperature=1.0, seed=11)
    assert a != _main_tokens(lm, temperature=1.0, seed=12)
    assert a != _main_tokens(lm)  # and sampling is not greedy decoding


def test_sampling_is_schedule_independent(lm):
    both = decode(lm, PROMPT, mode="both", max_new_tokens=24, temperature=0.9, seed=3)
    assert both.pasta.threads[0].token_ids == both.sequential.threads[0].token_ids
    assert both.pasta.threads[0].token_ids != _main_tokens(lm)


def test_tiny_top_p_is_greedy(lm):
    assert _main_tokens(lm, temperature=1.0, top_p=1e-6, seed=5) == _main_tokens(lm)


def test_forcing_ignores_sampling(lm, forced_events):
    trace = decode(lm, PROMPT, force=FORCED, temperature=1.5, seed=9)
    assert [t.token_ids for t in trace.threads] == \
        [t.token_ids for t in trace_of(forced_events).threads]


# -- text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["pasta", "sequential"])
def test_thread_text_is_the_decode_of_its_tokens(lm, mode):
    for trace in (decode(lm, PROMPT, mode=mode, force=FORCED),
                  decode(lm, PROMPT, mode=mode, force=FORCED, max_new_tokens=40),
                  decode(lm, PROMPT, mode=mode, max_new_tokens=30)):
        for th in trace.threads:
            assert th.text == lm.tokenizer.decode(th.token_ids, skip_special_tokens=True)


def test_thread_text_keeps_held_back_bytes_at_a_cap(lm):
    for seed in range(10):  # random weights write many lone bytes of multi-byte characters
        th = decode(lm, PROMPT, max_new_tokens=12, temperature=1.0, seed=seed).threads[0]
        assert th.text == lm.tokenizer.decode(th.token_ids, skip_special_tokens=True), seed


def test_display_text_never_shows_tags(lm, forced_events):
    runs = [forced_events, list(stream(lm, PROMPT, mode="sequential", force=FORCED)),
            list(stream(lm, PROMPT, force=FORCED, max_threads=1)),
            list(stream(lm, PROMPT, max_new_tokens=40, temperature=1.0, seed=1))]
    for events in runs:
        for ev in events:
            if ev.type == "tokens":
                assert not any(m in ev.text for m in TAG_MARKUP), ev
    tags = [k for e in forced_events if e.type == "tokens" for k in tag_kinds(e)]
    assert sorted(set(tags)) == ["async", "close", "promise", "sync"]


def test_display_text_rebuilds_the_spliced_text(forced_events):
    """What a lane renderer does: main's display text, a placeholder at each promise, each
    placeholder filled with its chunk's display text."""
    pieces: list[str | int] = []
    chunk_text: dict[int, str] = {}
    for ev in forced_events:
        if ev.type == "tokens" and ev.thread == 0:
            pieces.append(ev.text)
        elif ev.type == "tokens":
            chunk_text[ev.thread] = chunk_text.get(ev.thread, "") + ev.text
        elif ev.type == "thread_start" and ev.parent == 0:
            pieces.append(ev.thread)  # right after the Tokens event that completed the promise
    rebuilt = "".join(p if isinstance(p, str) else chunk_text[p] for p in pieces)
    assert rebuilt == parse(FORCED)["text"] == trace_of(forced_events).text
    main_display = "".join(p for p in pieces if isinstance(p, str))
    assert main_display == "IntromidEnd"


def _cut_inside_a_tag(lm):
    """Runs cut by a cap while a tag is half written: main at `<`, main inside its promise
    tag, and every chunk one token before the end of its `</async>`."""
    full = trace_of(list(stream(lm, PROMPT, force=FORCED)))
    close = len(lm.encode(lang.ASYNC_CLOSE))
    assert close > 1
    cut = min(len(t.token_ids) - t.n_forced for t in full.threads[1:]) - 1
    return [decode(lm, PROMPT, force=FORCED, max_new_tokens=2),
            decode(lm, PROMPT, force=FORCED, max_new_tokens=4),
            decode(lm, PROMPT, force=FORCED, max_thread_tokens=cut)]


def test_text_agrees_with_annotated_when_a_tag_is_cut(lm):
    for trace in _cut_inside_a_tag(lm):
        assert parse(trace.annotated)["text"] == trace.text, trace.annotated


def test_forced_run_text_and_annotated_forms(lm, forced_events):
    trace = trace_of(forced_events)
    assert trace.text == parse(FORCED)["text"]
    assert trace.annotated == lang.canonical(FORCED) == FORCED
    assert trace.to_dict()["text"] == trace.text
    assert trace.to_dict()["annotated"] == trace.annotated


@pytest.mark.parametrize("mode", ["pasta", "sequential"])
def test_non_canonical_force_comes_back_canonical(lm, mode):
    # blocks at the end (as an interpreter log writes them), single quotes, odd spacing,
    # a missing `tokens` (default length)
    log_form = ("Intro<promise topic='a' />mid<promise  tokens=\"10\" topic=\"b\"/>End<sync/>"
                '<async topic="b">B body.</async><async topic=\'a\'>A body.</async>')
    trace = decode(lm, PROMPT, mode=mode, force=log_form)
    assert trace.text == parse(log_form)["text"] == "IntroA body.midB body.End"
    assert trace.annotated == lang.canonical(log_form)
    assert trace.threads[1].promised_tokens == Settings().default_tokens
    assert trace.threads[2].promised_tokens == 10


def test_plain_mode_treats_tags_as_text(lm):
    trace = decode(lm, PROMPT, mode="plain", force=FORCED)
    assert len(trace.threads) == 1 and trace.steps == trace.tokens_total
    assert trace.text == FORCED == trace.annotated


# -- events -------------------------------------------------------------------------------------


def test_event_stream_accounts_for_the_trace(lm, forced_events):
    events, trace = forced_events, trace_of(forced_events)
    assert events[0].type == "run_start" and events[0].prompt_token_ids == trace.prompt_token_ids
    steps = [e for e in events if e.type == "step"]
    assert len(steps) == trace.steps
    assert [e.step for e in steps] == list(range(1, trace.steps + 1))
    assert sum(map(sum, (e.n_tokens for e in steps))) == \
        trace.kv_tokens - len(trace.prompt_token_ids)
    assert trace.step_sizes == [sum(e.n_tokens) for e in steps]
    assert all(trace.threads[t].steps.count(e.step) == n
               for e in steps for t, n in zip(e.threads, e.n_tokens, strict=True))
    check_all_ended(events, trace)
    for th in trace.threads:  # nothing happens to a thread after its end
        end = next(i for i, e in enumerate(events) if e.type == "thread_end" and e.thread == th.id)
        assert not any(getattr(e, "thread", None) == th.id for e in events[end + 1:])
        assert not any(th.id in e.threads for e in events[end + 1:] if e.type == "step")


def test_main_thread_waits_at_sync_then_resumes(lm, forced_events):
    events = forced_events
    waits = [i for i, e in enumerate(events) if e.type == "thread_wait"]
    assert len(waits) == 1 and events[waits[0]].thread == 0
    w = waits[0]
    waiting_for = events[w].waiting_for
    assert waiting_for and set(waiting_for) <= {1, 2, 3}
    r = next(i for i, e in enumerate(events) if e.type == "thread_resume")
    assert r > w and events[r].thread == 0
    between = events[w + 1:r]
    assert not any(0 in e.threads for e in between if e.type == "step")  # main really waits
    assert {e.thread for e in between if e.type == "thread_end"} >= set(waiting_for)
    # the sequential schedule runs each chunk at its promise: nothing is left to wait for
    seq = list(stream(lm, PROMPT, mode="sequential", force=FORCED))
    assert not [e for e in seq if e.type in ("thread_wait", "thread_resume")]


@pytest.mark.parametrize("kw", [{"force": FORCED}, {"force": FORCED, "max_threads": 1},
                                {"max_new_tokens": 20, "temperature": 1.0}])
def test_events_are_timed_in_order_and_serialisable(lm, kw):
    events = list(stream(lm, PROMPT, mode="both", **kw))
    done = [i for i, e in enumerate(events) if e.type == "done"]
    assert len(done) == 2 and done[1] == len(events) - 1  # one `done` per run
    runs = [[e for e in events if e.run == name] for name in ("pasta", "sequential")]
    assert all(run[-1].type == "done" for run in runs)
    # lockstep: the runs take turns a step at a time, PASTA's first (the sequential run
    # starts before PASTA's ends), and neither takes two steps in a row while both run
    order = [e.run for e in events if e.type == "step"]
    both_running = order[:2 * min(order.count("pasta"), order.count("sequential"))]
    assert both_running == ["pasta", "sequential"] * (len(both_running) // 2)
    for run in runs:
        ts = [e.t for e in run]
        assert ts == sorted(ts), [(e.type, e.t) for e in run]
        assert run[-1].t == run[-1].trace.wall_s
    for ev in events:
        d = json.loads(json.dumps(ev.to_dict(), allow_nan=False))
        assert d["type"] == ev.type and d["run"] == ev.run


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("prompt", "kw", "exc", "words"), [
    ("", {}, SettingsError, "prompt is empty"),
    ("   \n", {}, SettingsError, "prompt is empty"),
    (PROMPT, {"mode": "fast"}, SettingsError, "mode must be one of"),
    (PROMPT, {"max_tokens": 10}, SettingsError, "max_tokens"),
    (PROMPT, {"max_new_tokens": 0}, SettingsError, "max_new_tokens"),
    (PROMPT, {"max_new_tokens": -5}, SettingsError, "max_new_tokens"),
    (PROMPT, {"top_p": 0}, SettingsError, "top_p"),
    (PROMPT, {"temperature": -1}, SettingsError, "temperature"),
    (PROMPT, {"max_threads": 0}, SettingsError, "max_threads"),
    (PROMPT, {"force": 'a<promise topic="x"/>b'}, ValueError, "unfulfilled_promise"),
    (PROMPT, {"force": "a</async>b"}, ValueError, "stray_close"),
    (PROMPT, {"force": '<promise topic="x"/><async topic="x">open', "mode": "both"}, ValueError,
     "unclosed_async"),
])
def test_bad_requests_raise_a_message_that_names_the_problem(lm, prompt, kw, exc, words):
    with pytest.raises(exc, match=words):
        decode(lm, prompt, **kw)


@pytest.mark.parametrize(("spec", "words"), [
    ("nosuch", "unknown model spec 'nosuch'"),
    ("random:nosuch", "unknown architecture 'nosuch'"),
    ("random:llama?layers=0", "layers"),
    ("random:llama?depth=2", "unknown option 'depth'"),
    ("./no/such/model/dir", "does not exist"),
    ("bundled:nosuch", "bundled model 'bundled:nosuch'"),
])
def test_bad_model_specs_raise_model_spec_error(spec, words):
    with pytest.raises(ModelSpecError, match=words):
        load_model(spec)


def test_missing_absolute_directory(tmp_path):
    with pytest.raises(ModelSpecError, match="does not exist"):
        load_model(str(tmp_path / "missing"))
    with pytest.raises(ModelSpecError, match=r"config\.json"):
        load_model(str(tmp_path))  # exists, but is not a model directory


def test_empty_model_spec(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelSpecError, match="empty"):
        load_model("  ")


# -- local directories --------------------------------------------------------------------------


def test_local_hf_directory_decodes_like_the_original(lm, tmp_path, forced_events):
    lm.model.save_pretrained(tmp_path)
    lm.tokenizer.save_pretrained(tmp_path)
    local = load_model(str(tmp_path))
    assert local.eos_token_ids == lm.eos_token_ids
    assert local.encode_prompt(PROMPT) == lm.encode_prompt(PROMPT)
    assert _main_tokens(local) == _main_tokens(lm)
    a, b = trace_of(forced_events), decode(local, PROMPT, force=FORCED)
    for x, y in zip(a.threads, b.threads, strict=True):
        assert x.token_ids == y.token_ids
        assert [v is None for v in x.logprobs] == [v is None for v in y.logprobs]
        assert [v for v in y.logprobs if v is not None] == \
            pytest.approx([v for v in x.logprobs if v is not None], abs=1e-5)


# -- incremental detokenisation -----------------------------------------------------------------


MULTIBYTE = "é中😀 naïve 中文 🎉<é>"


@pytest.fixture(scope="module")
def token_pool(lm):
    ids = lm.encode(MULTIBYTE)
    assert lm.tokenizer.decode(ids) == MULTIBYTE
    assert any("\ufffd" in lm.tokenizer.decode([i]) for i in ids)  # characters split over tokens
    return ids


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_detokenizer_deltas_add_up_to_the_decode(lm, token_pool, data):
    tok = lm.tokenizer
    any_id = st.integers(0, len(tok) - 1)
    ids = data.draw(st.lists(st.one_of(st.sampled_from(token_pool), any_id), max_size=24))
    if data.draw(st.booleans()):
        ids = lm.encode(MULTIBYTE) + ids
    full = tok.decode(ids, skip_special_tokens=True)
    d = Detokenizer(tok)
    deltas = [d.add(i) for i in ids]
    shown = "".join(deltas)
    assert full.startswith(shown)  # never a character that a later token changes
    assert shown + d.flush() == full
    assert d.flush() == ""


def test_detokenizer_holds_half_characters(lm):
    ids = lm.encode("中")
    assert len(ids) > 1
    d = Detokenizer(lm.tokenizer)
    assert [d.add(i) for i in ids] == [""] * (len(ids) - 1) + ["中"]


def test_mode_base_races_pasta_against_the_base_model_decoding_plainly(lm):
    base = load_model("random:qwen2")
    comp = decode(lm, PROMPT, mode="base", force=FORCED, baseline=base)
    assert comp.opponent == "base" and comp.sequential.mode == "plain"
    assert comp.sequential.model == "random:qwen2" and comp.pasta.model == "random:llama"
    spliced = lang.parse(FORCED)["text"]
    assert comp.pasta.text == spliced and comp.sequential.text == spliced  # equal work
    assert comp.to_dict().keys() == {"pasta", "base", "wall_speedup", "theoretical_speedup",
                                     "race"}
    assert comp.race["theoretical"] == comp.sequential.tokens_total / comp.pasta.steps
    events = list(stream(lm, PROMPT, mode="base", force=FORCED, baseline=base))
    order = [e.run for e in events if e.type == "step"]
    n = 2 * min(order.count("pasta"), order.count("plain"))
    assert order[:n] == ["pasta", "plain"] * (n // 2)  # lockstep
    with pytest.raises(SettingsError, match="base model"):
        decode(lm, PROMPT, mode="base")

"""Skeleton-of-Thought on the interpreter (docs/PASTA_LANG.md §6), held to PASTA's bar.

A forced transcript (a skeleton of 2-4 points, then each point's body) decoded in mode "sot"
(the points at once) and "sot-sequential" (one after another) gives the same tokens, positions
and log-probabilities (1e-4, fp32) on three architectures; those log-probabilities equal the
ones of each point decoded from scratch as its own ordinary sequence (prompt, skeleton, cue,
body) and the ones of one forward over the masks and positions rebuilt from the trace JSON
alone. Then the steps (skeleton + the longest point, vs the sum), the spliced text, the events,
the fallback without points, free decoding, caps, stops, and the CLI.
"""

from __future__ import annotations

import json

import pytest
import torch

from pasta_core import decode, load_model, sot, stream
from pasta_core.events import Done, Splicer, TraceBuilder
from pasta_core.layout import ThreadTokens, build_layout
from pasta_core.settings import plan_runs

from .conftest import check_rebuilt_logprobs, run_cli, visibility_mask

ARCHS = ["random:llama", "random:qwen2", "random:gemma"]
QUESTION = "Describe three planets."
TITLES = ["Mars", "Venus facts", "Jupiter"]
SKELETON = sot.render_skeleton(TITLES)
BODIES = ["Mars is red and small; it has two moons.",
          "Venus is hot, with a thick atmosphere of carbon dioxide.", "Big."]
TRANSCRIPT = sot.render_transcript(SKELETON, TITLES, BODIES)
TOL = 1e-4


@pytest.fixture(scope="module", params=ARCHS)
def lm(request):
    return load_model(request.param, device="cpu", dtype=torch.float32)


@pytest.fixture(scope="module")
def llama():
    return load_model("random:llama", device="cpu", dtype=torch.float32)


@pytest.fixture(scope="module")
def runs(lm):
    """(lm, parallel trace dict, sequential trace dict) of the forced transcript."""
    par = decode(lm, QUESTION, mode="sot", force=TRANSCRIPT).to_dict()
    seq = decode(lm, QUESTION, mode="sot-sequential", force=TRANSCRIPT).to_dict()
    return lm, json.loads(json.dumps(par)), json.loads(json.dumps(seq))


# -- the transcript: the format of forced answers and of a trace's `annotated` ----------------

def test_transcript_round_trip_and_errors():
    assert sot.parse_transcript(TRANSCRIPT) == (SKELETON, TITLES, BODIES)
    assert sot.parse_transcript("no points here") == ("no points here", [], [])
    body_with_cue_like_text = ["see\n\nPoint 9 (x): no", "b"]
    text = sot.render_transcript("1. a\n2. b", ["a", "b"], body_with_cue_like_text)
    assert sot.parse_transcript(text)[2] == body_with_cue_like_text
    assert sot.parse_transcript(SKELETON) == (SKELETON, TITLES, [])  # a skeleton alone
    with pytest.raises(ValueError, match="point 3"):
        sot.parse_transcript(sot.render_transcript(SKELETON, TITLES[:2], BODIES[:2]))
    with pytest.raises(ValueError, match="point 1"):
        sot.parse_transcript(SKELETON + sot.point_cue(1, "Earth") + "x")


def test_sot_prompt_wraps_the_question_only():
    assert sot.sot_prompt("Q?") == sot.skeleton_prompt("Q?")
    conv = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q1"},
            {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"}]
    wrapped = sot.sot_prompt(conv)
    assert [m["content"] for m in wrapped] == ["Be brief.", "Q1", "A1", sot.skeleton_prompt("Q2")]
    assert conv[3]["content"] == "Q2"  # the caller's conversation is left as it was


def test_modes_are_listed():
    assert plan_runs("sot") == ("sot",) and plan_runs("sot-sequential") == ("sot-sequential",)


# -- equivalence ---------------------------------------------------------------------------

def test_parallel_equals_sequential(runs):
    _, par, seq = runs
    assert len(par["threads"]) == 1 + len(TITLES) and par["errors"] == []
    for key in ("token_ids", "positions", "n_forced", "fork_index", "parent", "topic", "text"):
        assert [th[key] for th in par["threads"]] == [th[key] for th in seq["threads"]], key
    diffs = [abs(a - b) for pt, st in zip(par["threads"], seq["threads"], strict=True)
             for a, b in zip(pt["logprobs"], st["logprobs"], strict=True) if a is not None]
    assert len(diffs) == par["tokens_total"] == seq["tokens_total"] and max(diffs) < TOL
    assert par["text"] == seq["text"] == sot.splice(BODIES)
    assert par["annotated"] == seq["annotated"] == TRANSCRIPT
    assert [th["topic"] for th in par["threads"][1:]] == TITLES


def test_steps_skeleton_plus_longest_point_vs_the_sum(runs):
    _, par, seq = runs
    assert par["point_steps"] == seq["point_steps"]
    assert par["skeleton_steps"] == seq["skeleton_steps"] == len(par["threads"][0]["token_ids"])
    # a point's steps: its cue (one piece), each body token fed, its end-of-turn stored
    ntok = [len(th["token_ids"]) - th["n_forced"] for th in par["threads"][1:]]
    assert par["point_steps"] == [n + 1 for n in ntok]
    assert par["steps"] == par["skeleton_steps"] + max(par["point_steps"])
    assert seq["steps"] == seq["sequential_steps"] == (seq["skeleton_steps"]
                                                       + sum(seq["point_steps"]))
    assert par["sequential_steps"] == seq["steps"]
    assert par["theoretical_speedup"] == pytest.approx(seq["steps"] / par["steps"])
    assert par["theoretical_speedup"] > 1
    assert seq["theoretical_speedup"] == 1.0
    assert par["kv_tokens"] == seq["kv_tokens"] == len(par["prompt_token_ids"]) + sum(
        len(th["token_ids"]) for th in par["threads"])
    cue_steps = {th["steps"][0] for th in par["threads"][1:]}
    assert len(cue_steps) == 1  # every point's cue rides one forward pass


def test_each_point_equals_its_own_sequence_from_scratch(runs):
    """The reference with no project code beyond the tokenizer: the skeleton, then every point
    as an ordinary causal sequence prompt + skeleton + cue + body (default positions and mask)."""
    lm, par, _ = runs
    prompt = par["prompt_token_ids"]
    assert prompt == lm.encode_prompt(sot.skeleton_prompt(QUESTION))
    main, points = par["threads"][0], par["threads"][1:]
    assert main["token_ids"] == lm.encode(SKELETON)  # no end-of-turn: it is not stored
    assert all(lp is not None for lp in main["logprobs"])
    worst, checked = 0.0, 0
    for i, th in enumerate(points):
        assert th["parent"] == 0 and th["fork_index"] == len(main["token_ids"]) - 1
        cue = lm.encode(sot.point_cue(i + 1, TITLES[i]))
        assert th["token_ids"] == cue + lm.encode(BODIES[i]) + [lm.eos_token_id]
        assert th["n_forced"] == len(cue) and th["logprobs"][:len(cue)] == [None] * len(cue)
        ids = prompt + main["token_ids"] + th["token_ids"]
        with torch.no_grad():
            logp = torch.log_softmax(lm.model(input_ids=torch.tensor([ids])).logits[0].float(), -1)
        base = len(prompt) + len(main["token_ids"])
        rows = [(len(prompt) - 1 + j, tok, lp) for j, (tok, lp) in
                enumerate(zip(main["token_ids"], main["logprobs"], strict=True))] if i == 0 else []
        rows += [(base + j - 1, tok, lp) for j, (tok, lp) in
                 enumerate(zip(th["token_ids"], th["logprobs"], strict=True)) if lp is not None]
        for at, tok, lp in rows:
            worst = max(worst, abs(logp[at, tok].item() - lp))
            checked += 1
    assert checked == par["tokens_total"] and worst < TOL, worst


def _rebuild_from_json(trace: dict):
    """docs/PASTA_LANG.md §6 from the trace JSON alone: prompt and skeleton count up from 0;
    every point starts right after the skeleton's last token and sees prompt, skeleton and its
    own tokens. Returns the token order, the positions and the visibility matrix."""
    n_prompt = len(trace["prompt_token_ids"])
    main, *points = sorted(trace["threads"], key=lambda t: t["id"])
    seq = [(-1, i) for i in range(n_prompt)] + [(0, j) for j in range(len(main["token_ids"]))]
    pos = {key: k for k, key in enumerate(seq)}  # prompt and skeleton: 0, 1, 2, …
    shared = len(seq)
    vis = {key: set(seq[:k + 1]) for k, key in enumerate(seq)}
    for th in points:
        own: list[tuple[int, int]] = []
        for j in range(len(th["token_ids"])):
            key = (th["id"], j)
            seq.append(key)
            pos[key] = shared + j
            own.append(key)
            vis[key] = set(seq[:shared]) | set(own)
    return seq, pos, visibility_mask(seq, vis)


def test_trace_json_alone_rebuilds_masks_positions_and_logprobs(runs):
    lm, par, seq_trace = runs
    for trace in (par, seq_trace):
        seq, pos, mask = _rebuild_from_json(trace)
        checked = check_rebuilt_logprobs(lm, trace, seq, pos, mask, TOL)
        assert checked == trace["tokens_total"]


def test_training_layout_of_the_trace_gives_the_same_logprobs(runs):
    """`build_layout` (what training uses) over the trace's threads: PASTA's layout with every
    point forked at the skeleton's last token and never joined."""
    lm, par, _ = runs
    tt = ThreadTokens.from_trace(par)
    forced = ThreadTokens.from_sot(TRANSCRIPT, lm.encode, lm.eos_token_id,
                                   par["settings"]["max_thread_tokens"])
    assert forced.main[-1] == lm.eos_token_id and forced.main[:-1] == tt.main
    assert (forced.chunks, forced.n_forced, forced.fork_index, forced.promised) == (
        tt.chunks, tt.n_forced, tt.fork_index, tt.promised)
    lay = build_layout(par["prompt_token_ids"], tt, dtype=lm.dtype)
    with torch.no_grad():
        logits = lm.model(input_ids=lay.input_ids, position_ids=lay.position_ids,
                          attention_mask=lay.attention_mask).logits
    ref = lay.thread_logprobs(logits, tt, len(par["prompt_token_ids"]))
    got = [th["logprobs"] for th in par["threads"]]
    assert [[x is None for x in r] for r in ref] == [[x is None for x in g] for g in got]
    assert max(abs(a - b) for r, g in zip(ref, got, strict=True)
               for a, b in zip(r, g, strict=True) if a is not None) < TOL
    assert [lay.position_ids[0, idx].tolist() for idx in lay.index] == [
        th["positions"] for th in par["threads"]]
    # the transcript's own threads train the same thing, plus the skeleton's end-of-turn
    lay = build_layout(par["prompt_token_ids"], forced, dtype=lm.dtype)
    with torch.no_grad():
        logits = lm.model(input_ids=lay.input_ids, position_ids=lay.position_ids,
                          attention_mask=lay.attention_mask).logits
    ref = lay.thread_logprobs(logits, forced, len(par["prompt_token_ids"]))
    assert len(ref[0]) == len(got[0]) + 1 and ref[0][-1] is not None
    assert max(abs(a - b) for r, g in zip(ref, got, strict=True)
               for a, b in zip(r, g, strict=False) if a is not None) < TOL


# -- events, fallbacks, free decoding, caps, stops -------------------------------------------

def test_events_add_up_and_stream_the_spliced_text(llama):
    for mode in ("sot", "sot-sequential"):
        events = list(stream(llama, QUESTION, mode=mode, force=TRANSCRIPT, max_threads=2))
        assert isinstance(events[-1], Done) and {ev.run for ev in events} == {mode}
        trace = events[-1].trace
        builder, splicer, streamed = TraceBuilder(), Splicer(), []
        for ev in events[:-1]:
            builder.add(ev)
            streamed.append(splicer.add(ev))
        again = builder.build(trace.kv_tokens, trace.wall_s, trace.end_reason).to_dict()
        assert again == trace.to_dict()
        assert "".join(streamed) == trace.text == sot.splice(BODIES)
        assert sum(1 for ev in events if ev.type == "step") == trace.steps
        ends = [ev.thread for ev in events if ev.type == "thread_end"]
        assert sorted(ends) == list(range(1 + len(TITLES)))
        starts = [ev for ev in events if ev.type == "thread_start" and ev.thread > 0]
        assert ends.index(0) == 0 and all(ev.fork_index == len(trace.threads[0].token_ids) - 1
                                          for ev in starts)
        if mode == "sot":
            assert [ev.queued for ev in starts] == [False, False, True]


def test_max_threads_one_decodes_the_points_in_turn(llama):
    capped = decode(llama, QUESTION, mode="sot", force=TRANSCRIPT, max_threads=1).to_dict()
    seq = decode(llama, QUESTION, mode="sot-sequential", force=TRANSCRIPT).to_dict()
    assert capped["steps"] == seq["steps"]
    assert [th["token_ids"] for th in capped["threads"]] == [
        th["token_ids"] for th in seq["threads"]]


def test_no_points_falls_back_to_the_skeleton(llama):
    text = "Mars, Venus and Jupiter are planets."
    trace = decode(llama, QUESTION, mode="sot", force=text).to_dict()
    assert len(trace["threads"]) == 1 and trace["text"] == text == trace["annotated"]
    assert trace["point_steps"] == [] and trace["threads"][0]["end_reason"] == "eos"


def test_free_points_parallel_equals_sequential(llama):
    """A forced skeleton alone: its points decode freely (greedy, and sampled with a stream
    per thread), the same in both modes."""
    for settings in ({}, {"temperature": 0.9, "top_p": 0.9, "seed": 3}):
        par = decode(llama, QUESTION, mode="sot", force=SKELETON, max_new_tokens=200,
                     max_thread_tokens=12, **settings).to_dict()
        seq = decode(llama, QUESTION, mode="sot-sequential", force=SKELETON, max_new_tokens=200,
                     max_thread_tokens=12, **settings).to_dict()
        assert len(par["threads"]) == 1 + len(TITLES) and par["end_reason"] == "completed"
        assert [th["token_ids"] for th in par["threads"]] == [
            th["token_ids"] for th in seq["threads"]]
        assert all(len(th["token_ids"]) - th["n_forced"] <= 12 for th in par["threads"][1:])
        assert par["steps"] < seq["steps"]


def test_skeleton_capped_by_max_new_tokens(llama):
    trace = decode(llama, QUESTION, mode="sot", force=TRANSCRIPT, max_new_tokens=5).to_dict()
    assert len(trace["threads"]) == 1 and trace["end_reason"] == "max_new_tokens"
    assert trace["tokens_total"] == 5 and trace["text"] == trace["threads"][0]["text"]


@pytest.mark.parametrize(("mode", "after"), [("sot", 5), ("sot", 30), ("sot-sequential", 30)])
def test_a_stop_ends_every_thread(llama, mode, after):
    """Stopped in the skeleton (its text is the answer) or during the points."""
    steps = {"n": 0}

    def should_stop() -> bool:
        steps["n"] += 1
        return steps["n"] > after

    events = list(stream(llama, QUESTION, mode=mode, force=TRANSCRIPT, should_stop=should_stop))
    trace = events[-1].trace
    assert trace.end_reason == "stopped" and all(th.end_reason for th in trace.threads)
    assert trace.kv_tokens == len(trace.prompt_token_ids) + sum(
        len(th.token_ids) for th in trace.threads)
    assert (len(trace.threads) == 1) == (after < len(trace.threads[0].token_ids))
    if len(trace.threads) == 1:
        assert trace.text == trace.threads[0].text and SKELETON.startswith(trace.text)


def test_a_forced_transcript_the_run_disagrees_with_is_an_error(llama):
    two = sot.render_transcript(SKELETON, TITLES[:2], BODIES[:2])  # the third point is missing
    with pytest.raises(ValueError, match="point 3"):
        decode(llama, QUESTION, mode="sot", force=two)


@pytest.mark.slow  # starts the CLI in a subprocess (9 s)
def test_cli_decodes_sot(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text(TRANSCRIPT)
    d = run_cli("decode", "--model", "random:llama", "--prompt", QUESTION, "--mode", "sot",
                "--force-file", str(path), "--json")
    assert d["mode"] == "sot" and d["text"] == sot.splice(BODIES)
    assert d["steps"] == d["skeleton_steps"] + max(d["point_steps"])
    assert d["theoretical_speedup"] == pytest.approx(d["sequential_steps"] / d["steps"])


def test_static_runner_decodes_what_the_eager_one_decodes(llama):
    """The static cache (CUDA graphs on a GPU) holds SoT's ragged cue pieces as PASTA's."""
    want = decode(llama, QUESTION, mode="sot", force=TRANSCRIPT, runner="eager").to_dict()
    got = decode(llama, QUESTION, mode="sot", force=TRANSCRIPT, runner="static").to_dict()
    assert (got["steps"], got["kv_tokens"]) == (want["steps"], want["kv_tokens"])
    for g, w in zip(got["threads"], want["threads"], strict=True):
        assert g["token_ids"] == w["token_ids"] and g["positions"] == w["positions"]
        assert all(x == y or abs(x - y) < TOL for x, y in zip(g["logprobs"], w["logprobs"],
                                                               strict=True))

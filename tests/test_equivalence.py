"""The claim the product stands on: parallel == sequential == training layout (docs/DESIGN.md bars).

For a forced response with 5 chunks (3, a sync, then 2 more, then the implicit final sync),
per-token log-probabilities of the PASTA run, the sequential run and one training-layout
forward agree to 1e-4 in fp32 on three architectures, and the PASTA run takes fewer steps.
"""

import json

import pytest
import torch

from pasta_core import decode, load_model, stream
from pasta_core.events import Done, TraceBuilder
from pasta_core.layout import ThreadTokens, build_layout

from .conftest import check_rebuilt_logprobs, visibility_mask

ARCHS = ["random:llama", "random:qwen2", "random:gemma"]
PROMPT = "Describe three planets, then two rivers."
FORCED = (
    "Here are three planets:"
    '<promise topic="mars" tokens="20"/><async topic="mars"> Mars is the fourth planet.</async>'
    '<promise topic="venus" tokens="10"/><async topic="venus"> Venus is hot and has a thick'
    " atmosphere of carbon dioxide.</async>"
    '<promise topic="jupiter" tokens="30"/><async topic="jupiter"> Jupiter is big.</async>'
    "<sync/> All three orbit the Sun. Two rivers:"
    '<promise topic="nile" tokens="20"/><async topic="nile"> The Nile flows north.</async> and'
    '<promise topic="amazon" tokens="10"/><async topic="amazon"> the Amazon.</async>'
)
TOL = 1e-4


@pytest.fixture(scope="module", params=ARCHS)
def lm(request):
    return load_model(request.param, device="cpu", dtype=torch.float32)


def _flat(trace: dict) -> list[tuple[int, int, float | None]]:
    return [(th["id"], tok, lp) for th in trace["threads"]
            for tok, lp in zip(th["token_ids"], th["logprobs"], strict=True)]


def _layout_logprobs(lm, prompt_ids, tt):
    lay = build_layout(prompt_ids, tt, dtype=lm.dtype)
    with torch.no_grad():
        logits = lm.model(input_ids=lay.input_ids, position_ids=lay.position_ids,
                          attention_mask=lay.attention_mask).logits
    return lay.thread_logprobs(logits, tt, len(prompt_ids))


def test_three_way_equivalence(lm):
    both = decode(lm, PROMPT, mode="both", force=FORCED)
    par, seq = both.pasta.to_dict(), both.sequential.to_dict()
    assert par["text"] == seq["text"] and "<" not in par["text"]
    assert par["errors"] == [] and len(par["threads"]) == 6
    assert [th["token_ids"] for th in par["threads"]] == [th["token_ids"] for th in seq["threads"]]
    assert [th["positions"] for th in par["threads"]] == [th["positions"] for th in seq["threads"]]
    assert par["steps"] < seq["steps"]
    assert par["tokens_total"] == seq["tokens_total"]

    tt = ThreadTokens.from_text(FORCED, lm.encode, lm.eos_token_id)
    ref = _layout_logprobs(lm, par["prompt_token_ids"], tt)
    flat_ref = [lp for row in ref for lp in row]
    for trace in (par, seq):
        got = [lp for _, _, lp in _flat(trace)]
        assert [g is None for g in got] == [r is None for r in flat_ref]
        diffs = [abs(g - r) for g, r in zip(got, flat_ref, strict=True) if g is not None]
        assert len(diffs) == trace["tokens_total"] and max(diffs) < TOL, max(diffs)


def test_layout_from_trace_matches_layout_from_text(lm):
    trace = decode(lm, PROMPT, mode="pasta", force=FORCED).to_dict()
    from_trace = ThreadTokens.from_trace(trace)
    from_text = ThreadTokens.from_text(FORCED, lm.encode, lm.eos_token_id)
    assert from_trace == from_text


def _rebuild_from_json(trace: dict):
    """docs/PASTA_LANG.md §4 from the trace JSON alone — no project code. Returns the token order,
    positions (recomputed by the rules) and the boolean visibility matrix."""
    threads = {th["id"]: th for th in trace["threads"]}
    main = threads[0]
    chunks = sorted((th for th in trace["threads"] if th["id"] != 0), key=lambda t: t["id"])
    seq: list[tuple[int, int]] = [(-1, i) for i in range(len(trace["prompt_token_ids"]))]
    pos: dict[tuple[int, int], int] = {(-1, i): i for i in range(len(trace["prompt_token_ids"]))}
    vis: dict[tuple[int, int], set] = {}
    seen_main = {(-1, i) for i in range(len(trace["prompt_token_ids"]))}
    for i in range(len(trace["prompt_token_ids"])):
        vis[(-1, i)] = {(-1, j) for j in range(i + 1)}
    next_pos = len(trace["prompt_token_ids"])
    forked, joined = [], set()
    for i in range(len(main["token_ids"])):
        if i in main["sync_indices"]:
            for c in forked:
                if c["id"] not in joined:
                    joined.add(c["id"])
                    seen_main |= {(c["id"], j) for j in range(len(c["token_ids"]))}
                    if c["token_ids"]:
                        next_pos = max(next_pos, 1 + pos[(c["id"], len(c["token_ids"]) - 1)])
        seq.append((0, i))
        pos[(0, i)] = next_pos
        next_pos += 1
        seen_main.add((0, i))
        vis[(0, i)] = set(seen_main)
        for c in chunks:
            if c["fork_index"] != i:
                continue
            forked.append(c)
            seen = set(seen_main)
            for j in range(len(c["token_ids"])):
                seq.append((c["id"], j))
                pos[(c["id"], j)] = pos[(0, i)] + 1 + j
                seen.add((c["id"], j))
                vis[(c["id"], j)] = set(seen)
            next_pos = pos[(0, i)] + 1 + c["promised_tokens"]
    return seq, pos, visibility_mask(seq, vis)


def test_trace_json_alone_rebuilds_masks_positions_and_logprobs(lm):
    trace = json.loads(json.dumps(decode(lm, PROMPT, mode="pasta", force=FORCED).to_dict()))
    seq, pos, mask = _rebuild_from_json(trace)
    checked = check_rebuilt_logprobs(lm, trace, seq, pos, mask, TOL)
    assert checked == trace["tokens_total"]


def test_greedy_sequential_equals_generate(lm):
    prompt_ids = lm.encode_prompt("Tell me about the Nile.")
    for mode in ("sequential", "plain"):
        trace = decode(lm, "Tell me about the Nile.", mode=mode, max_new_tokens=40)
        assert len(trace.threads) == 1  # random weights write no promises here
        with torch.no_grad():
            out = lm.model.generate(torch.tensor([prompt_ids]), do_sample=False,
                                    max_new_tokens=40, eos_token_id=lm.eos_token_ids,
                                    pad_token_id=lm.tokenizer.pad_token_id)
        assert trace.threads[0].token_ids == out[0, len(prompt_ids):].tolist()


def test_kv_tokens_and_events_add_up(lm):
    for mode in ("pasta", "sequential"):
        events = list(stream(lm, PROMPT, mode=mode, force=FORCED, max_threads=2))
        trace = events[-1].trace
        assert isinstance(events[-1], Done)
        d = trace.to_dict()
        assert d["kv_tokens"] == len(d["prompt_token_ids"]) + sum(
            len(th["token_ids"]) for th in d["threads"])
        builder = TraceBuilder()
        for ev in events[:-1]:
            builder.add(ev)
        again = builder.build(trace.kv_tokens, trace.wall_s, trace.end_reason).to_dict()
        assert again == d
        assert sum(len(ev.token_ids) for ev in events if ev.type == "tokens") == sum(
            len(th["token_ids"]) for th in d["threads"])
        assert sum(1 for ev in events if ev.type == "step") == d["steps"]


def test_layout_growth_in_the_middle_of_a_step_changes_nothing(lm, monkeypatch):
    """The layout doubles its width when it runs out of slots, also between two threads of one
    step; the run must not notice (this once crashed a stage-2 sampling run)."""
    from pasta_core.interpreter import Interpreter

    want = decode(lm, PROMPT, mode="pasta", force=FORCED).to_dict()
    monkeypatch.setattr(Interpreter, "initial_slots", 1)
    got = decode(lm, PROMPT, mode="pasta", force=FORCED).to_dict()
    for a, b in zip(want["threads"], got["threads"], strict=True):
        assert a["token_ids"] == b["token_ids"] and a["positions"] == b["positions"]
        assert all(x == y or abs(x - y) < TOL for x, y in zip(a["logprobs"], b["logprobs"],
                                                               strict=True))

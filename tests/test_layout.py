"""Hand-checked positions, masks and labels of the shared layout (docs/PASTA_LANG.md §4)."""

import torch

from pasta_core.layout import MAIN, ThreadLayout, ThreadTokens, build_layout

# prompt P0 P1; main m0 m1(promise A) m2(promise B) m3 m4(sync) m5(promise C) m6(sync) m7(eos)
# A = a0(forced) a1, promised 3; B = b0(forced) b1 b2, promised 2 (overruns); C = c0(forced), 4
P = [900, 901]
TT = ThreadTokens(
    main=[10, 11, 12, 13, 14, 15, 16, 17],
    chunks=[[20, 21], [30, 31, 32], [40]],
    n_forced=[1, 1, 1],
    promised=[3, 2, 4],
    fork_index=[1, 2, 5],
    sync_indices=[4, 6],
)
# sequence order: P0 P1 m0 m1 a0 a1 m2 b0 b1 b2 m3 m4 m5 c0 m6 m7
ORDER = [900, 901, 10, 11, 20, 21, 12, 30, 31, 32, 13, 14, 15, 40, 16, 17]
POSITIONS = [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 10, 11, 12, 13, 17, 18]
VISIBLE = [
    {0},
    {0, 1},
    {0, 1, 2},
    {0, 1, 2, 3},
    {0, 1, 2, 3, 4},  # a0 sees the promise's last token m1
    {0, 1, 2, 3, 4, 5},
    {0, 1, 2, 3, 6},  # m2 does not see chunk A
    {0, 1, 2, 3, 6, 7},
    {0, 1, 2, 3, 6, 7, 8},
    {0, 1, 2, 3, 6, 7, 8, 9},
    {0, 1, 2, 3, 6, 10},  # m3 sees neither chunk
    set(range(12)),  # m4 ends the first sync: A and B joined, position max(11, 6, 11)
    set(range(13)),
    set(range(14)),  # c0 sees what main saw at its promise, joined chunks included
    set(range(15)),  # m6 ends the second sync: C joined, position max(17, 14)
    set(range(16)),
]
LABELS = [-100, 10, 11, 12, 21, -100, 13, 31, 32, -100, 14, 15, 16, -100, 17, -100]


def test_hand_checked_layout_with_two_syncs():
    lay = build_layout(P, TT)
    assert lay.input_ids[0].tolist() == ORDER
    assert lay.position_ids[0].tolist() == POSITIONS
    want = torch.tensor([[j in row for j in range(len(ORDER))] for row in VISIBLE])
    got = lay.attention_mask[0, 0] == 0
    assert torch.equal(got, want), (got.int() - want.int()).nonzero().tolist()
    assert lay.labels[0].tolist() == LABELS
    assert lay.thread_ids.tolist() == [-1, -1, 0, 0, 1, 1, 0, 2, 2, 2, 0, 0, 0, 3, 0, 0]
    assert lay.index == [[2, 3, 6, 10, 11, 12, 14, 15], [4, 5], [7, 8, 9], [13]]


def test_mask_is_additive_float_in_the_requested_dtype():
    lay = build_layout(P, TT, dtype=torch.bfloat16)
    m = lay.attention_mask
    assert m.dtype == torch.bfloat16 and m.shape == (1, 1, 16, 16)
    assert set(m.unique().tolist()) == {0.0, torch.finfo(torch.bfloat16).min}


def test_incremental_placement_matches_whole_layout():
    """The interpreter's way (several tokens of several threads per step, chunks placed late)
    gives each token the same position and visible set as the training layout."""
    lay = ThreadLayout(capacity=4, threads=1)  # grows as needed
    pos, _ = lay.place(MAIN, 2)
    assert pos == [0, 1]
    pos, _ = lay.place(MAIN, 1)  # m0
    pos, _ = lay.place(MAIN, 1)  # m1 ends promise A
    assert pos == [3]
    lay.fork(MAIN, 1, 3)
    pos, r_a = lay.place(1, 2)  # A's forced tag and first token, in the same step as m1
    assert pos == [4, 5]
    pos, _ = lay.place(MAIN, 1)  # m2 (after A's slots: a different slot order than training)
    assert pos == [7]
    lay.join(MAIN, [1])
    pos, r = lay.place(MAIN, 1)
    assert pos == [8]  # max(8, 1 + 5)
    assert r[0, :7].tolist() == [True] * 7  # sees prompt, m0..m2 and A
    assert r_a[0, :5].tolist() == [True, True, True, True, True]  # a0 sees m1 (slot 3)
    assert r_a[0, 5].item() is False and r_a[1, 5].item() is True  # causal inside the piece


def test_from_text_tokenizes_tags_as_segments():
    def enc(s):  # a character tokenizer: each tag costs exactly its length in tokens
        return [ord(c) for c in s]

    text = 'ab<promise topic="t" tokens="7"/><async topic="t">xy</async>c<sync/>d'
    tt = ThreadTokens.from_text(text, enc, eos_id=0)
    promise = '<promise topic="t" tokens="7"/>'
    assert tt.main == enc("ab" + promise + "c<sync/>d") + [0]
    assert tt.fork_index == [2 + len(promise) - 1]
    assert tt.sync_indices == [2 + len(promise) + 1 + len("<sync/>") - 1]
    assert tt.chunks == [enc('<async topic="t">xy</async>')]
    assert tt.n_forced == [len('<async topic="t">')]
    assert tt.promised == [7]
    # a missing tokens attribute takes the default length
    assert ThreadTokens.from_text('<promise topic="t"/><async topic="t">x</async>', enc, None,
                                  default_tokens=33).promised == [33]

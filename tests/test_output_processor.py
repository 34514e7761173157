"""The interpreter's output processor on its own: a token's text, tags and the actions they ask
for (fork, wait, end), with a stand-in tokenizer — no model."""

from __future__ import annotations

from pasta_core.interpreter import OutputProcessor


class Chars:
    """A tokenizer whose tokens are pieces of text (what Detokenizer needs: decode)."""

    def __init__(self, pieces: list[str]):
        self.pieces = pieces

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return "".join(self.pieces[i] for i in ids)


def run(pieces: list[str], main: bool = True, plain: bool = False):
    op = OutputProcessor(Chars(pieces), main=main, plain=plain)
    return op, [op.add(i, last=i == len(pieces) - 1, next_thread=1) for i in range(len(pieces))]


def test_a_promise_split_over_tokens_is_one_tag_that_starts_one_chunk():
    _, outs = run(["Two: ", '<promise topic="a" ', 'tokens="20"/>', " and", "<sync/>", " end"])
    assert [o.text for o in outs] == ["Two: ", "", "", " and", "", " end"]
    assert [o.raw for o in outs][1] == '<promise topic="a" '  # raw keeps what the model wrote
    assert outs[2].tags == [{"kind": "promise", "at": 0, "thread": 1}]
    assert [t.topic for t in outs[2].promises] == ["a"] and outs[2].promises[0].attrs == {
        "topic": "a", "tokens": "20"}
    assert [o.sync for o in outs] == [False, False, False, False, True, False]
    assert not any(o.close or (o.promises and o is not outs[2]) for o in outs)


def test_two_promises_in_one_token_get_consecutive_thread_ids():
    op = OutputProcessor(Chars(['<promise topic="a"/><promise topic="b"/>x']), main=True)
    o = op.add(0, next_thread=3)
    assert [t["thread"] for t in o.tags] == [3, 4] and o.text == "x"


def test_a_chunk_ends_at_its_close_and_drops_what_follows():
    op = OutputProcessor(Chars(['<async topic="a">', " Mars", " is red.</async>", " tail"]),
                         main=False)
    assert op.opening([0]) == '<async topic="a">'
    first, closing = op.add(1), op.add(2)
    assert (first.text, first.close) == (" Mars", False)
    assert closing.close and closing.text == " is red." and closing.tags == [
        {"kind": "close", "at": 8}]
    assert op.finish(closed=True)[1] == ""


def test_a_chunks_promise_and_sync_are_tags_not_actions():
    _, outs = run(['<promise topic="x"/>', "<sync/>"], main=False)
    assert [o.tags[0]["kind"] for o in outs] == ["promise", "sync"]
    assert not any(o.promises or o.sync for o in outs)


def test_a_tag_cut_short_is_shown_as_text_at_the_end():
    op = OutputProcessor(Chars(["Hi ", "<prom"]), main=True)
    assert op.add(0).text == "Hi " and op.add(1).text == ""  # held back: it may be a tag
    assert op.finish(closed=False) == ("", "<prom")


def test_plain_mode_treats_tags_as_text():
    _, outs = run(["a", "<sync/>", '<promise topic="p"/>'], plain=True)
    assert "".join(o.text for o in outs) == 'a<sync/><promise topic="p"/>'
    assert not any(o.tags or o.promises or o.sync for o in outs)

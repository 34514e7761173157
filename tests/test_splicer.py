"""The Splicer streams the final text in order, as soon as each part of it is known."""

from pasta_core import load_model, stream
from pasta_core.events import Splicer, ThreadEnd, Tokens

PROMPT = "Describe two planets."
FORCED = (
    "Two planets:"
    '<promise topic="mars" tokens="20"/><async topic="mars"> Mars is red and cold.</async>'
    '<promise topic="venus" tokens="20"/><async topic="venus"> Venus is hot.</async>'
    "<sync/> Venus is warmer."
)


def test_streamed_parts_arrive_in_final_order_and_add_up():
    lm = load_model("random:llama")
    splicer, pieces, events = Splicer(), [], list(stream(lm, PROMPT, force=FORCED))
    for k, ev in enumerate(events):
        new = splicer.add(ev)
        if new:
            pieces.append((k, new))
    trace = events[-1].trace
    assert "".join(p for _, p in pieces) == trace.text == (
        "Two planets: Mars is red and cold. Venus is hot. Venus is warmer.")
    end_of = {ev.thread: k for k, ev in enumerate(events) if isinstance(ev, ThreadEnd)}
    mars_done = len("Two planets: Mars is red and cold.")
    venus_done = len("Two planets: Mars is red and cold. Venus is hot.")
    sent = 0
    for k, piece in pieces:
        before, sent = sent, sent + len(piece)
        if sent <= mars_done and before >= len("Two planets: M"):
            assert k < end_of[1]  # chunk 1 streams while it is being written
        if sent > mars_done:
            assert k >= end_of[1]  # nothing after chunk 1 before chunk 1 has ended
        if sent > venus_done:
            assert k >= end_of[2]  # the main text after the sync waits for both chunks
    # venus is written in parallel with mars, but sent only once mars has ended
    venus_first = next(k for k, ev in enumerate(events)
                       if isinstance(ev, Tokens) and ev.thread == 2 and ev.text)
    assert venus_first < end_of[1]

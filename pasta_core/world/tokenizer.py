"""The bundled models' tokenizer: byte-level BPE trained on the world's own text.

PASTA-LANG tags are made of a few dedicated tokens, because a tag is decoding time the main
thread spends not writing the answer. The canonical promise costs 2 + (topic) tokens:
`<promise topic="`, the topic, then `" tokens="N"/>` as one token for every N the training data
writes (multiples of 10 up to MAX_PROMISED). `</async>` and `<sync/>` are one token each, and
the forced opening `<async topic="`, topic, `">` costs no decoding step of its own. Other
spellings (another N, spaces, no tokens attribute) still tokenize, from the smaller pieces.
"""

from __future__ import annotations

from pasta_core.models import build_bpe_tokenizer
from pasta_core.world.facts import ENTITIES, render_fact
from pasta_core.world.prompts import generate_split, render_annotated

MAX_PROMISED = 400
TAG_PIECES = ('<promise topic="', '<async topic="', '<promise', ' topic="', '" tokens="', '"/>',
              '<async', '">', "</async>", "<sync/>",
              *(f'" tokens="{n}"/>' for n in range(10, MAX_PROMISED + 1, 10)))


def world_corpus(n: int = 3000, seed: int = 0) -> list[str]:
    """Training-split prompts and answers, plus every fact sentence (so every entity name of
    every split has merges; held-out *combinations and phrasings* are what the test measures)."""
    out: list[str] = []
    for ex in generate_split("train", n, seed=seed):
        out += [ex.prompt, ex.plain, render_annotated(ex)]
    for e in ENTITIES.values():
        out += [render_fact(e.id, attr) for attr in e.facts]
    return out


def build_world_tokenizer(vocab_size: int = 2048, seed: int = 0):
    return build_bpe_tokenizer(world_corpus(seed=seed), vocab_size, added=TAG_PIECES)

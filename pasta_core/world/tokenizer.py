"""The bundled models' tokenizer: byte-level BPE trained on the world's own text.

PASTA-LANG tags are made of a few dedicated tokens, so a promise costs about six tokens
(`<promise`, ` topic="`, topic, `" tokens="`, number, `"/>`) and `</async>`, `<sync/>` one each:
a tag is decoding time the main thread spends not writing the answer.
"""

from __future__ import annotations

from pasta_core.models import build_bpe_tokenizer
from pasta_core.world.facts import ENTITIES, render_fact
from pasta_core.world.prompts import generate_split, render_annotated

TAG_PIECES = ('<promise', ' topic="', '" tokens="', '"/>', '<async', '">', "</async>", "<sync/>")


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

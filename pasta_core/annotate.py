"""Rule-based annotation, as APAR does it: a plain answer → PASTA-LANG by syntax alone.

The rules know nothing of the world or of what the text means:
  - a list (numbered `1.` / `1)` or bulleted `-`, `*`, `•` lines) of at least `min_parts`
    items: each item becomes a chunk; the text before it stays in the main thread, and the text
    after it follows a `<sync/>` (it may read the items);
  - otherwise, at least 1 + `min_parts` paragraphs: the first is the intro, every later one a
    chunk;
  - otherwise nothing is split.
This is the hand-made baseline the paper compares learned promises against: it splits wherever
the syntax allows, also where a later step needs an earlier one (a numbered derivation, "compare,
then conclude" in paragraphs), so the later step can no longer see the earlier one. Splicing the
result gives back the input exactly (`lang.parse(annotate(t))["text"] == t`).

A chunk owns the separator before it (the newline or blank line), as the world's answers do,
so promises come back to back. `tokens` is the chunk thread's length rounded up to a multiple
of 10 (docs/PASTA_LANG.md §1), counted with `count_tokens` (a stand-in when none is given).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from . import lang
from .world.prompts import round_up_tokens, stand_in_count_tokens

ITEM = re.compile(r"[ \t]*(?:[-*•]|\d{1,3}[.)])[ \t]+\S")
PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
TOPIC_WORDS = 4


@dataclass(frozen=True)
class Split:
    """A plain text cut by the rules: main text before, the chunks' bodies, text after."""

    intro: str
    parts: list[str]  # each body with its leading separator (none on the first)
    outro: str  # after the parts; it follows a <sync/> when not empty
    rule: str  # "list", "paragraphs" or "none"


def split_by_syntax(text: str, min_parts: int = 2) -> Split:
    """Where the rules cut `text` (see the module doc); `parts` empty when they do not."""
    found = _list_items(text, min_parts)
    if found is not None:
        return found
    pieces = PARAGRAPH_BREAK.split(text)
    if len(pieces) < 1 + min_parts:
        return Split(text, [], "", "none")
    seps = PARAGRAPH_BREAK.findall(text)
    parts = [pieces[1]] + [sep + p for sep, p in zip(seps[1:], pieces[2:], strict=True)]
    return Split(pieces[0] + seps[0], parts, "", "paragraphs")


def _list_items(text: str, min_parts: int) -> Split | None:
    """The first run of at least `min_parts` list items (an item runs on over the following
    lines that are neither blank nor another item)."""
    lines = text.splitlines(keepends=True)
    starts: list[int] = []  # line index of each item of the current run
    end = 0
    for i, line in enumerate(lines):
        if ITEM.match(line):
            starts.append(i)
            end = i + 1
        elif starts and line.strip() and i == end:
            end = i + 1  # the item goes on
        elif starts:
            if len(starts) >= min_parts:
                break
            starts = []
    if len(starts) < min_parts:
        return None
    bounds = [*starts, end]
    items = ["".join(lines[a:b]) for a, b in itertools.pairwise(bounds)]
    intro = "".join(lines[:starts[0]])
    outro = "".join(lines[end:])
    # the newline ending an item belongs to the next chunk (or to the text after the list)
    parts, carry = [], ""
    for item in items:
        body = item.rstrip("\n")
        parts.append(carry + body)
        carry = item[len(body):]
    return Split(intro, parts, carry + outro, "list")


def topic_of(body: str, taken: set[str]) -> str:
    """A short topic from a chunk's first words (no marker, no punctuation), unique in `taken`."""
    first = ITEM.sub(lambda m: m.group(0)[-1], body.strip().splitlines()[0] if body.strip()
                     else "", count=1)
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9'’-]*", re.split(r"[:.;,—–(]", first)[0])
    topic = " ".join(words[:TOPIC_WORDS]) or "part"
    name, k = topic, 2
    while name.lower() in taken:
        name, k = f"{topic} {k}", k + 1
    taken.add(name.lower())
    return name


def annotate(text: str, count_tokens: Callable[[str], int] | None = None,
             min_parts: int = 2) -> str:
    """`text` (a plain answer) in PASTA-LANG canonical form, split by the rules above; the text
    unchanged when they find nothing to split. ValueError when it already holds tags."""
    if lang.parse(text)["main"] != text:
        raise ValueError("the text already holds PASTA-LANG tags; give a plain answer")
    s = split_by_syntax(text, min_parts)
    if not s.parts:
        return text
    count = count_tokens or stand_in_count_tokens
    taken: set[str] = set()
    out = [s.intro]
    for body in s.parts:
        topic = topic_of(body, taken)
        thread = lang.chunk_thread_text(topic, body)
        out.append(lang.promise_tag(topic, round_up_tokens(count(thread))) + thread)
    if s.outro:
        out.append(lang.SYNC + s.outro)
    return "".join(out)

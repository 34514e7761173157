"""How a visitor words a request: the prompt grammar around the world's request templates.

A prompt is built from independent choices, each a branch of the grammar:

    opener + core request (the shape's template: verb, question or imperative) + closer

with the entities' names said in one of several ways (with or without "the", lower case, the
plural for animals, now and then a typo) and lists written with commas, "and", "&",
semicolons, new lines, bullets or numbers.

Phrasing families and splits
----------------------------
Every option of every branch (each opener, each closer, each core template) belongs to one
split by its index: ``i % 5 == 4`` → ``test``, ``i % 5 == 3`` → ``validation``, the rest
``train``. A training prompt uses training options only; a test prompt uses a test core
template, and its opener and closer may be training or test ones. So a test prompt's request
is worded in a way the model never saw, and may be dressed in words it never saw either.
List styles and name variants are not held out: each is a way of writing every request.

The core grammar
----------------
Each branch's first options are its *core* (``CORE_OPENERS``, ``CORE_CLOSERS``,
``prompts.CORE_TEMPLATES``): the grammar as it was before it was widened, appended to so
that every option kept its index and split. Inside ``with core_only():`` requests are worded
with core options only; the world recipe builds the tokenizer and trains stage 0 that way,
and every later stage on the whole grammar (README, "Prompt grammar").
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

__all__ = [
    "CLOSERS",
    "LIST_STYLES",
    "OPENERS",
    "ListStyle",
    "core_only",
    "dress",
    "in_use",
    "option_split",
    "options_for",
    "say_list",
    "say_name",
]

# a typo is a swap of two neighbouring letters inside a name of 6+ letters
TYPO_RATE = 0.03
# how often an opener / a closer is added at all
OPENER_RATE, CLOSER_RATE = 0.45, 0.35


# the core grammar's openers and closers: the first this many of each
CORE_OPENERS, CORE_CLOSERS = 20, 15
_CORE_ONLY: ContextVar[bool] = ContextVar("core_only", default=False)
T = TypeVar("T")


@contextmanager
def core_only() -> Iterator[None]:
    """Within it, requests are worded with the core options of every branch only."""
    token = _CORE_ONLY.set(True)
    try:
        yield
    finally:
        _CORE_ONLY.reset(token)


def in_use(options: Sequence[T], core: int) -> Sequence[T]:
    """A branch's options in use: its first ``core`` ones inside ``core_only()``, else all."""
    return options[:core] if _CORE_ONLY.get() else options


def dressing_in_use() -> tuple[Sequence[str], Sequence[str]]:
    """The openers and closers in use (``in_use``): the core ones inside ``core_only()``."""
    return in_use(OPENERS, CORE_OPENERS), in_use(CLOSERS, CORE_CLOSERS)


def option_split(index: int) -> str:
    """The split one option of a grammar branch belongs to (see the module doc)."""
    return "test" if index % 5 == 4 else "validation" if index % 5 == 3 else "train"


def options_for(options: Sequence[str], split: str) -> list[str]:
    """The dressing (openers, closers) a prompt of ``split`` may use: its own options, and for
    a held-out split the training ones too (a core template is always of the split itself:
    ``prompts.generate_example``)."""
    own = [o for i, o in enumerate(options) if option_split(i) == split]
    if split == "train":
        return own
    return own + [o for i, o in enumerate(options) if option_split(i) == "train"]


OPENERS: tuple[str, ...] = (
    "Hi! ", "Hello. ", "Hey, ", "Please help me. ", "Good morning! ",
    "I have a question. ", "Quick one: ", "For my class: ", "I'm revising for a test. ",
    "Can you help? ", "Hello there! ", "I am curious. ", "Okay, ", "Question for you. ",
    "Hey there. ", "For a school report: ", "Help me out here. ", "So, ", "Homework help: ",
    "Dear assistant, ", "Hi there. ", "I need some help. ", "Quick question. ",
    "Good evening! ", "Can I ask something? ", "Right, ", "I'm studying. ",
    "Here's my question: ", "Excuse me, ", "Hello again! ",
)

CLOSERS: tuple[str, ...] = (
    " Thanks!", " Thank you.", " Please.", " Keep it short.", " Thanks a lot.",
    " Be brief.", " Cheers.", " Much appreciated.", " Thank you so much!", " Short answers please.",
    " Thanks in advance.", " Keep it simple.", " That would help a lot.", " Ta.", " Many thanks.",
    " Thanks so much.", " Please keep it brief.", " That's all.", " Thank you kindly.",
    " I appreciate it.", " Short and simple, please.", " Thanks, friend!", " Much obliged.",
    " No long answers please.", " Thank you!",
)


def dress(core: str, rng: random.Random, split: str) -> str:
    """The core request with, sometimes, an opener and a closer of ``split``'s options."""
    text = core
    openers, closers = dressing_in_use()
    if rng.random() < OPENER_RATE:
        opener = rng.choice(options_for(openers, split))
        text = opener + (text[:1].lower() + text[1:] if opener.endswith((", ", ": "))
                         and not _keeps_capital(text) else text)
    if rng.random() < CLOSER_RATE:
        closer = rng.choice(options_for(closers, split))
        # after a list written one item per line, the closer gets a line of its own
        text += closer if text.rstrip().endswith((".", "?", "!")) else "\n" + closer.strip()
    return text


def _keeps_capital(text: str) -> bool:
    """A request that starts with a name or "I" keeps its capital after "Hey, "."""
    first = text.split(" ", 1)[0]
    return first == "I" or (len(first) > 1 and first[1:].lower() != first[1:])


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


def say_name(name: str, rng: random.Random, plural: str | None = None,
             start: bool = False) -> str:
    """One way a visitor writes an entity's name (``"the violin"``): as is, without "the",
    in lower case, the plural (animals), now and then with a typo."""
    roll = rng.random()
    if plural and roll < 0.2:
        said = plural
    elif name.startswith("the ") and roll < 0.45:
        said = name[4:]
    elif roll < 0.6:
        said = name.lower()
    else:
        said = name
    if rng.random() < TYPO_RATE:
        said = _typo(said, rng)
    return said[:1].upper() + said[1:] if start else said


def _typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)  # never the first letter
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    return " ".join(words)


# --------------------------------------------------------------------------------------------
# Lists
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListStyle:
    """One way of writing a list of names; ``lines`` styles start on a new line."""

    name: str
    lines: bool = False


LIST_STYLES: tuple[ListStyle, ...] = (
    ListStyle("and"), ListStyle("and"), ListStyle("oxford"), ListStyle("ampersand"),
    ListStyle("semicolons"), ListStyle("commas"), ListStyle("and_only"),
    ListStyle("newlines", lines=True), ListStyle("bullets", lines=True),
    ListStyle("numbers", lines=True),
)


def _inline(names: list[str], style: str) -> str:
    if len(names) == 1:
        return names[0]
    if style == "oxford" and len(names) > 2:
        return ", ".join(names[:-1]) + ", and " + names[-1]
    if style == "ampersand":
        return ", ".join(names[:-1]) + " & " + names[-1]
    if style == "semicolons":
        return "; ".join(names)
    if style == "commas":
        return ", ".join(names)
    if style == "and_only":
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def say_list(template: str, names: list[str], rng: random.Random, **fields: str) -> str:
    """``template`` with ``{items}`` filled by ``names`` in a random list style. A line style
    is used only when ``{items}`` ends the template (``"Tell me about {items}."`` →
    ``"Tell me about:\\n- Mars\\n- Venus"``)."""
    style = rng.choice(LIST_STYLES)
    head, sep, tail = template.partition("{items}")
    if style.lines and sep and tail.strip() in ("", ".", "?", "!") and len(names) > 1:
        head = head.rstrip()
        head = head[:-1] if head.endswith(":") else head
        if style.name == "bullets":
            lines = [f"- {n}" for n in names]
        elif style.name == "numbers":
            lines = [f"{i}. {n}" for i, n in enumerate(names, 1)]
        else:
            lines = names
        return (head + ":\n" + "\n".join(lines)).format(**fields)
    return template.format(items=_inline(names, style.name if not style.lines else "and"),
                           **fields)


def phrasing_count(templates: dict[str, Sequence[str]]) -> int:
    """Distinct ways the grammar can word a request of given (shape → core templates), not
    counting the names themselves: cores × (1 + openers) × (1 + closers) × list styles for
    list requests (inside ``core_only()``, with the core openers and closers)."""
    styles = len({s.name for s in LIST_STYLES})
    openers, closers = dressing_in_use()
    total = 0
    for cores in templates.values():
        for core in cores:
            n = (1 + len(openers)) * (1 + len(closers))
            total += n * (styles if "{items}" in core else 1)
    return total

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

Chatter
-------
A visitor often says something before the request ("I made pancakes this morning. What is
the atomic number of gold?"). A bundled model that never read such a sentence took its
unfamiliar words for the request's topic and answered "I do not know" to an in-world
question. So a share (``CHATTER_RATE``) of training-phrasing requests get one sentence of
chatter after the opener (``chatter``): a remark, or someone doing something, now and then an
everyday task whose topic is of the training split, the very words an everyday request asks
about. It comes with in-world and outside requests alike, so only the request decides. Its
options are held out by index as every branch's are, but only training prompts get chatter
for now (so the validation and test prompts stay those every earlier build was measured on);
``chatter`` can word a held-out split's for a probe. Never inside ``core_only()``.
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
    "chatter",
    "core_only",
    "dress",
    "in_use",
    "option_split",
    "options_for",
    "own_options",
    "say_list",
    "say_name",
]

# a typo is a swap of two neighbouring letters inside a name of 6+ letters
TYPO_RATE = 0.03
# how often an opener / a closer is added at all
OPENER_RATE, CLOSER_RATE = 0.45, 0.35
# how often a training-phrasing request gets a sentence of chatter (module doc)
CHATTER_RATE = 0.2


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


def own_options(options: Sequence[T], split: str) -> list[T]:
    """The options of a branch that belong to ``split`` (by index)."""
    return [o for i, o in enumerate(options) if option_split(i) == split]


def options_for(options: Sequence[str], split: str) -> list[str]:
    """The dressing (openers, closers) a prompt of ``split`` may use: its own options, and for
    a held-out split the training ones too (a core template is always of the split itself:
    ``prompts.generate_example``)."""
    own = own_options(options, split)
    if split == "train":
        return own
    return own + own_options(options, "train")


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


# chatter (module doc): who did what and when, or a remark; held out by index
CHATTER_WHO: tuple[str, ...] = (
    "I", "My sister", "My friend", "We", "My dad", "My brother", "My mum", "Our group",
    "My cousin", "My neighbour",
)
CHATTER_DID: tuple[str, ...] = (
    "went to the park", "watched a film", "had a long day", "started a new book",
    "got a new phone", "played football", "cleaned the kitchen", "went shopping",
    "cooked dinner", "painted a fence", "fixed a bike", "made pancakes", "missed the bus",
    "stayed up late", "went for a run", "planted some tomatoes", "visited the museum",
    "wrote an essay", "read the news", "baked a cake",
)
CHATTER_WHEN: tuple[str, ...] = (
    "", " today", " yesterday", " this morning", " last night", " earlier", " at the weekend",
)
CHATTER_REMARKS: tuple[str, ...] = (
    "It is raining here.", "What a week.", "Long day.", "I love learning new things.",
    "This is for a bet.", "No rush.", "Sorry if this is basic.", "I hope you are well.",
    "Let me think.", "Bear with me.", "It is sunny today.", "I am a bit tired.",
    "This is just for fun.", "I am new here.", "We are doing a project.",
)
# the everyday tasks chatter may name ("I was trying to {task} earlier."): the recipe's
# everyday requests ask about them (outside.TASKS)
CHATTER_TASK_FORMS: tuple[str, ...] = (
    "I was trying to {task} earlier.", "My friend wants to {task}.", "I need to {task} later.",
    "We tried to {task} yesterday.", "I learned to {task} last year.",
)


def chatter(rng: random.Random, split: str, tasks: Sequence[str] = ()) -> str:
    """One sentence of chatter of ``split``'s options (its own only): a remark, someone doing
    something, or (given ``tasks``) an everyday task."""
    roll = rng.random()
    if roll < 0.3:
        return rng.choice(own_options(CHATTER_REMARKS, split))
    if roll < 0.55 and tasks:
        return rng.choice(own_options(CHATTER_TASK_FORMS, split)).format(task=rng.choice(tasks))
    return (f"{rng.choice(CHATTER_WHO)} {rng.choice(own_options(CHATTER_DID, split))}"
            f"{rng.choice(CHATTER_WHEN)}.")


def dress(core: str, rng: random.Random, split: str, tasks: Sequence[str] = (),
          chatter_key: str | None = None) -> str:
    """The core request with, sometimes, an opener and a closer of ``split``'s options, and
    for a training phrasing (outside ``core_only()``) now and then a sentence of chatter
    before it (``tasks``: the everyday tasks it may name). Whether, and which, chatter is
    drawn from the request's own text (or ``chatter_key``, to dress several requests alike),
    so every other draw is what it was without it."""
    text = core
    if split == "train" and not _CORE_ONLY.get():
        own_rng = random.Random(f"chatter|{core if chatter_key is None else chatter_key}")
        if own_rng.random() < CHATTER_RATE:
            said = chatter(own_rng, split, tasks)
            text = said + " " + (text[:1].upper() + text[1:])
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

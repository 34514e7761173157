"""Prompt / response generators over the bundled world, with deterministic data splits.

Each generated :class:`Example` holds a prompt and its reference answer in a structured form:
a list of segments, each a main-text :class:`Piece`, an independent :class:`Part` (a chunk
that may be decoded by its own thread) or a :class:`Sync` (the main text needs the parts
from here on). From it two strings are rendered:

* ``plain``: the answer as ordinary text (parts inline, no tags);
* ``annotated``: the same answer in PASTA-LANG canonical form (``docs/PASTA_LANG.md`` §2): every
  part becomes ``<promise topic="T" tokens="N"/><async topic="T">BODY</async>`` at its place,
  every sync ``<sync/>``. Splicing it gives ``plain`` character for character. Shapes that
  have nothing to split have no parts, so ``annotated == plain``.

``tokens`` is the chunk thread's (``<async topic="T">`` + body + ``</async>``) token count
rounded up to a multiple of 10 (minimum 10). The tokenizer is passed in as ``count_tokens``;
the default :func:`stand_in_count_tokens` (``len(text) // 4 + 1``) is only a stand-in until
the real tokenizer exists.

Shapes (instruction types): 9 with independent parts (``splittable``) and 8 with dependent
steps, nothing to split, or nothing the world holds (``outside``); see :data:`SHAPES`.

Splits (``train`` / ``validation`` / ``test``) are made disjoint twice over, independently of
the seed:

* phrasings: every shape's core templates, and the grammar's openers and closers, belong to
  one split each by index (``grammar.option_split``: every fifth from the fifth ``test``, from
  the fourth ``validation``, the rest ``train``); see :mod:`pasta_core.world.grammar`;
* entity combinations: the sorted set of entity ids an example is about (with any unknown
  names, or an everyday question's text) is hashed (MD5) into 10 buckets; bucket 0 is
  ``test``, bucket 1 ``validation``, buckets 2-9 ``train``. An example
  is kept only in the split its combination belongs to.

The seed only changes which examples are drawn, never which split they may belong to.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from pasta_core import lang
from pasta_core.world import grammar, outside
from pasta_core.world.facts import (
    CATEGORIES,
    ENTITIES,
    Entity,
    attribute_of,
    entities_in,
    fill,
    render_fact,
)

__all__ = [
    "COUNTED_WORDINGS",
    "SHAPES",
    "SPLITS",
    "Example",
    "Part",
    "Piece",
    "Shape",
    "Sync",
    "combination_key",
    "counted_contrasts",
    "generate_example",
    "generate_split",
    "grammar_fingerprint",
    "group_lists",
    "members_sentence",
    "reading_drills",
    "render_annotated",
    "render_plain",
    "round_up_tokens",
    "split_of_combination",
    "stand_in_count_tokens",
    "to_jsonl_record",
]

log = logging.getLogger(__name__)

SPLITS: tuple[str, ...] = ("train", "validation", "test")
_SPLIT_ALIASES = {"val": "validation", "valid": "validation", "dev": "validation"}
CountTokens = Callable[[str], int]


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """A piece of text; ``fact`` is the (entity id, attribute) it states, if any."""

    text: str
    fact: tuple[str, str] | None = None


@dataclass(frozen=True)
class Part:
    """An independent chunk of the answer: ``lead`` (the separator from what comes before it,
    written by the chunk's thread rather than by the main thread) and its pieces joined by
    ``sep``."""

    topic: str
    pieces: tuple[Piece, ...]
    sep: str = " "
    lead: str = ""

    @property
    def body(self) -> str:
        return self.lead + self.sep.join(p.text for p in self.pieces)


@dataclass(frozen=True)
class Sync:
    """The main text needs every part written so far."""


Segment = Piece | Part | Sync


@dataclass
class Example:
    """One prompt with its structured reference answer.

    ``facts`` lists the (entity, attribute) pairs the answer states. With ``free_facts``
    (describe-style prompts) any true facts about an entity count, as many as the reference
    states about it. ``conclusion_key`` is the word that the answer's last sentence must
    contain when ``needs_conclusion`` (and ``conclusion_distractors`` words it must not).
    """

    shape: str
    splittable: bool
    prompt: str
    entities: list[str]
    facts: list[tuple[str, str]]
    needs_conclusion: bool
    segments: list[Segment]
    conclusion_key: str | None = None
    conclusion_distractors: list[str] = field(default_factory=list)
    free_facts: bool = False
    split: str = ""
    template_id: str = ""
    # things asked about that the world does not hold (answered "I do not know ...")
    unknown: list[str] = field(default_factory=list)
    # the whole request is outside the world: the only right answer is an honest one
    outside: bool = False
    # what decides the split when it is not the entities (an everyday question's text)
    split_key: list[str] = field(default_factory=list)
    # the split the prompt's wording (its phrasing family) belongs to
    phrasing: str = ""

    @property
    def plain(self) -> str:
        return render_plain(self.segments)

    @property
    def parts(self) -> list[Part]:
        return [s for s in self.segments if isinstance(s, Part)]

    def annotated(self, count_tokens: CountTokens | None = None) -> str:
        return render_annotated(self, count_tokens)

    @property
    def combination(self) -> str:
        return combination_key(self.split_key or [*self.entities, *self.unknown])


def stand_in_count_tokens(text: str) -> int:
    """Deterministic STAND-IN token counter (``len(text) // 4 + 1``) until a tokenizer exists."""
    return len(text) // 4 + 1


def round_up_tokens(n: int) -> int:
    """Round a thread length up to a multiple of 10, minimum 10 (docs/PASTA_LANG.md §1)."""
    return max(10, -(-int(n) // 10) * 10)


def render_plain(segments: list[Segment]) -> str:
    out: list[str] = []
    for seg in segments:
        if isinstance(seg, Piece):
            out.append(seg.text)
        elif isinstance(seg, Part):
            out.append(seg.body)
    return "".join(out)


def render_annotated(example: Example, count_tokens: CountTokens | None = None,
                     slack: Callable[[], int] | None = None) -> str:
    """The answer in PASTA-LANG canonical form; ``tokens`` = thread length rounded up, plus
    ``slack()`` more for each chunk when given (training data that promises room to spare)."""
    count = count_tokens or stand_in_count_tokens
    out: list[str] = []
    for seg in example.segments:
        if isinstance(seg, Piece):
            out.append(seg.text)
        elif isinstance(seg, Part):
            thread = lang.chunk_thread_text(seg.topic, seg.body)
            n = round_up_tokens(count(thread)) + (slack() if slack is not None else 0)
            out.append(lang.promise_tag(seg.topic, n) + thread)
        else:
            out.append(lang.SYNC)
    return "".join(out)


def to_jsonl_record(example: Example, count_tokens: CountTokens | None = None) -> dict:
    return {
        "prompt": example.prompt,
        "plain": example.plain,
        "annotated": render_annotated(example, count_tokens),
        "shape": example.shape,
        "splittable": example.splittable,
    }


# --------------------------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------------------------


def _norm_split(split: str) -> str:
    split = _SPLIT_ALIASES.get(split, split)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; use one of {SPLITS}")
    return split


def combination_key(entity_ids: list[str]) -> str:
    return "|".join(sorted(set(entity_ids)))


def split_of_combination(entity_ids: list[str]) -> str:
    """The one split a combination of entities may appear in (seed independent)."""
    digest = hashlib.md5(combination_key(entity_ids).encode("utf-8")).hexdigest()
    bucket = int(digest, 16) % 10
    return "test" if bucket == 0 else "validation" if bucket == 1 else "train"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

_ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
             "ninth"]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _items(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _number(value: str) -> int:
    if value in _ORDINALS:
        return _ORDINALS.index(value) + 1
    match = re.search(r"\d+", value)
    if match is None:
        raise ValueError(f"no number in {value!r}")
    return int(match.group())


def _labelled(entity: Entity) -> list[str]:
    return [a for a in entity.facts if attribute_of(entity, a).label]


def _fact_pieces(entity: Entity, attrs: list[str], rng: random.Random,
                 prefix: str = "") -> list[Piece]:
    """Sentences for ``attrs``: the first names the entity, later ones may say it/its."""
    return [
        Piece(prefix + render_fact(entity.id, a, pronoun=i > 0, rng=rng), (entity.id, a))
        for i, a in enumerate(attrs)
    ]


def _sample_attrs(entity: Entity, k: int, rng: random.Random) -> list[str]:
    return rng.sample(sorted(entity.facts), k)


def _unique_values() -> dict[tuple[str, str], dict[str, str]]:
    """(category, lookup attribute) → {value: entity id} for values held by one entity."""
    seen: dict[tuple[str, str], dict[str, list[str]]] = {}
    for e in ENTITIES.values():
        for a, v in e.facts.items():
            if attribute_of(e, a).lookup and attribute_of(e, a).label:
                seen.setdefault((e.category, a), {}).setdefault(v, []).append(e.id)
    return {k: {v: ids[0] for v, ids in d.items() if len(ids) == 1} for k, d in seen.items()}


_UNIQUE = _unique_values()
_LOOKUPS: list[tuple[str, str]] = sorted(
    (eid, a) for (_, a), d in _UNIQUE.items() for eid in d.values()
)
_ALL_IDS: list[str] = sorted(ENTITIES)
_ALL_FACTS: list[tuple[str, str]] = sorted((e.id, a) for e in ENTITIES.values() for a in e.facts)


def _pick_entities(rng: random.Random, k: int, same_category: bool = False) -> list[Entity]:
    if same_category:
        cat = rng.choice(sorted(CATEGORIES))
        pool = sorted(e.id for e in entities_in(cat))
    else:
        pool = _ALL_IDS
    return [ENTITIES[i] for i in rng.sample(pool, k)]


def _said(ents: list[Entity], rng: random.Random) -> list[str]:
    """The entities' names as a visitor might write them (``grammar.say_name``)."""
    return [grammar.say_name(e.name, rng, e.plural) for e in ents]


# how many parts a list request asks for: 2-8, most often 3-5
_MANY = (2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 6, 7, 8)


def _facts_per_part(n: int) -> int:
    """Fewer facts each when many parts are asked for, so an answer stays under 300 tokens."""
    return 4 if n <= 3 else 3 if n <= 5 else 2


def _interleave(parts: list[Part], sep: str) -> list[Segment]:
    """Parts one after another, each but the first led by ``sep``. The separator belongs to
    the part, so the main thread writes nothing between two promises: every main-thread
    token between them would be a step in which no new chunk starts."""
    return [replace(part, lead=sep) if i else part for i, part in enumerate(parts)]


def _fact_parts(ents: list[Entity], k: int, rng: random.Random) -> list[Part]:
    """One part per entity, ``k`` of its facts each (a list answer's parts)."""
    return [Part(e.topic, tuple(_fact_pieces(e, _sample_attrs(e, k, rng), rng))) for e in ents]


def _paragraph(pieces: list[Piece]) -> list[Segment]:
    """Fact pieces as one paragraph, a space between two (an answer about one entity)."""
    segments: list[Segment] = []
    for i, p in enumerate(pieces):
        if i:
            segments.append(Piece(" "))
        segments.append(p)
    return segments


def _group_answer(ents: list[Entity], parts: list[Part]) -> list[Segment]:
    """How the world answers about a named group: its members, then one part each."""
    return [Piece(members_sentence(ents) + "\n\n"), *_interleave(parts, "\n\n")]


# --------------------------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------------------------

Builder = Callable[[random.Random, str, str], "Example | None"]


@dataclass(frozen=True)
class Shape:
    name: str
    splittable: bool
    description: str
    templates: tuple[str, ...]
    build: Builder


def _ex(shape: str, splittable: bool, prompt: str, entities: list[str],
        facts: list[tuple[str, str]], segments: list[Segment], **kw) -> Example | None:
    return Example(shape=shape, splittable=splittable, prompt=_cap(prompt), entities=entities,
                   facts=facts, needs_conclusion=kw.pop("needs_conclusion", False),
                   segments=segments, **kw)


# --- splittable ------------------------------------------------------------------------------

_DESCRIBE_INTROS = ("", "", "Sure.\n\n")


def _build_describe_many(rng: random.Random, template: str, split: str) -> Example | None:
    n = rng.choice(_MANY)
    ents = _pick_entities(rng, n, same_category=rng.random() < 0.4)
    if split_of_combination([e.id for e in ents]) != split:
        return None
    k = _facts_per_part(n)
    parts = _fact_parts(ents, k, rng)
    segments: list[Segment] = [Piece(rng.choice(_DESCRIBE_INTROS)), *_interleave(parts, "\n\n")]
    facts = [p.fact for part in parts for p in part.pieces if p.fact]
    prompt = grammar.say_list(template, _said(ents, rng), rng)
    return _ex("describe_many", True, prompt, [e.id for e in ents], facts, segments,
               free_facts=True)


# groups a request may name as a whole: (phrase, category, attribute, values)
_GROUPS: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("the planets", "body", "type", ("rocky planet", "gas giant", "ice giant")),
    ("the gas giants and ice giants", "body", "type", ("gas giant", "ice giant")),
    ("the dwarf planets", "body", "type", ("dwarf planet",)),
    ("the string instruments", "instrument", "family", ("string",)),
    ("the woodwind instruments", "instrument", "family", ("woodwind",)),
    ("the brass instruments", "instrument", "family", ("brass",)),
    ("the noble gases", "element", "element type", ("noble gas",)),
    ("the halogens", "element", "element type", ("halogen",)),
    ("the alkali metals", "element", "element type", ("alkali metal",)),
    ("the transition metals", "element", "element type", ("transition metal",)),
    ("the countries of Asia", "country", "continent", ("Asia",)),
    ("the countries of Africa", "country", "continent", ("Africa",)),
    ("the countries of South America", "country", "continent", ("South America",)),
    ("the rivers of Europe", "river", "continent", ("Europe",)),
    ("the rivers of Africa", "river", "continent", ("Africa",)),
    ("the rivers of Asia", "river", "continent", ("Asia",)),
    ("the mountains of Asia", "mountain", "continent", ("Asia",)),
    ("the mountains of Europe", "mountain", "continent", ("Europe",)),
    ("the reptiles", "animal", "class", ("reptile",)),
    ("the birds", "animal", "class", ("bird",)),
]


def group_members(phrase: str) -> list[Entity]:
    """The world's members of a named group, in the world's order (planets from the Sun)."""
    _, cat, attr, values = next(g for g in _GROUPS if g[0] == phrase)
    members = [e for e in entities_in(cat) if e.facts.get(attr) in values]
    if all("order" in e.facts for e in members):
        return sorted(members, key=lambda e: _number(e.facts["order"]))
    return sorted(members, key=lambda e: e.name.removeprefix("the ").lower())


def members_sentence(ents: list[Entity]) -> str:
    """How an answer about a named group opens: how many members and which, in the world's
    order ("There are 3: Ceres, Eris and Pluto."). A group list answers with this alone."""
    return f"There are {len(ents)}: {_items([e.name for e in ents])}."


def _build_describe_group(rng: random.Random, template: str, split: str) -> Example | None:
    phrase = rng.choice([g[0] for g in _GROUPS])
    ents = group_members(phrase)
    if not 2 <= len(ents) <= 8 or split_of_combination([e.id for e in ents]) != split:
        return None
    k = _facts_per_part(len(ents))
    parts = _fact_parts(ents, k, rng)
    segments = _group_answer(ents, parts)
    facts = [p.fact for part in parts for p in part.pieces if p.fact]
    return _ex("describe_group", True, template.format(group=phrase), [e.id for e in ents],
               facts, segments, free_facts=True)


_K_WORDS = {2: "two", 3: "three", 4: "four"}


def _build_facts_each(rng: random.Random, template: str, split: str) -> Example | None:
    ents = _pick_entities(rng, rng.choice(_MANY[:-2]), same_category=rng.random() < 0.5)
    if split_of_combination([e.id for e in ents]) != split:
        return None
    k = rng.choice((2, 3)) if len(ents) > 3 else rng.choice((2, 3, 4))
    parts = _fact_parts(ents, k, rng)
    intro = rng.choice((f"{_cap(_K_WORDS[k])} facts each.\n\n", ""))
    segments: list[Segment] = [Piece(intro), *_interleave(parts, "\n\n")]
    facts = [p.fact for part in parts for p in part.pieces if p.fact]
    prompt = grammar.say_list(template, _said(ents, rng), rng, k=_K_WORDS[k])
    return _ex("facts_each", True, prompt, [e.id for e in ents], facts, segments,
               free_facts=True)


def _build_one_attr_many(rng: random.Random, template: str, split: str) -> Example | None:
    cat = rng.choice(sorted(CATEGORIES))
    attrs = sorted(k for k, a in CATEGORIES[cat].attributes.items() if a.label)
    attr = rng.choice(attrs)
    pool = sorted(e.id for e in entities_in(cat) if attr in e.facts)
    if len(pool) < 3:
        return None
    ents = [ENTITIES[i] for i in rng.sample(pool, min(rng.choice(_MANY), len(pool)))]
    if split_of_combination([e.id for e in ents]) != split:
        return None
    parts = [Part(e.topic, (Piece(render_fact(e.id, attr, rng=rng), (e.id, attr)),))
             for e in ents]
    label = CATEGORIES[cat].attributes[attr].label
    prompt = grammar.say_list(template, _said(ents, rng), rng, label=label)
    return _ex("one_attr_many", True, prompt, [e.id for e in ents], [(e.id, attr) for e in ents],
               _interleave(parts, rng.choice((" ", "\n"))))


# (category, attribute, comparative phrase, larger value wins)
_COMPARISONS: list[tuple[str, str, str, bool]] = [
    ("element", "atomic number", "has the larger atomic number", True),
    ("mountain", "height", "is taller", True),
    ("river", "length", "is longer", True),
    ("language", "year", "is older", False),
    ("invention", "year", "is older", False),
    ("body", "order", "is farther from the Sun", True),
    ("body", "discovery year", "was discovered first", False),
    ("mountain", "first ascent", "was climbed first", False),
]


def _build_compare(rng: random.Random, template: str, split: str) -> Example | None:
    cat, attr, phrase, larger_wins = rng.choice(_COMPARISONS)
    pool = sorted(e.id for e in entities_in(cat) if attr in e.facts)
    a, b = (ENTITIES[i] for i in rng.sample(pool, 2))
    na, nb = _number(a.facts[attr]), _number(b.facts[attr])
    if na == nb:
        return None
    winner, loser = (a, b) if (na > nb) == larger_wins else (b, a)
    if split_of_combination([a.id, b.id]) != split:
        return None
    parts = []
    for e in (a, b):
        extra = rng.sample(sorted(set(e.facts) - {attr}), 2)
        parts.append(Part(e.topic, tuple(_fact_pieces(e, [attr, *extra], rng))))
    segments: list[Segment] = [*_interleave(parts, " "), Sync(),
                               Piece(f" So {winner.name} {phrase}.")]
    facts = [p.fact for part in parts for p in part.pieces if p.fact]
    sa, sb = _said([a, b], rng)
    prompt = template.format(a=sa, b=sb, cmp=phrase)
    return _ex("compare_conclude", True, prompt, [a.id, b.id], facts, segments,
               needs_conclusion=True, conclusion_key=winner.name,
               conclusion_distractors=[loser.name])


def _build_same_or_different(rng: random.Random, template: str, split: str) -> Example | None:
    cat = rng.choice(sorted(CATEGORIES))
    attrs = sorted(k for k, a in CATEGORIES[cat].attributes.items() if a.shared and a.label)
    if not attrs:
        return None
    attr = rng.choice(attrs)
    pool = [e for e in entities_in(cat) if attr in e.facts]
    if len(pool) < 2:
        return None
    a = rng.choice(pool)
    same = [e for e in pool if e.id != a.id and e.facts[attr] == a.facts[attr]]
    diff = [e for e in pool if e.facts[attr] != a.facts[attr]]
    want_same = rng.random() < 0.5
    choices = same if (want_same and same) or not diff else diff
    if not choices:
        return None
    b = rng.choice(choices)
    is_same = a.facts[attr] == b.facts[attr]
    if split_of_combination([a.id, b.id]) != split:
        return None
    label = CATEGORIES[cat].attributes[attr].label
    parts = [Part(e.topic, (Piece(render_fact(e.id, attr, rng=rng), (e.id, attr)),))
             for e in (a, b)]
    conclusion = (f"So both have the same {label}." if is_same
                  else f"So they do not have the same {label}.")
    segments: list[Segment] = [*_interleave(parts, " "), Sync(), Piece(" " + conclusion)]
    sa, sb = _said([a, b], rng)
    prompt = template.format(a=sa, b=sb, label=label)
    key, other = ("both", "not") if is_same else ("not", "both")
    return _ex("same_or_different", True, prompt, [a.id, b.id], [(a.id, attr), (b.id, attr)],
               segments, needs_conclusion=True, conclusion_key=key,
               conclusion_distractors=[other])


def _question(entity: Entity, attr: str) -> str:
    q = attribute_of(entity, attr).question
    return _cap(fill(q, entity, entity.facts[attr], start=False))


def _question_list(questions: list[str], rng: random.Random) -> str:
    """Questions written as a numbered list, bullets, one per line, or ``Q1:`` labels."""
    style = rng.choice(("numbers", "numbers", "bullets", "lines", "labels", "parens"))
    if style == "bullets":
        return "\n".join(f"- {q}" for q in questions)
    if style == "lines":
        return "\n".join(questions)
    if style == "labels":
        return "\n".join(f"Q{i}: {q}" for i, q in enumerate(questions, 1))
    if style == "parens":
        return "\n".join(f"{i}) {q}" for i, q in enumerate(questions, 1))
    return "\n".join(f"{i}. {q}" for i, q in enumerate(questions, 1))


def _build_quiz(rng: random.Random, template: str, split: str) -> Example | None:
    ents = _pick_entities(rng, rng.choice(_MANY))
    if split_of_combination([e.id for e in ents]) != split:
        return None
    asked = [(e, rng.choice(sorted(e.facts))) for e in ents]
    questions = _question_list([_question(e, a) for e, a in asked], rng)
    segments: list[Segment] = [  # the number is part of each answer's chunk
        Part(e.topic, (Piece(render_fact(e.id, a, rng=rng), (e.id, a)),),
             lead=("\n" if i > 1 else "") + f"{i}. ")
        for i, (e, a) in enumerate(asked, 1)]
    prompt = template.format(qs=questions)
    return _ex("quiz", True, prompt, [e.id for e in ents], [(e.id, a) for e, a in asked],
               segments)


def _build_study_sheet(rng: random.Random, template: str, split: str) -> Example | None:
    ents = _pick_entities(rng, rng.choice(_MANY[:-2]), same_category=rng.random() < 0.5)
    if split_of_combination([e.id for e in ents]) != split:
        return None
    k = rng.choice((2, 3)) if len(ents) > 3 else rng.choice((3, 4))
    parts = []
    for e in ents:
        pieces = _fact_pieces(e, _sample_attrs(e, k, rng), rng, prefix="- ")
        parts.append(Part(e.topic, (Piece(e.heading), *pieces), sep="\n"))
    title = rng.choice(("Study sheet", "Study notes", "Revision sheet"))
    segments: list[Segment] = [Piece(f"{title}\n\n"), *_interleave(parts, "\n\n"),
                               Piece("\n\nReview each section once more before the test.")]
    facts = [p.fact for part in parts for p in part.pieces if p.fact]
    prompt = grammar.say_list(template, _said(ents, rng), rng)
    return _ex("study_sheet", True, prompt, [e.id for e in ents], facts, segments,
               free_facts=True)


# --- not splittable --------------------------------------------------------------------------


def _build_partly_known(rng: random.Random, template: str, split: str) -> Example | None:
    known = _pick_entities(rng, rng.choice((1, 2, 2, 3, 3, 4)))
    name = (rng.choice(outside.REAL_UNKNOWN) if rng.random() < 0.5
            else outside.invented_name(rng))
    if split_of_combination([*(e.id for e in known), name]) != split:
        return None
    k = _facts_per_part(len(known) + 1)
    parts = _fact_parts(known, k, rng)
    at = rng.randint(0, len(parts))
    parts.insert(at, Part(name.removeprefix("the "), (Piece(outside.unknown_part(name)),)))
    said = _said(known, rng)
    said.insert(at, name)
    segments: list[Segment] = [*_interleave(parts, "\n\n")]
    facts = [p.fact for part in parts for p in part.pieces if p.fact]
    return _ex("partly_known", True, grammar.say_list(template, said, rng),
               [e.id for e in known], facts, segments, free_facts=True, unknown=[name])


def _build_outside(rng: random.Random, template: str, split: str) -> Example | None:
    roll = rng.random()
    if roll < 0.5:
        prompt, name = rng.choice(outside.EVERYDAY), None
        key = prompt
    else:
        name = rng.choice(outside.REAL_UNKNOWN) if roll < 0.75 else outside.invented_name(rng)
        prompt, key = template.format(a=name), name
    if split_of_combination([key]) != split:
        return None
    segments: list[Segment] = [Piece(outside.outside_answer(rng, name))]
    return _ex("outside", False, prompt, [], [], segments,
               unknown=[name] if name else [], outside=True, split_key=[key])


def _build_single_fact(rng: random.Random, template: str, split: str) -> Example | None:
    eid, attr = rng.choice(_ALL_FACTS)
    e = ENTITIES[eid]
    prompt = template.format(q=_question(e, attr))
    if split_of_combination([eid]) != split:
        return None
    segments: list[Segment] = [Piece(render_fact(eid, attr, rng=rng), (eid, attr))]
    return _ex("single_fact", False, prompt, [eid], [(eid, attr)], segments)


_EXCLUSIVE_FACTS = [(e, a) for e, a in _ALL_FACTS if attribute_of(ENTITIES[e], a).exclusive]


def _build_yes_no(rng: random.Random, template: str, split: str) -> Example | None:
    eid, attr = rng.choice(_EXCLUSIVE_FACTS)
    e = ENTITIES[eid]
    true_value = e.facts[attr]
    if split_of_combination([eid]) != split:
        return None
    others = sorted({x.facts[attr] for x in entities_in(e.category) if attr in x.facts}
                    - {true_value})
    if not others:
        return None
    truth = rng.random() < 0.5
    claimed = true_value if truth else rng.choice(others)
    tmpl = rng.choice(attribute_of(e, attr).templates)
    statement = fill(tmpl, e, claimed, start=False).rstrip(".")
    if not tmpl.startswith("{"):  # a literal first word: lower-case it mid-sentence
        statement = statement[:1].lower() + statement[1:]
    prompt = template.format(stmt=statement, Stmt=_cap(statement))
    answer = "yes" if truth else "no"
    segments: list[Segment] = [Piece(fill(tmpl, e, true_value), (eid, attr)),
                               Piece(f" So the answer is {answer}.")]
    return _ex("yes_no", False, prompt, [eid], [(eid, attr)], segments, needs_conclusion=True,
               conclusion_key=answer, conclusion_distractors=["no" if truth else "yes"])


def _build_chain_lookup(rng: random.Random, template: str, split: str) -> Example | None:
    eid, key_attr = rng.choice(_LOOKUPS)
    if split_of_combination([eid]) != split:
        return None
    e = ENTITIES[eid]
    targets = [a for a in _labelled(e) if a != key_attr]
    if not targets:
        return None
    attr = rng.choice(sorted(targets))
    key_label = attribute_of(e, key_attr).label
    label = attribute_of(e, attr).label
    prompt = template.format(noun=e.noun, label1=key_label, v1=e.facts[key_attr], label2=label)
    segments: list[Segment] = [
        Piece(render_fact(eid, key_attr, rng=rng), (eid, key_attr)),
        Piece(f" So the {e.noun} is {e.name}. "),
        Piece(render_fact(eid, attr, rng=rng), (eid, attr)),
    ]
    return _ex("chain_lookup", False, prompt, [eid], [(eid, key_attr), (eid, attr)], segments)


_BY_NUMBER = {int(e.facts["atomic number"]): e for e in entities_in("element")}
_SUMS = sorted((a, b) for a in _BY_NUMBER for b in _BY_NUMBER if a < b and a + b in _BY_NUMBER)


def _build_arith_chain(rng: random.Random, template: str, split: str) -> Example | None:
    za, zb = rng.choice(_SUMS)
    if rng.random() < 0.5:
        za, zb = zb, za
    a, b, c = _BY_NUMBER[za], _BY_NUMBER[zb], _BY_NUMBER[za + zb]
    if split_of_combination([a.id, b.id, c.id]) != split:
        return None
    z = "atomic number"
    segments: list[Segment] = [
        Piece(render_fact(a.id, z, template=0), (a.id, z)),
        Piece(" "),
        Piece(render_fact(b.id, z, template=0), (b.id, z)),
        Piece(f" {za} plus {zb} is {za + zb}. "),
        Piece(render_fact(c.id, z, template=0), (c.id, z)),
        Piece(f" So the answer is {c.name}."),
    ]
    prompt = template.format(a=a.name, b=b.name)
    return _ex("arith_chain", False, prompt, [a.id, b.id, c.id],
               [(a.id, z), (b.id, z), (c.id, z)], segments, needs_conclusion=True,
               conclusion_key=c.name, conclusion_distractors=[])


_PLANETS = sorted((e for e in entities_in("body") if "order" in e.facts),
                  key=lambda e: _number(e.facts["order"]))
_NEXT_PAIRS: list[tuple[str, str, str]] = (
    [("planet", p.id, q.id) for p, q in itertools.pairwise(_PLANETS)]
    + [("element", _BY_NUMBER[z].id, _BY_NUMBER[z + 1].id)
       for z in sorted(_BY_NUMBER) if z + 1 in _BY_NUMBER]
)


def _build_next_in_order(rng: random.Random, template: str, split: str) -> Example | None:
    kind, aid, bid = rng.choice(_NEXT_PAIRS)
    a, b = ENTITIES[aid], ENTITIES[bid]
    if split_of_combination([aid, bid]) != split:
        return None
    key = "order" if kind == "planet" else "atomic number"
    targets = sorted(x for x in _labelled(b) if x != key)
    attr = rng.choice(targets)
    label = attribute_of(b, attr).label
    where = "in order from the Sun" if kind == "planet" else "in the periodic table"
    if kind == "planet":
        step = f", so the next planet is the {b.facts[key]}. "
    else:
        step = f", so the next element has atomic number {b.facts[key]}. "
    segments: list[Segment] = [
        Piece(render_fact(aid, key, template=0).rstrip("."), (aid, key)),
        Piece(step),
        Piece(render_fact(bid, key, template=0), (bid, key)),
        Piece(" "),
        Piece(render_fact(bid, attr, pronoun=True, rng=rng), (bid, attr)),
    ]
    prompt = template.format(noun=kind, a=a.name, where=where, label=label)
    return _ex("next_in_order", False, prompt, [aid, bid], [(aid, key), (bid, key), (bid, attr)],
               segments)


def _build_describe_one(rng: random.Random, template: str, split: str) -> Example | None:
    e = ENTITIES[rng.choice(_ALL_IDS)]
    if split_of_combination([e.id]) != split:
        return None
    pieces = _fact_pieces(e, _sample_attrs(e, rng.choice((2, 3)), rng), rng)
    return _ex("describe_one", False, template.format(a=_said([e], rng)[0]), [e.id],
               [p.fact for p in pieces if p.fact], _paragraph(pieces), free_facts=True)


def _build_reverse_lookup(rng: random.Random, template: str, split: str) -> Example | None:
    eid, attr = rng.choice(_LOOKUPS)
    e = ENTITIES[eid]
    if split_of_combination([eid]) != split:
        return None
    label = attribute_of(e, attr).label
    prompt = template.format(noun=e.noun, label=label, v=e.facts[attr])
    segments: list[Segment] = [Piece(f"It is {e.name}. "),
                               Piece(render_fact(eid, attr, rng=rng), (eid, attr))]
    return _ex("reverse_lookup", False, prompt, [eid], [(eid, attr)], segments)


_DESCRIBE_REQUESTS: tuple[str, ...] = (
    'Tell me about {items}.',
    'Describe {items}.',
    'Give me a short description of {items}.',
    'What can you tell me about {items}?',
    'Quick notes please: {items}.',
    'Write a paragraph on each of {items}.',
    'I would like a quick overview of {items}, please.',
    'Could you describe {items}?',
    'Say something about each of {items}.',
    'Describe {items} for a school report.',
    'Notes on {items}, please.',
    'What do you know about {items}?',
    'Give a brief introduction to {items}.',
    'Summarise {items}.',
    'Can you tell me a bit about {items}?',
    'Write a short note on each of these: {items}.',
    'Introduce {items} in a few sentences each.',
    'I want to learn about {items}.',
    'Describe each of {items} briefly.',
    'Give me an overview of {items}.',
)

SHAPES: dict[str, Shape] = {s.name: s for s in [
    Shape("describe_many", True, "describe several entities, one part each",
          _DESCRIBE_REQUESTS, _build_describe_many),
    Shape("facts_each", True, "N facts about each of a list", (
        'Give {k} facts about each of {items}.',
        'List {k} facts for each of these: {items}.',
        'For each of {items}, tell me {k} things.',
        'Share {k} facts about every one of {items}.',
        'I need {k} facts on each of the following: {items}.',
        'What are {k} true facts about each of {items}?',
        'Tell me {k} things about each of {items}.',
        'Write {k} facts on every one of {items}.',
        "I'd like {k} facts per item: {items}.",
        'Give me {k} quick facts on each: {items}.',
        'Name {k} facts about each of {items}.',
        'For every one of {items}, list {k} facts.',
        'Please give {k} facts each about {items}.',
        'Can you list {k} facts about each of {items}?',
        'Facts, {k} each, about {items}.',
    ), _build_facts_each),
    Shape("one_attr_many", True, "the same attribute for several entities", (
        'What is the {label} of each of {items}?',
        'Give the {label} of {items}.',
        'For each of {items}, state the {label}.',
        'Tell me the {label} for each of these: {items}.',
        'List the {label} of {items}, one by one.',
        'I need the {label} of every one of these: {items}.',
        'Look up the {label} of {items}.',
        'Which {label} does each of {items} have?',
        'Quick: the {label} of {items}?',
        'Can you give me the {label} of each of {items}?',
        'State the {label} of each of these: {items}.',
        'Find the {label} of {items}.',
        'What {label} goes with each of {items}?',
        'Please list the {label} of {items}.',
        'The {label} of each of {items}, please.',
    ), _build_one_attr_many),
    Shape("compare_conclude", True, "describe two things, then conclude from both", (
        "Compare {a} and {b}. Which one {cmp}?",
        "Describe {a} and {b} briefly, then say which one {cmp}.",
        "Which {cmp}, {a} or {b}? Say a little about each first.",
        "Look at {a} and {b} and tell me which {cmp}.",
        "Give a short note on {a} and on {b}, then decide which {cmp}.",
        "Between {a} and {b}, which {cmp}? Explain using facts about both.",
        "{a} or {b}: which one {cmp}? Give a fact or two on each.",
        "Tell me about {a} and {b}, and then which of them {cmp}.",
        "I can't remember which {cmp}, {a} or {b}. Can you check?",
        "Help me decide which {cmp}: {a} or {b}.",
        "Write a little about {a}, then about {b}, and finish by saying which {cmp}.",
        "Here are two things: {a} and {b}. Which {cmp}?",
        "Put {a} next to {b}. Which one {cmp}?",
        "Who wins, {a} or {b}? I want to know which {cmp}.",
        "Settle an argument: which {cmp}, {a} or {b}?",
    ), _build_compare),
    Shape("same_or_different", True, "check two things, then say if they match", (
        "Do {a} and {b} have the same {label}?",
        "Check whether {a} and {b} share the same {label}.",
        "Is the {label} of {a} the same as that of {b}?",
        "Compare the {label} of {a} and {b}. Are they the same?",
        "Find the {label} of {a} and of {b}, then tell me if they match.",
        "Do {a} and {b} share a {label}? Look up each one first.",
        "Same {label} or not: {a} and {b}?",
        "Tell me the {label} of {a} and of {b}. Do they match?",
        "I think {a} and {b} have the same {label}. Am I right?",
        "Does {a} have the same {label} as {b}?",
        "Look up the {label} of {a} and {b}, then say whether they are the same.",
        "Do {a} and {b} match in {label}?",
        "Compare {a} with {b}: same {label}?",
        "Quick check: is the {label} of {a} equal to the {label} of {b}?",
        "What is the {label} of {a}, and is it the same for {b}?",
    ), _build_same_or_different),
    Shape("quiz", True, "several independent questions", (
        'Answer these questions:\n{qs}',
        'Quick quiz:\n{qs}',
        'Please answer each of the following:\n{qs}',
        'Here are some questions for you:\n{qs}',
        'Test time. Answer each one:\n{qs}',
        'Can you answer all of these?\n{qs}',
        'A few questions:\n{qs}',
        'Answer briefly:\n{qs}',
        'Help me with my homework:\n{qs}',
        'Trivia round! Answer:\n{qs}',
        'Questions:\n{qs}',
        'Please reply to each question:\n{qs}',
        'Give short answers:\n{qs}',
        'Can you help with these?\n{qs}',
        '{qs}',
    ), _build_quiz),
    Shape("study_sheet", True, "a sheet with an independent section per topic", (
        'Make a study sheet with one section for each of {items}.',
        'Write study notes on {items}, with a separate section for each.',
        'Create a revision sheet covering {items}, one section per topic.',
        'Prepare short notes on {items}, with one heading each.',
        'Draft a fact sheet with sections on {items}.',
        'I am studying {items}. Write a section on each.',
        'Make a cheat sheet for {items}, one heading per topic.',
        'Write a handout with a section on each of {items}.',
        'Study guide please, one part per topic: {items}.',
        'Put together revision notes with headings for {items}.',
        'Make me a fact sheet on {items}.',
        'Create study notes with a heading for each of {items}.',
        'I have a test on {items}. Make a study sheet.',
        'Write a sectioned summary of {items}.',
        'Build a one-page study sheet about {items}.',
    ), _build_study_sheet),
    Shape("describe_group", True, "every member of a named group, one part each", (
        'Describe {group}.',
        'Tell me about all of {group}.',
        'Give a short note on each of {group}.',
        'What do you know about {group}?',
        'Describe every one of {group}.',
        'Write a paragraph about each of {group}.',
        'Tell me about each of {group}.',
        'I want notes on all of {group}.',
        'Give me an overview of {group}.',
        'Go through {group} one by one.',
        'Write a short note on every one of {group}.',
        'Go through all of {group}.',
        'Notes on {group}, please.',
        'Tell me something about each of {group}.',
        'Give me a sentence or two on each of {group}.',
    ), _build_describe_group),
    # ten of describe_many's requests, one part unknown (the order the models were trained on)
    Shape("partly_known", True, "several things, some of which the world does not hold",
          tuple(_DESCRIBE_REQUESTS[i] for i in (0, 1, 2, 3, 4, 5, 7, 10, 8, 14)),
          _build_partly_known),
    Shape("outside", False, "a request the world cannot answer: one honest answer", (
        'Tell me about {a}.',
        'Describe {a}.',
        'What is {a}?',
        'What do you know about {a}?',
        'Explain {a}.',
        'Give me three facts about {a}.',
        'Write a note on {a}.',
        'What is special about {a}?',
        'Who made {a}?',
        'Tell me something about {a}.',
        'Can you explain {a}?',
        "I'd like some facts about {a}.",
        'How does {a} work?',
        'Tell me the history of {a}.',
        'What should I know about {a}?',
    ), _build_outside),
    Shape("single_fact", False, "one short fact", (
        "{q}",
        "Quick question: {q}",
        "{q} Answer in one sentence.",
        "Tell me this: {q}",
        "I was wondering about something. {q}",
        "Please answer briefly. {q}",
        "Do you know this? {q}",
        "{q} Just the fact, please.",
        "Here is my question: {q}",
        "Help me with one thing. {q}",
        "Short answer please. {q}",
        "I need to know this for class. {q}",
        "One question: {q}",
        "Can you answer this? {q}",
        "{q} I can't remember.",
    ), _build_single_fact),
    Shape("yes_no", False, "check one claim, then answer yes or no", (
        "Is it true that {stmt}?",
        "True or false: {stmt}.",
        "Check this claim: {stmt}.",
        "Someone told me that {stmt}. Is that right?",
        "Is this correct? {Stmt}.",
        "Can you confirm that {stmt}?",
        "I read that {stmt}. True?",
        "Is it correct that {stmt}?",
        "Yes or no: {stmt}?",
        "My friend says {stmt}. Is that so?",
        "Please check: {stmt}.",
        "Am I right that {stmt}?",
        "Fact check: {stmt}.",
        "Would you say it is true that {stmt}?",
        "I believe {stmt}. Correct?",
    ), _build_yes_no),
    Shape("chain_lookup", False, "identify an entity, then use it", (
        "What is the {label2} of the {noun} whose {label1} is {v1}?",
        "Find the {noun} whose {label1} is {v1}, then tell me its {label2}.",
        "The {label1} of a certain {noun} is {v1}. What is its {label2}?",
        "Which {label2} does the {noun} with {label1} {v1} have?",
        "First work out which {noun} has {v1} as its {label1}. Then give its {label2}.",
        "A {noun} has {v1} as its {label1}. Name it and give its {label2}.",
        "Which {noun} has {v1} as its {label1}, and what is its {label2}?",
        "I know a {noun} with the {label1} {v1}. Tell me its {label2}.",
        "Tell me the {label2} of the {noun} with {label1} {v1}.",
        "There is a {noun} whose {label1} is {v1}. What {label2} does it have?",
        "Give the {label2} of whichever {noun} has {v1} as its {label1}.",
        "Its {label1} is {v1} and it is a {noun}. What is its {label2}?",
        "Figure out the {noun} with the {label1} {v1}, then state its {label2}.",
        "Name the {noun} whose {label1} is {v1} and tell me its {label2}.",
        "Which {noun} is it if its {label1} is {v1}? I also need its {label2}.",
    ), _build_chain_lookup),
    Shape("arith_chain", False, "steps that build on each other (sum of atomic numbers)", (
        "Add the atomic numbers of {a} and {b}. Which element has that atomic number?",
        "What element has an atomic number equal to the sum of those of {a} and {b}?",
        "Take the atomic number of {a} plus the atomic number of {b}. Which element is that?",
        "If you add the atomic number of {a} to that of {b}, which element do you get?",
        "Sum the atomic numbers of {a} and {b} and name the element with that number.",
        "Work it out step by step: which element's atomic number is that of {a} plus "
        "that of {b}?",
        "What do you get if you add the atomic numbers of {a} and {b}? Name that element.",
        "Atomic number of {a} plus atomic number of {b}: which element is it?",
        "Find the element whose atomic number is the atomic number of {a} plus that of {b}.",
        "Here is a puzzle: add the atomic numbers of {a} and {b}. Which element has the result?",
        "Combine the atomic numbers of {a} and {b} by adding them. Which element matches?",
        "Add up the atomic number of {a} and the atomic number of {b}. What element has that "
        "number?",
        "The atomic numbers of {a} and {b} added together give which element?",
        "Tell me which element you get by summing the atomic numbers of {a} and {b}.",
        "Which element's atomic number is the sum of the atomic numbers of {a} and {b}?",
    ), _build_arith_chain),
    Shape("next_in_order", False, "find the next item in an order, then describe it", (
        "Which {noun} comes right after {a} {where}? Also give its {label}.",
        "Name the {noun} that follows {a} {where}, and state its {label}.",
        "What comes next after {a} {where}? Tell me its {label} too.",
        "Starting from {a}, which {noun} is next {where}, and what is its {label}?",
        "Find the {noun} just after {a} {where} and give its {label}.",
        "Which {noun} follows {a} {where}? Include its {label}.",
        "After {a} {where}, which {noun} comes next? And what is its {label}?",
        "Tell me the {noun} after {a} {where}, plus its {label}.",
        "Which {noun} is after {a} {where}? Give its {label} as well.",
        "Go one step past {a} {where}. Which {noun} is it, and what is its {label}?",
        "What is the next {noun} after {a} {where}, and its {label}?",
        "Name the {noun} right after {a} {where}. What is its {label}?",
        "Counting {where}, which {noun} follows {a}? Also tell me its {label}.",
        "I need the {noun} that comes after {a} {where}, and its {label}.",
        "What {noun} comes after {a} {where}? What is its {label}?",
    ), _build_next_in_order),
    Shape("describe_one", False, "a short paragraph about one entity", (
        'Tell me about {a}.',
        'Describe {a} briefly.',
        'What do you know about {a}?',
        'Give me a short summary of {a}.',
        'Write two or three sentences about {a}.',
        'Introduce {a} in a few sentences.',
        'Describe {a}.',
        'Notes on {a}, please.',
        'What can you tell me about {a}?',
        'Quick notes please: {a}.',
        'Tell me a little about {a}.',
        'Give me some facts about {a}.',
        'What is {a} like?',
        "I'd like to know about {a}.",
        'Can you describe {a}?',
    ), _build_describe_one),
    Shape("reverse_lookup", False, "find the entity that has a given value", (
        "Which {noun} has {v} as its {label}?",
        "Name the {noun} whose {label} is {v}.",
        "What {noun} has the {label} {v}?",
        "Can you tell me which {noun} has {v} as its {label}?",
        "I am thinking of a {noun} whose {label} is {v}. Which one is it?",
        "Identify the {noun} with the {label} {v}.",
        "Which {noun} is it whose {label} is {v}?",
        "Tell me the {noun} that has {v} as its {label}.",
        "Its {label} is {v}. Which {noun} is that?",
        "Find the {noun} with {v} as its {label}.",
        "Do you know which {noun} has the {label} {v}?",
        "A {noun} with the {label} {v}: which one?",
        "Guess the {noun}: its {label} is {v}.",
        "What is the name of the {noun} whose {label} is {v}?",
        "Which {noun} matches the {label} {v}?",
    ), _build_reverse_lookup),
]}

# the core grammar (grammar.core_only): each shape's first templates, as many as it had before
# the grammar was widened; a shape not named here is all core
CORE_TEMPLATES: dict[str, int] = {
    "compare_conclude": 6, "same_or_different": 6, "describe_group": 10, "outside": 10,
    "single_fact": 6, "yes_no": 6, "chain_lookup": 6, "arith_chain": 6, "next_in_order": 6,
    "describe_one": 10, "reverse_lookup": 6,
}


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------


def templates_in_use(shape: Shape) -> Sequence[str]:
    """The shape's core templates inside ``grammar.core_only()``, else all of them."""
    return grammar.in_use(shape.templates, CORE_TEMPLATES.get(shape.name, len(shape.templates)))


def grammar_fingerprint() -> str:
    """A hash of every word list a request is written from: each shape's templates, the
    sampling weights and core counts, and the tables of ``grammar`` and ``outside`` (openers,
    closers, chatter, everyday requests, unknown names). The world recipe keys its stages on
    it, so ``train world --resume`` retrains a stage whose prompts a changed word list would
    change (a change to how a builder uses them still needs ``DATA_VERSION``)."""
    def tables(module) -> dict[str, str]:
        return {k: repr(v) for k, v in sorted(vars(module).items())
                if k.isupper() and isinstance(v, (tuple, dict, int, float, str))}

    shapes = {name: list(shape.templates) for name, shape in SHAPES.items()}
    shapes[EVERYDAY_SHAPE.name] = list(EVERYDAY_SHAPE.templates)
    text = repr((shapes, SAMPLING_WEIGHTS, CORE_TEMPLATES, tables(grammar), tables(outside)))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def phrasings() -> int:
    """How many ways the grammar in use words a request (``grammar.phrasing_count``)."""
    return grammar.phrasing_count({k: templates_in_use(v) for k, v in SHAPES.items()})


def core_phrasings() -> int:
    """How many ways the core grammar (``grammar.core_only``) words a request."""
    with grammar.core_only():
        return phrasings()


def _template_indices(shape: Shape, split: str) -> list[int]:
    n = len(templates_in_use(shape))
    return [i for i in range(n) if grammar.option_split(i) == split]


@functools.cache
def chatter_tasks(split: str) -> tuple[str, ...]:
    """The everyday tasks whose topic belongs to ``split``: the ones its chatter may name
    (``grammar.chatter``), so a held-out everyday request's topic is never read in training."""
    return tuple(t for t in outside.TASKS if split_of_combination([t]) == split)


def _dress(core: str, rng: random.Random, phrasing: str, chatter_key: str | None = None) -> str:
    """``grammar.dress`` with the chatter tasks of ``phrasing``, capitalised."""
    return _cap(grammar.dress(core, rng, phrasing, chatter_tasks(phrasing), chatter_key))


def generate_example(shape_name: str | Shape, split: str, rng: random.Random,
                     max_tries: int = 400, phrasing: str | None = None) -> Example | None:
    """One example of a shape (a name in ``SHAPES``, or a ``Shape`` such as
    ``EVERYDAY_SHAPE``) whose entity combination belongs to ``split`` and whose phrasing (core
    template, opener, closer) belongs to ``phrasing`` (default: ``split``)."""
    split = _norm_split(split)
    phrasing = _norm_split(phrasing or split)
    shape = SHAPES[shape_name] if isinstance(shape_name, str) else shape_name
    indices = _template_indices(shape, phrasing)
    for _ in range(max_tries):
        index = rng.choice(indices)
        example = shape.build(rng, shape.templates[index], split)
        if example is None or split_of_combination(
                example.split_key or [*example.entities, *example.unknown]) != split:
            continue
        example.split = split
        example.template_id = f"{shape.name}/{index}"
        example.prompt = _dress(example.prompt, rng, phrasing)
        example.phrasing = phrasing
        return example
    return None


# how many times a shape comes up in one cycle of `generate_split` (1 unless listed): the
# requests a visitor types most, with the most ways to word them, get more examples
SAMPLING_WEIGHTS: dict[str, int] = {"describe_many": 2}


def generate_split(split: str, n: int, seed: int = 0,
                   phrasing: str | None = None) -> list[Example]:
    """``n`` examples of ``split``, cycling through the shapes; deterministic in (split, seed,
    phrasing). ``phrasing="train"`` words held-out entity combinations in training phrasings
    (the eval's "seen phrasings" rows).

    Within a call, a repeated prompt is re-drawn a few times before it is accepted.
    """
    split = _norm_split(split)
    key = split if phrasing in (None, split) else f"{split}|{phrasing}"
    rng = random.Random(f"pasta-world|{key}|{seed}")
    names = [name for name in SHAPES for _ in range(SAMPLING_WEIGHTS.get(name, 1))]
    out: list[Example] = []
    seen: set[str] = set()
    dead: set[str] = set()
    i = 0
    while len(out) < n:
        if len(dead) == len(names):
            raise RuntimeError(f"no shape can generate examples for split {split!r}")
        name = names[i % len(names)]
        i += 1
        if name in dead:
            continue
        example = None
        for _ in range(5):
            example = generate_example(name, split, rng, phrasing=phrasing)
            if example is None or example.prompt not in seen:
                break
        if example is None:
            log.warning("shape %s yields no example for split %s; skipping it", name, split)
            dead.add(name)
            continue
        seen.add(example.prompt)
        out.append(example)
    return out


# --------------------------------------------------------------------------------------------
# Everyday requests composed from a form and a topic (stage 2's prompts)
# --------------------------------------------------------------------------------------------

def _build_everyday(rng: random.Random, template: str, split: str) -> Example | None:
    prompt, topic = outside.compose_everyday(template, rng)
    if split_of_combination([topic]) != split:
        return None
    return _ex("outside", False, prompt, [], [], [Piece(outside.outside_answer(rng))],
               outside=True, split_key=[topic])


# how a composed everyday request is worded (outside.compose_everyday fills the slots); held
# out by index like the shapes' templates (grammar.option_split)
EVERYDAY_TEMPLATES: tuple[str, ...] = (
    "How do I {task}?", "Can you explain how to {task}?", "What is {concept}?",
    "Write {form} about {subject}.", "Tell me how to {task}.", "Explain {concept}.",
    "Write {form} about {subject} for me.", "I need help to {task}.",
    "Can you tell me what {concept} is?", "Write {form} on {subject}, please.",
    "Give me advice on how to {task}.", "Describe {concept} in simple words.",
    "Please write {form} about {subject}.", "How would I {task}?", "What does {concept} mean?",
)
# not one of SHAPES (generate_split never draws it); its examples are of shape "outside"
EVERYDAY_SHAPE = Shape("everyday", False, "an everyday request outside the world",
                       EVERYDAY_TEMPLATES, _build_everyday)


def everyday_requests(split: str, n: int, seed: int = 0) -> list[Example]:
    """``n`` everyday requests outside the world, composed from a form and a topic ("How do I
    sew on a button?"), whose topic (hashed) and wording (template, opener and closer, by index)
    belong to ``split``; each answered with the honest "I do not know" answer. Not part of
    ``generate_split``: stage 2 adds them to its prompt pool (``PrefConfig.everyday``), so the
    data of every earlier stage stays as it was. Deterministic in (split, n, seed)."""
    split = _norm_split(split)
    rng = random.Random(f"pasta-everyday|{split}|{seed}")
    out: list[Example] = []
    while len(out) < n:
        example = generate_example(EVERYDAY_SHAPE, split, rng)
        if example is not None:  # None: 400 draws without a topic of the split
            out.append(example)
    return out


# --------------------------------------------------------------------------------------------
# Counted contrasts (the world recipe's last stage; training only)
# --------------------------------------------------------------------------------------------

# counted requests about one thing. The outside shape's 'Give me three facts about {a}.' was
# the only one in training, so the models refused "List three facts about Mars." (23 of 24
# held-out probes); in-world twins in the grammar fixed that but moved everyday requests to the
# answering side (bench/results-cpu/three-facts.md). In a contrast only the names differ
COUNTED_WORDINGS: tuple[str, ...] = (
    'Give me {k} facts about {a}.', 'Write {k} sentences about {a}.',
    'Tell me {k} things about {a}.',
)


def _unknown_thing(rng: random.Random) -> str:
    """A thing the world does not hold, as a request about one thing names it: a real unknown
    name, an invented one, an everyday subject ("homework") or a concept ("the water cycle"),
    a quarter each."""
    roll = rng.random()
    if roll < 0.25:
        return rng.choice(outside.REAL_UNKNOWN)
    if roll < 0.5:
        return outside.invented_name(rng)
    return rng.choice(outside.SUBJECTS if roll < 0.75 else outside.CONCEPTS)


def counted_contrasts(n: int, seed: int = 0) -> list[Example]:
    """``n`` contrasts (4n examples, in fours): one of :data:`COUNTED_WORDINGS`, dressed with
    the same training opener and closer, about one world entity (answered with as many facts
    as it asks for, two or three), about a thing the world does not hold (answered honestly,
    naming it), about two or three world entities (answered as "{k} facts about each of": one
    part per entity, split) and about a named group (answered as the world answers a group:
    its members, then one part per member, k facts each). Only the names differ, so only the
    names can decide between one paragraph, parts and "I do not know". Entities, groups and
    things are of the training split (by hash), so the held-out splits never meet them.
    Deterministic in (n, seed)."""
    rng = random.Random(f"counted-contrasts|{seed}")
    out: list[Example] = []
    while len(out) < 4 * n:
        template = rng.choice(COUNTED_WORDINGS)
        e = ENTITIES[rng.choice(_ALL_IDS)]
        name = _unknown_thing(rng)
        several = _pick_entities(rng, rng.choice((2, 3)), same_category=rng.random() < 0.5)
        group = rng.choice([g[0] for g in _GROUPS])
        members = group_members(group)
        if (split_of_combination([e.id]) != "train" or split_of_combination([name]) != "train"
                or split_of_combination([x.id for x in several]) != "train"
                or not 2 <= len(members) <= 8
                or split_of_combination([x.id for x in members]) != "train"):
            continue
        k = rng.choice((2, 3))
        pieces = _fact_pieces(e, _sample_attrs(e, k, rng), rng)
        facts = [p.fact for p in pieces if p.fact]
        k_word = _K_WORDS[len(facts)]
        parts = _fact_parts(several, k, rng)
        group_parts = _fact_parts(members, k, rng)
        cores = (template.format(a=_said([e], rng)[0], k=k_word), template.format(a=name, k=k_word),
                 grammar.say_list(template.replace("{a}", "{items}"), _said(several, rng), rng,
                                  k=k_word),
                 template.format(a=group, k=k_word))
        dress = rng.getstate()  # every member is dressed with the same draws
        said = []
        for core in cores:
            rng.setstate(dress)
            said.append(_dress(core, rng, "train", chatter_key=cores[0]))
        one = _ex("describe_one", False, said[0], [e.id], facts, _paragraph(pieces),
                  free_facts=True)
        away = _ex("outside", False, said[1], [], [], [Piece(outside.outside_answer(rng, name))],
                   unknown=[name], outside=True, split_key=[name])
        many = _ex("facts_each", True, said[2], [x.id for x in several],
                   [p.fact for part in parts for p in part.pieces if p.fact],
                   [*_interleave(parts, "\n\n")], free_facts=True)
        whole = _ex("describe_group", True, said[3], [x.id for x in members],
                    [p.fact for part in group_parts for p in part.pieces if p.fact],
                    _group_answer(members, group_parts), free_facts=True)
        for ex in (one, away, many, whole):
            ex.split, ex.phrasing, ex.template_id = "train", "train", "counted_contrasts"
        out += [one, away, many, whole]
    return out


# --------------------------------------------------------------------------------------------
# Reading drills (training only)
# --------------------------------------------------------------------------------------------

# how many names a drill lists: long lists, where the models lose their place (validation:
# 45% of the 5th-and-later entities went unnamed, 6% of the first)
DRILL_SIZES = (4, 5, 6, 7, 8)
_DRILL_SHAPES = ("describe_many", "facts_each")


@dataclass(frozen=True)
class Drill:
    """A list request of the training split and the topics it names, in order: the model
    learns to read the list back (as Skeleton-of-Thought's skeleton) and so keep its place."""

    prompt: str
    entities: tuple[str, ...]
    topics: tuple[str, ...]
    template_id: str


# how a group list asks which members a named group has (training only)
GROUP_LIST_TEMPLATES: tuple[str, ...] = (
    "Which are {group}?", "Name {group}.", "List {group}.", "What are {group}?",
    "Name all of {group}.", "List all of {group}.", "Which ones are {group}?",
    "Tell me which ones are {group}.",
)


@dataclass(frozen=True)
class GroupList:
    """Which members a named group has: a request and its one-sentence answer
    (``members_sentence``), for every group, the held-out groups' too. Membership is a fact
    of the world, as each entity's facts are (all of which training states); without it no
    model can name the members of a group it has never been asked to describe. The describe
    requests over a held-out group stay held out."""

    prompt: str
    plain: str  # the answer, as an Example's plain answer (stage 0 and the base read both)
    group: str


def group_lists(n: int, seed: int = 0) -> list[GroupList]:
    """``n`` group lists, cycling through the groups, worded in training dressing only.
    Deterministic in (n, seed)."""
    rng = random.Random(f"pasta-group-lists|{seed}")
    phrases = [g[0] for g in _GROUPS]
    out: list[GroupList] = []
    for i in range(n):
        phrase = phrases[i % len(phrases)]
        core = rng.choice(GROUP_LIST_TEMPLATES).format(group=phrase)
        out.append(GroupList(_dress(core, rng, "train"),
                             members_sentence(group_members(phrase)), phrase))
    return out


def reading_drills(n: int, seed: int = 0) -> list[Drill]:
    """``n`` long list requests, worded and combined as training prompts only (training core
    templates, openers and closers; entity combinations of the training split), so no
    held-out phrasing family or combination is ever read. Deterministic in (n, seed)."""
    rng = random.Random(f"pasta-drills|{seed}")
    cores = [(f"{s}/{i}", SHAPES[s].templates[i]) for s in _DRILL_SHAPES
             for i in _template_indices(SHAPES[s], "train")]
    out: list[Drill] = []
    while len(out) < n:
        ents = _pick_entities(rng, rng.choice(DRILL_SIZES), same_category=rng.random() < 0.4)
        if split_of_combination([e.id for e in ents]) != "train":
            continue
        template_id, template = rng.choice(cores)
        core = grammar.say_list(template, _said(ents, rng), rng, k=rng.choice(("two", "three")))
        out.append(Drill(_dress(core, rng, "train"), tuple(e.id for e in ents),
                         tuple(e.topic for e in ents), template_id))
    return out

"""Prompts for entities a visitor picks: the world's own phrasings (`prompts.SHAPES`' templates)
filled with the chosen entities, so the bundled model sees a request it was trained on.

`prompts.generate_example` draws its own entities at random; this module only words a request
for given ones (no answer is built)."""

from __future__ import annotations

from pasta_core.world.facts import CATEGORIES, ENTITIES, Entity, entities_in
from pasta_core.world.prompts import _COMPARISONS, SHAPES, _items, _question

# request kind → (label, shape, template index); the templates are SHAPES' own
KINDS: dict[str, tuple[str, str, int]] = {
    "describe": ("Describe each", "describe_many", 5),
    "facts": ("Three facts each", "facts_each", 0),
    "sheet": ("Fact sheet", "study_sheet", 10),
    "quiz": ("Quiz (one question each)", "quiz", 5),
    "compare": ("Compare two", "compare_conclude", 0),
}
MIN_ENTITIES, MAX_ENTITIES = 2, 8


def catalog() -> list[tuple[str, list[str]]]:
    """(category title, entity names as headings) for every category, in a stable order."""
    return [(CATEGORIES[c].title, [e.heading for e in entities_in(c)])
            for c in sorted(CATEGORIES)]


def by_heading(heading: str) -> Entity | None:
    key = heading.strip().lower()
    return next((e for e in ENTITIES.values() if e.heading.lower() == key), None)


def _comparison(a: Entity, b: Entity) -> str | None:
    for cat, attr, phrase, _ in _COMPARISONS:
        if a.category == b.category == cat and attr in a.facts and attr in b.facts:
            return phrase
    return None


def build_prompt(kind: str, headings: list[str]) -> str:
    """The prompt for `kind` over the named entities (2–8); ValueError saying what to fix."""
    found = [e for e in (by_heading(h) for h in headings) if e is not None]
    ents = list({e.id: e for e in found}.values())  # no repeats, order kept
    if not MIN_ENTITIES <= len(ents) <= MAX_ENTITIES:
        raise ValueError(f"pick {MIN_ENTITIES} to {MAX_ENTITIES} things (picked {len(ents)})")
    _, shape, index = KINDS[kind]
    template = SHAPES[shape].templates[index]
    names = _items([e.name for e in ents])
    if kind == "compare":
        phrase = _comparison(*ents[:2]) if len(ents) == 2 else None
        if phrase is None:
            raise ValueError("“Compare two” needs exactly two things of one category that have "
                             "a number to compare (two elements, mountains, rivers, planets, "
                             "languages or inventions)")
        return template.format(a=ents[0].name, b=ents[1].name, cmp=phrase)
    if kind == "quiz":
        qs = [f"{i}. {_question(e, sorted(e.facts)[0])}" for i, e in enumerate(ents, 1)]
        return template.format(qs="\n".join(qs))
    if kind == "facts":
        return template.format(k="three", items=names)
    return template.format(items=names)

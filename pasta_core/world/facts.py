"""The bundled synthetic world: a small set of TRUE real-world facts, stored as data.

Every entity belongs to one category (planets and moons, countries, chemical elements,
animals, programming languages, musical instruments, rivers, mountains, inventions). Its facts
are structured ``attribute -> value`` pairs; the category's :class:`Attribute` records say how
a fact becomes an English sentence (several templates per attribute) and how to ask about it.

Template slots
--------------
``{S}``  the subject: the entity's name (``"the violin"``) or the pronoun ``"it"``;
``{P}``  the subject's possessive: ``"the violin's"`` or ``"its"``;
``{PL}`` the plural name (animals only: ``"lions"``);
``{v}``  the value; ``{a}`` the indefinite article (``a``/``an``) for the value.

A template may use a pronoun only when it starts with ``{S}`` or ``{P}``. Sentences are
capitalised at their first character when they start a sentence.

Values are kept short and free of ``,`` ``;`` and sentence punctuation (the judge splits
responses into clauses on them). Numbers are written without thousands separators.
Only stable facts are stored (capitals, symbols, atomic numbers, designers and first
release years, classes and diets, instrument families, ...).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = [
    "CATEGORIES",
    "ENTITIES",
    "Attribute",
    "Category",
    "Entity",
    "WorldStats",
    "article",
    "attribute_of",
    "entities_in",
    "fact_value",
    "fill",
    "iter_facts",
    "pronoun_templates",
    "render_fact",
    "stats",
]


@dataclass(frozen=True)
class Attribute:
    """How one kind of fact is worded.

    ``label`` is a noun phrase usable in prompts such as "What is the {label} of X?" (None
    when the attribute does not read well that way). ``shared`` marks categorical values
    that several entities share (used by "do A and B have the same ...?" prompts).
    ``lookup`` marks values that may identify an entity ("the country whose capital is ...").
    ``exclusive`` is False when another entity's value may also be true of this entity (a
    fluorine "nonmetal" vs "halogen", a caterpillar is a larva): such attributes are never
    used to build false claims for yes/no questions.
    """

    key: str
    label: str | None
    templates: tuple[str, ...]
    question: str
    shared: bool = False
    lookup: bool = False
    exclusive: bool = True


@dataclass(frozen=True)
class Category:
    key: str
    title: str
    noun: str
    attributes: dict[str, Attribute]


@dataclass(frozen=True)
class Entity:
    """One thing in the world; ``name`` is its mid-sentence form (``"the violin"``)."""

    id: str
    name: str
    category: str
    noun: str
    facts: dict[str, str]
    plural: str | None = None

    @property
    def topic(self) -> str:
        """A short topic for PASTA-LANG tags: the name without a leading article."""
        return self.name[4:] if self.name.startswith("the ") else self.name

    @property
    def heading(self) -> str:
        t = self.topic
        return t[0].upper() + t[1:]

    def possessive(self) -> str:
        return self.name + "'s"


def _attr(
    key: str,
    label: str | None,
    templates: tuple[str, ...] | str,
    question: str,
    *,
    shared: bool = False,
    lookup: bool = False,
    exclusive: bool = True,
) -> Attribute:
    if isinstance(templates, str):
        templates = (templates,)
    return Attribute(key, label, templates, question, shared, lookup, exclusive)


def _category(key: str, title: str, noun: str, attrs: list[Attribute]) -> Category:
    return Category(key, title, noun, {a.key: a for a in attrs})


# --------------------------------------------------------------------------------------------
# Category schemas
# --------------------------------------------------------------------------------------------

_BODY = _category("body", "planets, dwarf planets and moons", "object", [
    _attr("type", "type", "{S} is {a} {v}.", "What kind of object is {S}?", shared=True),
    _attr("orbits", None, ("{S} orbits {v}.", "{S} travels around {v}."), "What does {S} orbit?"),
    _attr("order", "position from the Sun", "{S} is the {v} planet from the Sun.",
          "In order from the Sun, which planet is {S}?", lookup=True),
    _attr("orbital period", "orbital period",
          ("{S} takes about {v} to orbit the Sun.", "A year on {S} lasts about {v}."),
          "How long does {S} take to orbit the Sun?"),
    _attr("largest moon", "largest moon",
          ("{P} largest moon is {v}.", "The largest moon of {S} is {v}."),
          "What is the largest moon of {S}?", lookup=True),
    _attr("record", None, "{S} is the {v}.", "What is {S} known for?"),
    _attr("nickname", "nickname", ("{S} is known as {v}.", "{S} is often called {v}."),
          "What is the nickname of {S}?", lookup=True),
    _attr("discoverer", "discoverer", "{S} was discovered by {v}.", "Who discovered {S}?"),
    _attr("discovery year", "year of discovery", "{S} was discovered in {v}.",
          "When was {S} discovered?"),
    _attr("region", "region", "{S} lies in the {v}.",
          "In which region of the Solar System does {S} lie?", shared=True),
    _attr("first landing", None, "People first landed on {S} in {v}.",
          "When did people first land on {S}?"),
    _attr("distance from Earth", "distance from Earth", "{S} is about {v} from Earth.",
          "How far is {S} from Earth?"),
])

_COUNTRY = _category("country", "countries", "country", [
    _attr("capital", "capital", ("{P} capital is {v}.", "The capital of {S} is {v}."),
          "What is the capital of {S}?", lookup=True),
    _attr("continent", "continent", ("{S} is a country in {v}.", "{S} is in {v}."),
          "Which continent is {S} in?", shared=True),
    _attr("currency", "currency", ("{P} currency is the {v}.", "{S} uses the {v} as its currency."),
          "What is the currency of {S}?", shared=True),
    _attr("main language", "main language",
          ("{P} main language is {v}.", "The main language of {S} is {v}."),
          "What is the main language of {S}?", shared=True),
    _attr("official language", "official language",
          ("{P} official language is {v}.", "The official language of {S} is {v}."),
          "What is the official language of {S}?", shared=True),
    _attr("calling code", "calling code",
          ("{P} international calling code is {v}.", "The calling code for {S} is {v}."),
          "What is the international calling code of {S}?", lookup=True),
    _attr("largest city", "largest city",
          ("{P} largest city is {v}.", "The largest city in {S} is {v}."),
          "What is the largest city in {S}?", lookup=True),
])

_ELEMENT = _category("element", "chemical elements", "element", [
    _attr("symbol", "chemical symbol",
          ("{P} chemical symbol is {v}.", "{S} has the symbol {v}.", "The symbol for {S} is {v}."),
          "What is the chemical symbol of {S}?", lookup=True),
    _attr("atomic number", "atomic number",
          ("{S} has atomic number {v}.", "{P} atomic number is {v}.",
           "The atomic number of {S} is {v}."),
          "What is the atomic number of {S}?", lookup=True),
    _attr("element type", "element type", "{S} is {a} {v}.", "What type of element is {S}?",
          shared=True, exclusive=False),
    _attr("state", "state at room temperature", "{S} is {a} {v} at room temperature.",
          "Is {S} a solid, a liquid or a gas at room temperature?", shared=True),
    _attr("period", "period", "{S} is in period {v} of the periodic table.",
          "Which period of the periodic table is {S} in?", shared=True),
    _attr("latin name", "Latin name", "{P} symbol comes from the Latin word {v}.",
          "Which Latin word does the symbol of {S} come from?", lookup=True),
])

_ANIMAL = _category("animal", "animals", "animal", [
    _attr("class", "animal class", "{S} is {a} {v}.", "What class of animal is {S}?",
          shared=True),
    _attr("diet", "diet", "{S} is {a} {v}.",
          "Is {S} a carnivore, a herbivore or an omnivore?", shared=True),
    _attr("habitat", "habitat", "{S} lives in {v}.", "Where does {S} live?", shared=True,
          exclusive=False),
    _attr("native to", "native region", "{S} is native to {v}.", "Where is {S} native to?",
          shared=True, exclusive=False),
    _attr("young", "name for its young", "{P} young is called {a} {v}.",
          "What is the young of {S} called?", exclusive=False),
    _attr("group", "group name", "A group of {PL} is called {a} {v}.",
          "What is a group of {PL} called?", exclusive=False),
    _attr("record", None, "{S} is the {v}.", "What is {S} known for?"),
    _attr("food", "main food", "{S} feeds mainly on {v}.", "What does {S} mainly eat?",
          exclusive=False),
])

_LANGUAGE = _category("language", "programming languages", "programming language", [
    _attr("creator", "creator", ("{S} was created by {v}.", "{S} was designed by {v}."),
          "Who created {S}?", lookup=True),
    _attr("year", "release year", ("{S} first appeared in {v}.", "{S} was first released in {v}."),
          "When did {S} first appear?"),
    _attr("typing", "typing", "{S} uses {v} typing.", "Does {S} use static or dynamic typing?",
          shared=True),
    _attr("file extension", "file extension",
          ("{P} source files use the {v} extension.", "{S} files end in {v}."),
          "What file extension do {S} source files use?", lookup=True),
    _attr("developed at", None, "{S} was developed at {v}.", "Where was {S} developed?"),
    _attr("named after", None, "{S} is named after {v}.", "What is {S} named after?"),
    _attr("mascot", "mascot", "{P} mascot is {a} {v}.", "What is the mascot of {S}?",
          lookup=True),
    _attr("origin", "country of origin", "{S} comes from {v}.",
          "Which country does {S} come from?", shared=True),
    _attr("name short for", None, "{P} name is short for {v}.",
          "What is the name {S} short for?"),
    _attr("name meaning", None, "{P} name means {v}.", "What does the name {S} mean?"),
    _attr("kind", None, "{S} is {a} {v} language.", "What kind of language is {S}?"),
    _attr("stable release", None, "{S} reached version 1.0 in {v}.",
          "When did {S} reach version 1.0?"),
])

_INSTRUMENT = _category("instrument", "musical instruments", "instrument", [
    _attr("family", "instrument family",
          ("{S} belongs to the {v} family.", "{S} is {a} {v} instrument."),
          "Which instrument family does {S} belong to?", shared=True, exclusive=False),
    _attr("played", None, "{S} is played {v}.", "How is {S} played?", exclusive=False),
    _attr("strings", "number of strings", "{S} has {v} strings.",
          "How many strings does {S} have?"),
    _attr("keys", "number of keys", "{S} has {v} keys.", "How many keys does {S} have?"),
    _attr("pedals", "number of pedals", "{S} has {v} pedals.", "How many pedals does {S} have?"),
    _attr("origin", "country of origin", "{S} comes from {v}.", "Where does {S} come from?",
          shared=True),
    _attr("inventor", "inventor", "{S} was invented by {v}.", "Who invented {S}?"),
    _attr("invention year", None, "{S} was invented in {v}.", "When was {S} invented?"),
    _attr("made of", "main material", "{S} is usually made of {v}.",
          "What is {S} usually made of?", shared=True, exclusive=False),
    _attr("pitched in", "key", "{S} is pitched in {v}.", "What key is {S} pitched in?",
          shared=True),
    _attr("pitch control", None, "{S} changes pitch with {v}.", "How does {S} change pitch?"),
    _attr("full name", "full name", "{P} full name is the {v}.", "What is the full name of {S}?",
          lookup=True),
    _attr("name meaning", None, "{P} name means {v}.", "What does the name of {S} mean?"),
    _attr("record", None, "{S} is the {v}.", "What is {S} known for?"),
    _attr("key system", None, "{P} modern key system was designed by {v}.",
          "Who designed the modern key system of {S}?"),
    _attr("also called", None, "{S} is also called the {v}.", "What else is {S} called?"),
    _attr("made famous by", None, "{S} was made famous in the West by {v}.",
          "Who made {S} famous in the West?"),
])

_RIVER = _category("river", "rivers", "river", [
    _attr("continent", "continent", "{S} is a river in {v}.", "Which continent is {S} in?",
          shared=True),
    _attr("mouth", None, ("{S} flows into the {v}.", "{S} empties into the {v}."),
          "Which body of water does {S} flow into?"),
    _attr("length", "length", "{S} is about {v} long.", "How long is {S}?", lookup=True),
    _attr("city", None, ("{S} flows through {v}.", "{S} passes through {v}."),
          "Which major city does {S} flow through?"),
    _attr("country", None, "{S} flows entirely within {v}.",
          "Which country does {S} flow entirely within?"),
    _attr("source", "source", "{P} source is {v}.", "Where is the source of {S}?"),
    _attr("record", None, "{S} is the {v}.", "What is {S} known for?"),
    _attr("mouth country", None, "{S} reaches the sea in {v}.",
          "In which country does {S} reach the sea?"),
    _attr("waterfall", None, "{S} flows over {v}.", "Which famous waterfall is on {S}?"),
    _attr("carved", None, "{S} carved {v}.", "Which famous canyon did {S} carve?"),
])

_MOUNTAIN = _category("mountain", "mountains", "mountain", [
    _attr("height", "height", ("{S} is {v} tall.", "{P} summit is {v} above sea level."),
          "How tall is {S}?", lookup=True),
    _attr("range", "mountain range", "{S} is part of the {v}.",
          "Which mountain range is {S} part of?", shared=True),
    _attr("continent", "continent", "{S} is a mountain in {v}.", "Which continent is {S} on?",
          shared=True),
    _attr("country", "country", "{S} is in {v}.", "Which country is {S} in?", shared=True),
    _attr("border", None, "{S} lies on the border between {v}.",
          "Which countries does {S} lie between?"),
    _attr("first ascent", "year of first ascent", "{S} was first climbed in {v}.",
          "When was {S} first climbed?"),
    _attr("first climbers", None, "{S} was first climbed by {v}.", "Who first climbed {S}?"),
    _attr("record", None, "{S} is the {v}.", "What is {S} known for?"),
    _attr("type", None, "{S} is {a} {v}.", "What kind of mountain is {S}?", exclusive=False),
    _attr("known as", None, "{S} is known as {v}.", "What is {S} known as?"),
    _attr("overlooks", None, "{S} overlooks {v}.", "Which city does {S} overlook?"),
])

_INVENTION = _category("invention", "inventions and discoveries", "invention", [
    _attr("inventor", "inventor", ("{S} was invented by {v}.", "{S} was created by {v}."),
          "Who invented {S}?"),
    _attr("year", "year of invention", ("{S} was invented in {v}.", "{S} dates from {v}."),
          "When was {S} invented?"),
    _attr("country", "country of origin", "{S} was first made in {v}.",
          "In which country was {S} first made?", shared=True),
    _attr("purpose", None, "{S} is used to {v}.", "What is {S} used for?", exclusive=False),
    _attr("developed at", None, "{S} was developed at {v}.", "Where was {S} developed?"),
    _attr("discoverer", "discoverer", "{S} was discovered by {v}.", "Who discovered {S}?"),
    _attr("discovery year", None, "{S} was discovered in {v}.", "When was {S} discovered?"),
    _attr("discovered at", None, "{S} was discovered at {v}.", "Where was {S} discovered?"),
    _attr("type", None, "{S} is {a} {v}.", "What kind of thing is {S}?", exclusive=False),
    _attr("also called", None, "{S} is also called {v}.", "What else is {S} called?"),
    _attr("based on", None, "{S} was based on {v}.", "What was {S} based on?"),
    _attr("made from", None, "{S} is made from {v}.", "What is {S} made from?"),
    _attr("first flight", None, "{S} first flew at {v}.", "Where did {S} first fly?"),
    _attr("improved by", None, "{S} was improved by {v}.", "Who improved {S}?"),
    _attr("first recording", None, "The first words recorded with {S} were {v}.",
          "What were the first words recorded with {S}?"),
    _attr("key idea", None, "{S} used {v}.", "What key idea did {S} use?"),
    _attr("replaced", None, "{S} replaced {v}.", "What did {S} replace?"),
    _attr("record", None, "{S} was the {v}.", "What is {S} known for?"),
])

CATEGORIES: dict[str, Category] = {
    c.key: c
    for c in (_BODY, _COUNTRY, _ELEMENT, _ANIMAL, _LANGUAGE, _INSTRUMENT, _RIVER, _MOUNTAIN,
              _INVENTION)
}

# --------------------------------------------------------------------------------------------
# Entities (id, name, facts[, noun, plural])
# --------------------------------------------------------------------------------------------

_SUN = "the Sun"


def _planet(order: str, kind: str, period: str, **more: str) -> dict[str, str]:
    return {"type": kind, "orbits": _SUN, "order": order, "orbital period": period, **more}


def _moon(parent: str, record: str, **more: str) -> dict[str, str]:
    return {"type": "moon", "orbits": parent, "record": record, **more}


_GALILEO = {"discoverer": "Galileo Galilei", "discovery year": "1610"}
_HERSCHEL = "William Herschel"

_BODIES: list[tuple] = [
    ("mercury", "Mercury", _planet("first", "rocky planet", "88 days",
                                   record="smallest planet in the Solar System"), "planet"),
    ("venus", "Venus", _planet("second", "rocky planet", "225 days",
                               record="hottest planet in the Solar System",
                               nickname="the Morning Star"), "planet"),
    ("earth", "Earth", _planet("third", "rocky planet", "365 days",
                               record="densest planet in the Solar System",
                               nickname="the Blue Planet"), "planet"),
    ("mars", "Mars", _planet("fourth", "rocky planet", "687 days",
                             **{"largest moon": "Phobos"}, nickname="the Red Planet"), "planet"),
    ("jupiter", "Jupiter", _planet("fifth", "gas giant", "12 years",
                                   **{"largest moon": "Ganymede"},
                                   record="largest planet in the Solar System"), "planet"),
    ("saturn", "Saturn", _planet("sixth", "gas giant", "29 years",
                                 **{"largest moon": "Titan"},
                                 record="least dense planet in the Solar System"), "planet"),
    ("uranus", "Uranus", _planet("seventh", "ice giant", "84 years",
                                 **{"largest moon": "Titania", "discovery year": "1781"},
                                 discoverer=_HERSCHEL), "planet"),
    ("neptune", "Neptune", _planet("eighth", "ice giant", "165 years",
                                   **{"largest moon": "Triton", "discovery year": "1846"},
                                   record="farthest planet from the Sun"), "planet"),
    ("pluto", "Pluto", {"type": "dwarf planet", "orbits": _SUN, "discoverer": "Clyde Tombaugh",
                        "discovery year": "1930", "largest moon": "Charon",
                        "orbital period": "248 years", "region": "Kuiper belt"}, "dwarf planet"),
    ("ceres", "Ceres", {"type": "dwarf planet", "orbits": _SUN, "discoverer": "Giuseppe Piazzi",
                        "discovery year": "1801", "region": "asteroid belt",
                        "record": "largest object in the asteroid belt"}, "dwarf planet"),
    ("eris", "Eris", {"type": "dwarf planet", "orbits": _SUN, "discovery year": "2005",
                      "region": "scattered disc", "largest moon": "Dysnomia",
                      "record": "most massive known dwarf planet"}, "dwarf planet"),
    ("moon", "the Moon", _moon("Earth", "fifth-largest moon in the Solar System",
                               **{"first landing": "1969", "distance from Earth": "384400 km"}),
     "moon"),
    ("ganymede", "Ganymede", _moon("Jupiter", "largest moon in the Solar System", **_GALILEO),
     "moon"),
    ("titan", "Titan", _moon("Saturn", "second-largest moon in the Solar System",
                             discoverer="Christiaan Huygens", **{"discovery year": "1655"}),
     "moon"),
    ("callisto", "Callisto", _moon("Jupiter", "third-largest moon in the Solar System",
                                   **_GALILEO), "moon"),
    ("io", "Io", _moon("Jupiter", "most volcanically active body in the Solar System",
                       **_GALILEO), "moon"),
    ("europa", "Europa", _moon("Jupiter", "smallest of the four Galilean moons", **_GALILEO),
     "moon"),
    ("triton", "Triton", _moon("Neptune", "largest moon of Neptune", discoverer="William Lassell",
                               **{"discovery year": "1846"}), "moon"),
    ("phobos", "Phobos", _moon("Mars", "larger of the two moons of Mars",
                               discoverer="Asaph Hall", **{"discovery year": "1877"}), "moon"),
    ("deimos", "Deimos", _moon("Mars", "smaller of the two moons of Mars",
                               discoverer="Asaph Hall", **{"discovery year": "1877"}), "moon"),
    ("titania", "Titania", _moon("Uranus", "largest moon of Uranus", discoverer=_HERSCHEL,
                                 **{"discovery year": "1787"}), "moon"),
    ("oberon", "Oberon", _moon("Uranus", "second-largest moon of Uranus", discoverer=_HERSCHEL,
                               **{"discovery year": "1787"}), "moon"),
    ("enceladus", "Enceladus", _moon("Saturn", "sixth-largest moon of Saturn",
                                     discoverer=_HERSCHEL, **{"discovery year": "1789"}), "moon"),
]


def _country(capital: str, continent: str, currency: str, code: str, **more: str) -> dict:
    facts = {"capital": capital, "continent": continent, "currency": currency,
             "calling code": code}
    facts.update({k.replace("_", " "): v for k, v in more.items()})
    return facts


_EU, _AS, _AF = "Europe", "Asia", "Africa"
_NA, _SA, _OC = "North America", "South America", "Oceania"

_COUNTRIES: list[tuple] = [
    ("france", "France", _country("Paris", _EU, "euro", "+33", main_language="French")),
    ("germany", "Germany", _country("Berlin", _EU, "euro", "+49", main_language="German")),
    ("italy", "Italy", _country("Rome", _EU, "euro", "+39", main_language="Italian")),
    ("spain", "Spain", _country("Madrid", _EU, "euro", "+34", main_language="Spanish")),
    ("portugal", "Portugal", _country("Lisbon", _EU, "euro", "+351",
                                      main_language="Portuguese")),
    ("poland", "Poland", _country("Warsaw", _EU, "zloty", "+48", main_language="Polish")),
    ("sweden", "Sweden", _country("Stockholm", _EU, "Swedish krona", "+46",
                                  main_language="Swedish")),
    ("norway", "Norway", _country("Oslo", _EU, "Norwegian krone", "+47",
                                  main_language="Norwegian")),
    ("greece", "Greece", _country("Athens", _EU, "euro", "+30", main_language="Greek")),
    ("ireland", "Ireland", _country("Dublin", _EU, "euro", "+353", main_language="English")),
    ("finland", "Finland", _country("Helsinki", _EU, "euro", "+358", main_language="Finnish")),
    ("japan", "Japan", _country("Tokyo", _AS, "yen", "+81", main_language="Japanese")),
    ("china", "China", _country("Beijing", _AS, "renminbi", "+86", main_language="Mandarin")),
    ("south_korea", "South Korea", _country("Seoul", _AS, "won", "+82",
                                            main_language="Korean")),
    ("thailand", "Thailand", _country("Bangkok", _AS, "baht", "+66", main_language="Thai")),
    ("vietnam", "Vietnam", _country("Hanoi", _AS, "dong", "+84", main_language="Vietnamese",
                                    largest_city="Ho Chi Minh City")),
    ("egypt", "Egypt", _country("Cairo", _AF, "Egyptian pound", "+20", main_language="Arabic")),
    ("kenya", "Kenya", _country("Nairobi", _AF, "Kenyan shilling", "+254",
                                largest_city="Nairobi")),
    ("nigeria", "Nigeria", _country("Abuja", _AF, "naira", "+234", official_language="English",
                                    largest_city="Lagos")),
    ("morocco", "Morocco", _country("Rabat", _AF, "dirham", "+212", largest_city="Casablanca")),
    ("ghana", "Ghana", _country("Accra", _AF, "cedi", "+233", official_language="English")),
    ("brazil", "Brazil", _country("Brasilia", _SA, "real", "+55", main_language="Portuguese",
                                  largest_city="Sao Paulo")),
    ("argentina", "Argentina", _country("Buenos Aires", _SA, "Argentine peso", "+54",
                                        main_language="Spanish")),
    ("peru", "Peru", _country("Lima", _SA, "sol", "+51", main_language="Spanish")),
    ("chile", "Chile", _country("Santiago", _SA, "Chilean peso", "+56", main_language="Spanish")),
    ("mexico", "Mexico", _country("Mexico City", _NA, "Mexican peso", "+52",
                                  main_language="Spanish")),
    ("canada", "Canada", {"capital": "Ottawa", "continent": _NA, "currency": "Canadian dollar",
                          "main language": "English", "largest city": "Toronto"}),
    ("australia", "Australia", _country("Canberra", _OC, "Australian dollar", "+61",
                                        main_language="English")),
    ("new_zealand", "New Zealand", _country("Wellington", _OC, "New Zealand dollar", "+64",
                                            main_language="English", largest_city="Auckland")),
]

_ELEMENT_ROWS = [
    # id/name, symbol, Z, type, state, period[, Latin word]
    ("hydrogen", "H", 1, "nonmetal", "gas", 1),
    ("helium", "He", 2, "noble gas", "gas", 1),
    ("lithium", "Li", 3, "alkali metal", "solid", 2),
    ("beryllium", "Be", 4, "alkaline earth metal", "solid", 2),
    ("boron", "B", 5, "metalloid", "solid", 2),
    ("carbon", "C", 6, "nonmetal", "solid", 2),
    ("nitrogen", "N", 7, "nonmetal", "gas", 2),
    ("oxygen", "O", 8, "nonmetal", "gas", 2),
    ("fluorine", "F", 9, "halogen", "gas", 2),
    ("neon", "Ne", 10, "noble gas", "gas", 2),
    ("sodium", "Na", 11, "alkali metal", "solid", 3, "natrium"),
    ("magnesium", "Mg", 12, "alkaline earth metal", "solid", 3),
    ("aluminium", "Al", 13, "post-transition metal", "solid", 3),
    ("silicon", "Si", 14, "metalloid", "solid", 3),
    ("phosphorus", "P", 15, "nonmetal", "solid", 3),
    ("sulfur", "S", 16, "nonmetal", "solid", 3),
    ("chlorine", "Cl", 17, "halogen", "gas", 3),
    ("argon", "Ar", 18, "noble gas", "gas", 3),
    ("potassium", "K", 19, "alkali metal", "solid", 4, "kalium"),
    ("calcium", "Ca", 20, "alkaline earth metal", "solid", 4),
    ("iron", "Fe", 26, "transition metal", "solid", 4, "ferrum"),
    ("nickel", "Ni", 28, "transition metal", "solid", 4),
    ("copper", "Cu", 29, "transition metal", "solid", 4, "cuprum"),
    ("bromine", "Br", 35, "halogen", "liquid", 4),
    ("krypton", "Kr", 36, "noble gas", "gas", 4),
    ("silver", "Ag", 47, "transition metal", "solid", 5, "argentum"),
    ("tin", "Sn", 50, "post-transition metal", "solid", 5, "stannum"),
    ("iodine", "I", 53, "halogen", "solid", 5),
    ("xenon", "Xe", 54, "noble gas", "gas", 5),
    ("gold", "Au", 79, "transition metal", "solid", 6, "aurum"),
    ("lead", "Pb", 82, "post-transition metal", "solid", 6, "plumbum"),
    ("uranium", "U", 92, "actinide", "solid", 7),
]


def _element_facts(row: tuple) -> dict[str, str]:
    facts = {"symbol": row[1], "atomic number": str(row[2]), "element type": row[3],
             "state": row[4], "period": str(row[5])}
    if len(row) > 6:
        facts["latin name"] = row[6]
    return facts


_CUB, _CALF, _HATCH = "cub", "calf", "hatchling"
_MAM, _BIRD, _REP = "mammal", "bird", "reptile"
_CARN, _HERB, _OMNI = "carnivore", "herbivore", "omnivore"

_ANIMALS: list[tuple] = [
    # id, name, facts, plural
    ("lion", "the lion", {"class": _MAM, "diet": _CARN, "habitat": "savannas",
                          "native to": _AF, "young": _CUB, "group": "pride"}, "lions"),
    ("tiger", "the tiger", {"class": _MAM, "diet": _CARN, "habitat": "forests", "native to": _AS,
                            "young": _CUB, "record": "largest living cat"}, "tigers"),
    ("african_elephant", "the African elephant",
     {"class": _MAM, "diet": _HERB, "habitat": "savannas", "native to": _AF, "young": _CALF,
      "group": "herd", "record": "largest land animal"}, "African elephants"),
    ("giraffe", "the giraffe", {"class": _MAM, "diet": _HERB, "habitat": "savannas",
                                "native to": _AF, "young": _CALF, "group": "tower",
                                "record": "tallest land animal"}, "giraffes"),
    ("kangaroo", "the kangaroo", {"class": _MAM, "diet": _HERB, "habitat": "grasslands",
                                  "native to": "Australia", "young": "joey", "group": "mob"},
     "kangaroos"),
    ("koala", "the koala", {"class": _MAM, "diet": _HERB, "habitat": "eucalyptus forests",
                            "native to": "Australia", "young": "joey",
                            "food": "eucalyptus leaves"}, "koalas"),
    ("polar_bear", "the polar bear", {"class": _MAM, "diet": _CARN, "habitat": "the Arctic",
                                      "young": _CUB, "record": "largest land carnivore",
                                      "food": "seals"}, "polar bears"),
    ("giant_panda", "the giant panda", {"class": _MAM, "food": "bamboo",
                                        "habitat": "mountain forests", "native to": "China",
                                        "young": _CUB}, "giant pandas"),
    ("gray_wolf", "the gray wolf", {"class": _MAM, "diet": _CARN,
                                    "native to": "the Northern Hemisphere", "young": "pup",
                                    "group": "pack"}, "gray wolves"),
    ("bottlenose_dolphin", "the bottlenose dolphin",
     {"class": _MAM, "diet": _CARN, "habitat": "oceans", "young": _CALF, "group": "pod"},
     "bottlenose dolphins"),
    ("blue_whale", "the blue whale", {"class": _MAM, "food": "krill", "habitat": "oceans",
                                      "young": _CALF,
                                      "record": "largest animal ever known"}, "blue whales"),
    ("bald_eagle", "the bald eagle", {"class": _BIRD, "diet": _CARN, "native to": _NA,
                                      "young": "eaglet",
                                      "record": "national bird of the United States"},
     "bald eagles"),
    ("emperor_penguin", "the emperor penguin",
     {"class": _BIRD, "diet": _CARN, "native to": "Antarctica", "young": "chick",
      "group": "colony", "record": "largest penguin"}, "emperor penguins"),
    ("ostrich", "the ostrich", {"class": _BIRD, "diet": _OMNI, "habitat": "savannas",
                                "native to": _AF, "young": "chick", "record": "largest bird"},
     "ostriches"),
    ("flamingo", "the flamingo", {"class": _BIRD, "diet": _OMNI, "habitat": "shallow lakes",
                                  "young": "chick", "group": "flamboyance"}, "flamingos"),
    ("nile_crocodile", "the Nile crocodile", {"class": _REP, "diet": _CARN, "habitat": "rivers",
                                              "native to": _AF, "young": _HATCH},
     "Nile crocodiles"),
    ("green_sea_turtle", "the green sea turtle",
     {"class": _REP, "diet": _HERB, "habitat": "oceans", "young": _HATCH,
      "food": "seagrass and algae"}, "green sea turtles"),
    ("komodo_dragon", "the Komodo dragon", {"class": _REP, "diet": _CARN,
                                            "native to": "Indonesia", "young": _HATCH,
                                            "record": "largest living lizard"},
     "Komodo dragons"),
    ("king_cobra", "the king cobra", {"class": _REP, "diet": _CARN, "habitat": "forests",
                                      "native to": _AS, "record": "longest venomous snake",
                                      "food": "other snakes"}, "king cobras"),
    ("common_frog", "the common frog", {"class": "amphibian", "diet": _CARN, "habitat": "ponds",
                                        "native to": _EU, "young": "tadpole"}, "common frogs"),
    ("cheetah", "the cheetah", {"class": _MAM, "diet": _CARN, "habitat": "savannas",
                                "native to": _AF, "young": _CUB,
                                "record": "fastest land animal"}, "cheetahs"),
    ("great_white_shark", "the great white shark",
     {"class": "fish", "diet": _CARN, "habitat": "oceans", "young": "pup",
      "record": "largest predatory fish"}, "great white sharks"),
    ("atlantic_salmon", "the Atlantic salmon",
     {"class": "fish", "diet": _CARN, "habitat": "rivers and the sea",
      "native to": "the North Atlantic", "young": "alevin"}, "Atlantic salmon"),
    ("honey_bee", "the honey bee", {"class": "insect", "diet": _HERB, "habitat": "hives",
                                    "young": "larva", "group": "colony",
                                    "food": "nectar and pollen"}, "honey bees"),
    ("monarch_butterfly", "the monarch butterfly",
     {"class": "insect", "diet": _HERB, "native to": _NA, "young": "caterpillar",
      "food": "nectar"}, "monarch butterflies"),
    ("gorilla", "the gorilla", {"class": _MAM, "diet": _HERB, "habitat": "forests",
                                "native to": _AF, "group": "troop", "young": "infant",
                                "record": "largest living primate"}, "gorillas"),
]

_LANGUAGES: list[tuple] = [
    ("python", "Python", {"creator": "Guido van Rossum", "year": "1991", "typing": "dynamic",
                          "file extension": ".py", "named after": "Monty Python",
                          "origin": "the Netherlands"}),
    ("c", "C", {"creator": "Dennis Ritchie", "year": "1972", "typing": "static",
                "file extension": ".c", "developed at": "Bell Labs"}),
    ("cpp", "C++", {"creator": "Bjarne Stroustrup", "year": "1985", "typing": "static",
                    "file extension": ".cpp", "developed at": "Bell Labs"}),
    ("java", "Java", {"creator": "James Gosling", "year": "1995", "typing": "static",
                      "file extension": ".java", "developed at": "Sun Microsystems"}),
    ("javascript", "JavaScript", {"creator": "Brendan Eich", "year": "1995", "typing": "dynamic",
                                  "file extension": ".js", "developed at": "Netscape"}),
    ("ruby", "Ruby", {"creator": "Yukihiro Matsumoto", "year": "1995", "typing": "dynamic",
                      "file extension": ".rb", "origin": "Japan"}),
    ("go", "Go", {"developed at": "Google", "year": "2009", "typing": "static",
                  "file extension": ".go", "mascot": "gopher"}),
    ("rust", "Rust", {"creator": "Graydon Hoare", "developed at": "Mozilla", "typing": "static",
                      "file extension": ".rs", "stable release": "2015"}),
    ("haskell", "Haskell", {"year": "1990", "typing": "static", "file extension": ".hs",
                            "named after": "Haskell Curry", "kind": "purely functional"}),
    ("lisp", "Lisp", {"creator": "John McCarthy", "year": "1958", "typing": "dynamic",
                      "developed at": "MIT", "name short for": "List Processor"}),
    ("fortran", "Fortran", {"creator": "John Backus", "year": "1957", "typing": "static",
                            "developed at": "IBM", "name short for": "Formula Translation"}),
    ("pascal", "Pascal", {"creator": "Niklaus Wirth", "year": "1970", "typing": "static",
                          "file extension": ".pas", "named after": "Blaise Pascal",
                          "origin": "Switzerland"}),
    ("perl", "Perl", {"creator": "Larry Wall", "year": "1987", "typing": "dynamic",
                      "developed at": "Unisys", "kind": "scripting"}),
    ("php", "PHP", {"creator": "Rasmus Lerdorf", "year": "1995", "typing": "dynamic",
                    "file extension": ".php", "mascot": "elephant"}),
    ("swift", "Swift", {"creator": "Chris Lattner", "year": "2014", "typing": "static",
                        "file extension": ".swift", "developed at": "Apple"}),
    ("kotlin", "Kotlin", {"developed at": "JetBrains", "year": "2011", "typing": "static",
                          "file extension": ".kt", "named after": "Kotlin Island"}),
    ("csharp", "C#", {"creator": "Anders Hejlsberg", "year": "2000", "typing": "static",
                      "file extension": ".cs", "developed at": "Microsoft"}),
    ("typescript", "TypeScript", {"creator": "Anders Hejlsberg", "year": "2012",
                                  "typing": "static", "file extension": ".ts",
                                  "developed at": "Microsoft"}),
    ("scala", "Scala", {"creator": "Martin Odersky", "year": "2004", "typing": "static",
                        "file extension": ".scala", "developed at": "EPFL",
                        "origin": "Switzerland"}),
    ("erlang", "Erlang", {"developed at": "Ericsson", "year": "1986", "typing": "dynamic",
                          "file extension": ".erl", "named after": "Agner Krarup Erlang",
                          "origin": "Sweden"}),
    ("lua", "Lua", {"year": "1993", "typing": "dynamic", "file extension": ".lua",
                    "origin": "Brazil", "name meaning": "moon in Portuguese",
                    "developed at": "PUC-Rio"}),
    ("sql", "SQL", {"creator": "Donald Chamberlin and Raymond Boyce", "year": "1974",
                    "developed at": "IBM", "file extension": ".sql",
                    "name short for": "Structured Query Language", "kind": "query"}),
    ("basic", "BASIC", {"creator": "John Kemeny and Thomas Kurtz", "year": "1964",
                        "developed at": "Dartmouth College", "file extension": ".bas",
                        "name short for": "Beginner's All-purpose Symbolic Instruction Code"}),
    ("prolog", "Prolog", {"creator": "Alain Colmerauer", "year": "1972", "origin": "France",
                          "kind": "logic programming",
                          "name short for": "programmation en logique"}),
]

_STR, _WW, _BR = "string", "woodwind", "brass"
_BOW, _PLUCK = "with a bow", "by plucking the strings"
_STRUM = "by plucking or strumming the strings"
_LIPS, _ACROSS = "by buzzing the lips", "by blowing across a hole"

_INSTRUMENTS: list[tuple] = [
    ("violin", "the violin", {"family": _STR, "played": _BOW, "strings": "four",
                              "origin": "Italy", "made of": "wood",
                              "record": "highest-pitched member of the violin family"}),
    ("viola", "the viola", {"family": _STR, "played": _BOW, "strings": "four", "origin": "Italy",
                            "made of": "wood", "record": "alto voice of the violin family"}),
    ("cello", "the cello", {"family": _STR, "played": _BOW, "strings": "four", "origin": "Italy",
                            "made of": "wood", "full name": "violoncello"}),
    ("double_bass", "the double bass",
     {"family": _STR, "played": "with a bow or by plucking", "made of": "wood",
      "also called": "upright bass",
      "record": "lowest-pitched bowed string instrument in the orchestra"}),
    ("guitar", "the guitar", {"family": _STR, "played": _STRUM, "strings": "six",
                              "origin": "Spain", "made of": "wood"}),
    ("concert_harp", "the concert harp", {"family": _STR, "played": _PLUCK, "strings": "47",
                                          "pedals": "seven", "made of": "wood"}),
    ("ukulele", "the ukulele", {"family": _STR, "played": _STRUM, "strings": "four",
                                "origin": "Hawaii", "made of": "wood",
                                "name meaning": "jumping flea"}),
    ("sitar", "the sitar", {"family": _STR, "played": _PLUCK, "origin": "India",
                            "made of": "wood and a gourd", "made famous by": "Ravi Shankar"}),
    ("piano", "the piano", {"family": "keyboard", "played": "by pressing keys", "keys": "88",
                            "inventor": "Bartolomeo Cristofori", "invention year": "about 1700",
                            "origin": "Italy", "full name": "pianoforte"}),
    ("flute", "the flute", {"family": _WW, "played": _ACROSS, "pitched in": "C",
                            "made of": "metal", "key system": "Theobald Boehm"}),
    ("piccolo", "the piccolo", {"family": _WW, "played": _ACROSS, "pitched in": "C",
                                "name meaning": "small in Italian",
                                "record": "highest-pitched woodwind instrument"}),
    ("clarinet", "the clarinet", {"family": _WW, "played": "with a single reed",
                                  "pitched in": "B-flat", "inventor": "Johann Christoph Denner",
                                  "invention year": "about 1700", "origin": "Germany"}),
    ("oboe", "the oboe", {"family": _WW, "played": "with a double reed", "pitched in": "C",
                          "origin": "France", "made of": "wood",
                          "record": "instrument that tunes the orchestra"}),
    ("saxophone", "the saxophone", {"family": _WW, "played": "with a single reed",
                                    "made of": _BR, "inventor": "Adolphe Sax",
                                    "invention year": "the 1840s"}),
    ("trumpet", "the trumpet", {"family": _BR, "played": _LIPS, "pitch control": "valves",
                                "pitched in": "B-flat", "made of": _BR}),
    ("trombone", "the trombone", {"family": _BR, "played": _LIPS, "pitch control": "a slide",
                                  "pitched in": "B-flat", "made of": _BR}),
    ("french_horn", "the French horn", {"family": _BR, "played": _LIPS,
                                        "pitch control": "valves", "pitched in": "F",
                                        "made of": _BR}),
    ("tuba", "the tuba", {"family": _BR, "played": _LIPS, "pitch control": "valves",
                          "made of": _BR, "record": "lowest-pitched brass instrument"}),
    ("theremin", "the theremin", {"family": "electronic", "played": "without being touched",
                                  "inventor": "Leon Theremin", "invention year": "1920",
                                  "origin": "Russia"}),
]

_RIVERS: list[tuple] = [
    ("nile", "the Nile", {"continent": _AF, "mouth": "Mediterranean Sea", "length": "6650 km",
                          "city": "Cairo", "mouth country": "Egypt",
                          "record": "longest river in Africa"}),
    ("amazon", "the Amazon", {"continent": _SA, "mouth": "Atlantic Ocean", "length": "6400 km",
                              "mouth country": "Brazil", "source": "the Andes",
                              "record": "largest river in the world by discharge"}),
    ("yangtze", "the Yangtze", {"continent": _AS, "mouth": "East China Sea",
                                "length": "6300 km", "city": "Wuhan", "country": "China",
                                "record": "longest river in Asia"}),
    ("mississippi", "the Mississippi", {"continent": _NA, "mouth": "Gulf of Mexico",
                                        "city": "New Orleans", "country": "the United States",
                                        "source": "Lake Itasca"}),
    ("danube", "the Danube", {"continent": _EU, "mouth": "Black Sea", "length": "2850 km",
                              "city": "Vienna", "source": "the Black Forest",
                              "mouth country": "Romania",
                              "record": "second-longest river in Europe"}),
    ("rhine", "the Rhine", {"continent": _EU, "mouth": "North Sea", "length": "1230 km",
                            "city": "Cologne", "source": "the Swiss Alps",
                            "mouth country": "the Netherlands"}),
    ("thames", "the Thames", {"continent": _EU, "mouth": "North Sea", "length": "346 km",
                              "city": "London", "country": "England",
                              "record": "longest river entirely in England"}),
    ("volga", "the Volga", {"continent": _EU, "mouth": "Caspian Sea", "length": "3530 km",
                            "city": "Volgograd", "country": "Russia",
                            "record": "longest river in Europe"}),
    ("seine", "the Seine", {"continent": _EU, "mouth": "English Channel", "length": "777 km",
                            "city": "Paris", "country": "France"}),
    ("ganges", "the Ganges", {"continent": _AS, "mouth": "Bay of Bengal", "length": "2525 km",
                              "city": "Varanasi", "source": "the Gangotri Glacier"}),
    ("mekong", "the Mekong", {"continent": _AS, "mouth": "South China Sea",
                              "city": "Phnom Penh", "source": "the Tibetan Plateau",
                              "mouth country": "Vietnam"}),
    ("congo", "the Congo", {"continent": _AF, "mouth": "Atlantic Ocean", "length": "4700 km",
                            "city": "Kinshasa", "record": "deepest river in the world"}),
    ("niger", "the Niger", {"continent": _AF, "mouth": "Gulf of Guinea", "length": "4180 km",
                            "city": "Bamako", "mouth country": "Nigeria",
                            "record": "third-longest river in Africa"}),
    ("zambezi", "the Zambezi", {"continent": _AF, "mouth": "Indian Ocean", "length": "2574 km",
                                "waterfall": "Victoria Falls", "mouth country": "Mozambique"}),
    ("colorado", "the Colorado", {"continent": _NA, "mouth": "Gulf of California",
                                  "length": "2330 km", "source": "the Rocky Mountains",
                                  "carved": "the Grand Canyon"}),
]

_MOUNTAINS: list[tuple] = [
    ("everest", "Mount Everest", {"height": "8849 metres", "range": "Himalayas",
                                  "continent": _AS, "border": "Nepal and China",
                                  "first ascent": "1953",
                                  "first climbers": "Edmund Hillary and Tenzing Norgay",
                                  "record": "highest mountain on Earth"}),
    ("k2", "K2", {"height": "8611 metres", "range": "Karakoram", "continent": _AS,
                  "border": "Pakistan and China", "first ascent": "1954",
                  "first climbers": "Lino Lacedelli and Achille Compagnoni",
                  "record": "second-highest mountain on Earth"}),
    ("kangchenjunga", "Kangchenjunga", {"height": "8586 metres", "range": "Himalayas",
                                        "continent": _AS, "border": "Nepal and India",
                                        "first ascent": "1955",
                                        "first climbers": "Joe Brown and George Band",
                                        "record": "third-highest mountain on Earth"}),
    ("mont_blanc", "Mont Blanc", {"range": "Alps", "continent": _EU,
                                  "border": "France and Italy", "first ascent": "1786",
                                  "first climbers": "Jacques Balmat and Michel-Gabriel Paccard",
                                  "record": "highest mountain in the Alps"}),
    ("matterhorn", "the Matterhorn", {"height": "4478 metres", "range": "Alps",
                                      "continent": _EU, "border": "Switzerland and Italy",
                                      "first ascent": "1865",
                                      "first climbers": "a team led by Edward Whymper"}),
    ("kilimanjaro", "Mount Kilimanjaro", {"height": "5895 metres", "continent": _AF,
                                          "country": "Tanzania", "first ascent": "1889",
                                          "first climbers": "Hans Meyer and Ludwig Purtscheller",
                                          "record": "highest mountain in Africa",
                                          "type": "dormant volcano"}),
    ("denali", "Denali", {"height": "6190 metres", "range": "Alaska Range", "continent": _NA,
                          "country": "the United States", "first ascent": "1913",
                          "record": "highest mountain in North America"}),
    ("aconcagua", "Aconcagua", {"height": "6961 metres", "range": "Andes", "continent": _SA,
                                "country": "Argentina", "first ascent": "1897",
                                "first climbers": "Matthias Zurbriggen",
                                "record": "highest mountain in the Americas"}),
    ("elbrus", "Mount Elbrus", {"height": "5642 metres", "range": "Caucasus",
                                "country": "Russia", "type": "dormant volcano",
                                "record": "highest mountain in Russia"}),
    ("fuji", "Mount Fuji", {"height": "3776 metres", "continent": _AS, "country": "Japan",
                            "type": "active volcano", "record": "highest mountain in Japan"}),
    ("kosciuszko", "Mount Kosciuszko", {"height": "2228 metres", "range": "Great Dividing Range",
                                        "continent": _OC, "country": "Australia",
                                        "record": "highest mountain in mainland Australia"}),
    ("vinson", "Mount Vinson", {"height": "4892 metres", "range": "Sentinel Range",
                                "continent": "Antarctica", "first ascent": "1966",
                                "record": "highest mountain in Antarctica"}),
    ("olympus", "Mount Olympus", {"continent": _EU, "country": "Greece", "first ascent": "1913",
                                  "record": "highest mountain in Greece",
                                  "known as": "the home of the Greek gods"}),
    ("table_mountain", "Table Mountain", {"height": "1085 metres", "continent": _AF,
                                          "country": "South Africa", "overlooks": "Cape Town",
                                          "type": "flat-topped mountain"}),
    ("ben_nevis", "Ben Nevis", {"height": "1345 metres", "range": "Grampian Mountains",
                                "continent": _EU, "country": "Scotland",
                                "record": "highest mountain in the British Isles"}),
]

_US = "the United States"

_INVENTIONS: list[tuple] = [
    ("telephone", "the telephone", {"inventor": "Alexander Graham Bell", "year": "1876",
                                    "country": _US, "purpose": "talk over long distances",
                                    "type": "communication device"}),
    ("printing_press", "the printing press", {"inventor": "Johannes Gutenberg",
                                              "year": "about 1440", "country": "Germany",
                                              "purpose": "print books",
                                              "key idea": "movable metal type"}),
    ("telescope", "the telescope", {"inventor": "Hans Lippershey", "year": "1608",
                                    "country": "the Netherlands",
                                    "purpose": "see distant objects",
                                    "improved by": "Galileo Galilei"}),
    ("world_wide_web", "the World Wide Web", {"inventor": "Tim Berners-Lee", "year": "1989",
                                              "developed at": "CERN",
                                              "purpose": "share documents over the internet",
                                              "type": "system of linked web pages"}),
    ("airplane", "the airplane", {"inventor": "the Wright brothers", "year": "1903",
                                  "country": _US, "first flight": "Kitty Hawk",
                                  "purpose": "carry people through the air"}),
    ("penicillin", "penicillin", {"discoverer": "Alexander Fleming", "discovery year": "1928",
                                  "discovered at": "St Mary's Hospital in London",
                                  "type": "antibiotic",
                                  "purpose": "treat bacterial infections"}, "discovery"),
    ("radio", "the radio", {"inventor": "Guglielmo Marconi", "year": "1895", "country": "Italy",
                            "purpose": "send messages without wires",
                            "type": "wireless communication device"}),
    ("dynamite", "dynamite", {"inventor": "Alfred Nobel", "year": "1867",
                              "purpose": "blast rock", "made from": "nitroglycerin",
                              "type": "explosive"}),
    ("phonograph", "the phonograph", {"inventor": "Thomas Edison", "year": "1877",
                                      "country": _US, "purpose": "record and play sound",
                                      "first recording": "Mary Had a Little Lamb"}),
    ("smallpox_vaccine", "the smallpox vaccine", {"inventor": "Edward Jenner", "year": "1796",
                                                  "country": "England",
                                                  "purpose": "prevent smallpox",
                                                  "based on": "cowpox"}),
    ("periodic_table", "the periodic table", {"inventor": "Dmitri Mendeleev", "year": "1869",
                                              "country": "Russia",
                                              "purpose": "organize the chemical elements",
                                              "type": "chart of the chemical elements"}),
    ("transistor", "the transistor", {"developed at": "Bell Labs", "year": "1947",
                                      "country": _US,
                                      "purpose": "switch and amplify electric signals",
                                      "replaced": "vacuum tubes"}),
    ("electric_battery", "the electric battery", {"inventor": "Alessandro Volta", "year": "1800",
                                                  "country": "Italy",
                                                  "purpose": "produce an electric current",
                                                  "also called": "the voltaic pile"}),
    ("ballpoint_pen", "the ballpoint pen", {"inventor": "Laszlo Biro", "year": "1938",
                                            "country": "Hungary", "purpose": "write with ink",
                                            "also called": "a biro"}),
    ("hot_air_balloon", "the hot air balloon", {"inventor": "the Montgolfier brothers",
                                                "year": "1783", "country": "France",
                                                "purpose": "carry people into the air",
                                                "record": "first aircraft to carry people"}),
    ("braille", "Braille", {"inventor": "Louis Braille", "year": "1824", "country": "France",
                            "purpose": "help blind people read", "based on": "night writing",
                            "type": "system of raised dots"}, "writing system"),
]


def _build() -> dict[str, Entity]:
    out: dict[str, Entity] = {}

    def add(entity: Entity) -> None:
        if entity.id in out:
            raise ValueError(f"duplicate entity id {entity.id}")
        unknown = set(entity.facts) - set(CATEGORIES[entity.category].attributes)
        if unknown:
            raise ValueError(f"{entity.id}: unknown attributes {sorted(unknown)}")
        out[entity.id] = entity

    for eid, name, facts, noun in _BODIES:
        add(Entity(eid, name, "body", noun, dict(facts)))
    for eid, name, facts in _COUNTRIES:
        add(Entity(eid, name, "country", "country", dict(facts)))
    for row in _ELEMENT_ROWS:
        add(Entity(row[0], row[0], "element", "element", _element_facts(row)))
    for eid, name, facts, plural in _ANIMALS:
        add(Entity(eid, name, "animal", "animal", dict(facts), plural))
    for eid, name, facts in _LANGUAGES:
        add(Entity(eid, name, "language", "programming language", dict(facts)))
    for eid, name, facts in _INSTRUMENTS:
        add(Entity(eid, name, "instrument", "instrument", dict(facts)))
    for eid, name, facts in _RIVERS:
        add(Entity(eid, name, "river", "river", dict(facts)))
    for eid, name, facts in _MOUNTAINS:
        add(Entity(eid, name, "mountain", "mountain", dict(facts)))
    for row in _INVENTIONS:
        eid, name, facts = row[:3]
        noun = row[3] if len(row) > 3 else "invention"
        add(Entity(eid, name, "invention", noun, dict(facts)))
    return out


ENTITIES: dict[str, Entity] = _build()


# --------------------------------------------------------------------------------------------
# Access and rendering
# --------------------------------------------------------------------------------------------


def entities_in(category: str) -> list[Entity]:
    return [e for e in ENTITIES.values() if e.category == category]


def fact_value(entity_id: str, attribute: str) -> str | None:
    entity = ENTITIES.get(entity_id)
    return None if entity is None else entity.facts.get(attribute)


def iter_facts() -> list[tuple[str, str, str]]:
    """Every fact as ``(entity_id, attribute, value)``."""
    return [(e.id, k, v) for e in ENTITIES.values() for k, v in e.facts.items()]


def attribute_of(entity: Entity, attribute: str) -> Attribute:
    return CATEGORIES[entity.category].attributes[attribute]


def article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def pronoun_templates(attr: Attribute) -> tuple[str, ...]:
    """Templates in which the subject may be the pronoun it/its (they start with it)."""
    return tuple(t for t in attr.templates if t.startswith(("{S}", "{P}")))


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def fill(template: str, entity: Entity, value: str, *, pronoun: bool = False,
         start: bool = True) -> str:
    """Fill one template. ``start`` capitalises the first character (sentence start)."""
    subject = "it" if pronoun else entity.name
    possessive = "its" if pronoun else entity.possessive()
    text = (template.replace("{S}", subject).replace("{P}", possessive)
            .replace("{PL}", entity.plural or entity.topic + "s")
            .replace("{a}", article(value)).replace("{v}", value))
    return _capitalise(text) if start else text


def render_fact(entity_id: str, attribute: str, *, pronoun: bool = False,
                rng: random.Random | None = None, template: int | None = None,
                start: bool = True) -> str:
    """One English sentence stating a fact, e.g. ``"Its capital is Tokyo."``.

    With ``pronoun`` the subject is it/its when the chosen template allows it (otherwise
    the name is used). ``template`` picks a template index; else ``rng`` chooses one (else
    the first). ``start=False`` leaves the first character as is (for embedding).
    """
    entity = ENTITIES[entity_id]
    attr = attribute_of(entity, attribute)
    value = entity.facts[attribute]
    choices = attr.templates
    if pronoun:
        allowed = pronoun_templates(attr)
        if allowed:
            choices = allowed
        else:
            pronoun = False
    if template is not None:
        chosen = choices[template % len(choices)]
    elif rng is not None:
        chosen = rng.choice(choices)
    else:
        chosen = choices[0]
    return fill(chosen, entity, value, pronoun=pronoun, start=start)


@dataclass(frozen=True)
class WorldStats:
    entities: int
    categories: int
    facts: int
    per_category: dict[str, int] = field(default_factory=dict)


def stats() -> WorldStats:
    per = {c: len(entities_in(c)) for c in CATEGORIES}
    return WorldStats(len(ENTITIES), len(CATEGORIES), len(iter_facts()), per)

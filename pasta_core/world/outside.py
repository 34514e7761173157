"""Requests about things the world does not hold, and the one honest answer they get.

Three kinds of prompt fall outside the world:

* everyday questions and tasks ("How do I bake bread?", "Write a poem about autumn.");
* real things the world has no facts about ("the Eiffel Tower", "chess");
* invented names, alone or with a category's noun ("the planet Zorblax", "the kelvaphone").

Each gets a short answer that says the model does not know, says what it does know, and
suggests a request it can answer. A list that mixes known and unknown things is answered part
by part: the known ones as usual, each unknown one with "I do not know anything about X."

Which topics may appear in which split is decided by hashing the topic, as entity
combinations are (``prompts.split_of_combination``), so test topics are never trained on.
"""

from __future__ import annotations

import random
import re

from pasta_core.world.facts import CATEGORIES, ENTITIES

__all__ = ["EVERYDAY", "HONEST", "REAL_UNKNOWN", "invented_name", "is_honest", "is_honest_to",
           "outside_answer", "says_unknown", "unknown_part"]

# an honest answer always holds these words (the eval's test for one)
HONEST = "I do not know"
_HONEST_RX = re.compile(r"\bI do not know\b")

EVERYDAY: tuple[str, ...] = (
    "Explain photosynthesis.", "Who wrote Hamlet?", "How do I bake bread?",
    "What is the weather like today?", "Tell me a joke.", "Translate hello into French.",
    "What is 17 times 23?", "Write a poem about autumn.", "How do vaccines work?",
    "What time is it?", "Who won the last football world cup?", "How do I fix a flat tyre?",
    "What should I cook for dinner?",
    "What is the meaning of life?", "Write a limerick about a frog.",
    "Recommend a good book.", "How tall is the Eiffel Tower?",
    "Who painted the Mona Lisa?", "What is the stock market?", "How do I learn to swim?",
    "Explain how a car engine works.", "What causes rain?", "Summarise the French Revolution.",
    "How many bones are in the human body?",
    "What is democracy?", "Give me tips for a job interview.", "How does the internet work?",
    "What is a black hole?", "Write a short story about a dragon.", "What is love?",
    "How do I make pancakes?", "Explain the theory of relativity.", "What is inflation?",
    "How far away is the nearest star?",
    "What is the best phone to buy?", "Plan a trip to Rome for me.", "What is DNA?",
    "How do I tie a tie?", "Why is the sky blue?", "What is machine learning?",
    "Tell me about the Roman Empire.",
    "What is the population of Tokyo?", "Give me a recipe for soup.",
    "Tell me about yourself.", "Can you write my essay?", "Solve x + 3 = 7.",
    "What happened in 1066?", "Describe a typical day of a doctor.",
    "How do bees make honey?", "What is the tallest building in the world?",
    "Teach me chess.", "Explain gravity to a child.",
    "What is a good name for a cat?", "Describe the rules of cricket.",
    "How do airplanes stay in the air?", "What do plants need to grow?",
)

# real things with no facts in the world (checked against the world's names in the tests)
REAL_UNKNOWN: tuple[str, ...] = (
    "the Eiffel Tower", "chess", "bananas",
    "photosynthesis", "the Roman Empire", "Shakespeare", "football", "the Mona Lisa",
    "democracy", "the Sahara desert", "volcanoes", "bread", "the Olympic Games", "penguins",
    "the harmonica", "coffee", "the Taj Mahal", "rainbows", "the Titanic", "jazz",
    "the Statue of Liberty", "tulips", "the internet", "basketball",
    "the Colosseum", "skateboarding", "origami", "earthquakes", "chocolate",
)

_SYLLABLES = ("zor", "bla", "quen", "thi", "mir", "ova", "kel", "va", "dru", "nix", "pel",
              "tra", "gho", "rin", "sal", "vex", "lum", "ora", "fen", "dax", "yul", "bri",
              "tok", "ula", "zan", "pho", "wim", "ser", "jul", "kor")

# noun a made-up thing may come with, per category
_NOUNS = {"body": "the planet {n}", "country": "the country of {n}", "element": "{n}ium",
          "animal": "the {l}", "language": "the {n} programming language",
          "instrument": "the {l}phone", "river": "the {n} River", "mountain": "Mount {n}",
          "invention": "the {l}scope"}

_KNOWN_NAMES = {e.name.lower() for e in ENTITIES.values()} | {
    e.heading.lower() for e in ENTITIES.values()}


def invented_name(rng: random.Random) -> str:
    """A made-up name, sometimes with a category's noun; never one of the world's names."""
    while True:
        n = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 2, 3))))
        name = n.capitalize()
        if rng.random() < 0.6:
            name = _NOUNS[rng.choice(sorted(_NOUNS))].format(n=n.capitalize(), l=n)
        if name.lower() not in _KNOWN_NAMES and name.lower().removeprefix("the ") not in \
                _KNOWN_NAMES:
            return name


_WHAT_I_KNOW = ("I only know a few facts about " +
                ", ".join(c.title for c in list(CATEGORIES.values())[:-1]) + " and " +
                list(CATEGORIES.values())[-1].title + ".")

_SUGGESTIONS = ("Tell me about {a} and {b}.", "Describe {a}, {b} and {c}.",
                "Give three facts about each of {a} and {b}.", "Make a study sheet on {a} and {b}.")


def outside_answer(rng: random.Random, name: str | None = None) -> str:
    """The honest answer: do not know (the named thing), what is known, one request to try."""
    first = (f"{HONEST} anything about {name}." if name else
             f"Sorry, {HONEST} that: it is outside what I learned.")
    picks = rng.sample(sorted(ENTITIES), 3)
    names = [ENTITIES[i].name for i in picks]
    suggestion = rng.choice(_SUGGESTIONS).format(a=names[0], b=names[1], c=names[2])
    suggestion = suggestion[:1].upper() + suggestion[1:]
    return f"{first} {_WHAT_I_KNOW} Try: {suggestion}"


def unknown_part(name: str) -> str:
    """One unknown thing's part of a list answer."""
    return f"{HONEST} anything about {name}."


def says_unknown(text: str, name: str) -> bool:
    """The response holds :func:`unknown_part`'s words for ``name`` (any case, "the"
    optional)."""
    core = re.escape(name.removeprefix("the ").lower())
    return re.search(rf"{HONEST.lower()} anything about (the )?{core}", text.lower()) is not None


def is_honest(text: str) -> bool:
    """Whether an answer says it does not know (the judge's test; the eval's for a refusal)."""
    return _HONEST_RX.search(text) is not None


# what an answer says it does not know: "I do not know anything about {name}."
_UNKNOWN_NAME_RX = re.compile(rf"\b{HONEST} anything about (.+?)(?=[.!?\n]|$)")


def is_honest_to(prompt: str, text: str) -> bool:
    """Whether ``text`` is an honest answer to ``prompt``: it says it does not know, and each
    thing it says it does not know is one the prompt names, as whole words ("the" optional, a
    plural "s" allowed). "I do not know anything about basket." is no honest answer to a question
    about basketball: it names a thing nobody asked about."""
    if not is_honest(text):
        return False
    asked = prompt.lower()
    for match in _UNKNOWN_NAME_RX.finditer(text):
        name = match.group(1).strip().lower().removeprefix("the ")
        if not name or not re.search(rf"(?<!\w){re.escape(name)}s?(?!\w)", asked):
            return False
    return True

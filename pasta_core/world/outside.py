"""Requests about things the world does not hold, and the one honest answer they get.

Three kinds of prompt fall outside the world:

* everyday questions and tasks: a fixed list (``EVERYDAY``: "How do I bake bread?"), and
  requests composed from a form and a topic (``compose_everyday``: "How do I sew on a button?",
  "What is a mortgage?", "Write a riddle about a lighthouse."), which only stage 2 reads
  (``prompts.everyday_requests``);
* real things the world has no facts about ("the Eiffel Tower", "chess");
* invented names, alone or with a category's noun ("the planet Zorblax", "the kelvaphone").

Each gets a short answer that says the model does not know, says what it does know, and
suggests a request it can answer. A list that mixes known and unknown things is answered part
by part: the known ones as usual, each unknown one with "I do not know anything about X."

Which topics may appear in which split is decided by hashing the topic, as entity
combinations are (``prompts.split_of_combination``), so test topics are never trained on; a
composed request's form is held out by its template's index, like any other phrasing. None of
the composed topics names anything in the world (tested), and none repeats a fixed
``EVERYDAY`` request's topic or a ``REAL_UNKNOWN`` name.
"""

from __future__ import annotations

import random
import re

from pasta_core.world.facts import CATEGORIES, ENTITIES

__all__ = ["CONCEPTS", "EVERYDAY", "FORMS", "HONEST", "REAL_UNKNOWN", "SUBJECTS", "TASKS",
           "compose_everyday", "invented_name", "is_honest", "is_honest_to", "outside_answer",
           "says_unknown", "suggested", "suggests_twice", "unknown_part"]

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

# the slots of the composed everyday requests: things to do ("How do I {task}?"), things to
# explain ("What is {concept}?"), and writing tasks ("Write {form} about {subject}.")
TASKS: tuple[str, ...] = (
    "fix a leaking tap", "train a puppy", "save money each month", "write a good CV",
    "plant a tree", "clean a laptop keyboard", "sleep better", "remove a wine stain",
    "start running", "paint a bedroom wall", "knit a scarf", "make friends at a new school",
    "study for an exam", "stop putting things off", "set up a fish tank", "fold a fitted sheet",
    "unclog a sink", "hang a picture frame", "make a weekly budget", "prepare for a marathon",
    "brew green tea", "make lemonade", "cook rice", "wrap a present", "clean windows",
    "learn to juggle", "build a birdhouse", "sharpen a kitchen knife", "reset a router",
    "back up my phone", "write a thank-you note", "organise my wardrobe",
    "keep houseplants alive", "calm down before a speech", "learn to draw faces",
    "start a podcast", "repot a cactus", "pack for a camping trip", "read faster",
    "memorise a speech", "stretch after exercise", "make pizza dough", "decorate a cupcake",
    "sew on a button", "polish shoes", "choose a laptop", "apply for a passport",
    "improve my handwriting", "start a book club", "cut my own hair", "get rid of hiccups",
    "plan a surprise party", "whistle with my fingers", "solve a Rubik's cube",
    "ask for a pay rise", "write a short email to my teacher", "wash a wool jumper",
    "learn to type faster", "fall asleep on a plane",
)
CONCEPTS: tuple[str, ...] = (
    "a mortgage", "the water cycle", "an election", "evolution", "a credit score", "recycling",
    "cloud storage", "a tax return", "the immune system", "a recession", "a sonnet",
    "a hurricane", "friction", "a metaphor", "the placebo effect", "compound interest",
    "a spreadsheet", "an allergy", "insulin", "the food chain", "minimalism", "a noun",
    "an adjective", "the Renaissance", "feudalism", "a pension", "a startup", "cybersecurity",
    "nutrition", "jet lag", "procrastination", "a sitcom", "a treaty", "a vegan diet",
    "a thermostat", "an algorithm", "a referendum", "a monarchy", "a pandemic", "humidity",
    "a fossil", "a glacier", "erosion", "a wind turbine", "a hybrid car", "a museum",
    "a mutual fund", "the nervous system", "a tsunami", "a trade union", "a podcast",
    "a search engine", "an ecosystem", "the circulatory system", "a gift card",
    "an opera", "a sundial", "a villanelle", "supply and demand", "a vaccine trial",
)
FORMS: tuple[str, ...] = (
    "a poem", "a short story", "a letter", "a speech", "a riddle", "an essay", "a slogan",
    "a diary entry", "a bedtime story", "a toast", "a product review", "a fable",
)
SUBJECTS: tuple[str, ...] = (
    "friendship", "a rainy day", "my grandmother", "a lost umbrella",
    "the first day of school", "a busy kitchen", "winter", "a city at night", "kindness",
    "a broken clock", "my best friend", "a long train journey", "the weekend", "a snowman",
    "a lighthouse", "homework", "a lonely robot", "the library", "a garden in spring",
    "courage", "a picnic", "growing up", "a cup of tea", "a new neighbour",
    "the end of the holidays", "an old bicycle", "a school trip", "a secret door",
    "the smell of rain", "a pirate ship", "a brave knight", "time travel", "a magic hat",
    "a sleepy village", "a forgotten toy", "a haunted house", "my hometown", "teamwork",
    "a rainy Monday", "a tiny mouse", "a noisy washing machine", "a paper kite",
)


def compose_everyday(template: str, rng: random.Random) -> tuple[str, str]:
    """A composed everyday request (``template`` holds ``{task}``, ``{concept}`` or ``{form}``
    and ``{subject}``) and the topic that decides its split."""
    if "{task}" in template:
        topic = rng.choice(TASKS)
        return template.format(task=topic), topic
    if "{concept}" in template:
        topic = rng.choice(CONCEPTS)
        return template.format(concept=topic), topic
    topic = rng.choice(SUBJECTS)
    return template.format(form=rng.choice(FORMS), subject=topic), topic


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

# the request an outside answer suggests: one of four, each with its own fixed things. (Three
# random things, as before, cannot be predicted, so the greedy answer wrote the likeliest one
# twice: "Make a study sheet on the flamingo and the flamingo.", 33 of 45 validation answers.)
_SUGGESTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Tell me about {a} and {b}.", ("mars", "japan")),
    ("Describe {a}, {b} and {c}.", ("gold", "violin", "nile")),
    ("Give three facts about each of {a} and {b}.", ("tiger", "python")),
    ("Make a study sheet on {a} and {b}.", ("everest", "telephone")),
)


def outside_answer(rng: random.Random, name: str | None = None) -> str:
    """The honest answer: do not know (the named thing), what is known, one request to try."""
    first = (f"{HONEST} anything about {name}." if name else
             f"Sorry, {HONEST} that: it is outside what I learned.")
    # three things are still drawn, unused, so that every example drawn after this answer is
    # the one drawn when they named the suggestion (the data outside these answers is the same)
    rng.sample(sorted(ENTITIES), 3)
    form, ids = rng.choice(_SUGGESTIONS)
    suggestion = form.format(**{k: ENTITIES[i].name for k, i in zip("abc", ids, strict=False)})
    return f"{first} {_WHAT_I_KNOW} Try: {suggestion}"


_SUGGESTION_RX = re.compile(
    "Try: (?:" + "|".join(re.escape(f.split("{a}")[0]) for f, _ in _SUGGESTIONS) + r")(.+?)\.?$",
    re.MULTILINE)


def suggested(text: str) -> list[str] | None:
    """The things an answer's "Try: …" suggestion names, in order ("the" dropped, any case), or
    None when it makes no suggestion in one of :func:`outside_answer`'s forms. A suggestion
    that names one thing twice ("Make a study sheet on the flamingo and the flamingo.") is a
    slip a reader sees at once; the world's answers always name two or three different things."""
    m = _SUGGESTION_RX.search(text)
    if m is None:
        return None
    return [n.strip().lower().removeprefix("the ") for n in re.split(r", | and ", m.group(1))]


def suggests_twice(text: str) -> bool | None:
    """Whether the answer's suggestion names one thing twice (None: it makes no suggestion)."""
    names = suggested(text)
    return None if names is None else len(names) != len(set(names))


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

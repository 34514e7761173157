"""A deterministic judge of a response to a world prompt (:class:`~.prompts.Example`).

How it reads a response
-----------------------
1. If the text holds PASTA-LANG tags it is spliced first, by the project's parser
   (:func:`pasta_core.lang.splice`, docs/PASTA_LANG.md §2–3).
2. The text is cut into sentences (``.``/``!``/``?`` + space, or a newline) and clauses
   (``, and`` / ``, so`` / ``, but`` / ``;``); list markers (``-``, ``1.``) are dropped.
3. Each clause is matched against every fact template of the world (``facts.py``). A match
   is a *recognised claim* when its subject resolves to an entity of the template's category
   that has that attribute: a name (``"Mars"``, ``"the violin's"``, ``"lions"``), or
   ``it``/``its`` = the subject of the last claim, or else the first entity named in the
   last clause that named one. The claim is *true* when its value equals the world's value
   after normalisation (case, a leading article, spaces, thousands separators). When several
   templates match, a true reading wins, then one whose value is a known value of that
   attribute. Clauses about unknown things, or attributes the entity lacks, are ignored.

The score
---------
* ``precision`` = true claims / (true claims + 3 × false claims), 1.0 when nothing is
  recognised: a false claim weighs as much as three true ones, so that one wrong fact costs
  clearly however many true ones surround it (one in twenty: precision 0.86);
* ``recall`` = facts the prompt asked for that are stated truly / facts asked for. For
  describe-style prompts (``example.free_facts``) any true facts about an entity count, up
  to the number the reference states about it;
* ``coverage`` = the share of the entities asked about that the response names; when a
  conclusion is required, the mean of that share and 1 if the conclusion is present (the
  conclusion answers the question: it weighs as much as all the entities). The conclusion is
  present when the response's last sentence contains ``example.conclusion_key`` and none of
  ``example.conclusion_distractors`` (whole words, any case);

    total = precision² × (0.6 × recall + 0.4 × coverage)      (in [0, 1])

Precision is squared so that one false fact costs more than one missing fact. A reference
response scores 1.0. The judge never raises: input that is not text is read as ``str()`` of
it, overly long input is cut to 20,000 characters, clauses over 400 characters are not
parsed for claims, and an unexpected internal error yields a zero score (logged).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from pasta_core import lang
from pasta_core.world.facts import CATEGORIES, ENTITIES, Entity
from pasta_core.world.outside import is_honest_to, says_unknown, suggests_twice

if TYPE_CHECKING:
    from pasta_core.world.prompts import Example

__all__ = [
    "Claim",
    "JudgeScore",
    "example_for_judge",
    "extract_claims",
    "judge",
    "judge_record",
    "judge_response",
    "mentioned_entities",
    "repeated_facts",
    "says_twice",
    "splice",
]

log = logging.getLogger(__name__)

MAX_CHARS = 20_000
MAX_CLAUSE = 400
W_RECALL, W_COVERAGE = 0.6, 0.4
FALSE_WEIGHT = 3  # in precision, a false claim counts as this many true ones


@dataclass(frozen=True)
class Claim:
    entity: str
    attribute: str
    value: str
    correct: bool
    text: str


@dataclass(frozen=True)
class JudgeScore:
    precision: float
    recall: float
    coverage: float
    total: float
    claims: int = 0
    true_claims: int = 0
    facts_asked: int = 0
    facts_stated: int = 0
    entities_mentioned: int = 0
    conclusion_ok: bool | None = None


_ZERO = JudgeScore(0.0, 0.0, 0.0, 0.0)

# --------------------------------------------------------------------------------------------
# Splice
# --------------------------------------------------------------------------------------------



def splice(text: str) -> str:
    """The user-facing text of an annotated response (plain text passes unchanged)."""
    return lang.splice(text) if "<" in text else text


# --------------------------------------------------------------------------------------------
# World indexes (built once)
# --------------------------------------------------------------------------------------------


def _template_regex(template: str) -> re.Pattern[str]:
    pattern = ["^"]
    for piece in re.split(r"(\{S\}|\{P\}|\{PL\}|\{v\}|\{a\})", template.rstrip(".")):
        if piece == "{S}":
            pattern.append(r"(?P<s>.+?)")
        elif piece == "{P}":
            pattern.append(r"(?P<p>.+?)")
        elif piece == "{PL}":
            pattern.append(r"(?P<pl>.+?)")
        elif piece == "{v}":
            pattern.append(r"(?P<v>.+?)")
        elif piece == "{a}":
            pattern.append(r"(?:an?)")
        else:
            pattern.append(re.escape(piece).replace(r"\ ", r"\s+"))
    pattern.append("$")
    return re.compile("".join(pattern), re.IGNORECASE)


def _template_keyword(template: str) -> str:
    """The longest literal word run of a template: a cheap prefilter before the regex."""
    pieces = re.split(r"\{S\}|\{P\}|\{PL\}|\{v\}|\{a\}", template.rstrip("."))
    return max((p.strip().lower() for p in pieces), key=len)


@dataclass(frozen=True)
class _Index:
    templates: tuple[tuple[str, str, str, re.Pattern[str]], ...]
    names: dict[str, str]
    plurals: dict[str, str]
    vocab: dict[tuple[str, str], frozenset[str]]
    mention: re.Pattern[str]
    mention_ids: dict[str, str]


def _norm(value: str) -> str:
    v = re.sub(r"\s+", " ", value.strip().strip(".!?:;\"'").strip()).lower()
    v = re.sub(r"^(?:the|a|an) ", "", v)
    return re.sub(r"(?<=\d),(?=\d{3}\b)", "", v)


def _variants(entity: Entity) -> set[str]:
    out = {entity.name, entity.heading}
    if entity.plural:
        out.add(entity.plural)
    return out | {v[:1].upper() + v[1:] for v in out}


@lru_cache(maxsize=1)
def _index() -> _Index:
    templates = tuple(
        (cat.key, attr.key, _template_keyword(t), _template_regex(t))
        for cat in CATEGORIES.values() for attr in cat.attributes.values() for t in attr.templates
    )
    names: dict[str, str] = {}
    plurals: dict[str, str] = {}
    vocab: dict[tuple[str, str], set[str]] = {}
    mention_ids: dict[str, str] = {}
    for e in ENTITIES.values():
        names[e.name.lower()] = e.id
        names.setdefault(_norm(e.name), e.id)
        if e.plural:
            plurals[e.plural.lower()] = e.id
            plurals.setdefault(_norm(e.plural), e.id)
        for a, v in e.facts.items():
            vocab.setdefault((e.category, a), set()).add(_norm(v))
        for variant in _variants(e):
            mention_ids.setdefault(variant, e.id)
    alternation = "|".join(re.escape(v) for v in sorted(mention_ids, key=len, reverse=True))
    mention = re.compile(rf"(?<![\w+#])(?:{alternation})(?![\w+#])")
    frozen_vocab = {k: frozenset(v) for k, v in vocab.items()}
    return _Index(templates, names, plurals, frozen_vocab, mention, mention_ids)


# --------------------------------------------------------------------------------------------
# Reading claims
# --------------------------------------------------------------------------------------------

_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
_CLAUSES = re.compile(r",\s+(?:and|so|but)\s+|;\s+")
_MARKER = re.compile(r"^\s*(?:[-*\u2022]\s+|\d+[.)]\s*)")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCES.split(text) if s and s.strip()]


def _clauses(text: str) -> list[str]:
    out = []
    for sentence in _sentences(text):
        for clause in _CLAUSES.split(sentence):
            clause = _MARKER.sub("", clause).strip().rstrip(".!?:;").strip()
            clause = re.sub(r"\s+", " ", clause)
            if clause:
                out.append(clause)
    return out


def _resolve(group: str, kind: str, current: str | None, idx: _Index) -> str | None:
    g = re.sub(r"\s+", " ", group.strip())
    low = g.lower()
    if kind == "s":
        if low == "it":
            return current
        return idx.names.get(low) or idx.names.get(_norm(g))
    if kind == "p":
        if low == "its":
            return current
        for suffix in ("'s", "\u2019s", "'", "\u2019"):
            if low.endswith(suffix):
                base = g[: -len(suffix)]
                return idx.names.get(base.lower()) or idx.names.get(_norm(base))
        return None
    return idx.plurals.get(low) or idx.plurals.get(_norm(g))


def _claim_in(clause: str, current: str | None, idx: _Index) -> Claim | None:
    candidates: list[Claim] = []
    lowered = clause.lower()
    for cat, attr, keyword, rx in idx.templates:
        if keyword not in lowered:
            continue
        m = rx.match(clause)
        if m is None:
            continue
        groups = m.groupdict()
        kind = "s" if groups.get("s") is not None else "p" if groups.get("p") is not None \
            else "pl"
        eid = _resolve(groups.get(kind) or "", kind, current, idx)
        entity = ENTITIES.get(eid) if eid else None
        if entity is None or entity.category != cat or attr not in entity.facts:
            continue
        value = groups.get("v") or ""
        correct = _norm(value) == _norm(entity.facts[attr])
        candidates.append(Claim(entity.id, attr, value.strip(), correct, clause))
    if not candidates:
        return None
    for c in candidates:
        if c.correct:
            return c
    for c in candidates:
        if _norm(c.value) in idx.vocab.get((ENTITIES[c.entity].category, c.attribute), ()):
            return c
    return candidates[0]


def extract_claims(text: str) -> list[Claim]:
    """Every recognised fact claim in ``text`` (already spliced), in order."""
    idx = _index()
    claims: list[Claim] = []
    current: str | None = None
    for clause in _clauses(text):
        claim = _claim_in(clause, current, idx) if len(clause) <= MAX_CLAUSE else None
        if claim is not None:
            claims.append(claim)
            current = claim.entity
            continue
        m = idx.mention.search(clause)
        if m is not None:
            current = idx.mention_ids[m.group()]
    return claims


def mentioned_entities(text: str) -> set[str]:
    idx = _index()
    return {idx.mention_ids[m.group()] for m in idx.mention.finditer(text)}


def _has_word(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w+#]){re.escape(word)}(?![\w+#])", text, re.IGNORECASE) is not None


# --------------------------------------------------------------------------------------------
# Score
# --------------------------------------------------------------------------------------------


def _recall(example: Example, claims: list[Claim]) -> tuple[float, int, int]:
    asked = list(dict.fromkeys(tuple(f) for f in example.facts))
    if not asked:
        return 1.0, 0, 0
    true_pairs = {(c.entity, c.attribute) for c in claims if c.correct}
    if not example.free_facts:
        stated = sum(1 for f in asked if f in true_pairs)
        return stated / len(asked), len(asked), stated
    need: dict[str, int] = {}
    for eid, _ in asked:
        need[eid] = need.get(eid, 0) + 1
    stated = sum(min(n, sum(1 for e, _ in true_pairs if e == eid)) for eid, n in need.items())
    return stated / len(asked), len(asked), stated


def _read(response: object) -> str:
    """What the judge reads of a response: any input as text, cut to MAX_CHARS, spliced."""
    return splice((response if isinstance(response, str) else str(response))[:MAX_CHARS])


def _score(example: Example, text: str) -> JudgeScore:
    claims = extract_claims(text)
    true_claims = sum(c.correct for c in claims)
    false_claims = len(claims) - true_claims
    precision = true_claims / (true_claims + FALSE_WEIGHT * false_claims) if claims else 1.0
    recall, asked, stated = _recall(example, claims)
    if example.outside:  # the one right answer: say so about what was asked, state nothing false
        honest = float(is_honest_to(example.prompt, text))
        return JudgeScore(precision=precision, recall=honest, coverage=honest,
                          total=precision**2 * honest, claims=len(claims),
                          true_claims=true_claims, facts_asked=0, facts_stated=0,
                          entities_mentioned=0, conclusion_ok=None)

    wanted = list(dict.fromkeys(example.entities))
    named = mentioned_entities(text)
    mentioned = sum(1 for e in wanted if e in named)
    coverage = mentioned / len(wanted) if wanted else 1.0
    if example.unknown:  # each thing the world does not hold: said not to be known
        said = sum(says_unknown(text, name) for name in example.unknown)
        coverage = (mentioned + said) / (len(wanted) + len(example.unknown))
    conclusion_ok: bool | None = None
    if example.needs_conclusion:
        sentences = _sentences(text)
        last = sentences[-1] if sentences else ""
        key = example.conclusion_key or ""
        conclusion_ok = bool(key) and _has_word(last, key) and not any(
            _has_word(last, d) for d in example.conclusion_distractors
        )
        coverage = (coverage + bool(conclusion_ok)) / 2
    total = precision**2 * (W_RECALL * recall + W_COVERAGE * coverage)
    return JudgeScore(
        precision=precision, recall=recall, coverage=coverage,
        total=min(1.0, max(0.0, total)), claims=len(claims), true_claims=true_claims,
        facts_asked=asked, facts_stated=stated, entities_mentioned=mentioned,
        conclusion_ok=conclusion_ok,
    )


def judge_response(example: Example, response: object) -> JudgeScore:
    """Score ``response`` (text, plain or PASTA-annotated) for ``example``; never raises."""
    try:
        return _score(example, _read(response))
    except Exception:  # the judge must survive any input
        log.exception("judge failed; scoring 0")
        return _ZERO


judge = judge_response  # short alias: judge(example, response_text)


def repeated_facts(response: object) -> int:
    """How many of the facts a response states are restated: a fact (entity, attribute,
    value) said a second time anywhere in the answer ("It is a reptile. It is a reptile.").
    The judge's score does not count them against an answer (each is still true); a viewer
    does. No reference answer of the world restates a fact."""
    try:
        facts = [(c.entity, c.attribute, c.value.lower())
                 for c in extract_claims(_read(response))]
    except Exception:  # like the judge, survive any input
        log.exception("repeated_facts failed; counting 0")
        return 0
    return len(facts) - len(set(facts))


def says_twice(response: object) -> bool:
    """Whether a response says something twice that a reader would notice: a fact restated
    (:func:`repeated_facts`), or a suggestion that names one thing twice ("Try: Make a study
    sheet on the flamingo and the flamingo."). Stage 2 takes its ``repeat_penalty`` off such
    a sample."""
    text = _read(response)
    return bool(suggests_twice(text)) or repeated_facts(text) > 0


# -- an example as the judge reads it (stored beside a prompt, e.g. the Decode tab's examples) --

JUDGED_FIELDS = ("shape", "splittable", "prompt", "entities", "facts", "needs_conclusion",
                 "conclusion_key", "conclusion_distractors", "free_facts", "unknown", "outside")


def judge_record(example: Example) -> dict:
    """The fields of ``example`` the judge reads, as JSON-ready values (no reference text)."""
    out = {k: getattr(example, k) for k in JUDGED_FIELDS}
    out["facts"] = [list(f) for f in example.facts]
    return out


def example_for_judge(record: dict) -> Example:
    """An Example the judge scores exactly as the one :func:`judge_record` was taken from (it
    has no reference segments: it is for judging, not for training)."""
    from pasta_core.world.prompts import Example

    fields = {k: record[k] for k in JUDGED_FIELDS if k in record}
    fields["facts"] = [tuple(f) for f in record.get("facts", [])]
    return Example(segments=[], **fields)

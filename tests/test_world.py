"""Tests of the bundled synthetic world: facts, prompt/response generators, splits, judge."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from functools import cache

import pytest

from pasta_core.world import facts as world_facts
from pasta_core.world import grammar, outside
from pasta_core.world.facts import CATEGORIES, ENTITIES, attribute_of, fill, pronoun_templates
from pasta_core.world.judge import extract_claims, judge, mentioned_entities, repeated_facts
from pasta_core.world.outside import is_honest
from pasta_core.world.prompts import (
    CORE_TEMPLATES,
    EVERYDAY_TEMPLATES,
    SHAPES,
    SPLITS,
    Example,
    Part,
    Piece,
    chatter_tasks,
    core_phrasings,
    everyday_requests,
    generate_split,
    phrasings,
    reading_drills,
    render_annotated,
    render_plain,
    round_up_tokens,
    stand_in_count_tokens,
    to_jsonl_record,
)

# A tiny, self-contained splice of the canonical form (docs/PASTA_LANG.md §2); it deliberately
# does not import pasta_core.lang.
_CHUNK = re.compile(
    r'<promise topic="([^"]*)" tokens="(\d+)"/><async topic="\1">(.*?)</async>', re.S
)


def splice(annotated: str) -> str:
    return _CHUNK.sub(lambda m: m.group(3), annotated).replace("<sync/>", "")


@cache
def examples(split: str, n: int, seed: int = 0) -> tuple[Example, ...]:
    return tuple(generate_split(split, n, seed))


def sample_all() -> list[Example]:
    return [*examples("train", 420), *examples("validation", 140), *examples("test", 140)]


# --------------------------------------------------------------------------------------------
# Facts
# --------------------------------------------------------------------------------------------


def test_world_counts() -> None:
    assert len(ENTITIES) >= 150
    assert len(CATEGORIES) >= 8
    for category in CATEGORIES:
        assert len(world_facts.entities_in(category)) >= 10, category
    for entity in ENTITIES.values():
        assert len(entity.facts) >= 5, entity.id
        assert set(entity.facts) <= set(CATEGORIES[entity.category].attributes), entity.id


def test_values_and_topics_are_clean() -> None:
    for entity in ENTITIES.values():
        topic = entity.topic
        assert 1 <= len(topic.split()) <= 3, topic
        assert not set("\"'<>") & set(topic), topic
        assert entity.name.isascii()
        for attribute, value in entity.facts.items():
            assert value and value == value.strip() and value.isascii(), (entity.id, value)
            assert not set(",;<>\"!?") & set(value), (entity.id, attribute, value)
            assert "." not in value or attribute == "file extension", (entity.id, value)
    names = [e.name.lower() for e in ENTITIES.values()]
    assert len(names) == len(set(names))


def test_every_fact_sentence_is_read_back_by_the_judge() -> None:
    for entity in ENTITIES.values():
        for attribute, value in entity.facts.items():
            attr = attribute_of(entity, attribute)
            sentences = [fill(t, entity, value) for t in attr.templates]
            sentences += [f"This is about {entity.name}. " + fill(t, entity, value, pronoun=True)
                          for t in pronoun_templates(attr)]
            for sentence in sentences:
                claims = extract_claims(sentence)
                assert len(claims) == 1, sentence
                claim = claims[0]
                assert (claim.entity, claim.attribute, claim.correct) == (
                    entity.id, attribute, True), sentence
            others = {e.facts[attribute] for e in world_facts.entities_in(entity.category)
                      if attribute in e.facts} - {value}
            for wrong in sorted(others)[:2]:
                claims = extract_claims(fill(attr.templates[0], entity, wrong))
                assert len(claims) == 1 and not claims[0].correct, (entity.id, wrong)


# --------------------------------------------------------------------------------------------
# Shapes, rendering
# --------------------------------------------------------------------------------------------


def test_shape_counts() -> None:
    assert len(SHAPES) >= 12
    splittable = sum(s.splittable for s in SHAPES.values())
    assert splittable >= 7 and len(SHAPES) - splittable >= 7
    for shape in SHAPES.values():
        assert len(shape.templates) >= 5  # at least one phrasing family per split
        assert len(set(shape.templates)) == len(shape.templates)


def test_every_shape_is_generated_in_every_split() -> None:
    for split in SPLITS:
        got = {e.shape for e in examples(split, 140 if split != "train" else 420)}
        assert got == set(SHAPES), split


def _check_tokens(annotated: str, count_tokens) -> None:
    found = list(_CHUNK.finditer(annotated))
    # every promise is checked: a pattern that matched nothing would check nothing
    assert len(found) == annotated.count("<promise "), annotated
    for m in found:
        thread = f'<async topic="{m.group(1)}">{m.group(3)}</async>'
        assert int(m.group(2)) == round_up_tokens(count_tokens(thread))
        assert int(m.group(2)) % 10 == 0 and int(m.group(2)) >= 10


def test_splice_of_annotated_is_plain() -> None:
    by_shape: dict[str, int] = {}
    for ex in sample_all():
        by_shape[ex.shape] = by_shape.get(ex.shape, 0) + 1
        annotated = render_annotated(ex)
        assert splice(annotated) == ex.plain
        assert "<" not in splice(annotated)
        assert ex.plain.strip() == ex.plain and ex.plain
        if ex.splittable:
            assert len(ex.parts) >= 2
            assert annotated.count("<promise ") == len(ex.parts)
            assert annotated.count("<async ") == len(ex.parts)
            if ex.needs_conclusion:
                assert "<sync/>" in annotated
                assert annotated.index("<sync/>") > annotated.rindex("</async>")
        else:
            assert annotated == ex.plain
        _check_tokens(annotated, stand_in_count_tokens)
    assert all(n >= 20 for n in by_shape.values()), by_shape


def test_tokens_use_the_given_counter() -> None:
    def words(text: str) -> int:
        return len(text.split()) * 3

    splittable = [ex for ex in examples("train", 420) if ex.splittable]
    assert splittable
    for ex in splittable:
        assert "<promise " in render_annotated(ex, words)
        _check_tokens(render_annotated(ex, words), words)
        _check_tokens(ex.annotated(len), len)


def test_round_up_tokens() -> None:
    assert [round_up_tokens(n) for n in (0, 1, 10, 11, 19, 20, 21)] == [10, 10, 10, 20, 20, 20,
                                                                        30]


def test_records() -> None:
    ex = examples("train", 420)[0]
    record = to_jsonl_record(ex, stand_in_count_tokens)
    assert set(record) == {"prompt", "plain", "annotated", "shape", "splittable"}
    assert record["plain"] == ex.plain and record["prompt"] == ex.prompt
    for ex in examples("train", 420):
        if ex.outside:  # nothing in the world is asked about: one honest answer
            assert not ex.entities and not ex.facts and is_honest(ex.plain)
            continue
        assert ex.entities and ex.facts
        assert all(e in ENTITIES for e in ex.entities)
        assert all(a in ENTITIES[e].facts for e, a in ex.facts)
        assert ex.prompt[:1].isupper()
        assert ex.needs_conclusion == (ex.conclusion_key is not None)


# --------------------------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------------------------


def test_splits_are_deterministic() -> None:
    first = [to_jsonl_record(e) for e in generate_split("test", 50, seed=3)]
    again = [to_jsonl_record(e) for e in generate_split("test", 50, seed=3)]
    other = [to_jsonl_record(e) for e in generate_split("test", 50, seed=4)]
    assert first == again
    assert first != other
    with pytest.raises(ValueError):
        generate_split("nope", 1)


def test_test_split_is_disjoint_from_train() -> None:
    train = [*examples("train", 420), *examples("train", 420, 1)]
    held = {"validation": examples("validation", 140), "test": examples("test", 140)}
    train_templates = {e.template_id for e in train}
    train_combos = {e.combination for e in train}
    train_prompts = {e.prompt for e in train}
    for split, exs in held.items():
        assert all(e.split == split for e in exs)
        assert not {e.template_id for e in exs} & train_templates, split
        assert not {e.combination for e in exs} & train_combos, split
        assert not {e.prompt for e in exs} & train_prompts, split
    assert not ({e.template_id for e in held["test"]}
                & {e.template_id for e in held["validation"]})
    assert not ({e.combination for e in held["test"]}
                & {e.combination for e in held["validation"]})


# --------------------------------------------------------------------------------------------
# Judge
# --------------------------------------------------------------------------------------------


def _last_occurrence(text: str, value: str) -> re.Match[str] | None:
    matches = list(re.finditer(rf"(?<!\w){re.escape(value)}(?!\w)", text))
    return matches[-1] if matches else None


def _corrupt(ex: Example, rng: random.Random) -> str | None:
    """The reference answer with one stated fact's value swapped for a wrong one."""
    segments = list(ex.segments)
    slots = [(i, None) for i, s in enumerate(segments) if isinstance(s, Piece) and s.fact]
    slots += [(i, j) for i, s in enumerate(segments) if isinstance(s, Part)
              for j, p in enumerate(s.pieces) if p.fact]
    rng.shuffle(slots)
    for i, j in slots:
        piece = segments[i] if j is None else segments[i].pieces[j]
        eid, attribute = piece.fact
        entity = ENTITIES[eid]
        value = entity.facts[attribute]
        wrong = sorted({e.facts[attribute] for e in world_facts.entities_in(entity.category)
                        if attribute in e.facts and e.facts[attribute].lower() != value.lower()})
        match = _last_occurrence(piece.text, value)
        if not wrong or match is None:
            continue
        text = piece.text[:match.start()] + rng.choice(wrong) + piece.text[match.end():]
        new_piece = replace(piece, text=text)
        if j is None:
            segments[i] = new_piece
        else:
            pieces = list(segments[i].pieces)
            pieces[j] = new_piece
            segments[i] = replace(segments[i], pieces=tuple(pieces))
        return render_plain(segments)
    return None


def _drop_last_part(ex: Example) -> str:
    segments = list(ex.segments)
    k = max(i for i, s in enumerate(segments) if isinstance(s, Part))
    del segments[k]
    if k > 0 and isinstance(segments[k - 1], Piece):
        del segments[k - 1]
    return render_plain(segments)


def test_reference_answers_score_high() -> None:
    for ex in sample_all():
        score = judge(ex, ex.plain)
        assert score.total >= 0.95, (ex.plain, score)
        assert judge(ex, render_annotated(ex)).total == pytest.approx(score.total)


def test_flawed_answers_score_clearly_lower() -> None:
    rng = random.Random(0)
    counts = {"wrong": 0, "missing": 0, "truncated": 0}
    for ex in sample_all():
        ref_score = judge(ex, ex.plain)
        ref = ref_score.total
        wrong = _corrupt(ex, rng)
        if wrong is not None:
            counts["wrong"] += 1
            assert judge(ex, wrong).total <= ref - 0.15, (wrong, judge(ex, wrong))
        # (an unknown thing's "I do not know" part is tested with the outside prompts)
        if (ex.splittable and len(set(ex.entities)) >= 2
                and not (ex.unknown and ex.parts[-1].topic in ex.unknown[0])):
            missing = _drop_last_part(ex)
            # (a part whose asked entity the answer still names, as the periodic table in
            # "Phosphorus is in period 3 of the periodic table" or a planet in the list that
            # opens "Go through all of the planets.", costs recall only)
            if set(ex.entities) & (mentioned_entities(ex.plain) - mentioned_entities(missing)):
                counts["missing"] += 1
                # one part of n missing costs its share: 0.15 up to 6 parts, then 0.9 / n
                cost = min(0.15, 0.9 / len(ex.parts))
                assert judge(ex, missing).total <= ref - cost, (missing, judge(ex, missing))
            else:  # its facts are still missed
                assert judge(ex, missing).recall < ref_score.recall, missing
        if ex.outside:  # half an honest answer is still honest
            continue
        truncated = ex.plain[: len(ex.plain) // 2]
        counts["truncated"] += 1
        assert judge(ex, truncated).total <= ref - 0.15, (truncated, judge(ex, truncated))
    assert counts["wrong"] > 600 and counts["missing"] > 300, counts


def test_conclusion_must_be_right() -> None:
    for ex in examples("train", 420):
        if ex.needs_conclusion and ex.conclusion_distractors:
            bad = ex.plain.replace(ex.conclusion_key, ex.conclusion_distractors[0])
            last_sentence = ex.plain.rsplit(". ", 1)[-1]
            if ex.conclusion_key in last_sentence:
                assert judge(ex, bad).total < judge(ex, ex.plain).total


@pytest.mark.parametrize("garbage", [
    "",
    " ",
    "\x00\x01\xff",
    "<promise topic='x' tokens='abc'/><async topic=\"x\">unclosed",
    "</async></async><sync/><sync/><promise/>",
    "It is it. Its its is is. The the the.",
    "Mars" * 5000,
    "Mars is a " + "very " * 3000 + "rocky planet.",
    ("a. " * 20000),
    "\n".join(["- 1. ,,, ;;; and, so"] * 500),
    "So the answer is yes no yes.",
    None,
    12345,
    b"bytes \xff",
    ["Mars is a rocky planet."],
])
def test_judge_never_raises(garbage: object) -> None:
    for ex in examples("train", 420)[:14]:
        score = judge(ex, garbage)
        for part in (score.precision, score.recall, score.coverage, score.total):
            assert 0.0 <= part <= 1.0
    assert repeated_facts(garbage) >= 0


def test_a_fact_said_twice_is_counted_and_no_reference_says_one_twice() -> None:
    for ex in sample_all():
        assert repeated_facts(ex.plain) == 0, ex.plain
        assert repeated_facts(ex.annotated()) == 0, ex.annotated()
    assert repeated_facts("The green sea turtle is a reptile. It is a reptile. It is a "
                          "reptile.") == 2
    # the same fact said of two entities is two facts; said in other words it is one
    assert repeated_facts("The gorilla is a mammal. The lion is a mammal.") == 0
    assert repeated_facts("Mars is a rocky planet. It has two moons. Mars is a rocky "
                          "planet.") == 1
    # inside a chunk of an annotated answer, as the viewer reads it
    assert repeated_facts('<promise topic="Io" tokens="20"/><async topic="Io">Io is a moon. '
                          "It is a moon.</async>") == 1


def test_judge_random_noise() -> None:
    rng = random.Random(7)
    alphabet = "abc XYZ.,;!?\n<>/\"'=-0123456789"
    for ex in examples("test", 140)[:28]:
        words = ex.plain.split()
        for _ in range(5):
            noise = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
            shuffled = " ".join(rng.sample(words, len(words)))
            for text in (noise, shuffled, noise + ex.plain):
                score = judge(ex, text)
                assert 0.0 <= score.total <= 1.0
        assert judge(ex, noise).total <= 0.5


@pytest.mark.slow  # renders and schedules every reference answer
def test_the_data_leaves_room_for_speed() -> None:
    """The reference answers are written so that splitting pays: the main thread writes its
    promises back to back, a promise costs 2 tokens + its topic with the world's tokenizer,
    and the parts are long enough that the reference answers of the paragraph shapes are at
    least 2x faster in PASTA than plainly (the ceiling a trained model can reach)."""
    import math

    from pasta_core.models import load_model
    from pasta_core.train.evaluate import reference_speedup

    lm = load_model("bundled:pasta-tiny")
    ceilings: dict[str, list[float]] = {}
    for ex in generate_split("test", 140, seed=0):
        at = [i for i, seg in enumerate(ex.segments) if isinstance(seg, Part)]
        if at:  # from the first promise to the last, nothing but promises
            assert all(isinstance(seg, Part) for seg in ex.segments[at[0]:at[-1] + 1])
        for part in ex.parts:
            promise = f'<promise topic="{part.topic}" tokens="40"/>'
            assert len(lm.encode(promise)) == 2 + len(lm.encode(part.topic))
        ceilings.setdefault(ex.shape, []).append(reference_speedup(lm, ex))
    geo = {k: math.exp(sum(map(math.log, v)) / len(v)) for k, v in ceilings.items()}
    for shape in ("describe_many", "study_sheet"):
        assert geo[shape] >= 2.0, geo
    # a group's answer names its members before it splits (members_sentence): main-thread work
    assert geo["describe_group"] >= 1.7, geo
    assert geo["facts_each"] >= 1.8, geo  # two facts each when many parts are asked for
    for name, shape in SHAPES.items():
        if not shape.splittable:
            assert geo[name] == pytest.approx(1.0), geo


# --------------------------------------------------------------------------------------------
# The prompt grammar, many parts, outside the world
# --------------------------------------------------------------------------------------------


def _core_index(ex: Example) -> int:
    return int(ex.template_id.rsplit("/", 1)[1])


def _held_out(options: tuple[str, ...]) -> list[str]:
    return [o for i, o in enumerate(options) if grammar.option_split(i) != "train"]


def _held_out_dressing(prompt: str) -> bool:
    """Whether a prompt opens with a held-out opener or ends with a held-out closer."""
    return (any(prompt.startswith(o) for o in _held_out(grammar.OPENERS))
            or any(prompt.endswith(c.strip()) for c in _held_out(grammar.CLOSERS)))


def test_phrasing_families_are_held_out_whole() -> None:
    train = examples("train", 420)
    test = examples("test", 140)
    assert all(grammar.option_split(_core_index(e)) == "train" for e in train)
    assert all(grammar.option_split(_core_index(e)) == "test" for e in test)
    for ex in train:  # a training prompt is never dressed in a held-out opener or closer
        assert not _held_out_dressing(ex.prompt), ex.prompt
    # the test split does use held-out dressing somewhere (else nothing is held out)
    assert any(ex.prompt.startswith(o) for ex in test for o in _held_out(grammar.OPENERS))


def test_reading_drills_are_long_training_lists_read_back_in_order() -> None:
    from pasta_core import sot
    from pasta_core.train.data import drill_sequences
    from pasta_core.world.prompts import DRILL_SIZES, split_of_combination
    from pasta_core.world.tokenizer import build_world_tokenizer

    drills = reading_drills(300, seed=3)
    assert drills == reading_drills(300, seed=3) and drills != reading_drills(300, seed=4)
    for d in drills:  # nothing held out is ever read: phrasing family, dressing, combination
        assert grammar.option_split(int(d.template_id.rsplit("/", 1)[1])) == "train"
        assert split_of_combination(list(d.entities)) == "train"
        assert not _held_out_dressing(d.prompt), d.prompt
        assert len(d.topics) in DRILL_SIZES
        assert list(d.topics) == [ENTITIES[e].topic for e in d.entities]
    assert {len(d.topics) for d in drills} == set(DRILL_SIZES)
    tok = build_world_tokenizer(512, seed=0)
    seq = drill_sequences(drills[:1], tok, tok.eos_token_id)[0]
    skeleton = tok.encode(sot.render_skeleton(list(drills[0].topics)), add_special_tokens=False)
    assert sot.SKELETON_REQUEST in tok.decode(seq.input_ids)  # asked as SoT's skeleton prompt
    # ... and what is learned is exactly the topics in the order asked, then the end
    assert [t for t in seq.labels if t != -100] == skeleton + [tok.eos_token_id]


def test_group_lists_teach_every_groups_members_as_its_describe_answers_open() -> None:
    from pasta_core.world.prompts import _GROUPS, group_lists, group_members, members_sentence

    lists = group_lists(3 * len(_GROUPS), seed=1)
    assert lists == group_lists(3 * len(_GROUPS), seed=1) != group_lists(3 * len(_GROUPS), 2)
    # every group, the held-out ones too: membership is a fact of the world
    assert {g.group for g in lists} == {g[0] for g in _GROUPS}
    for g in lists:
        assert not _held_out_dressing(g.prompt), g.prompt
        assert g.plain == members_sentence(group_members(g.group))
    assert members_sentence(group_members("the dwarf planets")) == \
        "There are 3: Ceres, Eris and Pluto."
    # a describe request over a group opens with the very sentence a group list answers
    for ex in [e for e in examples("test", 280) if e.shape == "describe_group"]:
        members = [ENTITIES[i] for i in ex.entities]
        assert ex.plain.startswith(members_sentence(members) + "\n\n"), ex.plain


def test_the_grammar_writes_lists_and_names_many_ways() -> None:
    prompts = [e.prompt for e in examples("train", 420) if e.splittable]
    assert any(" & " in p for p in prompts) and any("; " in p for p in prompts)
    assert any(":\n- " in p for p in prompts) and any(":\n1. " in p for p in prompts)
    assert any(re.search(r"\b(mars|venus|earth|jupiter|saturn)\b", p) for p in prompts)  # lower
    assert phrasings() > core_phrasings() > 10_000
    rng = random.Random(0)
    said = {grammar.say_name("the violin", rng) for _ in range(200)}
    assert {"the violin", "violin"} <= said
    assert {grammar.say_name("the lion", rng, plural="lions") for _ in range(50)} >= {"lions"}


def test_the_core_grammar_words_requests_with_each_branchs_first_options_only() -> None:
    """Stage 0 reads the core grammar (its first options, the grammar before it was widened):
    no template, opener or closer past the core; outside it, the later options are used."""
    def used(exs):
        cores = {e.template_id for e in exs}
        openers = {o for e in exs for o in grammar.OPENERS if e.prompt.startswith(o.strip())}
        return cores, openers
    later_openers = set(grammar.OPENERS[grammar.CORE_OPENERS:])
    with grammar.core_only():
        cores, openers = used(generate_split("train", 1200))
        drills = {d.template_id for d in reading_drills(300)}
    for tid in cores | drills:
        shape, index = tid.rsplit("/", 1)
        assert int(index) < CORE_TEMPLATES.get(shape, len(SHAPES[shape].templates)), tid
    assert openers and not openers & later_openers
    cores, openers = used(generate_split("train", 1200))
    assert any(int(t.rsplit("/", 1)[1]) >= CORE_TEMPLATES.get(t.rsplit("/", 1)[0], 99)
               for t in cores)
    assert openers & later_openers


def test_many_parts_up_to_eight() -> None:
    exs = [e for e in examples("train", 420) if e.splittable]
    assert max(len(e.parts) for e in exs) == 8
    assert sum(len(e.parts) >= 6 for e in exs) >= 10
    planets = [e for e in generate_split("train", 2000) if e.shape == "describe_group"
               and e.prompt.lower().rstrip(".!?").endswith("the planets")]
    for ex in planets:  # all eight, in order from the Sun
        assert [p.topic for p in ex.parts] == ["Mercury", "Venus", "Earth", "Mars", "Jupiter",
                                               "Saturn", "Uranus", "Neptune"]


def test_outside_topics_name_nothing_in_the_world() -> None:
    for text in (*outside.EVERYDAY, *outside.REAL_UNKNOWN):
        assert not mentioned_entities(text[:1].upper() + text[1:]), text
    rng = random.Random(1)
    for _ in range(200):
        name = outside.invented_name(rng)
        assert not mentioned_entities(name[:1].upper() + name[1:]), name


def test_composed_everyday_requests_are_outside_and_held_out() -> None:
    fixed = [t.lower().removeprefix("the ") for t in (*outside.EVERYDAY, *outside.REAL_UNKNOWN)]
    for topic in (*outside.TASKS, *outside.CONCEPTS, *outside.SUBJECTS):
        # nothing the world holds, and neither a fixed request's topic nor a known-unknown name
        assert not mentioned_entities(topic[:1].upper() + topic[1:]), topic
        assert not mentioned_entities(topic), topic
        low = topic.lower()
        assert not any(re.search(rf"\b{re.escape(low)}\b", f) or
                       re.search(rf"\b{re.escape(f)}\b", low) for f in fixed), topic
    train, test = everyday_requests("train", 400), everyday_requests("test", 40)
    assert everyday_requests("train", 400) == train  # deterministic
    kinds = {k for e in train for k in ("{task}", "{concept}", "{form}")
             if k in EVERYDAY_TEMPLATES[int(e.template_id.split("/")[1])]}
    assert kinds == {"{task}", "{concept}", "{form}"}
    train_topics = {e.split_key[0] for e in train}
    for ex in test:  # a test topic and wording are never trained on
        assert ex.split_key[0] not in train_topics, ex.prompt
        assert grammar.option_split(int(ex.template_id.split("/")[1])) == "test"
    for ex in (*train, *test):  # the one honest answer, judged so; nothing false passes
        assert ex.outside and not ex.entities and outside.is_honest_to(ex.prompt, ex.plain)
        assert judge(ex, ex.plain).total == 1.0, ex.prompt
        assert judge(ex, "Mars is a gas giant.").total == 0.0


def test_outside_and_partly_known_answers_are_honest_and_judged_so() -> None:
    exs = examples("test", 340)
    out = [e for e in exs if e.shape == "outside"]
    mixed = [e for e in exs if e.shape == "partly_known"]
    assert out and mixed
    for ex in out:
        assert judge(ex, ex.plain).total == 1.0
        assert judge(ex, "Mars is a gas giant.").total == 0.0  # an invented world fact
        assert judge(ex, "The answer is 42.").total == 0.0  # not honest either
        # an "I do not know" about a thing nobody asked about is not honest
        assert judge(ex, outside.unknown_part("the Zzyzxq River")).total == 0.0
    for ex in (*out, *mixed):  # what it says it does not know is what was asked
        assert outside.is_honest_to(ex.prompt, ex.plain), ex.prompt
    for ex in mixed:
        assert judge(ex, ex.plain).total == pytest.approx(1.0)
        unknown = ex.unknown[0]
        clipped = outside.unknown_part(unknown[:-3])  # a name the prompt does not hold
        assert outside.is_honest(clipped) and not outside.is_honest_to(ex.prompt, clipped)
        hidden = ex.plain.replace(outside.unknown_part(unknown), "")
        assert judge(ex, hidden).coverage < 1.0  # the unknown part must be said
    for ex in exs:  # an in-world answer never says it does not know
        if not ex.outside and not ex.unknown:
            assert not is_honest(ex.plain), ex.prompt


def test_an_outside_answers_suggestion_is_read_and_a_name_said_twice_is_caught() -> None:
    from pasta_core.world.judge import says_twice

    known = {e.name.lower().removeprefix("the ") for e in ENTITIES.values()}
    rng = random.Random(3)
    for _ in range(200):  # the world's answers suggest two or three different things
        text = outside.outside_answer(rng, rng.choice((None, "the Zorblax River")))
        names = outside.suggested(text)
        assert names is not None and len(names) in (2, 3) and len(set(names)) == len(names)
        assert set(names) <= known, names
        assert not says_twice(text)
    slip = "Sorry. Try: Make a study sheet on the flamingo and the flamingo."
    assert outside.suggested(slip) == ["flamingo", "flamingo"] and says_twice(slip)
    assert says_twice("Mars is a red planet. It is a rocky planet. Mars is a rocky planet.")
    assert outside.suggested("Mars is a rocky planet.") is None
    assert not says_twice("Mars is a rocky planet.")


def test_the_prompt_builder_words_requests_in_training_phrasings() -> None:
    from pasta_core.world.builder import KINDS

    for label, shape, index in KINDS.values():  # "a request it was trained on"
        assert grammar.option_split(index) == "train", (label, SHAPES[shape].templates[index])


def _has_chatter(prompt: str, split: str = "train") -> bool:
    did = [o for i, o in enumerate(grammar.CHATTER_DID) if grammar.option_split(i) == split]
    remarks = [o for i, o in enumerate(grammar.CHATTER_REMARKS)
               if grammar.option_split(i) == split]
    forms = [o.format(task=t) for i, o in enumerate(grammar.CHATTER_TASK_FORMS)
             if grammar.option_split(i) == split for t in outside.TASKS]
    return any(s.lower() in prompt.lower() for s in [*did, *remarks, *forms])


def test_training_requests_sometimes_open_with_chatter_and_held_out_ones_never(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A share of training-phrasing requests, in-world and outside alike, say something
    before the request; the held-out splits, stage 0's core grammar and every other draw
    are as they were without it."""
    train = generate_split("train", 600, seed=3)
    with_chatter = [e for e in train if _has_chatter(e.prompt)]
    share = len(with_chatter) / len(train)
    assert 0.1 < share < 0.3, share
    assert {e.outside for e in with_chatter} == {False, True}
    everyday = everyday_requests("train", 200, seed=1)
    assert any(_has_chatter(e.prompt) for e in everyday)
    # the chatter's everyday tasks are of the training split only
    held_tasks = [t for t in outside.TASKS if t not in chatter_tasks("train")]
    assert held_tasks and not any(f.format(task=t).lower() in e.prompt.lower() for e in train
                                  for t in held_tasks for f in grammar.CHATTER_TASK_FORMS)
    for split in ("validation", "test"):
        assert not any(_has_chatter(e.prompt, s) for e in generate_split(split, 300, seed=3)
                       for s in ("train", "validation", "test"))
    with grammar.core_only():
        assert not any(_has_chatter(e.prompt) for e in generate_split("train", 600, seed=3))
    # without chatter every request is as it was: the chatter is drawn from its own stream
    monkeypatch.setattr(grammar, "CHATTER_RATE", 0.0)
    plain = generate_split("train", 600, seed=3)
    assert [e.template_id for e in plain] == [e.template_id for e in train]
    changed = [(a, b) for a, b in zip(plain, train, strict=True) if a.prompt != b.prompt]
    assert len(changed) == len(with_chatter)
    assert all(b.prompt.lower().endswith(a.prompt.lower()[-12:]) for a, b in changed)


def test_chatter_words_a_held_out_splits_own_options_for_a_probe() -> None:
    rng = random.Random(0)
    said = {grammar.chatter(rng, "validation", chatter_tasks("validation")) for _ in range(200)}
    assert all(_has_chatter(s, "validation") and not _has_chatter(s, "train") for s in said)


def test_counted_contrasts_differ_only_in_the_names() -> None:
    """The contrast stage's fours: one counted wording, one dress, about one world entity
    (a paragraph of as many facts as asked), a thing the world does not hold (an honest answer
    naming it), several world entities (one part each, as many facts each) and a named group
    (its members, then one part each); every entity, group and thing of the training split."""
    from pasta_core.world.outside import is_honest_to, says_unknown
    from pasta_core.world.prompts import (
        COUNTED_WORDINGS,
        counted_contrasts,
        render_annotated,
        split_of_combination,
    )

    words = {"two": 2, "three": 3}
    fours = counted_contrasts(40, seed=3)
    assert [x.prompt for x in fours] == [x.prompt for x in counted_contrasts(40, seed=3)]
    assert len(fours) == 160
    starts = {w.split()[0].lower() for w in COUNTED_WORDINGS}
    for i in range(0, len(fours), 4):
        one, away, many, group = fours[i:i + 4]
        assert ((one.shape, away.shape, many.shape, group.shape)
                == ("describe_one", "outside", "facts_each", "describe_group"))
        # the same opener: everything before the counted wording's first word
        heads = set()
        for ex in (one, away, many, group):
            low = ex.prompt.lower()
            at = min(low.find(f"{s} ") for s in starts if f"{s} " in low)
            heads.add(ex.prompt[:at])
        assert len(heads) == 1, (one.prompt, away.prompt, many.prompt, group.prompt)
        k = next(words[w] for w in words if f" {w} " in one.prompt.lower())
        assert all(f" {next(w for w in words if words[w] == k)} " in ex.prompt.lower()
                   for ex in (away, many, group))
        assert not one.splittable and len(one.facts) == k and not one.outside
        assert away.outside and not away.facts and is_honest_to(away.prompt, away.plain)
        assert says_unknown(away.plain, away.unknown[0])
        assert many.splittable and len(many.entities) in (2, 3)
        assert len(many.facts) == k * len(many.entities)
        assert render_annotated(many).count("<promise") == len(many.entities)
        assert group.splittable and len(group.facts) == k * len(group.entities)
        assert render_annotated(group).count("<promise") == len(group.entities)
        assert group.plain.startswith(f"There are {len(group.entities)}: ")
        assert {split_of_combination(one.entities), split_of_combination(away.unknown),
                split_of_combination(many.entities),
                split_of_combination(group.entities)} == {"train"}


def test_the_grammar_fingerprint_sees_every_word_list(monkeypatch) -> None:
    """`train world --resume` keys the later stages on it: appending a template, an opener or
    an everyday request changes it; nothing else does."""
    from pasta_core.world import prompts

    before = prompts.grammar_fingerprint()
    assert prompts.grammar_fingerprint() == before
    shape = prompts.SHAPES["describe_one"]
    monkeypatch.setitem(prompts.SHAPES, "describe_one",
                        replace(shape, templates=(*shape.templates, "Facts on {a}?")))
    widened = prompts.grammar_fingerprint()
    assert widened != before
    monkeypatch.setitem(prompts.SHAPES, "describe_one", shape)
    assert prompts.grammar_fingerprint() == before
    monkeypatch.setattr(grammar, "OPENERS", (*grammar.OPENERS, "Yo! "))
    assert prompts.grammar_fingerprint() not in (before, widened)
    monkeypatch.setattr(grammar, "OPENERS", grammar.OPENERS[:-1])
    monkeypatch.setattr(outside, "EVERYDAY", (*outside.EVERYDAY, "How do kites fly?"))
    assert prompts.grammar_fingerprint() != before

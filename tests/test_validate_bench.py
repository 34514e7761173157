"""bench/validate.py: which outside prompts it asks, and what it counts in the answers."""

from __future__ import annotations

from types import SimpleNamespace

from .conftest import bench_script


def _validate():
    return bench_script("validate")


def test_it_asks_80_prompts_outside_the_world_and_45_of_them_for_the_suggestion():
    from pasta_core.world.prompts import generate_split

    v = _validate()
    honest, suggest = v.outside_prompts(50, 30), v.outside_prompts(30, 15)
    assert (len(honest), len(set(honest)), len(suggest)) == (80, 80, 45)
    assert suggest[:30] == honest[:30]  # the world's own: one sample, two lengths
    inside = {ex.prompt for ex in generate_split("validation", 900, seed=7) if not ex.outside}
    assert not inside & set(honest + suggest)


def test_it_counts_strict_honesty_and_doubled_suggestions(monkeypatch):
    v = _validate()
    honest = "Sorry, I do not know that: it is outside what I learned."

    def fake_run_one(lm, prompt, mode, max_new_tokens):
        if mode == "pasta":  # honest, and a suggestion that names two different things
            return SimpleNamespace(text=f"{honest} Try: Tell me about the emu and the ant.")
        # the base: an invented fact (not honest), and a suggestion that names one thing twice
        return SimpleNamespace(text="The Nile is 9 km long. Try: Tell me about the emu and "
                                    "the emu.")

    monkeypatch.setattr(v, "run_one", fake_run_one)
    got = v.outside_measures(None, None)
    assert (got["honest_pasta"], got["honest_base"], got["honest_of"]) == (80, 0, 80)
    assert got["suggests_twice_pasta"] == [0, 45]
    assert got["suggests_twice_base"] == [45, 45]


def test_its_table_shows_each_seed_and_build():
    v = _validate()
    overall = {key: 0.5 for _, key, _ in v.MEASURES}
    rows = [{"build": name, "seeds": [0, 1], "overall": {"0": overall, "1": overall}}
            for name in ("A", "B")]
    table = v.to_markdown(rows)
    assert table.splitlines()[0] == "| measure (seed 0 / seed 1) | A | B |"
    assert "| every asked entity named | 50.0% / 50.0% | 50.0% / 50.0% |" in table
    assert "| judge, PASTA | 0.500 / 0.500 | 0.500 / 0.500 |" in table


def test_the_sign_test_matches_the_binomial_by_hand():
    v = _validate()
    assert v.sign_test(0, 0) == 1.0
    assert v.sign_test(0, 5) == v.sign_test(5, 0) == 2 / 32
    # 10 against 6: 2 * (C(16,0) + … + C(16,6)) / 2**16 = 2 * 14893 / 65536
    assert abs(v.sign_test(10, 6) - 2 * 14893 / 65536) < 1e-12
    assert v.sign_test(3, 3) == 1.0


def _eval_row(prompt: str, names: bool, refused: bool = False, splittable: bool = True,
              judge: float = 0.5, repeats: bool = False, base_refused: bool = False,
              base_judge: float = 0.5) -> dict:
    return {"prompt": prompt, "splittable": splittable, "outside": False, "unknown": False,
            "pasta": {"promises": 2 if splittable else 0, "judge": judge},
            "base": {"judge": base_judge},
            "viewer": {"names_all_pasta": names, "names_all_base": True,
                       "one_promise_per_part": names, "duplicate_topic": False,
                       "refuses_pasta": refused, "repeats_pasta": repeats,
                       "refuses_base": base_refused}}


def test_builds_are_paired_prompt_by_prompt_over_every_seed():
    v = _validate()
    # A names every entity of p1 and p2, B of p2 and p3; B refuses the one in-world single fact
    a = [_eval_row("p1", True, judge=0.9), _eval_row("p2", True), _eval_row("p3", False),
         _eval_row("s", False, splittable=False)]
    # B's base refuses p3 and scores higher on p2; A's base is honest outside where B's is not
    b = [_eval_row("p1", False, judge=0.4), _eval_row("p2", True, repeats=True, base_judge=0.9),
         _eval_row("p3", True, base_refused=True),
         _eval_row("s", False, refused=True, splittable=False, judge=0.2)]
    rows = [{"build": name, "seeds": [0, 1], "outcomes": {"0": v.outcomes(r), "1": v.outcomes(r)},
             "outside_outcomes": {"o1": True, "o2": name == "B"},
             "outside_outcomes_base": {"o1": name == "A", "o2": False}}
            for name, r in (("A", a), ("B", b))]
    got = {m["measure"]: m for m in v.paired(rows[0], rows[1])}
    names = got["every asked entity named"]  # two seeds: 6 prompts, A only on p1, B only on p3
    assert (names["prompts"], names["a"], names["b"]) == (6, 4, 4)
    assert (names["a_only"], names["b_only"], names["p"]) == (2, 2, 1.0)
    refused = got["in-world prompts refused"]  # asked of every in-world prompt, parts or not
    assert (refused["prompts"], refused["a_only"], refused["b_only"]) == (8, 0, 2)
    assert (got["outside: honest"]["a"], got["outside: honest"]["b"]) == (1, 2)
    judge = got["judge, PASTA: the prompt's answer scored higher"]  # A higher on p1 and s
    assert (judge["prompts"], judge["a_only"], judge["b_only"]) == (8, 4, 0)
    twice = got["says a fact twice"]  # B on p2, under both seeds
    assert (twice["prompts"], twice["a_only"], twice["b_only"]) == (8, 0, 2)
    base_refused = got["base: in-world prompts refused"]
    assert (base_refused["prompts"], base_refused["a_only"], base_refused["b_only"]) == (8, 0, 2)
    base_judge = got["judge, base: the prompt's answer scored higher"]
    assert (base_judge["a_only"], base_judge["b_only"]) == (0, 2)
    base_honest = got["base: outside: honest"]
    assert (base_honest["prompts"], base_honest["a"], base_honest["b"]) == (2, 1, 0)
    # rows saved before a measure was kept pair every other measure, and not that one
    for o in rows[0]["outcomes"].values():
        del o["repeats"]
    older = {m["measure"] for m in v.paired(rows[0], rows[1])}
    assert "says a fact twice" not in older and "every asked entity named" in older
    table = v.paired_markdown(rows)
    assert "B against A, prompt by prompt" in table
    assert "| every asked entity named | 6 | 4 | 4 | 2 | 2 | 1.00 |" in table
    assert v.paired_markdown(rows[:1]) == ""


def test_the_chatter_probe_puts_unseen_chatter_before_validation_prompts(monkeypatch):
    from pasta_core.world import grammar
    from pasta_core.world.prompts import generate_split

    v = _validate()
    probe = v.chatter_prompts(40)
    plain = generate_split("validation", 40, seed=v.CHATTER_SEED)
    assert [ex.prompt for _, ex in probe] == [ex.prompt for ex in plain]
    held = [o for i, o in enumerate(grammar.CHATTER_REMARKS) if grammar.option_split(i)
            == "validation"] + [f"{o}." for i, o in enumerate(grammar.CHATTER_DID)
                                if grammar.option_split(i) == "validation"]
    assert all(p.endswith(ex.prompt) and p != ex.prompt for p, ex in probe)
    assert any(any(h in p for h in held) for p, _ in probe)

    from pasta_core.lang import parse_document

    refusal = "Sorry, I do not know that: it is outside what I learned."

    def fake_run_one(lm, prompt, mode, max_new_tokens):  # a trace as `viewer_measures` reads it
        text = refusal if mode == "pasta" else "Mars is a planet."
        return SimpleNamespace(text=text, document=parse_document(text))

    monkeypatch.setattr(v, "run_one", fake_run_one)
    got = v.chatter_measures(None, None, 40)
    in_world = [ex for _, ex in probe if not ex.outside and not ex.unknown]
    assert len(got["refused"]) == len(in_world) and all(got["refused"].values())
    assert not any(got["names_all"].values())
    assert len(got["honest"]) == sum(ex.outside for _, ex in probe)


def test_rows_of_one_build_are_merged_and_chatter_is_paired():
    v = _validate()
    overall = {"0": {key: 0.5 for _, key, _ in v.MEASURES}}
    a_eval = {"build": "A", "n": 4, "seeds": [0], "overall": overall,
              "outcomes": {"0": v.outcomes([_eval_row("p1", True)])}}
    chatter = {"refused": {"c1": True, "c2": True}, "names_all": {"c3": False},
               "names_all_base": {"c3": True}, "honest": {}}
    a_chat = {"build": "old", "n": 4, "seeds": [], "chatter_outcomes": chatter}
    b = {"build": "B", "n": 4, "seeds": [0], "overall": overall,
         "outcomes": {"0": v.outcomes([_eval_row("p1", True)])},
         "chatter_outcomes": {**chatter, "refused": {"c1": False, "c2": False},
                              "names_all": {"c3": True}}}
    rows = v.merge_rows([a_eval, a_chat, b], {"old": "A"})
    assert [r["build"] for r in rows] == ["A", "B"] and rows[0]["seeds"] == [0]
    got = {m["measure"]: m for m in v.paired(rows[0], rows[1])}
    refused = got["after chatter: in-world prompts refused"]
    assert (refused["a"], refused["b"], refused["a_only"], refused["b_only"]) == (2, 0, 2, 0)
    assert got["after chatter: every asked entity named"]["b_only"] == 1
    assert got["every asked entity named"]["prompts"] == 1
    assert "| after chatter: in-world prompts refused | 2 of 2 | 0 of 2 |" in v.to_markdown(rows)

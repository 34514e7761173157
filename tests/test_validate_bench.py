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

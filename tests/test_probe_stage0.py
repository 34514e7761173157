"""bench/probe_stage0.py: which prompts it asks, and what it counts in the answers."""

from __future__ import annotations

from types import SimpleNamespace

from .conftest import bench_script


def _probe():
    return bench_script("probe_stage0")


def test_it_asks_list_prompts_in_the_wording_it_is_told():
    probe = _probe()
    held_out, core = probe.list_prompts(60, core=False), probe.list_prompts(60, core=True)
    assert held_out and core
    assert all(len(ex.entities) >= 2 for ex in held_out + core)
    assert {ex.prompt for ex in held_out}.isdisjoint({ex.prompt for ex in core})


def test_an_answer_counts_only_when_it_names_every_asked_entity(monkeypatch):
    from pasta_core.world.facts import ENTITIES

    probe = _probe()
    examples = probe.list_prompts(40, core=False)[:6]

    def answer(names: slice):
        def fake_decode(lm, prompt, mode, max_new_tokens):
            ex = next(e for e in examples if e.prompt == prompt)
            said = [ENTITIES[i].name for i in ex.entities][names]
            return SimpleNamespace(text=" ".join(f"{n[:1].upper()}{n[1:]} is here." for n in said))
        return fake_decode

    monkeypatch.setattr(probe, "decode", answer(slice(None)))
    assert probe.names_all(None, examples) == len(examples)
    monkeypatch.setattr(probe, "decode", answer(slice(0, 1)))  # only the first entity
    assert probe.names_all(None, examples) == 0

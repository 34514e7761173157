"""The methods comparison (`eval --methods`): every method on the same prompts, its figures,
which heuristic a PASTA point dominates, and the files it writes."""

from __future__ import annotations

import json

import pytest

from pasta_core.models import load_model
from pasta_core.train import pareto


def _overall(**points: tuple[float, float]) -> dict:
    return {m: {"n": 1, "theoretical": t, "wall": t, "judge": j} for m, (t, j) in points.items()}


def test_dominance_needs_both_axes_and_one_strictly() -> None:
    o = _overall(sequential=(1.0, 0.8), sot=(1.5, 0.5), apar=(1.4, 0.9),
                 **{"pasta-stage1": (1.6, 0.6), "pasta-stage2": (1.8, 0.7)})
    got = pareto.dominance(o)
    assert got["sot"] == "pasta-stage1"  # faster and better than SoT
    assert got["apar"] is None  # apar's judge is higher than every PASTA point's
    tie = _overall(sot=(1.5, 0.5), **{"pasta-stage2": (1.5, 0.5)})
    assert pareto.dominance(tie)["sot"] is None  # equal on both is not domination


def test_methods_in_checks_names_and_folders(tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown method"):
        pareto.methods_in(["sequential", "magic"], tmp_path)
    with pytest.raises(ValueError, match="no model folder pasta-tiny-apar"):
        pareto.methods_in(["apar"], tmp_path)
    for folder in ("pasta-tiny-base", "pasta-tiny", "stage2-lam0.5", "stage2-lam2"):
        (tmp_path / folder).mkdir()
    got = [m.name for m in pareto.methods_in(["sot", "pasta-stage2"], tmp_path)]
    # sequential comes first (the reference), then the λ sweep found beside stage 2
    assert got == ["sequential", "sot", "pasta-stage2", "pasta-lam0.5", "pasta-lam2"]


def test_compare_scores_every_method_on_the_same_prompts(tmp_path) -> None:
    lm = load_model("random:llama")
    methods = [pareto.METHODS[m] for m in ("sequential", "sot", "apar")]
    models = {m.folder: lm for m in methods}
    result = pareto.compare(models, methods, "test", 4, max_new_tokens=12, progress=False)
    assert result["n"] == 4 and len(result["rows"]) == 4
    for row in result["rows"]:
        assert set(row) >= {"sequential", "sot", "apar", "shape", "independent"}
        assert row["sequential"]["theoretical"] == pytest.approx(1.0)  # its own reference
        for m in ("sot", "apar"):
            r = row[m]
            assert r["theoretical"] == pytest.approx(
                row["sequential"]["tokens_total"] / r["steps"])
    assert set(result["overall"]) == {"sequential", "sot", "apar"}
    assert set(result["dominance"]) == {"sot", "apar"}
    pareto.write(result, tmp_path)
    assert json.loads((tmp_path / "pareto.json").read_text())["n"] == 4
    md = (tmp_path / "pareto.md").read_text()
    assert "Independent parts vs dependent steps" in md and "`sot`" in md
    svg = (tmp_path / "pareto.svg").read_text()
    assert svg.startswith("<svg") and svg.count("<circle") == 6  # 3 methods × 2 speed-ups


def test_the_comparison_goes_into_each_compared_models_card_once(tmp_path) -> None:
    result = {"split": "test", "n": 1, "methods": ["sequential", "sot"],
              "overall": _overall(sequential=(1.0, 0.5), sot=(1.2, 0.4)),
              "by_kind": {}, "by_shape": {}, "dominance": {"sot": None}}
    (tmp_path / "pasta-tiny-base").mkdir()
    card = tmp_path / "pasta-tiny-base" / "README.md"
    card.write_text("# pasta-tiny-base\n\nmetrics\n")
    methods = [pareto.METHODS["sequential"], pareto.METHODS["sot"]]
    for _ in range(2):  # a second comparison replaces the first one's section
        assert pareto.update_cards(result, tmp_path, methods) == [card]
    text = card.read_text()
    assert text.startswith("# pasta-tiny-base\n\nmetrics\n")
    assert text.count(pareto.CARD_SECTION) == 1 and "**not dominated**" in text

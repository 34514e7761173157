"""The benchmark: side-by-side runs, medians, and measures computed from the same Traces."""

import json

import pytest

from pasta_core import load_model, metrics
from pasta_core.bench import bench, read_prompts, write


def test_read_prompts(tmp_path):
    assert len(read_prompts("world:test:5")) == 5
    (tmp_path / "p.txt").write_text("first\n\nsecond\n")
    assert read_prompts(str(tmp_path / "p.txt")) == ["first", "second"]
    (tmp_path / "p.jsonl").write_text('{"prompt": "a"}\n{"prompt": "b"}\n')
    assert read_prompts(str(tmp_path / "p.jsonl")) == ["a", "b"]


@pytest.mark.slow  # several decoders side by side, repeated
def test_bench_runs_side_by_side_and_writes_results(tmp_path):
    lm = load_model("random:llama")
    result = bench(lm, lm, ["Tell me about Mars.", "Name a river."], repeats=3,
                   max_new_tokens=12, progress=False)
    assert len(result["rows"]) == 2
    for row in result["rows"]:
        for k in ("base_plain", "pasta", "pasta_seq", "generate"):
            assert len(row[k]["wall_s_all"]) == 3
            assert sorted(row[k]["wall_s_all"])[1] == row[k]["wall_s"]  # the median
        assert row["theoretical_speedup"] == metrics.theoretical_speedup(
            row["base_plain"]["tokens"], row["pasta"]["steps"])
        # the same greedy model decoded by our engine and by generate() writes as many tokens
        assert row["base_plain"]["tokens"] == row["generate"]["tokens"]
    o = result["overall"]
    assert o["host_share_of_forward"] > 0 and o["peak_memory_mb"] > 0
    write(result, tmp_path)
    assert json.loads((tmp_path / "bench.json").read_text())["overall"] == o
    assert "wall-clock speed-up" in (tmp_path / "bench.md").read_text()
    assert (tmp_path / "bench.html").stat().st_size > 100_000  # plotly.js embedded: offline

"""The web app driven through `gradio_client` against a launched `python app.py`: a run streams
through the one decoding slot, its numbers equal the CLI's, Stop ends it within a step, bad
input is a clear message, step mode holds and frees the slot, the Learn tab needs no model."""

from __future__ import annotations

import html
import json
import re
import time
from pathlib import Path

import httpx
import pytest

from pasta_core.settings import DEFAULT_METHODS

from .conftest import ROOT, assert_same, run_cli, without_timings

gradio_client = pytest.importorskip("gradio_client")

# slow tier (`pytest -m "not slow"` skips it): a launched app.py driven through gradio_client
pytestmark = pytest.mark.slow


EXAMPLES = json.loads((ROOT / "assets" / "examples.json").read_text())["examples"]
EXAMPLE = EXAMPLES[0]  # two parts, then a sync: forks, a wait and a join
SEED = 3


def decode_args(prompt: str, model: str = "random:llama", mode: str = "both",
                max_new: int = 256, force: str | None = None, seed: int = SEED,
                hub: str = "", methods: tuple[str, ...] = DEFAULT_METHODS) -> tuple:
    """The Decode tab's inputs, in the order of the `/decode` endpoint."""
    return (prompt, model, hub, mode, max_new, 8, 0.0, 1.0, seed, force is not None, force or "",
            list(methods))


def plain(answer_html: str) -> str:
    """The answer's text: it is shown as escaped plain text, never rendered as Markdown."""
    m = re.fullmatch(r"<div class='answer-text'>(.*)</div>", answer_html, re.S)
    assert m, answer_html
    return html.unescape(m.group(1))


@pytest.fixture(scope="module")
def client(server):
    return gradio_client.Client(server + "/", verbose=False)


@pytest.fixture(scope="module")
def cli_both(tmp_path_factory):
    """The CLI's `decode --mode both --json` of the example, teacher-forced, same seed."""
    path = tmp_path_factory.mktemp("forced") / "answer.txt"
    path.write_text(EXAMPLE["answer"])  # no trailing newline: the very text the UI forces
    return run_cli("decode", "--model", "random:llama", "--prompt", EXAMPLE["prompt"], "--mode",
                   "both", "--seed", str(SEED), "--force-file", str(path), "--json")


def card_values(summary_html: str) -> dict[str, str]:
    return dict(re.findall(r"data-metric='([^']+)' data-value='([^']+)'", summary_html))


def test_a_run_streams_lanes_and_its_numbers_equal_the_cli(client, cli_both):
    job = client.submit(*decode_args(EXAMPLE["prompt"], force=EXAMPLE["answer"]),
                        api_name="/decode")
    updates = [out for out in job]
    final = job.result()
    status, lanes, answer, annotated, summary, *_figs, replay, download, race_table = final
    assert race_table == ""  # a two-run race has its headline cards, no methods table
    # streamed: lanes were drawn while the PASTA run was still going, one lane per thread
    running = [u[1] for u in updates if "rs-running" in u[1]]
    assert running, "no update showed a running run"
    assert len(updates) >= 3
    assert lanes.count("data-thread='") >= 3 + 1  # main + 2 chunks (PASTA) + the sequential lane
    assert "waiting at sync" in "".join(running) or "sync" in lanes
    assert "status-done" in status
    # the downloadable trace is the CLI's JSON: same tokens, steps, positions, log-probs
    trace = json.loads(Path(download["value"] if isinstance(download, dict) else download)
                       .read_text())
    for key in ("wall_speedup",):  # a timing ratio; everything else is deterministic
        trace.pop(key), cli_both.pop(key, None)
    assert_same(without_timings(trace), without_timings(cli_both))
    assert plain(answer) == cli_both["pasta"]["text"]
    assert annotated == cli_both["pasta"]["annotated"]
    # the numbers shown are the trace's, exactly
    cards = card_values(summary)
    for run in ("pasta", "sequential"):
        for key in ("steps", "tokens_total", "parallelism"):
            assert cards[f"{run}.{key}"] == repr(cli_both[run][key]), (run, key)
        assert cards[f"{run}.wall_s"] == repr(trace[run]["wall_s"])
    assert cards["theoretical_speedup"] == repr(cli_both["theoretical_speedup"])
    assert cards["pasta.kv_tokens"] == repr(cli_both["pasta"]["kv_tokens"])
    rec = json.loads(replay)  # the race replay's recording: both runs, with their timestamps
    assert [r["run"] for r in rec["runs"]] == ["pasta", "sequential"]
    assert [r["steps"] for r in rec["runs"]] == [trace["pasta"]["steps"],
                                                   trace["sequential"]["steps"]]
    for r, run in zip(rec["runs"], ("pasta", "sequential"), strict=True):
        # named fields (pasta_core.view's replay schema), not positions in a list
        assert all(isinstance(e, dict) and {"kind", "t"} <= e.keys() for e in r["events"])
        assert sum(e["tokens"] for e in r["events"] if e["kind"] == "text") == \
            trace[run]["tokens_total"]
        assert [t["id"] for t in r["threads"]] == [t["id"] for t in trace[run]["threads"]]


def test_the_endpoints_take_the_form_by_name(client):
    """The Decode tab's handlers take the form by name: the endpoints' parameters are the
    form's fields, in the order `decode_args` passes them, so keyword calls work too."""
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    names = ["prompt", "model", "hub_id", "mode", "max_new", "threads", "temperature", "top_p",
             "seed", "force_on", "force_text", "methods"]
    assert [p["parameter_name"] for p in api["/decode"]["parameters"]] == names
    assert [p["parameter_name"] for p in api["/step_start"]["parameters"]] == \
        [n for n in names if n not in ("mode", "methods")]
    form = dict(zip(names, decode_args("hi", mode="pasta", max_new=3), strict=True))
    status, lanes, *_ = client.predict(**form, api_name="/decode")
    assert "status-done" in status and "data-thread='0'" in lanes


def test_a_methods_race_through_the_endpoint_gives_its_table_and_trace(client):
    """Mode methods on a random model: every method forced in its own form, one table row per
    method (no judge: a random model's prompt here is not an example), the download is
    the CLI's methods JSON."""
    args = decode_args(EXAMPLE["prompt"], mode="methods", force=EXAMPLE["answer"],
                       methods=("apar", "sot", "sequential"))
    status, lanes, *_, download, race_table = client.predict(*args, api_name="/decode")
    assert "status-done" in status
    assert re.findall(r"<section class='run run-(\w+)", lanes) == ["sequential", "sot", "apar"]
    assert re.findall(r"<tr data-method='(\w+)'", race_table) == ["sequential", "sot", "apar"]
    trace = json.loads(Path(download["value"] if isinstance(download, dict) else download)
                       .read_text())
    assert trace["methods"] == ["sequential", "sot", "apar"]
    assert trace["reference"] == "sequential" and set(trace["runs"]) == set(trace["methods"])
    with pytest.raises(Exception, match="2 to 4"):
        client.predict(*decode_args("hi", mode="methods", methods=("pasta",)),
                       api_name="/decode")
    with pytest.raises(Exception, match="got 0"):  # none ticked is not the default methods
        client.predict(*decode_args("hi", mode="methods", methods=()), api_name="/decode")


def test_a_long_run_streams_many_updates_each_further_along(client):
    # counts and order, not a rate: a busy shared CPU slows every step, not the order. The
    # lanes refresh at most 16 times a second, so the run must last well over a second on a
    # fast idle machine too: a race of the bundled model (two forwards a step), forced
    # through a few hundred tokens (a random model's 500 steps took 0.3 s)
    answer = "The Nile is a river in Africa. It flows through Cairo. " * 30
    job = client.submit(*decode_args("Tell me about the Nile.", model="bundled:pasta-tiny",
                                     mode="both", max_new=600, force=answer),
                        api_name="/decode")
    steps = []
    for out in job:
        if "rs-running" in out[1]:
            m = re.search(r"data-k='steps'>(\d+) steps<", out[1])
            assert m, "a running update without its step count"
            steps.append(int(m.group(1)))
    final = job.result()
    done = re.search(r"data-k='steps'>(\d+) steps<", final[1])
    assert done and "rs-done" in final[1]
    assert len(steps) >= 5, steps
    assert steps == sorted(steps) and steps[0] < steps[-1] <= int(done.group(1)), steps
    assert len(set(steps)) >= 5, steps  # the lanes moved on between updates, many times


def test_stop_ends_the_run_within_one_step_and_frees_the_slot(client, server):
    job = client.submit(*decode_args("Tell me a long story.", mode="pasta", max_new=600),
                        api_name="/decode")
    for out in job:
        if "rs-running" in out[1]:
            break
    t0 = time.perf_counter()
    status, lanes, *_ = client.predict(api_name="/stop")
    assert "status-stopped" in status and "data-thread='0'" in lanes
    while True:
        q = httpx.get(server + "/api/queue").json()
        last = q["recent"][-1]
        if last["state"] != "running":
            break
        assert time.perf_counter() - t0 < 5, "the run did not stop"
        time.sleep(0.05)
    assert last["state"] == "stopped" and last["end_reason"] == "stopped"
    assert last["steps"] < 600 and q["running"] == 0
    # the slot is free: the next run goes through at once
    out = client.predict(*decode_args("hi", mode="pasta", max_new=5), api_name="/decode")
    assert "status-done" in out[0]


def test_stop_with_nothing_run_changes_nothing(server):
    fresh = gradio_client.Client(server + "/", verbose=False)
    out = fresh.predict(api_name="/stop")
    assert "Nothing is running" not in str(out) and "status-stopped" not in str(out)


def test_stop_after_the_last_token_keeps_the_finished_result_whole(server):
    fresh = gradio_client.Client(server + "/", verbose=False)
    done = fresh.predict(*decode_args(EXAMPLE["prompt"], force=EXAMPLE["answer"]),
                         api_name="/decode")
    assert "status-done" in done[0]
    status, lanes, answer, _annotated, summary, *_ = fresh.predict(api_name="/stop")
    assert "status-done" in status and "Stopped" not in status
    assert "rs-stopped" not in lanes and "data-metric='wall_speedup'" in summary
    assert plain(answer) == plain(done[2])


def test_measure_races_n_times_and_reports_median_and_range(client):
    out = client.predict(2, *decode_args(EXAMPLE["prompt"], force=EXAMPLE["answer"]),
                         api_name="/measure")
    assert "data-races='2'" in out and "median" in out and "range" in out
    assert "in theory" in out


@pytest.mark.parametrize("args, needle", [
    (decode_args("   ", mode="pasta"), "prompt is empty"),
    (decode_args("hi", hub="nope/nope"), "Hub id"),
    (decode_args("hi", model="random:nonexistent"), "not in the list of choices"),
    (decode_args("hi", hub="random:nonexistent"), "not offered here"),
    (decode_args("hi", force='<promise topic="a"/>no block'), "PASTA-LANG error"),
    (decode_args("hi", max_new=100_000), "maximum"),
    (("hi", "random:llama", "", "both", 10, 8, 0.0, 1.0, 0, True, "  "), "answer box is empty"),
])
def test_bad_input_is_a_clear_message_and_nothing_breaks(client, server, args, needle):
    with pytest.raises(Exception) as err:
        client.predict(*args, api_name="/decode")
    assert needle in str(err.value)
    assert httpx.get(server + "/v1/models").status_code == 200


def test_step_mode_takes_the_slot_per_press_one_step_each(client, server):
    # prompt, model, Hub id, max new tokens, threads, temperature, top-p, seed, force on, force
    info, fig, _lanes = client.predict(EXAMPLE["prompt"], "random:llama", "", 256, 8, 0.0, 1.0,
                                      SEED, True, EXAMPLE["answer"], api_name="/step_start")
    assert "Prefill done" in info
    q = httpx.get(server + "/api/queue").json()  # between presses the slot is free for others
    assert q["running"] == 0 and q["recent"][-1]["mode"] == "step"
    assert q["recent"][-1]["state"] == "done"
    for k in range(1, 4):
        info, fig, _lanes = client.predict(api_name="/step_next")
        assert f"Step {k}</b>" in info
        presses = [j for j in httpx.get(server + "/api/queue").json()["recent"]
                   if j["mode"] == "step"]
        assert presses[-1]["steps"] == k and presses[-1]["state"] == "done"
    plot = json.loads(fig["plot"]) if isinstance(fig, dict) and "plot" in fig else fig
    heat = next(t for t in plot["data"] if t["type"] == "heatmap")
    assert len(heat["z"]) == len(heat["y"]) >= 1  # one row per token fed in step 3
    info, _fig, _lanes = client.predict(api_name="/step_stop")
    q = httpx.get(server + "/api/queue").json()
    assert q["running"] == 0 and q["waiting"] == 0
    with pytest.raises(Exception, match="Start step mode"):
        client.predict(api_name="/step_next")


def test_learn_tab_needs_no_model_and_its_speedup_is_the_interpreters(client, cli_both):
    structure, errors, spliced, _tokens, _mask, speed = client.predict(EXAMPLE["answer"],
                                                                       api_name="/learn")
    assert spliced == cli_both["pasta"]["text"]
    assert "No PASTA-LANG errors" in errors and "promise #2" in structure
    # the Learn tab tokenizes with the bundled model's tokenizer when it is shipped: compare
    # with a real forced run of a model that uses that same tokenizer
    from pasta_core import decode, load_model
    from ui.learn import tokenizer

    spec = "bundled:pasta-tiny" if tokenizer()[1] == "bundled:pasta-tiny" else "random:llama"
    run = decode(load_model(spec), EXAMPLE["prompt"], mode="both", force=EXAMPLE["answer"])
    assert card_values(speed)["learn.speedup"] == repr(run.theoretical_speedup)
    _s, errors, *_ = client.predict('<promise topic="x"/>oops</async>', api_name="/learn")
    assert "unfulfilled_promise" in errors and "stray_close" in errors


def test_an_unavailable_default_model_is_a_notice_not_a_crash(tmp_path):
    from ui.config import SpaceConfig
    from ui.jobs import JobQueue, ModelRegistry
    from ui.web import App

    cfg = SpaceConfig(default_model="bundled:does-not-exist",
                      models=("bundled:does-not-exist", "random:llama"))
    registry = ModelRegistry(cfg)
    models, pick, note = App(cfg, registry, JobQueue(cfg, registry)).model_choices()
    assert models == ["random:llama"] and pick == "random:llama"
    assert "not available" in note and "teacher-force" in note

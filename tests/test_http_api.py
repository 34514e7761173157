"""The HTTP API against a launched `python app.py`: SSE events, OpenAI chat, disconnects, errors."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from httpx_sse import connect_sse

from .conftest import assert_same, run_cli, without_timings

# slow tier (`pytest -m "not slow"` skips it): a launched app.py over HTTP
pytestmark = pytest.mark.slow


PROMPT = "Describe two planets, then compare them."
FORCED = (
    "Two planets:"
    '<promise topic="mars" tokens="20"/><async topic="mars"> Mars is red and cold.</async>'
    '<promise topic="venus" tokens="20"/><async topic="venus"> Venus is hot.</async>'
    "<sync/> Venus is warmer."
)


@pytest.fixture(scope="module")
def forced_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("forced") / "answer.txt"
    path.write_text(FORCED)
    return path


def read_stream(url: str, body: dict) -> list[tuple[float, str, dict]]:
    events = []
    with httpx.Client(timeout=120) as client:
        with connect_sse(client, "POST", url + "/api/decode/stream", json=body) as source:
            assert source.response.status_code == 200
            for sse in source.iter_sse():
                events.append((time.perf_counter(), sse.event, json.loads(sse.data)))
    return events


def test_sse_reads_a_whole_run_live_and_done_equals_the_cli(server, forced_file):
    body = {"prompt": PROMPT, "model": "random:llama", "mode": "pasta", "force": FORCED,
            "seed": 3}
    events = read_stream(server, body)
    kinds = [k for _, k, _ in events]
    assert kinds[0] == "run_start" and kinds[-1] == "done"
    for needed in ("thread_start", "tokens", "step", "thread_wait", "thread_end"):
        assert needed in kinds
    assert all(data["type"] == kind for _, kind, data in events)
    trace = events[-1][2]["trace"]
    cli = run_cli("decode", "--model", "random:llama", "--prompt", PROMPT, "--seed", "3",
                  "--force-file", str(forced_file), "--json")
    assert_same(without_timings(trace), without_timings(cli))
    assert trace["text"] == "Two planets: Mars is red and cold. Venus is hot. Venus is warmer."


def test_events_arrive_while_decoding_is_still_going(server):
    body = {"prompt": "Tell me a long story.", "model": "random:llama", "max_new_tokens": 400}
    events = read_stream(server, body)
    first_tokens = next(t for t, k, _ in events if k == "tokens")
    done_at, _, done = events[-1]
    wall = done["trace"]["wall_s"]
    assert done["trace"]["tokens_total"] > 100
    # streamed, not buffered: most of the run's time passes between the first tokens and done
    assert done_at - first_tokens > 0.5 * wall > 0


def test_get_with_query_parameters(server):
    with httpx.Client(timeout=60) as client:
        with connect_sse(client, "GET", server + "/api/decode/stream",
                         params={"prompt": "hi", "max_new_tokens": 5, "mode": "both"}) as src:
            events = [(s.event, json.loads(s.data)) for s in src.iter_sse()]
    done = [d for k, d in events if k == "done"]
    assert [d["run"] for d in done] == ["pasta", "sequential"]
    assert all(d["trace"]["tokens_total"] == 5 for d in done)


def test_openai_client_with_and_without_streaming_matches_the_cli(server):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=server + "/v1", api_key="unused")
    cli = run_cli("decode", "--model", "random:qwen2", "--prompt", "Tell me about rivers.",
                  "--max-new-tokens", "40", "--json")
    messages = [{"role": "user", "content": "Tell me about rivers."}]
    full = client.chat.completions.create(model="random:qwen2", messages=messages, max_tokens=40)
    assert full.choices[0].message.content == cli["text"]
    finish_cli = "length" if cli["end_reason"] == "max_new_tokens" else "stop"
    assert full.usage.completion_tokens == cli["tokens_total"]
    assert full.choices[0].finish_reason == finish_cli
    extra = full.model_extra["pasta"]
    assert extra["steps"] == cli["steps"] and extra["kv_tokens"] == cli["kv_tokens"]
    parts, finish = [], None
    for chunk in client.chat.completions.create(model="random:qwen2", messages=messages,
                                                max_tokens=40, stream=True):
        if chunk.choices:
            parts.append(chunk.choices[0].delta.content or "")
            finish = chunk.choices[0].finish_reason or finish
    assert "".join(parts) == cli["text"] and finish == finish_cli
    models = [m.id for m in client.models.list().data]
    assert "random:llama" in models and "random:qwen2" in models


def test_chat_extension_fields_select_the_mode(server):
    body = {"model": "random:llama", "max_tokens": 12, "mode": "sequential",
            "messages": [{"role": "user", "content": "Name a planet."}]}
    r = httpx.post(server + "/v1/chat/completions", json=body, timeout=60).json()
    cli = run_cli("decode", "--model", "random:llama", "--prompt", "Name a planet.",
                  "--max-new-tokens", "12", "--mode", "sequential", "--json")
    assert r["pasta"]["mode"] == "sequential"
    assert r["choices"][0]["message"]["content"] == cli["text"]


def test_disconnect_stops_the_run_and_frees_the_slot(server):
    with httpx.Client(timeout=60) as client:
        with connect_sse(client, "POST", server + "/api/decode/stream",
                         json={"prompt": "Go on forever.", "max_new_tokens": 600}) as src:
            for sse in src.iter_sse():
                if sse.event == "tokens":
                    break  # leave mid-run: the context manager closes the connection
    deadline = time.time() + 15
    while True:
        status = httpx.get(server + "/api/queue").json()
        last = status["recent"][-1]
        if status["running"] == 0 and last["state"] != "running":
            break
        assert time.time() < deadline, status
        time.sleep(0.1)
    assert last["end_reason"] == "stopped" and last["state"] == "stopped"
    assert last["steps"] < 600  # it did not decode to the end
    start = time.perf_counter()
    events = read_stream(server, {"prompt": "hi", "max_new_tokens": 3})
    assert events[-1][1] == "done" and time.perf_counter() - start < 10


@pytest.mark.parametrize(("path", "body", "status", "needle"), [
    ("/api/decode/stream", {"model": "random:llama"}, 400, "prompt"),
    ("/api/decode/stream", {"prompt": "hi", "max_new_tokens": -4}, 400, "max_new_tokens"),
    ("/api/decode/stream", {"prompt": "hi", "max_new_tokens": 10_000}, 400, "limit"),
    ("/api/decode/stream", {"prompt": "   "}, 400, "empty"),
    ("/api/decode/stream", {"prompt": "hi", "model": "nosuch/model"}, 404, "Hub"),
    ("/api/decode/stream", {"prompt": "hi", "force": "<async>x"}, 400, "PASTA-LANG"),
    ("/api/decode/stream", {"prompt": "hi", "colour": "red"}, 400, "colour"),
    ("/api/decode/stream", {"prompt": "hi", "mode": "methods", "methods": ["pasta"]}, 400,
     "2 to 4 methods"),
    ("/api/decode/stream", {"prompt": "hi", "mode": "methods", "methods": ["pasta", "eagle"]},
     400, "unknown method"),
    ("/v1/chat/completions", {"model": "random:llama"}, 400, "messages"),
    ("/v1/chat/completions", {"model": "gpt-4", "messages": [{"role": "user", "content": "x"}]},
     404, "not offered"),
    ("/v1/chat/completions", {"model": "random:llama", "max_tokens": 0,
                              "messages": [{"role": "user", "content": "x"}]}, 400, "max_tokens"),
])
def test_bad_requests_get_clear_4xx(server, path, body, status, needle):
    r = httpx.post(server + path, json=body, timeout=30)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    message = err["message"] if isinstance(err, dict) else err
    assert needle in message
    if path.startswith("/v1/"):
        assert err["type"] == "invalid_request_error"
    assert httpx.get(server + "/v1/models").status_code == 200  # still serving


def test_oversized_body_is_refused_and_the_server_keeps_serving(server):
    big = {"prompt": "x" * 30_000}
    r = httpx.post(server + "/api/decode/stream", json=big, timeout=30)
    assert r.status_code == 413 and "limit" in r.json()["error"]

    def chunked():  # no Content-Length: counted as it arrives
        yield b'{"prompt": "'
        for _ in range(30):
            yield b"y" * 1000
        yield b'"}'

    r = httpx.post(server + "/v1/chat/completions", content=chunked(),
                   headers={"content-type": "application/json"}, timeout=30)
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"
    assert read_stream(server, {"prompt": "hi", "max_new_tokens": 2})[-1][1] == "done"


def test_a_race_against_the_base_model_streams_both_runs_in_lockstep(server):
    events = read_stream(server, {"prompt": PROMPT, "mode": "base", "force": FORCED})
    done = {d["run"]: d["trace"] for _, k, d in events if k == "done"}
    assert set(done) == {"pasta", "plain"}  # PASTA vs the Space's base model, plainly
    assert done["plain"]["text"] == done["pasta"]["text"]
    steps = [d["run"] for _, k, d in events if k == "step"]
    n = 2 * min(steps.count("pasta"), steps.count("plain"))
    assert steps[:n] == ["pasta", "plain"] * (n // 2)


def test_a_methods_race_streams_every_method_in_lockstep(server):
    """Mode methods over SSE: each method's events under its own run name; a random model
    plays every method, each forced in its own form, so all four say the same thing."""
    events = read_stream(server, {"prompt": PROMPT, "mode": "methods", "force": FORCED,
                                  "methods": ["apar", "sot", "pasta", "sequential"]})
    starts = [d for _, k, d in events if k == "run_start"]
    assert [(d["run"], d["mode"]) for d in starts] == [
        ("sequential", "plain"), ("pasta", "pasta"), ("sot", "sot"), ("apar", "pasta")]
    done = {d["run"]: d["trace"] for _, k, d in events if k == "done"}
    assert len({" ".join(t["text"].split()) for t in done.values()}) == 1
    steps = [d["run"] for _, k, d in events if k == "step"]
    n = min(steps.count(m) for m in done)
    assert steps[:4 * n] == ["sequential", "pasta", "sot", "apar"] * n

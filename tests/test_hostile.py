"""A hostile visitor against the app (SECURITY.md): every request of issue #12 as a regression
test, a fuzz of the HTTP routes' JSON, eight clients at once, and a soak.

The server runs in this process (uvicorn in a thread, the app of `python app.py`), so a test can
hold the one decoding slot itself and watch the line form behind it, and read its own memory,
open files and threads. Checks are counts, states and orders, never rates: they hold on a busy
machine. Each case tried is counted; the module prints one summary line at its end.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import ROOT, free_port

gradio_client = pytest.importorskip("gradio_client")
uvicorn = pytest.importorskip("uvicorn")

SECRET = "TOPSECRET-do-not-serve"
FORCED = ('Two parts:<promise topic="a" tokens="8"/><async topic="a"> First.</async>'
          '<promise topic="b" tokens="8"/><async topic="b"> Second.</async><sync/> End.')
TALLY = {"cases": 0, "failures": 0, "ran": 0}


@pytest.fixture(scope="module", autouse=True)
def summary(request):
    """Counts this module's failures for the summary line that conftest prints at the end."""
    failed_before = request.session.testsfailed
    yield
    TALLY["failures"] = request.session.testsfailed - failed_before
    TALLY["ran"] = 1


def tried(n: int = 1) -> None:
    TALLY["cases"] += n


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[dict]:
    """The app with small limits on a free port, a real model folder outside runs/ (what an
    attacker would point at) and a secret file."""
    from pasta_core import load_model
    from pasta_core import models as models_mod
    from ui.config import Limits, SpaceConfig, TrainLimits
    from ui.server import create_app

    tmp = tmp_path_factory.mktemp("hostile")
    (tmp / "secret.txt").write_text(f"{SECRET}\n{SECRET}-2\n")
    lm = load_model("random:llama")
    outside = tmp / "outside-model"
    lm.model.save_pretrained(outside)
    lm.tokenizer.save_pretrained(outside)
    runs = tmp / "runs"
    (runs / "good").mkdir(parents=True)
    lm.model.save_pretrained(runs / "good")
    lm.tokenizer.save_pretrained(runs / "good")
    (runs / "escape").symlink_to(outside, target_is_directory=True)
    cfg = SpaceConfig(
        title="hostile", default_model="random:llama", baseline_model="random:llama",
        models=("random:llama", "random:qwen2"),
        limits=Limits(max_new_tokens=600, max_threads=8, max_thread_tokens=600,
                      max_prompt_tokens=256, max_prompt_chars=4000, max_messages=8,
                      max_body_bytes=65536, queue_size=8, max_queued_per_client=2,
                      step_idle_s=2.0, loaded_models=3),
        training=TrainLimits(max_steps=4, max_examples=16, max_eval_prompts=2))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(models_mod, "RUNS_DIR", runs)
        app = create_app(cfg)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.time() + 60
        while not server.started:
            assert time.time() < deadline, "the in-process server did not start"
            time.sleep(0.05)
        yield {"url": f"http://127.0.0.1:{port}", "app": app, "jobs": app.state.jobs,
               "tmp": tmp, "outside": outside}
        server.should_exit = True
        thread.join(20)


@contextmanager
def holding_the_slot(jobs) -> Iterator[None]:
    """The test takes the one decoding slot, so that requests line up behind it."""
    rec = jobs.enqueue("test", "hold")
    assert jobs.acquire(rec, timeout=30)
    try:
        yield
    finally:
        jobs.release(rec, "done")


def wait_until(check, timeout: float = 15.0, what: str = "") -> None:
    deadline = time.time() + timeout
    while not check():
        assert time.time() < deadline, f"not reached within {timeout} s: {what}"
        time.sleep(0.05)


def error_of(r: httpx.Response) -> tuple[str, str]:
    """(message, code) of an error in the API's shape (OpenAI's shape on /v1/); fails on any
    other shape, such as FastAPI's {"detail": …}."""
    body = r.json()
    assert set(body) == {"error", "code"} or set(body) == {"error"}, body
    err = body["error"]
    if isinstance(err, dict):
        assert set(err) == {"message", "type", "param", "code"}, err
        return err["message"], err["code"]
    return err, body["code"]


def no_server_path(text: str) -> None:
    for path in (str(ROOT), "/tmp/", "/root", "/home/", "site-packages"):
        assert path not in text, text


# -- 1. uploads only from uploads ------------------------------------------------------------

def file_endpoints(url: str) -> list[tuple[str, int, int]]:
    """(api_name, index of the file input, number of inputs) of every Gradio event that takes
    a file, read from the page's own config."""
    config = httpx.get(url + "/config", timeout=30).json()
    kinds = {c["id"]: c.get("type") for c in config["components"]}
    out = []
    for dep in config["dependencies"]:
        name = dep.get("api_name")
        for i, cid in enumerate(dep.get("inputs", [])):
            if kinds.get(cid) in ("file", "uploadbutton", "image", "audio", "video") and name:
                out.append((name, i, len(dep["inputs"])))
    return out


def call_gradio(url: str, api_name: str, data: list) -> str:
    r = httpx.post(f"{url}/gradio_api/call/{api_name}", json={"data": data}, timeout=30)
    assert r.status_code == 200, r.text
    event = r.json()["event_id"]
    return httpx.get(f"{url}/gradio_api/call/{api_name}/{event}", timeout=60).text


def test_no_gradio_endpoint_takes_a_file_that_was_not_uploaded(site):
    url, secret = site["url"], str(site["tmp"] / "secret.txt")
    endpoints = file_endpoints(url)
    assert any(name == "train_check" for name, _, _ in endpoints), endpoints
    for name, index, n in endpoints:
        for path in (secret, "/etc/hostname", str(ROOT / "spaces.yaml")):
            data: list = [None] * n
            data[index] = {"path": path, "meta": {"_type": "gradio.FileData"}}
            out = call_gradio(url, name, data)
            tried()
            assert SECRET not in out and "event: complete" not in out, (name, out[:500])
            assert "not uploaded" in out, (name, out[:500])
    r = httpx.get(f"{url}/gradio_api/file={secret}", timeout=30)
    tried()
    assert r.status_code == 403 and SECRET not in r.text


# -- 2. model specs are names, not paths -----------------------------------------------------

def path_specs(site) -> list[str]:
    outside = str(site["outside"])
    return [f"runs/{outside}", f"runs//{outside}", "runs/../outside-model", "runs/escape",
            outside, "./assets/models/pasta-tiny", "assets/models/pasta-tiny",
            "bundled:../pasta-tiny", "bundled:/etc", "~", "random:llama?hidden=4096&layers=64",
            "runs/", "runs/good/../../outside-model", "runs/good\x00"]


def test_a_model_spec_never_reaches_outside_runs(site):
    url = site["url"]
    for spec in path_specs(site):
        for route, body in (
                ("/api/decode/stream", {"prompt": "hi", "model": spec, "max_new_tokens": 2}),
                ("/v1/chat/completions", {"model": spec, "max_tokens": 2,
                                          "messages": [{"role": "user", "content": "hi"}]})):
            r = httpx.post(url + route, json=body, timeout=30)
            tried()
            assert r.status_code in (400, 404), (spec, route, r.text[:300])
            message, _ = error_of(r)
            assert str(site["tmp"]) not in message and str(ROOT) not in message
    good = httpx.post(url + "/api/decode/stream", timeout=60,
                      json={"prompt": "hi", "model": "runs/good", "max_new_tokens": 2})
    tried()
    assert good.status_code == 200 and "event: done" in good.text


def test_the_decode_tab_refuses_paths_too(site):
    client = gradio_client.Client(site["url"] + "/", verbose=False)
    for spec in path_specs(site)[:6]:
        with pytest.raises(Exception) as err:
            # prompt, model, Hub id, mode, max new, threads, temperature, top-p, seed, forcing,
            # the forced answer, the methods of a methods race
            client.predict("hi", "random:llama", spec, "pasta", 2, 8, 0.0, 1.0, 0, False, "",
                           ["pasta", "sot"], api_name="/decode")
        tried()
        assert "available:" in str(err.value)  # refused for its model spec, not the call
        no_server_path(str(err.value))
        assert str(site["outside"]) not in str(err.value)


# -- 3. limits in tokens, checked before the slot --------------------------------------------

@pytest.mark.parametrize(("route", "body", "needle"), [
    ("/api/decode/stream", {"prompt": "😀" * 1000}, "tokens"),
    ("/v1/chat/completions", {"model": "random:llama", "messages": [
        {"role": "x" * 3000, "content": "hi"}]}, "role"),
    ("/v1/chat/completions", {"model": "random:llama", "messages": [
        {"role": "user", "content": "hi"}] * 9}, "messages"),
    ("/v1/chat/completions", {"model": "random:llama", "messages": [
        {"role": "system", "content": "word " * 100}, {"role": "user", "content": "word " * 100}]},
     "tokens"),
])
def test_limits_are_in_tokens_and_refused_before_the_slot(site, route, body, needle):
    with holding_the_slot(site["jobs"]):  # refused at once, never queued behind the slot
        r = httpx.post(site["url"] + route, json=body, timeout=30)
        assert site["jobs"].status()["waiting"] == 0
    tried()
    assert r.status_code == 400, r.text[:300]
    message, code = error_of(r)
    assert needle in message and code == "invalid_value"


def test_prompt_plus_new_tokens_must_fit_the_models_positions(site):
    from pasta_core.settings import DecodeRequest, SettingsError

    class Small:  # a model with 64 positions, the bundled tokenizer's way of counting
        max_positions = 64

        def encode_prompt(self, prompt):
            return list(range(40))

        def count_tokens(self, text):
            return 10

    jobs = site["jobs"]
    req = DecodeRequest.build("random:llama", "hi", settings={"max_new_tokens": 30})
    with pytest.raises(SettingsError, match=r"40 tokens.*30.*64 positions.*at most 24"):
        jobs._check_tokens(req, Small())
    tried()
    jobs._check_tokens(DecodeRequest.build("random:llama", "hi",
                                           settings={"max_new_tokens": 24}), Small())


def test_a_skeleton_of_thought_run_counts_its_instructions_in_the_prompt(site):
    from pasta_core.settings import DecodeRequest, SettingsError
    from pasta_core.sot import sot_prompt

    jobs = site["jobs"]
    lm = jobs.registry.get("random:llama")
    cap = jobs.config.limits.max_prompt_tokens
    prompt = "hi"
    while len(lm.encode_prompt(prompt + " word")) <= cap:  # the longest prompt that fits
        prompt += " word"
    assert len(lm.encode_prompt(sot_prompt(prompt))) > cap
    jobs.validate(DecodeRequest.build("random:llama", prompt, mode="pasta"))
    for mode, methods in (("sot", None), ("methods", ["pasta", "sot"])):
        with pytest.raises(SettingsError, match="Skeleton-of-Thought's instructions included"):
            jobs.validate(DecodeRequest.build("random:llama", prompt, mode=mode,
                                              methods=methods))
    tried()
    # a methods race without SoT is counted as the prompt alone
    jobs.validate(DecodeRequest.build("random:llama", prompt, mode="methods",
                                      methods=["pasta", "sequential"]))


def test_a_long_prompt_is_prefilled_in_chunks_and_a_stop_lands_between_them():
    from pasta_core import decode, load_model
    from pasta_core import interpreter as interp

    lm = load_model("random:llama")
    prompt = "word " * 300  # ~1200 tokens with the built-in tokenizer
    whole = decode(lm, prompt, mode="sequential", max_new_tokens=8)
    calls = {"n": 0}

    def stop_after_first_chunk() -> bool:
        calls["n"] += 1
        return calls["n"] >= 2

    stopped = decode(lm, prompt, should_stop=stop_after_first_chunk, max_new_tokens=8)
    tried(2)
    assert len(whole.prompt_token_ids) > 2 * interp.PREFILL_CHUNK
    assert stopped.end_reason == "stopped" and stopped.tokens_total == 0
    assert stopped.kv_tokens == 2 * interp.PREFILL_CHUNK  # two chunks, then the stop


# -- 4. the slot is shared fairly ------------------------------------------------------------

def sse_events(response: httpx.Response) -> Iterator[tuple[str, dict]]:
    event = None
    for line in response.iter_lines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event:
            yield event, json.loads(line.split(":", 1)[1])


def test_queued_clients_get_their_place_at_once_and_leaving_leaves_the_line(site):
    url, jobs = site["url"], site["jobs"]
    body = {"prompt": "hi", "max_new_tokens": 3}
    with holding_the_slot(jobs), httpx.Client(timeout=30) as c1, httpx.Client(timeout=30) as c2:
        with c1.stream("POST", url + "/api/decode/stream", json=body,
                       headers={"x-forwarded-for": "10.0.0.1"}) as r1:
            first = sse_events(r1)
            assert r1.status_code == 200
            assert next(first) == ("queued", {"type": "queued", "position": 1, "waiting": 1})
            with c2.stream("POST", url + "/api/decode/stream", json=body,
                           headers={"x-forwarded-for": "10.0.0.2"}) as r2:
                second = sse_events(r2)
                kind, data = next(second)
                assert kind == "queued" and data["position"] == 2
                r1.close()  # the first client leaves the line
                wait_until(lambda: jobs.status()["waiting"] == 1, what="the leaver left")
                kind, data = next(second)
                assert kind == "queued" and data["position"] == 1
                tried(3)
            wait_until(lambda: jobs.status()["waiting"] == 0, what="both left")
    tried()


def test_one_client_may_not_fill_the_line(site):
    url, jobs = site["url"], site["jobs"]
    body = {"prompt": "hi", "max_new_tokens": 3}
    headers = {"x-forwarded-for": "10.0.0.9"}
    with holding_the_slot(jobs), httpx.Client(timeout=30) as c:
        with c.stream("POST", url + "/api/decode/stream", json=body, headers=headers) as a, \
                c.stream("POST", url + "/api/decode/stream", json=body, headers=headers) as b:
            assert a.status_code == b.status_code == 200
            wait_until(lambda: jobs.status()["waiting"] == 2, what="two waiting")
            third = c.post(url + "/api/decode/stream", json=body, headers=headers)
            tried()
            assert third.status_code == 503
            message, code = error_of(third)
            assert code == "queue_full" and "per client" in message
            with c.stream("POST", url + "/api/decode/stream", json=body,
                          headers={"x-forwarded-for": "10.0.0.10"}) as other:
                kind, data = next(sse_events(other))  # another client still gets in line
                assert other.status_code == 200 and (kind, data["position"]) == ("queued", 3)
        wait_until(lambda: jobs.status()["waiting"] == 0, what="the line emptied")


def test_a_non_streaming_client_that_leaves_stops_waiting_at_once(site):
    url, jobs = site["url"], site["jobs"]
    with holding_the_slot(jobs):
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(url + "/v1/chat/completions", timeout=httpx.Timeout(30, read=0.5), json={
                "model": "random:llama", "max_tokens": 500,
                "messages": [{"role": "user", "content": "hi"}]})
        wait_until(lambda: jobs.status()["waiting"] == 0, what="the leaver left the line")
        tried()
    last = jobs.status()["recent"][-1]
    assert last["state"] == "stopped" and last["steps"] == 0, last


def test_step_mode_never_holds_the_slot_between_presses_and_lapses_when_idle(site):
    from ui.jobs import Request
    from ui.stepper import StepSession

    client = gradio_client.Client(site["url"] + "/", verbose=False)
    jobs = site["jobs"]
    info, *_ = client.predict(FORCED.split("<")[0], "random:llama", "", 64, 8, 0.0, 1.0, 0,
                              True, FORCED, api_name="/step_start")
    assert "Prefill" in info
    tried()
    assert jobs.status()["running"] == 0  # free between presses
    with holding_the_slot(jobs):
        pass  # another job can take it at once
    st = StepSession(jobs, Request("random:llama", "hi", force=FORCED))
    st.start()
    st.next()
    assert not st.closed and jobs.status()["running"] == 0
    wait_until(lambda: st.closed, timeout=jobs.config.limits.step_idle_s + 10,
               what="an idle stepped run closes")
    tried()
    assert st.end_reason == "idle" and st.next() == []


# -- 5. no 500s ------------------------------------------------------------------------------

BAD_BODIES = [
    ({"prompt": "hi", "temperature": 1e-300}, "temperature", "0.01"),
    ({"prompt": "hi", "temperature": 1e-45}, "temperature", "0.01"),
    ({"prompt": "hi", "temperature": 5e-324}, "temperature", "0.01"),
    ({"prompt": "hi", "seed": 2**64}, "seed", "seed"),
    ({"prompt": "hi", "seed": -1}, "seed", "seed"),
    ({"prompt": "hi", "max_threads": 65}, "max_threads", "8"),
    ({"prompt": "hi", "max_threads": 9}, "max_threads", "this server's limit"),
    ({"prompt": "hi", "top_p": 0}, "top_p", "top_p"),
    ({"prompt": "hi", "max_new_tokens": 2**70}, "max_new_tokens", "600"),
    ({"prompt": "hi", "mode": "fast"}, "mode", "mode"),
    ({"prompt": 5}, "prompt", "prompt"),
    ({"prompt": None}, "prompt", "prompt"),
    ({"prompt": ["a"]}, "prompt", "prompt"),
    ({"prompt": "hi", "model": 7}, "model", "model"),
    ({"prompt": "hi", "force": "<async>x"}, "force", "PASTA-LANG"),
]


@pytest.mark.parametrize(("body", "field", "needle"), BAD_BODIES)
def test_bad_decode_fields_are_400s_naming_the_field(site, body, field, needle):
    r = httpx.post(site["url"] + "/api/decode/stream", json=body, timeout=30)
    tried()
    assert r.status_code == 400, r.text[:300]
    message, _ = error_of(r)
    assert field in message and needle in message, message


CHAT_BAD = [
    ({"temperature": 1e-300}, "temperature"),
    ({"seed": 2**64}, "seed"),
    ({"max_threads": 65}, "max_threads"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"max_completion_tokens": 10**6}, "max_completion_tokens"),
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]}, "text"),
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": None}]}]}, "text"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]},
     "content"),
    ({"messages": [{"role": "user", "content": [5]}]}, "content"),
    ({"messages": [{"role": "user"}]}, "content"),
    ({"messages": [{"role": "tool", "content": "x"}]}, "role"),
    ({"messages": []}, "messages"),
    ({"messages": "hi"}, "messages"),
]


@pytest.mark.parametrize(("extra", "needle"), CHAT_BAD)
def test_bad_chat_fields_are_400s_in_openais_shape(site, extra, needle):
    body = {"model": "random:llama", "messages": [{"role": "user", "content": "hi"}], **extra}
    r = httpx.post(site["url"] + "/v1/chat/completions", json=body, timeout=30)
    tried()
    assert r.status_code == 400, r.text[:300]
    message, _ = error_of(r)
    assert needle in message, message


@pytest.mark.parametrize("route", ["/api/decode/stream", "/v1/chat/completions"])
def test_a_lone_surrogate_is_refused_naming_the_field(site, route):
    raw = ('{"prompt": "hi \\ud800 there"}' if route.startswith("/api") else
           '{"model": "random:llama", "messages": [{"role": "user", "content": "a\\udfff"}]}')
    r = httpx.post(site["url"] + route, content=raw.encode(),
                   headers={"content-type": "application/json"}, timeout=30)
    tried()
    assert r.status_code == 400, r.text[:300]
    message, _ = error_of(r)
    assert "surrogate" in message and ("prompt" in message or "content" in message)


def test_odd_requests_get_the_apis_error_shape(site):
    url = site["url"]
    deep = "[" * 5000 + "]" * 5000
    cases = [
        ("POST", "/api/decode/stream", {"content": deep}),
        ("POST", "/v1/chat/completions", {"content": deep}),
        ("POST", "/api/decode/stream", {"content": b"{not json"}),
        ("POST", "/api/decode/stream", {"content": b"\xff\xfe\x00"}),
        ("GET", "/api/no-such-route", {}),
        ("DELETE", "/api/decode/stream", {}),
        ("GET", "/v1/no-such-route", {}),
        ("GET", "/api/decode/stream", {"params": {"prompt": "hi", "seed": "x"}}),
        ("GET", "/api/decode/stream", {"params": {"prompt": "hi", "temperature": "nan"}}),
    ]
    for method, path, kw in cases:
        headers = {"content-type": "application/json"} if "content" in kw else {}
        r = httpx.request(method, url + path, headers=headers, timeout=30, **kw)
        tried()
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:200])
        message, code = error_of(r)
        assert message and code, r.text
        no_server_path(message)


def test_a_large_seed_samples_instead_of_overflowing(site):
    r = httpx.post(site["url"] + "/api/decode/stream", timeout=60, json={
        "prompt": "hi", "seed": 2**54, "temperature": 0.7, "max_new_tokens": 4})
    tried()
    assert r.status_code == 200 and "event: done" in r.text and "event: error" not in r.text


# -- 7. fuzz, concurrency, soak --------------------------------------------------------------

VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                   st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
                   st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5),
                                                                         st.integers(), max_size=2))
SMALL_INTS = st.integers(-3, 40)
DECODE = st.fixed_dictionaries({"prompt": st.one_of(st.text(max_size=40), VALUES)}, optional={
    "model": st.sampled_from(["random:llama", "random:qwen2", "runs/good", "x", "runs/.."]),
    "mode": st.one_of(st.sampled_from(["pasta", "sequential", "plain", "both"]), VALUES),
    "max_new_tokens": st.one_of(SMALL_INTS, VALUES), "max_threads": st.one_of(SMALL_INTS, VALUES),
    "temperature": st.one_of(st.floats(0, 3), VALUES), "top_p": st.one_of(st.floats(0, 1), VALUES),
    "seed": st.one_of(st.integers(0, 2**64), VALUES), "force": VALUES, "extra": VALUES})
CHAT = st.fixed_dictionaries({
    "model": st.one_of(st.just("random:llama"), VALUES),
    "messages": st.one_of(st.lists(st.fixed_dictionaries({
        "role": st.one_of(st.sampled_from(["user", "system", "assistant", "tool"]), VALUES),
        "content": st.one_of(st.text(max_size=30), VALUES, st.lists(st.fixed_dictionaries({
            "type": st.one_of(st.just("text"), VALUES), "text": st.one_of(st.text(max_size=9),
                                                                          VALUES)})))}),
        max_size=3), VALUES)}, optional={
    "max_tokens": st.one_of(SMALL_INTS, VALUES), "stream": st.booleans(),
    "temperature": st.one_of(st.floats(0, 3), VALUES), "seed": VALUES, "n": VALUES})


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(route=st.sampled_from(["/api/decode/stream", "/v1/chat/completions"]), data=st.data())
def test_fuzzed_json_never_gets_a_5xx(site, route, data):
    body = data.draw(DECODE if route.startswith("/api") else CHAT)
    with httpx.Client(timeout=60) as c:
        r = c.post(site["url"] + route, json=body)
    tried()
    assert r.status_code < 500, (body, r.status_code, r.text[:300])
    if r.status_code >= 400:
        error_of(r)
    else:
        assert "event: error" not in r.text and "Traceback" not in r.text


def test_eight_clients_at_once_each_get_their_own_answer(site):
    url = site["url"]
    answers = {i: FORCED.replace("First.", f"First {i}.") for i in range(8)}
    results: dict[int, str] = {}

    def client(i: int) -> None:
        r = httpx.post(url + "/api/decode/stream", timeout=120, headers={
            "x-forwarded-for": f"10.1.0.{i}"}, json={"prompt": f"client {i}",
                                                      "force": answers[i], "mode": "both"})
        done = [d for k, d in sse_events_of(r.text) if k == "done"]
        results[i] = " | ".join(d["trace"]["text"] for d in done)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    tried(8)
    for i in range(8):
        want = f"Two parts: First {i}. Second. End."
        assert results.get(i) == f"{want} | {want}", (i, results.get(i))


def sse_events_of(text: str) -> list[tuple[str, dict]]:
    out, event = [], None
    for line in text.splitlines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event:
            out.append((event, json.loads(line.split(":", 1)[1])))
    return out


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.slow
def test_a_soak_of_100_requests_leaves_memory_files_and_threads_bounded(site):
    url = site["url"]

    def one(i: int) -> None:
        if i % 2:
            r = httpx.post(url + "/api/decode/stream", timeout=60, json={
                "prompt": f"soak {i}", "max_new_tokens": 24, "mode": "both"})
            assert "event: done" in r.text
        else:
            r = httpx.post(url + "/v1/chat/completions", timeout=60, json={
                "model": "random:qwen2", "max_tokens": 24,
                "messages": [{"role": "user", "content": f"soak {i}"}]})
            assert r.status_code == 200

    for i in range(20):  # warm-up: allocators, caches, thread pools settle
        one(i)
    rss, fds, threads = _rss_mb(), len(os.listdir("/proc/self/fd")), threading.active_count()
    for i in range(100):
        one(i)
    tried(100)
    wait_until(lambda: threading.active_count() <= threads + 2, what="job threads ended")
    grown = _rss_mb() - rss
    assert grown < 50, f"RSS grew {grown:.1f} MB over 100 requests"
    assert len(os.listdir("/proc/self/fd")) <= fds + 5
    assert threading.active_count() <= threads + 2

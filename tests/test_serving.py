"""What serving the page costs a race: the live updates name every output (Gradio 6 rebuilds
a component for each output an update leaves out, on the lock the decoding thread needs), and
a decoding job leaves the server's event loop a core."""

from __future__ import annotations

import dataclasses

import torch


def _fake_tab():
    from ui.tabs.decode import DecodeTab

    tab = DecodeTab.__new__(DecodeTab)
    for f in dataclasses.fields(DecodeTab):
        object.__setattr__(tab, f.name, object())  # a distinct stand-in per component
    return tab


def test_a_live_update_names_every_output_of_the_decode_endpoint():
    from ui.tabs.decode import _unchanged

    tab = _fake_tab()
    live = {tab.status, tab.lanes, tab.answer, *_unchanged(tab)}
    assert live == set(tab.run_outputs) and len(tab.run_outputs) == 11
    # the values are those of a page whose run has not ended: nothing drawn, figures empty
    quiet = _unchanged(tab)
    assert quiet[tab.fig_tokens] is None and quiet[tab.download] is None
    assert quiet[tab.annotated] == "" and quiet[tab.race_table] == ""


def test_a_decoding_job_leaves_the_server_a_core_and_training_keeps_them_all(monkeypatch):
    import asyncio
    import concurrent.futures

    from ui import jobs
    from ui.config import SpaceConfig

    cfg = SpaceConfig(models=("random:llama",), default_model="random:llama")
    assert jobs.decode_threads(cfg) == max(1, jobs.START_THREADS - 1)
    assert jobs.decode_threads(SpaceConfig(torch_threads=3)) == 3
    assert jobs.train_threads() == jobs.START_THREADS
    seen: list[int] = []

    def fake_decode(lm, req, stop, **kw):  # what the job's own thread decodes with
        seen.append(torch.get_num_threads())
        return iter(())

    monkeypatch.setattr(jobs, "_decode", fake_decode)
    queue = jobs.JobQueue(cfg, jobs.ModelRegistry(cfg))
    req = jobs.Request.build("random:llama", "Hi", "pasta", None, {}, "me", queue.limits())

    async def run() -> list:
        return [ev async for ev in queue.run(req)]

    before = torch.get_num_threads()
    try:
        # on a thread of its own: a browser test before this one may leave an event loop
        # running on this one
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            assert pool.submit(asyncio.run, run()).result(timeout=120) == []
        assert seen == [jobs.decode_threads(cfg)]
        assert torch.get_num_threads() == before  # the server's own thread keeps its count
    finally:
        torch.set_num_threads(before)  # and threads made later get it again


def test_the_page_race_bench_counts_verdicts_and_takes_medians():
    from .conftest import bench_script

    b = bench_script("page_races")
    races = [{"verdict": v, "pasta_wall_s": p, "sequential_wall_s": 2 * p, "wall": 2.0 + p,
              "expected": 1.9, "band": 0.1} for v, p in
             (("faster", 0.3), ("busy", 0.5), ("faster", 0.4))]
    s = b.summary(races)
    assert s["verdicts"] == {"faster": 2, "busy": 1} and s["races"] == 3
    assert (s["pasta_wall_s"], s["sequential_wall_s"], s["wall"]) == (0.4, 0.8, 2.4)
    result = {"machine": "m", "repeats": 3, "prompts": [("three parts", "p")],
              "ways": {"page": {"three parts": s}, "library": {"three parts": s}}}
    table = b.to_markdown(result).splitlines()
    assert table[-2].startswith("| three parts | page | busy 1, faster 2 | 0.400 | 0.800 |")
    assert table[-1].startswith("| three parts | library |")
    # the six-lane prompt is the Decode tab's own example
    assert len(b.prompts()) == 3 and b.prompts()[2][1]


def test_a_run_starts_after_the_first_update_and_a_stop_before_that_ends_it_unstarted():
    import asyncio
    import concurrent.futures

    from ui import jobs
    from ui.config import SpaceConfig
    from ui.lanes import RequestView
    from ui.sessions import LiveRun

    cfg = SpaceConfig(models=("random:llama",), default_model="random:llama")
    queue = jobs.JobQueue(cfg, jobs.ModelRegistry(cfg))
    req = jobs.Request.build("random:llama", "Hi", "pasta", None, {"max_new_tokens": 4}, "me",
                             queue.limits())

    async def run() -> tuple:
        stopped = LiveRun(queue, req, RequestView(req.mode, req.model), start=False)
        stopped.cancel()  # Stop between the first update and the start
        stopped.start()
        await stopped.wait(1.0)
        line = queue.status()
        live = LiveRun(queue, req, RequestView(req.mode, req.model), start=False)
        live.start()
        while not live.finished:
            await live.wait(1.0)
        return stopped, line, live

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # an event loop of its own
        stopped, line, live = pool.submit(asyncio.run, run()).result(timeout=120)
    assert stopped.finished and stopped.task is None and stopped.drain() == []
    assert line["running"] + line["waiting"] == 0  # nothing joined the line
    events = live.drain()
    assert events[0].type == "run_start" and events[-1].type == "done" and live.error is None

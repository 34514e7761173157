"""The Train tab in a real browser (Playwright driving Debian's chromium): the "CPU demo" preset
on a tiny slice of the world trains while the loss curve grows, the evaluation table arrives,
and the new model, picked in the Decode tab's list, runs. Screenshots go to test-artifacts/.

In CI (the CI variable set) a missing browser is a failure, never a skip; elsewhere the test is
skipped only when chromium itself is absent."""

from __future__ import annotations

import time

import pytest

from .conftest import ARTIFACTS, open_app

# slow tier (`pytest -m "not slow"` skips it): app.py and a browser training the CPU demo
pytestmark = pytest.mark.slow


RUN = "browser-demo"
# the tiny slice: CPU demo's settings with fewer examples, steps, prompts and eval prompts
SLICE = {"examples": "48", "max-steps": "12", "prompts": "2", "rounds": "1",
         "sample-tokens": "16", "eval": "1"}

LOSS_POINTS = """() => {
  const plot = document.querySelector('#train-loss .js-plotly-plot');
  if (!plot || !plot.data) return 0;
  return plot.data.reduce((n, t) => n + (t.x ? t.x.length : 0), 0);
}"""
# the progress bar's fill style ("" if the bar has no fill), or null when no bar is drawn
BAR_FILL = """() => {
  const bar = document.querySelector('#train-progress .tr-bar');
  if (!bar) return null;
  const fill = bar.querySelector('.tr-fill');
  return fill ? (fill.getAttribute('style') || '') : '';
}"""


@pytest.fixture(scope="module")
def page(browser, server):
    pg = open_app(browser, server)
    yield pg
    pg.close()


def set_number(pg, elem: str, value: str) -> None:
    box = pg.locator(f"#train-{elem} input")
    box.fill(value)
    box.press("Tab")  # Gradio takes a number field's value when it loses focus


def test_cpu_demo_trains_live_then_the_new_model_runs_in_decode(page, browser, server):
    pg = page
    other = open_app(browser, server)  # a second visitor, on the Train tab before the job
    other.get_by_role("tab", name="Train").click()
    other.wait_for_selector("#train-progress [data-slot='free']", timeout=30_000)
    pg.get_by_role("tab", name="Train").click()
    pg.wait_for_selector("#train-go")
    # the default start model: the bundled base when it is shipped, else the configured model
    assert pg.locator("#train-start input").input_value() in ("bundled:pasta-tiny-base",
                                                               "random:llama")
    pg.locator("#train-preset label", has_text="CPU demo").click()
    pg.locator("#train-advanced button").first.click()  # unfold the advanced settings
    pg.wait_for_selector("#train-examples input", state="visible")
    # the preset's time, from measured step times; it follows the settings
    est = pg.locator("#train-estimate .tr-estimate")
    preset_s = est.get_attribute("data-estimate")
    assert preset_s and "measured" in est.inner_text()
    for elem, value in SLICE.items():
        set_number(pg, elem, value)
    pg.wait_for_function("(s) => document.querySelector('#train-estimate .tr-estimate')"
                         ".dataset.estimate !== s", arg=preset_s, timeout=10_000)
    assert float(est.get_attribute("data-estimate")) < float(preset_s)  # a slice of it
    name = pg.locator("#train-name textarea, #train-name input").first
    name.fill(RUN)
    name.press("Tab")
    pg.click("#train-go")

    # while it runs: the progress bar, then the loss curve growing (stage 1, then stage 2)
    pg.wait_for_selector("#train-progress [data-state='running']", timeout=60_000)
    # the other visitor's page follows the slot without a reload: busy, and who trains
    # (unless the job ended before the page's next look at the slot, every few seconds)
    deadline = time.time() + 30
    while not other.locator("#train-progress [data-slot='busy']").count():
        ended = pg.locator("#train-progress .tr-progress").get_attribute("data-state")
        if ended in ("done", "cancelled", "failed"):
            break
        assert time.time() < deadline, other.locator("#train-progress").inner_text()
        time.sleep(0.3)
    else:
        assert f"runs/{RUN}" in other.locator("#train-progress").inner_text()
    other.close()
    seen_running: set[int] = set()
    shot = False
    deadline = time.time() + 180
    while True:
        state = pg.locator("#train-progress .tr-progress").get_attribute("data-state")
        points = pg.evaluate(LOSS_POINTS)
        if state == "running":
            seen_running.add(points)
            # the bar and its fill read in one look: the panel redraws between two locator
            # calls (a busy CI run found the bar, then waited 30 s for a fill redrawn away)
            width = pg.evaluate(BAR_FILL)
            if points and width is not None:
                assert width.startswith("width:"), width
        elif state in ("done", "cancelled", "failed"):
            break
        assert time.time() < deadline, "the CPU demo did not finish in 3 minutes"
        if state == "running" and points and not shot:
            pg.screenshot(path=str(ARTIFACTS / "browser-train-running.png"), full_page=True)
            shot = True
        time.sleep(0.15)
    assert state == "done", pg.locator("#train-progress").inner_text()
    assert len(seen_running - {0}) >= 2, f"the loss curve did not grow while running: " \
                                         f"{sorted(seen_running)}"
    # the end: the table (start model, stage 1, stage 2), the scatter, a saved run
    for row in ("start", "stage1", "stage2"):
        assert pg.locator(f"#train-table tr[data-row='{row}']").count() == 1
    pg.wait_for_function("document.querySelector('#train-scatter .js-plotly-plot') && "
                         "document.querySelector('#train-scatter .js-plotly-plot').data"
                         ".some(t => t.name === 'round 1 Pareto front')", timeout=10_000)
    assert f"runs/{RUN}" in pg.locator("#train-progress").inner_text()
    pg.wait_for_timeout(600)
    pg.screenshot(path=str(ARTIFACTS / "browser-train.png"), full_page=True)

    # the new model is in the Decode tab's list at once: pick it and get a run
    pg.get_by_role("tab", name="Decode").click()
    box = pg.locator("#model input")
    box.click()
    box.fill(f"runs/{RUN}")
    pg.locator("#model [role='option']", has_text=f"runs/{RUN}").first.click()
    assert box.input_value() == f"runs/{RUN}"
    pg.locator("#force-box button").first.click()  # a trained model is not teacher-forced
    pg.wait_for_selector("#force-on input", state="visible")
    pg.wait_for_function("!document.querySelector('#force-on input').checked")
    pg.click("#run")
    pg.wait_for_selector("#summary [data-metric='wall_speedup']", timeout=120_000)
    assert "Done" in pg.locator("#status").inner_text()
    assert pg.locator("#lanes .run-pasta article.lane").count() >= 1
    assert not pg.js_errors, pg.js_errors

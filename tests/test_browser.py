"""The web app in a real browser: Playwright driving Debian's chromium (installed by .ci/run)
runs an example, waits for the lanes and the charts, checks the numbers shown against the CLI,
and saves screenshots under test-artifacts/.

In CI (the CI variable set, as .ci/run does) a missing browser is a failure, never a skip;
elsewhere the test is skipped only when chromium itself is absent."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from .conftest import ARTIFACTS, ROOT, open_app, run_cli

# slow tier (`pytest -m "not slow"` skips it): a launched app.py driven by a headless browser
pytestmark = pytest.mark.slow


EXAMPLES = json.loads((ROOT / "assets" / "examples.json").read_text())["examples"]
EXAMPLE_INDEX = 3  # six facts at once: six lanes
FLAT_INDEX = next(i for i, e in enumerate(EXAMPLES) if not e["parts"]
                  and e["label"].startswith("One fact"))  # nothing to split
EXAMPLE = EXAMPLES[EXAMPLE_INDEX]


@pytest.fixture(scope="module")
def page(browser, server):
    pg = open_app(browser, server)
    yield pg
    pg.close()


@pytest.fixture(scope="module")
def cli_both(tmp_path_factory):
    path = tmp_path_factory.mktemp("forced") / "answer.txt"
    path.write_text(EXAMPLE["answer"])
    return run_cli("decode", "--model", "random:llama", "--prompt", EXAMPLE["prompt"], "--mode",
                   "both", "--seed", "0", "--force-file", str(path), "--json")


def shown(pg, metric: str) -> str:
    return pg.locator(f"#summary [data-metric='{metric}']").get_attribute("data-value")


def test_an_example_races_in_lanes_and_the_charts_show_the_clis_numbers(page, cli_both):
    pg = page
    pg.locator("#examples button", has_text=EXAMPLE["label"]).click()
    pg.wait_for_function("(p) => document.querySelector('#prompt textarea').value === p",
                         arg=EXAMPLE["prompt"])
    toggle = pg.locator("#force-box button").first
    toggle.click()  # a random model: the example comes teacher-forced
    assert pg.locator("#force-on input").is_checked()
    toggle.click()
    pg.click("#run")
    # lanes appear while it runs: the main thread and at least one chunk of the PASTA run
    pg.wait_for_function("document.querySelectorAll('#lanes .run-pasta article.lane').length >= 2",
                         timeout=60_000)
    pg.wait_for_selector("#summary [data-metric='wall_speedup']", timeout=120_000)
    pg.wait_for_selector("#chart-tokens .js-plotly-plot", timeout=30_000)
    pg.wait_for_selector("#chart-timeline .js-plotly-plot", timeout=30_000)
    n_chunks = len(cli_both["pasta"]["threads"]) - 1
    assert pg.locator("#lanes .run-pasta article.lane").count() == 1 + n_chunks
    assert pg.locator("#lanes .run-sequential article.lane").count() == 1
    # the numbers shown are the CLI's for the same seed
    for run in ("pasta", "sequential"):
        for key in ("steps", "tokens_total", "parallelism"):
            assert shown(pg, f"{run}.{key}") == repr(cli_both[run][key]), (run, key)
        stats = pg.locator(f"#lanes .run-{run} .run-stats").inner_text()
        assert f"{cli_both[run]['steps']} steps" in stats
    assert shown(pg, "theoretical_speedup") == repr(cli_both["theoretical_speedup"])
    big = pg.locator("#summary [data-metric='theoretical_speedup'] .card-big").inner_text()
    assert big == f"{cli_both['theoretical_speedup']:.2f}×"
    assert pg.locator("#answer").inner_text().strip() == cli_both["pasta"]["text"].strip()
    assert re.search(r"\d+ steps", pg.locator("#status").inner_text())
    pg.wait_for_timeout(600)  # let the last CSS transitions settle
    pg.screenshot(path=str(ARTIFACTS / "browser-decode.png"), full_page=True)
    # the race replay, right under the race, plays both runs side by side from their timestamps
    pg.locator("#replay [data-speed='1']").click()
    pg.wait_for_function("document.querySelectorAll('#replay .run').length === 2")
    pg.wait_for_function("document.querySelectorAll('#replay .run-state.rs-done').length === 2",
                         timeout=30_000)  # both crossed the finish line
    pg.locator("#replay").screenshot(path=str(ARTIFACTS / "browser-replay.png"))
    assert not pg.js_errors, pg.js_errors


def test_learn_tab_shows_structure_mask_and_speedup(page):
    pg = page
    pg.get_by_role("tab", name="Learn").click()
    box = pg.locator("#learn-text textarea")
    box.fill(EXAMPLES[0]["answer"])
    pg.wait_for_function("document.querySelector('#learn-speedup [data-metric]') !== null",
                         timeout=30_000)
    pg.wait_for_selector("#learn-mask .js-plotly-plot", timeout=30_000)
    assert "promise #2" in pg.locator("#learn-structure").inner_text()
    box.fill('<promise topic="x"/>unfinished')
    pg.wait_for_function("document.querySelector('#learn-errors').innerText"
                         ".includes('unfulfilled_promise')", timeout=30_000)
    box.fill(EXAMPLES[0]["answer"])
    pg.wait_for_function("document.querySelector('#learn-speedup [data-metric]') !== null",
                         timeout=30_000)
    pg.wait_for_timeout(500)
    pg.screenshot(path=str(ARTIFACTS / "browser-learn.png"), full_page=True)
    assert not pg.js_errors, pg.js_errors


def test_closing_the_tab_closes_its_stepped_run(browser, server):
    before = httpx.get(server + "/api/queue").json()["step_runs"]
    pg = open_app(browser, server)
    pg.get_by_role("tab", name="Step mode").click()
    pg.click("#step-start")
    pg.wait_for_function("document.querySelector('#step-info').innerText.includes('Prefill')",
                         timeout=60_000)
    q = httpx.get(server + "/api/queue").json()
    assert q["recent"][-1]["mode"] == "step" and q["running"] == 0  # the slot is free
    assert q["step_runs"] == before + 1  # but the run's cache is held for the next press
    pg.close()  # the session ends: the app's unload hook closes the stepped run
    deadline = time.time() + 20
    while httpx.get(server + "/api/queue").json()["step_runs"] > before:
        assert time.time() < deadline, "the stepped run is still open after the tab closed"
        time.sleep(0.2)


def race(pg, index: int, shot: str) -> str:
    """Run example `index` (teacher-forced on the random model) in mode both; screenshots of
    the race mid-run and done at the page's size; the status line when it is done."""
    ex = EXAMPLES[index]
    pg.locator("#examples button", has_text=ex["label"]).click()
    pg.wait_for_function("(p) => document.querySelector('#prompt textarea').value === p",
                         arg=ex["prompt"])
    toggle = pg.locator("#force-box button").first
    toggle.click()  # a random model: picking an example turns teacher-forcing on
    assert pg.locator("#force-on input").is_checked()
    toggle.click()
    before = pg.locator("#status [data-status]").inner_text()
    pg.click("#run")
    pg.wait_for_function("document.querySelectorAll('#lanes article.lane').length >= 1",
                         timeout=60_000)
    pg.screenshot(path=str(ARTIFACTS / f"race-{shot}-running.png"))
    pg.wait_for_function("(before) => { const s = document.querySelector("
                         "'#status [data-status=done]'); return s && s.innerText !== before; }",
                         arg=before, timeout=120_000)
    pg.wait_for_timeout(400)
    pg.screenshot(path=str(ARTIFACTS / f"race-{shot}-done.png"))
    return pg.locator("#status").inner_html()


@pytest.mark.parametrize(("width", "height"), [(1400, 900), (390, 844)])
def test_a_race_claims_only_the_speed_up_it_earned(browser, server, width, height):
    """A prompt with nothing to split: PASTA and sequential take the same steps, so the page
    may say "no speed-up" or that the machine was busy, never that PASTA was faster. A prompt
    with five parts: the page states a verdict with its expected ratio."""
    pg = open_app(browser, server)
    pg.set_viewport_size({"width": width, "height": height})
    flat = race(pg, FLAT_INDEX, f"flat-{width}")
    assert re.search(r"data-verdict=.(none|busy).", flat), flat
    assert "faster" not in flat
    card = pg.locator("#summary [data-metric='wall_speedup']")  # the headline says no win
    assert "card-accent" not in card.get_attribute("class")
    assert "×" not in card.locator(".card-big").inner_text()
    split = race(pg, EXAMPLE_INDEX, f"split-{width}")
    assert split != flat  # the second race's own result, not the first one's still shown
    assert re.search(r"data-verdict=.(faster|busy|none).", split), split
    assert "in theory" in split.lower()
    won = "data-verdict='faster'" in split or 'data-verdict="faster"' in split
    assert ("card-accent" in card.get_attribute("class")) == won
    assert not pg.js_errors, pg.js_errors
    pg.close()

"""A visitor's page in Chromium: it says what the model knows (the model and its size, the
world's things, a prompt builder), forcing shows a badge and typing turns it off, a race of the
bundled model reads at projector and phone size (both runs side by side, no clipped lane, no
toolbar over a chart, the answer as text), and Stop never leaves an inconsistent page.
Screenshots under test-artifacts/ (race-tiny-*)."""

from __future__ import annotations

import json

import pytest

from .conftest import ARTIFACTS, ROOT, SLOW_PROMPT, SLOW_RANDOM, open_app

EXAMPLES = json.loads((ROOT / "assets" / "examples.json").read_text())["examples"]


# each chart's legend box against its title and subplot titles: the ones they overlap
LEGEND_OVER_TITLE = """[...document.querySelectorAll('#result-tabs .js-plotly-plot')].flatMap(p => {
  const lg = p.querySelector('g.legend');
  if (!lg) return [];
  const a = lg.getBoundingClientRect();
  return [...p.querySelectorAll('.gtitle, g.annotation text')].filter(t => {
    const b = t.getBoundingClientRect();
    return b.width > 0 && a.left < b.right && b.left < a.right && a.top < b.bottom
      && b.top < a.bottom;
  }).map(t => t.textContent);
})"""


def pick_model(pg, spec: str) -> None:
    pg.locator("#model input").click()
    pg.get_by_role("option", name=spec, exact=True).click()
    # the blurb's bold name is exactly the spec's (a prefix would pass for random:llama?…)
    pg.wait_for_function("(s) => { const b = document.querySelector('#model-about b');"
                         " return b && b.innerText === s.split(':').slice(1).join(':'); }",
                         arg=spec, timeout=60_000)


def forced(pg) -> bool:
    return pg.locator("#force-badge [data-forced]").count() == 1


def settled(pg, before: str, states: str = "stopped done") -> str:
    """Wait until the status line is a new one in one of `states`; its state."""
    pg.wait_for_function(
        "([before, states]) => { const s = document.querySelector('#status [data-status]');"
        " return s && s.innerText !== before && states.split(' ').includes(s.dataset.status); }",
        arg=[before, states], timeout=120_000)
    return pg.locator("#status [data-status]").get_attribute("data-status")


def test_the_page_says_what_the_model_knows_and_builds_prompts(browser, server):
    pg = open_app(browser, server)
    about = pg.locator("#model-about").inner_text()
    assert "parameters" in about and "only replays teacher-forced answers" in about
    assert forced(pg)  # a random model: the opening example comes forced, with its badge
    pg.locator("#entities button", has_text="Tiger").first.click()
    pg.wait_for_function("document.querySelector('#picked').innerText.includes('Tiger')")
    pg.get_by_label("Fact sheet").check()
    pg.click("#fill")
    pg.wait_for_function("document.querySelector('#prompt textarea').value"
                         ".startsWith('Make me a fact sheet')")
    assert "the tiger" in pg.locator("#prompt textarea").input_value()
    pg.wait_for_function("document.querySelector('#force-badge [data-forced]') === null")
    pg.locator("#examples button", has_text=EXAMPLES[3]["label"]).click()
    pg.wait_for_function("document.querySelector('#force-badge [data-forced]') !== null")
    pg.locator("#prompt textarea").press_sequentially(" Please.")  # typing: a new question
    pg.wait_for_function("document.querySelector('#force-badge [data-forced]') === null")
    pg.locator("#force-box button").first.click()  # the folded box agrees: forcing is off
    assert not pg.locator("#force-on input").is_checked()
    pick_model(pg, "bundled:pasta-tiny")
    about = pg.locator("#model-about").inner_text()
    assert "M parameters" in about and "made-up world" in about and "random" not in about
    assert not pg.js_errors, pg.js_errors
    pg.close()


@pytest.mark.slow  # a whole race in a browser at two sizes (22 s on a 2-core AVX2 machine)
@pytest.mark.parametrize(("width", "height"), [(1400, 900), (390, 844)])
def test_a_race_of_the_bundled_model_reads_on_a_projector_and_a_phone(browser, server, width,
                                                                       height):
    pg = open_app(browser, server)
    pg.set_viewport_size({"width": width, "height": height})
    assert pg.locator("#chart-tokens .js-plotly-plot").count() == 0  # no empty charts yet
    pick_model(pg, "bundled:pasta-tiny")
    pg.click("#fill")  # describe lithium, the giraffe and Mars: the model splits it
    pg.wait_for_function("document.querySelector('#prompt textarea').value.includes('giraffe')")
    if width > 800:
        pg.locator("#large-type input").check()
        pg.wait_for_function("document.body.classList.contains('pasta-large')")
    pg.click("#run")
    pg.wait_for_function("document.querySelectorAll('#lanes .run-pasta article.lane').length"
                         " >= 2", timeout=60_000)
    pg.locator("#status").scroll_into_view_if_needed()
    pg.screenshot(path=str(ARTIFACTS / f"race-tiny-{width}-running.png"))
    pg.wait_for_selector("#status [data-status=done]", timeout=120_000)
    pg.wait_for_selector("#chart-tokens .js-plotly-plot", timeout=30_000)
    pg.wait_for_timeout(500)
    pg.locator("#status").scroll_into_view_if_needed()
    pg.screenshot(path=str(ARTIFACTS / f"race-tiny-{width}-done.png"))
    pg.screenshot(path=str(ARTIFACTS / f"race-tiny-{width}-page.png"), full_page=True)
    p = pg.locator("#lanes .run-pasta").bounding_box()
    s = pg.locator("#lanes .run-sequential").bounding_box()
    assert abs(p["y"] - s["y"]) < 40 and s["x"] > p["x"] + p["width"] - 1  # side by side
    clipped = pg.evaluate("[...document.querySelectorAll('#lanes .lane-text')]"
                          ".filter(e => e.scrollHeight > e.clientHeight + 2).length")
    assert clipped == 0
    assert pg.evaluate("[...document.querySelectorAll('.modebar-container')]"
                       ".every(e => getComputedStyle(e).display === 'none')")
    assert pg.evaluate(LEGEND_OVER_TITLE) == []  # no legend over a chart's or subplot's title
    assert pg.locator("#answer h1, #answer h2, #answer h3").count() == 0
    replay_y = pg.locator("#replay").bounding_box()["y"]
    assert pg.locator("#lanes").bounding_box()["y"] < replay_y < pg.locator(
        "#answer").bounding_box()["y"]  # the replay sits right under the race
    if width > 800:  # Measure: the same race twice, median and range beside the theory
        pg.locator("#measure-n input").fill("2")
        pg.click("#measure")
        pg.wait_for_selector("#measure-out [data-races='2']", timeout=120_000)
        pg.wait_for_function("document.querySelector('#measure-out').innerText"
                             ".startsWith('2 races')", timeout=60_000)
        pg.locator("#measure-out").scroll_into_view_if_needed()
        pg.screenshot(path=str(ARTIFACTS / "race-tiny-measure.png"))
    assert not pg.js_errors, pg.js_errors
    pg.close()


def test_stop_in_the_browser_never_leaves_an_inconsistent_page(browser, server):
    pg = open_app(browser, server)
    pg.click("#stop")  # nothing ran yet: nothing changes
    pg.wait_for_timeout(300)
    assert "Nothing is running" not in pg.locator("#status").inner_text()
    before = pg.locator("#status [data-status]").inner_text()
    pg.click("#run")
    pg.click("#stop")  # at once: before the first token, or just after
    if settled(pg, before) == "done":  # it finished first: shown whole
        pg.wait_for_selector("#summary [data-metric]", timeout=10_000)
    assert "Error" not in pg.locator("#status").inner_text()
    # mid-run: a random model big enough to write for seconds (forcing off), so the cut
    # lands mid-run on any machine
    pick_model(pg, SLOW_RANDOM)
    head, tail = SLOW_PROMPT.rsplit(" ", 1)
    pg.locator("#prompt textarea").fill(head)
    pg.locator("#prompt textarea").press_sequentially(" " + tail)  # typed: forcing goes off
    pg.wait_for_function("document.querySelector('#force-badge [data-forced]') === null")
    pg.click("#run")
    pg.wait_for_selector("#lanes .rs-running", timeout=60_000)  # this run's board is up
    pg.click("#stop")
    # any settled status now is this run's (its text may equal the last stop's, word for word)
    assert settled(pg, "") == "stopped"  # seconds of writing were left: it was cut
    # Stop's own reply (not queued) may overtake the run's last live redraw, queued before the
    # press: the page may show "running" for one redraw (1/16 s) before the run's final
    # update marks it cut again. What must hold is the page it settles on.
    pg.wait_for_function(
        "() => document.querySelector('#status [data-status]')?.dataset.status === 'stopped'"
        " && document.querySelectorAll('#lanes .rs-stopped').length >= 1"  # the cut is marked
        " && document.querySelectorAll('#lanes .rs-running').length === 0", timeout=10_000)
    assert "Done" not in pg.locator("#status").inner_text()
    assert pg.locator("#answer .answer-text").count() == 1  # what was written stays
    assert "Error" not in pg.locator("#status").inner_text()
    pg.locator("#status").scroll_into_view_if_needed()
    pg.screenshot(path=str(ARTIFACTS / "stop-mid-run.png"))
    pick_model(pg, "random:llama")
    pg.locator("#examples button", has_text=EXAMPLES[3]["label"]).click()  # forced again
    pg.wait_for_function("document.querySelector('#force-badge [data-forced]') !== null")
    before = pg.locator("#status [data-status]").inner_text()
    pg.click("#run")
    settled(pg, before, "done")
    pg.wait_for_selector("#summary [data-metric='wall_speedup']", timeout=10_000)
    # the status line itself (Gradio's own progress timer may still show around it)
    done = pg.locator("#status .status").inner_text()
    pg.click("#stop")  # after the last token: the finished result stays
    pg.wait_for_timeout(500)
    assert pg.locator("#status .status").inner_text() == done
    assert pg.locator("#summary [data-metric='wall_speedup']").count() == 1
    assert not pg.js_errors, pg.js_errors
    pg.close()


def test_step_mode_opens_on_an_example_that_splits_and_counts_each_press(browser, server):
    """Step k after k presses of Next (Start only prefills), on the opening example, which
    splits: pressing on, a step feeds a chunk beside the main thread."""
    pg = open_app(browser, server)
    opening = next(e for e in EXAMPLES if e.get("opening"))
    assert opening["parts"] and pg.locator("#prompt textarea").input_value() == opening["prompt"]
    pg.get_by_role("tab", name="Step mode").click()
    pg.click("#step-start")
    pg.wait_for_function("document.querySelector('#step-info').innerText.includes('Prefill')",
                         timeout=60_000)
    for k in range(1, 41):
        pg.click("#step-next")
        pg.wait_for_function("(k) => document.querySelector('#step-info').innerText"
                             ".includes(`Step ${k}:`)", arg=k, timeout=30_000)
        if k >= 3 and pg.locator("#step-info .chip").count() >= 2:
            break
    info = pg.locator("#step-info").inner_text()
    assert f"Step {k}:" in info and k > 1
    assert pg.locator("#step-info .chip").count() >= 2  # main and a chunk in one forward
    pg.locator("#step-info").scroll_into_view_if_needed()
    pg.screenshot(path=str(ARTIFACTS / "step-mode.png"))
    pg.click("#step-stop")
    assert not pg.js_errors, pg.js_errors
    pg.close()


@pytest.mark.slow  # three bundled models raced in a browser, at two sizes
@pytest.mark.parametrize(("width", "height"), [(1400, 900), (390, 844)])
def test_a_methods_race_shows_every_method_and_one_table_with_the_judge(browser, server, width,
                                                                        height):
    """Race methods: the methods side by side (two columns on a phone), SoT's points as lanes,
    one table under the lanes with every method's figures and the judge's score (the prompt is
    an example), a wall ratio shown as a win only where its verdict is "faster"."""
    pg = open_app(browser, server)
    pg.set_viewport_size({"width": width, "height": height})
    pick_model(pg, "bundled:pasta-tiny")
    pg.locator("#examples button", has_text=EXAMPLES[0]["label"]).click()  # compare, conclude
    pg.wait_for_function("(p) => document.querySelector('#prompt textarea').value === p",
                         arg=EXAMPLES[0]["prompt"])
    assert not pg.locator("#methods").is_visible()
    pg.get_by_label("Race methods").check()
    pg.wait_for_selector("#methods", state="visible")
    box = pg.locator("#methods label", has_text="APAR-style").locator("input")
    box.check()  # four methods
    pg.locator("#methods label", has_text="Sequential").locator("input").uncheck()
    pg.locator("#methods label", has_text="Sequential").locator("input").check()
    pg.click("#run")
    pg.wait_for_function("document.querySelectorAll('#lanes section.run').length === 4",
                         timeout=60_000)
    pg.wait_for_selector("#race-table .methods-table tr[data-method]", timeout=120_000)
    pg.wait_for_timeout(500)
    pg.locator("#status").scroll_into_view_if_needed()
    pg.screenshot(path=str(ARTIFACTS / f"methods-race-{width}-lanes.png"))
    pg.locator("#race-table").scroll_into_view_if_needed()
    pg.screenshot(path=str(ARTIFACTS / f"methods-race-{width}-table.png"))
    runs = pg.eval_on_selector_all("#lanes section.run", "els => els.map(e => e.dataset.run)")
    assert runs == ["sequential", "pasta", "sot", "apar"]
    boxes = [pg.locator(f"#lanes section[data-run={r}]").bounding_box() for r in runs]
    columns = 4 if width > 800 else 2
    assert all(abs(b["y"] - boxes[0]["y"]) < 40 for b in boxes[:columns])  # side by side
    assert pg.locator("#lanes section[data-run=sot] article.lane").count() >= 2  # the points
    rows = pg.eval_on_selector_all(
        "#race-table tr[data-method]", "els => els.map(e => [e.dataset.method, e.dataset.verdict,"
        " e.dataset.judge, !!e.querySelector('b')])")
    assert [r[0] for r in rows] == runs
    for method, verdict, judge, bold in rows:
        assert judge is not None and 0.0 <= float(judge) <= 1.0  # an example: judged
        assert bold == (verdict == "faster"), (method, verdict)
    table = pg.locator("#race-table .mt-scroll")
    assert table.evaluate("e => e.scrollWidth <= e.clientWidth + 1")  # the table fits
    assert pg.evaluate("document.documentElement.scrollWidth") <= width
    clipped = pg.evaluate("[...document.querySelectorAll('#lanes .lane-text')]"
                          ".filter(e => e.scrollHeight > e.clientHeight + 2).length")
    assert clipped == 0
    status = pg.locator("#status").inner_text()
    assert "Skeleton-of-Thought" in status and "APAR-style" in status
    assert not pg.js_errors, pg.js_errors
    pg.close()

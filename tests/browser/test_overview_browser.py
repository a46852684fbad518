"""The experience map in a real browser: a cell click opens the journey map, and links reopen views."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import polars as pl
import pytest
from playwright.sync_api import Browser, Page, expect

from benchmarks.browser import FIRST_CHART
from tests.browser.conftest import start_server, wait_for_app_run


def _params(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(url).query).items()}


def test_overview_shows_the_map(app_url: str, page: Page) -> None:
    """A first visit shows the title, the headline metrics and the touchpoint grid."""
    page.goto(app_url)
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="Experience map")).to_be_visible()
    expect(page.get_by_test_id("stMetric").first).to_contain_text("NPS")
    expect(
        page.locator('path[aria-roledescription="rect mark"][aria-label*="channel_line: Call centre"]').first
    ).to_be_visible()
    assert _params(page.url)["journey"] == "northwind-current"
    # the headline tiles of the row are as tall as each other, the conversion's cohort line included
    heights = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stMetric"]')].slice(0, 5)
            .map((metric) => metric.closest('[data-testid="stVerticalBlock"]').getBoundingClientRect().height)"""
    )
    assert len(heights) == 5 and max(heights) - min(heights) < 1, heights


def test_clicking_a_cell_opens_its_journey_map_with_channel_and_touchpoint(app_url: str, page: Page) -> None:
    """Clicking the onboarding × call centre cell lands on that stage with the cell's channel and touchpoint
    selected in the comments, the filters kept, all in the URL; reloading the URL shows the same filters."""
    page.goto(f"{app_url}/?journey=northwind-current&persona=remote-worker&from=2026-05-01&to=2026-10-31&metric=csat")
    wait_for_app_run(page)
    cell = page.locator(
        'path[aria-roledescription="rect mark"][aria-label*="stage: Onboarding"]'
        '[aria-label*="channel_line: Call centre"]'
    )
    cell.click()
    expect(page).to_have_url(re.compile(r"/journey\?"))
    wait_for_app_run(page)
    params = _params(page.url)
    assert params == {
        "journey": "northwind-current",
        "stage": "onboarding",
        "persona": "remote-worker",
        "from": "2026-05-01",
        "to": "2026-10-31",
        "channel": "call-centre",
        "touchpoint": "installation-helpline",
    }
    expect(page.get_by_role("heading", name=re.compile("Onboarding"))).to_be_visible()
    for _ in range(2):  # as landed, then after reloading the same URL
        expect(page.get_by_role("combobox", name="Channel")).to_have_value("Call centre")
        expect(page.get_by_role("combobox", name="Touchpoint")).to_have_value("Installation helpline")
        page.reload()
        wait_for_app_run(page)
        assert _params(page.url) == params


def test_a_comment_page_and_band_go_into_the_url(app_url: str, page: Page) -> None:
    """Choosing a page and then a score band writes each into the link (a new band starts on page 1), and
    reloading the link shows the same comments."""
    page.goto(f"{app_url}/journey?journey=northwind-current&stage=support&period=all&measure=csat")
    wait_for_app_run(page)
    page_number = page.get_by_role("spinbutton", name="Page")
    page_number.fill("2")
    page_number.press("Enter")
    expect(page).to_have_url(re.compile(r"comment_page=2"))
    wait_for_app_run(page)
    page.reload()
    wait_for_app_run(page)
    expect(page.get_by_role("spinbutton", name="Page")).to_have_value("2")
    page.get_by_role("radio", name=re.compile(r"^low scores \(")).click()
    expect(page).to_have_url(re.compile(r"band=low"))
    wait_for_app_run(page)
    assert "comment_page" not in _params(page.url)
    page.reload()
    wait_for_app_run(page)
    assert {k: v for k, v in _params(page.url).items() if k in ("band", "measure", "period")} == {
        "band": "low",
        "measure": "csat",
        "period": "all",
    }
    expect(page.get_by_role("radio", name=re.compile(r"^low scores \("))).to_be_checked()
    expect(page.get_by_role("combobox", name="Measure")).to_have_value("CSAT")


def test_clicking_a_stage_opens_its_journey_map(app_url: str, page: Page) -> None:
    """The stage strip above the grid opens the stage's journey map."""
    page.goto(f"{app_url}/?journey=northwind-current")
    wait_for_app_run(page)
    page.locator(
        'path[aria-roledescription="rect mark"][aria-label^="stage: Support;"][aria-label*="In the period"]'
    ).click()
    expect(page).to_have_url(re.compile(r"/journey\?.*stage=support"))
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name=re.compile("Support"))).to_be_visible()


def test_a_pasted_link_reopens_the_same_view(app_url: str, browser: Browser) -> None:
    """A link copied from one browser opens the same filters in a fresh one, on both pages."""
    link = f"{app_url}/?journey=northwind-current&persona=budget-family&from=2026-07-01&to=2026-09-30&metric=ces"
    for _ in range(2):
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        fresh = context.new_page()
        fresh.goto(link)
        wait_for_app_run(fresh)
        assert _params(fresh.url) == _params(link)
        expect(fresh.get_by_text("Budget-conscious family · 01 Jul 2026 – 30 Sep 2026")).to_be_visible()
        context.close()
    journey_link = f"{app_url}/journey?journey=northwind-current&stage=support&from=2026-07-01&to=2026-09-30"
    context = browser.new_context()
    fresh = context.new_page()
    fresh.goto(journey_link)
    wait_for_app_run(fresh)
    assert urlparse(fresh.url).path == "/journey"
    assert _params(fresh.url) == _params(journey_link)
    expect(fresh.get_by_role("heading", name=re.compile("Support"))).to_be_visible()
    context.close()


def _what_a_person_sees(browser: Browser, link: str) -> tuple[str, str, str]:
    """URL, heading and persona line of a link opened in a fresh browser context."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(link)
    wait_for_app_run(page)
    seen = (page.url, page.get_by_role("heading", level=1).inner_text(), page.get_by_text("Persona:").inner_text())
    context.close()
    return seen


def test_a_link_still_opens_the_same_view_after_a_server_restart(
    demo_database_url: str, browser: Browser, tmp_path: Path
) -> None:
    """The view lives in the URL and the database, so a restarted server reopens a shared link exactly."""
    server, url = start_server(demo_database_url, tmp_path / "before.log")
    query = "journey=northwind-current&stage=onboarding&persona=digital-native&from=2026-06-01&to=2026-08-31"
    link = f"{url}/journey?{query}"
    try:
        before = _what_a_person_sees(browser, link)
        server.terminate()
        server.wait(timeout=20)
        server, _ = start_server(demo_database_url, tmp_path / "after.log", port=urlparse(url).port)
        after = _what_a_person_sees(browser, link)
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert before == after
    assert _params(after[0])["persona"] == "digital-native"
    assert after[2].startswith("Persona: Digital native")


def test_exports_download_from_the_export_menu(app_url: str, page: Page) -> None:
    """The Export menu hands a person the grid's numbers as CSV and the grid as a PNG image."""
    page.goto(f"{app_url}/?journey=northwind-current&from=2026-08-03&to=2026-10-31&metric=health")
    wait_for_app_run(page)
    page.get_by_test_id("stSidebar").get_by_role("button", name="Export").click()
    with page.expect_download() as csv_download:
        page.get_by_role("button", name="Numbers (CSV)").click()
    assert csv_download.value.suggested_filename == "journey-atlas_northwind-current_overview_2026-08-03_2026-10-31.csv"
    cells = pl.read_csv(csv_download.value.path())
    assert {"stage", "channel", "touchpoints", "value_label", "status"} <= set(cells.columns)
    assert "Onboarding" in cells["stage"].to_list()
    with page.expect_download() as png_download:
        page.get_by_role("button", name="Chart (PNG)").click()
    assert Path(png_download.value.path()).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


FIRST_DRAW_WATCH = """(() => {
  window.__atlasMarks = {};
  const mark = (name, found) => {
    if (!(name in window.__atlasMarks) && found) window.__atlasMarks[name] = performance.now();
  };
  new MutationObserver(() => {
    mark("chart", document.querySelector('%s'));
    mark("below", [...document.querySelectorAll("h2, h3")].some((h) => h.textContent.includes("%s")));
    mark("placeholder", document.body && document.body.textContent.includes("Drawing the rest of the page"));
  }).observe(document, { childList: true, subtree: true });
})();"""


@pytest.mark.parametrize(
    ("path", "below", "also_below"),
    [
        ("/", "What changed", "Moments of truth"),
        ("/journey?journey=northwind-current&stage=onboarding", "In the customers' words", "Notes from the front line"),
    ],
    ids=["overview", "journey page"],
)
def test_what_is_above_the_fold_is_drawn_first(
    app_url: str, page: Page, path: str, below: str, also_below: str
) -> None:
    """A first visit draws what is above the fold first (the overview's strip and grid, the journey page's
    lanes and numbers) with a line saying the rest is coming; the sections below follow once a chart is drawn,
    without a click, and the page then holds every section."""
    page.add_init_script(FIRST_DRAW_WATCH % (FIRST_CHART, below))
    page.goto(app_url + path)
    expect(page.get_by_role("heading", name=below)).to_be_visible()
    marks = page.evaluate("() => window.__atlasMarks")
    assert marks["placeholder"] < marks["below"], marks
    assert marks["chart"] <= marks["below"], marks
    wait_for_app_run(page)
    expect(page.get_by_text("Drawing the rest of the page…")).to_have_count(0)
    expect(page.get_by_role("heading", name=also_below)).to_be_visible()

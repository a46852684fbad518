"""Readable at a glance, in Chromium at a laptop's 1280 × 800 and a meeting room's 1920 × 1080.

For the overview, a journey page and every slide: no text under 12 px, every text at 4.5:1 over its
background (WCAG, computed in the page; chart text colours are checked in the chart specs), slides without
a scrollbar, and the stage strip's boxes over the grid's columns.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ACTION_TIMEOUT_MS, wait_for_app_run

SIZES = [(1280, 800), (1920, 1080)]
JOURNEY = "northwind-current"
STAGES = ["awareness", "consideration", "purchase", "onboarding", "usage", "support", "retention", "advocacy"]

# Every visible text node: its font size, and (outside charts) the contrast of its colour over the colours
# behind it, blended up the ancestors to the page's white. Disabled controls are exempt (WCAG 1.4.3).
AUDIT_JS = """
() => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const lum = (c) => 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
  const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3])).concat([1]);
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    return layers.reverse().reduce((under, top) => over(top, under), [255, 255, 255, 1]);
  };
  const small = [], faint = [];
  let texts = 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, text = node.textContent.trim(), el = node.parentElement;
    if (!text || !el || el.closest('script, style, noscript, [aria-hidden="true"], [disabled]')) continue;
    // an inactive input (the period while "Whole history" is on) has no contrast requirement (WCAG 1.4.3)
    const field = el.closest('[data-testid="stDateInput"], [data-testid="stTextInput"], [data-testid="stNumberInput"]');
    if (field && field.querySelector('input:disabled')) continue;
    const range = document.createRange(); range.selectNodeContents(node);
    const box = range.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width === 0 || box.height === 0 || style.visibility === 'hidden') continue;
    texts += 1;
    if (parseFloat(style.fontSize) < 11.95) small.push(`${text.slice(0, 40)} (${style.fontSize})`);
    if (el.closest('svg')) continue;
    const fg = parse(style.color); if (!fg) continue;
    const bg = background(el), shown = over(fg, bg);
    const [light, dark] = [lum(shown), lum(bg)].sort((a, b) => b - a);
    const ratio = (light + 0.05) / (dark + 0.05);
    if (ratio < 4.5) faint.push(`${text.slice(0, 40)} (${ratio.toFixed(2)}:1, ${style.color})`);
  }
  return {texts, small, faint};
}
"""
# the page's own scroller is Streamlit's main section; the document itself must not scroll either
SCROLLS_JS = """
() => [document.querySelector('[data-testid="stMain"]'), document.scrollingElement]
  .some(e => e && e.scrollHeight > e.clientHeight + 1)
"""
# every chart drawn (Vega renders after the script run ends)
CHARTS_DRAWN_JS = """
() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].every(c => c.querySelector('svg, canvas'))
"""


@pytest.fixture(params=SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def sized_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height})
    opened = context.new_page()
    opened.set_default_timeout(ACTION_TIMEOUT_MS)
    yield opened
    context.close()


def _open(page: Page, url: str) -> None:
    page.goto(url)
    wait_for_app_run(page)
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_attached()
    page.wait_for_function(CHARTS_DRAWN_JS)


def _assert_readable(page: Page, where: str) -> None:
    audit: dict[str, Any] = page.evaluate(AUDIT_JS)
    assert audit["texts"] > 20, where
    assert audit["small"] == [], f"{where}: text under 12 px"
    assert audit["faint"] == [], f"{where}: text under 4.5:1"


def _boxes(page: Page, selector: str) -> dict[str, tuple[float, float]]:
    """x and width of each mark's box, by the stage named in its ARIA label (the first mark per stage)."""
    found: dict[str, tuple[float, float]] = {}
    for mark in page.locator(selector).all():
        label = mark.get_attribute("aria-label") or ""
        stage = label.split(";")[0].removeprefix("stage: ")
        box = mark.bounding_box()
        if box and stage not in found:
            found[stage] = (box["x"], box["width"])
    return found


def test_overview_and_journey_page_read_at_a_glance(app_url: str, sized_page: Page) -> None:
    """Text size and contrast on both pages; the strip's stage boxes sit over the grid's stage columns."""
    _open(sized_page, f"{app_url}/?journey={JOURNEY}")
    _assert_readable(sized_page, "overview")
    strip = _boxes(sized_page, 'path[aria-roledescription="rect mark"][aria-label*="row: Stage health"]')
    grid = _boxes(sized_page, 'path[aria-roledescription="rect mark"][aria-label*="channel_line: "]')
    assert len(strip) == len(STAGES) and set(grid) <= set(strip) and len(grid) >= 6
    for stage, (x, width) in grid.items():
        assert abs(strip[stage][0] - x) <= 3 and abs(strip[stage][1] - width) <= 3, stage

    _open(sized_page, f"{app_url}/journey?journey={JOURNEY}&stage=onboarding")
    _assert_readable(sized_page, "journey page")


def test_every_slide_fits_one_screen_and_reads(app_url: str, sized_page: Page) -> None:
    """The experience map slide and each stage slide: no scrollbar, no small or faint text."""
    slides = [f"{app_url}/?journey={JOURNEY}&present=1"] + [
        f"{app_url}/journey?journey={JOURNEY}&stage={stage}&present=1" for stage in STAGES
    ]
    for url in slides:
        _open(sized_page, url)
        assert not sized_page.evaluate(SCROLLS_JS), f"{url} scrolls"
        _assert_readable(sized_page, url)

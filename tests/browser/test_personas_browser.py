"""Personas, current vs future, and where to act first in a real browser: deep links, the persona switch, and a
click on an opportunity that opens its stage."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, expect

from tests.browser.conftest import wait_for_app_run

YEAR = {"from": "2025-11-01", "to": "2026-10-31"}


def _params(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(url).query).items()}


def _open(page: Page, base: str, path: str, **params: str) -> None:
    page.goto(f"{base}{path}?" + "&".join(f"{key}={value}" for key, value in params.items()))
    wait_for_app_run(page)


def test_persona_deep_link_shows_the_empathy_map(app_url: str, page: Page) -> None:
    """A link to one persona shows its name, its four empathy quadrants and the comparison."""
    _open(page, app_url, "/personas", journey="northwind-current", persona="remote-worker", metric="csat", **YEAR)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Remote worker", exact=True)).to_be_visible()
    for quadrant in ("Thinks", "Feels", "Says", "Does"):
        expect(main.get_by_text(quadrant, exact=True)).to_be_visible()
    expect(main.get_by_text("If the line goes down I lose a day's work.")).to_be_visible()
    expect(main.get_by_role("heading", name="Personas side by side")).to_be_visible()
    assert urlparse(page.url).path == "/personas"
    assert _params(page.url)["metric"] == "csat" and _params(page.url)["persona"] == "remote-worker"


def test_switching_persona_changes_the_profile_and_the_url(app_url: str, page: Page) -> None:
    """Picking another persona in the sidebar rewrites `persona` and shows that persona's profile."""
    _open(page, app_url, "/personas", journey="northwind-current", persona="remote-worker", **YEAR)
    persona = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Persona")
    persona.click()
    page.get_by_role("option", name="Digital native", exact=True).click()
    expect(page).to_have_url(re.compile(r"persona=digital-native"))
    wait_for_app_run(page)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Digital native", exact=True)).to_be_visible()
    expect(main.get_by_text("Why can't I just do this in the app?")).to_be_visible()


def test_compare_deep_link(app_url: str, page: Page) -> None:
    """A link to the current vs future view draws its sections and keeps both journeys in the URL."""
    _open(page, app_url, "/compare", journey="northwind-current", **{"with": "northwind-future"})
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Current vs future state")).to_be_visible()
    expect(main.get_by_role("heading", name="What the future state changes")).to_be_visible()
    expect(main.get_by_role("heading", name="Today against the future state's targets")).to_be_visible()
    assert _params(page.url)["with"] == "northwind-future"


def test_clicking_an_opportunity_opens_its_stage(app_url: str, page: Page) -> None:
    """On the experience map's matrix (the whole journey), a click on a circle opens that stage's journey map."""
    _open(page, app_url, "/", journey="northwind-current", **YEAR)
    circles = page.locator('path[aria-roledescription="circle"][aria-label*="Opportunity:"]')
    expect(circles.first).to_be_attached()
    label = circles.first.get_attribute("aria-label") or ""
    stage = re.search(r"Stage: ([^;]+);", label)
    assert stage, label
    circles.first.scroll_into_view_if_needed()
    circles.first.click(force=True)
    expect(page).to_have_url(re.compile(rf"/journey\?.*stage={stage.group(1).lower()}"))
    wait_for_app_run(page)
    expect(page.get_by_role("heading", level=1, name=f"{stage.group(1)} — journey map")).to_be_visible()

"""Presentation mode in a real browser: no filters, arrow keys step through the slides, and a way out."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, expect

from tests.browser.conftest import wait_for_app_run


def _params(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(url).query).items()}


def _expect_slide(page: Page, *, path: str, stage: str, heading: str, progress: str) -> None:
    """Wait for a stage slide's URL, then check its parameters, heading and progress."""
    expect(page).to_have_url(re.compile(rf"{path}\?.*stage={stage}&.*present=1"))
    wait_for_app_run(page)
    params = _params(page.url)
    assert params.get("stage") == stage
    assert params["journey"] == "northwind-current"
    assert params["present"] == "1"
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.get_by_text(progress)).to_be_visible()


def test_arrow_keys_walk_the_slides(app_url: str, page: Page) -> None:
    """→ opens the first stage, → the second, ← goes back; Leave presentation returns to the normal view."""
    page.goto(f"{app_url}/?journey=northwind-current&present=1")
    wait_for_app_run(page)
    expect(page.get_by_test_id("stMetric").first).to_contain_text("NPS")
    expect(page.get_by_test_id("stSidebar")).not_to_be_visible()
    expect(page.get_by_test_id("stSelectbox")).to_have_count(0)
    expect(page.get_by_test_id("stDateInput")).to_have_count(0)
    expect(page.get_by_text(re.compile(r"^Experience map · "))).to_be_visible()

    page.keyboard.press("ArrowRight")
    _expect_slide(page, path="/journey", stage="awareness", heading="Awareness", progress="Stage 1 of 8")
    expect(page.get_by_role("heading", name="Pain points")).to_be_visible()
    page.keyboard.press("ArrowRight")
    _expect_slide(page, path="/journey", stage="consideration", heading="Consideration", progress="Stage 2 of 8")
    page.keyboard.press("ArrowLeft")
    _expect_slide(page, path="/journey", stage="awareness", heading="Awareness", progress="Stage 1 of 8")
    kept = _params(page.url)

    page.get_by_role("link", name="Leave presentation").click()
    expect(page).to_have_url(re.compile(r"/journey\?(?!.*present)"))
    wait_for_app_run(page)
    assert _params(page.url) == {key: value for key, value in kept.items() if key != "present"}
    expect(page.get_by_role("heading", name="Awareness — journey map")).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_text("Persona", exact=True)).to_be_visible()


def test_previous_on_the_first_stage_returns_to_the_experience_map(app_url: str, page: Page) -> None:
    """A pasted first-stage slide link opens it; ← goes back to the experience map slide, filters kept."""
    page.goto(f"{app_url}/journey?journey=northwind-current&stage=awareness&from=2026-07-01&to=2026-09-30&present=1")
    _expect_slide(page, path="/journey", stage="awareness", heading="Awareness", progress="Stage 1 of 8")
    page.keyboard.press("ArrowLeft")
    expect(page).to_have_url(re.compile(r"127\.0\.0\.1:\d+/\?.*present=1"))
    wait_for_app_run(page)
    params = _params(page.url)
    assert "stage" not in params
    assert (params["from"], params["to"]) == ("2026-07-01", "2026-09-30")
    expect(page.get_by_text(re.compile(r"^Experience map · "))).to_be_visible()
    expect(page.get_by_test_id("stMetric").first).to_contain_text("NPS")

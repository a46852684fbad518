"""The journey map in a real browser: deep links, the persona switch, stage links and the unknown-stage notice."""

from __future__ import annotations

import re
from contextlib import suppress
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Browser, Page, WebSocketRoute, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser.conftest import wait_for_app_run

LANES = (
    "Customer actions",
    "Touchpoints & channels",
    "Thoughts",
    "Emotion",
    "Pain points",
    "Opportunities",
    "Backstage",
)
VIEW = {
    "journey": "northwind-current",
    "stage": "onboarding",
    "persona": "budget-family",
    "from": "2026-07-01",
    "to": "2026-09-30",
}
REMOTE_WORKER_CARD = "Upload is half of what they promised"  # an onboarding thought written for remote-worker only


def _params(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(url).query).items()}


def _open(page: Page, base: str, **params: str) -> None:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    page.goto(f"{base}/journey?{query}")
    wait_for_app_run(page)


def _heading(page: Page, stage: str) -> None:
    expect(page.get_by_role("heading", level=1, name=f"{stage} — journey map")).to_be_visible()


def test_deep_link_shows_the_stage_with_every_lane(app_url: str, page: Page) -> None:
    """A link to onboarding names the stage, shows all seven lanes and keeps its parameters in the URL."""
    _open(page, app_url, **VIEW)
    _heading(page, "Onboarding")
    main = page.get_by_test_id("stMain")
    for lane in LANES:
        if lane == "Emotion":  # a curve under the grid, named beside it
            expect(main.get_by_test_id("stMarkdownContainer").get_by_text(lane, exact=True)).to_be_visible()
        else:
            expect(main.get_by_role("rowheader", name=lane, exact=True)).to_be_visible()
    expect(main.get_by_role("columnheader", name="Books the installation", exact=True)).to_be_visible()
    expect(main.get_by_text("Only all-day (8am–6pm) installation windows").first).to_be_visible()
    expect(main.get_by_text("Persona: Budget-conscious family. 01 Jul 2026 – 30 Sep 2026")).to_be_visible()
    assert urlparse(page.url).path == "/journey"
    assert _params(page.url) == VIEW


def test_switching_persona_in_the_sidebar_updates_url_and_lanes(app_url: str, page: Page) -> None:
    """Picking another persona rewrites `persona` only, and that persona's own lane items appear."""
    _open(page, app_url, **VIEW)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("Books the installation", exact=True).first).to_be_visible()
    expect(main.get_by_text(REMOTE_WORKER_CARD)).to_have_count(0)

    persona = page.get_by_test_id("stSidebar").get_by_role("combobox", name="Persona")
    expect(persona).to_have_value("Budget-conscious family")
    persona.click()
    page.get_by_role("option", name="Remote worker", exact=True).click()

    expect(page).to_have_url(re.compile(r"persona=remote-worker"))
    wait_for_app_run(page)
    assert _params(page.url) == VIEW | {"persona": "remote-worker"}
    _heading(page, "Onboarding")
    expect(persona).to_have_value("Remote worker")
    expect(main.get_by_text(REMOTE_WORKER_CARD).first).to_be_visible()
    expect(main.get_by_text("Persona: Remote worker. 01 Jul 2026 – 30 Sep 2026")).to_be_visible()


def test_next_stage_link_opens_the_following_stage(app_url: str, page: Page) -> None:
    """The "Usage →" link on onboarding opens usage with journey, persona and period kept."""
    _open(page, app_url, **VIEW)
    _heading(page, "Onboarding")
    expect(page.get_by_role("link", name="← Purchase")).to_be_visible()
    page.get_by_role("link", name="Usage →").click()

    expect(page).to_have_url(re.compile(r"stage=usage"))
    wait_for_app_run(page)
    assert urlparse(page.url).path == "/journey"
    assert _params(page.url) == VIEW | {"stage": "usage"}
    _heading(page, "Usage")
    expect(page.get_by_role("heading", name=re.compile("Onboarding"))).to_have_count(0)
    expect(page.get_by_role("link", name="← Onboarding")).to_be_visible()
    expect(page.get_by_role("link", name="Support →")).to_be_visible()


def test_back_link_returns_to_the_overview_with_the_filters(app_url: str, page: Page) -> None:
    """The "← Experience map" link opens the overview with journey, persona and period kept and no stage."""
    _open(page, app_url, **VIEW)
    _heading(page, "Onboarding")
    page.get_by_role("link", name="← Experience map").click()

    expect(page).to_have_url(re.compile(r"/\?journey="))
    wait_for_app_run(page)
    assert urlparse(page.url).path == "/"
    params = _params(page.url)
    assert "stage" not in params
    assert {key: params[key] for key in ("journey", "persona", "from", "to")} == {
        key: VIEW[key] for key in ("journey", "persona", "from", "to")
    }
    expect(page.get_by_role("heading", level=1, name="Experience map")).to_be_visible()
    expect(page.get_by_text("Budget-conscious family · 01 Jul 2026 – 30 Sep 2026")).to_be_visible()


def test_unknown_stage_offers_links_to_the_valid_stages(app_url: str, page: Page) -> None:
    """`stage=nowhere` shows a notice listing the stages as links, and one of them opens that stage."""
    _open(page, app_url, **(VIEW | {"stage": "nowhere"}))
    main = page.get_by_test_id("stMain")
    expect(main.get_by_test_id("stAlert")).to_contain_text("Stage 'nowhere' is not in journey 'northwind-current'")
    expect(page.get_by_role("heading", name=re.compile("journey map"))).to_have_count(0)
    for name in ("Awareness", "Consideration", "Purchase", "Onboarding", "Usage", "Support", "Retention", "Advocacy"):
        expect(main.get_by_role("link", name=name, exact=True)).to_be_visible()

    main.get_by_role("link", name="Support", exact=True).click()
    expect(page).to_have_url(re.compile(r"stage=support"))
    wait_for_app_run(page)
    assert _params(page.url) == VIEW | {"stage": "support"}
    _heading(page, "Support")
    expect(main.get_by_test_id("stAlert").filter(has_text="nowhere")).to_have_count(0)


def test_the_share_link_opens_the_same_view_in_another_browser(app_url: str, browser: Browser) -> None:
    """The link in 'Share this view', copied from one browser, opens the same stage, filters and comparison."""
    first = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = first.new_page()
    page.goto(
        f"{app_url}/journey?journey=northwind-current&stage=support&persona=small-business"
        "&from=2026-08-01&to=2026-10-31&compare_from=2026-02-01&compare_to=2026-04-30"
    )
    wait_for_app_run(page)
    page.get_by_test_id("stSidebar").get_by_role("button", name="Share").click()
    link = page.get_by_test_id("stCode").inner_text().strip()
    heading = page.get_by_role("heading", level=1).inner_text()
    first.close()

    second = browser.new_context(viewport={"width": 1280, "height": 1000})
    fresh = second.new_page()
    fresh.goto(link)
    wait_for_app_run(fresh)
    assert urlparse(fresh.url).path == "/journey"
    assert parse_qs(urlparse(fresh.url).query) == parse_qs(urlparse(link).query)
    assert parse_qs(urlparse(link).query)["compare_from"] == ["2026-02-01"]
    expect(fresh.get_by_role("heading", level=1)).to_have_text(heading)
    expect(fresh.get_by_text(re.compile("Small business owner"))).to_be_visible()
    second.close()


def test_the_emotion_curve_lines_up_under_the_step_columns(app_url: str, browser: Browser) -> None:
    """At a laptop's and a meeting room's width, each step's emotion points sit under that step's column of the
    lane grid, and the lane names stay in view when the lanes scroll sideways."""
    for width, height in ((1280, 800), (1920, 1080)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        _open(page, app_url, **VIEW)
        lanes = page.locator(".st-key-journey_lanes")
        points = lanes.locator('[aria-roledescription="point"]')
        expect(points.first).to_be_visible()
        headers = page.get_by_role("columnheader").all()[1:]
        under = 0
        for header in headers:
            name = header.inner_text()
            marks = lanes.locator(f'[aria-roledescription="point"][aria-label*="Step: {name};"]')
            if not marks.count():
                continue  # a step with neither an assumed nor a measured emotion has no point
            box, mark = header.bounding_box(), marks.first.bounding_box()
            assert box is not None and mark is not None, name
            assert abs((box["x"] + box["width"] / 2) - (mark["x"] + mark["width"] / 2)) <= 3, (width, name)
            under += 1
        assert under >= 5
        label, first_step = page.get_by_role("rowheader", name="Pain points", exact=True), headers[0]
        before = (label.bounding_box(), first_step.bounding_box())
        scrolled = lanes.evaluate("element => { element.scrollLeft = element.scrollWidth; return element.scrollLeft; }")
        after = (label.bounding_box(), first_step.bounding_box())
        assert all(box is not None for box in before + after)
        assert abs(after[0]["x"] - before[0]["x"]) < 1  # type: ignore[index]
        if width == 1280:  # the grid is wider than a laptop's page: it scrolls, the lane names stay
            assert scrolled > 0 and after[1]["x"] < before[1]["x"] - scrolled + 1  # type: ignore[index]
        context.close()


def test_metric_cards_of_a_row_are_as_tall_as_each_other(app_url: str, page: Page) -> None:
    """Onboarding's first row of metric cards: one without a weekly trend beside ones with a trend and a cohort
    note; the cards still line up as one row of equal boxes."""
    page.goto(f"{app_url}/journey?journey=northwind-current&stage=onboarding")
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="What the numbers say")).to_be_visible()
    expect(page.get_by_test_id("stMetric").nth(2)).to_be_visible()
    card_heights = """() => [...document.querySelectorAll('[data-testid="stMetric"]')].slice(0, 3)
        .map((metric) => metric.closest('[data-testid="stVerticalBlock"]').getBoundingClientRect().height)"""
    with suppress(PlaywrightTimeoutError):  # on a loaded machine the trend images may take a moment to lay out
        page.wait_for_function(f"() => {{ const h = ({card_heights})(); return Math.max(...h) - Math.min(...h) < 1; }}")
    heights = page.evaluate(card_heights)
    assert len(heights) == 3 and max(heights) - min(heights) < 1, heights


# Hides the drawn charts from the page's first-draw signal, so it is sent on its two-second fallback, after the
# reader has already clicked away from a page whose first chart has not been drawn (as on a busy machine).
_CHARTS_NOT_YET_DRAWN = """
const querySelector = Document.prototype.querySelector;
Document.prototype.querySelector = function (selector) {
  return selector.includes("stVegaLiteChart") ? null : querySelector.call(this, selector);
};
"""


def test_clicking_away_before_the_first_chart_is_drawn_opens_the_overview(app_url: str, page: Page) -> None:
    """A reader who clicks "← Experience map" before the journey page has drawn its first chart gets the
    overview: the journey page's late "first chart drawn" signal must not pull the session back to the page
    it left. The server is kept busy by holding the browser's messages from the click until past the
    signal's fallback, so the click and any late signal reach it together."""
    page.add_init_script(_CHARTS_NOT_YET_DRAWN)
    holding: list[bool] = []
    held: list[str | bytes] = []
    servers = []

    def route(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()
        servers.append(server)

        def from_page(message: str | bytes) -> None:
            if holding:
                held.append(message)
            else:
                server.send(message)

        socket.on_message(from_page)

    page.route_web_socket(re.compile(r"_stcore/stream"), route)
    overview = {key: value for key, value in VIEW.items() if key != "stage"}
    page.goto(f"{app_url}/?{'&'.join(f'{key}={value}' for key, value in overview.items())}")
    wait_for_app_run(page)  # the overview's data is cached: it is drawn at once when asked for again
    page.goto(f"{app_url}/journey?{'&'.join(f'{key}={value}' for key, value in VIEW.items())}")
    back = page.get_by_role("link", name="← Experience map")
    expect(back).to_be_visible()
    expect(page.get_by_text("Drawing the rest of the page…")).to_be_visible()  # the signal is not yet sent
    holding.append(True)
    back.click()
    page.wait_for_timeout(3_000)  # past the signal's two-second fallback
    holding.clear()
    for message in held:
        servers[-1].send(message)

    expect(page.get_by_role("heading", level=1, name="Experience map")).to_be_visible()
    expect(page.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible()
    wait_for_app_run(page)
    assert urlparse(page.url).path == "/"
    assert "stage" not in _params(page.url)
    expect(page.get_by_role("heading", name=re.compile("journey map"))).to_have_count(0)

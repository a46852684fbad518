"""Presentation mode through AppTest: slides without filters, progress, and next / previous keep the URL."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from tests.paths import APP

JOURNEY = "northwind-current"
PERIOD = {"from": "2026-07-01", "to": "2026-09-30"}


@pytest.fixture
def run_app(app_env: str) -> Callable[..., AppTest]:
    def run(page: str = "", **params: str) -> AppTest:
        app = AppTest.from_file(APP, default_timeout=60)
        if page:
            app.run()  # registers the navigation's pages, so switch_page finds the one at its url_path
            app.switch_page(page)
            app.query_params.clear()
        for name, value in params.items():
            app.query_params[name] = value
        return app.run()

    return run


def _texts(app: AppTest) -> str:
    parts = [m.value for m in app.markdown] + [c.value for c in app.caption] + [t.value for t in app.title]
    return "\n".join(str(p) for p in parts)


def test_overview_slide_has_no_filters_and_a_next_button(run_app: Callable[..., AppTest]) -> None:
    """The experience map slide: headlines and charts, no sidebar widgets, share or export."""
    app = run_app(journey=JOURNEY, present="1", **PERIOD)
    assert not app.exception
    assert not app.selectbox and not app.date_input and not app.sidebar.children
    assert not app.get("download_button") and not app.code
    assert [m.label for m in app.metric][:3] == ["NPS", "CSAT", "CES"]
    # the stage strip and the grid: a slide shows the first four tiles (NPS, CSAT, CES, sentiment), whose
    # weeks have too few answers for a line at the test demo's size; conversion's tile is on the page
    assert len(app.get("vega_lite_chart")) == 2
    assert app.button(key="present_next").label == "Awareness"
    assert app.button(key="present_previous").disabled
    assert app.query_params["present"] == "1"


def test_next_opens_the_first_stage_with_the_view_kept(run_app: Callable[..., AppTest]) -> None:
    """Next on the experience map switches to the first stage's journey URL, still presenting."""
    app = run_app(journey=JOURNEY, persona="remote-worker", present="1", **PERIOD)
    app.button(key="present_next").click().run()
    assert not app.exception
    assert {name: app.query_params[name] for name in app.query_params} == {
        "journey": JOURNEY,
        "stage": "awareness",
        "persona": "remote-worker",
        "from": "2026-07-01",
        "to": "2026-09-30",
        "present": "1",
    }
    assert "Stage 1 of 8" in _texts(app)
    assert app.title[0].value == "Awareness"


def test_stage_slide_shows_progress_lanes_and_metrics(run_app: Callable[..., AppTest]) -> None:
    """A pasted stage slide link: its name, 'Stage k of n', the four lanes and the metrics with status."""
    app = run_app("../pages/journey_map.py", journey=JOURNEY, stage="purchase", present="1", **PERIOD)
    assert not app.exception
    assert "Stage 3 of 8" in _texts(app)
    assert app.title[0].value == "Purchase"
    assert [s.value for s in app.subheader][:4] == ["Customers do", "Customers think", "Pain points", "Opportunities"]
    assert app.metric and "-badge[" in _texts(app)
    assert not app.selectbox and not app.number_input and not app.sidebar.children
    assert app.button(key="present_previous").label == "Consideration"
    # changes read as on the journey map's cards: signed (±0 when none), and a percentage moves in points
    changes = [(m.value, m.delta) for m in app.metric if m.delta]
    assert changes and all(delta[0] in "+-±" for _, delta in changes)
    assert all(delta.endswith(" pts") for value, delta in changes if value.endswith("%") and delta != "±0")


@pytest.mark.parametrize("stage", ["purchase", "onboarding"])
def test_stage_slide_status_is_the_journey_pages(run_app: Callable[..., AppTest], stage: str) -> None:
    """The stage slide's status badge, on the line above its title, says what the journey page's summary says."""
    slide = run_app("../pages/journey_map.py", journey=JOURNEY, stage=stage, present="1", **PERIOD)
    page = run_app("../pages/journey_map.py", journey=JOURNEY, stage=stage, **PERIOD)
    assert not slide.exception and not page.exception
    on_slide = re.search(r"-badge\[Stage status: ([a-z ]+)\]", "\n".join(c.value for c in slide.caption))
    on_page = re.search(r"-badge\[([a-z ]+)\] \d+ of \d+ measured metrics", _texts(page))
    assert on_slide is not None and on_page is not None
    assert on_slide.group(1) == on_page.group(1)


def test_previous_on_the_first_stage_returns_to_the_experience_map(run_app: Callable[..., AppTest]) -> None:
    """Previous on stage 1 goes back to the experience map slide, still presenting."""
    app = run_app("../pages/journey_map.py", journey=JOURNEY, stage="awareness", present="1", **PERIOD)
    app.button(key="present_previous").click().run()
    assert not app.exception
    assert "stage" not in app.query_params
    assert app.query_params["present"] == "1"
    assert app.query_params["from"] == "2026-07-01"
    assert "Experience map" in _texts(app)


def test_last_stage_has_no_next(run_app: Callable[..., AppTest]) -> None:
    """The last slide disables next; an unknown stage falls back to the first with a notice."""
    app = run_app("../pages/journey_map.py", journey=JOURNEY, stage="advocacy", present="1")
    assert app.button(key="present_next").disabled
    assert "Stage 8 of 8" in _texts(app)
    app = run_app("../pages/journey_map.py", journey=JOURNEY, stage="nowhere", present="1")
    assert not app.exception
    assert any("'nowhere'" in w.value for w in app.warning)
    assert "Stage 1 of 8" in _texts(app)

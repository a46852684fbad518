"""Where to act first through AppTest: on the experience map (whole journey) and the journey page (one stage)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from tests.paths import APP

JOURNEY = "northwind-current"
YEAR = {"from": "2025-11-01", "to": "2026-10-31"}


@pytest.fixture
def run_page(app_env: str) -> Callable[..., AppTest]:
    def run(page: str | None = None, **params: str) -> AppTest:
        app = AppTest.from_file(APP, default_timeout=120)
        if page:
            app.run()
            app.switch_page(page)
            app.query_params.clear()
        for name, value in params.items():
            app.query_params[name] = value
        return app.run()

    return run


def _list(app: AppTest) -> list[str]:
    table = next(d.value for d in app.dataframe if "measured_value" in d.value.columns)
    return list(table["stage"])


def test_overview_lists_every_stage_opportunities(run_page: Callable[..., AppTest]) -> None:
    """The whole journey's opportunities, from several stages, under the matrix."""
    app = run_page(journey=JOURNEY, **YEAR)
    assert not app.exception
    assert "Where to act first" in [h.value for h in app.header]
    assert len(set(_list(app))) > 3


def test_journey_page_lists_its_stage_only(run_page: Callable[..., AppTest]) -> None:
    """On the journey page, the matrix holds the stage's opportunities only."""
    app = run_page("../pages/journey_map.py", journey=JOURNEY, stage="onboarding", **YEAR)
    assert not app.exception
    assert set(_list(app)) == {"Onboarding"}


def test_selecting_an_opportunity_opens_its_stage(run_page: Callable[..., AppTest]) -> None:
    """A selected mark (what a click sets) switches to its stage's journey map, keeping the persona."""
    app = run_page(journey=JOURNEY, persona="remote-worker", **YEAR)
    app.session_state["overview_opportunities"] = {"selection": {"opportunity": [{"stage_slug": "retention"}]}}
    app.run()
    assert not app.exception
    assert app.query_params["stage"] == "retention" and app.query_params["persona"] == "remote-worker"
    assert "Retention" in app.title[0].value

"""Caches follow the data: a page shows an import on its next run, and the warm-up fills what the pages read."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import streamlit as st
from sqlalchemy import Engine, event, func, select
from streamlit.testing.v1 import AppTest

from dashboard import cache, warmup
from dashboard.settings import get_settings
from data_access.db import make_engine
from data_access.importing import import_feedback
from data_access.importing.mapping import parse_mapping
from data_access.models import Event
from tests.paths import APP

JOURNEY = "northwind-current"
DETRACTORS = parse_mapping(
    f"""
kind: feedback
fixed: {{journey: {JOURNEY}, stage: purchase, measure: nps}}
columns: {{customer: customer, timestamp: timestamp, score: score}}
"""
)


@pytest.fixture
def own_database(demo_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A copy of the demo database that this test may write to, with the app pointed at it and empty caches."""
    copy = tmp_path / "atlas.db"
    shutil.copyfile(demo_database_url.removeprefix("sqlite:///"), copy)
    url = f"sqlite:///{copy}"
    monkeypatch.setenv("ATLAS_DATABASE_URL", url)
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield url
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()


def _overview() -> AppTest:
    return AppTest.from_file(APP, default_timeout=90)


def _journey_page(stage: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()  # registers the navigation's pages, so switch_page finds the journey page
    app.switch_page("../pages/journey_map.py")
    app.query_params.clear()
    app.query_params["journey"] = JOURNEY
    app.query_params["stage"] = stage
    return app


def _nps(app: AppTest) -> str:
    return str(next(m.value for m in app.metric if m.label == "NPS"))


def _statements(engine: Engine) -> list[str]:
    """The SQL statements `engine` runs from now on."""
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_: seen.append(statement))
    return seen


def test_a_page_shows_an_import_on_its_next_run(own_database: str, tmp_path: Path) -> None:
    """An import by another process (here: the importer itself) shows on the page's next run, with no cache
    cleared: the import bumped the data version, which every cached view's key holds."""
    app = _overview().run()
    before = _nps(app)
    assert _nps(app.run()) == before  # a rerun with unchanged data: the same cached view

    engine = make_engine(own_database)
    with engine.connect() as connection:
        last_day = connection.scalar(select(func.max(Event.occurred_at)))
    assert isinstance(last_day, dt.datetime)
    answers = tmp_path / "detractors.csv"
    pl.DataFrame(
        {
            "customer": [f"angry-{i}" for i in range(400)],
            "timestamp": [last_day.replace(hour=1, minute=0, second=0).isoformat()] * 400,
            "score": [0] * 400,
        }
    ).write_csv(answers)
    import_feedback(engine, path=answers, mapping=DETRACTORS)
    engine.dispose()

    after = _nps(app.run())
    assert after != before, "400 detractors in the period must move the NPS tile"
    assert not app.exception


def test_after_the_warm_up_the_default_views_cost_no_query(own_database: str) -> None:
    """The warm-up fills the very cache entries the pages read: the overview and a journey page then run
    only the data version's read."""
    stages = cache.load_journey_stages(JOURNEY)["stage_slug"].to_list()
    statements = _statements(cache.engine())
    cold = _overview().run()
    assert not cold.exception
    assert len(statements) > 10  # a cold page queries: the count below measures something
    st.cache_data.clear()

    thread = warmup.start_warm_up()
    assert thread is not None
    thread.join(timeout=300)
    assert not thread.is_alive()

    statements.clear()
    overview = _overview().run()
    journey = _journey_page(stages[-1]).run()
    assert not overview.exception and not journey.exception
    assert overview.title[0].value == "Experience map"
    assert journey.title[0].value.endswith("journey map")
    assert statements and all("data_version" in s for s in statements), [s[:150] for s in statements]


def test_a_failing_view_is_logged_and_the_warm_up_goes_on(
    own_database: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An error in one journey's views is logged, not raised, and the other journeys are still warmed."""
    journeys = cache.load_catalogue().journeys["slug"].to_list()
    assert len(journeys) > 1
    original = warmup._warm_journey

    def failing_first(journey: str, catalogue: cache.Catalogue, *, max_stages: int) -> tuple[int, int]:
        if journey == JOURNEY:
            raise RuntimeError("the database went away")
        return original(journey, catalogue, max_stages=max_stages)

    monkeypatch.setattr(warmup, "_warm_journey", failing_first)
    with caplog.at_level(logging.ERROR, logger=warmup.LOG.name):
        loaded = warmup.warm_up()
    assert loaded > 0
    assert any(JOURNEY in record.getMessage() for record in caplog.records)


def test_the_warm_up_keeps_to_its_bound_of_journey_pages(own_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """However many stages the journeys have, the warm-up fills at most MAX_STAGES journey pages."""
    monkeypatch.setattr(warmup, "MAX_STAGES", 3)
    warmed: list[str] = []
    load = cache.load_journey_map

    def counted(journey: str, stage: str, *args: object) -> object:
        warmed.append(stage)
        return load(journey, stage, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(cache, "load_journey_map", counted)
    assert len(cache.load_catalogue().journeys) > 1
    warmup.warm_up()
    assert len(warmed) == 3

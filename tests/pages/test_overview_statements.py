"""How many SQL statements a first visit to the overview costs: everything the page draws, What changed
included, reads its rollups in a bounded number of grouped statements, whatever the number of stages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event
from streamlit.testing.v1 import AppTest

from tests.conftest import _empty_all_tables
from tests.paths import APP

# the overview's data, cold, on the demo company (8 stages): 25 statements today, among them the journey's
# sums that the map, What changed and the stage strip's statuses share (its stages, metric definitions and
# cohorts per day too), and the last day of its events (which cohorts have closed)
MOST_STATEMENTS = 25


def _statements_of_a_cold_overview() -> list[str]:
    """The SQL the app's engine runs while the overview is drawn from empty caches."""
    import streamlit as st

    from dashboard import cache

    st.cache_data.clear()
    engine = cache.engine()
    seen: list[str] = []

    def count(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        app = AppTest.from_file(APP, default_timeout=120).run()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert not app.exception
    assert app.title[0].value == "Experience map"
    assert "What changed" in [s.value for s in app.subheader]
    return seen


def test_a_cold_overview_runs_at_most_25_statements_on_sqlite(app_env: str) -> None:
    seen = _statements_of_a_cold_overview()
    assert 0 < len(seen) <= MOST_STATEMENTS, "\n".join(s.split("FROM")[0][:80] for s in seen)


@pytest.fixture
def postgres_demo(postgres_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The session's PostgreSQL database holding a small demo company, with the app pointed at it."""
    import streamlit as st

    from dashboard.settings import get_settings
    from data_access.db import make_engine
    from data_access.demo import load_demo

    engine = make_engine(postgres_database)
    _empty_all_tables(engine)
    load_demo(engine, events=5_000, seed=7)
    monkeypatch.setenv("ATLAS_DATABASE_URL", postgres_database)
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield engine
    st.cache_resource.clear()
    get_settings.cache_clear()
    engine.dispose()


def test_a_cold_overview_runs_at_most_25_statements_on_postgresql(postgres_demo: Engine) -> None:
    seen = _statements_of_a_cold_overview()
    assert 0 < len(seen) <= MOST_STATEMENTS, "\n".join(s.split("FROM")[0][:80] for s in seen)

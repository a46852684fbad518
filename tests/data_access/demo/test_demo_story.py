"""The demo tells its story: most stages on or near target, Onboarding clearly the stage that hurts.

Read through the same loaders the overview uses, on the test session's demo company (20k events, seed 7)
over its second half-year: at this size 90 days leave most cells with too few answers (the app's default demo
is ten times larger). The numbers themselves are checked against direct
computations elsewhere (test_changes_from_raw, test_experience_map); this pins what a first visitor sees.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from data_access.changes import load_changes
from data_access.db import make_engine
from data_access.demo import CURRENT_SLUG
from data_access.experience_map import load_experience_map
from data_access.experience_map.queries import data_days_by_journey
from data_access.scope import Period, journey_id, resolve_scope

MIN_ANSWERS = 30  # the app's default


@pytest.fixture(scope="module")
def story(demo_database_url: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What changed and the overview grid over the demo's second half-year (compared with the first)."""
    engine = make_engine(demo_database_url)
    with engine.connect() as connection:
        found = journey_id(connection, CURRENT_SLUG)
        assert found is not None
        year = data_days_by_journey(connection)[found]
        period = Period(year.start + dt.timedelta(days=182), year.end)
        scope = resolve_scope(connection, journey_slug=CURRENT_SLUG, persona_slug=None, period=period)
        assert scope is not None
        changes = load_changes(connection, scope=scope, min_answers=MIN_ANSWERS)
        grid = load_experience_map(connection, scope=scope, metric="health", min_answers=MIN_ANSWERS).grid
    engine.dispose()
    return changes, grid


def test_onboarding_is_the_problem_stage(story: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    changes, grid = story
    onboarding = {row["key"]: row for row in changes.filter(pl.col("stage") == "Onboarding").iter_rows(named=True)}
    assert onboarding["conversion_onboarding"]["status"] == "red"
    assert onboarding["conversion_onboarding"]["value"] < onboarding["conversion_onboarding"]["target"]
    assert onboarding["csat_onboarding"]["status"] == "red"
    assert onboarding["csat_onboarding"]["value"] < 50
    cells = grid.filter(pl.col("stage") == "Onboarding")["health_status"].to_list()
    assert "green" not in cells and cells.count("red") * 2 >= len(cells)  # no cell on target, half or more off


def test_the_other_stages_conversions_are_on_or_near_target(story: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    changes, _grid = story
    others = changes.filter(pl.col("formula") == "conversion", pl.col("stage") != "Onboarding")
    assert others.height >= 5
    assert set(others["status"]) <= {"green", "amber", "no data"}
    assert others.filter(pl.col("status") != "no data").height >= 4


def test_most_measured_cells_outside_onboarding_are_not_red(story: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    _changes, grid = story
    measured = grid.filter(pl.col("stage") != "Onboarding", pl.col("health_status") != "no data")
    assert measured.height >= 4
    assert measured.filter(pl.col("health_status") == "red").height <= measured.height // 3

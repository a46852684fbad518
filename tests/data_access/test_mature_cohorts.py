"""Only cohorts whose conversion window has closed count: crafted cases on SQLite and PostgreSQL.

The shop map's window is 3 days. The last event is on day 10, so cohorts entering up to day 7 have closed
and those of days 8–10 are still open: a customer of day 8 may yet convert, so they are left out of both
the numerator and the denominator, everywhere a conversion is shown.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, func, select

from dashboard import format
from data_access.changes import load_changes
from data_access.conversions import CohortMaturity
from data_access.db import make_engine, upgrade_schema
from data_access.demo import load_demo
from data_access.experience_map import ExperienceMapData, load_experience_map
from data_access.journey_map import JourneyMapData, load_journey_map
from data_access.journey_map.numbers import stage_metric_trend
from data_access.metrics import Status
from data_access.models import EventRollup
from data_access.scope import Period, resolve_scope, resolve_stage
from tests.data_access.test_changes_from_raw import _prepare
from tests.data_access.test_cohort_rollup import START, _import

DAY = 86_400
ROWS = [
    ("c0", 0 * DAY + 9 * 3600, ("browse", None), None),
    ("c0", 1 * DAY, ("buy", None), None),
    ("c1", 1 * DAY, ("browse", None), None),  # never buys: a closed cohort that did not convert
    ("c2", 8 * DAY, ("browse", None), None),  # still inside the window on the last day
    ("c2", 9 * DAY, ("buy", None), None),
    ("c0", 10 * DAY, ("return", None), None),  # the data's last day: day 10
]
LAST_CLOSED = START.date() + dt.timedelta(days=7)


def _days(first: int, last: int) -> Period:
    return Period(START.date() + dt.timedelta(days=first), START.date() + dt.timedelta(days=last))


def _views(
    engine: Engine, period: Period, compared: Period
) -> tuple[ExperienceMapData, pl.DataFrame, JourneyMapData, JourneyMapData]:
    """The overview, What changed, and the journey pages of Buy and Browse."""
    with engine.connect() as connection:
        scope = resolve_scope(connection, journey_slug="shop", persona_slug=None, period=period, compared=compared)
        assert scope is not None
        buy = resolve_stage(connection, scope, stage_slug="buy")
        browse = resolve_stage(connection, scope, stage_slug="browse")
        assert buy is not None and browse is not None
        return (
            load_experience_map(connection, scope=scope, metric="health", min_answers=1),
            load_changes(connection, scope=scope, min_answers=1),
            load_journey_map(connection, scope=buy, min_answers=1),
            load_journey_map(connection, scope=browse, min_answers=1),
        )


def test_a_cohort_inside_its_window_is_left_out(engine: Engine, tmp_path: Path) -> None:
    """Browse → buy over days 0–10: of the closed cohorts (c0, c1) one bought, 50 %, although c2 (day 8,
    still open) bought too; the tile, its weeks, the strip, the journey page, its funnel, the time to buy and
    What changed all count the closed cohorts, and the tile says which ones."""
    _prepare(engine)
    _import(engine, tmp_path / "events.csv", ROWS)
    overview, changes, buy, browse = _views(engine, _days(0, 10), _days(-11, -1))
    tile = next(h for h in overview.headlines if h.key == "conversion")
    assert tile.cohorts is not None
    assert tile.label == "Conversion to Buy"
    assert tile.value == pytest.approx(0.5)
    assert tile.answers == 2
    assert tile.cohorts.through == LAST_CLOSED and not tile.cohorts.not_yet_known
    assert f"up to {LAST_CLOSED:%d %b %Y}" in str(format.cohort_note(tile.cohorts))
    assert "3-day" in str(format.cohort_note(tile.cohorts))
    assert tile.weekly is not None
    # every drawn week holds closed cohorts only: none starts after the last closed day
    assert all(week <= LAST_CLOSED for week in tile.weekly["week"].to_list())
    assert sum(tile.weekly["answers"]) == 2

    assert dict(overview.stages.select("stage_slug", "conversion").iter_rows())["buy"] == pytest.approx(0.5)
    # customers reaching a stage are not a conversion: every one of them counts
    assert dict(overview.stages.select("stage_slug", "customers").iter_rows())["browse"] == 3
    assert overview.cohorts.through == LAST_CLOSED

    page = buy.metrics.filter(pl.col("key") == "conversion")
    assert page["value"].item() == pytest.approx(0.5) and page["sample"].item() == 2
    funnel = browse.funnel
    assert funnel.filter(pl.col("kind") == "stage")["customers"].item() == 2
    assert funnel.filter(pl.col("kind") == "next_stage")["conversion"].item() == pytest.approx(0.5)
    # time to buy: c0 alone (15 hours), not c2
    assert browse.time_to_next.customers == 1
    assert browse.time_to_next.median_days == pytest.approx(15 / 24, abs=0.125)
    by_key = dict(changes.select("key", "value").iter_rows())
    assert by_key["conversion"] == pytest.approx(0.5)
    assert by_key["return_conversion"] == pytest.approx(0.0)  # c0's buy (day 1) closed unconverted; c2's is open


def test_a_period_whose_cohorts_are_all_open_reads_not_yet_known(engine: Engine, tmp_path: Path) -> None:
    """Days 8–10 hold only open cohorts: the conversion is not yet known (no value, never coloured), while the
    compared period, days 0–7, follows the same rule and is known; no change is shown."""
    _prepare(engine)
    _import(engine, tmp_path / "events.csv", ROWS)
    overview, changes, buy, browse = _views(engine, _days(8, 10), _days(0, 7))
    tile = next(h for h in overview.headlines if h.key == "conversion")
    assert tile.cohorts is not None
    assert tile.value is None and tile.previous == pytest.approx(0.5) and tile.change is None
    assert tile.status == Status.NO_DATA
    assert tile.cohorts.not_yet_known
    assert tile.weekly is not None and tile.weekly.is_empty()
    assert format.cohort_status_badge(tile.status, value=tile.value, cohorts=tile.cohorts) == ("not yet known", "gray")
    assert "not yet known" in str(format.cohort_note(overview.cohorts))
    assert dict(overview.stages.select("stage_slug", "conversion").iter_rows())["buy"] is None

    page = buy.metrics.filter(pl.col("key") == "conversion").row(0, named=True)
    assert page["value"] is None and page["previous_value"] == pytest.approx(0.5)
    assert page["status"] == Status.NO_DATA.value
    assert format.metric_badge(page, buy.cohorts) == ("not yet known", "gray")
    assert browse.cohorts.not_yet_known
    assert browse.time_to_next.customers == 0
    row = changes.filter(pl.col("key") == "conversion").row(0, named=True)
    assert row["value"] is None and row["compared_value"] == pytest.approx(0.5)


def test_a_period_whose_windows_have_all_closed_counts_every_cohort(engine: Engine, tmp_path: Path) -> None:
    """Days 0–7 end before the open cohorts: nothing is left out and nothing needs saying."""
    _prepare(engine)
    _import(engine, tmp_path / "events.csv", ROWS)
    overview = _views(engine, _days(0, 7), _days(-8, -1))[0]
    tile = next(h for h in overview.headlines if h.key == "conversion")
    assert tile.value == pytest.approx(0.5)
    assert tile.cohorts is not None and tile.cohorts.through is None
    assert format.cohort_note(tile.cohorts) is None


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The demo at 100k events: weekly cohorts of the onboarding stage large enough to read a trend."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'atlas.db'}")
    upgrade_schema(engine)
    load_demo(engine, events=100_000, seed=7)
    yield engine
    engine.dispose()


def _last_drawn_and_band(weekly: pl.DataFrame) -> tuple[float, tuple[float, float]]:
    """The last week drawn, and the band it should fall in: the median of the weeks before, give or take
    their own largest distance from it and 5 points (weekly cohorts of a few dozen customers are noisy)."""
    drawn = weekly.filter(pl.col("value").is_not_null()).sort("week")["value"].to_list()
    assert len(drawn) >= 4
    before = drawn[:-1]
    median = float(statistics.median(before))
    spread = max(abs(value - median) for value in before) + 0.05
    return drawn[-1], (median - spread, median + spread)


def test_the_demos_weekly_conversion_does_not_plunge_in_its_last_weeks(demo_engine: Engine) -> None:
    """Last 90 days of the demo: the last week drawn of "Ordered → installing" (Onboarding) and of the
    overview's conversion tile is within the band of the weeks before (`_last_drawn_and_band`); counted with
    the open cohorts, as before the rule, the onboarding trend's last week plunged far below that band."""
    with demo_engine.connect() as connection:
        last = connection.execute(select(func.max(EventRollup.day))).scalar()
        end = last if isinstance(last, dt.date) else dt.date.fromisoformat(str(last))
        period = Period(end - dt.timedelta(days=89), end)
        scope = resolve_scope(connection, journey_slug="northwind-current", persona_slug=None, period=period)
        assert scope is not None
        onboarding = resolve_stage(connection, scope, stage_slug="onboarding")
        assert onboarding is not None
        page = load_journey_map(connection, scope=onboarding, min_answers=30)
        overview = load_experience_map(connection, scope=scope, metric="health", min_answers=30)
        counted_open = stage_metric_trend(
            connection, scope=onboarding, min_answers=30, maturity=CohortMaturity(last_day=end, window_days=0)
        )
    assert page.cohorts.through == end - dt.timedelta(days=30)
    trend = page.trend.filter(pl.col("key") == "conversion_onboarding")
    assert trend["week"].max() <= end - dt.timedelta(days=30)  # no week of open cohorts is drawn
    shown, (low, high) = _last_drawn_and_band(trend)
    assert low <= shown <= high
    plunged, _ = _last_drawn_and_band(counted_open.filter(pl.col("key") == "conversion_onboarding"))
    assert plunged < low

    tile = next(h for h in overview.headlines if h.key == "conversion")
    assert tile.weekly is not None
    shown, (low, high) = _last_drawn_and_band(tile.weekly)
    assert low <= shown <= high

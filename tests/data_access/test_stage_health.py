"""A stage's status, one definition on the strip, the journey page, the slides and the report: the health
rule over the metrics the stage's journey page lists (`metrics.stage_status`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from data_access import metrics
from data_access.db import make_engine, session_scope
from data_access.experience_map import load_experience_map
from data_access.experience_map.assembly import with_stage_health
from data_access.importing import import_feedback
from data_access.journey_map import load_journey_map
from data_access.mapfile import import_map
from data_access.metrics import Reading
from data_access.models import EventRollup, FeedbackRollup, Journey
from data_access.scope import Period, resolve_scope, stage_scopes
from tests.paths import ROOT

MIN_ANSWERS = 30
EXAMPLES = ROOT / "examples"
# shared/ sits beside the checkout (CI) or beside the folder of work trees
AIRLINE_CSV = next(
    (
        found
        for found in (folder / "shared" / "data" / "airline_passenger_satisfaction.csv" for folder in ROOT.parents)
        if found.is_file()
    ),
    ROOT.parent / "shared" / "data" / "airline_passenger_satisfaction.csv",
)

readings = st.builds(
    Reading,
    value=st.one_of(st.none(), st.floats(-100, 100, allow_nan=False)),
    answers=st.integers(0, 60),
    target=st.one_of(st.none(), st.floats(-100, 100, allow_nan=False)),
    warning=st.floats(0, 20, allow_nan=False),
    direction=st.sampled_from(["higher", "lower"]),
)


@settings(deadline=None)  # a loaded machine must not fail it on time
@given(st.lists(st.lists(readings, max_size=6), min_size=1, max_size=4))
def test_a_stages_status_is_the_health_of_the_metrics_its_journey_page_lists(stages: list[list[Reading]]) -> None:
    """The status from the metrics' statuses equals `health` computed directly over their readings, and the
    strip carries it for every stage ('no data' for one it has no status for)."""
    statuses = [
        metrics.stage_status(metrics.judge(reading, min_answers=MIN_ANSWERS).value for reading in stage)
        for stage in stages
    ]
    for stage, status in zip(stages, statuses, strict=True):
        assert status == metrics.health(stage, min_answers=MIN_ANSWERS).status
    rows = pl.DataFrame({"stage_slug": [f"s{s}" for s in range(len(stages))] + ["empty"]})
    computed = pl.DataFrame(
        {"stage_slug": [f"s{s}" for s in range(len(stages))], "health_status": [s.value for s in statuses]}
    )
    shown = dict(with_stage_health(rows, computed).iter_rows())
    assert [shown[f"s{s}"] for s in range(len(stages))] == [s.value for s in statuses]
    assert shown["empty"] == "no data"


def _strip_and_pages(engine: Engine, journey_slug: str, period: Period) -> tuple[dict[str, str], dict[str, str]]:
    """Each stage's status on the overview's strip and on its journey page, for all customers over `period`."""
    with engine.connect() as connection:
        scope = resolve_scope(connection, journey_slug=journey_slug, persona_slug=None, period=period)
        assert scope is not None
        strip = load_experience_map(connection, scope=scope, metric="health", min_answers=MIN_ANSWERS).stages
        pages = {
            stage.stage_slug: load_journey_map(connection, scope=stage, min_answers=MIN_ANSWERS).status.value
            for stage in stage_scopes(connection, scope)
        }
    return dict(strip.select("stage_slug", "health_status").iter_rows()), pages


def _last_90_days(engine: Engine, journey_slug: str) -> Period:
    with engine.connect() as connection:
        journey = connection.execute(select(Journey.id).where(Journey.slug == journey_slug)).scalar_one()
        last = max(
            day
            for day in (
                connection.execute(select(func.max(r.day)).where(r.journey_id == journey)).scalar()
                for r in (EventRollup, FeedbackRollup)
            )
            if day is not None
        )
    end = last if isinstance(last, dt.date) else dt.date.fromisoformat(str(last))
    return Period(end - dt.timedelta(days=89), end)


def test_the_strip_and_the_journey_page_agree_on_every_stage_of_the_demo(demo_database_url: str) -> None:
    """On the demo, every stage reads the same status on the overview's strip and on its journey page, over
    the last 90 days and over the whole year; the statuses are not all alike (the rule tells stages apart)."""
    engine = make_engine(demo_database_url)
    try:
        recent = _last_90_days(engine, "northwind-current")
        seen: set[str] = set()
        for period in (recent, Period(recent.end - dt.timedelta(days=364), recent.end)):
            strip, pages = _strip_and_pages(engine, "northwind-current", period)
            assert strip == pages
            seen |= set(strip.values())
        assert len(seen) > 1
    finally:
        engine.dispose()


@pytest.mark.skipif(not AIRLINE_CSV.is_file(), reason=f"the airline survey is not at {AIRLINE_CSV} (../shared/data)")
def test_the_strip_and_the_journey_page_agree_on_the_airline_survey(sqlite_engine: Engine, tmp_path: Path) -> None:
    """The airline survey (answers only): Flight, and every other stage, reads one status on both views."""
    with session_scope(sqlite_engine) as session:
        import_map(session, (EXAMPLES / "maps" / "airline.yaml").read_text(), source="airline.yaml")
    import_feedback(
        sqlite_engine, path=AIRLINE_CSV, mapping=EXAMPLES / "mappings" / "airline_passenger_satisfaction.yaml"
    )
    strip, pages = _strip_and_pages(sqlite_engine, "airline", _last_90_days(sqlite_engine, "airline"))
    assert "flight" in strip
    assert strip == pages

"""View rollups on SQLite and PostgreSQL: the daily rollups summed over persona per day, week and 28-day block.

Whatever was imported, in one file or two, and after a refresh, every view rollup row is the sum of the daily
rollup's rows it covers, and a period read from its pieces gives the daily rollup's sums over the period.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, func, insert, select

from data_access.importing import refresh
from data_access.models import Feedback, Stage
from data_access.rollups import add_to_rollups
from data_access.scope import Period, as_date
from data_access.view_rollups import EPOCH, SPANS, VIEWS, WEEK_SPANS, ViewOf, period_pieces, period_rows
from tests.data_access.test_cohort_rollup import PLACES, START, _import, _prepare

days_from_start = st.integers(0, 75)
event_rows = st.lists(
    st.tuples(
        st.sampled_from([f"c{i}" for i in range(8)]),
        st.integers(0, 75 * 86_400),
        st.sampled_from(PLACES),
        st.sampled_from([None, "saver", "spender"]),
    ),
    min_size=1,
    max_size=40,
    unique_by=lambda r: (r[0], r[1], r[2]),
)


@given(start=st.dates(dt.date(1969, 1, 1), dt.date(2030, 1, 1)), days=st.integers(1, 400))
def test_a_periods_pieces_cover_each_of_its_days_once_with_aligned_rows(start: dt.date, days: int) -> None:
    end = start + dt.timedelta(days=days - 1)
    covered: list[dt.date] = []
    for span, first, last in period_pieces(start, end):
        assert span in SPANS
        row = first
        while row <= last:
            assert (row - EPOCH).days % span == 0
            covered += [row + dt.timedelta(days=d) for d in range(span)]
            row += dt.timedelta(days=span)
    assert covered == [start + dt.timedelta(days=d) for d in range(days)]


@given(start=st.dates(dt.date(1969, 1, 1), dt.date(2030, 1, 1)), days=st.integers(1, 400))
def test_weekly_pieces_cover_each_day_once_and_no_row_spans_two_calendar_weeks(start: dt.date, days: int) -> None:
    end = start + dt.timedelta(days=days - 1)
    covered: list[dt.date] = []
    for span, first, last in period_pieces(start, end, spans=WEEK_SPANS):
        assert span in WEEK_SPANS
        row = first
        while row <= last:
            inside = [row + dt.timedelta(days=d) for d in range(span)]
            # the row's days share one Monday-first week, the one the sparklines and the trend group by
            assert {day - dt.timedelta(days=day.weekday()) for day in inside} == {
                row - dt.timedelta(days=row.weekday())
            }
            covered += inside
            row += dt.timedelta(days=span)
    assert covered == [start + dt.timedelta(days=d) for d in range(days)]


def test_a_90_day_period_reads_at_most_21_rows_per_key() -> None:
    start = dt.date(2026, 8, 3)
    for shift in range(28):
        pieces = period_pieces(start + dt.timedelta(days=shift), start + dt.timedelta(days=shift + 89))
        assert sum((last - first).days // span + 1 for span, first, last in pieces) <= 21


def _frame(connection: Connection, view: ViewOf, *, daily: bool) -> pl.DataFrame:
    table = view.table(daily=daily)
    columns = ["day", "journey_id", *view.keys, *view.sums] + ([] if daily else ["span"])
    rows = connection.execute(select(*(table.c[c] for c in columns))).all()
    frame = pl.DataFrame([tuple(r) for r in rows], schema=columns, orient="row", infer_schema_length=None)
    return frame.with_columns(pl.col("day").map_elements(as_date, return_dtype=pl.Date))


def _expected_view(daily: pl.DataFrame, view: ViewOf) -> pl.DataFrame:
    """The view rollup computed from the daily rollup in polars: every span, rows summed over persona."""
    keys = ["journey_id", *view.keys]
    parts = []
    for span in SPANS:
        since = (pl.col("day") - pl.lit(EPOCH)).dt.total_days()
        start = pl.col("day") - pl.duration(days=since % span)
        parts.append(
            daily.with_columns(start.alias("day"))
            .group_by("day", *keys)
            .agg(*(pl.col(s).sum() for s in view.sums))
            .with_columns(pl.lit(span, pl.Int64).alias("span"))
        )
    return pl.concat(parts).filter(pl.col(view.sums[0]) != 0)


def _sorted(frame: pl.DataFrame, view: ViewOf) -> list[tuple[Any, ...]]:
    columns = ["span", "day", "journey_id", *view.keys, *view.sums]
    frame = frame.filter(pl.col(view.sums[0]) != 0).select(columns)
    return sorted(frame.rows(), key=repr)


def assert_views_follow_the_daily_rollups(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    stored = {}
    with engine.connect() as connection:
        for view in VIEWS:
            daily = _frame(connection, view, daily=True)
            rows = _sorted(_frame(connection, view, daily=False), view)
            assert rows == _sorted(_expected_view(daily, view), view), view.view.__tablename__
            stored[view.view.__tablename__] = rows
    return stored


def _period_sums(connection: Connection, view: ViewOf, period: Period, *, daily: bool) -> dict[Any, Any]:
    model: Any = view.daily if daily else view.view
    rows_of = period_rows(model, [period], [*view.keys, *view.sums])
    keys = [rows_of.c[k] for k in view.keys]
    query = select(*keys, *(func.sum(rows_of.c[s]) for s in view.sums)).group_by(*keys)
    return {tuple(row[: len(keys)]): tuple(row[len(keys) :]) for row in connection.execute(query).all()}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=event_rows, cut=st.integers(0, 40), first_day=days_from_start, length=st.integers(1, 80))
def test_view_rollups_are_the_daily_rollups_summed_over_persona_after_imports_and_a_refresh(
    engine: Engine,
    tmp_path: Path,
    rows: list[tuple[str, int, tuple[str, str | None], str | None]],
    cut: int,
    first_day: int,
    length: int,
) -> None:
    """Imported in one file or two (the second merging into the first's days), then refreshed: the same rows,
    each the sum of the daily rows it covers; any period read from pieces has the daily rollup's sums."""
    _prepare(engine)
    for number, piece in enumerate([rows[:cut], rows[cut:]]):
        if piece:
            _import(engine, tmp_path / f"events-{number}.csv", piece)
    imported = assert_views_follow_the_daily_rollups(engine)
    refresh(engine)
    assert assert_views_follow_the_daily_rollups(engine) == imported

    start = START.date() + dt.timedelta(days=first_day)
    period = Period(start, start + dt.timedelta(days=length - 1))
    with engine.connect() as connection:
        for view in VIEWS:
            assert _period_sums(connection, view, period, daily=False) == _period_sums(
                connection, view, period, daily=True
            )


def test_answers_added_to_stored_days_move_their_days_weeks_and_blocks(engine: Engine) -> None:
    """New answers folded into days that already have some: each day, its week and its block count them."""
    _prepare(engine)
    with engine.connect() as connection:
        journey_id, stage_id = connection.execute(select(Stage.journey_id, Stage.id).limit(1)).one()

    def answers(day: dt.date, scores: list[float]) -> list[dict[str, Any]]:
        at = dt.datetime.combine(day, dt.time(12))
        base = {"occurred_at": at, "journey_id": journey_id, "stage_id": stage_id, "measure": "csat"}
        return [{**base, "score": score} for score in scores]

    day = dt.date(2024, 6, 9)  # a Sunday: the next day starts another week and another 28-day block
    feedback = Feedback.__table__
    for batch in (answers(day, [5, 1]), answers(day, [4]) + answers(day + dt.timedelta(days=1), [2])):
        with engine.begin() as connection:
            known = connection.execute(select(func.coalesce(func.max(feedback.c.id), 0))).scalar_one()
            connection.execute(insert(Feedback), batch)
            add_to_rollups(connection, feedback=select(feedback).where(feedback.c.id > known).subquery())
    stored = assert_views_follow_the_daily_rollups(engine)
    answers_at = 3 + len(VIEWS[1].keys)  # span, day, journey, the keys, then the sums from `answers`
    csat = {(row[0], row[1]): row[answers_at] for row in stored["rollup_feedback_view"]}
    assert csat[(1, day)] == 3 and csat[(1, day + dt.timedelta(days=1))] == 1
    assert sum(n for (span, _), n in csat.items() if span == 7) == 4
    assert sum(n for (span, _), n in csat.items() if span == 28) == 4

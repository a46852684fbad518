"""What changed against the raw events: every stage's conversion and time to next stage, now and then.

What changed reads the rollups of every stage at once (`period_sums`), both periods in each statement;
these tests compute the same numbers from the raw rows by the definition, for random events and random
(possibly overlapping) periods, and check that each stage's rows equal the journey page's numbers.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select

from data_access.changes import load_changes
from data_access.db import session_scope
from data_access.experience_map import load_experience_map
from data_access.importing import refresh
from data_access.journey_map.numbers import stage_metrics
from data_access.mapfile import import_map
from data_access.models import COHORT_BIN_SECONDS, Event, Feedback, Journey, Persona, Stage, Step
from data_access.scope import Period, resolve_scope, stage_scopes
from tests.data_access.test_cohort_rollup import MAP, START, _import, direct_cohorts, event_rows, last_closed_day

METRICS = """
    metrics:
      - key: conversion
        label: Browse to buy
        formula: conversion
        unit: share
        target: 0.5
        warning: 0.1
        stage: buy
      - key: buy_time
        label: Days to buy
        formula: time_to_next_stage
        unit: days
        direction: lower
        target: 1
        warning: 1
        stage: browse
      - key: return_conversion
        label: Buy to return
        formula: conversion
        unit: share
        target: 0.5
        warning: 0.1
        stage: return
"""
DAYS = 12


def _prepare(engine: Engine) -> dict[str, Any]:
    """The cohort tests' shop map with conversion and time-to-next metrics, and no facts."""
    with session_scope(engine) as session:
        if session.scalar(select(Journey.id).where(Journey.slug == "shop")) is None:
            import_map(session, MAP.rstrip("\n") + "\n" + METRICS)
    with engine.begin() as connection:
        connection.execute(delete(Event))
        connection.execute(delete(Feedback))
    refresh(engine)
    with engine.connect() as connection:
        stages = dict(connection.execute(select(Stage.slug, Stage.id)).tuples().all())
        steps = dict(connection.execute(select(Step.slug, Step.id)).tuples().all())
        personas = dict(connection.execute(select(Persona.slug, Persona.id)).tuples().all())
    return {"stages": stages, "steps": steps, "personas": personas}


def _first_entries(rows: list[tuple[str, int, tuple[str, str | None], str | None]], stage: str) -> dict[str, dt.date]:
    """Each customer's day of first entering the stage (any step of it counts)."""
    first: dict[str, int] = {}
    for customer, second, (where, _step), _persona in rows:
        if where == stage:
            first[customer] = min(first.get(customer, second), second)
    return {customer: (START + dt.timedelta(seconds=second)).date() for customer, second in first.items()}


def _in(period: Period) -> pl.Expr:
    return pl.col("day").is_between(period.start, period.end)


def _direct(rows: list[Any], ids: dict[str, Any], period: Period) -> dict[str, Any]:
    """Conversion into buy and into return, and the median seconds from browse to buy, over the period's
    closed cohorts (entered by the last day of events less the window), from the raw rows."""
    closed = last_closed_day(rows)
    cohorts = direct_cohorts(rows, ids).filter(
        pl.col("step_id").is_null(), pl.col("next_step_id").is_null(), _in(period), pl.col("day") <= closed
    )
    found: dict[str, Any] = {}
    for before, stage in (("browse", "buy"), ("buy", "return")):
        base = sum(period.start <= day <= min(period.end, closed) for day in _first_entries(rows, before).values())
        reached = cohorts.filter(pl.col("next_stage_id") == ids["stages"][stage]).height
        found[stage] = reached / base if base else None
    to_buy = cohorts.filter(pl.col("next_stage_id") == ids["stages"]["buy"])["seconds"]
    found["median_seconds"] = to_buy.median() if len(to_buy) else None
    return found


day_offsets = st.integers(-1, DAYS)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=event_rows, now=st.tuples(day_offsets, day_offsets), then=st.tuples(day_offsets, day_offsets))
def test_what_changed_equals_the_cohorts_of_the_raw_events_in_both_periods(
    engine: Engine,
    tmp_path: Path,
    rows: list[tuple[str, int, tuple[str, str | None], str | None]],
    now: tuple[int, int],
    then: tuple[int, int],
) -> None:
    """Conversion into each stage and the median time from browse to buy, in the period and in the compared
    one (which may overlap it or be the same), equal the direct cohort computation over the closed cohorts
    (the median to within half a histogram bin); each stage's rows are the journey page's numbers, and the
    overview's stage strip shows the same conversions."""
    ids = _prepare(engine)
    _import(engine, tmp_path / "events.csv", rows)
    period, compared = (
        Period(START.date() + dt.timedelta(days=min(pair)), START.date() + dt.timedelta(days=max(pair)))
        for pair in (now, then)
    )
    with engine.connect() as connection:
        scope = resolve_scope(connection, journey_slug="shop", persona_slug=None, period=period, compared=compared)
        assert scope is not None
        changes = load_changes(connection, scope=scope, min_answers=1)
        page = {
            stage.stage_name: stage_metrics(connection, scope=stage, min_answers=1)
            for stage in stage_scopes(connection, scope)
        }
        strip = load_experience_map(connection, scope=scope, metric="health", min_answers=1).stages
    rows_by_key = {row["key"]: row for row in changes.iter_rows(named=True)}
    strip_conversion = dict(zip(strip["stage_slug"], strip["conversion"], strict=True))
    direct_now = _direct(rows, ids, period)
    for slug in ("buy", "return"):
        assert strip_conversion[slug] == (None if direct_now[slug] is None else pytest.approx(direct_now[slug]))
    for column, chosen in (("value", period), ("compared_value", compared)):
        direct = _direct(rows, ids, chosen)
        assert rows_by_key["conversion"][column] == pytest.approx(direct["buy"])
        assert rows_by_key["return_conversion"][column] == pytest.approx(direct["return"])
        if direct["median_seconds"] is None:
            assert rows_by_key["buy_time"][column] is None
        else:
            read = rows_by_key["buy_time"][column] * 86_400
            assert abs(read - direct["median_seconds"]) <= COHORT_BIN_SECONDS / 2 + 1e-6
    for stage, metrics in page.items():
        shown = changes.filter(pl.col("stage") == stage)
        expected = metrics.filter(pl.col("scope") != "journey")
        assert shown.sort("key")["value"].to_list() == expected.sort("key")["value"].to_list()
        assert shown.sort("key")["compared_value"].to_list() == expected.sort("key")["previous_value"].to_list()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=event_rows)
def test_the_conversion_tiles_weekly_values_are_the_cohorts_of_each_entry_week(
    engine: Engine, tmp_path: Path, rows: list[tuple[str, int, tuple[str, str | None], str | None]]
) -> None:
    """The headline conversion's sparkline: per calendar week of first entering the stage before, the share
    of that week's closed cohorts who reached the stage within the window, from the raw rows; a week whose
    cohorts are all still open is not drawn."""
    ids = _prepare(engine)
    _import(engine, tmp_path / "events.csv", rows)
    period = Period(START.date() - dt.timedelta(days=3), START.date() + dt.timedelta(days=DAYS))
    with engine.connect() as connection:
        scope = resolve_scope(connection, journey_slug="shop", persona_slug=None, period=period)
        assert scope is not None
        overview = load_experience_map(connection, scope=scope, metric="health", min_answers=1)
    tile = next(h for h in overview.headlines if h.key == "conversion")
    assert tile.label == "Conversion to Buy"
    assert tile.weekly is not None

    def monday(day: dt.date) -> dt.date:
        return day - dt.timedelta(days=day.weekday())

    closed = last_closed_day(rows)
    base: dict[dt.date, int] = {}
    for day in _first_entries(rows, "browse").values():
        if day <= closed:
            base[monday(day)] = base.get(monday(day), 0) + 1
    cohorts = direct_cohorts(rows, ids).filter(
        pl.col("stage_id") == ids["stages"]["browse"],
        pl.col("step_id").is_null(),
        pl.col("next_stage_id") == ids["stages"]["buy"],
        pl.col("day") <= closed,
    )
    reached: dict[dt.date, int] = {}
    for day in cohorts["day"].to_list():
        reached[monday(day)] = reached.get(monday(day), 0) + 1
    expected = {week: reached.get(week, 0) / size for week, size in base.items()}
    shown = dict(zip(tile.weekly["week"].to_list(), tile.weekly["value"].to_list(), strict=True))
    assert shown == pytest.approx(expected)
    assert dict(zip(tile.weekly["week"].to_list(), tile.weekly["answers"].to_list(), strict=True)) == base
    if base:
        assert tile.value == pytest.approx(sum(reached.values()) / sum(base.values()))
    else:
        assert tile.value is None

"""The experience map's queries: the map skeleton and the rollups it reads, as polars frames.

Every fact-derived query here reads rollups, never raw events: for all customers the view rollups
(`rollup_*_view`, per day, week and 28-day block: see `view_rollups`), for one persona the daily rollups
(`rollup_*_daily`), so the experience map costs about the same at 1 million and at 10 million events.
Queries take ids and a `Period` from the view's `Scope`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import polars as pl
from sqlalchemy import Connection, Executable, Select, func, or_, select, union_all

from data_access import models
from data_access.metrics import DEFINITION_COLUMNS
from data_access.models import DEFINITION_FIELDS, EventRollup, FeedbackRollup, LaneItem, Stage, Step, Touchpoint
from data_access.period_sums import TOUCHPOINT_FEEDBACK_SCHEMA
from data_access.scope import Period, as_date
from data_access.view_rollups import of_persona, period_rows, rollup_for


def _frame(connection: Connection, query: Executable, schema: Mapping[str, Any]) -> pl.DataFrame:
    rows = connection.execute(query).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


_POLARS_TYPES: dict[type, Any] = {int: pl.Int64, str: pl.String, bool: pl.Boolean, float: pl.Float64}


def _map_frame(connection: Connection, query: Select[*tuple[Any, ...]]) -> pl.DataFrame:
    """A frame of plain map columns, named by their labels and typed from the model's column types."""
    schema = {str(column.key): _POLARS_TYPES[column.type.python_type] for column in query.selected_columns}
    return _frame(connection, query, schema)


def journeys(connection: Connection) -> pl.DataFrame:
    """Every journey: slug, name, kind, id — current-state maps first."""
    journey = models.Journey
    query = select(journey.slug, journey.name, journey.kind, journey.id).order_by(
        (journey.kind != "current"), journey.id
    )
    return _map_frame(connection, query)


def personas(connection: Connection) -> pl.DataFrame:
    query = select(models.Persona.slug, models.Persona.name, models.Persona.id).order_by(models.Persona.name)
    return _map_frame(connection, query)


def stages(connection: Connection, *, journey_id: int) -> pl.DataFrame:
    columns = (Stage.id, Stage.slug, Stage.name, Stage.position, Stage.description)
    names = ("stage_id", "stage_slug", "stage", "stage_position", "stage_description")
    query = select(*_labelled(columns, names)).where(Stage.journey_id == journey_id).order_by(Stage.position)
    return _map_frame(connection, query)


def channels(connection: Connection) -> pl.DataFrame:
    channel = models.Channel
    columns = (channel.id, channel.slug, channel.name, channel.kind, channel.position)
    names = ("channel_id", "channel_slug", "channel", "channel_kind", "channel_position")
    query = select(*_labelled(columns, names)).order_by(channel.position, channel.id)
    return _map_frame(connection, query)


def touchpoints(connection: Connection, *, journey_id: int) -> pl.DataFrame:
    columns = (Touchpoint.id, Touchpoint.stage_id, Touchpoint.channel_id, Touchpoint.slug, Touchpoint.name)
    names = ("touchpoint_id", "stage_id", "channel_id", "touchpoint_slug", "touchpoint")
    query = (
        select(*_labelled(columns, names), Touchpoint.owner, Touchpoint.moment_of_truth)
        .join(Stage, Stage.id == Touchpoint.stage_id)
        .where(Stage.journey_id == journey_id)
        .order_by(Stage.position, Touchpoint.id)
    )
    return _map_frame(connection, query)


def _labelled(columns: tuple[Any, ...], names: tuple[str, ...]) -> list[Any]:
    return [column.label(name) for column, name in zip(columns, names, strict=True)]


def metric_definitions(connection: Connection, *, journey_id: int) -> pl.DataFrame:
    query = select(
        *DEFINITION_FIELDS,
        models.MetricDefinition.stage_id,
        models.MetricDefinition.touchpoint_id,
    ).where(models.MetricDefinition.journey_id == journey_id)
    schema = {
        **DEFINITION_COLUMNS,
        "stage_id": pl.Int64,
        "touchpoint_id": pl.Int64,
    }
    return _frame(connection, query, schema)


def data_days(connection: Connection, *, journey_id: int) -> Period | None:
    """First and last day with events or feedback in the journey's rollups; None when it has no facts."""
    bounds: list[dt.date] = []
    for table in (EventRollup, FeedbackRollup):
        low, high = connection.execute(
            select(func.min(table.day), func.max(table.day)).where(table.journey_id == journey_id)
        ).one()
        bounds += [as_date(d) for d in (low, high) if d is not None]
    return Period(min(bounds), max(bounds)) if bounds else None


def data_days_by_journey(connection: Connection) -> dict[int, Period]:
    """First and last day with events or feedback of every journey that has facts (one statement)."""
    parts = [
        select(table.journey_id, func.min(table.day), func.max(table.day)).group_by(table.journey_id)
        for table in (EventRollup, FeedbackRollup)
    ]
    bounds: dict[int, list[dt.date]] = {}
    for journey, low, high in connection.execute(union_all(*parts)).all():
        bounds.setdefault(journey, []).extend(as_date(d) for d in (low, high) if d is not None)
    return {journey: Period(min(days), max(days)) for journey, days in bounds.items() if days}


def journey_feedback_by_week(
    connection: Connection, *, journey_id: int, period: Period, persona_id: int | None = None
) -> pl.DataFrame:
    """Summed answers of the whole journey per measure and day or whole calendar week, from the feedback
    rollups (the headlines' weekly sparklines): a row's `day` is its week's Monday when it sums a whole week
    of the period (the view rollup's weeks), else its own day, so no row spans two weeks."""
    r = rollup_for(FeedbackRollup, persona_id)
    rows_of = period_rows(
        r,
        [period],
        ["day", "measure", *ANSWER_SUMS],
        r.journey_id == journey_id,
        of_persona(r, persona_id),
        by_week=True,
    )
    query = select(rows_of.c.day, rows_of.c.measure, *(func.sum(rows_of.c[name]) for name in ANSWER_SUMS)).group_by(
        rows_of.c.day, rows_of.c.measure
    )
    schema = {
        "day": pl.Date,
        "measure": pl.String,
        "answers": pl.Int64,
        "score_sum": pl.Float64,
        "good": pl.Int64,
        "bad": pl.Int64,
    }
    rows = [(as_date(day), *rest) for day, *rest in connection.execute(query).all()]
    return pl.DataFrame(rows, schema=schema, orient="row")


# a step's name and place, then the same measure and sums as the touchpoints' feedback
STEP_FEEDBACK_SCHEMA: dict[str, pl.DataType | type] = {
    "step_id": pl.Int64,
    "step_slug": pl.String,
    "step": pl.String,
    "stage_id": pl.Int64,
    "touchpoint_id": pl.Int64,
} | {
    name: kind
    for name, kind in TOUCHPOINT_FEEDBACK_SCHEMA.items()
    if name not in ("stage_id", "channel_id", "touchpoint_id")
}
ANSWER_SUMS = ("answers", "score_sum", "good", "bad")


def feedback_by_step(
    connection: Connection, *, journey_id: int, period: Period, persona_id: int | None = None
) -> pl.DataFrame:
    """Summed answers per step × measure in the period (answers naming no step are left out), with the step's
    slug, name, stage and touchpoint: what `detection.feedback_findings` judges below the touchpoints."""
    r = rollup_for(FeedbackRollup, persona_id)
    rows_of = period_rows(
        r,
        [period],
        ["step_id", "measure", *ANSWER_SUMS],
        r.journey_id == journey_id,
        r.step_id.is_not(None),
        of_persona(r, persona_id),
    )
    keys = (Step.id, Step.slug, Step.name, Step.stage_id, Step.touchpoint_id, rows_of.c.measure)
    query = (
        select(*keys, *(func.sum(rows_of.c[name]) for name in ANSWER_SUMS))
        .join(Step, Step.id == rows_of.c.step_id)
        .group_by(*keys)
        .order_by(Step.id, rows_of.c.measure)
    )
    return _frame(connection, query, STEP_FEEDBACK_SCHEMA)


def events_by_cell(
    connection: Connection, *, journey_id: int, period: Period, persona_id: int | None = None
) -> pl.DataFrame:
    r = rollup_for(EventRollup, persona_id)
    rows_of = period_rows(
        r, [period], ["stage_id", "channel_id", "events"], r.journey_id == journey_id, of_persona(r, persona_id)
    )
    query = select(rows_of.c.stage_id, rows_of.c.channel_id, func.sum(rows_of.c.events)).group_by(
        rows_of.c.stage_id, rows_of.c.channel_id
    )
    return _frame(connection, query, {"stage_id": pl.Int64, "channel_id": pl.Int64, "events": pl.Int64})


def assumed_emotion_by_stage(connection: Connection, *, journey_id: int, persona_id: int | None = None) -> pl.DataFrame:
    """The team's assumed emotion per stage: the mean of its steps' emotion cards (−2..+2).

    With a persona, that persona's cards replace nothing: general cards and the persona's own both count.
    """
    persona_match = (
        LaneItem.persona_id.is_(None)
        if persona_id is None
        else or_(LaneItem.persona_id.is_(None), LaneItem.persona_id == persona_id)
    )
    query = (
        select(Step.stage_id, func.avg(LaneItem.emotion))
        .join(Step, Step.id == LaneItem.step_id)
        .join(Stage, Stage.id == Step.stage_id)
        .where(
            Stage.journey_id == journey_id,
            LaneItem.lane == models.Lane.EMOTION.value,
            LaneItem.emotion.is_not(None),
            persona_match,
        )
        .group_by(Step.stage_id)
    )
    return _frame(connection, query, {"stage_id": pl.Int64, "assumed": pl.Float64})

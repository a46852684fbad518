"""Rebuild rollups from facts inside the database (SQLAlchemy Core `INSERT … SELECT … GROUP BY`).

The facts never leave the database: the same statements run on SQLite and on PostgreSQL, inside the
caller's transaction, so an import and its rollups land together or not at all.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, and_, case, delete, func, insert, null, select, true
from sqlalchemy.sql.elements import ColumnElement

from data_access.metrics import SCALES
from data_access.models import Base, EntryRollup, Event, EventRollup, Feedback, FeedbackRollup, StageEntry

ROLLUP_TABLES = (EventRollup, FeedbackRollup, StageEntry, EntryRollup)


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _band_count(*, good: bool) -> ColumnElement[int]:
    """1 when the answer falls in its measure's favourable (or unfavourable) band, else 0."""
    score = _table(Feedback).c.score
    measure = _table(Feedback).c.measure
    whens = [
        (and_(measure == m.value, score >= s.good_from if good else score <= s.bad_to), 1) for m, s in SCALES.items()
    ]
    return case(*whens, else_=0)


def refresh_rollups(connection: Connection, *, journey_ids: list[int] | None = None) -> None:
    """Rebuild every rollup of the given journeys (all journeys when None) from events and feedback."""
    events = _table(Event)
    feedback = _table(Feedback)
    entries = _table(StageEntry)

    def scope(column: ColumnElement[int]) -> ColumnElement[bool]:
        return column.in_(journey_ids) if journey_ids is not None else true()

    for model in ROLLUP_TABLES:
        table = _table(model)
        connection.execute(delete(table).where(scope(table.c.journey_id)))

    day = func.date(events.c.occurred_at)
    connection.execute(
        insert(_table(EventRollup)).from_select(
            ["day", "journey_id", "stage_id", "channel_id", "step_id", "persona_id", "events", "value_sum"],
            select(
                day,
                events.c.journey_id,
                events.c.stage_id,
                events.c.channel_id,
                events.c.step_id,
                events.c.persona_id,
                func.count(),
                func.coalesce(func.sum(events.c.value), 0.0),
            )
            .where(scope(events.c.journey_id))
            .group_by(
                day,
                events.c.journey_id,
                events.c.stage_id,
                events.c.channel_id,
                events.c.step_id,
                events.c.persona_id,
            ),
        )
    )

    fday = func.date(feedback.c.occurred_at)
    keys = [
        fday,
        feedback.c.journey_id,
        feedback.c.stage_id,
        feedback.c.channel_id,
        feedback.c.touchpoint_id,
        feedback.c.step_id,
        feedback.c.persona_id,
        feedback.c.measure,
    ]
    connection.execute(
        insert(_table(FeedbackRollup)).from_select(
            [
                "day",
                "journey_id",
                "stage_id",
                "channel_id",
                "touchpoint_id",
                "step_id",
                "persona_id",
                "measure",
                "answers",
                "score_sum",
                "good",
                "bad",
            ],
            select(
                *keys,
                func.count(),
                func.sum(feedback.c.score),
                func.sum(_band_count(good=True)),
                func.sum(_band_count(good=False)),
            )
            .where(scope(feedback.c.journey_id))
            .group_by(*keys),
        )
    )

    # First entry of each customer into each stage (step_id NULL) and into each step.
    for by_step in (False, True):
        group = [events.c.journey_id, events.c.customer_id, events.c.stage_id]
        if by_step:
            group.append(events.c.step_id)
        query = (
            select(
                events.c.journey_id,
                events.c.customer_id,
                events.c.stage_id,
                events.c.step_id if by_step else null(),
                func.min(events.c.persona_id),
                func.min(events.c.occurred_at),
            )
            .where(scope(events.c.journey_id))
            .group_by(*group)
        )
        if by_step:
            query = query.where(events.c.step_id.is_not(None))
        connection.execute(
            insert(entries).from_select(
                ["journey_id", "customer_id", "stage_id", "step_id", "persona_id", "entered_at"], query
            )
        )

    eday = func.date(entries.c.entered_at)
    connection.execute(
        insert(_table(EntryRollup)).from_select(
            ["day", "journey_id", "stage_id", "step_id", "persona_id", "customers"],
            select(
                eday,
                entries.c.journey_id,
                entries.c.stage_id,
                entries.c.step_id,
                entries.c.persona_id,
                func.count(),
            )
            .where(scope(entries.c.journey_id))
            .group_by(eday, entries.c.journey_id, entries.c.stage_id, entries.c.step_id, entries.c.persona_id),
        )
    )

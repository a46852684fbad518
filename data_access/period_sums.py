"""Rollup sums of a view for every stage at once, over its period and compared period in one statement each.

What changed and the experience map compare a period with another one. Rather than one query per stage,
metric and period, each query here sums a rollup by its keys for every stage of the journey over the rows
that cover each period (`view_rollups.period_rows`: for all customers the view rollup's days, weeks and
blocks, one index range each), with one conditional sum per period (`SUM(CASE WHEN period_index = …)`), so
the periods may overlap (or be the same) and still cost one statement. The answer is long: one row per key and period
that has rows, with the period's label in `period`. Only rollups are read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl
from sqlalchemy import Connection, case, func, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from data_access.conversions import CohortMaturity
from data_access.models import CohortRollup, EntryRollup, EventRollup, FeedbackRollup
from data_access.scope import Period, Scope, as_date
from data_access.view_rollups import of_persona, period_rows, rollup_for

Rollup = type[FeedbackRollup] | type[EventRollup] | type[EntryRollup] | type[CohortRollup]
CURRENT = "current"
PREVIOUS = "previous"


def view_periods(scope: Scope, maturity: CohortMaturity | None = None) -> dict[str, Period]:
    """The view's period and the one it is compared with, by label; with `maturity`, each one's days whose
    cohorts have closed (a period with none is left out)."""
    periods = {CURRENT: scope.period, PREVIOUS: scope.compared}
    if maturity is None:
        return periods
    closed = {label: maturity.closed(period) for label, period in periods.items()}
    return {label: period for label, period in closed.items() if period is not None}


def sums_in_periods(
    connection: Connection,
    rollup: Rollup,
    *,
    keys: Sequence[InstrumentedAttribute[Any]],
    sums: Sequence[InstrumentedAttribute[Any]],
    schema: Mapping[str, pl.DataType | type],
    scope: Scope,
    conditions: Sequence[Callable[[Any], ColumnElement[bool]]] = (),
    maturity: CohortMaturity | None = None,
) -> pl.DataFrame:
    """`sums` of `rollup` by `keys` over the scope's journey and persona in each of its periods
    (`view_periods`), in one statement (see the module).

    `schema` names the key columns then the sum columns, in order; the frame has them plus `period`. `keys`
    and `sums` name columns of `rollup`; `conditions` are made for the rollup read (`view_rollups.rollup_for`).
    With `maturity`, only the days of closed cohorts count (`view_periods`).
    """
    journey_id, persona_id, periods = scope.journey_id, scope.persona_id, view_periods(scope, maturity)
    if not periods:
        return pl.DataFrame(schema={"period": pl.String, **schema})
    # a view of every customer reads the view rollup: the same columns, summed over persona
    key_names = [key.key for key in keys]
    sum_names = [column.key for column in sums]
    read = rollup_for(rollup, persona_id, [*key_names, *sum_names])
    rows_of = period_rows(
        read,
        list(periods.values()),
        [*key_names, *sum_names],
        read.journey_id == journey_id,
        of_persona(read, persona_id),
        *(condition(read) for condition in conditions),
        by_day="day" in key_names,
    )
    columns: list[ColumnElement[Any]] = []
    for index in range(len(periods)):
        inside = rows_of.c.period_index == index
        columns.append(func.count(case((inside, 1))))
        columns += [func.sum(case((inside, rows_of.c[name]))) for name in sum_names]
    group = [rows_of.c[name] for name in key_names]
    query = select(*group, *columns).group_by(*group)
    rows = connection.execute(query).all()
    key_count, sum_count = len(keys), len(sums)
    day_key = [i for i, key in enumerate(keys) if key.key == "day"]
    long: list[tuple[Any, ...]] = []
    for row in rows:
        key_values = list(row[:key_count])
        for i in day_key:
            key_values[i] = as_date(key_values[i])
        for index, label in enumerate(periods):
            start = key_count + index * (sum_count + 1)
            if row[start]:
                long.append((label, *key_values, *row[start + 1 : start + 1 + sum_count]))
    return pl.DataFrame(long, schema={"period": pl.String, **schema}, orient="row")


# the feedback sums of a period per stage × channel × touchpoint × measure, as `feedback_sums` reads them
TOUCHPOINT_FEEDBACK_SCHEMA: dict[str, pl.DataType | type] = {
    "stage_id": pl.Int64,
    "channel_id": pl.Int64,
    "touchpoint_id": pl.Int64,
    "measure": pl.String,
    "answers": pl.Int64,
    "score_sum": pl.Float64,
    "good": pl.Int64,
    "bad": pl.Int64,
}


def feedback_sums(connection: Connection, *, scope: Scope) -> pl.DataFrame:
    """Answers per period × stage × channel × touchpoint × measure (channel or touchpoint null if unnamed)."""
    r = FeedbackRollup
    return sums_in_periods(
        connection,
        r,
        keys=(r.stage_id, r.channel_id, r.touchpoint_id, r.measure),
        sums=(r.answers, r.score_sum, r.good, r.bad),
        schema=TOUCHPOINT_FEEDBACK_SCHEMA,
        scope=scope,
    )


def event_sums(connection: Connection, *, scope: Scope) -> pl.DataFrame:
    """Events per period × stage × channel."""
    r = EventRollup
    return sums_in_periods(
        connection,
        r,
        keys=(r.stage_id, r.channel_id),
        sums=(r.events,),
        schema={"stage_id": pl.Int64, "channel_id": pl.Int64, "events": pl.Int64},
        scope=scope,
    )


def stage_entrant_sums(
    connection: Connection, *, scope: Scope, by_day: bool, maturity: CohortMaturity | None = None
) -> pl.DataFrame:
    """Customers first reaching each stage per period (and day, with `by_day`): the stages' cohorts (the closed
    ones only with `maturity`)."""
    r = EntryRollup
    keys = (r.day, r.stage_id) if by_day else (r.stage_id,)
    schema = {"day": pl.Date, "stage_id": pl.Int64} if by_day else {"stage_id": pl.Int64}
    return sums_in_periods(
        connection, r, keys=keys, sums=(r.customers,), schema={**schema, "entrants": pl.Int64}, scope=scope,
        conditions=(lambda read: read.step_id.is_(None),), maturity=maturity,
    )  # fmt: skip


def stage_conversion_sums(
    connection: Connection, *, scope: Scope, by_day: bool, maturity: CohortMaturity | None = None
) -> pl.DataFrame:
    """Of each stage's cohort, the customers who reached the next stage within the window, per period × stage
    (the cohort's) × next stage × duration bin, or per period × entry day × stage × next stage with `by_day`;
    the closed cohorts only with `maturity`."""
    r = CohortRollup
    keys = (r.day, r.stage_id, r.next_stage_id) if by_day else (r.stage_id, r.next_stage_id, r.duration_bin)
    schema = (
        {"day": pl.Date, "stage_id": pl.Int64, "next_stage_id": pl.Int64}
        if by_day
        else {"stage_id": pl.Int64, "next_stage_id": pl.Int64, "duration_bin": pl.Int64}
    )
    return sums_in_periods(
        connection, r, keys=keys, sums=(r.customers,), schema={**schema, "converted": pl.Int64}, scope=scope,
        conditions=(lambda read: read.step_id.is_(None), lambda read: read.next_step_id.is_(None)),
        maturity=maturity,
    )  # fmt: skip

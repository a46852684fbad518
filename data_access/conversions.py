"""Cohort conversions of a view: read from the cohort and entry rollups only (`view_rollups.rollup_for`).

Every number comes from rows that add up over days: for each (from, to) pair of the map, the customers
who first reached `from` on a day in the period (the cohort, `entrants`) and of them those who reached
`to` within the journey's conversion window (`converted`, counted on the cohort's entry day), and the
histogram of how long that took. `data_access.metrics` turns these sums into conversion, drop-off and
the median time; see `cohort_rollup` for which pairs exist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import Connection, func, literal, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from data_access.metrics import median_from_histogram
from data_access.models import (
    COHORT_BIN_SECONDS,
    DEFAULT_CONVERSION_WINDOW_DAYS,
    CohortRollup,
    EntryRollup,
    Journey,
)
from data_access.scope import Period
from data_access.view_rollups import of_persona, period_rows, rollup_for

PAIR = ["stage_id", "step_id", "next_stage_id", "next_step_id"]
COHORT_SCHEMA = pl.Schema(
    {
        "day": pl.Date,
        "stage_id": pl.Int64,
        "step_id": pl.Int64,
        "next_stage_id": pl.Int64,
        "next_step_id": pl.Int64,
        "converted": pl.Int64,
    }
)
ENTRANT_SCHEMA = pl.Schema({"day": pl.Date, "stage_id": pl.Int64, "step_id": pl.Int64, "entrants": pl.Int64})
HISTOGRAM_SCHEMA = pl.Schema(
    {
        "stage_id": pl.Int64,
        "step_id": pl.Int64,
        "next_stage_id": pl.Int64,
        "next_step_id": pl.Int64,
        "duration_bin": pl.Int64,
        "customers": pl.Int64,
    }
)


def persona_filter(
    column: ColumnElement[int | None] | InstrumentedAttribute[int | None], persona_id: int | None
) -> ColumnElement[bool]:
    """Rows of the persona; every row when the view is of all customers."""
    return literal(True) if persona_id is None else column == persona_id


# the resolution a median read from the histogram is within, in days
MEDIAN_RESOLUTION_DAYS = COHORT_BIN_SECONDS / 2 / 86_400


def conversion_window_days(connection: Connection, *, journey_id: int) -> int:
    """The journey's conversion window: reaching the next stage or step within it counts as converting."""
    window = connection.execute(select(Journey.conversion_window_days).where(Journey.id == journey_id)).scalar()
    return int(window) if window is not None else DEFAULT_CONVERSION_WINDOW_DAYS


@dataclass(frozen=True)
class CohortSums:
    """The cohort sums of one view: a journey, a persona (None: everyone) and a period; each reader takes
    `stage_ids` (pairs starting in those stages; None: every stage)."""

    journey_id: int
    period: Period
    persona_id: int | None = None

    def converted(self, connection: Connection, *, stage_ids: Sequence[int] | None = None) -> pl.DataFrame:
        """Customers converted per cohort entry day and pair."""
        r = CohortRollup
        keys = (r.day, r.stage_id, r.step_id, r.next_stage_id, r.next_step_id)
        return self._customers_by(connection, r, keys, COHORT_SCHEMA, stage_ids)

    def entrants(self, connection: Connection, *, stage_ids: Sequence[int] | None = None) -> pl.DataFrame:
        """Cohort sizes: customers first reaching each stage (step null) or step per day, from the entry rollup."""
        r = EntryRollup
        return self._customers_by(connection, r, (r.day, r.stage_id, r.step_id), ENTRANT_SCHEMA, stage_ids)

    def durations(
        self, connection: Connection, *, stage_ids: Sequence[int] | None = None, stage_to_stage_only: bool = True
    ) -> pl.DataFrame:
        """How long the converted customers of the period's cohorts took, per pair, in COHORT_BIN_SECONDS bins."""
        r = CohortRollup
        keys = (r.stage_id, r.step_id, r.next_stage_id, r.next_step_id, r.duration_bin)

        def stage_to_stage(read: Any) -> ColumnElement[bool]:
            return read.step_id.is_(None) & read.next_step_id.is_(None) if stage_to_stage_only else literal(True)

        return self._customers_by(connection, r, keys, HISTOGRAM_SCHEMA, stage_ids, stage_to_stage)

    def _customers_by(
        self,
        connection: Connection,
        rollup: type[CohortRollup] | type[EntryRollup],
        keys: Sequence[InstrumentedAttribute[Any]],
        schema: pl.Schema,
        stage_ids: Sequence[int] | None,
        *conditions: Callable[[Any], ColumnElement[bool]],
    ) -> pl.DataFrame:
        """A rollup's customers summed by `keys` over the view's journey, period, persona and stages."""
        # a view of every customer reads the view rollup (`view_rollups`): the same columns without persona
        names = [key.key for key in keys]
        read = rollup_for(rollup, self.persona_id, [*names, "customers"])
        rows_of = period_rows(
            read,
            [self.period],
            [*names, "customers"],
            read.journey_id == self.journey_id,
            of_persona(read, self.persona_id),
            read.stage_id.in_(stage_ids) if stage_ids is not None else literal(True),
            *(condition(read) for condition in conditions),
            by_day="day" in names,
        )
        group = [rows_of.c[name] for name in names]
        query = select(*group, func.sum(rows_of.c.customers)).group_by(*group)
        rows = [tuple(row) for row in connection.execute(query).all()]
        return pl.DataFrame(rows, schema=schema, orient="row")


# --- pure --------------------------------------------------------------------------------------


def pair_conversions(converted: pl.DataFrame, entrants: pl.DataFrame, by: Sequence[str] = ()) -> pl.DataFrame:
    """Per pair (and `by`, e.g. a week column both frames carry): entrants, converted and the conversion.

    The entrants of a pair are its `from`'s cohort; the conversion is null when the cohort is empty and
    never above 1, since every converted customer belongs to the cohort.
    """
    keys = [*by, *PAIR]
    summed = converted.group_by(keys).agg(pl.col("converted").sum())
    sizes = entrants.group_by([*by, "stage_id", "step_id"]).agg(pl.col("entrants").sum())
    return (
        summed.join(sizes, on=[*by, "stage_id", "step_id"], how="left", nulls_equal=True)
        .with_columns(pl.col("entrants").fill_null(0))
        .with_columns(
            pl.when(pl.col("entrants") > 0).then(pl.col("converted") / pl.col("entrants")).alias("conversion")
        )
    )


def median_days_by_pair(histograms: pl.DataFrame) -> pl.DataFrame:
    """Per pair: the median duration in days read from the histogram, and the customers it rests on."""
    rows = []
    for key, part in histograms.group_by(PAIR, maintain_order=True):
        counts = dict(zip(part["duration_bin"].to_list(), part["customers"].to_list(), strict=True))
        median = median_from_histogram(counts, COHORT_BIN_SECONDS)
        rows.append((*key, None if median is None else median / 86_400, sum(counts.values())))
    schema = {**{k: pl.Int64 for k in PAIR}, "median_days": pl.Float64, "customers": pl.Int64}
    return pl.DataFrame(rows, schema=schema, orient="row")

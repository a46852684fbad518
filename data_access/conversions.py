"""Cohort conversions of a view: read from the cohort and entry rollups only (`view_rollups.rollup_for`).

Every number comes from rows that add up over days: for each (from, to) pair of the map, the customers
who first reached `from` on a day in the period (the cohort, `entrants`) and of them those who reached
`to` within the journey's conversion window (`converted`, counted on the cohort's entry day), and the
histogram of how long that took. `data_access.metrics` turns these sums into conversion, drop-off and
the median time; see `cohort_rollup` for which pairs exist.

**Only closed cohorts count** (`CohortMaturity`). A cohort's customers have until the end of the window to
convert, so a cohort that entered less than the window before the data's last day is still open: some of
its customers will convert and have not yet. Every conversion, drop-off and time to next stage reads only
the cohorts whose window has closed by the data's last day (the last day any event of the journey was
recorded, read from the daily events rollup): entry days up to `last_day − window`. Open cohorts are left
out of both the numerator and the denominator; a period whose cohorts are all open is not yet known.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
    EventRollup,
    Journey,
)
from data_access.scope import Period, as_date
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
class CohortMaturity:
    """Which cohorts of a journey have closed: those whose conversion window ended by the data's last day.

    A customer entering on day d converts if they reach the next stage or step within `window_days` of
    their entry, so by the end of day d + window at the latest: the cohort of day d is closed when
    d + window ≤ `last_day`. `last_day` is the last day any event of the journey was recorded (None: the
    journey has no events, so it has no cohort either).
    """

    last_day: dt.date | None
    window_days: int = DEFAULT_CONVERSION_WINDOW_DAYS

    @property
    def last_cohort_day(self) -> dt.date | None:
        """The last entry day whose cohort has closed (None without events)."""
        return None if self.last_day is None else self.last_day - dt.timedelta(days=self.window_days)

    def closed(self, period: Period) -> Period | None:
        """The days of `period` whose cohorts have closed; None when there are none."""
        last = self.last_cohort_day
        if last is None or last < period.start:
            return None
        return Period(period.start, min(period.end, last))

    def has_open(self, period: Period) -> bool:
        """Whether some of the period's days with data hold cohorts still inside their window."""
        last = self.last_cohort_day
        return last is not None and self.last_day is not None and period.end > last and period.start <= self.last_day

    def not_yet_known(self, period: Period) -> bool:
        """Whether every cohort of the period with data is still open: its conversion is not yet known."""
        return self.has_open(period) and self.closed(period) is None

    def closed_days(self, day: str = "day") -> pl.Expr:
        """True on the rows whose entry day (`day`) holds a closed cohort."""
        last = self.last_cohort_day
        return pl.lit(False) if last is None else pl.col(day) <= pl.lit(last, pl.Date)

    def coverage(self, period: Period) -> CohortCoverage:
        """What the period's conversions count, for the UI to say."""
        closed = self.closed(period)
        return CohortCoverage(
            through=closed.end if closed is not None and self.has_open(period) else None,
            window_days=self.window_days,
            not_yet_known=self.not_yet_known(period),
        )


@dataclass(frozen=True)
class CohortCoverage:
    """What a period's conversions count: `through` is the last entry day counted when later cohorts of the
    period are still open (None when none is), and `not_yet_known` says every cohort of it is still open."""

    through: dt.date | None
    window_days: int
    not_yet_known: bool = False


OPEN_COHORTS = CohortMaturity(last_day=None)


def cohort_maturity(connection: Connection, *, journey_id: int) -> CohortMaturity:
    """The journey's `CohortMaturity`: its conversion window and the last day of its events, read in one
    statement from the journey and the daily events rollup (through its (journey, day) index)."""
    last_day = select(func.max(EventRollup.day)).where(EventRollup.journey_id == journey_id).scalar_subquery()
    found = connection.execute(select(Journey.conversion_window_days, last_day).where(Journey.id == journey_id)).first()
    if found is None:
        return OPEN_COHORTS
    window, day = found
    return CohortMaturity(
        last_day=None if day is None else as_date(day),
        window_days=int(window) if window is not None else DEFAULT_CONVERSION_WINDOW_DAYS,
    )


@dataclass(frozen=True)
class CohortSums:
    """The cohort sums of one view: a journey, a persona (None: everyone) and its periods (the period shown and
    the one compared with, say); each reader takes `stage_ids` (pairs starting in those stages; None: every
    stage) and answers with one frame per period, in the order of `periods`, read in one statement.

    Conversions and durations are of each period's closed cohorts only (`maturity`); `entrants` are the
    cohorts of those days too, unless asked for every day (`closed_only=False`: customers reaching a stage).
    """

    journey_id: int
    periods: tuple[Period, ...]
    persona_id: int | None = None
    maturity: CohortMaturity = field(kw_only=True)  # required: a sum without it would count no cohort
    # rows keyed by `day` hold a whole calendar week (dated by its Monday) where the view rollup has one inside
    # the days read, else one day: for sums per week or per period, from fewer rows
    by_week: bool = field(default=False, kw_only=True)

    def converted(self, connection: Connection, *, stage_ids: Sequence[int] | None = None) -> list[pl.DataFrame]:
        """Customers converted per cohort entry day and pair."""
        r = CohortRollup
        keys = (r.day, r.stage_id, r.step_id, r.next_stage_id, r.next_step_id)
        return self._customers_by(connection, r, keys, COHORT_SCHEMA, stage_ids)

    def entrants(
        self, connection: Connection, *, stage_ids: Sequence[int] | None = None, closed_only: bool = True
    ) -> list[pl.DataFrame]:
        """Cohort sizes: customers first reaching each stage (step null) or step per day, from the entry rollup;
        of the closed cohorts' days, or of every day of the period without `closed_only`."""
        r = EntryRollup
        keys = (r.day, r.stage_id, r.step_id)
        return self._customers_by(connection, r, keys, ENTRANT_SCHEMA, stage_ids, closed_only=closed_only)

    def durations(
        self, connection: Connection, *, stage_ids: Sequence[int] | None = None, stage_to_stage_only: bool = True
    ) -> list[pl.DataFrame]:
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
        closed_only: bool = True,
    ) -> list[pl.DataFrame]:
        """A rollup's customers summed by `keys` over the view's journey, persona and stages in each period (its
        closed cohorts' days with `closed_only`), one statement for all: a frame per period."""
        read_periods = [self.maturity.closed(period) if closed_only else period for period in self.periods]
        chosen = [period for period in read_periods if period is not None]
        if not chosen:
            return [pl.DataFrame(schema=schema) for _ in self.periods]
        # a view of every customer reads the view rollup (`view_rollups`): the same columns without persona
        names = [key.key for key in keys]
        read = rollup_for(rollup, self.persona_id, [*names, "customers"])
        rows_of = period_rows(
            read,
            chosen,
            [*names, "customers"],
            read.journey_id == self.journey_id,
            of_persona(read, self.persona_id),
            read.stage_id.in_(stage_ids) if stage_ids is not None else literal(True),
            *(condition(read) for condition in conditions),
            by_day="day" in names and not self.by_week,
            by_week="day" in names and self.by_week,
        )
        group = [rows_of.c.period_index, *(rows_of.c[name] for name in names)]
        query = select(*group, func.sum(rows_of.c.customers)).group_by(*group)
        by_index: list[list[tuple[Any, ...]]] = [[] for _ in chosen]
        for index, *row in connection.execute(query).all():
            by_index[index].append(tuple(row))
        frames = iter(pl.DataFrame(rows, schema=schema, orient="row") for rows in by_index)
        return [pl.DataFrame(schema=schema) if period is None else next(frames) for period in read_periods]


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

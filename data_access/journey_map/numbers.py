"""The journey map's numbers: the funnel, time to next stage, and the metrics linked to a stage.

Every query reads rollups (`rollup_*_view` for all customers, `rollup_*_daily` for one persona: see
`view_rollups`) or `stage_entries` through their indexes, with the ids, the
persona, the period and the compared period of the view's `StageScope`; none scans raw events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl
from sqlalchemy import Connection, case, func, literal, select

from data_access.conversions import (
    CohortMaturity,
    CohortSums,
    cohort_maturity,
    median_days_by_pair,
    pair_conversions,
)
from data_access.journey_map.assembly import (
    FEEDBACK_FORMULAS,
    cohort_funnel,
    evaluate_step_metrics,
    metric_components,
    stage_metric_table,
    summed,
    time_to_next_values,
    without_repeats,
)
from data_access.journey_map.content import stage_steps
from data_access.journey_map.sql import Schema, frame
from data_access.metrics import DEFINITION_COLUMNS
from data_access.models import (
    DEFINITION_FIELDS,
    EventRollup,
    FeedbackRollup,
    MetricDefinition,
    Stage,
    Touchpoint,
)
from data_access.scope import Period, StageScope
from data_access.view_rollups import of_persona, period_rows, rollup_for

# how finely a stage's sums are read: per day; per calendar week (whole weeks of the view rollup, dated by their
# Monday, and single days at the period's ends: no row spans two weeks); or over the whole period
Grain = Literal["day", "week", "period"]


@dataclass(frozen=True)
class TimeToNextStage:
    """Median days from entering the stage to entering the next one, over the customers who did both."""

    next_stage_slug: str | None
    median_days: float | None
    customers: int


class StageReads:
    """The rollup reads of one stage's view, each made once however many of the page's numbers use it (the
    metrics, the step metrics, the trend, the emotions, the funnel and time to next stage read the same sums):
    `load_journey_map` shares one.

    The page compares the view's period with the compared one, so a read over the whole of either (sums over
    the period, the cohorts, time to next stage) reads both in one statement; sums per day are read for the
    period asked only.
    """

    def __init__(self, connection: Connection, scope: StageScope, maturity: CohortMaturity | None = None) -> None:
        self.connection, self.scope = connection, scope
        self._maturity = maturity
        self._read: dict[tuple[str, Period, Grain], pl.DataFrame] = {}
        self._cohorts: dict[Period, tuple[pl.DataFrame, pl.DataFrame]] = {}
        self._timing: dict[Period, TimeToNextStage] = {}

    def _periods(self, period: Period) -> tuple[Period, ...]:
        """The periods read together with `period`: the view's two when it is one of them."""
        view = (self.scope.period, self.scope.compared)
        return view if period in view else (period,)

    def _once(
        self, what: str, period: Period, grain: Grain, read: Callable[[Sequence[Period]], list[pl.DataFrame]]
    ) -> pl.DataFrame:
        key = (what, period, grain)
        if key not in self._read:
            periods = self._periods(period) if grain == "period" else (period,)
            for each, frame in zip(periods, read(periods), strict=True):
                self._read.setdefault((what, each, grain), frame)
        return self._read[key]

    def feedback(self, period: Period, *, grain: Grain = "day") -> pl.DataFrame:
        return self._once(
            "feedback", period, grain, lambda periods: _feedback_daily(self.connection, self.scope, periods, grain)
        )

    def events(self, period: Period, *, grain: Grain = "day") -> pl.DataFrame:
        return self._once(
            "events", period, grain, lambda periods: _events_daily(self.connection, self.scope, periods, grain)
        )

    @property
    def maturity(self) -> CohortMaturity:
        """Which cohorts the conversions count (`conversions.CohortMaturity`), read once when not given."""
        if self._maturity is None:
            self._maturity = cohort_maturity(self.connection, journey_id=self.scope.journey_id)
        return self._maturity

    def cohorts(self, period: Period) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The closed cohorts of the period's days of the stage and of the stage before: entrants and converted
        per day (`conversions.CohortSums`), two statements for the view's two periods."""
        if period not in self._cohorts:
            periods = self._periods(period)
            stage_ids = [i for i in (self.scope.previous_stage_id, self.scope.stage_id) if i is not None]
            sums = CohortSums(
                self.scope.journey_id, periods, self.scope.persona_id, maturity=self.maturity, by_week=True
            )
            entrants = sums.entrants(self.connection, stage_ids=stage_ids)
            converted = sums.converted(self.connection, stage_ids=stage_ids)
            for each, *frames in zip(periods, entrants, converted, strict=True):
                self._cohorts.setdefault(each, (frames[0], frames[1]))
        return self._cohorts[period]

    def entries(self, period: Period) -> pl.DataFrame:
        return self._once(
            "entries", period, "week", lambda periods: [_entries_daily(self.scope, *self.cohorts(period))]
        )

    def time_to_next(self, period: Period) -> TimeToNextStage:
        if period not in self._timing:
            periods = self._periods(period)
            for each, timing in zip(
                periods, _time_to_next(self.connection, self.scope, periods, self.maturity), strict=True
            ):
                self._timing.setdefault(each, timing)
        return self._timing[period]


def stage_funnel(
    connection: Connection,
    *,
    scope: StageScope,
    steps: pl.DataFrame | None = None,
    maturity: CohortMaturity | None = None,
    reads: StageReads | None = None,
    stages: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The stage's cohort funnel over the period (see `assembly.cohort_funnel` for its rows and columns).

    Cohorts are the customers who first reached the stage or a step on a day of the period whose cohort has
    closed (`conversions.CohortMaturity`); read from `rollup_cohorts_daily` and `rollup_entries_daily`, so
    any period is exact. `steps`: `stage_steps`; `stages`: the journey's (`content.journey_stages`), for the
    next stage's name.
    """
    if steps is None:
        steps = stage_steps(connection, scope=scope)
    reads = reads or StageReads(connection, scope, maturity)
    of_stage = pl.col("stage_id") == scope.stage_id
    entrants, converted = (frame.filter(of_stage) for frame in reads.cohorts(scope.period))
    conversions = pair_conversions(converted, entrants)
    stage_entrants = int(entrants.filter(pl.col("step_id").is_null())["entrants"].sum())
    next_stage = None
    if scope.next_stage_id is not None:
        if stages is None:
            name = connection.execute(select(Stage.name).where(Stage.id == scope.next_stage_id)).scalar_one()
        else:
            name = stages.filter(pl.col("stage_id") == scope.next_stage_id)["stage_name"].item()
        next_stage = (scope.next_stage_id, name)
    return cohort_funnel(
        (scope.stage_id, scope.stage_name),
        steps,
        next_stage,
        conversions,
        stage_entrants,
        reads.maturity.window_days,
    )


def time_to_next_stage(
    connection: Connection,
    *,
    scope: StageScope,
    reads: StageReads | None = None,
    maturity: CohortMaturity | None = None,
) -> TimeToNextStage:
    """Median days from first entering the stage (in the period, closed cohorts only) to first entering the
    next one, over the cohort's customers who did so within the window; read from the duration histogram,
    to within `conversions.MEDIAN_RESOLUTION_DAYS`."""
    return (reads or StageReads(connection, scope, maturity)).time_to_next(scope.period)


def _time_to_next(
    connection: Connection, scope: StageScope, periods: Sequence[Period], maturity: CohortMaturity
) -> list[TimeToNextStage]:
    """Time to next stage in each of `periods`, from one read of the duration histograms."""
    if scope.next_stage_id is None:
        return [TimeToNextStage(next_stage_slug=None, median_days=None, customers=0) for _ in periods]
    sums = CohortSums(scope.journey_id, tuple(periods), scope.persona_id, maturity=maturity)
    timings = []
    for histograms in sums.durations(connection, stage_ids=[scope.stage_id]):
        medians = median_days_by_pair(histograms.filter(pl.col("next_stage_id") == scope.next_stage_id))
        if medians.is_empty():
            timings.append(TimeToNextStage(next_stage_slug=scope.next_stage_slug, median_days=None, customers=0))
            continue
        timings.append(
            TimeToNextStage(
                next_stage_slug=scope.next_stage_slug,
                median_days=medians["median_days"][0],
                customers=int(medians["customers"][0]),
            )
        )
    return timings


FEEDBACK_DAILY_SCHEMA: Schema = {
    "day": pl.Date,
    "step_id": pl.Int64,
    "touchpoint_id": pl.Int64,
    "channel_id": pl.Int64,
    "measure": pl.String,
    "answers": pl.Int64,
    "score_sum": pl.Float64,
    "good": pl.Int64,
    "bad": pl.Int64,
}
FEEDBACK_SUMS = ("answers", "score_sum", "good", "bad")


def stage_feedback_daily(connection: Connection, *, scope: StageScope, reads: StageReads | None = None) -> pl.DataFrame:
    """Feedback counts of the stage per day × step × touchpoint × channel × measure, from the rollup."""
    return (reads or StageReads(connection, scope)).feedback(scope.period)


def _feedback_daily(
    connection: Connection, scope: StageScope, periods: Sequence[Period], grain: Grain
) -> list[pl.DataFrame]:
    """The stage's answers in each period per day, per week (`Grain`), or summed over the period and dated by its
    first day (for sums over the whole period: one row per key, read from the view rollup's pieces of it)."""
    keys = ["step_id", "touchpoint_id", "channel_id", "measure"]
    return _stage_sums(connection, scope, periods, FeedbackRollup, keys, FEEDBACK_SUMS, FEEDBACK_DAILY_SCHEMA, grain)


def _stage_sums(
    connection: Connection,
    scope: StageScope,
    periods: Sequence[Period],
    daily: type[FeedbackRollup] | type[EventRollup],
    keys: list[str],
    sums: Sequence[str],
    schema: Schema,
    grain: Grain,
) -> list[pl.DataFrame]:
    """A rollup's `sums` of the stage by day (or the whole period) and `keys`, in `schema` (day first), in each
    of `periods`: one statement, a frame per period."""
    r = rollup_for(daily, scope.persona_id)
    rows_of = period_rows(
        r,
        periods,
        ["day", *keys, *sums],
        r.journey_id == scope.journey_id,
        r.stage_id == scope.stage_id,
        of_persona(r, scope.persona_id),
        by_day=grain == "day",
        by_week=grain == "week",
    )
    group = [rows_of.c[key] for key in (keys if grain == "period" else ["day", *keys])]
    query = select(rows_of.c.period_index, *group, *(func.sum(rows_of.c[name]) for name in sums)).group_by(
        rows_of.c.period_index, *group
    )
    by_index: list[list[tuple[object, ...]]] = [[] for _ in periods]
    for index, *row in connection.execute(query).all():
        by_index[index].append(tuple(row))
    if grain != "period":
        return [pl.DataFrame(rows, schema=schema, orient="row") for rows in by_index]
    summed_schema = {name: kind for name, kind in schema.items() if name != "day"}
    return [
        pl.DataFrame(rows, schema=summed_schema, orient="row").select(
            pl.lit(period.start, pl.Date).alias("day"), pl.all()
        )
        for period, rows in zip(periods, by_index, strict=True)
    ]


DEFINITION_SCHEMA: Schema = {
    "metric_id": pl.Int64,
    **DEFINITION_COLUMNS,
    "touchpoint_id": pl.Int64,
    "touchpoint_name": pl.String,
    "channel_id": pl.Int64,
    "scope": pl.String,
}


def journey_metric_definitions(connection: Connection, *, journey_id: int) -> pl.DataFrame:
    """Every metric definition of the journey, with the stage it belongs to (its own, or its touchpoint's).

    Columns: `DEFINITION_SCHEMA`, plus `stage_id` (the definition's stage, null at journey level) and
    `touchpoint_stage_id`, in the order they were written (by id). `definitions_for_stage` picks one stage's
    from these.
    """
    m = MetricDefinition
    linked_to = case(
        (m.touchpoint_id.is_not(None), literal("touchpoint")),
        (m.stage_id.is_not(None), literal("stage")),
        else_=literal("journey"),
    )
    return frame(
        connection,
        select(
            m.id,
            *DEFINITION_FIELDS,
            m.touchpoint_id,
            Touchpoint.name,
            Touchpoint.channel_id,
            linked_to,
            m.stage_id,
            Touchpoint.stage_id,
        )
        .outerjoin(Touchpoint, Touchpoint.id == m.touchpoint_id)
        .where(m.journey_id == journey_id)
        .order_by(m.id),
        {**DEFINITION_SCHEMA, "stage_id": pl.Int64, "touchpoint_stage_id": pl.Int64},
    )


def definitions_for_stage(definitions: pl.DataFrame, *, stage_id: int) -> pl.DataFrame:
    """Of `journey_metric_definitions`, those that apply to the stage: its own, its touchpoints', and the
    journey's feedback ones, most specific first, each number once (`assembly.without_repeats`).

    `scope` is "stage", "touchpoint" or "journey" (a journey-level feedback metric evaluated on this stage).
    """
    journey_level = (
        pl.col("stage_id").is_null() & pl.col("touchpoint_id").is_null() & pl.col("formula").is_in(FEEDBACK_FORMULAS)
    )
    return (
        definitions.filter(
            (pl.col("stage_id") == stage_id) | (pl.col("touchpoint_stage_id") == stage_id) | journey_level
        )
        .sort(["scope", "key"], descending=[True, False])
        .select(list(DEFINITION_SCHEMA))
        .pipe(without_repeats)
    )


def stage_metric_definitions(connection: Connection, *, scope: StageScope) -> pl.DataFrame:
    """Metric definitions that apply to the stage (`definitions_for_stage`)."""
    return definitions_for_stage(
        journey_metric_definitions(connection, journey_id=scope.journey_id), stage_id=scope.stage_id
    )


def _events_daily(
    connection: Connection, scope: StageScope, periods: Sequence[Period], grain: Grain
) -> list[pl.DataFrame]:
    """The stage's events in each period, per `grain` as `_feedback_daily`."""
    schema: Schema = {"day": pl.Date, "channel_id": pl.Int64, "events": pl.Int64}
    return _stage_sums(connection, scope, periods, EventRollup, ["channel_id"], ["events"], schema, grain)


def _entries_daily(scope: StageScope, entrants: pl.DataFrame, converted: pl.DataFrame) -> pl.DataFrame:
    """Per closed cohort's entry day: customers of the stage before's cohort (`base`) and those of them who
    reached this stage within the window (`reached`), so conversion over any days is a sum of these.
    `entrants`, `converted`: the period's `StageReads.cohorts`."""
    if scope.previous_stage_id is None:
        return pl.DataFrame(schema={"day": pl.Date, "reached": pl.Int64, "base": pl.Int64})
    before = pl.col("stage_id") == scope.previous_stage_id
    base = entrants.filter(before, pl.col("step_id").is_null()).select("day", pl.col("entrants").alias("base"))
    reached = converted.filter(
        before, pl.col("step_id").is_null(), pl.col("next_stage_id") == scope.stage_id, pl.col("next_step_id").is_null()
    ).select("day", pl.col("converted").alias("reached"))
    return (
        base.join(reached, on="day", how="full", coalesce=True)
        .select("day", pl.col("reached").fill_null(0), pl.col("base").fill_null(0))
        .cast({"reached": pl.Int64, "base": pl.Int64})
    )


def _stage_components(reads: StageReads, definitions: pl.DataFrame, period: Period, *, grain: Grain) -> pl.LazyFrame:
    """The parts of the stage's metrics per `grain` (a row of `day` never spans two calendar weeks unless the
    grain is the period: its rows only add up to the period)."""
    return metric_components(
        definitions,
        reads.feedback(period, grain=grain),
        reads.events(period, grain=grain),
        reads.entries(period),
    )


def stage_metrics(
    connection: Connection,
    *,
    scope: StageScope,
    min_answers: int,
    definitions: pl.DataFrame | None = None,
    reads: StageReads | None = None,
    maturity: CohortMaturity | None = None,
) -> pl.DataFrame:
    """Every metric linked to the stage: value, target, status, and change against the compared period.

    The values are over `scope.period`, the previous ones over `scope.compared`, conversions, drop-offs and
    time to next stage over their closed cohorts (`maturity`). `definitions` are the stage's
    `stage_metric_definitions`, when the caller has them already.

    Columns: the definition's (see `stage_metric_definitions`), value, sample, previous_value,
    previous_sample, change, improvement (change signed so that positive is better), status
    ("green" | "amber" | "red" | "no data"). A value resting on fewer than `min_answers` answers (or base
    customers for conversion) is null: not enough data.
    """
    if definitions is None:
        definitions = stage_metric_definitions(connection, scope=scope)
    if definitions.is_empty():
        return stage_metric_table(definitions, pl.LazyFrame(), pl.DataFrame(), min_answers=min_answers)
    reads = reads or StageReads(connection, scope, maturity)
    components = pl.concat(
        [
            _stage_components(reads, definitions, period, grain="period").with_columns(pl.lit(label).alias("period"))
            for label, period in (("current", scope.period), ("previous", scope.compared))
        ]
    )
    now, before = (reads.time_to_next(period) for period in (scope.period, scope.compared))
    timing = time_to_next_values((now.median_days, now.customers), (before.median_days, before.customers), min_answers)
    return stage_metric_table(definitions, components, timing, min_answers=min_answers)


def stage_metric_trend(
    connection: Connection,
    *,
    scope: StageScope,
    min_answers: int,
    definitions: pl.DataFrame | None = None,
    reads: StageReads | None = None,
    maturity: CohortMaturity | None = None,
) -> pl.DataFrame:
    """Weekly points of each linked metric over the period: metric_id, key, label, week, value, sample, target.

    Weeks start on Monday; the first and last may be partial. A week under `min_answers` has a null value
    (a gap in the line). A conversion's or drop-off's week counts its closed cohorts' days only, and a week
    whose cohorts are all still open has no point. Time to next stage has no weekly trend.
    """
    if definitions is None:
        definitions = stage_metric_definitions(connection, scope=scope)
    schema = pl.Schema(
        {
            "metric_id": pl.Int64,
            "key": pl.String,
            "label": pl.String,
            "week": pl.Date,
            "value": pl.Float64,
            "sample": pl.Int64,
            "target": pl.Float64,
        }
    )
    if definitions.is_empty():
        return pl.DataFrame(schema=schema)
    components = _stage_components(
        reads or StageReads(connection, scope, maturity), definitions, scope.period, grain="week"
    )
    weekly = summed(
        components.with_columns(pl.col("day").dt.truncate("1w").alias("week")), ["metric_id", "week"], min_answers
    )
    return (
        weekly.join(definitions.lazy().select("metric_id", "key", "label", "target"), on="metric_id")
        .select(list(schema))
        .cast(schema)
        .sort("metric_id", "week")
        .collect()
    )


def step_metrics(
    connection: Connection,
    *,
    scope: StageScope,
    min_answers: int,
    definitions: pl.DataFrame | None = None,
    reads: StageReads | None = None,
) -> pl.DataFrame:
    """The stage's and journey's feedback metrics evaluated on each step, with the compared period.

    Columns: step_id, metric_id, key, label, formula, direction, target, warning, value, sample,
    previous_value, previous_sample, change, improvement, status. Detection reads these.
    """
    if definitions is None:
        definitions = stage_metric_definitions(connection, scope=scope)
    definitions = definitions.filter(pl.col("formula").is_in(FEEDBACK_FORMULAS), pl.col("touchpoint_id").is_null())
    reads = reads or StageReads(connection, scope)
    feedback_daily = pl.concat(
        [
            reads.feedback(period, grain="period").with_columns(pl.lit(label).alias("period"))
            for label, period in (("current", scope.period), ("previous", scope.compared))
        ]
    )
    return evaluate_step_metrics(definitions, feedback_daily, period=scope.period, min_answers=min_answers)

"""What changed between two periods: every metric of a journey now and then, biggest movers first.

One row per metric: the journey-level feedback metrics (NPS, CSAT, CES, sentiment over the whole journey)
and every metric linked to a stage or to one of its touchpoints (conversion, drop-off, CSAT, CES, time to
next stage…), each with its value in the period shown (`value`), in the period compared with
(`compared_value`), the change, and its status against target now.

**Biggest movers first.** Metrics live on different scales (NPS spans 200 points, CES 6, a conversion
share 1), so raw changes cannot be compared. Each change is divided by the width of its metric's scale
(`metric_span`, from `metrics.value_span`): `movement = |change| / span`, so 20 NPS points (0.10) and
0.6 on CES (0.10) move equally. Time to next stage and volume have no bounded scale; their change is taken
relative to the larger of the two values (2 days on 10 = 0.20). Rows with no change (a value missing on
either side) come last; ties keep the journey first, then stages in order.

The assembly is pure (tested on crafted frames); `load_changes` fetches its inputs through the rollup
queries of the experience map and the journey map, with the ids of the view's scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import Connection

from data_access.conversions import OPEN_COHORTS, CohortMaturity, cohort_maturity, median_days_by_pair
from data_access.journey_map.assembly import (
    FEEDBACK_FORMULAS,
    SPECIFICITY,
    STAGE_METRIC_COLUMNS,
    judged_metrics,
    summed,
)
from data_access.journey_map.numbers import DEFINITION_SCHEMA, journey_metric_definitions
from data_access.metrics import (
    DEFINITION_COLUMNS,
    SHARE_FORMULAS,
    Formula,
    measure_value_expr,
    status_expr,
    value_span,
)
from data_access.models import Measure
from data_access.period_sums import (
    CURRENT,
    PREVIOUS,
    event_sums,
    feedback_sums,
    stage_conversion_sums,
    stage_entrant_sums,
)
from data_access.scope import Scope, StageScope, scopes_of_stages, stage_rows

JOURNEY_MEASURES = (Measure.NPS, Measure.CSAT, Measure.CES, Measure.SENTIMENT)
WHOLE_JOURNEY = "Whole journey"

CHANGES_SCHEMA: dict[str, pl.DataType | type] = {
    "stage_position": pl.Int64,  # -1 for the whole journey
    "stage_slug": pl.String,
    "stage": pl.String,
    **DEFINITION_COLUMNS,
    "value": pl.Float64,
    "compared_value": pl.Float64,
}


def metric_span(formula: str) -> float | None:
    """Width of the scale a formula's value lives on; None when it has no bounded scale (time, volume)."""
    if formula in SHARE_FORMULAS:
        return 1.0
    if formula in {m.value for m in Measure}:
        return value_span(Measure(formula))
    return None


def movement_expr() -> pl.Expr:
    """|change| over the metric's scale width, or relative to the larger value when unbounded (see module)."""
    span = pl.lit(None, dtype=pl.Float64)
    for formula in (*SHARE_FORMULAS, *(m.value for m in Measure)):
        span = pl.when(pl.col("formula") == formula).then(pl.lit(metric_span(formula))).otherwise(span)
    unbounded = pl.max_horizontal(pl.col("value").abs(), pl.col("compared_value").abs())
    span = pl.coalesce(span, pl.when(unbounded > 0).then(unbounded))
    return (pl.col("change").abs() / span).alias("movement")


def journey_values(feedback: pl.DataFrame, *, min_answers: int) -> pl.DataFrame:
    """Each measure's value over the whole journey from per-touchpoint feedback sums (`period_sums.feedback_sums`)."""
    return (
        feedback.lazy()
        .group_by("measure")
        .agg(pl.col("answers", "score_sum", "good", "bad").sum())
        .with_columns(measure_value_expr(min_answers))
        .select("measure", "value")
        .collect()
    )


def journey_changes(
    *, feedback: pl.DataFrame, compared_feedback: pl.DataFrame, definitions: pl.DataFrame, min_answers: int
) -> pl.DataFrame:
    """NPS, CSAT, CES and sentiment over the whole journey in both periods, with the journey's targets.

    `definitions` are `experience_map.queries.metric_definitions` rows; a measure without a journey-level definition is
    still listed (no target, status "no data").
    """
    measures = pl.DataFrame({"formula": [m.value for m in JOURNEY_MEASURES]})
    journey_definitions = (
        definitions.filter(pl.col("stage_id").is_null(), pl.col("touchpoint_id").is_null())
        .unique("formula", keep="first", maintain_order=True)
        .select("formula", "key", "label", "unit", "direction", "target", "warning")
    )
    now = journey_values(feedback, min_answers=min_answers).rename({"measure": "formula"})
    then = journey_values(compared_feedback, min_answers=min_answers).rename(
        {"measure": "formula", "value": "compared_value"}
    )
    return (
        measures.join(journey_definitions, on="formula", how="left")
        .join(now, on="formula", how="left")
        .join(then, on="formula", how="left")
        .with_columns(
            pl.lit(-1, dtype=pl.Int64).alias("stage_position"),
            pl.lit(None, dtype=pl.String).alias("stage_slug"),
            pl.lit(WHOLE_JOURNEY).alias("stage"),
            pl.col("key").fill_null(pl.col("formula")),
            pl.col("label").fill_null(pl.col("formula").str.to_uppercase()),
            pl.col("unit").fill_null(""),
            pl.col("direction").fill_null("higher"),
            pl.col("warning").fill_null(0.0),
        )
        .select(pl.col(name).cast(dtype) for name, dtype in CHANGES_SCHEMA.items())
    )


def stage_changes(metrics: pl.DataFrame, stages: pl.DataFrame) -> pl.DataFrame:
    """Each stage's own and touchpoint metrics from `stage_metrics_by_stage` rows (value now, previous_value
    then), named by `stages` (stage_id, stage_slug, stage, stage_position), in the rows' order.

    Journey-level feedback metrics evaluated on a stage are left out: the whole journey's rows carry them.
    """
    ids = stages["stage_id"].to_list()

    def of_stage(column: str) -> pl.Expr:  # cast by CHANGES_SCHEMA below
        return pl.col("stage_id").replace_strict(ids, stages[column].to_list()).alias(column)

    return (
        metrics.filter(pl.col("scope") != "journey")
        .with_columns(
            of_stage("stage_position"),
            of_stage("stage_slug"),
            of_stage("stage"),
            pl.col("previous_value").alias("compared_value"),
        )
        .select(pl.col(name).cast(dtype) for name, dtype in CHANGES_SCHEMA.items())
    )


def biggest_movers(changes: pl.DataFrame) -> pl.DataFrame:
    """Every metric with its change, status and movement, biggest movers first (rule in the module doc).

    Adds `change` (value − compared value), `improvement` (change signed so that positive is better),
    `status` (against target, now) and `movement`.
    """
    return (
        changes.lazy()
        .with_columns((pl.col("value") - pl.col("compared_value")).alias("change"))
        .with_columns(
            pl.when(pl.col("direction") == "lower")
            .then(-pl.col("change"))
            .otherwise(pl.col("change"))
            .alias("improvement"),
            status_expr().alias("status"),
            movement_expr(),
        )
        .sort(["movement", "stage_position", "key"], descending=[True, False, False], nulls_last=True)
        .collect()
    )


STAGE = "for_stage"  # the stage a row of `stage_metrics_by_stage` is evaluated for, while it is built


def _stage_frame(stages: list[StageScope]) -> pl.DataFrame:
    """The view's stages in order, with their neighbours: for_stage, previous_stage_id, next_stage_id, stage_order."""
    return pl.DataFrame(
        [(s.stage_id, s.previous_stage_id, s.next_stage_id, order) for order, s in enumerate(stages)],
        schema={STAGE: pl.Int64, "previous_stage_id": pl.Int64, "next_stage_id": pl.Int64, "stage_order": pl.Int64},
        orient="row",
    )


def definitions_by_stage(definitions: pl.DataFrame, stages: pl.DataFrame) -> pl.DataFrame:
    """`journey_map.numbers.definitions_for_stage` of every stage of `stages` (`_stage_frame`) at once: the same
    rows in the same order within each stage, stages in order, with the stage in `for_stage`."""
    indexed = definitions.with_row_index("_row")
    journey_level = (
        pl.col("stage_id").is_null() & pl.col("touchpoint_id").is_null() & pl.col("formula").is_in(FEEDBACK_FORMULAS)
    )
    other_stage = pl.col("stage_id").is_null() | (pl.col("touchpoint_stage_id") != pl.col("stage_id"))
    matches = pl.concat(
        [
            indexed.filter(pl.col("stage_id").is_not_null()).with_columns(pl.col("stage_id").alias(STAGE)),
            indexed.filter(pl.col("touchpoint_stage_id").is_not_null() & other_stage).with_columns(
                pl.col("touchpoint_stage_id").alias(STAGE)
            ),
            indexed.filter(journey_level).join(stages.select(STAGE), how="cross"),
        ],
        how="vertical_relaxed",
    )
    rank = pl.col("scope").replace_strict(SPECIFICITY, default=len(SPECIFICITY), return_dtype=pl.Int64)
    return (
        matches.join(stages.select(STAGE, "stage_order"), on=STAGE)
        .sort(["stage_order", "scope", "key", "_row"], descending=[False, True, False, False], maintain_order=True)
        .with_row_index("_order")
        # each number once per stage, the most specific definition kept (`assembly.without_repeats`)
        .sort("stage_order", rank, "key", "_order", maintain_order=True)
        .unique([STAGE, "formula", "direction", "target", "touchpoint_id"], keep="first", maintain_order=True)
        .sort("_order")
        .select(STAGE, *DEFINITION_SCHEMA)
    )


def _stage_entries(sums: JourneySums, stages: pl.DataFrame) -> pl.DataFrame:
    """Per stage and period: the stage before's cohort (`base`) and those of it who reached the stage (`reached`)."""
    before = stages.select(STAGE, "previous_stage_id")
    base = (
        sums.entrants.group_by("period", pl.col("stage_id").alias("previous_stage_id"))
        .agg(pl.col("entrants").sum().alias("base"))
        .join(before, on="previous_stage_id")
        .drop("previous_stage_id")
    )
    reached = (
        sums.conversions.group_by(
            "period", pl.col("stage_id").alias("previous_stage_id"), pl.col("next_stage_id").alias(STAGE)
        )
        .agg(pl.col("converted").sum().alias("reached"))
        .join(before, on=[STAGE, "previous_stage_id"])
        .drop("previous_stage_id")
    )
    return base.join(reached, on=[STAGE, "period"], how="full", coalesce=True).select(
        STAGE, "period", pl.col("reached").fill_null(0), pl.col("base").fill_null(0)
    )


def _stage_components(definitions: pl.DataFrame, sums: JourneySums, stages: pl.DataFrame) -> pl.LazyFrame:
    """`assembly.metric_components` of every stage's definitions (`definitions_by_stage`) per period, from the
    journey's sums: each stage's definitions read the stage's own answers, events and cohorts."""
    parts = ("answers", "score_sum", "good", "bad")
    feedback = sums.feedback.lazy().rename({"stage_id": STAGE})
    events = sums.events.lazy().rename({"stage_id": STAGE})
    defs = definitions.lazy()
    is_feedback = pl.col("formula").is_in(FEEDBACK_FORMULAS)
    is_volume = pl.col("formula") == Formula.VOLUME.value
    on_stage, on_touchpoint = pl.col("touchpoint_id").is_null(), pl.col("touchpoint_id").is_not_null()
    rows = [
        defs.filter(is_feedback, on_stage).join(
            feedback.group_by("period", STAGE, "measure").agg(pl.col(parts).sum()),
            left_on=[STAGE, "formula"],
            right_on=[STAGE, "measure"],
        ),
        defs.filter(is_feedback, on_touchpoint).join(
            feedback.group_by("period", STAGE, "touchpoint_id", "measure").agg(pl.col(parts).sum()),
            left_on=[STAGE, "touchpoint_id", "formula"],
            right_on=[STAGE, "touchpoint_id", "measure"],
        ),
        defs.filter(is_volume, on_stage).join(events.group_by("period", STAGE).agg(pl.col("events").sum()), on=STAGE),
        defs.filter(is_volume, on_touchpoint).join(events, on=[STAGE, "channel_id"]),
        defs.filter(pl.col("formula").is_in([Formula.CONVERSION.value, Formula.DROP_OFF.value]), on_stage).join(
            _stage_entries(sums, stages).lazy(), on=STAGE
        ),
    ]
    sums_columns = [*parts, "reached", "base", "events"]
    return pl.concat(rows, how="diagonal_relaxed").select(
        STAGE, "metric_id", "formula", "period", *(pl.col(c).fill_null(0) for c in sums_columns)
    )


def _stage_timing(sums: JourneySums, stages: pl.DataFrame, min_answers: int) -> pl.DataFrame:
    """`assembly.time_to_next_values` of every stage (one row each, with `for_stage`), from the journey's
    duration histograms of each stage's cohort reaching the next stage."""
    histograms = sums.conversions.join(
        stages.select(pl.col(STAGE).alias("stage_id"), "next_stage_id"), on=["stage_id", "next_stage_id"]
    ).select(
        "period",
        "stage_id",
        pl.lit(None, dtype=pl.Int64).alias("step_id"),
        "next_stage_id",
        pl.lit(None, dtype=pl.Int64).alias("next_step_id"),
        "duration_bin",
        pl.col("converted").alias("customers"),
    )
    timing = stages.select(STAGE)
    for period, value, sample in ((CURRENT, "value", "sample"), (PREVIOUS, "previous_value", "previous_sample")):
        medians = median_days_by_pair(histograms.filter(pl.col("period") == period).drop("period")).select(
            pl.col("stage_id").alias(STAGE),
            pl.when(pl.col("customers") >= min_answers).then(pl.col("median_days")).alias(value),
            pl.col("customers").alias(sample),
        )
        timing = timing.join(medians, on=STAGE, how="left").with_columns(pl.col(sample).fill_null(0))
    return timing.with_columns(pl.lit(Formula.TIME_TO_NEXT.value).alias("formula"))


def stage_metrics_by_stage(sums: JourneySums, *, min_answers: int) -> pl.DataFrame:
    """Every stage's `journey_map.numbers.stage_metrics` from the journey's sums per period, by the same rules,
    in one grouped pass: the rows of each stage (its id in `stage_id`) in its definitions' order, stages in
    order."""
    stages = _stage_frame(sums.stages)
    definitions = definitions_by_stage(sums.definitions, stages)
    values = summed(_stage_components(definitions, sums, stages), [STAGE, "metric_id", "period"], min_answers).collect()
    timing = _stage_timing(sums, stages, min_answers)
    return (
        judged_metrics(definitions, values, timing, by=[STAGE])
        .select(pl.col(STAGE).alias("stage_id"), *DEFINITION_SCHEMA, *STAGE_METRIC_COLUMNS)
        .collect()
    )


@dataclass(frozen=True)
class JourneySums:
    """The rollup sums of a view for every stage, per period ("current", "previous"): see `period_sums`.

    The experience map reads its stages, definitions and cohorts per day from here too, so a view reads each
    of them once; `stage_metrics` is computed once per number of answers and kept with the sums.
    """

    feedback: pl.DataFrame  # feedback_sums
    events: pl.DataFrame  # event_sums
    # stage_entrant_sums by day over every day of both periods: `entrants` keeps the closed cohorts' days
    entrant_days: pl.DataFrame
    conversions: pl.DataFrame  # stage_conversion_sums of the closed cohorts, by duration bin
    conversion_days: pl.DataFrame  # stage_conversion_sums by day over every day of both periods
    stage_rows: pl.DataFrame  # the journey's stages in order (`scope.stage_rows`)
    stages: list[StageScope]  # the view's stages in order (`scope.scopes_of_stages`)
    definitions: pl.DataFrame  # the journey's metric definitions (`journey_metric_definitions`)
    cohorts: CohortMaturity = OPEN_COHORTS  # which cohorts `entrants` and `conversions` hold
    _stage_metrics: dict[int, pl.DataFrame] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def load(cls, connection: Connection, *, scope: Scope) -> JourneySums:
        """Eight statements, whatever the number of stages and metrics."""
        maturity = cohort_maturity(connection, journey_id=scope.journey_id)
        stages = stage_rows(connection, journey_id=scope.journey_id)
        return cls(
            feedback=feedback_sums(connection, scope=scope),
            events=event_sums(connection, scope=scope),
            entrant_days=stage_entrant_sums(connection, scope=scope, by_day=True),
            conversions=stage_conversion_sums(connection, scope=scope, by_day=False, maturity=maturity),
            conversion_days=stage_conversion_sums(connection, scope=scope, by_day=True),
            stage_rows=stages,
            stages=scopes_of_stages(scope, stages),
            definitions=journey_metric_definitions(connection, journey_id=scope.journey_id),
            cohorts=maturity,
        )

    @property
    def entrants(self) -> pl.DataFrame:
        """Customers first reaching each stage per period on the days whose cohorts have closed: period,
        stage_id, entrants (`stage_entrant_sums` with the view's maturity, from the sums per day)."""
        return (
            self.entrant_days.filter(self.cohorts.closed_days())
            .group_by("period", "stage_id", maintain_order=True)
            .agg(pl.col("entrants").sum())
        )

    def stage_metrics(self, *, min_answers: int) -> pl.DataFrame:
        """`stage_metrics_by_stage` of these sums, computed once per `min_answers` (the stage strip, What
        changed and the opportunity matrix all read it)."""
        if min_answers not in self._stage_metrics:
            self._stage_metrics[min_answers] = stage_metrics_by_stage(self, min_answers=min_answers)
        return self._stage_metrics[min_answers]


def load_changes(
    connection: Connection, *, scope: Scope, min_answers: int, sums: JourneySums | None = None
) -> pl.DataFrame:
    """Every metric of the journey in `scope.period` and in `scope.compared`, biggest movers first.

    See `biggest_movers`. A stage's rows are its `stage_metrics` (the journey page's numbers); every stage
    is read at once, both periods in each statement: eight statements in all, none given the view's `sums`.
    """
    sums = sums if sums is not None else JourneySums.load(connection, scope=scope)
    definitions = sums.definitions
    journey_level = definitions.filter(pl.col("scope") == "journey").select(
        *DEFINITION_COLUMNS, pl.col("stage_id"), pl.col("touchpoint_id")
    )
    parts = [
        journey_changes(
            feedback=sums.feedback.filter(pl.col("period") == CURRENT),
            compared_feedback=sums.feedback.filter(pl.col("period") == PREVIOUS),
            definitions=journey_level,
            min_answers=min_answers,
        )
    ]
    stages = pl.DataFrame(
        [(s.stage_id, s.stage_slug, s.stage_name, s.stage_position) for s in sums.stages],
        schema={"stage_id": pl.Int64, "stage_slug": pl.String, "stage": pl.String, "stage_position": pl.Int64},
        orient="row",
    )
    parts.append(stage_changes(sums.stage_metrics(min_answers=min_answers), stages))
    return biggest_movers(pl.concat(parts, how="vertical"))

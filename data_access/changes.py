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

from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection

from data_access.conversions import OPEN_COHORTS, CohortMaturity, cohort_maturity, median_days_by_pair
from data_access.journey_map.assembly import metric_components, stage_metric_table, time_to_next_values
from data_access.journey_map.numbers import definitions_for_stage, journey_metric_definitions
from data_access.metrics import DEFINITION_COLUMNS, SHARE_FORMULAS, measure_value_expr, status_expr, value_span
from data_access.models import Measure
from data_access.period_sums import (
    CURRENT,
    PREVIOUS,
    event_sums,
    feedback_sums,
    stage_conversion_sums,
    stage_entrant_sums,
)
from data_access.scope import Scope, StageScope, stage_scopes

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


def stage_changes(
    *, stage_slug: str, stage: str, position: int, metrics: pl.DataFrame, compared_metrics: pl.DataFrame
) -> pl.DataFrame:
    """One stage's own and touchpoint metrics from two `journey_map.numbers.stage_metrics` frames (now, then).

    Journey-level feedback metrics evaluated on the stage are left out: the whole journey's rows carry them.
    """
    own = metrics.filter(pl.col("scope") != "journey")
    then = compared_metrics.select("metric_id", pl.col("value").alias("compared_value"))
    return (
        own.join(then, on="metric_id", how="left")
        .with_columns(
            pl.lit(position, dtype=pl.Int64).alias("stage_position"),
            pl.lit(stage_slug).alias("stage_slug"),
            pl.lit(stage).alias("stage"),
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


def _is(column: str, stage_id: int | None) -> pl.Expr:
    """Rows of the stage; none when there is no such stage (the first stage's previous, the last's next)."""
    return pl.col(column) == stage_id if stage_id is not None else pl.lit(False)


def _time_to_next(conversions: pl.DataFrame, stage: StageScope, period: str) -> tuple[float | None, int]:
    """Median days to the next stage and the customers it rests on, from the period's duration histogram."""
    histogram = conversions.filter(
        pl.col("period") == period,
        pl.col("stage_id") == stage.stage_id,
        _is("next_stage_id", stage.next_stage_id),
    ).select(
        "stage_id",
        pl.lit(None, dtype=pl.Int64).alias("step_id"),
        "next_stage_id",
        pl.lit(None, dtype=pl.Int64).alias("next_step_id"),
        "duration_bin",
        pl.col("converted").alias("customers"),
    )
    medians = median_days_by_pair(histogram)
    return (medians["median_days"][0], int(medians["customers"][0])) if len(medians) else (None, 0)


def stage_rows(
    stage: StageScope,
    definitions: pl.DataFrame,
    sums: JourneySums,
    *,
    min_answers: int,
) -> pl.DataFrame:
    """One stage's `journey_map.numbers.stage_metrics`, from the journey's sums per period, by the same rules.

    `definitions`: `journey_metric_definitions`.
    """
    own = definitions_for_stage(definitions, stage_id=stage.stage_id)
    if own.is_empty():
        return stage_metric_table(own, pl.LazyFrame(), pl.DataFrame(), min_answers=min_answers)
    reached = (
        sums.conversions.filter(_is("stage_id", stage.previous_stage_id), pl.col("next_stage_id") == stage.stage_id)
        .group_by("period")
        .agg(pl.col("converted").sum().alias("reached"))
    )
    entries = (
        sums.entrants.filter(_is("stage_id", stage.previous_stage_id))
        .group_by("period")
        .agg(pl.col("entrants").sum().alias("base"))
        .join(reached, on="period", how="full", coalesce=True)
        .select("period", pl.col("reached").fill_null(0), pl.col("base").fill_null(0))
    )
    components = metric_components(
        own,
        sums.feedback.filter(pl.col("stage_id") == stage.stage_id),
        sums.events.filter(pl.col("stage_id") == stage.stage_id),
        entries,
        by="period",
    )
    timing = time_to_next_values(
        _time_to_next(sums.conversions, stage, CURRENT), _time_to_next(sums.conversions, stage, PREVIOUS), min_answers
    )
    return stage_metric_table(own, components, timing, min_answers=min_answers)


@dataclass(frozen=True)
class JourneySums:
    """The rollup sums of a view for every stage, per period ("current", "previous"): see `period_sums`."""

    feedback: pl.DataFrame  # feedback_sums
    events: pl.DataFrame  # event_sums
    entrants: pl.DataFrame  # stage_entrant_sums of the closed cohorts
    conversions: pl.DataFrame  # stage_conversion_sums of the closed cohorts, by duration bin
    stages: list[StageScope]  # the view's stages in order (`stage_scopes`)
    definitions: pl.DataFrame  # the journey's metric definitions (`journey_metric_definitions`)
    cohorts: CohortMaturity = OPEN_COHORTS  # which cohorts `entrants` and `conversions` hold

    @classmethod
    def load(cls, connection: Connection, *, scope: Scope) -> JourneySums:
        """Eight statements, whatever the number of stages and metrics."""
        maturity = cohort_maturity(connection, journey_id=scope.journey_id)
        return cls(
            feedback=feedback_sums(connection, scope=scope),
            events=event_sums(connection, scope=scope),
            entrants=stage_entrant_sums(connection, scope=scope, by_day=False, maturity=maturity),
            conversions=stage_conversion_sums(connection, scope=scope, by_day=False, maturity=maturity),
            stages=stage_scopes(connection, scope),
            definitions=journey_metric_definitions(connection, journey_id=scope.journey_id),
            cohorts=maturity,
        )


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
    for stage in sums.stages:
        metrics = stage_rows(stage, definitions, sums, min_answers=min_answers)
        parts.append(
            stage_changes(
                stage_slug=stage.stage_slug,
                stage=stage.stage_name,
                position=stage.stage_position,
                metrics=metrics,
                compared_metrics=metrics.select("metric_id", pl.col("previous_value").alias("value")),
            )
        )
    return biggest_movers(pl.concat(parts, how="vertical"))

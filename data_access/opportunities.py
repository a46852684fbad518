"""Where to act first: every opportunity on the map, its measured value beside the team's own scores.

An opportunity's **measured value** is `reach × gap` (README, Metrics table):

- **reach**: the customers who first reached the opportunity's step in the period (`rollup_entries_daily`,
  the step's rows, persona-filtered like every view);
- **gap**: of the metrics linked to the opportunity — the metrics of its step's touchpoint, of its stage, and
  the journey's feedback metrics evaluated on its stage, exactly the numbers its journey page shows (less the
  other touchpoints' metrics) — the largest relative shortfall to target among the measured ones:
  shortfall ÷ |target|, 0 when on target, at most 1. That metric is the opportunity's *linked metric*.

So the value reads as "customers reached, weighted by how far their experience falls short": 1,000
customers at a step whose CSAT is 60 % against 80 % give 250. With no measured metric that has a non-zero
target, the gap (and so the value) is unknown: not enough data, never zero.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, func, select

from data_access.changes import JourneySums
from data_access.journey_map.content import visible_items
from data_access.journey_map.sql import Schema, frame, persona_filter
from data_access.models import Direction, EntryRollup, Lane, LaneItem, Persona, Stage, Step
from data_access.scope import Scope

OPPORTUNITY_SCHEMA: Schema = {
    "item_id": pl.Int64,
    "stage_id": pl.Int64,
    "stage_slug": pl.String,
    "stage_name": pl.String,
    "stage_position": pl.Int64,
    "step_id": pl.Int64,
    "step_name": pl.String,
    "step_position": pl.Int64,
    "touchpoint_id": pl.Int64,
    "text": pl.String,
    "persona_slug": pl.String,
    "owner": pl.String,
    "status": pl.String,
    "impact": pl.Int64,
    "effort": pl.Int64,
}

# what the matrix and its list carry for each opportunity, in this order
MATRIX_COLUMNS = [
    *OPPORTUNITY_SCHEMA,
    "reach",
    "metric_key",
    "metric_label",
    "metric_formula",
    "metric_value",
    "metric_target",
    "gap",
    "measured_value",
]


def journey_opportunities(connection: Connection, *, scope: Scope, stage_id: int | None = None) -> pl.DataFrame:
    """The opportunity cards of the journey (or of one stage) that the view's persona sees, in map order.

    General cards always; a persona's own cards only in that persona's view (as the journey page shows them).
    """
    columns = (
        LaneItem.id, Stage.id, Stage.slug, Stage.name, Stage.position, Step.id, Step.name, Step.position,
        Step.touchpoint_id, LaneItem.text, Persona.slug, LaneItem.owner, LaneItem.status, LaneItem.impact,
        LaneItem.effort,
    )  # fmt: skip
    visible = visible_items(scope.persona_id)
    query = (
        select(*columns)
        .join(Step, Step.id == LaneItem.step_id)
        .join(Stage, Stage.id == Step.stage_id)
        .outerjoin(Persona, Persona.id == LaneItem.persona_id)
        .where(Stage.journey_id == scope.journey_id, LaneItem.lane == Lane.OPPORTUNITY.value, visible)
        .order_by(Stage.position, Step.position, LaneItem.position, LaneItem.id)
    )
    if stage_id is not None:
        query = query.where(Stage.id == stage_id)
    return frame(connection, query, OPPORTUNITY_SCHEMA)


def step_reach(connection: Connection, *, scope: Scope, step_ids: list[int]) -> pl.DataFrame:
    """Customers who first reached each step in the period (from the daily first-entry rollup): step_id, reach."""
    r = EntryRollup
    schema: Schema = {"step_id": pl.Int64, "reach": pl.Int64}
    if not step_ids:
        return pl.DataFrame(schema=schema)
    return frame(
        connection,
        select(r.step_id, func.sum(r.customers))
        .where(
            r.journey_id == scope.journey_id,
            r.day.between(scope.period.start, scope.period.end),
            r.step_id.in_(step_ids),
            persona_filter(r.persona_id, scope.persona_id),
        )
        .group_by(r.step_id),
        schema,
    )


def relative_gap(value: float | None, *, target: float | None, direction: str) -> float | None:
    """Shortfall of `value` to `target` as a share of |target|: 0 at or better than target, at most 1.

    None when there is no value or no non-zero target to measure against.
    """
    if value is None or target is None or target == 0:
        return None
    shortfall = target - value if direction == Direction.HIGHER else value - target
    return min(max(shortfall / abs(target), 0.0), 1.0)


def relative_gap_expr() -> pl.Expr:
    """`relative_gap` over columns value, target and direction."""
    shortfall = (
        pl.when(pl.col("direction") == Direction.LOWER.value)
        .then(pl.col("value") - pl.col("target"))
        .otherwise(pl.col("target") - pl.col("value"))
    )
    return (
        pl.when(pl.col("value").is_null() | pl.col("target").is_null() | (pl.col("target") == 0))
        .then(None)
        .otherwise((shortfall / pl.col("target").abs()).clip(0.0, 1.0))
        .alias("gap")
    )


def opportunity_values(opportunities: pl.DataFrame, reach: pl.DataFrame, metrics: pl.DataFrame) -> pl.DataFrame:
    """Pure: each opportunity with its reach, linked metric, gap and measured value, biggest value first.

    `opportunities`: `journey_opportunities`. `reach`: `step_reach`. `metrics`: `stage_metrics` rows with a
    `stage_id` column (the metrics each stage's journey page shows; columns key, label, formula, scope,
    touchpoint_id, direction, target, value). An opportunity links to its stage's metrics of scope "stage" or
    "journey" and to those of its own step's touchpoint. Unknown values (no measured metric with a target)
    sort last.
    """
    linked = (
        opportunities.lazy()
        .select("item_id", "stage_id", pl.col("touchpoint_id").alias("step_touchpoint_id"))
        .join(metrics.lazy(), on="stage_id")
        .filter((pl.col("scope") != "touchpoint") | (pl.col("touchpoint_id") == pl.col("step_touchpoint_id")))
        .with_columns(relative_gap_expr())
        .filter(pl.col("gap").is_not_null())
        .sort(["item_id", "gap", "key"], descending=[False, True, False])
        .unique("item_id", keep="first", maintain_order=True)
        .select(
            "item_id",
            pl.col("key").alias("metric_key"),
            pl.col("label").alias("metric_label"),
            pl.col("formula").alias("metric_formula"),
            pl.col("value").alias("metric_value"),
            pl.col("target").alias("metric_target"),
            "gap",
        )
    )
    return (
        opportunities.lazy()
        .join(reach.lazy(), on="step_id", how="left")
        .with_columns(pl.col("reach").fill_null(0).cast(pl.Int64))
        .join(linked, on="item_id", how="left")
        .with_columns((pl.col("reach") * pl.col("gap")).alias("measured_value"))
        .sort(
            ["measured_value", "impact", "stage_position", "step_position", "item_id"],
            descending=[True, True, False, False, False],
            nulls_last=True,
        )
        .select(MATRIX_COLUMNS)
        .collect()
    )


def load_opportunity_matrix(
    connection: Connection,
    *,
    scope: Scope,
    stage_slug: str | None,
    min_answers: int,
    sums: JourneySums | None = None,
) -> pl.DataFrame:
    """Every opportunity of the journey (or of the stage `stage_slug`) with its measured value; see the module.

    An unknown `stage_slug` gives an empty frame. The metrics are the journey page's (`stage_metrics`), so
    the matrix and the stage's page show the same numbers.
    """
    sums = sums if sums is not None else JourneySums.load(connection, scope=scope)
    stages = [s for s in sums.stages if stage_slug is None or s.stage_slug == stage_slug]
    if not stages:
        return pl.DataFrame(schema=opportunity_values(*_empty_inputs()).schema)
    opportunities = journey_opportunities(
        connection, scope=scope, stage_id=stages[0].stage_id if stage_slug is not None else None
    )
    with_items = set(opportunities["stage_id"].to_list())
    # every stage's metrics from the journey's grouped sums (What changed's): a handful of statements in all
    chosen = [stage.stage_id for stage in stages if stage.stage_id in with_items]
    metrics = (
        sums.stage_metrics(min_answers=min_answers)
        .filter(pl.col("stage_id").is_in(chosen))
        .select("key", "label", "formula", "scope", "touchpoint_id", "direction", "target", "value", "stage_id")
    )
    reach = step_reach(connection, scope=scope, step_ids=opportunities["step_id"].unique().to_list())
    return opportunity_values(opportunities, reach, metrics)


def _empty_inputs() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    metrics_schema: Schema = {
        "key": pl.String,
        "label": pl.String,
        "formula": pl.String,
        "scope": pl.String,
        "touchpoint_id": pl.Int64,
        "direction": pl.String,
        "target": pl.Float64,
        "value": pl.Float64,
        "stage_id": pl.Int64,
    }
    return (
        pl.DataFrame(schema=OPPORTUNITY_SCHEMA),
        pl.DataFrame(schema={"step_id": pl.Int64, "reach": pl.Int64}),
        pl.DataFrame(schema=metrics_schema),
    )

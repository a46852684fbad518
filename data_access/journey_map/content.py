"""The journey map's content: the journey's stages, a stage's steps and lane items, and the open findings.

Lane items without a persona always show; items written for a persona show only when that persona is
selected. Every query takes its ids from the view's scope.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, or_, select
from sqlalchemy.sql.elements import ColumnElement

from data_access.journey_map.sql import Schema, frame
from data_access.models import Channel, Lane, LaneItem, Persona, Stage, Step, Touchpoint
from data_access.scope import StageScope

# What "open" means, everywhere (the overview's stage strip, the journey page, the slides, the report):
# - a pain point written on the map is open: pain points carry no status, and the team resolves one by taking
#   it off the map (a review's "what changed" then lists it as resolved);
# - an opportunity is open unless its status is one of these (case and surrounding spaces ignored);
# - pain points detected from the data are not counted: they are findings of a period, listed on the journey
#   page beside the written ones with whether the map has them yet.
# Items written for a persona count in the views that show them (that persona's).
CLOSED_OPPORTUNITY_STATUSES = ("done", "dropped")
DONE_STATUS = "done"
OPEN_COUNT_SCHEMA: Schema = {"open_pain_points": pl.Int64, "open_opportunities": pl.Int64}


def is_open_expr() -> pl.Expr:
    """True for a lane item (columns lane, status) that counts as an open pain point or opportunity."""
    closed = pl.col("status").str.strip_chars().str.to_lowercase().is_in(CLOSED_OPPORTUNITY_STATUSES)
    return (pl.col("lane") == Lane.PAIN_POINT.value) | (
        (pl.col("lane") == Lane.OPPORTUNITY.value) & ~closed.fill_null(False)
    )


def open_counts(items: pl.DataFrame, *, by: list[str] | None = None) -> pl.DataFrame:
    """Open pain points and opportunities among lane items (columns lane, status, and `by`), per `by` group.

    Without `by`, one row for all the items, zeros included.
    """
    counted = items.lazy().filter(is_open_expr())
    sums = (
        (pl.col("lane") == Lane.PAIN_POINT.value).sum().cast(pl.Int64).alias("open_pain_points"),
        (pl.col("lane") == Lane.OPPORTUNITY.value).sum().cast(pl.Int64).alias("open_opportunities"),
    )
    if not by:
        return counted.select(*sums).collect()
    return counted.group_by(*by).agg(*sums).collect()


def journey_stages(connection: Connection, *, journey_id: int) -> pl.DataFrame:
    """The stages of a journey in order: stage_id, stage_slug, stage_name, position, description."""
    return frame(
        connection,
        select(Stage.id, Stage.slug, Stage.name, Stage.position, Stage.description)
        .where(Stage.journey_id == journey_id)
        .order_by(Stage.position, Stage.id),
        {
            "stage_id": pl.Int64,
            "stage_slug": pl.String,
            "stage_name": pl.String,
            "position": pl.Int64,
            "description": pl.String,
        },
    )


STEP_SCHEMA: Schema = {
    "step_id": pl.Int64,
    "step_slug": pl.String,
    "step_name": pl.String,
    "position": pl.Int64,
    "description": pl.String,
    "touchpoint_id": pl.Int64,
    "touchpoint_name": pl.String,
    "channel_slug": pl.String,
    "channel_name": pl.String,
    "channel_kind": pl.String,
    "moment_of_truth": pl.Boolean,
    "step_kind": pl.String,
    "group": pl.String,
}


def stage_steps(connection: Connection, *, scope: StageScope) -> pl.DataFrame:
    """The stage's steps in order, each with its touchpoint and channel (null when it has none)."""
    columns = (
        Step.id, Step.slug, Step.name, Step.position, Step.description, Touchpoint.id, Touchpoint.name,
        Channel.slug, Channel.name, Channel.kind, Touchpoint.moment_of_truth, Step.kind, Step.alternative_group,
    )  # fmt: skip
    return frame(
        connection,
        select(*columns)
        .outerjoin(Touchpoint, Touchpoint.id == Step.touchpoint_id)
        .outerjoin(Channel, Channel.id == Touchpoint.channel_id)
        .where(Step.stage_id == scope.stage_id)
        .order_by(Step.position, Step.id),
        STEP_SCHEMA,
    )


LANE_SCHEMA: Schema = {
    "item_id": pl.Int64,
    "step_id": pl.Int64,
    "lane": pl.String,
    "text": pl.String,
    "position": pl.Int64,
    "persona_slug": pl.String,
    "emotion": pl.Float64,
    "severity": pl.Int64,
    "evidence": pl.String,
    "owner": pl.String,
    "status": pl.String,
    "impact": pl.Int64,
    "effort": pl.Int64,
}


def visible_items(persona_id: int | None, item: type[LaneItem] = LaneItem) -> ColumnElement[bool]:
    """General lane items always; a persona's own items only when that persona is selected."""
    if persona_id is None:
        return item.persona_id.is_(None)
    return or_(item.persona_id.is_(None), item.persona_id == persona_id)


def lane_items(connection: Connection, *, scope: StageScope) -> pl.DataFrame:
    """The lane items on the stage's steps that the persona view shows, in lane and position order."""
    item = LaneItem
    columns = (
        item.id, item.step_id, item.lane, item.text, item.position, Persona.slug, item.emotion, item.severity,
        item.evidence, item.owner, item.status, item.impact, item.effort,
    )  # fmt: skip
    query = (
        select(*columns)
        .join(Step, Step.id == LaneItem.step_id)
        .outerjoin(Persona, Persona.id == LaneItem.persona_id)
        .where(Step.stage_id == scope.stage_id, visible_items(scope.persona_id))
        .order_by(Step.position, LaneItem.lane, LaneItem.position, LaneItem.id)
    )
    return frame(connection, query, LANE_SCHEMA)


def open_findings_by_stage(
    connection: Connection, *, journey_id: int, persona_id: int | None, stages: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Open pain points and opportunities per stage of the journey map, as the persona view shows them.

    Columns: stage_slug, open_pain_points, open_opportunities; one row per stage in order, zeros included.
    "Open" is `is_open_expr`, the one definition the journey page, the slides and the report count with; only
    the journey's pain points and opportunities (a few rows of the map, no facts) leave the database.
    `stages`: the journey's stages in order (stage_id, stage_slug) when the caller has them.
    """
    if stages is None:
        stages = journey_stages(connection, journey_id=journey_id)
    stages = stages.select("stage_id", "stage_slug")
    items = frame(
        connection,
        select(Step.stage_id, LaneItem.lane, LaneItem.status)
        .join(Step, Step.id == LaneItem.step_id)
        .join(Stage, Stage.id == Step.stage_id)
        .where(
            Stage.journey_id == journey_id,
            LaneItem.lane.in_([Lane.PAIN_POINT.value, Lane.OPPORTUNITY.value]),
            visible_items(persona_id),
        ),
        {"stage_id": pl.Int64, "lane": pl.String, "status": pl.String},
    )
    return (
        stages.join(open_counts(items, by=["stage_id"]), on="stage_id", how="left")
        .select("stage_slug", *(pl.col(c).fill_null(0) for c in OPEN_COUNT_SCHEMA))
        .cast(pl.Schema({"stage_slug": pl.String, **OPEN_COUNT_SCHEMA}))
    )

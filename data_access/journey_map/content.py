"""The journey map's content: the journey's stages, a stage's steps and lane items, and the open findings.

Lane items without a persona always show; items written for a persona show only when that persona is
selected. Every query takes its ids from the view's scope.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, and_, case, func, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from data_access.journey_map.sql import Schema, frame
from data_access.models import Channel, Lane, LaneItem, Persona, Stage, Step, Touchpoint
from data_access.scope import StageScope

# Opportunities in these states are no longer open; a pain point counts as open unless its step holds an
# opportunity in state "done" (the team says it has been dealt with).
CLOSED_OPPORTUNITY_STATUSES = ("done", "dropped")
DONE_STATUS = "done"


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
    return frame(
        connection,
        select(
            Step.id,
            Step.slug,
            Step.name,
            Step.position,
            Step.description,
            Touchpoint.id,
            Touchpoint.name,
            Channel.slug,
            Channel.name,
            Channel.kind,
            Touchpoint.moment_of_truth,
            Step.kind,
            Step.alternative_group,
        )
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


def _visible_items(persona_id: int | None, item: type[LaneItem] = LaneItem) -> ColumnElement[bool]:
    """General lane items always; a persona's own items only when that persona is selected."""
    if persona_id is None:
        return item.persona_id.is_(None)
    return or_(item.persona_id.is_(None), item.persona_id == persona_id)


def lane_items(connection: Connection, *, scope: StageScope) -> pl.DataFrame:
    """The lane items on the stage's steps that the persona view shows, in lane and position order."""
    return frame(
        connection,
        select(
            LaneItem.id,
            LaneItem.step_id,
            LaneItem.lane,
            LaneItem.text,
            LaneItem.position,
            Persona.slug,
            LaneItem.emotion,
            LaneItem.severity,
            LaneItem.evidence,
            LaneItem.owner,
            LaneItem.status,
            LaneItem.impact,
            LaneItem.effort,
        )
        .join(Step, Step.id == LaneItem.step_id)
        .outerjoin(Persona, Persona.id == LaneItem.persona_id)
        .where(Step.stage_id == scope.stage_id, _visible_items(scope.persona_id))
        .order_by(Step.position, LaneItem.lane, LaneItem.position, LaneItem.id),
        LANE_SCHEMA,
    )


def open_findings_by_stage(connection: Connection, *, journey_id: int, persona_id: int | None) -> pl.DataFrame:
    """Open pain points and opportunities per stage of the journey map, as the persona view shows them.

    Columns: stage_slug, open_pain_points, open_opportunities; one row per stage, zeros included.
    An opportunity is open unless its status is "done" or "dropped". Pain points carry no status, so a
    pain point is open unless an opportunity on the same step, visible in the same view, is "done".
    """
    done = aliased(LaneItem)
    done_steps = select(done.step_id).where(
        done.lane == Lane.OPPORTUNITY.value, done.status == DONE_STATUS, _visible_items(persona_id, done)
    )
    open_pain = and_(LaneItem.lane == Lane.PAIN_POINT.value, LaneItem.step_id.not_in(done_steps))
    open_opportunity = and_(
        LaneItem.lane == Lane.OPPORTUNITY.value,
        or_(LaneItem.status.is_(None), LaneItem.status.not_in(CLOSED_OPPORTUNITY_STATUSES)),
    )
    statement = (
        select(
            Stage.slug,
            func.coalesce(func.sum(case((open_pain, 1), else_=0)), 0),
            func.coalesce(func.sum(case((open_opportunity, 1), else_=0)), 0),
        )
        .select_from(Stage)
        .outerjoin(Step, Step.stage_id == Stage.id)
        .outerjoin(LaneItem, and_(LaneItem.step_id == Step.id, _visible_items(persona_id)))
        .where(Stage.journey_id == journey_id)
        .group_by(Stage.id, Stage.slug, Stage.position)
        .order_by(Stage.position)
    )
    return frame(
        connection,
        statement,
        {"stage_slug": pl.String, "open_pain_points": pl.Int64, "open_opportunities": pl.Int64},
    )

"""The customers' own words on a stage: comment counts per score band, pages of comments, the evidence.

Comments are read from the feedback table through its `(journey_id, stage_id, occurred_at)` index (or the
step's or touchpoint's, for a finding's evidence), newest first, a page at a time, over the view's period and
persona; their counts per band come from the feedback rollups.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy import (
    Connection,
    Integer,
    Select,
    Subquery,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from data_access.journey_map.sql import Schema, day_bounds, frame, persona_filter
from data_access.metrics import SCALES
from data_access.models import Channel, Feedback, FeedbackRollup, Step, Touchpoint
from data_access.scope import StageScope
from data_access.view_rollups import of_persona, period_rows, rollup_for

# Score bands of the comments filter; NPS calls them detractors, passives and promoters.
BANDS = ("low", "middle", "high")
NPS_BAND_LABELS = {"low": "detractors", "middle": "passives", "high": "promoters"}


def _band_case() -> ColumnElement[str]:
    """'low' | 'middle' | 'high' by each measure's scale (detractors | passives | promoters for NPS)."""
    whens = []
    for measure, scale in SCALES.items():
        whens.append((and_(Feedback.measure == measure.value, Feedback.score <= scale.bad_to), "low"))
        whens.append((and_(Feedback.measure == measure.value, Feedback.score >= scale.good_from), "high"))
    return case(*whens, else_="middle")


def _band_filter(band: str) -> ColumnElement[bool]:
    conditions = []
    for measure, scale in SCALES.items():
        if band == "low":
            conditions.append(and_(Feedback.measure == measure.value, Feedback.score <= scale.bad_to))
        elif band == "high":
            conditions.append(and_(Feedback.measure == measure.value, Feedback.score >= scale.good_from))
        else:
            conditions.append(
                and_(Feedback.measure == measure.value, Feedback.score > scale.bad_to, Feedback.score < scale.good_from)
            )
    return or_(*conditions)


def _comment_filters(
    scope: StageScope,
    *,
    measure: str | None,
    channel_slug: str | None,
    step_id: int | None = None,
    touchpoint_id: int | None = None,
    touchpoint_slug: str | None = None,
) -> list[ColumnElement[bool]]:
    low, high = day_bounds(scope.period)
    filters: list[ColumnElement[bool]] = [
        Feedback.journey_id == scope.journey_id,
        Feedback.stage_id == scope.stage_id,
        Feedback.occurred_at >= low,
        Feedback.occurred_at < high,
        Feedback.comment.is_not(None),
        Feedback.comment != "",
        persona_filter(Feedback.persona_id, scope.persona_id),
    ]
    if measure is not None:
        filters.append(Feedback.measure == measure)
    if channel_slug is not None:
        filters.append(Feedback.channel_id == select(Channel.id).where(Channel.slug == channel_slug).scalar_subquery())
    if step_id is not None:
        filters.append(Feedback.step_id == step_id)
    if touchpoint_slug is not None:
        # every answer that names the touchpoint (of this stage), whatever step it was given at
        named = select(Touchpoint.id).where(Touchpoint.slug == touchpoint_slug, Touchpoint.stage_id == scope.stage_id)
        filters.append(Feedback.touchpoint_id.in_(named))
    if touchpoint_id is not None:
        # the touchpoint's answers given at one of its own steps (or with no step recorded): an answer about
        # the touchpoint given at a step of another touchpoint speaks of that other step
        own_steps = select(Step.id).where(Step.touchpoint_id == touchpoint_id)
        filters.append(Feedback.touchpoint_id == touchpoint_id)
        filters.append(or_(Feedback.step_id.is_(None), Feedback.step_id.in_(own_steps)))
    return filters


def comment_band_counts(
    connection: Connection, *, scope: StageScope,
    measure: str | None = None, channel_slug: str | None = None, touchpoint_slug: str | None = None,
) -> pl.DataFrame:  # fmt: skip
    """Comments of the stage in the period per score band: band ("low" | "middle" | "high"), comments.

    Every band appears, zeros included. Summed from the feedback rollups' comment counts (the view rollup for
    every customer, `view_rollups`), so the count costs what the rollup rows of the period cost, not the
    stage's answers.
    """
    r = rollup_for(FeedbackRollup, scope.persona_id)
    conditions = [r.journey_id == scope.journey_id, r.stage_id == scope.stage_id, of_persona(r, scope.persona_id)]
    if measure is not None:
        conditions.append(r.measure == measure)
    if channel_slug is not None:
        conditions.append(r.channel_id == select(Channel.id).where(Channel.slug == channel_slug).scalar_subquery())
    if touchpoint_slug is not None:
        named = select(Touchpoint.id).where(Touchpoint.slug == touchpoint_slug, Touchpoint.stage_id == scope.stage_id)
        conditions.append(r.touchpoint_id.in_(named))
    rows_of = period_rows(r, [scope.period], ["comments", "comments_good", "comments_bad"], *conditions)
    total, high, low = (
        int(value or 0)
        for value in connection.execute(
            select(func.sum(rows_of.c.comments), func.sum(rows_of.c.comments_good), func.sum(rows_of.c.comments_bad))
        ).one()
    )
    return pl.DataFrame(
        {"band": list(BANDS), "comments": [low, total - low - high, high]},
        schema={"band": pl.String, "comments": pl.Int64},
    )


COMMENT_SCHEMA: Schema = {
    "feedback_id": pl.Int64,
    "occurred_at": pl.Datetime("us"),
    "measure": pl.String,
    "score": pl.Float64,
    "band": pl.String,
    "channel_name": pl.String,
    "step_id": pl.Int64,
    "step_name": pl.String,
    "touchpoint_name": pl.String,
    "comment": pl.String,
}


def _comment_page(
    scope: StageScope,
    *,
    band: str | None = None,
    measure: str | None = None,
    channel_slug: str | None = None,
    step_id: int | None = None,
    touchpoint_id: int | None = None,
    touchpoint_slug: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> Subquery:
    """The ids of one page of the stage's comments (see `stage_comments`), newest first."""
    filters = _comment_filters(
        scope,
        measure=measure,
        channel_slug=channel_slug,
        step_id=step_id,
        touchpoint_id=touchpoint_id,
        touchpoint_slug=touchpoint_slug,
    )
    if band is not None:
        filters.append(_band_filter(band))
    return (
        select(Feedback.id)
        .where(*filters)
        .order_by(Feedback.occurred_at.desc(), Feedback.id.desc())
        .limit(limit)
        .offset(offset)
        .subquery()
    )


def _comment_rows(page: Subquery, *leading: ColumnElement[Any]) -> Select[Any]:
    """The comments of `page` with their band, channel, step and touchpoint (`COMMENT_SCHEMA`), after `leading`."""
    return (
        select(
            *leading,
            Feedback.id,
            Feedback.occurred_at,
            Feedback.measure,
            Feedback.score,
            _band_case(),
            Channel.name,
            Feedback.step_id,
            Step.name,
            Touchpoint.name,
            Feedback.comment,
        )
        .join(page, page.c.id == Feedback.id)
        .outerjoin(Channel, Channel.id == Feedback.channel_id)
        .outerjoin(Step, Step.id == Feedback.step_id)
        .outerjoin(Touchpoint, Touchpoint.id == Feedback.touchpoint_id)
    )


def stage_comments(
    connection: Connection,
    *,
    scope: StageScope,
    band: str | None = None,
    measure: str | None = None,
    channel_slug: str | None = None,
    step_id: int | None = None,
    touchpoint_id: int | None = None,
    touchpoint_slug: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> pl.DataFrame:
    """One page of the stage's comments in the period, newest first, by LIMIT/OFFSET over the feedback time
    index; narrowed to one step, touchpoint, channel, measure or score band when given. A touchpoint's
    comments by id (the evidence of a finding) are its answers given at its own steps, or with no step
    recorded; by slug (the reader's filter), every answer that names it."""
    page = _comment_page(
        scope,
        band=band,
        measure=measure,
        channel_slug=channel_slug,
        step_id=step_id,
        touchpoint_id=touchpoint_id,
        touchpoint_slug=touchpoint_slug,
        limit=limit,
        offset=offset,
    )
    return frame(
        connection,
        _comment_rows(page).order_by(Feedback.occurred_at.desc(), Feedback.id.desc()),
        COMMENT_SCHEMA,
    )


EVIDENCE_SCHEMA: Schema = {"scope": pl.String, "scope_id": pl.Int64, **COMMENT_SCHEMA}
EVIDENCE_SCOPES = ("step", "touchpoint")


def evidence_comments(
    connection: Connection,
    *,
    scope: StageScope,
    findings: pl.DataFrame,
    per_scope: int = 10,
) -> pl.DataFrame:
    """The words behind each finding: the newest low-score comments on its own step or touchpoint.

    `findings` is `detection.detect_pain_points`' frame; each distinct (scope, scope_id) gets the newest
    `per_scope` low-band comments of the view's period and persona whose feedback row names that step
    (scope "step") or that touchpoint at one of its own steps (scope "touchpoint"), never another step of
    the stage. Columns: scope, scope_id, then `stage_comments`' columns; a finding without rows has
    no comment to quote. Every finding's page is read in one statement (one `stage_comments` page each).
    """
    wanted = [
        (kind, scope_id)
        for kind, scope_id in findings.select("scope", "scope_id").unique(maintain_order=True).iter_rows()
        if kind in EVIDENCE_SCOPES and scope_id is not None
    ]
    if not wanted:
        return pl.DataFrame(schema=EVIDENCE_SCHEMA)
    # the pages' ids in one UNION ALL (each an index range of its own), their comments joined once
    pages = [
        select(
            literal(index, Integer).label("evidence_order"),
            _comment_page(
                scope,
                band="low",
                step_id=scope_id if kind == "step" else None,
                touchpoint_id=scope_id if kind == "touchpoint" else None,
                limit=per_scope,
            ).c.id,
        )
        for index, (kind, scope_id) in enumerate(wanted)
    ]
    every = union_all(*pages).subquery("evidence")
    query = _comment_rows(every, every.c.evidence_order).order_by(
        every.c.evidence_order, Feedback.occurred_at.desc(), Feedback.id.desc()
    )
    rows = [tuple(row) for row in connection.execute(query).all()]
    comments = pl.DataFrame([row[1:] for row in rows], schema=COMMENT_SCHEMA, orient="row")
    found = pl.DataFrame(
        [wanted[row[0]] for row in rows], schema={"scope": pl.String, "scope_id": pl.Int64}, orient="row"
    )
    return pl.concat([found, comments], how="horizontal")


def comment_channels(connection: Connection) -> pl.DataFrame:
    """Channels a comment can come through: channel_slug, channel_name (shared by every journey; a small table)."""
    return frame(
        connection,
        select(Channel.slug, Channel.name).order_by(Channel.position, Channel.name),
        {"channel_slug": pl.String, "channel_name": pl.String},
    )


def comment_touchpoints(connection: Connection, *, scope: StageScope) -> pl.DataFrame:
    """The stage's touchpoints a comment can be about: touchpoint_slug, touchpoint_name, channel_slug."""
    return frame(
        connection,
        select(Touchpoint.slug, Touchpoint.name, Channel.slug)
        .join(Channel, Channel.id == Touchpoint.channel_id)
        .where(Touchpoint.stage_id == scope.stage_id)
        .order_by(Channel.position, Touchpoint.id),
        {"touchpoint_slug": pl.String, "touchpoint_name": pl.String, "channel_slug": pl.String},
    )

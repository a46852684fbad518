"""Queries behind the journey map: one stage in depth, with the evidence behind it.

Every function takes a SQLAlchemy connection, then keyword-only plain values (slugs, dates, numbers), and
returns a polars frame or a small dataclass. They read the map tables, the rollups, `stage_entries` and
the feedback table through its `(journey_id, stage_id, occurred_at)` index; none scans raw events.

Conventions:

- A window is `start`..`end`, both days included. The previous period has the same length and ends the
  day before `start` (`previous_period`).
- `persona_slug=None` means every customer. Lane items without a persona always show; items written for a
  persona show only when that persona is selected.
- An unknown journey, stage or persona gives empty frames, never an exception: the page explains it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypedDict

import polars as pl
from sqlalchemy import Connection, Select, and_, case, func, literal, null, or_, select
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql.elements import ColumnElement

from data_access.metrics import (
    SCALES,
    Formula,
    conversion_expr,
    emotion_expr,
    improvement_expr,
    measure_value_expr,
    status_expr,
)
from data_access.models import (
    Channel,
    EntryRollup,
    EventRollup,
    Feedback,
    FeedbackRollup,
    Journey,
    Lane,
    LaneItem,
    Measure,
    MetricDefinition,
    Persona,
    Stage,
    StageEntry,
    Step,
    Touchpoint,
)

FEEDBACK_FORMULAS = tuple(m.value for m in Measure)
# Opportunities in these states are no longer open; a pain point counts as open unless its step holds an
# opportunity in state "done" (the team says it has been dealt with).
CLOSED_OPPORTUNITY_STATUSES = ("done", "dropped")
DONE_STATUS = "done"

# Score bands of the comments filter; NPS calls them detractors, passives and promoters.
BANDS = ("low", "middle", "high")
NPS_BAND_LABELS = {"low": "detractors", "middle": "passives", "high": "promoters"}


# --- small helpers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageKey:
    """Ids around one stage: its journey, itself, and its neighbours in the journey's order."""

    journey_id: int
    stage_id: int
    position: int
    previous_stage_id: int | None
    next_stage_id: int | None


@dataclass(frozen=True)
class TimeToNextStage:
    """Median days from entering the stage to entering the next one, over the customers who did both."""

    next_stage_slug: str | None
    median_days: float | None
    customers: int


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The window of equal length that ends the day before `start`."""
    days = (end - start).days + 1
    return start - dt.timedelta(days=days), start - dt.timedelta(days=1)


def _frame(connection: Connection, statement: Select, schema: dict[str, pl.DataType | type]) -> pl.DataFrame:
    """Run `statement` and return its rows with a fixed schema, so an empty answer still has its columns."""
    rows = connection.execute(statement).all()
    return pl.DataFrame([tuple(row) for row in rows], schema=schema, orient="row")


def _day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Timestamps bounding the days `start`..`end` (end exclusive), for indexed range scans."""
    return dt.datetime.combine(start, dt.time()), dt.datetime.combine(end + dt.timedelta(days=1), dt.time())


def _persona_id(persona_slug: str) -> ColumnElement[int]:
    return select(Persona.id).where(Persona.slug == persona_slug).scalar_subquery()


def _persona_filter(
    column: ColumnElement[int | None] | InstrumentedAttribute[int | None], persona_slug: str | None
) -> ColumnElement[bool]:
    return literal(True) if persona_slug is None else column == _persona_id(persona_slug)


def stage_key(connection: Connection, *, journey_slug: str, stage_slug: str) -> StageKey | None:
    """The ids of a stage and of its neighbours, or None when the journey or stage does not exist."""
    stages = connection.execute(
        select(Stage.id, Stage.slug, Stage.position, Stage.journey_id)
        .join(Journey, Journey.id == Stage.journey_id)
        .where(Journey.slug == journey_slug)
        .order_by(Stage.position, Stage.id)
    ).all()
    slugs = [row.slug for row in stages]
    if stage_slug not in slugs:
        return None
    index = slugs.index(stage_slug)
    here = stages[index]
    return StageKey(
        journey_id=here.journey_id,
        stage_id=here.id,
        position=here.position,
        previous_stage_id=stages[index - 1].id if index > 0 else None,
        next_stage_id=stages[index + 1].id if index + 1 < len(stages) else None,
    )


# --- the map's content ----------------------------------------------------------------------------


def journey_list(connection: Connection) -> pl.DataFrame:
    """Every journey: journey_slug, journey_name, kind."""
    return _frame(
        connection,
        select(Journey.slug, Journey.name, Journey.kind).order_by(Journey.name),
        {"journey_slug": pl.String, "journey_name": pl.String, "kind": pl.String},
    )


def journey_stages(connection: Connection, *, journey_slug: str) -> pl.DataFrame:
    """The stages of a journey in order: stage_id, stage_slug, stage_name, position, description."""
    return _frame(
        connection,
        select(Stage.id, Stage.slug, Stage.name, Stage.position, Stage.description)
        .join(Journey, Journey.id == Stage.journey_id)
        .where(Journey.slug == journey_slug)
        .order_by(Stage.position, Stage.id),
        {
            "stage_id": pl.Int64,
            "stage_slug": pl.String,
            "stage_name": pl.String,
            "position": pl.Int64,
            "description": pl.String,
        },
    )


def persona_list(connection: Connection) -> pl.DataFrame:
    """Every persona: persona_slug, persona_name."""
    return _frame(
        connection,
        select(Persona.slug, Persona.name).order_by(Persona.name),
        {"persona_slug": pl.String, "persona_name": pl.String},
    )


STEP_SCHEMA: dict[str, pl.DataType | type] = {
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
}


def stage_steps(connection: Connection, *, journey_slug: str, stage_slug: str) -> pl.DataFrame:
    """The stage's steps in order, each with its touchpoint and channel (null when it has none)."""
    return _frame(
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
        )
        .join(Stage, Stage.id == Step.stage_id)
        .join(Journey, Journey.id == Stage.journey_id)
        .outerjoin(Touchpoint, Touchpoint.id == Step.touchpoint_id)
        .outerjoin(Channel, Channel.id == Touchpoint.channel_id)
        .where(Journey.slug == journey_slug, Stage.slug == stage_slug)
        .order_by(Step.position, Step.id),
        STEP_SCHEMA,
    )


def stage_touchpoints(connection: Connection, *, journey_slug: str, stage_slug: str) -> pl.DataFrame:
    """All touchpoints of the stage: touchpoint_id, touchpoint_name, channel_slug, channel_name, moment_of_truth."""
    return _frame(
        connection,
        select(Touchpoint.id, Touchpoint.name, Channel.slug, Channel.name, Touchpoint.moment_of_truth)
        .join(Stage, Stage.id == Touchpoint.stage_id)
        .join(Journey, Journey.id == Stage.journey_id)
        .join(Channel, Channel.id == Touchpoint.channel_id)
        .where(Journey.slug == journey_slug, Stage.slug == stage_slug)
        .order_by(Channel.position, Touchpoint.name),
        {
            "touchpoint_id": pl.Int64,
            "touchpoint_name": pl.String,
            "channel_slug": pl.String,
            "channel_name": pl.String,
            "moment_of_truth": pl.Boolean,
        },
    )


LANE_SCHEMA: dict[str, pl.DataType | type] = {
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


def _visible_items(persona_slug: str | None, item: type[LaneItem] = LaneItem) -> ColumnElement[bool]:
    """General lane items always; a persona's own items only when that persona is selected."""
    if persona_slug is None:
        return item.persona_id.is_(None)
    return or_(item.persona_id.is_(None), item.persona_id == _persona_id(persona_slug))


def lane_items(connection: Connection, *, journey_slug: str, stage_slug: str, persona_slug: str | None) -> pl.DataFrame:
    """The lane items on the stage's steps that the persona view shows, in lane and position order."""
    return _frame(
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
        .join(Stage, Stage.id == Step.stage_id)
        .join(Journey, Journey.id == Stage.journey_id)
        .outerjoin(Persona, Persona.id == LaneItem.persona_id)
        .where(Journey.slug == journey_slug, Stage.slug == stage_slug, _visible_items(persona_slug))
        .order_by(Step.position, LaneItem.lane, LaneItem.position, LaneItem.id),
        LANE_SCHEMA,
    )


def open_findings_by_stage(connection: Connection, *, journey_slug: str, persona_slug: str | None) -> pl.DataFrame:
    """Open pain points and opportunities per stage of the journey map, as the persona view shows them.

    Columns: stage_slug, open_pain_points, open_opportunities; one row per stage, zeros included.
    An opportunity is open unless its status is "done" or "dropped". Pain points carry no status, so a
    pain point is open unless an opportunity on the same step, visible in the same view, is "done".
    """
    done = aliased(LaneItem)
    done_steps = select(done.step_id).where(
        done.lane == Lane.OPPORTUNITY.value, done.status == DONE_STATUS, _visible_items(persona_slug, done)
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
        .join(Journey, Journey.id == Stage.journey_id)
        .outerjoin(Step, Step.stage_id == Stage.id)
        .outerjoin(LaneItem, and_(LaneItem.step_id == Step.id, _visible_items(persona_slug)))
        .where(Journey.slug == journey_slug)
        .group_by(Stage.id, Stage.slug, Stage.position)
        .order_by(Stage.position)
    )
    return _frame(
        connection,
        statement,
        {"stage_slug": pl.String, "open_pain_points": pl.Int64, "open_opportunities": pl.Int64},
    )


# --- the numbers: funnel and time to next stage ---------------------------------------------------

FUNNEL_SCHEMA: dict[str, pl.DataType | type] = {
    "kind": pl.String,
    "step_id": pl.Int64,
    "label": pl.String,
    "order": pl.Int64,
    "customers": pl.Int64,
}


def stage_funnel(
    connection: Connection,
    *,
    journey_slug: str,
    stage_slug: str,
    persona_slug: str | None,
    start: dt.date,
    end: dt.date,
) -> pl.DataFrame:
    """Customers who first reached the stage, each of its steps, and the next stage, within the window.

    Columns: kind ("stage" | "step" | "next_stage"), step_id, label, order, customers, conversion (÷ the
    row before), drop_off. Read from `rollup_entries_daily`, so any window is exact.
    """
    key = stage_key(connection, journey_slug=journey_slug, stage_slug=stage_slug)
    if key is None:
        return _with_conversion(pl.DataFrame(schema=FUNNEL_SCHEMA))
    stage_ids = [key.stage_id] + ([key.next_stage_id] if key.next_stage_id is not None else [])
    reached = (
        select(EntryRollup.stage_id, EntryRollup.step_id, func.sum(EntryRollup.customers).label("customers"))
        .where(
            EntryRollup.journey_id == key.journey_id,
            EntryRollup.day.between(start, end),
            EntryRollup.stage_id.in_(stage_ids),
            _persona_filter(EntryRollup.persona_id, persona_slug),
        )
        .group_by(EntryRollup.stage_id, EntryRollup.step_id)
        .subquery()
    )
    whole_stage = select(
        literal("stage").label("kind"),
        null().label("step_id"),
        Stage.name.label("label"),
        literal(0).label("order"),
        func.coalesce(reached.c.customers, 0),
        Stage.id.label("stage_id"),
    ).outerjoin(reached, and_(reached.c.stage_id == Stage.id, reached.c.step_id.is_(None)))
    steps = (
        select(
            literal("step"),
            Step.id,
            Step.name,
            Step.position + 1,
            func.coalesce(reached.c.customers, 0),
            Step.stage_id,
        )
        .select_from(Step)
        .outerjoin(reached, reached.c.step_id == Step.id)
        .where(Step.stage_id == key.stage_id)
    )
    parts = [whole_stage.where(Stage.id == key.stage_id), steps]
    if key.next_stage_id is not None:
        parts.append(
            select(
                literal("next_stage"),
                null(),
                Stage.name,
                literal(1_000_000),
                func.coalesce(reached.c.customers, 0),
                Stage.id,
            )
            .outerjoin(reached, and_(reached.c.stage_id == Stage.id, reached.c.step_id.is_(None)))
            .where(Stage.id == key.next_stage_id)
        )
    rows = [tuple(row)[:5] for part in parts for row in connection.execute(part).all()]
    funnel = pl.DataFrame(rows, schema=FUNNEL_SCHEMA, orient="row").sort("order", "step_id")
    return _with_conversion(funnel.with_columns(pl.int_range(pl.len()).cast(pl.Int64).alias("order")))


def _with_conversion(funnel: pl.DataFrame) -> pl.DataFrame:
    return (
        funnel.lazy()
        .with_columns(
            pl.col("customers").shift(1).alias("previous_customers"),
            pl.col("customers").first().alias("entered"),
        )
        .with_columns(
            conversion_expr("customers", "previous_customers").alias("conversion"),
        )
        .with_columns(
            (1.0 - pl.col("conversion")).alias("drop_off"),
            conversion_expr("customers", "entered").alias("share_of_entry"),
        )
        .drop("entered")
        .collect()
    )


def time_to_next_stage(
    connection: Connection,
    *,
    journey_slug: str,
    stage_slug: str,
    persona_slug: str | None,
    start: dt.date,
    end: dt.date,
) -> TimeToNextStage:
    """Median days from entering the stage (in the window) to first entering the next stage afterwards.

    Reads `stage_entries` through its `(journey_id, stage_id, entered_at)` index and its customer index;
    only one number per customer who made the move leaves the database.
    """
    key = stage_key(connection, journey_slug=journey_slug, stage_slug=stage_slug)
    if key is None or key.next_stage_id is None:
        return TimeToNextStage(next_stage_slug=None, median_days=None, customers=0)
    next_slug = connection.execute(select(Stage.slug).where(Stage.id == key.next_stage_id)).scalar_one()
    here, there = aliased(StageEntry), aliased(StageEntry)
    low, high = _day_bounds(start, end)
    pairs = _frame(
        connection,
        select(here.entered_at, there.entered_at)
        .join(
            there,
            and_(
                there.journey_id == here.journey_id,
                there.customer_id == here.customer_id,
                # `+ 0` keeps SQLite off the (journey, stage, entered_at) index here: that index turns the
                # join into a range scan per customer; the customer index makes it one lookup each.
                there.stage_id + 0 == key.next_stage_id,
                there.step_id.is_(None),
                there.entered_at >= here.entered_at,
            ),
        )
        .where(
            here.journey_id == key.journey_id,
            here.stage_id == key.stage_id,
            here.step_id.is_(None),
            here.entered_at >= low,
            here.entered_at < high,
            _persona_filter(here.persona_id, persona_slug),
        ),
        {"entered_at": pl.Datetime("us"), "next_entered_at": pl.Datetime("us")},
    )
    days = pairs.select(
        ((pl.col("next_entered_at") - pl.col("entered_at")).dt.total_seconds() / 86_400.0).alias("days")
    )["days"]
    median_days = days.median() if days.len() else None
    return TimeToNextStage(
        next_stage_slug=next_slug,
        median_days=float(median_days) if isinstance(median_days, int | float) else None,
        customers=days.len(),
    )


# --- the numbers: feedback and linked metrics -----------------------------------------------------

FEEDBACK_DAILY_SCHEMA: dict[str, pl.DataType | type] = {
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


def stage_feedback_daily(
    connection: Connection,
    *,
    journey_slug: str,
    stage_slug: str,
    persona_slug: str | None,
    start: dt.date,
    end: dt.date,
) -> pl.DataFrame:
    """Feedback counts of the stage per day × step × touchpoint × channel × measure, from the rollup."""
    key = stage_key(connection, journey_slug=journey_slug, stage_slug=stage_slug)
    if key is None:
        return pl.DataFrame(schema=FEEDBACK_DAILY_SCHEMA)
    return _feedback_daily(connection, key, persona_slug, start, end)


def _feedback_daily(
    connection: Connection, key: StageKey, persona_slug: str | None, start: dt.date, end: dt.date
) -> pl.DataFrame:
    r = FeedbackRollup
    groups = (r.day, r.step_id, r.touchpoint_id, r.channel_id, r.measure)
    return _frame(
        connection,
        select(*groups, func.sum(r.answers), func.sum(r.score_sum), func.sum(r.good), func.sum(r.bad))
        .where(
            r.journey_id == key.journey_id,
            r.day.between(start, end),
            r.stage_id == key.stage_id,
            _persona_filter(r.persona_id, persona_slug),
        )
        .group_by(*groups),
        FEEDBACK_DAILY_SCHEMA,
    )


DEFINITION_SCHEMA: dict[str, pl.DataType | type] = {
    "metric_id": pl.Int64,
    "key": pl.String,
    "label": pl.String,
    "formula": pl.String,
    "unit": pl.String,
    "direction": pl.String,
    "target": pl.Float64,
    "warning": pl.Float64,
    "touchpoint_id": pl.Int64,
    "touchpoint_name": pl.String,
    "channel_id": pl.Int64,
    "scope": pl.String,
}


def stage_metric_definitions(connection: Connection, *, journey_slug: str, stage_slug: str) -> pl.DataFrame:
    """Metric definitions that apply to the stage: its own, its touchpoints', and the journey's feedback ones.

    `scope` is "stage", "touchpoint" or "journey" (a journey-level feedback metric evaluated on this stage).
    """
    key = stage_key(connection, journey_slug=journey_slug, stage_slug=stage_slug)
    if key is None:
        return pl.DataFrame(schema=DEFINITION_SCHEMA)
    m = MetricDefinition
    scope = case(
        (m.touchpoint_id.is_not(None), literal("touchpoint")),
        (m.stage_id.is_not(None), literal("stage")),
        else_=literal("journey"),
    )
    return _frame(
        connection,
        select(
            m.id,
            m.key,
            m.label,
            m.formula,
            m.unit,
            m.direction,
            m.target,
            m.warning,
            m.touchpoint_id,
            Touchpoint.name,
            Touchpoint.channel_id,
            scope,
        )
        .outerjoin(Touchpoint, Touchpoint.id == m.touchpoint_id)
        .where(
            m.journey_id == key.journey_id,
            or_(
                m.stage_id == key.stage_id,
                Touchpoint.stage_id == key.stage_id,
                and_(m.stage_id.is_(None), m.touchpoint_id.is_(None), m.formula.in_(FEEDBACK_FORMULAS)),
            ),
        )
        .order_by(scope.desc(), m.key),
        DEFINITION_SCHEMA,
    )


def _events_daily(
    connection: Connection, key: StageKey, persona_slug: str | None, start: dt.date, end: dt.date
) -> pl.DataFrame:
    r = EventRollup
    return _frame(
        connection,
        select(r.day, r.channel_id, func.sum(r.events))
        .where(
            r.journey_id == key.journey_id,
            r.day.between(start, end),
            r.stage_id == key.stage_id,
            _persona_filter(r.persona_id, persona_slug),
        )
        .group_by(r.day, r.channel_id),
        {"day": pl.Date, "channel_id": pl.Int64, "events": pl.Int64},
    )


def _entries_daily(
    connection: Connection, key: StageKey, persona_slug: str | None, start: dt.date, end: dt.date
) -> pl.DataFrame:
    """Customers entering the stage (`reached`) and the stage before (`base`) per day."""
    r = EntryRollup
    previous = key.previous_stage_id if key.previous_stage_id is not None else -1
    return _frame(
        connection,
        select(
            r.day,
            func.sum(case((r.stage_id == key.stage_id, r.customers), else_=0)),
            func.sum(case((r.stage_id == previous, r.customers), else_=0)),
        )
        .where(
            r.journey_id == key.journey_id,
            r.day.between(start, end),
            r.stage_id.in_([key.stage_id, previous]),
            r.step_id.is_(None),
            _persona_filter(r.persona_id, persona_slug),
        )
        .group_by(r.day),
        {"day": pl.Date, "reached": pl.Int64, "base": pl.Int64},
    )


def metric_components(
    definitions: pl.DataFrame, feedback_daily: pl.DataFrame, events_daily: pl.DataFrame, entries_daily: pl.DataFrame
) -> pl.LazyFrame:
    """Daily additive parts of every definition: answers/score_sum/good/bad, reached/base, events.

    Pure: a definition's value over any set of days is a function of these parts summed over those days.
    """
    feedback_defs = definitions.lazy().filter(pl.col("formula").is_in(FEEDBACK_FORMULAS))
    sums = [pl.col(c).sum() for c in ("answers", "score_sum", "good", "bad")]
    stage_feedback = feedback_daily.lazy().group_by("day", "measure").agg(sums)
    touchpoint_feedback = feedback_daily.lazy().group_by("day", "touchpoint_id", "measure").agg(sums)
    parts = [
        feedback_defs.filter(pl.col("touchpoint_id").is_null()).join(
            stage_feedback, left_on="formula", right_on="measure"
        ),
        feedback_defs.filter(pl.col("touchpoint_id").is_not_null()).join(
            touchpoint_feedback, left_on=["touchpoint_id", "formula"], right_on=["touchpoint_id", "measure"]
        ),
        definitions.lazy()
        .filter(pl.col("formula") == Formula.VOLUME.value, pl.col("touchpoint_id").is_null())
        .join(events_daily.lazy().group_by("day").agg(pl.col("events").sum()), how="cross"),
        definitions.lazy()
        .filter(pl.col("formula") == Formula.VOLUME.value, pl.col("touchpoint_id").is_not_null())
        .join(events_daily.lazy(), on="channel_id"),
        definitions.lazy()
        .filter(
            pl.col("formula").is_in([Formula.CONVERSION.value, Formula.DROP_OFF.value]),
            pl.col("touchpoint_id").is_null(),
        )
        .join(entries_daily.lazy(), how="cross"),
    ]
    columns = ["metric_id", "formula", "day", "answers", "score_sum", "good", "bad", "reached", "base", "events"]
    return pl.concat(parts, how="diagonal_relaxed").select(
        pl.col("metric_id"),
        pl.col("formula"),
        pl.col("day"),
        *(pl.col(c).fill_null(0) for c in columns[3:]),
    )


def metric_value_expr(min_answers: int) -> pl.Expr:
    """Value of each definition from its summed parts, null below `min_answers` (answers or base customers)."""
    feedback = measure_value_expr(min_answers)
    conversion = pl.when(pl.col("base") >= min_answers).then(conversion_expr("reached", "base"))
    return (
        pl.when(pl.col("formula").is_in(FEEDBACK_FORMULAS))
        .then(feedback)
        .when(pl.col("formula") == Formula.CONVERSION.value)
        .then(conversion)
        .when(pl.col("formula") == Formula.DROP_OFF.value)
        .then(1.0 - conversion)
        .when(pl.col("formula") == Formula.VOLUME.value)
        .then(pl.col("events").cast(pl.Float64))
        .otherwise(None)
        .alias("value")
    )


def sample_expr() -> pl.Expr:
    """How many answers (or customers, or events) a value rests on."""
    return (
        pl.when(pl.col("formula").is_in(FEEDBACK_FORMULAS))
        .then(pl.col("answers"))
        .when(pl.col("formula").is_in([Formula.CONVERSION.value, Formula.DROP_OFF.value]))
        .then(pl.col("base"))
        .otherwise(pl.col("events"))
        .alias("sample")
    )


def _summed(components: pl.LazyFrame, by: list[str], min_answers: int) -> pl.LazyFrame:
    parts = ("answers", "score_sum", "good", "bad", "reached", "base", "events")
    return (
        components.group_by(*by)
        .agg(pl.col("formula").first(), *(pl.col(p).sum() for p in parts))
        .with_columns(pl.col("formula").alias("measure"))
        .with_columns(metric_value_expr(min_answers), sample_expr())
        .select(*by, "value", "sample")
    )


def _stage_components(
    connection: Connection,
    key: StageKey,
    definitions: pl.DataFrame,
    persona_slug: str | None,
    start: dt.date,
    end: dt.date,
) -> pl.LazyFrame:
    feedback_daily = _feedback_daily(connection, key, persona_slug, start, end)
    return metric_components(
        definitions,
        feedback_daily,
        _events_daily(connection, key, persona_slug, start, end),
        _entries_daily(connection, key, persona_slug, start, end),
    )


def stage_metrics(
    connection: Connection,
    *,
    journey_slug: str,
    stage_slug: str,
    persona_slug: str | None,
    start: dt.date,
    end: dt.date,
    min_answers: int,
    compared: tuple[dt.date, dt.date] | None = None,
) -> pl.DataFrame:
    """Every metric linked to the stage: value, target, status, and change against the compared period.

    `compared` is the period to compare with (first and last day); by default the one just before.

    Columns: the definition's (see `stage_metric_definitions`), value, sample, previous_value,
    previous_sample, change, improvement (change signed so that positive is better), status
    ("green" | "amber" | "red" | "no data"). A value resting on fewer than `min_answers` answers (or base
    customers for conversion) is null: not enough data.
    """
    definitions = stage_metric_definitions(connection, journey_slug=journey_slug, stage_slug=stage_slug)
    key = stage_key(connection, journey_slug=journey_slug, stage_slug=stage_slug)
    columns = ["value", "sample", "previous_value", "previous_sample", "change", "improvement", "status"]
    if key is None or definitions.is_empty():
        return definitions.with_columns(pl.lit(None).alias(c) for c in columns)
    before = compared or previous_period(start, end)
    components = pl.concat(
        [
            _stage_components(connection, key, definitions, persona_slug, start, end).with_columns(
                pl.lit("current").alias("period")
            ),
            _stage_components(connection, key, definitions, persona_slug, *before).with_columns(
                pl.lit("previous").alias("period")
            ),
        ]
    )
    values = _summed(components, ["metric_id", "period"], min_answers).collect()
    current = values.filter(pl.col("period") == "current").drop("period")
    previous = values.filter(pl.col("period") == "previous").drop("period")
    timing = _time_to_next_values(connection, journey_slug, stage_slug, persona_slug, start, end, min_answers, before)
    return (
        definitions.lazy()
        .with_row_index("definition_order")
        .join(current.lazy(), on="metric_id", how="left")
        .join(previous.lazy(), on="metric_id", how="left", suffix="_previous")
        .rename({"value_previous": "previous_value", "sample_previous": "previous_sample"})
        .join(timing.lazy(), on="formula", how="left", suffix="_timing")
        .with_columns(
            pl.coalesce("value", "value_timing").alias("value"),
            pl.coalesce("sample", "sample_timing").fill_null(0).alias("sample"),
            pl.coalesce("previous_value", "previous_value_timing").alias("previous_value"),
            pl.coalesce("previous_sample", "previous_sample_timing").fill_null(0).alias("previous_sample"),
        )
        .with_columns(
            (pl.col("value") - pl.col("previous_value")).alias("change"),
            improvement_expr().alias("improvement"),
            status_expr().alias("status"),
        )
        .sort("definition_order")
        .select(*DEFINITION_SCHEMA, *columns)
        .collect()
    )


def _time_to_next_values(
    connection: Connection,
    journey_slug: str,
    stage_slug: str,
    persona_slug: str | None,
    start: dt.date,
    end: dt.date,
    min_answers: int,
    compared: tuple[dt.date, dt.date],
) -> pl.DataFrame:
    """Time to next stage now and in the compared period, as one row keyed by formula."""
    previous_start, previous_end = compared
    now, before = (
        time_to_next_stage(
            connection, journey_slug=journey_slug, stage_slug=stage_slug, persona_slug=persona_slug, start=a, end=b
        )
        for a, b in ((start, end), (previous_start, previous_end))
    )
    return pl.DataFrame(
        {
            "formula": [Formula.TIME_TO_NEXT.value],
            "value": [now.median_days if now.customers >= min_answers else None],
            "sample": [now.customers],
            "previous_value": [before.median_days if before.customers >= min_answers else None],
            "previous_sample": [before.customers],
        },
        schema={
            "formula": pl.String,
            "value": pl.Float64,
            "sample": pl.Int64,
            "previous_value": pl.Float64,
            "previous_sample": pl.Int64,
        },
    )


def stage_metric_trend(
    connection: Connection,
    *,
    journey_slug: str,
    stage_slug: str,
    persona_slug: str | None,
    start: dt.date,
    end: dt.date,
    min_answers: int,
) -> pl.DataFrame:
    """Weekly points of each linked metric over the window: metric_id, key, label, week, value, sample, target.

    Weeks start on Monday; the first and last may be partial. A week under `min_answers` has a null value
    (a gap in the line). Time to next stage has no weekly trend.
    """
    definitions = stage_metric_definitions(connection, journey_slug=journey_slug, stage_slug=stage_slug)
    key = stage_key(connection, journey_slug=journey_slug, stage_slug=stage_slug)
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
    if key is None or definitions.is_empty():
        return pl.DataFrame(schema=schema)
    components = _stage_components(connection, key, definitions, persona_slug, start, end)
    weekly = _summed(
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
    journey_slug: str,
    stage_slug: str,
    persona_slug: str | None,
    start: dt.date,
    end: dt.date,
    min_answers: int,
    compared: tuple[dt.date, dt.date] | None = None,
) -> pl.DataFrame:
    """The stage's and journey's feedback metrics evaluated on each step, with the compared period.

    Columns: step_id, metric_id, key, label, formula, direction, target, warning, value, sample,
    previous_value, previous_sample, change, improvement, status. Detection reads these.
    """
    definitions = stage_metric_definitions(connection, journey_slug=journey_slug, stage_slug=stage_slug).filter(
        pl.col("formula").is_in(FEEDBACK_FORMULAS), pl.col("touchpoint_id").is_null()
    )
    before = compared or previous_period(start, end)
    feedback_daily = pl.concat(
        [
            stage_feedback_daily(
                connection, journey_slug=journey_slug, stage_slug=stage_slug, persona_slug=persona_slug, start=a, end=b
            ).with_columns(pl.lit(label).alias("period"))
            for label, (a, b) in (("current", (start, end)), ("previous", before))
        ]
    )
    return evaluate_step_metrics(definitions, feedback_daily, start=start, min_answers=min_answers)


def evaluate_step_metrics(
    definitions: pl.DataFrame, feedback_daily: pl.DataFrame, *, start: dt.date, min_answers: int
) -> pl.DataFrame:
    """Pure part of `step_metrics`: feedback definitions × steps.

    Rows carry their `period` ("current" or "previous"); without that column, days from `start` on are
    the current period and earlier days the previous one.
    """
    if "period" not in feedback_daily.columns:
        feedback_daily = feedback_daily.with_columns(
            pl.when(pl.col("day") >= start).then(pl.lit("current")).otherwise(pl.lit("previous")).alias("period")
        )
    per_step = (
        feedback_daily.lazy()
        .filter(pl.col("step_id").is_not_null())
        .group_by("step_id", "measure", "period")
        .agg(pl.col("answers", "score_sum", "good", "bad").sum())
        .with_columns(measure_value_expr(min_answers), pl.col("answers").alias("sample"))
        .collect()
        .pivot("period", index=["step_id", "measure"], values=["value", "sample"])
    )
    for column in ("value_current", "value_previous", "sample_current", "sample_previous"):
        if column not in per_step.columns:
            per_step = per_step.with_columns(pl.lit(None, dtype=pl.Float64).alias(column))
    return (
        definitions.lazy()
        .select("metric_id", "key", "label", "formula", "direction", "target", "warning")
        .join(per_step.lazy(), left_on="formula", right_on="measure")
        .select(
            "step_id",
            "metric_id",
            "key",
            "label",
            "formula",
            "direction",
            "target",
            "warning",
            pl.col("value_current").cast(pl.Float64).alias("value"),
            pl.col("sample_current").fill_null(0).cast(pl.Int64).alias("sample"),
            pl.col("value_previous").cast(pl.Float64).alias("previous_value"),
            pl.col("sample_previous").fill_null(0).cast(pl.Int64).alias("previous_sample"),
        )
        .with_columns(
            (pl.col("value") - pl.col("previous_value")).alias("change"),
            improvement_expr().alias("improvement"),
            status_expr().alias("status"),
        )
        .sort("step_id", "metric_id")
        .collect()
    )


def step_emotion(feedback_daily: pl.DataFrame, *, min_answers: int) -> pl.DataFrame:
    """Measured emotion (−2..+2) per step: each measure's mean placed on the scale, weighted by answers.

    Pure; columns step_id, measured_emotion, answers. Null below `min_answers` answers.
    """
    return (
        feedback_daily.lazy()
        .filter(pl.col("step_id").is_not_null())
        .group_by("step_id", "measure")
        .agg(pl.col("answers", "score_sum").sum())
        .with_columns(emotion_expr())
        .group_by("step_id")
        .agg(
            ((pl.col("emotion") * pl.col("answers")).sum() / pl.col("answers").sum()).alias("measured_emotion"),
            pl.col("answers").sum(),
        )
        .with_columns(
            pl.when(pl.col("answers") >= min_answers).then(pl.col("measured_emotion")).alias("measured_emotion")
        )
        .sort("step_id")
        .collect()
    )


# --- the customers' own words ---------------------------------------------------------------------


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
    key: StageKey,
    *,
    persona_slug: str | None,
    start: dt.date,
    end: dt.date,
    measure: str | None,
    channel_slug: str | None,
    step_id: int | None = None,
) -> list[ColumnElement[bool]]:
    low, high = _day_bounds(start, end)
    filters: list[ColumnElement[bool]] = [
        Feedback.journey_id == key.journey_id,
        Feedback.stage_id == key.stage_id,
        Feedback.occurred_at >= low,
        Feedback.occurred_at < high,
        Feedback.comment.is_not(None),
        Feedback.comment != "",
        _persona_filter(Feedback.persona_id, persona_slug),
    ]
    if measure is not None:
        filters.append(Feedback.measure == measure)
    if channel_slug is not None:
        filters.append(Feedback.channel_id == select(Channel.id).where(Channel.slug == channel_slug).scalar_subquery())
    if step_id is not None:
        filters.append(Feedback.step_id == step_id)
    return filters


def comment_band_counts(
    connection: Connection,
    *,
    journey_slug: str,
    stage_slug: str,
    persona_slug: str | None,
    start: dt.date,
    end: dt.date,
    measure: str | None = None,
    channel_slug: str | None = None,
) -> pl.DataFrame:
    """Comments of the stage in the window per score band: band ("low" | "middle" | "high"), comments.

    Every band appears, zeros included. Counted in the database over the feedback index's range.
    """
    key = stage_key(connection, journey_slug=journey_slug, stage_slug=stage_slug)
    bands = pl.DataFrame({"band": list(BANDS)})
    if key is None:
        return bands.with_columns(pl.lit(0, dtype=pl.Int64).alias("comments"))
    band = _band_case()
    counted = _frame(
        connection,
        select(band, func.count())
        .where(
            *_comment_filters(
                key, persona_slug=persona_slug, start=start, end=end, measure=measure, channel_slug=channel_slug
            )
        )
        .group_by(band),
        {"band": pl.String, "comments": pl.Int64},
    )
    return bands.join(counted, on="band", how="left").with_columns(pl.col("comments").fill_null(0))


COMMENT_SCHEMA: dict[str, pl.DataType | type] = {
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


def stage_comments(
    connection: Connection,
    *,
    journey_slug: str,
    stage_slug: str,
    persona_slug: str | None,
    start: dt.date,
    end: dt.date,
    band: str | None = None,
    measure: str | None = None,
    channel_slug: str | None = None,
    step_id: int | None = None,
    limit: int = 20,
    offset: int = 0,
) -> pl.DataFrame:
    """One page of the stage's comments, newest first, by LIMIT/OFFSET over the feedback time index."""
    key = stage_key(connection, journey_slug=journey_slug, stage_slug=stage_slug)
    if key is None:
        return pl.DataFrame(schema=COMMENT_SCHEMA)
    filters = _comment_filters(
        key,
        persona_slug=persona_slug,
        start=start,
        end=end,
        measure=measure,
        channel_slug=channel_slug,
        step_id=step_id,
    )
    if band is not None:
        filters.append(_band_filter(band))
    page = (
        select(Feedback.id)
        .where(*filters)
        .order_by(Feedback.occurred_at.desc(), Feedback.id.desc())
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    return _frame(
        connection,
        select(
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
        .order_by(Feedback.occurred_at.desc(), Feedback.id.desc()),
        COMMENT_SCHEMA,
    )


def evidence_comments(
    connection: Connection,
    *,
    journey_slug: str,
    stage_slug: str,
    persona_slug: str | None,
    start: dt.date,
    end: dt.date,
    step_ids: tuple[int, ...],
    per_step: int = 3,
) -> pl.DataFrame:
    """The newest few low-band comments of each given step: the words behind a detected pain point."""
    pages = [
        stage_comments(
            connection,
            journey_slug=journey_slug,
            stage_slug=stage_slug,
            persona_slug=persona_slug,
            start=start,
            end=end,
            band="low",
            step_id=step_id,
            limit=per_step,
        )
        for step_id in step_ids
    ]
    return pl.concat(pages) if pages else pl.DataFrame(schema=COMMENT_SCHEMA)


def stage_comment_channels(connection: Connection, *, journey_slug: str) -> pl.DataFrame:
    """Channels a comment can come through: channel_slug, channel_name (the channel table is small)."""
    del journey_slug  # channels are shared by every journey
    return _frame(
        connection,
        select(Channel.slug, Channel.name).order_by(Channel.position, Channel.name),
        {"channel_slug": pl.String, "channel_name": pl.String},
    )


# --- everything the journey page shows, in one call -----------------------------------------------


class _Window(TypedDict):
    journey_slug: str
    stage_slug: str
    persona_slug: str | None
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class JourneyMapData:
    """The journey map of one stage, persona and window: lanes, numbers and findings."""

    stages: pl.DataFrame
    steps: pl.DataFrame
    lane_items: pl.DataFrame
    emotions: pl.DataFrame
    funnel: pl.DataFrame
    time_to_next: TimeToNextStage
    metrics: pl.DataFrame
    trend: pl.DataFrame
    findings: pl.DataFrame
    evidence: pl.DataFrame
    channels: pl.DataFrame


def load_journey_map(
    connection: Connection,
    *,
    journey_slug: str,
    stage_slug: str,
    persona_slug: str | None,
    start: dt.date,
    end: dt.date,
    min_answers: int,
    compared: tuple[dt.date, dt.date] | None = None,
) -> JourneyMapData:
    """Every frame of the journey page for one stage; detection uses `DetectionRules(min_base=min_answers)`.

    Metrics compare with `compared` (first and last day), by default the period of equal length before.
    """
    from data_access.detection import DetectionRules, detect_pain_points

    window = _Window(journey_slug=journey_slug, stage_slug=stage_slug, persona_slug=persona_slug, start=start, end=end)
    steps = stage_steps(connection, journey_slug=journey_slug, stage_slug=stage_slug)
    items = lane_items(connection, journey_slug=journey_slug, stage_slug=stage_slug, persona_slug=persona_slug)
    funnel = stage_funnel(connection, **window)
    metrics = stage_metrics(connection, **window, min_answers=min_answers, compared=compared)
    by_step = step_metrics(connection, **window, min_answers=min_answers, compared=compared)
    measured = step_emotion(stage_feedback_daily(connection, **window), min_answers=min_answers)
    assumed = (
        items.lazy()
        .filter(pl.col("lane") == Lane.EMOTION.value, pl.col("emotion").is_not_null())
        .group_by("step_id")
        .agg(pl.col("emotion").mean().alias("assumed_emotion"))
    )
    emotions = (
        steps.lazy()
        .select("step_id", "step_name", "position")
        .join(assumed, on="step_id", how="left")
        .join(measured.lazy(), on="step_id", how="left")
        .with_columns(pl.col("answers").fill_null(0))
        .sort("position")
        .collect()
    )
    findings = detect_pain_points(
        step_metrics=by_step,
        touchpoint_metrics=metrics,
        funnel=funnel,
        steps=steps,
        lane_items=items,
        rules=DetectionRules(min_base=min_answers),
    )
    flagged = tuple(findings.filter(pl.col("step_id").is_not_null())["step_id"].unique().sort().to_list())
    return JourneyMapData(
        stages=journey_stages(connection, journey_slug=journey_slug),
        steps=steps,
        lane_items=items,
        emotions=emotions,
        funnel=funnel,
        time_to_next=time_to_next_stage(connection, **window),
        metrics=metrics,
        trend=stage_metric_trend(connection, **window, min_answers=min_answers),
        findings=findings,
        evidence=evidence_comments(connection, **window, step_ids=flagged),
        channels=stage_comment_channels(connection, journey_slug=journey_slug),
    )

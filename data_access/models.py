"""The Journey Atlas domain model: maps (journeys, stages, steps, lanes), facts, and rollups.

Map content is small and edited by people; facts are large and arrive by import; rollups are built
from facts at import time and are what the views read.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# an e-mail address is at most 254 characters; the other writers' names are short
WRITER_LENGTH = 320


class Base(DeclarativeBase):
    pass


class JourneyKind(StrEnum):
    CURRENT = "current"
    FUTURE = "future"
    DAY_IN_THE_LIFE = "day-in-the-life"


class ChannelKind(StrEnum):
    DIGITAL = "digital"
    HUMAN = "human"
    PHYSICAL = "physical"


class Lane(StrEnum):
    """Swimlanes of the journey map, in the order they are drawn."""

    ACTION = "action"
    THOUGHT = "thought"
    EMOTION = "emotion"
    PAIN_POINT = "pain_point"
    OPPORTUNITY = "opportunity"
    BACKSTAGE = "backstage"


class StepKind(StrEnum):
    """How a step counts in its stage's funnel."""

    REQUIRED = "required"  # in the funnel: not reaching it is drop-off
    OPTIONAL = "optional"  # shown as the share of the stage's entrants who take it, never drop-off
    ALTERNATIVE = "alternative"  # one of a named group whose steps split the stage's entrants


DEFAULT_CONVERSION_WINDOW_DAYS = 30


class Measure(StrEnum):
    NPS = "nps"
    CSAT = "csat"
    CES = "ces"
    RATING = "rating"
    SENTIMENT = "sentiment"


class Direction(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


class Named:
    """What every named thing of a map has: an id, a slug that links and imports use, and a name people read."""

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-2)
    slug: Mapped[str] = mapped_column(String(80), sort_order=-2)
    name: Mapped[str] = mapped_column(String(200), sort_order=-2)


class Journey(Named, Base):
    __tablename__ = "journeys"
    __table_args__ = (UniqueConstraint("slug"),)

    kind: Mapped[str] = mapped_column(String(20), default=JourneyKind.CURRENT.value)
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(120), default="")
    improves_id: Mapped[int | None] = mapped_column(ForeignKey("journeys.id", ondelete="SET NULL"))
    # a customer converts to the next stage or step when they first reach it within this many days
    conversion_window_days: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_CONVERSION_WINDOW_DAYS, server_default=str(DEFAULT_CONVERSION_WINDOW_DAYS)
    )

    improves: Mapped[Journey | None] = relationship(remote_side="Journey.id")
    stages: Mapped[list[Stage]] = relationship(
        back_populates="journey", order_by="Stage.position", cascade="all, delete-orphan"
    )


class MapItem(Named):
    """A named item in its parent's order (stages of a journey, steps of a stage), with words about it."""

    position: Mapped[int] = mapped_column(Integer, sort_order=-1)
    description: Mapped[str] = mapped_column(Text, default="", sort_order=-1)


class Stage(MapItem, Base):
    __tablename__ = "stages"
    __table_args__ = (UniqueConstraint("journey_id", "slug"),)

    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"))

    journey: Mapped[Journey] = relationship(back_populates="stages")
    steps: Mapped[list[Step]] = relationship(
        back_populates="stage", order_by="Step.position", cascade="all, delete-orphan"
    )
    touchpoints: Mapped[list[Touchpoint]] = relationship(back_populates="stage", cascade="all, delete-orphan")


class Channel(Named, Base):
    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("slug"),)

    kind: Mapped[str] = mapped_column(String(20), default=ChannelKind.DIGITAL.value)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Touchpoint(Named, Base):
    """A point of contact in one stage through one channel; several may share a stage × channel cell."""

    __tablename__ = "touchpoints"
    __table_args__ = (UniqueConstraint("stage_id", "slug"),)

    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(120), default="")
    moment_of_truth: Mapped[bool] = mapped_column(Boolean, default=False)

    stage: Mapped[Stage] = relationship(back_populates="touchpoints")
    channel: Mapped[Channel] = relationship()


class Step(MapItem, Base):
    __tablename__ = "steps"
    __table_args__ = (UniqueConstraint("stage_id", "slug"),)

    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"))
    touchpoint_id: Mapped[int | None] = mapped_column(ForeignKey("touchpoints.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20), default=StepKind.REQUIRED.value, server_default="required")
    # the named group of an alternative step; NULL for required and optional steps
    alternative_group: Mapped[str | None] = mapped_column(String(80))

    stage: Mapped[Stage] = relationship(back_populates="steps")
    touchpoint: Mapped[Touchpoint | None] = relationship()
    lane_items: Mapped[list[LaneItem]] = relationship(
        back_populates="step", order_by="LaneItem.position", cascade="all, delete-orphan"
    )


class Persona(Named, Base):
    __tablename__ = "personas"
    __table_args__ = (UniqueConstraint("slug"),)

    description: Mapped[str] = mapped_column(Text, default="")
    goals: Mapped[str] = mapped_column(Text, default="")
    frustrations: Mapped[str] = mapped_column(Text, default="")
    thinks: Mapped[str] = mapped_column(Text, default="")
    feels: Mapped[str] = mapped_column(Text, default="")
    says: Mapped[str] = mapped_column(Text, default="")
    does: Mapped[str] = mapped_column(Text, default="")


class LaneItem(Base):
    """One card in a swimlane of a step; fields that do not apply to its lane stay empty."""

    __tablename__ = "lane_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id", ondelete="CASCADE"), index=True)
    lane: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    persona_id: Mapped[int | None] = mapped_column(ForeignKey("personas.id", ondelete="CASCADE"))
    # emotion lane: the team's assumption, -2 (very negative) .. +2 (very positive)
    emotion: Mapped[float | None] = mapped_column(Float)
    # pain point lane
    severity: Mapped[int | None] = mapped_column(Integer)
    evidence: Mapped[str | None] = mapped_column(Text)
    # opportunity lane
    owner: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str | None] = mapped_column(String(20))
    impact: Mapped[int | None] = mapped_column(Integer)
    effort: Mapped[int | None] = mapped_column(Integer)

    step: Mapped[Step] = relationship(back_populates="lane_items")
    persona: Mapped[Persona | None] = relationship()


class OfJourney:
    """A row that belongs to one journey and goes when the journey goes."""

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"), sort_order=-1)


class MetricDefinition(OfJourney, Base):
    """A metric with its target; linked to a whole journey, one stage, or one touchpoint."""

    __tablename__ = "metric_definitions"
    __table_args__ = (UniqueConstraint("journey_id", "key"),)

    key: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(200))
    formula: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(20), default="")
    direction: Mapped[str] = mapped_column(String(10), default=Direction.HIGHER.value)
    target: Mapped[float | None] = mapped_column(Float)
    warning: Mapped[float] = mapped_column(Float, default=0.0)
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"))
    touchpoint_id: Mapped[int | None] = mapped_column(ForeignKey("touchpoints.id", ondelete="CASCADE"))


# what a metric definition says, selected in the order of `metrics.DEFINITION_COLUMNS`
DEFINITION_FIELDS = (
    MetricDefinition.key, MetricDefinition.label, MetricDefinition.formula, MetricDefinition.unit,
    MetricDefinition.direction, MetricDefinition.target, MetricDefinition.warning,
)  # fmt: skip


# --- facts -------------------------------------------------------------------------------------


# compared only for equality: bytewise on PostgreSQL too, where the database's libc collation made
# building the unique index twice as slow (migration 0006); SQLite compares text bytewise already
SOURCE_KEY = String(64).with_variant(String(64, collation="C"), "postgresql")


class Event(Base):
    __tablename__ = "events"
    # read only by rollup rebuilds, which scan whole journeys: no index but the source key's (migration 0007)
    __table_args__ = (Index("ux_events_source_key", "source_key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(120))
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    step_id: Mapped[int | None] = mapped_column(ForeignKey("steps.id", ondelete="SET NULL"))
    persona_id: Mapped[int | None] = mapped_column(ForeignKey("personas.id", ondelete="SET NULL"))
    event_type: Mapped[str] = mapped_column(String(80), default="visit")
    value: Mapped[float | None] = mapped_column(Float)
    # fingerprint of the source row, so re-importing a file does not count it twice
    source_key: Mapped[str | None] = mapped_column(SOURCE_KEY)


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (
        Index("ix_feedback_stage_time", "journey_id", "stage_id", "occurred_at"),
        # the newest comments of one step or touchpoint (a finding's evidence) without reading the stage's
        # other answers (migration 0011)
        Index("ix_feedback_step_time", "journey_id", "stage_id", "step_id", "occurred_at"),
        Index("ix_feedback_touchpoint_time", "journey_id", "stage_id", "touchpoint_id", "occurred_at"),
        Index("ux_feedback_source_key", "source_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(120))
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="SET NULL"))
    touchpoint_id: Mapped[int | None] = mapped_column(ForeignKey("touchpoints.id", ondelete="SET NULL"))
    step_id: Mapped[int | None] = mapped_column(ForeignKey("steps.id", ondelete="SET NULL"))
    persona_id: Mapped[int | None] = mapped_column(ForeignKey("personas.id", ondelete="SET NULL"))
    measure: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    source_key: Mapped[str | None] = mapped_column(SOURCE_KEY)


# --- rollups (rebuilt from facts; never edited by hand) ----------------------------------------


def _rollup_indexes(name: str) -> tuple[Index, Index]:
    """A rollup's indexes: by journey and day (the overview), and by stage and day (a journey page)."""
    return (
        Index(f"ix_rollup_{name}", "journey_id", "day"),
        Index(f"ix_rollup_{name}_stage", "journey_id", "stage_id", "day"),
    )


class DailyRollup:
    """The key every daily rollup shares: one row per day and journey stage, so rows add up across days."""

    id: Mapped[int] = mapped_column(primary_key=True, sort_order=-1)
    day: Mapped[dt.date] = mapped_column(Date, sort_order=-1)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"), sort_order=-1)
    stage_id: Mapped[int] = mapped_column(Integer, sort_order=-1)


class EventRollup(DailyRollup, Base):
    """Events per day × stage × channel × step × persona: additive across days."""

    __tablename__ = "rollup_events_daily"
    __table_args__ = (Index("ix_rollup_events", "journey_id", "day"),)

    channel_id: Mapped[int] = mapped_column(Integer)
    step_id: Mapped[int | None] = mapped_column(Integer)
    persona_id: Mapped[int | None] = mapped_column(Integer)
    events: Mapped[int] = mapped_column(Integer)
    value_sum: Mapped[float] = mapped_column(Float)


class FeedbackRollup(DailyRollup, Base):
    """Answers per day × stage × channel × touchpoint × persona × measure.

    `good` and `bad` count the answers in the measure's favourable and unfavourable bands (promoters and
    detractors for NPS, top-2-box for CSAT and ratings, positive and negative for sentiment), so every
    metric of DESIGN.md is exact over any range of days. `comments`, `comments_good` and `comments_bad` count
    the answers with a comment, in all and in each band: the journey page's comment counts per band.
    """

    __tablename__ = "rollup_feedback_daily"
    __table_args__ = _rollup_indexes("feedback")

    channel_id: Mapped[int | None] = mapped_column(Integer)
    touchpoint_id: Mapped[int | None] = mapped_column(Integer)
    step_id: Mapped[int | None] = mapped_column(Integer)
    persona_id: Mapped[int | None] = mapped_column(Integer)
    measure: Mapped[str] = mapped_column(String(20))
    answers: Mapped[int] = mapped_column(Integer)
    score_sum: Mapped[float] = mapped_column(Float)
    good: Mapped[int] = mapped_column(Integer)
    bad: Mapped[int] = mapped_column(Integer)
    comments: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    comments_good: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    comments_bad: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class StageEntry(Base):
    """Each customer's first entry into each stage and step: the base of funnels and time to next stage.

    `step_id` is NULL for the entry into the stage itself. Counting rows whose `entered_at` falls in a
    window gives the customers who first reached that stage or step in the window, exactly.
    """

    __tablename__ = "stage_entries"
    __table_args__ = (
        Index("ix_stage_entries_stage", "journey_id", "stage_id", "entered_at"),
        # covering (every column but the id): the cohort rollup reads `from` entries by stage and step and
        # each customer's `to` entry by customer, stage and step without touching the table (migration 0010)
        Index(
            "ix_stage_entries_stage_step",
            "journey_id",
            "stage_id",
            "step_id",
            "customer_id",
            "entered_at",
            "persona_id",
        ),
        Index(
            "ix_stage_entries_customer_stage",
            "journey_id",
            "customer_id",
            "stage_id",
            "step_id",
            "entered_at",
            "persona_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(String(120))
    stage_id: Mapped[int] = mapped_column(Integer)
    step_id: Mapped[int | None] = mapped_column(Integer)
    persona_id: Mapped[int | None] = mapped_column(Integer)
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime)


class EntryRollup(DailyRollup, Base):
    """First entries per day × stage × step × persona: additive, so funnels over any window are exact."""

    __tablename__ = "rollup_entries_daily"
    __table_args__ = _rollup_indexes("entries")

    step_id: Mapped[int | None] = mapped_column(Integer)
    persona_id: Mapped[int | None] = mapped_column(Integer)
    customers: Mapped[int] = mapped_column(Integer)


class CohortRollup(DailyRollup, Base):
    """Cohort conversions: customers who first reached `from` on `day` and then `to` within the window.

    `from` is (stage_id, step_id), step NULL for the stage itself; `to` is (next_stage_id, next_step_id).
    Rows count customers by the whole number of COHORT_BIN_SECONDS it took them (`duration_bin`), so a
    conversion over any range of entry days is a sum, and a median is read from the histogram to within
    half a bin. The cohort's size is `rollup_entries_daily` for `from` on the same days. Which pairs exist
    is set by the map: see `rollups.cohort_pairs`.
    """

    __tablename__ = "rollup_cohorts_daily"
    __table_args__ = _rollup_indexes("cohorts")

    step_id: Mapped[int | None] = mapped_column(Integer)
    next_stage_id: Mapped[int] = mapped_column(Integer)
    next_step_id: Mapped[int | None] = mapped_column(Integer)
    persona_id: Mapped[int | None] = mapped_column(Integer)
    duration_bin: Mapped[int] = mapped_column(Integer)
    customers: Mapped[int] = mapped_column(Integer)


# width of a cohort duration bin: a quarter of a day
COHORT_BIN_SECONDS = 6 * 3_600


# --- view rollups: the daily rollups summed over persona, per day, 7-day week and 28-day block --------


def _view_indexes(name: str) -> tuple[Index, Index]:
    """A view rollup's indexes: by journey, span and day (the overview), and by stage too (a journey page)."""
    return (
        Index(f"ix_view_{name}", "journey_id", "span", "day"),
        Index(f"ix_view_{name}_stage", "journey_id", "stage_id", "span", "day"),
    )


class ViewRollup(DailyRollup):
    """A daily rollup's sums over every persona, for `span` days from `day` (1, 7 or 28; see `view_rollups`)."""

    span: Mapped[int] = mapped_column(Integer, sort_order=-1)


class EventView(ViewRollup, Base):
    """Events per span × stage × channel × step: `rollup_events_daily` without persona."""

    __tablename__ = "rollup_events_view"
    __table_args__ = _view_indexes("events")

    channel_id: Mapped[int] = mapped_column(Integer)
    step_id: Mapped[int | None] = mapped_column(Integer)
    events: Mapped[int] = mapped_column(Integer)
    value_sum: Mapped[float] = mapped_column(Float)


class FeedbackView(ViewRollup, Base):
    """Answers per span × stage × channel × touchpoint × step × measure: `rollup_feedback_daily` without persona."""

    __tablename__ = "rollup_feedback_view"
    __table_args__ = _view_indexes("feedback")

    channel_id: Mapped[int | None] = mapped_column(Integer)
    touchpoint_id: Mapped[int | None] = mapped_column(Integer)
    step_id: Mapped[int | None] = mapped_column(Integer)
    measure: Mapped[str] = mapped_column(String(20))
    answers: Mapped[int] = mapped_column(Integer)
    score_sum: Mapped[float] = mapped_column(Float)
    good: Mapped[int] = mapped_column(Integer)
    bad: Mapped[int] = mapped_column(Integer)
    comments: Mapped[int] = mapped_column(Integer)
    comments_good: Mapped[int] = mapped_column(Integer)
    comments_bad: Mapped[int] = mapped_column(Integer)


class EntryView(ViewRollup, Base):
    """First entries per span × stage × step: `rollup_entries_daily` without persona."""

    __tablename__ = "rollup_entries_view"
    __table_args__ = _view_indexes("entries")

    step_id: Mapped[int | None] = mapped_column(Integer)
    customers: Mapped[int] = mapped_column(Integer)


class CohortView(ViewRollup, Base):
    """Cohort conversions per span × pair × duration bin: `rollup_cohorts_daily` without persona."""

    __tablename__ = "rollup_cohorts_view"
    __table_args__ = _view_indexes("cohorts")

    step_id: Mapped[int | None] = mapped_column(Integer)
    next_stage_id: Mapped[int] = mapped_column(Integer)
    next_step_id: Mapped[int | None] = mapped_column(Integer)
    duration_bin: Mapped[int] = mapped_column(Integer)
    customers: Mapped[int] = mapped_column(Integer)


# --- review meetings ---------------------------------------------------------------------------


class Review(OfJourney, Base):
    """A labelled version of a journey: the date of a review meeting and the map as it stood then.

    `map_snapshot` holds the journey's map file (YAML, see `mapfile`) at the time of the review, so
    "what changed since the last review" can list pain points and opportunities added or resolved since.
    """

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("journey_id", "slug"),)

    slug: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(200))
    reviewed_on: Mapped[dt.date] = mapped_column(Date)
    map_snapshot: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    written_by: Mapped[str] = mapped_column(String(WRITER_LENGTH))  # who labelled it (see `ImportRecord`)


class StageNote(Base):
    """A short note on a stage from someone who meets customers every day."""

    __tablename__ = "stage_notes"
    __table_args__ = (Index("ix_stage_notes_stage", "stage_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(120))  # the name the writer signed with
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    written_by: Mapped[str] = mapped_column(String(WRITER_LENGTH))  # who saved it (see `ImportRecord`)


class ImportRecord(Base):
    """One import that wrote to the database: what, from which file, by whom, when.

    `written_by` (here, on reviews and on stage notes) is who made a write: an editor's e-mail, "passphrase
    editor", "local" (a dashboard on this machine only), "cli" (the command line), "demo" (the first-run demo),
    or "python api" (a direct call of the data functions); "unknown" for rows older than the column.
    """

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # events, feedback or map
    source: Mapped[str] = mapped_column(String(255))  # the file's name
    inserted: Mapped[int | None] = mapped_column(Integer)  # facts inserted (events, feedback); None for a map
    written_by: Mapped[str] = mapped_column(String(WRITER_LENGTH))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class DataVersion(Base):
    """One row: a counter that every write changing what a view shows bumps in its own transaction.

    The app's caches key every view by it, so a cached view stays valid until the data changes.
    """

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class ConversionView(ViewRollup, Base):
    """Cohort conversions per span × pair: `rollup_cohorts_daily` without persona and duration bin, for the
    conversions per day that need no histogram."""

    __tablename__ = "rollup_conversions_view"
    __table_args__ = _view_indexes("conversions")

    step_id: Mapped[int | None] = mapped_column(Integer)
    next_stage_id: Mapped[int] = mapped_column(Integer)
    next_step_id: Mapped[int | None] = mapped_column(Integer)
    customers: Mapped[int] = mapped_column(Integer)

"""Current vs future state: what a future-state journey adds, removes and keeps, and how far today is from it.

Rules (README, "Current vs future state"):

- **Matching**: a future stage is the same as a current stage when their slugs are equal; failing that, when
  their names are equal (case and surrounding spaces ignored). Steps are matched the same way within a pair of
  matched stages. Unmatched current items are *removed*, unmatched future items *added*, matched ones *kept*.
- **Pain points**: a pain point of the current state is *resolved* by the future state when its step is
  removed (the step, or its whole stage, has no match), or when the matching future step carries no pain point
  with the same text (case and spaces ignored); otherwise it is *left open*.
- **Assumed emotion** of a stage: the mean of its steps' general emotion cards (cards written for one persona
  are left out, so both maps speak for all customers).
- **Metrics against targets**: for each stage in both, the future state's metric targets (its stage's, its
  touchpoints' by touchpoint slug, and its journey-level feedback ones) are evaluated on the *current*
  journey's data for the matched stage, exactly as the journey page evaluates a metric; the gap is the
  shortfall to the future target in the metric's unit (positive: short of it; zero or below: reached).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, select

from data_access import models
from data_access.journey_map.assembly import FEEDBACK_FORMULAS
from data_access.journey_map.numbers import DEFINITION_SCHEMA, stage_metrics
from data_access.journey_map.sql import Schema, frame
from data_access.metrics import DEFINITION_COLUMNS
from data_access.models import DEFINITION_FIELDS, Journey, Lane, LaneItem, Stage, Step, Touchpoint
from data_access.scope import Scope, stage_scopes

KEPT, ADDED, REMOVED = "kept", "added", "removed"
RESOLVED, LEFT_OPEN = "resolved", "left open"


def future_states(connection: Connection) -> pl.DataFrame:
    """Every journey with the journey it improves: slug, name, kind, improves (slug or null)."""
    improved = select(Journey.id, Journey.slug).subquery()
    return frame(
        connection,
        select(Journey.slug, Journey.name, Journey.kind, improved.c.slug)
        .outerjoin(improved, improved.c.id == Journey.improves_id)
        .order_by(Journey.id),
        {"slug": pl.String, "name": pl.String, "kind": pl.String, "improves": pl.String},
    )


def improvements_of(journeys: pl.DataFrame, current: str) -> list[str]:
    """Slugs of the journeys that improve `current` (its future states), in map order."""
    return journeys.filter(pl.col("improves") == current)["slug"].to_list()


def is_future_state(journeys: pl.DataFrame, slug: str) -> bool:
    found = journeys.filter(pl.col("slug") == slug)
    future = models.JourneyKind.FUTURE.value
    return bool(found.height) and found["kind"][0] == future and found["improves"][0] is not None


# --- map content of one journey ------------------------------------------------------------------


def _stages(connection: Connection, journey_id: int) -> pl.DataFrame:
    return frame(
        connection,
        select(Stage.id, Stage.slug, Stage.name, Stage.position)
        .where(Stage.journey_id == journey_id)
        .order_by(Stage.position, Stage.id),
        {"stage_id": pl.Int64, "slug": pl.String, "name": pl.String, "position": pl.Int64},
    )


def _steps(connection: Connection, journey_id: int) -> pl.DataFrame:
    return frame(
        connection,
        select(Step.stage_id, Step.id, Step.slug, Step.name, Step.position)
        .join(Stage, Stage.id == Step.stage_id)
        .where(Stage.journey_id == journey_id)
        .order_by(Stage.position, Step.position, Step.id),
        {"stage_id": pl.Int64, "step_id": pl.Int64, "slug": pl.String, "name": pl.String, "position": pl.Int64},
    )


def _cards(connection: Connection, journey_id: int) -> pl.DataFrame:
    """Emotion and pain-point cards of the journey: step_id, lane, text, emotion, severity, persona_id."""
    return frame(
        connection,
        select(LaneItem.step_id, LaneItem.lane, LaneItem.text, LaneItem.emotion, LaneItem.severity, LaneItem.persona_id)
        .join(Step, Step.id == LaneItem.step_id)
        .join(Stage, Stage.id == Step.stage_id)
        .where(Stage.journey_id == journey_id, LaneItem.lane.in_([Lane.EMOTION.value, Lane.PAIN_POINT.value]))
        .order_by(Stage.position, Step.position, LaneItem.position, LaneItem.id),
        {
            "step_id": pl.Int64,
            "lane": pl.String,
            "text": pl.String,
            "emotion": pl.Float64,
            "severity": pl.Int64,
            "persona_id": pl.Int64,
        },
    )


# --- pure comparison -----------------------------------------------------------------------------


def _key(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars().str.to_lowercase()


def match_items(current: pl.DataFrame, future: pl.DataFrame, *, id_column: str) -> pl.DataFrame:
    """Pairs of current and future items (columns `id_column`, slug, name, position): by slug, then by name.

    Columns: current_id, future_id (either null when unmatched), current_name, future_name, current_position,
    future_position, change (kept | added | removed), matched_by (slug | name | null).
    """
    left = current.select(
        pl.col(id_column).alias("current_id"),
        pl.col("slug").alias("current_slug"),
        pl.col("name").alias("current_name"),
        pl.col("position").alias("current_position"),
    )
    right = future.select(
        pl.col(id_column).alias("future_id"),
        pl.col("slug").alias("future_slug"),
        pl.col("name").alias("future_name"),
        pl.col("position").alias("future_position"),
    )
    by_slug = left.join(right, left_on="current_slug", right_on="future_slug").with_columns(
        pl.lit("slug").alias("matched_by")
    )
    left_rest = left.filter(~pl.col("current_id").is_in(by_slug["current_id"].implode()))
    right_rest = right.filter(~pl.col("future_id").is_in(by_slug["future_id"].implode()))
    by_name = (
        left_rest.with_columns(_key("current_name").alias("_name"))
        .join(right_rest.with_columns(_key("future_name").alias("_name")), on="_name")
        .unique("current_id", keep="first", maintain_order=True)
        .unique("future_id", keep="first", maintain_order=True)
        .drop("_name")
        .with_columns(pl.lit("name").alias("matched_by"))
    )
    matched = pl.concat([by_slug, by_name], how="diagonal_relaxed")
    columns = ["current_id", "future_id", "current_name", "future_name", "current_position", "future_position"]
    removed = left.filter(~pl.col("current_id").is_in(matched["current_id"].implode()))
    added = right.filter(~pl.col("future_id").is_in(matched["future_id"].implode()))
    return (
        pl.concat(
            [
                matched.select(*columns, pl.lit(KEPT).alias("change"), "matched_by"),
                removed.select(
                    "current_id",
                    pl.lit(None, dtype=pl.Int64).alias("future_id"),
                    "current_name",
                    pl.lit(None, dtype=pl.String).alias("future_name"),
                    "current_position",
                    pl.lit(None, dtype=pl.Int64).alias("future_position"),
                    pl.lit(REMOVED).alias("change"),
                    pl.lit(None, dtype=pl.String).alias("matched_by"),
                ),
                added.select(
                    pl.lit(None, dtype=pl.Int64).alias("current_id"),
                    "future_id",
                    pl.lit(None, dtype=pl.String).alias("current_name"),
                    "future_name",
                    pl.lit(None, dtype=pl.Int64).alias("current_position"),
                    "future_position",
                    pl.lit(ADDED).alias("change"),
                    pl.lit(None, dtype=pl.String).alias("matched_by"),
                ),
            ],
            how="diagonal_relaxed",
        )
        .with_columns(pl.coalesce("future_position", "current_position").alias("_order"))
        .sort("_order", pl.col("current_position"), nulls_last=True)
        .drop("_order")
    )


def step_changes(stage_pairs: pl.DataFrame, current_steps: pl.DataFrame, future_steps: pl.DataFrame) -> pl.DataFrame:
    """Every step's change, matched within matched stages; columns of `match_items` plus stage names.

    Steps of a removed stage are removed, steps of an added stage added.
    """
    parts = []
    for pair in stage_pairs.iter_rows(named=True):
        current = current_steps.filter(pl.col("stage_id") == pair["current_id"])
        future = future_steps.filter(pl.col("stage_id") == pair["future_id"])
        matched = match_items(current, future, id_column="step_id")
        parts.append(
            matched.with_columns(
                pl.lit(pair["future_name"] or pair["current_name"]).alias("stage"),
                pl.lit(pair["future_position"] if pair["future_position"] is not None else pair["current_position"])
                .cast(pl.Int64)
                .alias("stage_position"),
            )
        )
    if not parts:
        return match_items(current_steps, future_steps, id_column="step_id").with_columns(
            pl.lit(None, dtype=pl.String).alias("stage"), pl.lit(None, dtype=pl.Int64).alias("stage_position")
        )
    return pl.concat(parts, how="diagonal_relaxed")


def pain_point_outcomes(steps: pl.DataFrame, current_cards: pl.DataFrame, future_cards: pl.DataFrame) -> pl.DataFrame:
    """Each current pain point, resolved or left open by the future state (the module's rule).

    `steps`: `step_changes`. Columns: stage, step, text, severity, persona_id, outcome, reason.
    """
    pains = current_cards.filter(pl.col("lane") == Lane.PAIN_POINT.value)
    future_texts = (
        future_cards.filter(pl.col("lane") == Lane.PAIN_POINT.value)
        .select(pl.col("step_id").alias("future_id"), _key("text").alias("_text"))
        .unique()
        .with_columns(pl.lit(True).alias("_still"))
    )
    return (
        pains.join(steps.filter(pl.col("current_id").is_not_null()), left_on="step_id", right_on="current_id")
        .with_columns(_key("text").alias("_text"))
        .join(future_texts, on=["future_id", "_text"], how="left")
        .with_columns(
            pl.when(pl.col("future_id").is_null())
            .then(pl.lit(RESOLVED))
            .when(pl.col("_still"))
            .then(pl.lit(LEFT_OPEN))
            .otherwise(pl.lit(RESOLVED))
            .alias("outcome"),
            pl.when(pl.col("future_id").is_null())
            .then(pl.lit("the future state removes the step"))
            .when(pl.col("_still"))
            .then(pl.lit("the future step still has it"))
            .otherwise(pl.lit("the future step no longer has it"))
            .alias("reason"),
        )
        .select(
            "stage",
            pl.col("current_name").alias("step"),
            "text",
            "severity",
            "persona_id",
            "outcome",
            "reason",
        )
    )


def assumed_emotions(
    stage_pairs: pl.DataFrame, current: tuple[pl.DataFrame, pl.DataFrame], future: tuple[pl.DataFrame, pl.DataFrame]
) -> pl.DataFrame:
    """Assumed emotion per stage of each state, long: stage, stage_position, state (current | future), emotion.

    `current` and `future`: (steps, cards) of each journey. Only general emotion cards count.
    """

    def per_stage(steps: pl.DataFrame, cards: pl.DataFrame) -> pl.DataFrame:
        return (
            cards.filter(
                pl.col("lane") == Lane.EMOTION.value, pl.col("persona_id").is_null(), pl.col("emotion").is_not_null()
            )
            .join(steps.select("step_id", "stage_id"), on="step_id")
            .group_by("stage_id")
            .agg(pl.col("emotion").mean())
        )

    order = stage_pairs.with_columns(
        pl.coalesce("future_name", "current_name").alias("stage"),
        pl.coalesce("future_position", "current_position").alias("stage_position"),
    )
    now = order.join(per_stage(*current), left_on="current_id", right_on="stage_id", how="left")
    then = order.join(per_stage(*future), left_on="future_id", right_on="stage_id", how="left")
    return pl.concat(
        [
            now.filter(pl.col("current_id").is_not_null()).select(
                "stage", "stage_position", pl.lit("current").alias("state"), "emotion"
            ),
            then.filter(pl.col("future_id").is_not_null()).select(
                "stage", "stage_position", pl.lit("future").alias("state"), "emotion"
            ),
        ]
    ).sort("stage_position", "state")


def gap_expr() -> pl.Expr:
    """Shortfall of `value` to `target` in the metric's unit: positive when short of it."""
    return (
        pl.when(pl.col("direction") == models.Direction.LOWER.value)
        .then(pl.col("value") - pl.col("target"))
        .otherwise(pl.col("target") - pl.col("value"))
        .alias("gap")
    )


@dataclass(frozen=True)
class FutureComparison:
    """A current journey against one of its future states."""

    stages: pl.DataFrame  # match_items of the stages, with steps_added / steps_removed / steps_kept
    steps: pl.DataFrame  # step_changes
    emotions: pl.DataFrame  # assumed_emotions
    pain_points: pl.DataFrame  # pain_point_outcomes
    targets: pl.DataFrame  # current metrics against the future targets, per kept stage


def _future_definitions(
    connection: Connection, *, future_id: int, future_stage_id: int, current_stage_id: int
) -> pl.DataFrame:
    """The future stage's metric targets in `stage_metric_definitions`' shape, pointed at the current stage's
    touchpoints (same slug) so `stage_metrics` evaluates them on today's data."""
    m = models.MetricDefinition
    future_touchpoint = select(Touchpoint.id, Touchpoint.slug).subquery()
    current_touchpoint = (
        select(Touchpoint.id, Touchpoint.slug, Touchpoint.name, Touchpoint.channel_id)
        .where(Touchpoint.stage_id == current_stage_id)
        .subquery()
    )
    rows = frame(
        connection,
        select(
            m.id,
            *DEFINITION_FIELDS,
            current_touchpoint.c.id,
            current_touchpoint.c.name,
            current_touchpoint.c.channel_id,
            m.touchpoint_id,
            m.stage_id,
        )
        .outerjoin(future_touchpoint, future_touchpoint.c.id == m.touchpoint_id)
        .outerjoin(current_touchpoint, current_touchpoint.c.slug == future_touchpoint.c.slug)
        .where(
            m.journey_id == future_id,
            m.target.is_not(None),
            (m.stage_id == future_stage_id)
            | (m.touchpoint_id.in_(select(Touchpoint.id).where(Touchpoint.stage_id == future_stage_id)))
            | (m.stage_id.is_(None) & m.touchpoint_id.is_(None) & m.formula.in_(FEEDBACK_FORMULAS)),
        )
        .order_by(m.key),
        {
            "metric_id": pl.Int64,
            **DEFINITION_COLUMNS,
            "touchpoint_id": pl.Int64,
            "touchpoint_name": pl.String,
            "channel_id": pl.Int64,
            "future_touchpoint_id": pl.Int64,
            "future_stage_id": pl.Int64,
        },
    )
    return (
        # a touchpoint target whose touchpoint today's stage does not have cannot be measured today
        rows.filter(pl.col("future_touchpoint_id").is_null() | pl.col("touchpoint_id").is_not_null())
        .with_columns(
            pl.when(pl.col("touchpoint_id").is_not_null())
            .then(pl.lit("touchpoint"))
            .when(pl.col("future_stage_id").is_not_null())
            .then(pl.lit("stage"))
            .otherwise(pl.lit("journey"))
            .alias("scope")
        )
        .select(list(DEFINITION_SCHEMA))
        .cast(DEFINITION_SCHEMA)  # type: ignore[arg-type]
    )


def load_future_comparison(
    connection: Connection, *, scope: Scope, future_id: int, min_answers: int
) -> FutureComparison:
    """The current journey of `scope` against the future state `future_id` (the caller has checked that it
    improves the current one); metrics over `scope.period` for `scope.persona_id`."""
    current_stages, future_stages = _stages(connection, scope.journey_id), _stages(connection, future_id)
    current_steps, future_steps = _steps(connection, scope.journey_id), _steps(connection, future_id)
    current_cards, future_cards = _cards(connection, scope.journey_id), _cards(connection, future_id)
    stage_pairs = match_items(current_stages, future_stages, id_column="stage_id")
    steps = step_changes(stage_pairs.filter(pl.col("change") == KEPT), current_steps, future_steps)
    # steps of removed or added stages
    lone_current = current_steps.filter(
        ~pl.col("stage_id").is_in(stage_pairs.filter(pl.col("change") == KEPT)["current_id"].implode())
    )
    lone_future = future_steps.filter(
        ~pl.col("stage_id").is_in(stage_pairs.filter(pl.col("change") == KEPT)["future_id"].implode())
    )
    stage_names = stage_pairs.select(
        pl.coalesce("current_id", "future_id").alias("_any"),
        pl.coalesce("future_name", "current_name").alias("stage"),
        pl.coalesce("future_position", "current_position").alias("stage_position"),
    )
    lone = pl.concat(
        [
            match_items(lone_current, lone_current.clear(), id_column="step_id").join(
                lone_current.select("step_id", "stage_id"), left_on="current_id", right_on="step_id"
            ),
            match_items(lone_future.clear(), lone_future, id_column="step_id").join(
                lone_future.select("step_id", "stage_id"), left_on="future_id", right_on="step_id"
            ),
        ],
        how="diagonal_relaxed",
    )
    if lone.height:
        lone = lone.join(stage_names, left_on="stage_id", right_on="_any").drop("stage_id")
        steps = pl.concat([steps, lone.select(steps.columns)], how="diagonal_relaxed")
    counts = steps.group_by("stage_position").agg(
        *((pl.col("change") == change).sum().alias(f"steps_{change}") for change in (ADDED, REMOVED, KEPT))
    )
    stages = stage_pairs.with_columns(pl.coalesce("future_position", "current_position").alias("stage_position")).join(
        counts, on="stage_position", how="left"
    )
    targets = []
    by_stage_id = {s.stage_id: s for s in stage_scopes(connection, scope)}
    for pair in stage_pairs.filter(pl.col("change") == KEPT).iter_rows(named=True):
        definitions = _future_definitions(
            connection, future_id=future_id, future_stage_id=pair["future_id"], current_stage_id=pair["current_id"]
        )
        if definitions.is_empty():
            continue
        measured = stage_metrics(
            connection, scope=by_stage_id[pair["current_id"]], min_answers=min_answers, definitions=definitions
        )
        targets.append(
            measured.select(
                pl.lit(pair["future_name"]).alias("stage"),
                pl.lit(pair["future_position"]).cast(pl.Int64).alias("stage_position"),
                "key",
                "label",
                "formula",
                "direction",
                "touchpoint_name",
                "target",
                "value",
                "sample",
                "status",
            ).with_columns(gap_expr())
        )
    target_schema: Schema = {
        "stage": pl.String,
        "stage_position": pl.Int64,
        "key": pl.String,
        "label": pl.String,
        "formula": pl.String,
        "direction": pl.String,
        "touchpoint_name": pl.String,
        "target": pl.Float64,
        "value": pl.Float64,
        "sample": pl.Int64,
        "status": pl.String,
        "gap": pl.Float64,
    }
    return FutureComparison(
        stages=stages,
        steps=steps.sort("stage_position", pl.coalesce("future_position", "current_position")),
        emotions=assumed_emotions(stage_pairs, (current_steps, current_cards), (future_steps, future_cards)),
        pain_points=pain_point_outcomes(steps, current_cards, future_cards),
        targets=pl.concat(targets) if targets else pl.DataFrame(schema=target_schema),
    )

"""The cohort rollup's SQL: which (from, to) pairs the map defines, and the customers who converted.

A conversion follows a cohort: the customers who first reached `from` (a stage, or a step of it) on a
day, and of them those who first reached `to` at or after that moment and within the journey's
conversion window, counted by how long it took in bins of COHORT_BIN_SECONDS. Every row counts on the
cohort's entry day, so sums over any range of days are exact and no view needs per-customer rows.

The pairs follow the map (`pairs_of_journey`): stage k−1 → stage k by position; inside a stage, stage
entry → first required step and each required step → the next one; stage entry → each optional step;
stage entry → each alternative of a group, a customer counting only for the first alternative of the
group they reached, so a group's shares add up to at most 100 %.

A customer's rows depend on nothing but their own first entries and the map, so an import takes back
the touched customers' old rows and adds their new ones (`rollups`); the map changing the pairs
rebuilds the journey's rows (`rollups.rebuild_cohorts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    Select,
    String,
    Table,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FromClause

from data_access.models import COHORT_BIN_SECONDS, Journey, Stage, Step, StepKind

COHORT_KEYS = [
    "day",
    "journey_id",
    "stage_id",
    "step_id",
    "next_stage_id",
    "next_step_id",
    "persona_id",
    "duration_bin",
]
COHORT_SUMS = ["customers"]
PAIR_COLUMNS = ["journey_id", "stage_id", "step_id", "next_stage_id", "next_step_id", "alternative_group", "window"]
NO_STEP = -1  # stands for NULL (the stage itself) where step ids are compared


@dataclass(frozen=True)
class CohortPair:
    """`from` → `to` of one conversion; a step of None is the stage itself."""

    journey_id: int
    stage_id: int
    step_id: int | None
    next_stage_id: int
    next_step_id: int | None
    alternative_group: str | None = None  # set on the pairs to the alternatives of a group


@dataclass(frozen=True)
class MapStep:
    """What of a step the pairs need."""

    id: int
    kind: StepKind
    alternative_group: str | None = None


def pairs_of_stage(journey_id: int, stage_id: int, steps: Sequence[MapStep]) -> list[CohortPair]:
    """The pairs inside one stage, `steps` in their order on the map."""
    pairs: list[CohortPair] = []
    previous: int | None = None
    for step in steps:
        if step.kind == StepKind.REQUIRED:
            pairs.append(CohortPair(journey_id, stage_id, previous, stage_id, step.id))
            previous = step.id
        elif step.kind == StepKind.OPTIONAL:
            pairs.append(CohortPair(journey_id, stage_id, None, stage_id, step.id))
        else:
            pairs.append(CohortPair(journey_id, stage_id, None, stage_id, step.id, step.alternative_group or ""))
    return pairs


def pairs_of_journey(journey_id: int, stages: Sequence[tuple[int, Sequence[MapStep]]]) -> list[CohortPair]:
    """Every pair of a journey, `stages` as (stage id, its steps) in the map's order."""
    pairs = [CohortPair(journey_id, before, None, after, None) for (before, _), (after, _) in pairwise(stages)]
    for stage_id, steps in stages:
        pairs.extend(pairs_of_stage(journey_id, stage_id, steps))
    return pairs


def read_pairs(connection: Connection, *, journey_ids: Sequence[int] | None = None) -> list[CohortPair]:
    """The pairs the stored map defines for these journeys (all when None)."""
    stage_query = select(Stage.journey_id, Stage.id).order_by(Stage.journey_id, Stage.position, Stage.id)
    step_query = (
        select(Step.stage_id, Step.id, Step.kind, Step.alternative_group)
        .join(Stage, Stage.id == Step.stage_id)
        .order_by(Step.stage_id, Step.position, Step.id)
    )
    if journey_ids is not None:
        stage_query = stage_query.where(Stage.journey_id.in_(journey_ids))
        step_query = step_query.where(Stage.journey_id.in_(journey_ids))
    steps: dict[int, list[MapStep]] = {}
    for stage_id, step_id, kind, group in connection.execute(step_query):
        steps.setdefault(stage_id, []).append(MapStep(step_id, StepKind(kind), group))
    stages: dict[int, list[tuple[int, Sequence[MapStep]]]] = {}
    for journey_id, stage_id in connection.execute(stage_query):
        stages.setdefault(journey_id, []).append((stage_id, steps.get(stage_id, [])))
    return [pair for journey_id, in_order in stages.items() for pair in pairs_of_journey(journey_id, in_order)]


def pair_rows(connection: Connection, pairs: Sequence[CohortPair]) -> list[dict[str, Any]]:
    """The pairs as rows of a pairs table (PAIR_COLUMNS), each with its journey's window in seconds."""
    journey_ids = sorted({pair.journey_id for pair in pairs})
    windows = dict(
        connection.execute(select(Journey.id, Journey.conversion_window_days).where(Journey.id.in_(journey_ids)))
        .tuples()
        .all()
    )
    return [
        {
            "journey_id": pair.journey_id,
            "stage_id": pair.stage_id,
            "step_id": NO_STEP if pair.step_id is None else pair.step_id,
            "next_stage_id": pair.next_stage_id,
            "next_step_id": NO_STEP if pair.next_step_id is None else pair.next_step_id,
            "alternative_group": pair.alternative_group,
            "window": windows[pair.journey_id] * 86_400,
        }
        for pair in pairs
    ]


def pair_columns() -> list[Column[Any]]:
    """Columns of a pairs table: step ids hold NO_STEP for the stage itself, so they compare with `=`."""
    return [
        Column("journey_id", Integer),
        Column("stage_id", Integer),
        Column("step_id", Integer),
        Column("next_stage_id", Integer),
        Column("next_step_id", Integer),
        Column("alternative_group", String(80)),
        Column("window", Integer),
    ]


def _seconds_between(start: ColumnElement[Any], end: ColumnElement[Any], dialect: str) -> ColumnElement[int]:
    """Whole seconds from `start` to `end` (rounded: SQLite's julian days are floats)."""
    if dialect == "sqlite":
        seconds = (func.julianday(end) - func.julianday(start)) * 86_400
    else:
        seconds = func.extract("epoch", end - start)
    return func.cast(func.round(seconds), Integer)


def _step_key(column: ColumnElement[Any]) -> ColumnElement[int]:
    return func.coalesce(column, NO_STEP)


def _same_stage(entry_stage: ColumnElement[int], stage: ColumnElement[int], dialect: str) -> ColumnElement[bool]:
    """`entry_stage` = `stage`. Elsewhere than SQLite `+ 0` keeps the planner off the (journey, stage, entered_at)
    index, which would read a whole stage where the customer's few rows are wanted."""
    return entry_stage == stage if dialect == "sqlite" else entry_stage + 0 == stage


def _same_step(entry_step: ColumnElement[Any], pair_step: ColumnElement[int], dialect: str) -> ColumnElement[bool]:
    """The entry's step is the pair's (which holds NO_STEP for the stage itself). On SQLite as `IS`, which an
    index can answer, so with `_same_stage` a lookup goes straight to the one entry in a covering index."""
    if dialect == "sqlite":
        return entry_step.is_not_distinct_from(func.nullif(pair_step, NO_STEP))
    return _step_key(entry_step) == pair_step


def _first_alternatives(entries: FromClause, steps: Table, dialect: str) -> FromClause:
    """Per customer, stage and alternative group: the first alternative the customer reached (earliest entry,
    then the step's position). A correlated NOT EXISTS, so both lookups use the customer index."""
    chosen, chosen_step = entries.alias("alternative"), steps.alias("alternative_step")
    other, other_step = entries.alias("other_alternative"), steps.alias("other_step")
    earlier = exists().where(
        other.c.journey_id == chosen.c.journey_id,
        other.c.customer_id == chosen.c.customer_id,
        _same_stage(other.c.stage_id, chosen.c.stage_id, dialect),
        other_step.c.id == other.c.step_id,
        other_step.c.kind == StepKind.ALTERNATIVE.value,
        other_step.c.alternative_group == chosen_step.c.alternative_group,
        or_(
            other.c.entered_at < chosen.c.entered_at,
            and_(
                other.c.entered_at == chosen.c.entered_at,
                tuple_(other_step.c.position, other_step.c.id) < tuple_(chosen_step.c.position, chosen_step.c.id),
            ),
        ),
    )
    return (
        select(
            chosen.c.journey_id,
            chosen.c.customer_id,
            chosen.c.stage_id,
            chosen.c.step_id,
            chosen.c.entered_at,
            chosen_step.c.alternative_group,
        )
        .join_from(
            chosen, chosen_step, and_(chosen_step.c.id == chosen.c.step_id, chosen_step.c.stage_id == chosen.c.stage_id)
        )
        .where(chosen_step.c.kind == StepKind.ALTERNATIVE.value, ~earlier)
        .subquery("first_alternative")
    )


def cohort_rows(
    entries: FromClause, pairs: FromClause, *, dialect: str, weight: int = 1, alternatives: bool = True
) -> list[Select[tuple[Any, ...]]]:
    """Cohort rows (COHORT_KEYS + COHORT_SUMS order) of the first entries in `entries`, each counting `weight`.

    `entries` has the columns of `stage_entries`; `pairs` those of `pair_columns()`. Both `from` and `to`
    entries come from `entries`, so it must hold all of a customer's entries in a journey or none.
    `alternatives`: whether any pair leads to an alternative (else that part of the work is skipped).
    """
    steps = Step.__table__
    assert isinstance(steps, Table)
    selects: list[Select[tuple[Any, ...]]] = []
    for to_alternative in (False, True) if alternatives else (False,):
        start = entries.alias("cohort_from")
        end = _first_alternatives(entries, steps, dialect) if to_alternative else entries.alias("cohort_to")
        seconds = _seconds_between(start.c.entered_at, end.c.entered_at, dialect)
        keys = [
            func.date(start.c.entered_at),
            start.c.journey_id,
            start.c.stage_id,
            start.c.step_id,
            end.c.stage_id,
            end.c.step_id,
            start.c.persona_id,
            seconds // COHORT_BIN_SECONDS,
        ]
        # towards an alternative the join starts from the (few) first alternatives, so the stage entry is
        # found by the customer: `_same_stage` keeps PostgreSQL off the stage index for it. On SQLite each
        # side is one lookup in a covering index (migration 0010): `from` by (journey, stage, step), `to` by
        # (journey, customer, stage, step)
        from_stage = pairs.c.stage_id == start.c.stage_id
        if to_alternative:
            from_stage = _same_stage(start.c.stage_id, pairs.c.stage_id, dialect)
        from_matches = and_(
            pairs.c.journey_id == start.c.journey_id,
            from_stage,
            _same_step(start.c.step_id, pairs.c.step_id, dialect),
        )
        to_matches = and_(
            end.c.journey_id == start.c.journey_id,
            end.c.customer_id == start.c.customer_id,
            _same_stage(end.c.stage_id, pairs.c.next_stage_id, dialect),
            _same_step(end.c.step_id, pairs.c.next_step_id, dialect),
        )
        kind = pairs.c.alternative_group.is_not(None) if to_alternative else pairs.c.alternative_group.is_(None)
        if to_alternative:
            to_matches = and_(to_matches, end.c.alternative_group == pairs.c.alternative_group)
        selects.append(
            select(*keys, func.count() * literal(weight, Integer))
            .select_from(start)
            .join(pairs, from_matches)
            .join(end, to_matches)
            .where(kind, seconds >= 0, seconds <= pairs.c.window)
            .group_by(*keys)
        )
    return selects

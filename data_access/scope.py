"""The scope of a view: which journey, persona and stage, over which days, compared with which days.

A view is named by slugs (the URL). `resolve_scope` and `stage_scopes` turn them into ids once per view;
every query below takes its ids from the scope, and nothing in `data_access` turns ids back into slugs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

import polars as pl
from sqlalchemy import Connection, select

from data_access.models import Journey, Persona, Stage


@dataclass(frozen=True)
class Period:
    """An inclusive range of days."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of equal length that ends the day before this one starts."""
        return self.ending_on(self.start - dt.timedelta(days=1))

    def ending_on(self, day: dt.date) -> Period:
        """The period of equal length that ends on `day` (a review's date, say)."""
        return Period(day - dt.timedelta(days=self.days - 1), day)


def as_date(value: object) -> dt.date:
    """A day as the database hands it back: SQLite returns dates stored by `date()` as text."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


@dataclass(frozen=True)
class Scope:
    """One view of a journey: its ids, the persona (None: every customer), the period and the compared one."""

    journey_id: int
    journey_slug: str
    persona_id: int | None
    period: Period
    compared: Period


@dataclass(frozen=True)
class StageScope(Scope):
    """A view of one stage of the journey, with its neighbours in the journey's order."""

    stage_id: int
    stage_slug: str
    stage_name: str
    stage_position: int
    previous_stage_id: int | None
    next_stage_id: int | None
    next_stage_slug: str | None


def journey_id(connection: Connection, journey_slug: str) -> int | None:
    """The journey's id, or None when no journey has this slug."""
    return connection.execute(select(Journey.id).where(Journey.slug == journey_slug)).scalar_one_or_none()


def resolve_scope(
    connection: Connection,
    *,
    journey_slug: str,
    persona_slug: str | None,
    period: Period,
    compared: Period | None = None,
) -> Scope | None:
    """The view's ids, or None when the journey or the persona does not exist.

    `compared` defaults to the period of equal length just before `period`.
    """
    found = journey_id(connection, journey_slug)
    if found is None:
        return None
    persona_id = None
    if persona_slug is not None:
        persona_id = connection.execute(select(Persona.id).where(Persona.slug == persona_slug)).scalar_one_or_none()
        if persona_id is None:
            return None
    return Scope(
        journey_id=found,
        journey_slug=journey_slug,
        persona_id=persona_id,
        period=period,
        compared=compared or period.previous(),
    )


STAGE_ROW_SCHEMA: dict[str, pl.DataType | type] = {
    "stage_id": pl.Int64,
    "stage_slug": pl.String,
    "stage": pl.String,
    "stage_position": pl.Int64,
    "stage_description": pl.String,
}


def stage_rows(connection: Connection, *, journey_id: int) -> pl.DataFrame:
    """The journey's stages in order (`STAGE_ROW_SCHEMA`), one query: what `scopes_of_stages` and the
    experience map's stage columns are made from."""
    rows = connection.execute(
        select(Stage.id, Stage.slug, Stage.name, Stage.position, Stage.description)
        .where(Stage.journey_id == journey_id)
        .order_by(Stage.position, Stage.id)
    ).all()
    return pl.DataFrame([tuple(row) for row in rows], schema=STAGE_ROW_SCHEMA, orient="row")


def scopes_of_stages(scope: Scope, stages: pl.DataFrame) -> list[StageScope]:
    """The scope of every stage of `stages` (`stage_rows`, in the journey's order) within the view `scope`."""
    common = {f.name: getattr(scope, f.name) for f in fields(Scope)}
    ids, slugs = stages["stage_id"].to_list(), stages["stage_slug"].to_list()
    names, positions = stages["stage"].to_list(), stages["stage_position"].to_list()
    last = len(ids) - 1
    return [
        StageScope(
            **common,
            stage_id=ids[index],
            stage_slug=slugs[index],
            stage_name=names[index],
            stage_position=positions[index],
            previous_stage_id=ids[index - 1] if index > 0 else None,
            next_stage_id=ids[index + 1] if index < last else None,
            next_stage_slug=slugs[index + 1] if index < last else None,
        )
        for index in range(len(ids))
    ]


def stage_scopes(connection: Connection, scope: Scope) -> list[StageScope]:
    """The scope of every stage of the journey, in the journey's order (one query)."""
    return scopes_of_stages(scope, stage_rows(connection, journey_id=scope.journey_id))


def resolve_stage(connection: Connection, scope: Scope, *, stage_slug: str) -> StageScope | None:
    """The scope of one stage of the journey, or None when the journey has no such stage."""
    return next((stage for stage in stage_scopes(connection, scope) if stage.stage_slug == stage_slug), None)

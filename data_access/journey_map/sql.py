"""SQL helpers the journey map's queries share: a fixed-schema frame, day bounds and the persona filter."""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import Connection, Executable, literal
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from data_access.scope import Period

Schema = dict[str, pl.DataType | type]


def frame(connection: Connection, statement: Executable, schema: Schema) -> pl.DataFrame:
    """Run `statement` and return its rows with a fixed schema, so an empty answer still has its columns."""
    rows = connection.execute(statement).all()
    return pl.DataFrame([tuple(row) for row in rows], schema=schema, orient="row")


def day_bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    """Timestamps bounding the period's days (end exclusive), for indexed range scans."""
    return (
        dt.datetime.combine(period.start, dt.time()),
        dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time()),
    )


def persona_filter(
    column: ColumnElement[int | None] | InstrumentedAttribute[int | None], persona_id: int | None
) -> ColumnElement[bool]:
    """Rows of the persona; every row when the view is of all customers."""
    return literal(True) if persona_id is None else column == persona_id

"""Bulk appends keep every value as an ORM write would, on both databases."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
)

from data_access.bulk import append_rows

ROWS = [
    # id, small count, big count, score, moment, day, name, comment, flag
    (
        1,
        7,
        2**40,
        4.25,
        dt.datetime(2024, 3, 1, 9, 30, 0, 123456),
        dt.date(2024, 3, 1),
        "Zoë",
        'said "fine", then\nleft',
        True,
    ),
    (2, None, None, None, None, None, None, None, None),
    (3, -1, -(2**40), math.inf, dt.datetime(1999, 12, 31, 23, 59, 59), dt.date(2000, 2, 29), "", "☕ ,;\t", False),
]


def _table() -> Table:
    return Table(
        "append_check",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("small", Integer),
        Column("big", BigInteger),
        Column("score", Float),
        Column("moment", DateTime),
        Column("day", Date),
        Column("name", String(40)),
        Column("comment", Text),
        Column("flag", Boolean),
    )


def test_appended_rows_read_back_unchanged(engine: Engine) -> None:
    """Nulls, microseconds, unicode, quotes, new lines, 64-bit and infinite numbers, booleans all survive the bulk path
    (binary COPY on PostgreSQL, where integer frames are cast to the columns' own widths)."""
    table = _table()
    frame = pl.DataFrame(
        ROWS,
        schema={
            "id": pl.Int64,
            "small": pl.Int64,
            "big": pl.Int64,
            "score": pl.Float64,
            "moment": pl.Datetime("us"),
            "day": pl.Date,
            "name": pl.String,
            "comment": pl.String,
            "flag": pl.Boolean,
        },
        orient="row",
    )
    table.create(engine)
    try:
        with engine.begin() as connection:
            append_rows(connection, table, frame)
            append_rows(connection, table, frame.clear())  # nothing to write is not an error
        with engine.connect() as connection:
            stored = [tuple(row) for row in connection.execute(select(table).order_by(table.c.id))]
        assert stored == ROWS
    finally:
        table.drop(engine)


def test_appending_follows_the_transaction(engine: Engine) -> None:
    """Rows appended in a transaction that rolls back are gone: imports are all-or-nothing."""
    table = _table()
    table.create(engine)
    try:
        with engine.connect() as connection:
            append_rows(connection, table, pl.DataFrame({"id": [1, 2], "name": ["a", "b"]}))
            connection.rollback()
        with engine.connect() as connection:
            assert connection.execute(select(table)).all() == []
    finally:
        table.drop(engine)

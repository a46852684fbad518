"""Bulk writes: appending polars frames to tables fast, and loading many rows (on SQLite, indexes rebuilt once).

PostgreSQL takes rows by binary COPY; SQLite by `executemany`, with its page cache and sorter tuned
while rows go in and indexes are rebuilt. Everything runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

import polars as pl
from pgpq import ArrowToPostgresBinaryEncoder
from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    SmallInteger,
    String,
    Table,
    insert,
    text,
)
from sqlalchemy.types import TypeEngine

# SQLAlchemy's own text form of DateTime and Date on SQLite, so bulk-written rows sort and compare like
# ORM-written ones
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S%.6f"
SQLITE_DATE = "%Y-%m-%d"
# SQLite's sorter while indexes are rebuilt after a bulk load (see _sqlite_index_builds)
SQLITE_INDEX_BUILD_CACHE_KIB = 2048
SQLITE_SORTER_THREADS = 2
# the polars type whose Arrow form PostgreSQL's binary COPY takes for a column of each SQLAlchemy type
# (most specific first: BigInteger and SmallInteger are Integers)
POSTGRES_BINARY_TYPES: tuple[tuple[type[TypeEngine[Any]], pl.DataType], ...] = (
    (BigInteger, pl.Int64()),
    (SmallInteger, pl.Int16()),
    (Integer, pl.Int32()),
    (Float, pl.Float64()),
    (DateTime, pl.Datetime("us")),
    (Date, pl.Date()),
    (String, pl.String()),
    (Boolean, pl.Boolean()),
)

# the page cache an import gives SQLite while rows go into indexed tables (see larger_sqlite_cache)
SQLITE_IMPORT_CACHE_KIB = 256 * 1024


@contextmanager
def bulk_load(connection: Connection, tables: Sequence[str], *, unique: bool = False) -> Iterator[None]:
    """A load of many rows into `tables`: on SQLite their secondary indexes are dropped and rebuilt once after.

    `unique` drops unique indexes too, for loads whose keys were already checked against the table and each
    other (rebuilding them checks again). SQLite cannot drop the index behind a column's UNIQUE constraint;
    the fact tables use named unique indexes instead (migration 0005). Updating three indexes row by row is
    what makes a million-row load slow on SQLite; rebuilding them once at the end does the same work in one
    sorted pass. It happens inside the caller's transaction, so a failure leaves the schema as it was, and in
    WAL mode readers keep reading the tables as they were until it commits.

    On PostgreSQL no schema changes: dropping an index or a foreign key takes an ACCESS EXCLUSIVE lock on the
    table (a foreign key's on the table it references too) until the import commits, which would stop every
    reader of the app for the whole import, and deadlocked against a journey page's read when the lock was
    taken in the middle of one. Rows go in through the indexes and foreign keys with more memory to sort in,
    and the tables get fresh statistics after, so the rollup queries that follow get sensible plans.
    """
    restore: list[str] = []
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL work_mem = '256MB'"))
        connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    elif connection.dialect.name == "sqlite":
        for table in tables:
            for name, definition in connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"),
                {"t": table},
            ).all():
                if not unique and definition.upper().startswith("CREATE UNIQUE"):
                    continue
                connection.execute(text(f'DROP INDEX "{name}"'))
                restore.append(definition)
    yield
    with _sqlite_index_builds(connection) if connection.dialect.name == "sqlite" else nullcontext():
        for statement in restore:
            connection.execute(text(statement))
    if connection.dialect.name == "postgresql":
        # ANALYZE takes a lock that neither readers nor writers wait for
        connection.execute(text(f"ANALYZE {', '.join(tables)}"))


@contextmanager
def _sqlite_index_builds(connection: Connection) -> Iterator[None]:
    """SQLite's sorter set up for building indexes over millions of rows, then set back.

    A small page cache makes the sorter sort in many small runs and merge them, on helper threads:
    measured on 10M source keys, 5.5 s against 13-16 s with the 256 MiB cache an import keeps for
    updating indexes row by row (and 8.6 s with a small cache but no helper threads).
    """
    raw: Any = connection.connection.driver_connection
    cache_size = raw.execute("PRAGMA main.cache_size").fetchone()[0]
    threads = raw.execute("PRAGMA threads").fetchone()[0]
    raw.execute(f"PRAGMA main.cache_size = {-SQLITE_INDEX_BUILD_CACHE_KIB}")
    raw.execute(f"PRAGMA threads = {SQLITE_SORTER_THREADS}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA main.cache_size = {int(cache_size)}")
        raw.execute(f"PRAGMA threads = {int(threads)}")


def larger_sqlite_cache(connection: Connection) -> Callable[[], None]:
    """On SQLite, a page cache big enough for the fact indexes while rows go in; returns how to undo it.

    With SQLite's default 2 MiB cache, inserting a million rows into indexed tables thrashes the disk
    (measured: 3× slower import). The cache is bounded, so memory stays flat as files grow.
    """
    if connection.dialect.name != "sqlite":
        return lambda: None
    raw: Any = connection.connection.driver_connection
    before = raw.execute("PRAGMA main.cache_size").fetchone()[0]
    raw.execute(f"PRAGMA main.cache_size = {-SQLITE_IMPORT_CACHE_KIB}")
    return lambda: raw.execute(f"PRAGMA main.cache_size = {int(before)}")


def sqlite_text_times(rows: pl.DataFrame) -> pl.DataFrame:
    """Datetimes and dates as the text SQLAlchemy stores on SQLite, so they compare like ORM-written ones."""
    return rows.with_columns(pl.col(pl.Datetime).dt.strftime(SQLITE_DATETIME), pl.col(pl.Date).dt.strftime(SQLITE_DATE))


def append_rows(connection: Connection, table: Table, rows: pl.DataFrame) -> None:
    """Append a frame's rows to `table` inside the connection's transaction; columns are matched by name.

    PostgreSQL takes them by binary COPY (encoded from Arrow by pgpq): the server parses no text, which
    makes a COPY of 10M events a third faster than CSV. SQLite takes them by `executemany`, anything
    else by a plain INSERT.
    """
    if rows.is_empty():
        return
    names = ", ".join(f'"{name}"' for name in rows.columns)
    quoted = ".".join(f'"{part}"' for part in ([table.schema] if table.schema else []) + [table.name])
    driver: Any = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        batch = _postgres_binary_rows(table, rows).to_arrow()
        encoder = ArrowToPostgresBinaryEncoder(batch.schema)
        with driver.cursor() as cursor, cursor.copy(f"COPY {quoted} ({names}) FROM STDIN (FORMAT binary)") as copy:
            copy.write(encoder.write_header())
            for part in batch.to_batches():
                copy.write(encoder.write_batch(part))
            copy.write(encoder.finish())
    elif connection.dialect.name == "sqlite":
        cursor = driver.cursor()
        placeholders = ", ".join("?" for _ in rows.columns)
        statement = f"INSERT INTO {quoted} ({names}) VALUES ({placeholders})"
        cursor.executemany(statement, sqlite_text_times(rows).iter_rows())
        cursor.close()
    else:
        connection.execute(insert(table), rows.to_dicts())


def _postgres_binary_rows(table: Table, rows: pl.DataFrame) -> pl.DataFrame:
    """`rows` cast to the exact width of each column: binary COPY refuses an int8 sent to an int4 column."""
    casts = []
    for name in rows.columns:
        column_type = table.c[name].type
        wanted = next((dtype for kind, dtype in POSTGRES_BINARY_TYPES if isinstance(column_type, kind)), None)
        if wanted is None:
            raise TypeError(f"no binary COPY form for column {table.name}.{name} of type {column_type}")
        casts.append(pl.col(name).cast(wanted))
    return rows.select(casts)

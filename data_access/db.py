"""Engines, sessions and schema migrations (Alembic, run programmatically)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import polars as pl
from alembic import command
from alembic.config import Config
from pgpq import ArrowToPostgresBinaryEncoder
from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    SmallInteger,
    String,
    Table,
    create_engine,
    event,
    insert,
    text,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeEngine

MIGRATIONS = Path(__file__).parent / "migrations"
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


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite gets foreign keys on and a WAL journal so readers never block."""
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade_schema(engine: Engine) -> None:
    """Create the schema or bring it to the newest revision."""
    command.upgrade(alembic_config(engine), "head")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A short session that commits on success and rolls back on any error."""
    session = sessionmaker(engine, expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def bulk_load(connection: Connection, tables: Sequence[str], *, unique: bool = False) -> Iterator[None]:
    """Drop the secondary indexes (and on PostgreSQL the foreign keys) of `tables`, and rebuild them after.

    `unique` drops unique indexes and constraints too, for loads whose keys were already checked against
    the table and each other (rebuilding them checks again). SQLite cannot drop the index behind a
    column's UNIQUE constraint; the fact tables use named unique indexes instead (migration 0005).

    Checking five foreign keys and updating three indexes row by row is what makes a million-row load
    slow; rebuilding them once at the end validates the same constraints in one pass. It all happens
    inside the caller's transaction, so a failure leaves the schema as it was. On PostgreSQL the dropped
    indexes lock `tables` against readers until that transaction ends: this is for loads that are large
    next to the table (a first import, the demo), not for a trickle into a big table.
    """
    restore: list[str] = []
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL work_mem = '256MB'"))
        connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        for table in tables:
            for name, definition in connection.execute(
                text(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('f', :u)"
                ),
                {"t": table, "u": "u" if unique else "f"},
            ).all():
                connection.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
                restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            for name, definition in connection.execute(
                text(
                    "SELECT CAST(indexrelid AS regclass)::text, pg_get_indexdef(indexrelid) FROM pg_index "
                    "WHERE indrelid = CAST(:t AS regclass) AND NOT indisprimary AND (NOT indisunique OR :unique) "
                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)"
                ),
                {"t": table, "unique": unique},
            ).all():
                connection.execute(text(f"DROP INDEX {name}"))
                restore.append(definition)
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
        # fresh statistics, so the rollup queries that follow get sensible plans
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

"""Engines, sessions and schema migrations (Alembic, run programmatically)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


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


def schema_is_current(engine: Engine) -> bool:
    return "alembic_version" in inspect(engine).get_table_names()


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
    for statement in restore:
        connection.execute(text(statement))
    if connection.dialect.name == "postgresql":
        # fresh statistics, so the rollup queries that follow get sensible plans
        connection.execute(text(f"ANALYZE {', '.join(tables)}"))

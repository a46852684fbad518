"""Where checked rows wait until the whole file has passed: temporary tables, or a scratch SQLite file."""

from __future__ import annotations

import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table
from sqlalchemy.schema import CreateTable

from data_access.bulk import append_rows, sqlite_text_times
from data_access.importing.keys import FACT_TABLES, STORED_COLUMNS
from data_access.importing.mapping import FactKind


def _staging_columns(kind: FactKind) -> list[Column[Any]]:
    columns: list[Column[Any]] = [Column("row", Integer), Column("source_key", String(64))]
    columns += [Column(c.name, c.type) for c in FACT_TABLES[kind].columns if c.name in STORED_COLUMNS[kind]]
    return columns


class Staging:
    """Where checked rows wait until the whole file has passed: tables readable on the import's connection.

    `table` holds the facts; `add_table` makes more (the tallies of `EventTally`).
    Writes may run on a background thread (`background=True`), one at a time and in order, so that
    the database takes one batch while polars prepares the next; every other call waits for them.
    """

    table: Table
    # whether writes go through the import's own connection, so they may go to the target's tables too
    shares_transaction = False

    def __init__(self, *, background: bool) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="atlas-staging") if background else None
        self._pending: Future[None] | None = None

    def add_table(self, name: str, columns: list[Column[Any]]) -> Table:
        self.wait()
        return self._add_table(name, columns)

    def write(self, rows: pl.DataFrame, table: Table | None = None) -> None:
        self.wait()
        target = self.table if table is None else table
        if self._pool is None:
            self._write(rows, target)
        else:
            self._pending = self._pool.submit(self._write, rows, target)

    def wait(self) -> None:
        """Until the last write is done; raises what it raised."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Stop the background writer, after its last write (whose error, if any, is already reported)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def finish_writing(self) -> None:
        """Called once all rows are written, before the staging table is queried."""
        self.wait()

    def drop(self) -> None:
        """Remove the staging rows (the clean-up stack may do the rest after the transaction)."""
        self.wait()

    def _add_table(self, name: str, columns: list[Column[Any]]) -> Table:
        raise NotImplementedError

    def _write(self, rows: pl.DataFrame, table: Table) -> None:
        raise NotImplementedError


class _TempTableStaging(Staging):
    """Temporary tables on the import's own connection: binary COPY on PostgreSQL, executemany elsewhere.

    Only COPY runs in the background: Python's sqlite3 connections refuse other threads.
    """

    shares_transaction = True

    def __init__(self, connection: Connection, kind: FactKind) -> None:
        super().__init__(background=connection.dialect.name == "postgresql")
        self.connection = connection
        self.prefix = f"atlas_staging_{uuid.uuid4().hex[:12]}"
        self.tables: list[Table] = []
        self.table = self.add_table("facts", _staging_columns(kind))

    def _add_table(self, name: str, columns: list[Column[Any]]) -> Table:
        table = Table(f"{self.prefix}_{name}", MetaData(), *columns, prefixes=["TEMPORARY"])
        table.create(self.connection)
        self.tables.append(table)
        return table

    def _write(self, rows: pl.DataFrame, table: Table) -> None:
        # a fact table takes the staged columns but `row`, and makes its own `id`
        append_rows(self.connection, table, rows.select(c.name for c in table.columns if c.name in rows.columns))

    def drop(self) -> None:
        super().drop()
        for table in self.tables:
            # a table made inside a savepoint that was rolled back is gone already
            table.drop(self.connection, checkfirst=True)


class _ScratchFileStaging(Staging):
    """SQLite: rows bulk-loaded with ADBC into a scratch database file, attached to the import's connection.

    ADBC writes several times faster than executemany, and the scratch file is not part of the target
    database, so a failure leaves nothing behind. ATTACH and DETACH only work outside a transaction, so
    this is used when the import owns its transaction; the file is detached once that transaction ends.
    The import reads the scratch file front to back, so it keeps SQLite's small default page cache (a
    256 MiB one, as the target gets, only added 250 MiB to the peak memory of a 10M-event import).
    """

    def __init__(self, connection: Connection, kind: FactKind, workdir: Path, after: ExitStack) -> None:
        from adbc_driver_sqlite import dbapi as adbc_sqlite

        super().__init__(background=True)
        raw: Any = connection.connection.driver_connection
        if raw.in_transaction:
            raise RuntimeError("cannot attach a scratch database inside a transaction")
        self.dialect = connection.dialect
        self.alias = f"atlas_staging_{uuid.uuid4().hex[:12]}"
        path = workdir / f"{self.alias}.db"
        self.writer = adbc_sqlite.connect(str(path))
        after.callback(self.writer.close)
        raw.execute(f"ATTACH DATABASE '{path}' AS {self.alias}")
        after.callback(raw.execute, f"DETACH DATABASE {self.alias}")
        self.table = self.add_table("staging", _staging_columns(kind))

    def _add_table(self, name: str, columns: list[Column[Any]]) -> Table:
        plain = Table(name, MetaData(), *(column.copy() for column in columns))
        with self.writer.cursor() as cursor:
            cursor.execute(str(CreateTable(plain).compile(dialect=self.dialect)))
        self.writer.commit()
        return Table(name, MetaData(schema=self.alias), *columns)

    def _write(self, rows: pl.DataFrame, table: Table) -> None:
        names = [column.name for column in table.columns]
        with self.writer.cursor() as cursor:
            cursor.adbc_ingest(table.name, sqlite_text_times(rows.select(names)).to_arrow(), mode="append")
        self.writer.commit()


def open_staging(connection: Connection, kind: FactKind, workdir: Path, after: ExitStack | None) -> Staging:
    if connection.dialect.name == "sqlite" and after is not None:
        try:
            return _ScratchFileStaging(connection, kind, workdir, after)
        except (ImportError, RuntimeError):
            pass
    return _TempTableStaging(connection, kind)

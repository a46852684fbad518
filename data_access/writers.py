"""Who wrote what: the name every write records (`written_by`), and the log of imports.

Reviews, stage notes and imports each record their writer: an editor's e-mail, "passphrase editor", "local"
(a dashboard that listens on this machine only), "cli", "demo", or "python api" when the data functions are
called directly (a notebook, a script). Who may write is the dashboard's decision (`dashboard.editors`); this
module only keeps the name.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

from data_access.models import WRITER_LENGTH, ImportRecord

CLI_WRITER = "cli"
DEMO_WRITER = "demo"
DIRECT_WRITER = "python api"

IMPORT_LOG_SCHEMA: dict[str, pl.DataType | type] = {
    "created_at": pl.Datetime("us"),
    "kind": pl.String,
    "source": pl.String,
    "inserted": pl.Int64,
    "written_by": pl.String,
}


def checked_writer(written_by: str) -> str:
    """The writer's name as stored: trimmed, never empty, at most WRITER_LENGTH characters (ValueError)."""
    name = written_by.strip()
    if not name:
        raise ValueError("A write must name its writer.")
    if len(name) > WRITER_LENGTH:
        raise ValueError(f"A writer's name has at most {WRITER_LENGTH} characters (this one has {len(name):,}).")
    return name


def now_utc() -> dt.datetime:
    """The time a write is stamped with: UTC, without a zone (as every stored time)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def record_import(
    target: Connection | Session, *, kind: str, source: str, inserted: int | None, written_by: str
) -> None:
    """Log an import inside its own transaction (the caller commits), so the log holds exactly what was written."""
    connection = target.connection() if isinstance(target, Session) else target
    connection.execute(
        insert(ImportRecord).values(
            kind=kind,
            source=source[-255:],  # the end of a long path names the file
            inserted=inserted,
            written_by=checked_writer(written_by),
            created_at=now_utc(),
        )
    )


def list_imports(connection: Connection, *, limit: int = 20) -> pl.DataFrame:
    """The latest imports first: created_at (UTC), kind, source, inserted, written_by."""
    rows = connection.execute(
        select(
            ImportRecord.created_at,
            ImportRecord.kind,
            ImportRecord.source,
            ImportRecord.inserted,
            ImportRecord.written_by,
        )
        .order_by(ImportRecord.created_at.desc(), ImportRecord.id.desc())
        .limit(limit)
    ).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=IMPORT_LOG_SCHEMA, orient="row")

"""Notes on a stage from the front line: short texts people add beside the data, newest first.

Writes take a session (the caller owns it and commits); reads take a connection and return polars frames.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from data_access.data_version import bump_data_version
from data_access.models import Journey, Stage, StageNote
from data_access.writers import DIRECT_WRITER, checked_writer, now_utc

MAX_BODY = 1_000
MAX_AUTHOR = 120

NOTE_SCHEMA: dict[str, pl.DataType | type] = {
    "note_id": pl.Int64,
    "author": pl.String,
    "body": pl.String,
    "created_at": pl.Datetime("us"),
    "written_by": pl.String,
}


class NoteError(ValueError):
    """A note that cannot be saved; the message names the field and says what is wrong."""


def _stage_id(session: Session, *, journey_slug: str, stage_slug: str) -> int | None:
    return session.scalar(
        select(Stage.id)
        .join(Journey, Journey.id == Stage.journey_id)
        .where(Journey.slug == journey_slug, Stage.slug == stage_slug)
    )


def add_note(
    session: Session,
    *,
    journey_slug: str,
    stage_slug: str,
    author: str,
    body: str,
    written_by: str = DIRECT_WRITER,
) -> StageNote:
    """Add a note to a stage, stamped with the current UTC time and who saved it (`written_by`, beside the
    name the writer signs with, `author`); raises NoteError for a bad field or stage."""
    author, body = author.strip(), body.strip()
    if not author:
        raise NoteError("Author: please give your name.")
    if len(author) > MAX_AUTHOR:
        raise NoteError(f"Author: at most {MAX_AUTHOR} characters (this one has {len(author):,}).")
    if not body:
        raise NoteError("Note: the text is empty.")
    if len(body) > MAX_BODY:
        raise NoteError(f"Note: at most {MAX_BODY:,} characters (this one has {len(body):,}).")
    stage_id = _stage_id(session, journey_slug=journey_slug, stage_slug=stage_slug)
    if stage_id is None:
        raise NoteError(f"Stage: '{stage_slug}' is not a stage of journey '{journey_slug}'.")
    note = StageNote(
        stage_id=stage_id, author=author, body=body, created_at=now_utc(), written_by=checked_writer(written_by)
    )
    session.add(note)
    session.flush()
    bump_data_version(session)
    return note


def list_notes(connection: Connection, *, journey_slug: str, stage_slug: str, limit: int = 50) -> pl.DataFrame:
    """The stage's notes, newest first: note_id, author, body, created_at (UTC), written_by. Empty for an
    unknown stage."""
    rows = connection.execute(
        select(StageNote.id, StageNote.author, StageNote.body, StageNote.created_at, StageNote.written_by)
        .join(Stage, Stage.id == StageNote.stage_id)
        .join(Journey, Journey.id == Stage.journey_id)
        .where(Journey.slug == journey_slug, Stage.slug == stage_slug)
        .order_by(StageNote.created_at.desc(), StageNote.id.desc())
        .limit(limit)
    ).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=NOTE_SCHEMA, orient="row")

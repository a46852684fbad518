"""The import's entry points: import events or feedback, preview a file, refresh rollups; each in one transaction."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from data_access.data_version import bump_data_version
from data_access.importing.mapping import FactKind, Mapping, MappingError, load_mapping
from data_access.importing.problems import ImportPreview, ImportReport, ProgressCallback
from data_access.importing.run import DirectLoadRefused, ImportRun
from data_access.rollups import refresh_rollups
from data_access.writers import DIRECT_WRITER, record_import

BATCH_ROWS = 200_000

Target = Engine | Connection | Session


@dataclass(frozen=True)
class FactImporter:
    """Imports files of one kind of fact (the mapping must be of that kind): `import_events`, `import_feedback`."""

    kind: FactKind

    def __call__(
        self,
        target: Target,
        *,
        path: str | Path,
        mapping: Mapping | str | Path,
        progress: ProgressCallback | None = None,
        batch_rows: int = BATCH_ROWS,
        written_by: str = DIRECT_WRITER,
    ) -> ImportReport:
        """Import the file, logged as run by `written_by`; raises `ImportValidationError` (writing nothing)
        when any problem is found."""
        return _import(
            target, self.kind, path=Path(path), mapping=mapping, progress=progress, batch_rows=batch_rows,
            written_by=written_by,
        )  # fmt: skip


import_events = FactImporter(FactKind.EVENTS)
import_feedback = FactImporter(FactKind.FEEDBACK)


def preview(
    target: Target,
    *,
    path: str | Path,
    mapping: Mapping | str | Path,
    rows: int = 20,
    progress: ProgressCallback | None = None,
    batch_rows: int = BATCH_ROWS,
) -> ImportPreview:
    """Run every check of an import over the whole file and return the first `rows` mapped rows; write nothing.

    The kind (events or feedback) comes from the mapping.
    """
    resolved = _resolve_mapping(mapping, None)
    run = ImportRun(Path(path), resolved, progress=progress, batch_rows=batch_rows, preview_rows=rows)
    with _transaction(target, commit=False) as (connection, after):
        run.execute(connection, write=False, after=after)
    return ImportPreview(
        rows=run.preview,
        problems=run.problems,
        rows_read=run.rows_read,
        facts=run.facts,
        not_applicable=run.not_applicable,
        new=run.facts - run.already_present,
        already_present=run.already_present,
        duplicates_skipped=run.duplicates_skipped,
    )


def refresh(target: Target, *, journey_ids: list[int] | None = None) -> None:
    """Rebuild rollups from the facts, e.g. after facts were loaded by other means than this importer."""
    with _transaction(target, commit=True) as (connection, _after):
        refresh_rollups(connection, journey_ids=journey_ids)
        bump_data_version(connection)


def _import(
    target: Target,
    kind: FactKind,
    *,
    path: Path,
    mapping: Mapping | str | Path,
    progress: ProgressCallback | None,
    batch_rows: int,
    written_by: str,
) -> ImportReport:
    started = time.perf_counter()
    resolved = _resolve_mapping(mapping, kind)
    run = ImportRun(path, resolved, progress=progress, batch_rows=batch_rows)
    with _transaction(target, commit=True) as (connection, after):
        try:
            run.execute(connection, write=True, after=after)
        except DirectLoadRefused:
            # the file repeats a fact: read it once more through staging, which names the repeated rows
            run = ImportRun(path, resolved, progress=progress, batch_rows=batch_rows, direct=False)
            run.execute(connection, write=True, after=after)
        record_import(connection, kind=kind.value, source=path.name, inserted=run.inserted, written_by=written_by)
        bump_data_version(connection)
    return ImportReport(
        file=str(path),
        kind=kind,
        rows_read=run.rows_read,
        facts=run.facts,
        not_applicable=run.not_applicable,
        inserted=run.inserted,
        already_present=run.already_present,
        journeys=run.journey_slugs,
        seconds=time.perf_counter() - started,
        duplicates_skipped=run.duplicates_skipped,
    )


def _resolve_mapping(mapping: Mapping | str | Path, kind: FactKind | None) -> Mapping:
    resolved = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    if kind is not None and resolved.kind != kind:
        raise MappingError([f"this mapping is for {resolved.kind}, not {kind}"])
    return resolved


@contextmanager
def _transaction(target: Target, *, commit: bool) -> Iterator[tuple[Connection, ExitStack | None]]:
    """The connection to work on, and a stack of clean-ups to run once its transaction is over.

    An engine gets a transaction of its own (so the clean-up stack); a session or a connection is the
    caller's, whose transaction the caller ends (so no stack).
    """
    if isinstance(target, Session):
        yield target.connection(), None
        return
    if isinstance(target, Connection):
        yield target, None
        return
    with target.connect() as connection, ExitStack() as after:
        transaction = connection.begin()
        try:
            yield connection, after
        except BaseException:
            transaction.rollback()
            raise
        if commit:
            transaction.commit()
        else:
            transaction.rollback()

"""The Import page's logic, free of Streamlit: an uploaded file and a mapping text in, a preview or an import out."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import Engine

from data_access.db import session_scope
from data_access.importing import (
    ImportPreview,
    ImportReport,
    ImportValidationError,
    Problem,
    ProgressCallback,
    import_events,
    import_feedback,
    preview,
)
from data_access.importing.mapping import FactKind, Mapping, MappingError, parse_mapping
from data_access.importing.workdir import UPLOAD_PREFIX, work_folder
from data_access.mapfile import MapFileError, MapImportSummary, import_map
from data_access.mapfile.diff import MapChange, journey_slugs, map_changes
from data_access.writers import DIRECT_WRITER

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mappings"
# mappings kept beside their example data (those reading several files take them uploaded together)
EXAMPLE_DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
BLANK_MAPPING = """kind: events
fixed: {journey: my-journey}
columns: {customer: customer, timestamp: timestamp, stage: stage, channel: channel}
"""


def example_mappings() -> dict[str, str]:
    """Mapping texts to start from: a blank one and the shipped examples, by name."""
    shipped = {path.stem: path.read_text(encoding="utf-8") for path in sorted(EXAMPLES.glob("*.yaml"))}
    beside_data = {
        f"{path.parent.name}/{path.name.removesuffix('.mapping.yaml')}": path.read_text(encoding="utf-8")
        for path in sorted(EXAMPLE_DATA.glob("*/*.mapping.yaml"))
    }
    return {"blank events mapping": BLANK_MAPPING, **shipped, **beside_data}


@dataclass(frozen=True)
class MapCheck:
    """A map file as the page previews it: what importing it adds, changes and removes, or why it cannot."""

    changes: list[MapChange] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def check_map_upload(engine: Engine, *, name: str, text: str) -> MapCheck:
    """What importing the uploaded map would do; nothing is written."""
    try:
        with session_scope(engine) as session:
            return MapCheck(changes=map_changes(session, text, source=name))
    except MapFileError as error:
        return MapCheck(errors=error.details.splitlines())


def import_map_upload(engine: Engine, *, name: str, text: str, written_by: str) -> MapImportSummary:
    """Import the uploaded map in one transaction, logged as `written_by`'s; raises `MapFileError` (writing
    nothing) when it cannot. The app calls it through `cache.import_map_file`, which checks the editor."""
    with session_scope(engine) as session:
        return import_map(session, text, source=name, written_by=written_by)


def changes_table(changes: list[MapChange]) -> pl.DataFrame:
    """The map preview as a table: change (added, changed, removed), kind of item, item (its slugs)."""
    return pl.DataFrame(
        {"change": [c.change for c in changes], "kind": [c.kind for c in changes], "item": [c.item for c in changes]},
        schema={"change": pl.String, "kind": pl.String, "item": pl.String},
    )


def missing_journey(engine: Engine, mapping_text: str) -> str | None:
    """The journey a mapping fixes when the map does not hold it yet (its map must be imported first)."""
    try:
        mapping = parse_mapping(mapping_text, source="mapping")
    except MappingError:
        return None
    wanted = mapping.fixed.get("journey")
    with session_scope(engine) as session:
        stored = journey_slugs(session)
    return wanted if wanted is not None and wanted.lower() not in stored else None


def tables_wanted(mapping_text: str) -> dict[str, str]:
    """The other files a mapping's query reads, table name -> file name (none when it does not parse)."""
    try:
        mapping = parse_mapping(mapping_text, source="mapping")
    except MappingError:
        return {}
    return {table: Path(file).name for table, file in mapping.tables.items()}


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its name as the person's computer gave it, and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class UploadMatch:
    """Uploads matched to what a mapping reads: the file to import (the table `source`) and, for a mapping
    with `tables:`, each table's file, matched by file name. `missing` names what is still to be uploaded
    ("payments.csv (table payments)"); `errors` says why the uploads cannot be told apart."""

    source: Upload | None = None
    tables: dict[str, Upload] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.source is not None and not self.missing and not self.errors


def match_uploads(mapping: Mapping, uploads: list[Upload]) -> UploadMatch:
    """Which upload is the file to import and which is each table the mapping names (pure).

    A table's upload is the one whose file name (case aside) is the name `tables:` gives it, whatever folder
    the mapping puts it in; the one upload left is the file to import. The same file uploaded twice counts
    once; two different files of one name, or more than one upload left over, cannot be told apart and are
    reported, as is every table not uploaded yet.
    """
    by_name: dict[str, Upload] = {}
    errors: list[str] = []
    for upload in uploads:
        key = Path(upload.name).name.lower()
        if key in by_name and by_name[key].data != upload.data:
            errors.append(f"two different files are named '{upload.name}': remove the one not meant")
        by_name[key] = upload
    tables: dict[str, Upload] = {}
    missing: list[str] = []
    for table, file in mapping.tables.items():
        wanted = Path(file).name
        if (found := by_name.pop(wanted.lower(), None)) is not None:
            tables[table] = found
        else:
            missing.append(f"{wanted} (table {table})")
    left = list(by_name.values())
    if len(left) > 1:
        names = ", ".join(f"'{u.name}'" for u in left)
        if mapping.tables:
            wanted = ", ".join(Path(f).name for f in mapping.tables.values())
            errors.append(
                f"{names} are not tables of the mapping ({wanted}): upload one file to import and its tables only"
            )
        else:
            errors.append(f"{names}: this mapping reads one file; upload one at a time")
        return UploadMatch(None, tables, missing, errors)
    source = left[0] if left else None
    if source is None:
        missing.insert(0, "the file to import" + (" (the table `source` of the query)" if mapping.tables else ""))
    return UploadMatch(source, tables, missing, errors)


@dataclass(frozen=True)
class UploadCheck:
    """What the page shows before the import: mapping errors, uploads still missing or not told apart, or
    the preview and its problems."""

    mapping_errors: list[str] = field(default_factory=list)
    uploads: UploadMatch = field(default_factory=UploadMatch)
    preview: ImportPreview | None = None

    @property
    def importable(self) -> bool:
        return not self.mapping_errors and self.preview is not None and not self.preview.problems


def problems_table(problems: list[Problem]) -> pl.DataFrame:
    """Problems as a table: check, column, count, first rows (1-based data rows), examples, message."""
    return pl.DataFrame(
        {
            "check": [p.check for p in problems],
            "column": [p.column or "" for p in problems],
            # a problem with the whole file (a missing column) affects no row in particular
            "rows affected": [f"{p.count:,}" if p.count else "whole file" for p in problems],
            "first rows": [", ".join(str(r) for r in p.rows) for p in problems],
            "examples": [", ".join(p.examples) for p in problems],
            "message": [p.message for p in problems],
        },
        schema={
            "check": pl.String,
            "column": pl.String,
            "rows affected": pl.String,
            "first rows": pl.String,
            "examples": pl.String,
            "message": pl.String,
        },
    )


# the preview's columns as a person checks a mapping: the map's names, not the database's ids
PREVIEW_COLUMNS = {
    "row": "row",
    "customer_id": "customer",
    "occurred_at": "time",
    "journey": "journey",
    "stage": "stage",
    "channel": "channel",
    "touchpoint": "touchpoint",
    "step": "step",
    "persona": "persona",
    "event_type": "event type",
    "measure": "measure",
    "score": "score",
    "value": "value",
    "comment": "comment",
}


def preview_table(rows: pl.DataFrame) -> pl.DataFrame:
    """The first rows as they will be stored, with each journey, stage, channel, touchpoint, step and
    persona by its name on the map; the ids they resolve to are the database's business."""
    present = [name for name in PREVIEW_COLUMNS if name in rows.columns]
    return rows.select(pl.col(name).alias(PREVIEW_COLUMNS[name]) for name in present)


def _safe_name(name: str) -> str:
    """An uploaded file's name as a file in the scratch folder: no folder of the person's, never `..`."""
    base = Path(name).name
    return base if base not in ("", ".", "..") else "upload"


@contextmanager
def _saved(match: UploadMatch, mapping: Mapping) -> Iterator[tuple[Path, Mapping]]:
    """The matched uploads written side by side in a scratch folder, and the mapping reading its tables
    there (by the uploaded names), for as long as the import or the preview runs."""
    assert match.source is not None
    with work_folder(UPLOAD_PREFIX) as folder:
        source = folder / _safe_name(match.source.name)
        source.write_bytes(match.source.data)
        for upload in match.tables.values():
            (folder / _safe_name(upload.name)).write_bytes(upload.data)
        tables = {table: _safe_name(upload.name) for table, upload in match.tables.items()}
        yield source, mapping.model_copy(update={"tables": tables}) if tables else mapping


def check_upload(engine: Engine, *, uploads: list[Upload], mapping_text: str, rows: int = 20) -> UploadCheck:
    """Validate the mapping, match the uploads to the files it reads, then run every check of the import
    over them without writing."""
    try:
        mapping = parse_mapping(mapping_text, source="mapping")
    except MappingError as error:
        return UploadCheck(mapping_errors=error.messages)
    match = match_uploads(mapping, uploads)
    if not match.complete:
        return UploadCheck(uploads=match)
    with _saved(match, mapping) as (path, readable):
        return UploadCheck(uploads=match, preview=preview(engine, path=path, mapping=readable, rows=rows))


def import_upload(
    engine: Engine,
    *,
    uploads: list[Upload],
    mapping: Mapping,
    written_by: str = DIRECT_WRITER,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import the uploaded file (with the tables its mapping reads) in one transaction, logged as
    `written_by`'s; raises `ImportValidationError` and writes nothing when a problem is found, or when the
    uploads do not match the mapping (a problem per file missing or not told apart). The app calls it through
    `cache.import_facts_file`, which checks the editor.

    The report names the file as uploaded, not the temporary copy the importer read.
    """
    match = match_uploads(mapping, uploads)
    if not match.complete:
        problems = [Problem("files", f"not uploaded yet: {missing}", "upload") for missing in match.missing]
        raise ImportValidationError(problems + [Problem("files", error, "upload") for error in match.errors])
    importer = import_events if mapping.kind == FactKind.EVENTS else import_feedback
    with _saved(match, mapping) as (path, readable):
        report = importer(engine, path=path, mapping=readable, progress=progress, written_by=written_by)
    return dataclasses.replace(report, file=path.name)


__all__ = [
    "ImportValidationError",
    "MapCheck",
    "MapFileError",
    "Upload",
    "UploadCheck",
    "UploadMatch",
    "changes_table",
    "check_map_upload",
    "check_upload",
    "example_mappings",
    "import_map_upload",
    "import_upload",
    "match_uploads",
    "missing_journey",
    "preview_table",
    "problems_table",
    "tables_wanted",
]

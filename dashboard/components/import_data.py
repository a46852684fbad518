"""The Import page's logic, free of Streamlit: an uploaded file and a mapping text in, a preview or an import out."""

from __future__ import annotations

import dataclasses
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

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mappings"
# mappings kept beside their example data; those reading other files (`tables:`) need the command line
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
        if "tables:" not in path.read_text(encoding="utf-8")
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


@dataclass(frozen=True)
class UploadCheck:
    """What the page shows before the import: mapping errors, or the preview and its problems."""

    mapping_errors: list[str] = field(default_factory=list)
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


def _saved(directory: Path, name: str, data: bytes) -> Path:
    path = directory / Path(name).name
    path.write_bytes(data)
    return path


def check_upload(engine: Engine, *, name: str, data: bytes, mapping_text: str, rows: int = 20) -> UploadCheck:
    """Validate the mapping, then run every check of the import over the file without writing."""
    try:
        mapping = parse_mapping(mapping_text, source="mapping")
    except MappingError as error:
        return UploadCheck(mapping_errors=error.messages)
    with work_folder(UPLOAD_PREFIX) as directory:
        return UploadCheck(preview=preview(engine, path=_saved(directory, name, data), mapping=mapping, rows=rows))


def import_upload(
    engine: Engine,
    *,
    name: str,
    data: bytes,
    mapping: Mapping,
    written_by: str,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import the uploaded file, logged as `written_by`'s; raises `ImportValidationError` and writes nothing when
    a problem is found. The app calls it through `cache.import_facts_file`, which checks the editor.

    The report names the file as uploaded, not the temporary copy the importer read.
    """
    importer = import_events if mapping.kind == FactKind.EVENTS else import_feedback
    with work_folder(UPLOAD_PREFIX) as directory:
        path = _saved(directory, name, data)
        report = importer(engine, path=path, mapping=mapping, progress=progress, written_by=written_by)
    return dataclasses.replace(report, file=path.name)


__all__ = [
    "ImportValidationError",
    "MapCheck",
    "MapFileError",
    "UploadCheck",
    "changes_table",
    "check_map_upload",
    "check_upload",
    "example_mappings",
    "import_map_upload",
    "import_upload",
    "missing_journey",
    "preview_table",
    "problems_table",
]

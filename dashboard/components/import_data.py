"""The Import page's logic, free of Streamlit: an uploaded file and a mapping text in, a preview or an import out."""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import Engine

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

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mappings"
BLANK_MAPPING = """kind: events
fixed: {journey: my-journey}
columns: {customer: customer, timestamp: timestamp, stage: stage, channel: channel}
"""


def example_mappings() -> dict[str, str]:
    """Mapping texts to start from: a blank one and the shipped examples, by name."""
    shipped = {path.stem: path.read_text(encoding="utf-8") for path in sorted(EXAMPLES.glob("*.yaml"))}
    return {"blank events mapping": BLANK_MAPPING, **shipped}


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


def _saved(directory: str, name: str, data: bytes) -> Path:
    path = Path(directory) / Path(name).name
    path.write_bytes(data)
    return path


def check_upload(engine: Engine, *, name: str, data: bytes, mapping_text: str, rows: int = 20) -> UploadCheck:
    """Validate the mapping, then run every check of the import over the file without writing."""
    try:
        mapping = parse_mapping(mapping_text, source="mapping")
    except MappingError as error:
        return UploadCheck(mapping_errors=error.messages)
    with tempfile.TemporaryDirectory(prefix="atlas-upload-") as directory:
        return UploadCheck(preview=preview(engine, path=_saved(directory, name, data), mapping=mapping, rows=rows))


def import_upload(
    engine: Engine,
    *,
    name: str,
    data: bytes,
    mapping: Mapping,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import the uploaded file; raises `ImportValidationError` and writes nothing when a problem is found.

    The report names the file as uploaded, not the temporary copy the importer read.
    """
    importer = import_events if mapping.kind == FactKind.EVENTS else import_feedback
    with tempfile.TemporaryDirectory(prefix="atlas-upload-") as directory:
        path = _saved(directory, name, data)
        report = importer(engine, path=path, mapping=mapping, progress=progress)
    return dataclasses.replace(report, file=path.name)


__all__ = [
    "ImportValidationError",
    "UploadCheck",
    "check_upload",
    "example_mappings",
    "import_upload",
    "preview_table",
    "problems_table",
]

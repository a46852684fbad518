"""Import events and feedback from CSV or Parquet exports, through a mapping, into facts and rollups.

The file is read in bounded batches (pyarrow's streaming CSV and Parquet readers), and each batch goes
through one lazy polars pipeline (reshape, value maps, slug look-ups, parsing, checks). Clean rows go to
a staging table; when the whole file has passed every check, rows already stored are dropped from
staging, the new facts are folded into the rollups (from tallies kept as the batches passed, or in SQL)
and one `INSERT … SELECT` moves them into the fact table, all in one transaction. On PostgreSQL a
first import into an empty fact table skips staging and COPYs straight into it, under a savepoint.
Any problem anywhere raises `ImportValidationError` listing every problem found, and nothing is written.

Row numbers in problems are 1-based data rows: row 1 is the first row below the header (in a
spreadsheet that shows the header on line 1, data row N is on line N + 1).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import polars_hash as plh
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    distinct,
    exists,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql.expression import Exists

from data_access.bulk import append_rows, bulk_load, larger_sqlite_cache, sqlite_text_times
from data_access.mapping import (
    FactKind,
    Mapping,
    MappingError,
    load_mapping,
    parse_fixed_timestamp,
)
from data_access.metrics import SCALES
from data_access.models import (
    Base,
    Channel,
    EntryRollup,
    Event,
    EventRollup,
    Feedback,
    Journey,
    Measure,
    Persona,
    Stage,
    StageEntry,
    Step,
    Touchpoint,
)
from data_access.rollups import (
    ENTRY_COLUMNS,
    ENTRY_KEYS,
    ENTRY_SUMS,
    EVENT_KEYS,
    EVENT_SUMS,
    add_event_tallies,
    add_first_import_tallies,
    add_to_rollups,
    journeys_have_entries,
    refresh_rollups,
)

BATCH_ROWS = 200_000
POSTGRES_WORK_MEM = "256MB"
# an import at least this share of the facts already stored rebuilds the fact indexes once instead of row by row
BULK_SHARE = 0.25
EXAMPLES = 5
ROW = "__row"
WIDE_COLUMN = "__wide_column"
WIDE_VALUE = "__wide_value"
NOT_APPLICABLE = "__not_applicable"
DEFAULT_EVENT_TYPE = "visit"
# first-entry tallies kept in memory (44 bytes a row: about 22 MB) before they are compacted, and spilled
# to files in buckets by customer when more than three quarters of them remain distinct; each
# bucket is merged on its own at the end, so memory stays bounded as files grow
ENTRY_TALLY_ROWS = 500_000
ENTRY_BUCKETS = 32
# tried in turn on the text with its date-time separator made a space (see _parse_timestamp)
ISO_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%d")
ISO_ZONED_FORMATS = ("%Y-%m-%d %H:%M:%S%.f%#z",)

EVENT_COLUMNS = (
    "customer_id",
    "occurred_at",
    "journey_id",
    "stage_id",
    "channel_id",
    "step_id",
    "persona_id",
    "event_type",
    "value",
)
FEEDBACK_COLUMNS = (
    "customer_id",
    "occurred_at",
    "journey_id",
    "stage_id",
    "channel_id",
    "touchpoint_id",
    "step_id",
    "persona_id",
    "measure",
    "score",
    "comment",
)
STORED_COLUMNS: dict[FactKind, tuple[str, ...]] = {FactKind.EVENTS: EVENT_COLUMNS, FactKind.FEEDBACK: FEEDBACK_COLUMNS}
FACT_TABLES: dict[FactKind, Table] = {
    FactKind.EVENTS: Event.__table__,  # type: ignore[dict-item]
    FactKind.FEEDBACK: Feedback.__table__,  # type: ignore[dict-item]
}
# Longest text each column takes (models.py); longer values are problems, not database errors mid-import.
TEXT_LIMITS = {"customer": 120, "event_type": 80}

Target = Engine | Connection | Session
ProgressCallback = Callable[["Progress"], object]


# --- what an import reports -----------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One kind of mistake in one column of a file, with how often it occurs and where first."""

    check: str
    message: str
    file: str
    column: str | None = None
    count: int = 0
    rows: tuple[int, ...] = ()
    examples: tuple[str, ...] = ()

    def describe(self) -> str:
        where = f"{self.file}"
        if self.column is not None:
            where += f", column {self.column!r}"
        text = f"{where}: {self.check}: {self.message}"
        if self.count:
            text += f" ({self.count} row{'s' if self.count != 1 else ''}"
            if self.rows:
                text += "; rows " + ", ".join(str(r) for r in self.rows)
            text += ")"
        if self.examples:
            text += "; e.g. " + ", ".join(repr(e) for e in self.examples)
        return text


class ImportValidationError(Exception):
    """The file did not pass the checks; nothing was written. `problems` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(problem.describe() for problem in problems))


@dataclass(frozen=True)
class Progress:
    """How far an import is: source rows done out of the total (None when the total is unknown)."""

    rows_done: int
    rows_total: int | None

    @property
    def fraction(self) -> float | None:
        if not self.rows_total:
            return None
        return min(1.0, self.rows_done / self.rows_total)


@dataclass(frozen=True)
class ImportReport:
    file: str
    kind: FactKind
    rows_read: int  # data rows in the file
    facts: int  # facts the rows became (more than rows for wide files)
    not_applicable: int  # facts dropped because a value meant "not applicable"
    inserted: int
    already_present: int  # facts with a source_key already in the database: skipped
    journeys: tuple[str, ...]
    seconds: float

    def describe(self) -> str:
        return (
            f"{self.file}: {self.rows_read} rows → {self.facts} {self.kind} "
            f"({self.not_applicable} not applicable dropped); {self.inserted} inserted, "
            f"{self.already_present} already present; rollups updated for {', '.join(self.journeys) or 'none'} "
            f"in {self.seconds:.1f} s"
        )


@dataclass(frozen=True)
class ImportPreview:
    """The first rows exactly as they would be stored (ids and the slugs they stand for), and every problem."""

    rows: pl.DataFrame
    problems: list[Problem]
    rows_read: int
    facts: int
    not_applicable: int
    new: int
    already_present: int


# --- public entry points --------------------------------------------------------------------------


def import_events(
    target: Target,
    *,
    path: str | Path,
    mapping: Mapping | str | Path,
    progress: ProgressCallback | None = None,
    batch_rows: int = BATCH_ROWS,
) -> ImportReport:
    """Import an events file; raises `ImportValidationError` (writing nothing) when any problem is found."""
    return _import(target, FactKind.EVENTS, path=Path(path), mapping=mapping, progress=progress, batch_rows=batch_rows)


def import_feedback(
    target: Target,
    *,
    path: str | Path,
    mapping: Mapping | str | Path,
    progress: ProgressCallback | None = None,
    batch_rows: int = BATCH_ROWS,
) -> ImportReport:
    """Import a feedback file; raises `ImportValidationError` (writing nothing) when any problem is found."""
    return _import(
        target, FactKind.FEEDBACK, path=Path(path), mapping=mapping, progress=progress, batch_rows=batch_rows
    )


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
    run = _ImportRun(Path(path), resolved, progress=progress, batch_rows=batch_rows, preview_rows=rows)
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
    )


def refresh(target: Target, *, journey_ids: list[int] | None = None) -> None:
    """Rebuild rollups from the facts, e.g. after facts were loaded by other means than this importer."""
    with _transaction(target, commit=True) as (connection, _after):
        refresh_rollups(connection, journey_ids=journey_ids)


def _import(
    target: Target,
    kind: FactKind,
    *,
    path: Path,
    mapping: Mapping | str | Path,
    progress: ProgressCallback | None,
    batch_rows: int,
) -> ImportReport:
    started = time.perf_counter()
    resolved = _resolve_mapping(mapping, kind)
    run = _ImportRun(path, resolved, progress=progress, batch_rows=batch_rows)
    with _transaction(target, commit=True) as (connection, after):
        try:
            run.execute(connection, write=True, after=after)
        except _DirectLoadRefused:
            # the file repeats a fact: read it once more through staging, which names the repeated rows
            run = _ImportRun(path, resolved, progress=progress, batch_rows=batch_rows, direct=False)
            run.execute(connection, write=True, after=after)
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


# --- reading the file -----------------------------------------------------------------------------


@dataclass
class _Source:
    """A file's columns and a reader of its rows in bounded batches, each with its 1-based data row number.

    Batches come from pyarrow's streaming readers: each is read when asked for, so memory stays flat
    (polars' `collect_batches` reads ahead of a slow consumer, here the database, without bound).
    """

    schema: pl.Schema
    rows_total: int | None
    read: Callable[[int], Iterator[pl.DataFrame]] = lambda _rows: iter(())
    problems: list[Problem] = field(default_factory=list)


def _numbered(batches: Iterator[pa.RecordBatch]) -> Iterator[pl.DataFrame]:
    first = 1
    for record_batch in batches:
        frame = pl.DataFrame(pl.from_arrow(record_batch)).with_row_index(ROW, offset=first)
        first += frame.height
        yield frame


def _parquet_batches(path: Path) -> Callable[[int], Iterator[pl.DataFrame]]:
    def read(rows: int) -> Iterator[pl.DataFrame]:
        with pq.ParquetFile(path) as parquet:
            yield from _numbered(parquet.iter_batches(batch_size=rows))

    return read


def _csv_batches(path: Path, delimiter: str, names: list[str]) -> Callable[[int], Iterator[pl.DataFrame]]:
    """Every column as text (values are parsed by the mapping's rules, with errors reported per row)."""

    def read(rows: int) -> Iterator[pl.DataFrame]:
        reader = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(block_size=max(1 << 20, rows * 64)),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in names}, strings_can_be_null=True, null_values=[""]
            ),
        )
        with reader:
            yield from _numbered(_until_end(reader))

    return read


def _until_end(reader: pa_csv.CSVStreamingReader) -> Iterator[pa.RecordBatch]:
    while True:
        try:
            yield reader.read_next_batch()
        except StopIteration:
            return


def _decode_lines(piece: bytes, encoding: str, first_line: int, bad_rows: list[int]) -> str:
    """Decode a block of whole lines, noting the data rows (line − 1) whose bytes are not in `encoding`."""
    try:
        return piece.decode(encoding)
    except UnicodeDecodeError:
        lines = piece.split(b"\n")
        decoded = []
        for offset, line in enumerate(lines):
            try:
                decoded.append(line.decode(encoding))
            except UnicodeDecodeError:
                bad_rows.append(first_line + offset - 1)
                decoded.append(line.decode(encoding, errors="replace"))
        return "\n".join(decoded)


def _check_text(path: Path, encoding: str, workdir: Path) -> tuple[Path, int, list[int]]:
    """Check that a text file decodes; return the UTF-8 file to read, its line count and the bad data rows.

    Files in another encoding (the mapping's `encoding`) or with a byte-order mark are transcoded to UTF-8
    on the way, one block at a time, so memory stays flat.
    """
    codec = codecs.lookup(encoding).name
    with path.open("rb") as probe:
        has_bom = probe.read(3) == codecs.BOM_UTF8
    if codec == "utf-8" and has_bom:
        codec = "utf-8-sig"
    transcode = codec != "utf-8"
    bad_rows: list[int] = []
    lines = 0
    remainder = b""
    with ExitStack() as stack:
        source = stack.enter_context(path.open("rb"))
        sink = stack.enter_context((workdir / "utf8.csv").open("wb")) if transcode else None
        decoder_codec = "utf-8" if codec == "utf-8-sig" else codec
        first_block = True
        while True:
            block = source.read(1 << 22)
            data = remainder + block
            if first_block and codec == "utf-8-sig":
                data = data.removeprefix(codecs.BOM_UTF8)
            first_block = False
            cut = len(data) if not block else data.rfind(b"\n") + 1
            piece, remainder = data[:cut], data[cut:]
            if piece:
                text = _decode_lines(piece, decoder_codec, lines + 1, bad_rows)
                if sink is not None:
                    sink.write(text.encode("utf-8"))
                lines += piece.count(b"\n") + (0 if piece.endswith(b"\n") else 1)
            if not block:
                break
    return (workdir / "utf8.csv" if transcode else path), lines, bad_rows


def _open_source(path: Path, mapping: Mapping, workdir: Path) -> _Source:
    name = str(path)
    empty = pl.Schema()
    if not path.is_file():
        return _Source(empty, 0, problems=[Problem("unreadable file", "the file does not exist", name)])
    if mapping.file_format(path) == "parquet":
        try:
            schema = pl.read_parquet_schema(path)
            with pq.ParquetFile(path) as parquet:
                total = parquet.metadata.num_rows
        except (pl.exceptions.PolarsError, pa.ArrowException, OSError) as error:
            problem = Problem("unreadable file", f"not a readable Parquet file: {_first_line(error)}", name)
            return _Source(empty, 0, problems=[problem])
        return _Source(pl.Schema(schema), total, _parquet_batches(path))
    try:
        readable, lines, bad_rows = _check_text(path, mapping.encoding, workdir)
    except (LookupError, OSError) as error:
        return _Source(empty, 0, problems=[Problem("unreadable file", str(error), name)])
    if bad_rows:
        problem = Problem(
            "encoding",
            f"bytes that are not valid {mapping.encoding}: re-save the file as UTF-8 or set `encoding:` in the "
            "mapping (for example latin-1 or cp1252)",
            name,
            count=len(bad_rows),
            rows=tuple(bad_rows[:EXAMPLES]),
        )
        return _Source(empty, max(lines - 1, 0), problems=[problem])
    if lines == 0:
        problem = Problem("empty file", "the file is empty: expected a header and data rows", name)
        return _Source(empty, 0, problems=[problem])
    with readable.open(encoding="utf-8", newline="") as text:
        names = next(csv.reader(text, delimiter=mapping.delimiter), [])
    schema = pl.Schema(dict.fromkeys(names, pl.String()))
    return _Source(schema, max(lines - 1, 0), _csv_batches(readable, mapping.delimiter, names))


# --- the map the file refers to -------------------------------------------------------------------


@dataclass(frozen=True)
class _Lookups:
    """The map's slugs and ids as small frames to join against; keys are lower-case slugs."""

    journeys: pl.LazyFrame
    stages: pl.LazyFrame
    channels: pl.LazyFrame
    personas: pl.LazyFrame
    steps: pl.LazyFrame
    touchpoints: pl.LazyFrame
    touchpoints_in_journey: pl.LazyFrame  # only slugs that are unique within their journey
    stage_slugs: tuple[str, ...]
    channel_slugs: tuple[str, ...]

    @classmethod
    def load(cls, connection: Connection) -> _Lookups:
        def frame(query: object, schema: dict[str, type[pl.DataType]]) -> pl.DataFrame:
            rows = [tuple(row) for row in connection.execute(query)]  # type: ignore[call-overload]
            return pl.DataFrame(rows, schema=schema, orient="row")

        journeys = frame(select(Journey.slug, Journey.id), {"journey_key": pl.String, "journey_id": pl.Int64})
        stages = frame(
            select(Stage.journey_id, Stage.slug, Stage.id),
            {"journey_id": pl.Int64, "stage_key": pl.String, "stage_id": pl.Int64},
        )
        touchpoints = frame(
            select(Stage.journey_id, Touchpoint.stage_id, Touchpoint.slug, Touchpoint.id, Touchpoint.channel_id).join(
                Stage, Stage.id == Touchpoint.stage_id
            ),
            {
                "journey_id": pl.Int64,
                "stage_id": pl.Int64,
                "touchpoint_key": pl.String,
                "touchpoint_id": pl.Int64,
                "touchpoint_channel_id": pl.Int64,
            },
        ).with_columns(pl.col("touchpoint_key").str.to_lowercase())
        channels = frame(select(Channel.slug, Channel.id), {"channel_key": pl.String, "channel_id": pl.Int64})
        return cls(
            journeys=journeys.with_columns(pl.col("journey_key").str.to_lowercase()).lazy(),
            stages=stages.with_columns(pl.col("stage_key").str.to_lowercase()).lazy(),
            channels=channels.with_columns(pl.col("channel_key").str.to_lowercase()).lazy(),
            personas=frame(select(Persona.slug, Persona.id), {"persona_key": pl.String, "persona_id": pl.Int64})
            .with_columns(pl.col("persona_key").str.to_lowercase())
            .lazy(),
            steps=frame(
                select(Step.stage_id, Step.slug, Step.id),
                {"stage_id": pl.Int64, "step_key": pl.String, "step_id": pl.Int64},
            )
            .with_columns(pl.col("step_key").str.to_lowercase())
            .lazy(),
            touchpoints=touchpoints.select(
                "stage_id", "touchpoint_key", "touchpoint_id", "touchpoint_channel_id"
            ).lazy(),
            touchpoints_in_journey=(
                touchpoints.filter(pl.len().over("journey_id", "touchpoint_key") == 1)
                .select(
                    "journey_id",
                    "touchpoint_key",
                    pl.col("stage_id").alias("touchpoint_stage_id"),
                    pl.col("touchpoint_id").alias("journey_touchpoint_id"),
                    pl.col("touchpoint_channel_id").alias("journey_touchpoint_channel_id"),
                )
                .lazy()
            ),
            stage_slugs=tuple(sorted(set(stages["stage_key"].to_list()))),
            channel_slugs=tuple(sorted(set(channels["channel_key"].to_list()))),
        )


# --- the mapping as polars expressions ------------------------------------------------------------


def _raw(name: str) -> str:
    return f"__raw_{name}"


def _src(name: str) -> str:
    return f"__src_{name}"


def _label(name: str) -> str:
    return f"__label_{name}"


def _parse_timestamp(text: pl.Expr, timestamp_format: str | None) -> pl.Expr:
    """Text to a naive UTC datetime: the mapping's strftime format, or any common ISO 8601 form."""
    if timestamp_format is not None:
        if "%z" in timestamp_format or "%#z" in timestamp_format or "%:z" in timestamp_format:
            parsed = text.str.to_datetime(timestamp_format, strict=False, time_zone="UTC", time_unit="us")
            return parsed.dt.replace_time_zone(None)
        return text.str.to_datetime(timestamp_format, strict=False, time_unit="us")
    # ISO 8601 allows "T" or a space between date and time: one separator halves the forms to try
    spaced = text.str.replace("T", " ", literal=True, n=1)
    naive: list[pl.Expr] = [spaced.str.to_datetime(f, strict=False, time_unit="us") for f in ISO_FORMATS]
    zoned: list[pl.Expr] = [
        spaced.str.to_datetime(f, strict=False, time_zone="UTC", time_unit="us").dt.replace_time_zone(None)
        for f in ISO_ZONED_FORMATS
    ]
    return pl.coalesce(*naive, *zoned)


def _in_scale() -> pl.Expr:
    """Whether each answer's score lies on its measure's scale (metrics.SCALES)."""
    expr = pl.lit(False)
    for measure, scale in SCALES.items():
        expr = (
            pl.when(pl.col("measure") == measure.value)
            .then(pl.col("score").is_between(scale.low, scale.high))
            .otherwise(expr)
        )
    return expr


def _shown(name: str) -> pl.Expr:
    """The value to quote in a problem: the source value, and what the value map made of it when that differs."""
    source, mapped = pl.col(_src(name)), pl.col(_raw(name))
    return (
        pl.when(source.is_null())
        .then(pl.lit("(empty)"))
        .when(source != mapped)
        .then(pl.format("{} → {}", source, mapped))
        .otherwise(source)
    )


@dataclass(frozen=True)
class _Check:
    check: str
    message: str
    column: str  # the field whose label column names the source column
    condition: pl.Expr
    shown: pl.Expr


class _Pipeline:
    """Builds the lazy chain from a scanned source to mapped, looked-up, checked rows."""

    def __init__(self, mapping: Mapping, lookups: _Lookups, schema: pl.Schema) -> None:
        self.mapping = mapping
        self.lookups = lookups
        self.schema = schema
        self.kind = mapping.kind

    # reshape ------------------------------------------------------------------------------------

    def _wide_columns(self) -> list[str]:
        if self.mapping.stage_columns:
            return list(self.mapping.stage_columns)
        return [question.column for question in self.mapping.questions]

    def reshape(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """One row per cell of the wide columns (blank cells are a stage not reached, a question not answered)."""
        wide = self._wide_columns()
        if not wide:
            return frame
        index = [ROW, *(c for c in self.mapping.source_columns() if c not in wide)]
        return (
            frame.with_columns(pl.col(wide).cast(pl.String))
            .unpivot(on=wide, index=index, variable_name=WIDE_COLUMN, value_name=WIDE_VALUE)
            .filter(pl.col(WIDE_VALUE).is_not_null() & (pl.col(WIDE_VALUE).str.strip_chars() != ""))
        )

    # raw field text -----------------------------------------------------------------------------

    def _question_attribute(self, attribute: str) -> pl.Expr | None:
        values = {q.column: getattr(q, attribute) for q in self.mapping.questions if getattr(q, attribute) is not None}
        if not values:
            return None
        return pl.col(WIDE_COLUMN).replace_strict(
            {column: str(value) for column, value in values.items()}, default=None, return_dtype=pl.String
        )

    def _column_text(self, column: str) -> pl.Expr:
        dtype = self.schema.get(column)
        if dtype is not None and dtype.is_temporal():
            return pl.col(column).cast(pl.Datetime("us")).dt.strftime("%Y-%m-%dT%H:%M:%S%.f")
        return pl.col(column).cast(pl.String).str.strip_chars()

    def source_text(self, name: str) -> tuple[pl.Expr, pl.Expr]:
        """The field's text before value maps, and the label of the column it came from."""
        mapping = self.mapping
        generic: pl.Expr = pl.lit(None, dtype=pl.String)
        label: pl.Expr = pl.lit(name)
        if name in mapping.fixed:
            generic, label = pl.lit(mapping.fixed[name]), pl.lit(f"{name} (fixed)")
        elif name in mapping.columns:
            generic, label = self._column_text(mapping.columns[name]), pl.lit(mapping.columns[name])
        if mapping.stage_columns and name == "stage":
            stages = {column: stage for column, stage in mapping.stage_columns.items()}
            return pl.col(WIDE_COLUMN).replace_strict(stages, return_dtype=pl.String), pl.col(WIDE_COLUMN)
        if mapping.stage_columns and name == "timestamp":
            return pl.col(WIDE_VALUE).str.strip_chars(), pl.col(WIDE_COLUMN)
        if mapping.questions and name == "score":
            return pl.col(WIDE_VALUE).str.strip_chars(), pl.col(WIDE_COLUMN)
        if mapping.questions and name in ("touchpoint", "stage", "channel", "measure"):
            from_question = self._question_attribute(name)
            if from_question is not None:
                return (
                    pl.coalesce(from_question, generic),
                    pl.when(from_question.is_not_null()).then(pl.col(WIDE_COLUMN)).otherwise(label),
                )
        return generic, label

    def _persona_rules(self, fallback: pl.Expr) -> pl.Expr:
        expr = fallback
        for rule in reversed(self.mapping.personas):
            matches = pl.all_horizontal(
                pl.lit(True), *(self._column_text(column).is_in(values) for column, values in rule.when.items())
            )
            expr = pl.when(matches).then(pl.lit(rule.persona)).otherwise(expr)
        return expr

    def _not_applicable(self, name: str, text: pl.Expr) -> pl.Expr:
        values = self.mapping.not_applicable.get(name, [])
        if not values:
            return pl.lit(False)
        numbers = []
        for value in values:
            try:
                numbers.append(float(value))
            except ValueError:
                continue
        expr = text.is_in(values).fill_null(False)
        if numbers and name in ("score", "value"):
            expr = expr | text.cast(pl.Float64, strict=False).is_in(numbers).fill_null(False)
        return expr

    def fields(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        names = [n for n in ("customer", "timestamp", "journey", "stage", "channel", "step", "persona",
                             "touchpoint", "event_type", "value", "measure", "score", "comment")
                 if n in self._field_names()]  # fmt: skip
        texts = {name: self.source_text(name) for name in names}
        if self.mapping.personas:
            texts["persona"] = (self._persona_rules(texts["persona"][0]), pl.lit("persona (rules)"))
        not_applicable = pl.any_horizontal(pl.lit(False), *(self._not_applicable(n, t) for n, (t, _) in texts.items()))
        frame = frame.with_columns(
            *(text.alias(_src(name)) for name, (text, _) in texts.items()),
            *(label.alias(_label(name)) for name, (_, label) in texts.items()),
            not_applicable.alias(NOT_APPLICABLE),
        )
        return frame.with_columns(
            pl.col(_src(name)).replace(self.mapping.values.get(name, {})).alias(_raw(name)) for name in names
        )

    def _field_names(self) -> tuple[str, ...]:
        from data_access.mapping import FIELDS

        return FIELDS[self.kind]

    # look-ups and parsing -----------------------------------------------------------------------

    def resolve(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        lookups = self.lookups
        key = {
            name: pl.col(_raw(name)).str.to_lowercase() for name in ("journey", "stage", "channel", "step", "persona")
        }
        frame = (
            frame.with_columns(
                key["journey"].alias("journey_key"),
                key["stage"].alias("stage_key"),
                key["channel"].alias("channel_key"),
                key["persona"].alias("persona_key"),
                key["step"].alias("step_key"),
            )
            .join(lookups.journeys, on="journey_key", how="left", maintain_order="left")
            .join(lookups.stages, on=["journey_id", "stage_key"], how="left", maintain_order="left")
            .join(lookups.channels, on="channel_key", how="left", maintain_order="left")
            .join(lookups.personas, on="persona_key", how="left", maintain_order="left")
        )
        if self.kind == FactKind.FEEDBACK:
            frame = (
                frame.with_columns(pl.col(_raw("touchpoint")).str.to_lowercase().alias("touchpoint_key"))
                .join(
                    lookups.touchpoints_in_journey,
                    on=["journey_id", "touchpoint_key"],
                    how="left",
                    maintain_order="left",
                )
                .with_columns(
                    pl.when(pl.col(_raw("stage")).is_null())
                    .then(pl.col("touchpoint_stage_id"))
                    .otherwise(pl.col("stage_id"))
                    .alias("stage_id")
                )
                .join(lookups.touchpoints, on=["stage_id", "touchpoint_key"], how="left", maintain_order="left")
                .with_columns(pl.coalesce("channel_id", "touchpoint_channel_id").alias("channel_id"))
            )
        frame = frame.join(lookups.steps, on=["stage_id", "step_key"], how="left", maintain_order="left")
        return frame.with_columns(*self._typed())

    def _typed(self) -> list[pl.Expr]:
        mapping = self.mapping
        if "timestamp" in mapping.fixed:
            occurred_at = pl.lit(parse_fixed_timestamp(mapping.fixed["timestamp"]), dtype=pl.Datetime("us"))
        elif (column := self._native_column("timestamp", (pl.Datetime, pl.Date))) is not None:
            occurred_at = pl.col(column)
            dtype = self.schema[column]
            if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
                occurred_at = occurred_at.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            occurred_at = occurred_at.cast(pl.Datetime("us"))
        else:
            occurred_at = _parse_timestamp(pl.col(_raw("timestamp")), mapping.timestamp_format)
        typed = [occurred_at.alias("occurred_at"), pl.col(_raw("customer")).alias("customer_id")]
        if self.kind == FactKind.EVENTS:
            typed += [
                pl.col(_raw("event_type")).fill_null(DEFAULT_EVENT_TYPE).alias("event_type"),
                self._number("value").alias("value"),
            ]
        else:
            typed += [
                pl.col(_raw("measure")).str.to_lowercase().alias("measure"),
                self._number("score").alias("score"),
                pl.col(_raw("comment")).alias("comment"),
            ]
        return typed

    def _number(self, name: str) -> pl.Expr:
        column = self._native_column(name, (pl.Float64, pl.Float32, pl.Int64, pl.Int32, pl.Int16, pl.Int8))
        if column is not None:
            return pl.col(column).cast(pl.Float64)
        return pl.col(_raw(name)).cast(pl.Float64, strict=False)

    def _native_column(self, name: str, dtypes: tuple[type[pl.DataType], ...]) -> str | None:
        """The source column of a field that is already typed (Parquet), taken as is: parsing its text is slow.

        Only a plain one-to-one column qualifies: no value map, no fixed value, no reshaping.
        """
        mapping = self.mapping
        column = mapping.columns.get(name)
        if column is None or name in mapping.values or mapping.stage_columns or mapping.questions:
            return None
        dtype = self.schema.get(column)
        return column if dtype is not None and isinstance(dtype, dtypes) else None

    # checks -------------------------------------------------------------------------------------

    def checks(self) -> list[_Check]:
        def raw(name: str) -> pl.Expr:
            return pl.col(_raw(name))

        def missing(name: str, what: str) -> _Check:
            return _Check("missing value", f"no {what}", name, raw(name).is_null(), _shown(name))

        def unknown(name: str, id_column: str, message: str) -> _Check:
            # a stage is only unknown within a known journey, a step or touchpoint within a known stage
            within = {"journey": None, "channel": None, "persona": None, "step": "stage_id"}.get(name, "journey_id")
            condition = raw(name).is_not_null() & pl.col(id_column).is_null()
            if within is not None:
                condition = condition & pl.col(within).is_not_null()
            return _Check(f"unknown {name}", message, name, condition, _shown(name))

        lookups = self.lookups
        checks = [
            missing("timestamp", "timestamp"),
            missing("journey", "journey"),
            unknown("journey", "journey_id", "not a journey slug of the map (after value maps)"),
            unknown(
                "stage",
                "stage_id",
                "not a stage slug of the journey (after value maps); known stages: "
                + ", ".join(lookups.stage_slugs[:20]),
            ),
            unknown(
                "channel",
                "channel_id",
                "not a channel slug of the map (after value maps); known channels: "
                + ", ".join(lookups.channel_slugs[:20]),
            ),
            unknown("persona", "persona_id", "not a persona slug of the map (after value maps)"),
            unknown("step", "step_id", "not a step slug of the row's stage (after value maps)"),
            _Check(
                "unparsable timestamp",
                f"not a date or time in {self.mapping.timestamp_format or 'ISO 8601 (YYYY-MM-DD[ HH:MM[:SS]])'}",
                "timestamp",
                raw("timestamp").is_not_null() & pl.col("occurred_at").is_null(),
                _shown("timestamp"),
            ),
            _Check(
                "value too long",
                f"customer ids are at most {TEXT_LIMITS['customer']} characters",
                "customer",
                raw("customer").str.len_chars() > TEXT_LIMITS["customer"],
                raw("customer").str.slice(0, 40),
            ),
        ]
        if self.kind == FactKind.EVENTS:
            checks += [
                missing("customer", "customer id"),
                missing("stage", "stage"),
                missing("channel", "channel"),
                _Check(
                    "not a number",
                    "event values must be numbers",
                    "value",
                    raw("value").is_not_null() & pl.col("value").is_null(),
                    _shown("value"),
                ),
                _Check(
                    "value too long",
                    f"event types are at most {TEXT_LIMITS['event_type']} characters",
                    "event_type",
                    raw("event_type").str.len_chars() > TEXT_LIMITS["event_type"],
                    raw("event_type").str.slice(0, 40),
                ),
            ]
        else:
            measures = [m.value for m in Measure]
            checks += [
                _Check(
                    "missing value",
                    "no stage and no touchpoint to take it from",
                    "stage",
                    raw("stage").is_null() & raw("touchpoint").is_null(),
                    _shown("stage"),
                ),
                unknown("touchpoint", "touchpoint_id", "not a touchpoint slug of the row's stage (after value maps)"),
                missing("measure", "measure"),
                _Check(
                    "unknown measure",
                    f"measures are {', '.join(measures)}",
                    "measure",
                    raw("measure").is_not_null() & ~pl.col("measure").is_in(measures),
                    _shown("measure"),
                ),
                missing("score", "score"),
                _Check(
                    "not a number",
                    "scores must be numbers (map labels to numbers under values: score:)",
                    "score",
                    raw("score").is_not_null() & pl.col("score").is_null(),
                    _shown("score"),
                ),
                _Check(
                    "score out of scale",
                    "outside its measure's scale ("
                    + "; ".join(f"{m.value} {s.low:g}..{s.high:g}" for m, s in SCALES.items())
                    + "); map 'not applicable' codes under not_applicable: score:",
                    "score",
                    pl.col("score").is_not_null() & pl.col("measure").is_in(measures) & ~_in_scale(),
                    pl.format("{} ({})", _shown("score"), pl.col("measure")),
                ),
            ]
        return checks

    def build(self, frame: pl.LazyFrame) -> tuple[pl.LazyFrame, list[_Check]]:
        checks = self.checks()
        applicable = ~pl.col(NOT_APPLICABLE)
        mapped = self.resolve(self.fields(self.reshape(frame)))
        flagged = mapped.with_columns(
            (applicable & check.condition.fill_null(False)).alias(f"__check_{i}") for i, check in enumerate(checks)
        )
        return flagged, checks


# --- identity of a fact ---------------------------------------------------------------------------


def _identity(kind: FactKind) -> pl.Expr:
    """The fields that make a fact the same fact again; anonymous feedback also counts its row."""
    parts = [pl.lit(kind.value), *(pl.col(c).cast(pl.String) for c in STORED_COLUMNS[kind])]
    if kind == FactKind.FEEDBACK:
        parts.append(pl.when(pl.col("customer_id").is_null()).then(pl.col(ROW).cast(pl.String)))
    return pl.concat_str([part.fill_null("") for part in parts], separator="\x1f")


def _source_keys(kind: FactKind, rows: pl.DataFrame) -> pl.Series:
    """A 128-bit hash of each row's identity, as 32 hex digits: what makes a re-import find the row again.

    The keys are stored, so they must not change between polars versions, which rules out `Expr.hash`.
    Events use BLAKE3 from polars-hash, vectorised (0.2 µs a row against 0.9 µs for hashlib in a Python
    loop: 7 s of a 10M-row import). Feedback keeps hashlib's BLAKE2b: an anonymous answer's identity
    includes its file row, which is not stored, so its stored keys could not be recomputed in a new form.
    """
    identity = _identity(kind)
    if kind == FactKind.EVENTS:
        return rows.select(_event_source_keys(identity).alias("source_key")).to_series()
    return pl.Series(
        "source_key",
        [hashlib.blake2b(text.encode(), digest_size=16).hexdigest() for text in rows.select(identity).to_series()],
        dtype=pl.String,
    )


def _event_source_keys(identity: pl.Expr) -> pl.Expr:
    """BLAKE3 of each identity, its first 128 bits in hex (migration 0006 re-keyed stored events to this)."""
    return plh.CryptographicHashingNameSpace(identity).blake3().str.slice(0, 32)


# --- staging in the database ----------------------------------------------------------------------


def _staging_columns(kind: FactKind) -> list[Column[Any]]:
    columns: list[Column[Any]] = [Column("row", Integer), Column("source_key", String(64))]
    columns += [Column(c.name, c.type) for c in FACT_TABLES[kind].columns if c.name in STORED_COLUMNS[kind]]
    return columns


class _Staging:
    """Where checked rows wait until the whole file has passed: tables readable on the import's connection.

    `table` holds the facts; `add_table` makes more (the tallies of `_EventTally`).
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


class _TempTableStaging(_Staging):
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


class _ScratchFileStaging(_Staging):
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


class _EventTally:
    """The staged events' daily rollup rows and first entries, tallied in polars as the batches pass.

    SQL's GROUP BY over millions of staged rows is what made big imports slow (SQLite sorts on disk);
    polars does the same per batch in milliseconds. The tallies are used when every staged event turns
    out to be new, the usual case; otherwise the rollups come from the new rows in SQL
    (`rollups.add_to_rollups`). Daily rows are few (days × stages × channels × steps × personas). First
    entries grow with customers: past ENTRY_TALLY_ROWS partial rows they are compacted, and when most
    stay distinct they are spilled to files in ENTRY_BUCKETS buckets by customer. A customer's
    entries all fall in one bucket, so each bucket is merged on its own at the end and memory stays
    bounded by a bucket, not by the file.
    """

    def __init__(self, staging: _Staging, workdir: Path) -> None:
        self.staging = staging
        self.days: pl.DataFrame | None = None
        self.entries: list[pl.DataFrame] = []
        self.entry_rows = 0
        self.spill_dir = workdir / "first-entries"
        self.spills = 0

    def add(self, rows: pl.DataFrame) -> None:
        days = rows.group_by(pl.col("occurred_at").dt.date().alias("day"), *EVENT_KEYS[1:]).agg(
            pl.len().alias("events"), pl.col("value").sum().alias("value_sum")
        )
        self.days = days if self.days is None else _sum_by(pl.concat([self.days, days]), EVENT_KEYS, EVENT_SUMS)
        by_stage = rows.with_columns(pl.lit(None, dtype=rows.schema["step_id"]).alias("step_id"))
        by_step = rows.filter(pl.col("step_id").is_not_null())
        for entries in (_first_entries(by_stage), _first_entries(by_step)):
            self.entries.append(entries)
            self.entry_rows += entries.height
        if self.entry_rows > ENTRY_TALLY_ROWS:
            pending = pl.concat(self.entries)
            if not self.spills:
                # compacting pays while customers repeat across batches; once it has not, spill at once
                pending = _first_entries(pending)
                if pending.height <= ENTRY_TALLY_ROWS * 3 // 4:
                    self.entries, self.entry_rows = [pending], pending.height
                    return
            self._spill(pending)
            self.entries, self.entry_rows = [], 0

    def _spill(self, entries: pl.DataFrame) -> None:
        self.spill_dir.mkdir(exist_ok=True)
        bucket = (pl.col("customer_id").hash() % ENTRY_BUCKETS).alias("bucket")
        for (number,), part in entries.with_columns(bucket).partition_by("bucket", as_dict=True).items():
            # Arrow IPC, uncompressed: these files live for one import, so the fastest to write and read back
            part.drop("bucket").write_ipc(
                self.spill_dir / f"{number:03d}-{self.spills:05d}.arrow", compression="uncompressed"
            )
        self.spills += 1

    def first_entries(self) -> Iterator[pl.DataFrame]:
        """Every new first entry once, in ENTRY_COLUMNS order: in one frame, or one per bucket when spilled."""
        remaining = pl.concat(self.entries) if self.entries else None
        self.entries, self.entry_rows = [], 0
        if not self.spills:
            if remaining is not None:
                yield _first_entries(remaining)
            return
        if remaining is not None:
            self._spill(remaining)
        for number in range(ENTRY_BUCKETS):
            parts = sorted(self.spill_dir.glob(f"{number:03d}-*.arrow"))
            if parts:
                yield _first_entries(pl.scan_ipc(parts).collect())

    def fold_in(self, connection: Connection, *, journey_ids: list[int], bulk: bool) -> None:
        """Merge the tallies into the rollups: only valid when every staged event was new.

        When the journeys have no first entries yet and staging writes on the import's own connection
        (PostgreSQL), the new entries are written straight into `stage_entries`, not copied there from
        staging (9.6 s for the 4M entries of 10M events).
        """
        day_table = self.staging.add_table("days", _tally_columns(EventRollup, EVENT_KEYS + EVENT_SUMS))
        if self.days is not None:
            self.staging.write(self.days, day_table)
        days = select(*(day_table.c[c] for c in EVENT_KEYS + EVENT_SUMS))
        direct = self.staging.shares_transaction and not journeys_have_entries(connection, journey_ids)
        stage_entries = StageEntry.__table__
        assert isinstance(stage_entries, Table)
        entries = (
            stage_entries if direct else self.staging.add_table("entries", _tally_columns(StageEntry, ENTRY_COLUMNS))
        )
        counted: pl.DataFrame | None = None
        with bulk_load(connection, [stage_entries.name]) if direct and bulk else nullcontext():
            for part in self.first_entries():
                self.staging.write(part, entries)
                counts = part.group_by(pl.col("entered_at").dt.date().alias("day"), *ENTRY_KEYS[1:]).agg(
                    pl.len().alias("customers")
                )
                counted = counts if counted is None else _sum_by(pl.concat([counted, counts]), ENTRY_KEYS, ENTRY_SUMS)
            self.staging.wait()
        entry_days = self.staging.add_table("entry_days", _tally_columns(EntryRollup, ENTRY_KEYS + ENTRY_SUMS))
        if counted is not None:
            self.staging.write(counted, entry_days)
        self.staging.wait()
        counted_days = select(*(entry_days.c[c] for c in ENTRY_KEYS + ENTRY_SUMS))
        if direct:
            add_first_import_tallies(connection, days=days, entry_days=counted_days)
            return
        add_event_tallies(
            connection,
            days=days,
            first_entries=select(*(entries.c[c] for c in ENTRY_COLUMNS)),
            entry_days=counted_days,
            journey_ids=journey_ids,
            bulk=bulk,
        )


def _sum_by(frame: pl.DataFrame, keys: list[str], sums: list[str]) -> pl.DataFrame:
    return frame.group_by(keys).agg(pl.col(s).sum() for s in sums)


def _first_entries(rows: pl.DataFrame) -> pl.DataFrame:
    """Earliest event (or entry) per journey, customer, stage and step, in ENTRY_COLUMNS order."""
    time = "occurred_at" if "occurred_at" in rows.columns else "entered_at"
    return (
        rows.group_by("journey_id", "customer_id", "stage_id", "step_id")
        .agg(pl.col("persona_id").min(), pl.col(time).min().alias("entered_at"))
        .select(ENTRY_COLUMNS)
    )


def _tally_columns(model: type[Base], names: list[str]) -> list[Column[Any]]:
    table = model.__table__
    assert isinstance(table, Table)
    return [Column(name, table.c[name].type) for name in names]


def _open_staging(connection: Connection, kind: FactKind, workdir: Path, after: ExitStack | None) -> _Staging:
    if connection.dialect.name == "sqlite" and after is not None:
        try:
            return _ScratchFileStaging(connection, kind, workdir, after)
        except (ImportError, RuntimeError):
            pass
    return _TempTableStaging(connection, kind)


# --- one run --------------------------------------------------------------------------------------


class _ImportRun:
    """Reads, maps and checks one file; stages it; moves it into the facts when it is clean."""

    def __init__(
        self,
        path: Path,
        mapping: Mapping,
        *,
        progress: ProgressCallback | None,
        batch_rows: int,
        preview_rows: int = 0,
        direct: bool = True,
    ) -> None:
        self.path = path
        self.direct = direct
        self.mapping = mapping
        self.kind = mapping.kind
        self.progress = progress
        self.batch_rows = batch_rows
        self.preview_rows = preview_rows
        self.problems: list[Problem] = []
        self.rows_read = 0
        self.facts = 0
        self.not_applicable = 0
        self.inserted = 0
        self.already_present = 0
        self.journey_slugs: tuple[str, ...] = ()
        self.preview = pl.DataFrame()
        self.tally: _EventTally | None = None
        self.journey_ids: set[int] = set()
        self._found: dict[tuple[str, str, str], tuple[int, list[int], list[str]]] = {}

    def execute(self, connection: Connection, *, write: bool, after: ExitStack | None) -> None:
        with ExitStack() as local:
            stack = after if after is not None else local
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="atlas-import-")))
            source = _open_source(self.path, self.mapping, workdir)
            self.problems = list(source.problems)
            if not self.problems:
                self._run(connection, source, write=write, workdir=workdir, after=after)
        if self.problems and write:
            raise ImportValidationError(self.problems)

    def _run(
        self, connection: Connection, source: _Source, *, write: bool, workdir: Path, after: ExitStack | None
    ) -> None:
        name = str(self.path)
        schema = source.schema
        missing = [c for c in self.mapping.source_columns() if c not in schema]
        if missing:
            columns = ", ".join(c for c in schema if c != ROW)
            self.problems += [
                Problem("missing column", f"the file has no column {c!r} (its columns: {columns})", name, column=c)
                for c in missing
            ]
            return
        pipeline = _Pipeline(self.mapping, _Lookups.load(connection), schema)
        staging = _open_staging(connection, self.kind, workdir, after)
        self.tally = _EventTally(staging, workdir) if write and self.kind == FactKind.EVENTS else None
        if connection.dialect.name == "postgresql":
            # room to hash and sort the staged rows in memory, for this transaction only
            connection.execute(text(f"SET LOCAL work_mem = '{POSTGRES_WORK_MEM}'"))
        restore_cache = larger_sqlite_cache(connection)
        after_staging = after if after is not None else ExitStack()
        after_staging.callback(staging.close)
        fact_table = FACT_TABLES[self.kind]
        direct = write and self.direct and _loads_directly(connection, fact_table)
        try:
            with self._loading_directly(connection, staging) if direct else nullcontext():
                self._stream(source, pipeline, staging, fact_table if direct else staging.table)
                if not self.problems and self.rows_read == 0:
                    self.problems.append(Problem("empty file", "the file has a header but no data rows", name))
                if not self.problems:
                    staging.finish_writing()
                    if direct:
                        self._finish_direct(connection)
                    else:
                        self._finish_staged(connection, staging.table, write=write, owns_transaction=after is not None)
        except _DirectLoadRefused:
            # the savepoint is rolled back and the transaction sound: clean up, for the import to run again
            restore_cache()
            staging.drop()
            raise
        except BaseException:
            # a failed statement may have aborted the transaction (PostgreSQL): the caller's rollback
            # removes the staging table then, and a clean-up attempt here would hide the real error
            restore_cache()  # a no-op but on SQLite, where it cannot fail
            with suppress(Exception):
                staging.wait()  # a write still running must end before the transaction does
            raise
        else:
            staging.drop()
            restore_cache()
        finally:
            if after is None:
                after_staging.close()

    @contextmanager
    def _loading_directly(self, connection: Connection, staging: _Staging) -> Iterator[None]:
        """Rows go straight into the empty fact table, its indexes and foreign keys off, under a savepoint.

        Problems found on the way roll the savepoint back (they are reported by `execute`). A fact that
        repeats within the file makes the rebuilt unique key refuse the load: the savepoint is rolled back
        and `_DirectLoadRefused` asks for the file to be imported through staging, which names the rows.
        """
        savepoint = connection.begin_nested()
        try:
            with bulk_load(connection, [FACT_TABLES[self.kind].name], unique=True):
                yield
                if self.problems:
                    raise _TakeBack
        except BaseException as error:
            with suppress(Exception):
                staging.wait()  # a write still running must end before the savepoint does
            savepoint.rollback()
            if isinstance(error, IntegrityError):
                raise _DirectLoadRefused from error
            if not isinstance(error, _TakeBack):
                raise
        else:
            savepoint.commit()

    def _finish_direct(self, connection: Connection) -> None:
        """Rollups for a file loaded straight into the empty fact table: every row in it is new."""
        self.inserted = self.facts
        self.journey_slugs = self._journey_slugs(connection)
        self._add_to_rollups(connection, FACT_TABLES[self.kind], bulk=True)

    def _add_to_rollups(self, connection: Connection, new_facts: Table, *, bulk: bool) -> None:
        if self.tally is not None and not self.already_present:
            self.tally.fold_in(connection, journey_ids=sorted(self.journey_ids), bulk=bulk)
        elif self.kind == FactKind.EVENTS:
            add_to_rollups(connection, events=new_facts, bulk=bulk)
        else:
            add_to_rollups(connection, feedback=new_facts, bulk=bulk)

    def _journey_slugs(self, connection: Connection) -> tuple[str, ...]:
        return tuple(
            connection.execute(
                select(Journey.slug).where(Journey.id.in_(sorted(self.journey_ids))).order_by(Journey.slug)
            ).scalars()
        )

    def _stream(self, source: _Source, pipeline: _Pipeline, staging: _Staging, target: Table) -> None:
        stored = list(STORED_COLUMNS[self.kind])
        checks = pipeline.checks()
        flags = [f"__check_{i}" for i in range(len(checks))]
        try:
            for raw in source.read(self.batch_rows):
                if raw.height == 0:
                    continue
                # the batch is in memory already: the in-memory engine is 3× faster here than streaming
                batch = pipeline.build(raw.lazy())[0].collect(engine="in-memory")
                self.rows_read = max(self.rows_read, int(raw[ROW].max()))  # type: ignore[arg-type]
                applicable = batch.filter(~pl.col(NOT_APPLICABLE))
                self.not_applicable += batch.height - applicable.height
                self.facts += applicable.height
                failing = applicable.select(pl.any_horizontal(flags).sum()).item() if flags else 0
                if failing:
                    self._collect_problems(applicable, checks)
                elif not self.problems:
                    rows = applicable.select(ROW, *stored).with_columns(_source_keys(self.kind, applicable))
                    staging.write(rows.rename({ROW: "row"}), target)
                    self.journey_ids.update(rows["journey_id"].unique().to_list())
                    if self.tally is not None:
                        self.tally.add(rows)
                    if self.preview.height < self.preview_rows:
                        self._keep_preview(applicable)
                if self.progress is not None:
                    total = source.rows_total
                    self.progress(Progress(min(self.rows_read, total or self.rows_read), total))
        except (pl.exceptions.PolarsError, pa.ArrowException) as error:
            self.problems.append(Problem("unreadable file", _first_line(error), str(self.path)))
        self.problems += self._found_problems(checks)

    def _keep_preview(self, applicable: pl.DataFrame) -> None:
        slugs = [c for c in ("journey", "stage", "channel", "touchpoint", "step", "persona") if c in self._fields()]
        self.preview = pl.concat(
            [
                self.preview,
                applicable.head(self.preview_rows - self.preview.height).select(
                    pl.col(ROW).alias("row"),
                    *STORED_COLUMNS[self.kind],
                    *(pl.col(_raw(s)).alias(s) for s in slugs),
                ),
            ],
            how="diagonal_relaxed",
        )

    def _fields(self) -> tuple[str, ...]:
        from data_access.mapping import FIELDS

        return FIELDS[self.kind]

    def _collect_problems(self, batch: pl.DataFrame, checks: list[_Check]) -> None:
        for i, check in enumerate(checks):
            failing = batch.filter(pl.col(f"__check_{i}"))
            if failing.height == 0:
                continue
            grouped = (
                failing.select(pl.col(_label(check.column)).alias("column"), pl.col(ROW), check.shown.alias("shown"))
                .group_by("column", maintain_order=True)
                .agg(
                    pl.col(ROW).n_unique().alias("count"),
                    pl.col(ROW).unique(maintain_order=True).head(EXAMPLES).alias("rows"),
                    pl.col("shown").unique(maintain_order=True).head(EXAMPLES).alias("shown"),
                )
            )
            for column, count, rows, shown in grouped.iter_rows():
                key = (check.check, check.message, column)
                before_count, before_rows, before_shown = self._found.get(key, (0, [], []))
                self._found[key] = (
                    before_count + count,
                    (before_rows + rows)[:EXAMPLES],
                    list(dict.fromkeys(before_shown + shown))[:EXAMPLES],
                )

    def _found_problems(self, checks: list[_Check]) -> list[Problem]:
        return [
            Problem(check, message, str(self.path), column=column, count=count, rows=tuple(rows), examples=tuple(shown))
            for (check, message, column), (count, rows, shown) in self._found.items()
        ]

    def _check_duplicates(self, connection: Connection, staging: Table) -> None:
        repeated = connection.execute(select(func.count() - func.count(distinct(staging.c.source_key)))).scalar_one()
        if not repeated:
            return
        later, earlier = staging.alias("later"), staging.alias("earlier")
        pairs = connection.execute(
            select(later.c.row, func.min(earlier.c.row))
            .join(earlier, (earlier.c.source_key == later.c.source_key) & (earlier.c.row < later.c.row))
            .group_by(later.c.row)
            .order_by(later.c.row)
            .limit(EXAMPLES)
        ).all()
        self.problems.append(
            Problem(
                "duplicate row",
                "the same fact appears more than once in the file (same identifying fields)",
                str(self.path),
                count=int(repeated),
                rows=tuple(row for row, _ in pairs),
                examples=tuple(f"row {row} repeats row {first}" for row, first in pairs),
            )
        )

    def _finish_staged(self, connection: Connection, staging: Table, *, write: bool, owns_transaction: bool) -> None:
        late_check = write and _unique_keys_catch_duplicates(connection, owns_transaction=owns_transaction)
        if not late_check:
            self._check_duplicates(connection, staging)
        if not self.problems:
            self._finish(connection, staging, write=write, late_check=late_check)

    def _finish(self, connection: Connection, staging: Table, *, write: bool, late_check: bool) -> None:
        fact_table = FACT_TABLES[self.kind]
        present = exists().where(fact_table.c.source_key == staging.c.source_key)
        if connection.execute(select(exists().select_from(fact_table))).scalar():
            self.already_present = connection.execute(
                select(func.count()).select_from(staging).where(present)
            ).scalar_one()
        # else: nothing is stored, so nothing can be present (the count takes 2 s for 10M staged rows)
        self.journey_slugs = self._journey_slugs(connection)
        if not write:
            return
        if late_check and self.already_present:
            # a repeated row that is also stored would be skipped, not reported, once stored rows go
            self._check_duplicates(connection, staging)
            if self.problems:
                return
        try:
            with connection.begin_nested() if late_check else nullcontext():
                self._write(connection, staging, present)
        except IntegrityError:
            if not late_check:
                raise
            self._check_duplicates(connection, staging)
            if not self.problems:
                raise

    def _write(self, connection: Connection, staging: Table, present: Exists) -> None:
        fact_table = FACT_TABLES[self.kind]
        if self.already_present:
            connection.execute(delete(staging).where(present))
        # the staging rows are all distinct here (or the unique source_key refuses them), and now all new
        self.inserted = self.facts - self.already_present
        stored = connection.execute(select(func.count()).select_from(fact_table)).scalar_one()
        bulk = self.inserted >= BULK_SHARE * stored
        self._add_to_rollups(connection, staging, bulk=bulk)
        columns = [*STORED_COLUMNS[self.kind], "source_key"]
        new_rows = select(*(staging.c[c] for c in columns))
        with bulk_load(connection, [fact_table.name], unique=True) if bulk else nullcontext():
            connection.execute(insert(fact_table).from_select(columns, new_rows))


class _TakeBack(Exception):
    """Raised inside `_loading_directly` to roll back rows already loaded when the file has problems."""


class _DirectLoadRefused(Exception):
    """The fact table's unique key refused a direct load: the file repeats a fact (see `_loading_directly`)."""


def _loads_directly(connection: Connection, fact_table: Table) -> bool:
    """Whether an import COPYs its rows straight into the fact table instead of into staging first.

    Only on PostgreSQL, where COPY runs on the import's own connection, and only into an empty fact
    table (a first import): then no row can be present already, every row is new, and copying 10M rows
    from staging into the table a second time (24 s) is saved. SQLite's fast writer is a second
    connection, which can only write to the scratch file (see `_ScratchFileStaging`).
    """
    return (
        connection.dialect.name == "postgresql"
        and not connection.execute(select(exists().select_from(fact_table))).scalar()
    )


def _unique_keys_catch_duplicates(connection: Connection, *, owns_transaction: bool) -> bool:
    """Whether an import leaves repeated rows to the unique source key to catch, and looks for them only then.

    Looking first means counting distinct keys over every staged row: a sort of the whole file (8 s of a
    10M-row import on PostgreSQL). A savepoint lets the import go back and report the rows when the key
    refuses them. Python's sqlite3 begins a transaction only at the first INSERT, so there a SAVEPOINT
    may open the transaction itself and its RELEASE commit it: used only when the import owns it.
    """
    return connection.dialect.name == "postgresql" or (connection.dialect.name == "sqlite" and owns_transaction)


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__

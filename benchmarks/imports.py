"""Import speed: the demo's events from Parquet and from CSV, against reading the file and bulk-writing its rows.

The files hold the demo's events as a customer's export would: slugs, not ids. Each import runs into an
empty database holding only the demo's map (so every run is a first import); the peer reads the same file
with polars and writes its rows, as they are, into a bare table with no index or constraint, by the fastest
bulk path each database has (ADBC ingest on SQLite, COPY on PostgreSQL): the floor a hand-written loader
could reach, without checks, look-ups or rollups.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import aliased

from benchmarks.common import Timing, empty_database, timed
from data_access.db import session_scope
from data_access.importing import import_events
from data_access.importing.mapping import parse_mapping
from data_access.mapfile import export_map, import_map
from data_access.models import Channel, Event, Journey, Persona, Stage, Step

COLUMNS = ("customer", "timestamp", "journey", "stage", "channel", "step", "persona", "event_type", "value")
MAPPING = parse_mapping("kind: events\ncolumns: {" + ", ".join(f"{column}: {column}" for column in COLUMNS) + "}\n")
BARE_TABLE = "bench_bare_events"


@dataclass(frozen=True)
class ImportTimings:
    """One file format on one database: the import, and the peer's read and write."""

    file_format: str
    rows: int
    import_: Timing
    read: Timing
    write: Timing

    @property
    def peer(self) -> Timing:
        return Timing(tuple(r + w for r, w in zip(self.read.runs, self.write.runs, strict=True)))


def export_demo_events(engine: Engine, folder: Path) -> tuple[str, dict[str, Path]]:
    """The demo's map as YAML, and its events with slugs as Parquet and CSV files in `folder`."""
    step, persona = aliased(Step), aliased(Persona)
    query = (
        select(
            Event.customer_id.label("customer"),
            Event.occurred_at.label("timestamp"),
            Journey.slug.label("journey"),
            Stage.slug.label("stage"),
            Channel.slug.label("channel"),
            step.slug.label("step"),
            persona.slug.label("persona"),
            Event.event_type,
            Event.value,
        )
        .join(Journey, Journey.id == Event.journey_id)
        .join(Stage, Stage.id == Event.stage_id)
        .join(Channel, Channel.id == Event.channel_id)
        .outerjoin(step, step.id == Event.step_id)
        .outerjoin(persona, persona.id == Event.persona_id)
        .order_by(Event.id)
    )
    with engine.connect() as connection:
        # the demo can generate the same event twice (a handful per million), which an import rightly refuses
        events = pl.read_database(query, connection, infer_schema_length=None).unique(maintain_order=True)
    with session_scope(engine) as session:
        map_text = export_map(session)
    files = {"parquet": folder / "demo_events.parquet", "csv": folder / "demo_events.csv"}
    events.write_parquet(files["parquet"], row_group_size=250_000)
    events.write_csv(files["csv"])
    return map_text, files


def read_file(path: Path) -> pl.DataFrame:
    if path.suffix == ".csv":
        return pl.read_csv(path, infer_schema_length=10_000)
    return pl.read_parquet(path)


def bulk_write(engine: Engine, rows: pl.DataFrame) -> None:
    """The rows as they are into a new bare table: ADBC ingest on SQLite, COPY on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        from adbc_driver_sqlite import dbapi as adbc_sqlite

        with adbc_sqlite.connect(make_url(engine.url).database) as writer, writer.cursor() as cursor:
            cursor.adbc_ingest(BARE_TABLE, rows.to_arrow(), mode="create")
            writer.commit()
        return
    columns = ", ".join(
        f"{name} {'double precision' if dtype.is_float() else 'text'}" for name, dtype in rows.schema.items()
    )
    with engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE {BARE_TABLE} ({columns})"))
        raw: Any = connection.connection.driver_connection
        names = ", ".join(rows.columns)
        with raw.cursor() as cursor, cursor.copy(f"COPY {BARE_TABLE} ({names}) FROM STDIN (FORMAT csv)") as copy:
            for batch in rows.iter_slices(200_000):
                copy.write(batch.write_csv(include_header=False))


def time_imports(
    kind: str, *, postgres_url: str | None, map_text: str, files: dict[str, Path], runs: int, folder: Path
) -> list[ImportTimings]:
    """Per file format: `runs` first imports into fresh databases, and `runs` reads and bare writes."""
    found = []
    for file_format, path in files.items():
        imports, reads, writes = [], [], []
        rows = 0
        for _ in range(runs):
            with empty_database(kind, postgres_url=postgres_url, folder=folder) as engine:
                with session_scope(engine) as session:
                    import_map(session, map_text, source="demo map")
                seconds, report = timed(partial(import_events, engine, path=path, mapping=MAPPING))
                imports.append(seconds)
                rows = report.inserted
            with empty_database(kind, postgres_url=postgres_url, folder=folder) as engine:
                read_seconds, frame = timed(partial(read_file, path))
                reads.append(read_seconds)
                writes.append(timed(partial(bulk_write, engine, frame))[0])
        found.append(
            ImportTimings(file_format, rows, Timing(tuple(imports)), Timing(tuple(reads)), Timing(tuple(writes)))
        )
    return found

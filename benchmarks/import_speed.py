"""How fast the events importer is, against reading the file and a bare bulk insert of the same rows.

    python -m benchmarks.import_speed                  # 1M events, SQLite (+ PostgreSQL when configured)
    python -m benchmarks.import_speed --events 3000000 # compare peak memory with the 1M run
    python -m benchmarks.import_speed --ten-million    # 10M events

Each size runs in a fresh child process, whose peak RSS is read from /proc/self/status (VmHWM), not from
`resource.getrusage(...).ru_maxrss`: Linux carries that over a fork and exec, so a child of a parent that just
built a 10M-row frame reported the parent's peak as its own. `journey-atlas bench` times the demo's own
events; this script keeps the importer's memory at 1M → 3M → 10M synthetic events.
PostgreSQL runs when ATLAS_TEST_POSTGRES_URL points at a server; a throw-away database is created there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Column, MetaData, Table, create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import peak_memory_mib
from data_access.db import make_engine, session_scope, upgrade_schema
from data_access.importing import import_events
from data_access.importing.mapping import parse_mapping
from data_access.models import Channel, Event, Journey, Stage

STAGES = ("awareness", "consideration", "purchase", "onboarding", "usage", "support", "retention", "advocacy")
CHANNELS = ("web", "mobile-app", "email", "social", "store", "call-centre", "chat")
MAPPING = parse_mapping(
    """
kind: events
fixed: {journey: bench}
columns: {customer: customer, timestamp: timestamp, stage: stage, channel: channel, event_type: event_type,
          value: value}
"""
)


def synthetic_events(path: Path, events: int, *, seed: int = 7) -> None:
    """`events` rows of customer, timestamp, stage, channel, event type and value, as Parquet."""
    rng = np.random.default_rng(seed)
    frame = pl.DataFrame(
        {
            "customer": pl.Series(rng.integers(0, max(events // 20, 1), events)).cast(pl.String),
            "offset": rng.integers(0, 365 * 86_400, events),
            "stage": pl.Series(rng.integers(0, len(STAGES), events)).replace_strict(dict(enumerate(STAGES))),
            "channel": pl.Series(rng.integers(0, len(CHANNELS), events)).replace_strict(dict(enumerate(CHANNELS))),
            "event_type": pl.Series(rng.integers(0, 3, events)).replace_strict({0: "visit", 1: "click", 2: "order"}),
            "value": rng.random(events) * 100,
        }
    ).with_row_index("sequence")
    # identical rows would be refused as duplicates; the sequence makes each event distinct in time
    frame = frame.select(
        "customer",
        (
            pl.lit(dt.datetime(2024, 1, 1))
            + pl.duration(seconds=pl.col("offset"), microseconds=pl.col("sequence").cast(pl.Int64))
        ).alias("timestamp"),
        "stage",
        "channel",
        "event_type",
        "value",
    )
    frame.write_parquet(path, row_group_size=250_000)


def add_bench_map(url: str) -> None:
    engine = make_engine(url)
    upgrade_schema(engine)
    with session_scope(engine) as session:
        session.add_all(Channel(slug=slug, name=slug, position=i) for i, slug in enumerate(CHANNELS))
        journey = Journey(slug="bench", name="Benchmark")
        journey.stages = [Stage(slug=slug, name=slug, position=i) for i, slug in enumerate(STAGES)]
        session.add(journey)
    engine.dispose()


def bare_insert_seconds(url: str, path: Path) -> float:
    """Write the file's rows, ids already resolved, into a table with no index or constraint: the floor.

    The fastest bulk path each database has: ADBC ingest on SQLite, COPY on PostgreSQL.
    """
    engine = make_engine(url)
    with engine.connect() as connection:
        stage_ids = {str(slug): int(i) for slug, i in connection.execute(text("SELECT slug, id FROM stages")).all()}
        channel_ids = {str(slug): int(i) for slug, i in connection.execute(text("SELECT slug, id FROM channels"))}
        journey_id = connection.execute(text("SELECT id FROM journeys")).scalar_one()
    bare = Table(
        "bare_events",
        MetaData(),
        *(Column(c.name, c.type) for c in Event.__table__.columns if c.name not in ("id", "step_id", "persona_id")),
    )
    bare.create(engine)
    started = time.perf_counter()
    if engine.dialect.name == "sqlite":
        from adbc_driver_sqlite import dbapi as adbc_sqlite

        writer: Any = adbc_sqlite.connect(make_url(url).database)
    for batch in pl.scan_parquet(path).collect_batches(chunk_size=200_000):
        rows = batch.select(
            pl.col("customer").alias("customer_id"),
            pl.col("timestamp").alias("occurred_at"),
            pl.lit(journey_id).alias("journey_id"),
            pl.col("stage").replace_strict(stage_ids).alias("stage_id"),
            pl.col("channel").replace_strict(channel_ids).alias("channel_id"),
            "event_type",
            "value",
        )
        if engine.dialect.name == "sqlite":
            with writer.cursor() as cursor:
                cursor.adbc_ingest("bare_events", rows.to_arrow(), mode="append")
        else:
            with engine.begin() as connection:
                raw: Any = connection.connection.driver_connection
                names = ", ".join(rows.columns)
                with raw.cursor() as cursor, cursor.copy(f"COPY bare_events ({names}) FROM STDIN (FORMAT csv)") as copy:
                    copy.write(rows.write_csv(include_header=False))
    if engine.dialect.name == "sqlite":
        writer.commit()
        writer.close()
    seconds = time.perf_counter() - started
    bare.drop(engine)
    engine.dispose()
    return seconds


def baseline_run(path: Path, url: str) -> dict[str, float | int]:
    """Read the file with polars, then write its rows bare (run in a child process)."""
    started = time.perf_counter()
    rows = pl.read_parquet(path).height
    read = time.perf_counter() - started
    add_bench_map(url)
    return {"rows": rows, "read_s": read, "write_s": bare_insert_seconds(url, path)}


def import_run(path: Path, url: str) -> dict[str, float | int]:
    """The full import alone in its process, so that peak RSS is the importer's (run in a child process)."""
    engine = make_engine(url)
    started = time.perf_counter()
    report = import_events(engine, path=path, mapping=MAPPING)
    seconds = time.perf_counter() - started
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM events")).scalar_one()
    engine.dispose()
    assert stored == report.inserted, (stored, report.inserted)
    peak_mib = peak_memory_mib() or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"import_s": seconds, "peak_rss_mib": peak_mib, "inserted": report.inserted}


def _child(mode: str, parquet: Path, url: str) -> dict[str, float | int]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(parquet), url], check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, float | int] = json.loads(output.strip().splitlines()[-1])
    return result


def _postgres_database(server_url: str) -> tuple[str, str]:
    server = make_url(server_url)
    name = f"atlas_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False), name


def _drop_postgres_database(server_url: str, name: str) -> None:
    admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, nargs="*", default=None, help="sizes to run (default: 1M)")
    parser.add_argument("--ten-million", action="store_true", help="also run 10M events")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "PARQUET", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, parquet, url = args.child
        run = baseline_run if mode == "baseline" else import_run
        print(json.dumps(run(Path(parquet), url)))
        return

    sizes = args.events or [1_000_000]
    if args.ten_million:
        sizes.append(10_000_000)
    postgres = os.environ.get("ATLAS_TEST_POSTGRES_URL", "")
    print(
        f"{'database':<11}{'events':>11}{'read s':>8}{'write s':>9}{'import s':>10}{'÷ read+write':>14}{'peak MiB':>10}"
    )
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as workdir:
        for size in sizes:
            parquet = Path(workdir) / f"events_{size}.parquet"
            synthetic_events(parquet, size)
            sqlite_url = f"sqlite:///{Path(workdir) / f'bench_{size}.db'}"
            targets: list[tuple[str, str, str | None]] = [("sqlite", sqlite_url, None)]
            if postgres:
                postgres_url, database_name = _postgres_database(postgres)
                targets.append(("postgresql", postgres_url, database_name))
            for label, url, name in targets:
                try:
                    # the baseline writes to a table of its own, dropped after: the import starts from an empty map
                    result = _child("baseline", parquet, url) | _child("import", parquet, url)
                finally:
                    if name is not None:
                        _drop_postgres_database(postgres, name)
                ratio = result["import_s"] / (result["read_s"] + result["write_s"])
                print(
                    f"{label:<11}{result['rows']:>11,}{result['read_s']:>8.2f}{result['write_s']:>9.2f}"
                    f"{result['import_s']:>10.2f}{ratio:>14.2f}{result['peak_rss_mib']:>10.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()

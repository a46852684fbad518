"""Time `load_demo` (generate + write + refresh_rollups) for 100k and 1M events.

Loads into a temporary SQLite file and, when ATLAS_TEST_POSTGRES_URL points at a server, into a
throw-away PostgreSQL database created for the run and dropped after it.

    python benchmarks/demo_load.py [--events 100000 1000000] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from data_access.db import make_engine, upgrade_schema
from data_access.demo import load_demo


@contextmanager
def sqlite_database() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'atlas.db'}")
        upgrade_schema(engine)
        yield engine
        engine.dispose()


@contextmanager
def postgres_database(server_url: str) -> Iterator[Engine]:
    server = make_url(server_url)
    name = f"atlas_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(server.set(database=name).render_as_string(hide_password=False))
    try:
        upgrade_schema(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    databases = {"sqlite": sqlite_database}
    postgres_url = os.environ.get("ATLAS_TEST_POSTGRES_URL", "")
    if postgres_url:
        databases["postgresql"] = lambda: postgres_database(postgres_url)
    print(f"{'database':<11} {'events':>10} {'answers':>9} {'customers':>9} {'seconds':>8} {'events/s':>9}")
    for name, database in databases.items():
        for events in args.events:
            with database() as engine:
                summary = load_demo(engine, events=events, seed=args.seed)
            rate = summary.events / summary.seconds
            print(
                f"{name:<11} {summary.events:>10,} {summary.feedback:>9,} {summary.customers:>9,} "
                f"{summary.seconds:>8.1f} {rate:>9,.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()

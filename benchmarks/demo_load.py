"""Time `load_demo` (generate + write + refresh_rollups) for 100k and 1M events.

Loads into a temporary SQLite file and, when ATLAS_TEST_POSTGRES_URL points at a server, into a
throw-away PostgreSQL database created for the run and dropped after it.

    python -m benchmarks.demo_load [--events 100000 1000000] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import postgres_database, sqlite_database
from data_access.demo import load_demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    databases: dict[str, Callable[[], AbstractContextManager[Engine]]] = {"sqlite": lambda: sqlite_database()}
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

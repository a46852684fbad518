"""How an import into a database that already holds data grows with the file: new events of the demo company
(seed 8) imported into the 200k-event demo (seed 7), with and without the index on the scratch first entries.

    python -m benchmarks.incremental_import                                  # 20k, 50k, 100k into 200k, SQLite
    python -m benchmarks.incremental_import --sizes 20000 50000 --postgres-url postgresql+psycopg://…/test

Such an import keeps the cohort rollup by recomputing the touched customers' cohort rows from scratch tables of
their old and new first entries (`rollups._replace_entries`). "without" runs it as it was before
`rollups._index_by_customer`: the scratch tables unindexed and, on PostgreSQL, without statistics. Both
variants run in this one process on copies of the same database, one after the other per size, so the ratio
compares like with like on a machine whose speed varies; each import's rollups are checked against a full
rebuild (`refresh`) for the "with" variant.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.imports import MAPPING, export_demo_events
from data_access import rollups
from data_access.db import make_engine, upgrade_schema
from data_access.demo.loader import load_demo
from data_access.importing import import_events, refresh
from data_access.models import CohortRollup, EntryRollup, EventRollup, StageEntry

BASE_EVENTS = 200_000
BASE_SEED, FILE_SEED = 7, 8


def rollup_rows(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every rollup and first entry an import keeps, without ids, floats rounded, sorted: to compare with a rebuild."""
    found: dict[str, list[tuple[object, ...]]] = {}
    with engine.connect() as connection:
        for model in (EventRollup, EntryRollup, CohortRollup, StageEntry):
            table = model.__table__
            columns = [c for c in table.columns if c.name != "id"]
            rows = (tuple(_rounded(v) for v in row) for row in connection.execute(select(*columns)))
            found[model.__tablename__] = sorted(rows, key=repr)
    return found


def _rounded(value: object) -> object:
    """Floats to 6 places: a sum of values added in another order differs in its last bits."""
    return round(value, 6) if isinstance(value, float) else value


def timed_import(engine: Engine, path: Path, *, indexed: bool) -> tuple[float, int]:
    """Seconds to import the file; "without" the scratch tables' index and statistics when not `indexed`."""
    patch = mock.patch.object(rollups, "_index_by_customer", lambda _c, _t: None) if not indexed else None
    started = time.perf_counter()
    if patch is None:
        report = import_events(engine, path=path, mapping=MAPPING)
    else:
        with patch:
            report = import_events(engine, path=path, mapping=MAPPING)
    return time.perf_counter() - started, report.inserted


class SqliteCopies:
    """The base demo in a SQLite file, and copies of it to import into."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.base = folder / "base.db"

    def build(self) -> None:
        engine = make_engine(f"sqlite:///{self.base}")
        upgrade_schema(engine)
        load_demo(engine, events=BASE_EVENTS, seed=BASE_SEED)
        with engine.connect() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        engine.dispose()

    @contextmanager
    def copy(self) -> Iterator[Engine]:
        target = self.folder / f"copy-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(self.base, target)
        engine = make_engine(f"sqlite:///{target}")
        try:
            yield engine
        finally:
            engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)


class PostgresCopies:
    """The base demo in a PostgreSQL database, and copies of it (CREATE DATABASE … TEMPLATE) to import into."""

    def __init__(self, server_url: str, *, prefix: str) -> None:
        self.server = make_url(server_url)
        self.base = f"{prefix}{uuid.uuid4().hex[:8]}"
        self.admin = create_engine(self.server, isolation_level="AUTOCOMMIT")

    def _url(self, name: str) -> str:
        return self.server.set(database=name).render_as_string(hide_password=False)

    def build(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.base}"'))
        engine = make_engine(self._url(self.base))
        upgrade_schema(engine)
        load_demo(engine, events=BASE_EVENTS, seed=BASE_SEED)
        engine.dispose()

    @contextmanager
    def copy(self) -> Iterator[Engine]:
        name = f"{self.base}_{uuid.uuid4().hex[:6]}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.base}"'))
        engine = make_engine(self._url(name))
        try:
            yield engine
        finally:
            engine.dispose()
            with self.admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def drop(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.base}" WITH (FORCE)'))
        self.admin.dispose()


def export_files(folder: Path, sizes: list[int]) -> dict[int, Path]:
    """The demo company's events at each size (seed 8) as a customer's Parquet export."""
    files: dict[int, Path] = {}
    for size in sizes:
        where = folder / f"file-{size}"
        where.mkdir()
        engine = make_engine(f"sqlite:///{where / 'source.db'}")
        upgrade_schema(engine)
        load_demo(engine, events=size, seed=FILE_SEED)
        _map, exported = export_demo_events(engine, where)
        engine.dispose()
        files[size] = exported["parquet"]
    return files


def run(database: str, copies: SqliteCopies | PostgresCopies, files: dict[int, Path], *, check: bool) -> None:
    copies.build()
    print(f"{database}: {BASE_EVENTS:,} demo events (seed {BASE_SEED}), then the file (seed {FILE_SEED})", flush=True)
    print(f"{'file events':>12} {'inserted':>9} {'without s':>10} {'with s':>8} {'ratio':>6}", flush=True)
    for size, path in files.items():
        seconds: dict[bool, float] = {}
        for indexed in (False, True):
            with copies.copy() as engine:
                seconds[indexed], inserted = timed_import(engine, path, indexed=indexed)
                if check and indexed:
                    imported = rollup_rows(engine)
                    refresh(engine)
                    assert rollup_rows(engine) == imported, "the import's rollups differ from a rebuild"
                    with engine.connect() as connection:
                        total = connection.execute(select(func.count()).select_from(StageEntry)).scalar_one()
                    assert total > 0
        print(
            f"{size:>12,} {inserted:>9,} {seconds[False]:>10.1f} {seconds[True]:>8.1f} "
            f"{seconds[False] / seconds[True]:>5.1f}×",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 50_000, 100_000])
    parser.add_argument("--postgres-url", default=os.environ.get("ATLAS_TEST_POSTGRES_URL"))
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--database-prefix", default="atlas_bench_incr_", help="of the PostgreSQL databases made")
    parser.add_argument("--check", action="store_true", help="compare each import's rollups with a rebuild")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atlas-incr-") as where:
        folder = Path(where)
        files = export_files(folder, args.sizes)
        if not args.no_sqlite:
            run("SQLite", SqliteCopies(folder), files, check=args.check)
        if args.postgres_url:
            copies = PostgresCopies(args.postgres_url, prefix=args.database_prefix)
            try:
                run("PostgreSQL", copies, files, check=args.check)
            finally:
                copies.drop()


if __name__ == "__main__":
    main()

"""What every part of `journey-atlas bench` shares: timings as median/min/max, throw-away databases, memory."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from data_access.db import make_engine, upgrade_schema

T = TypeVar("T")


@dataclass(frozen=True)
class Timing:
    """Seconds of several runs of one thing: median, fastest and slowest."""

    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def low(self) -> float:
        return min(self.runs)

    @property
    def high(self) -> float:
        return max(self.runs)

    def describe(self) -> str:
        if len(self.runs) == 1:
            return f"{seconds_text(self.median)} (1 run)"
        return (
            f"{seconds_text(self.median)} ({seconds_text(self.low)}–{seconds_text(self.high)}, {len(self.runs)} runs)"
        )


def demo_parser(description: str | None) -> argparse.ArgumentParser:
    """The options every page benchmark takes: the demo's size and seed, the runs, a SQLite file to reuse."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database", help="reuse this SQLite file instead of building a new demo")
    return parser


def seconds_text(seconds: float) -> str:
    """Seconds as people read them: milliseconds below a second."""
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def timed(run: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def repeat(run: Callable[[], object], runs: int) -> Timing:
    return Timing(tuple(timed(run)[0] for _ in range(runs)))


@contextmanager
def sqlite_database(folder: Path | None = None) -> Iterator[Engine]:
    """An empty SQLite file with the current schema, deleted afterwards."""
    with tempfile.TemporaryDirectory(dir=folder, prefix="atlas-bench-") as where:
        engine = make_engine(f"sqlite:///{Path(where) / 'atlas.db'}")
        upgrade_schema(engine)
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def postgres_database(server_url: str) -> Iterator[Engine]:
    """A throw-away PostgreSQL database with the current schema on the server at `server_url`, dropped afterwards."""
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


def empty_database(
    kind: str, *, postgres_url: str | None, folder: Path | None = None
) -> AbstractContextManager[Engine]:
    """`sqlite` or `postgresql`: an empty database of that kind, as a context manager."""
    if kind == "sqlite":
        return sqlite_database(folder)
    if not postgres_url:
        raise ValueError("PostgreSQL needs a server URL (--postgres-url or ATLAS_TEST_POSTGRES_URL)")
    return postgres_database(postgres_url)


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def peak_memory_mib(pid: int | str = "self") -> float | None:
    """A process's peak resident memory (VmHWM) in MiB, from /proc; None where /proc has no such process."""
    status = Path(f"/proc/{pid}/status")
    try:
        lines = status.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None

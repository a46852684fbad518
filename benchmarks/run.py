"""`journey-atlas bench`: import, page data and browser timings, memory and ratios, written to benchmarks/RESULTS.md.

    journey-atlas bench                                   # 100k and 1M demo events, SQLite
    journey-atlas bench --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    journey-atlas bench --ten-million --runs 3            # adds 10M events (long: the demo load alone is minutes)
    python -m benchmarks.run --events 2000 --runs 1 --output /tmp/RESULTS.md

For each database and size it loads the demo company into a throw-away database, exports its events to
Parquet and CSV and times their import against reading the file and bulk-writing its rows, checks that the
pages' loaders, a polars peer and a plain GROUP BY return the same numbers (it stops if they do not), times
the pages' data cold and warm against those peers, then times the pages in Chromium and reads the app
server's peak memory. The browser part runs when Debian's Chromium is installed (skip it with --no-browser).
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, select, text

from benchmarks.browser import BrowserTimings, PageDidNotShow, chromium_available, time_browser
from benchmarks.common import empty_database, seconds_text, timed, url_of
from benchmarks.imports import ImportTimings, export_demo_events, time_imports
from benchmarks.page_data import NumbersDiffer, time_page_data
from benchmarks.results import TEN_MILLION, Report, SizeResult, render, verdicts
from data_access.db import make_engine, upgrade_schema
from data_access.demo import load_demo
from data_access.models import Event

HERE = Path(__file__).resolve().parent
DEFAULT_SIZES = (100_000, 1_000_000)
SERVER_LOG = Path(tempfile.gettempdir()) / "journey-atlas-bench-streamlit.log"


def _events(raw: str) -> int:
    try:
        value = int(raw.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{raw}' is not a whole number of events") from None
    if not 1_000 <= value <= TEN_MILLION:
        raise argparse.ArgumentTypeError(f"{value:,} events is outside 1,000..10,000,000 (the demo's range)")
    return value


def _runs(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 50:
        raise argparse.ArgumentTypeError(f"'{raw}' is not a number of runs between 1 and 50")
    return int(raw)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="journey-atlas bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=_events, nargs="+", default=list(DEFAULT_SIZES), help="demo sizes to run")
    parser.add_argument("--ten-million", action="store_true", help="also run 10M events")
    parser.add_argument("--runs", type=_runs, default=5, help="runs per measurement (median, min, max); default 5")
    parser.add_argument(
        "--import-runs", type=_runs, default=None, help="runs per import measurement (default: --runs, at most 3)"
    )
    parser.add_argument(
        "--postgres-url", default=None, help="a PostgreSQL server to run on as well (a database is created)"
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--no-browser", action="store_true", help="leave out the Chromium timings and app memory")
    parser.add_argument(
        "--no-imports", action="store_true", help="leave out the import timings (at 10M they take most of a run)"
    )
    parser.add_argument("--stage", default="onboarding", help="the journey page's stage (default onboarding)")
    parser.add_argument("--seed", type=int, default=7, help="the demo's seed")
    parser.add_argument(
        "--port", type=int, default=None, help="port for the benchmark's Streamlit servers (default: free)"
    )
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md", help="where to write the results")
    parser.add_argument("--notes", type=Path, default=None, help="a Markdown file appended to the results as notes")
    parser.add_argument("--workdir", type=Path, default=None, help="folder for temporary files (default: the system's)")
    parser.add_argument(
        "--existing",
        metavar="URL",
        nargs="+",
        default=None,
        help="measure these databases, each already holding the demo (`journey-atlas demo`), instead of loading "
        "new ones: the schema is brought up to date, nothing else is written; --events and --ten-million are ignored",
    )
    return parser


def postgres_version(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SHOW server_version")).scalar_one())
    finally:
        engine.dispose()


def say(message: str) -> None:
    print(message, flush=True)


def _time_imports(database: str, engine: Engine, args: argparse.Namespace, folder: Path) -> list[ImportTimings]:
    with tempfile.TemporaryDirectory(dir=folder, prefix="atlas-bench-files-") as files_folder:
        map_text, files = export_demo_events(engine, Path(files_folder))
        return time_imports(
            database,
            postgres_url=args.postgres_url,
            map_text=map_text,
            files=files,
            runs=args.import_runs or min(args.runs, 3),
            folder=folder,
        )


def measure(database: str, events: int, args: argparse.Namespace, folder: Path) -> SizeResult:
    """One database at one size: demo, import, page data, browser."""
    with empty_database(database, postgres_url=args.postgres_url, folder=folder) as engine:
        demo_seconds, _ = timed(lambda: load_demo(engine, events=events, seed=args.seed))
        say(f"{database} {events:,}: demo loaded in {seconds_text(demo_seconds)}")
        return measure_loaded(database, events, engine, args, folder, demo_seconds)


def measure_existing(url: str, args: argparse.Namespace, folder: Path) -> SizeResult:
    """A database that already holds the demo (`--existing`): its schema brought up to date, then measured."""
    engine = make_engine(url)
    try:
        upgrade_schema(engine)
        with engine.connect() as connection:
            events = int(connection.execute(select(func.count()).select_from(Event)).scalar_one())
        database = engine.dialect.name
        say(f"{database} {events:,}: the demo already loaded in {engine.url.render_as_string(hide_password=True)}")
        return measure_loaded(database, events, engine, args, folder, None)
    finally:
        engine.dispose()


def measure_loaded(
    database: str, events: int, engine: Engine, args: argparse.Namespace, folder: Path, demo_seconds: float | None
) -> SizeResult:
    """Import, page data and browser on a database holding the demo."""
    imports = [] if args.no_imports else _time_imports(database, engine, args, folder)
    for found in imports:
        say(f"  import {found.file_format}: {found.import_.describe()}; read + write {found.peer.describe()}")
    view, checked, page_data = time_page_data(engine, stage_slug=args.stage, runs=args.runs)
    say(f"  numbers checked equal: {'; '.join(checked)}")
    for name, timing in vars(page_data).items():
        say(f"  {name.replace('_', ' ')}: {timing.describe()}")
    browser: BrowserTimings | None = None
    browser_error: str | None = None
    if not args.no_browser and chromium_available():
        try:
            browser = time_browser(
                database_url=url_of(engine),
                journey=view.journey_slug,
                stage_slug=args.stage,
                stage_name=view.stage_name,
                runs=args.runs,
                port=args.port,
                log=SERVER_LOG,
            )
        except PageDidNotShow as error:  # the other parts' figures still count; the report says what failed
            browser_error = str(error)
            say(f"  browser: failed: {browser_error} (the servers' output: {SERVER_LOG})")
    if browser is not None:
        for name, timing in browser.timings().items():
            say(f"  browser, {name}: {timing.describe()}")
        say(f"  app peak memory: {browser.peak_memory_mib or 0:.0f} MiB")
    return SizeResult(database, events, demo_seconds, imports, view, checked, page_data, browser, browser_error)


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds, so the servers, browsers and databases started are cleaned up


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        return run(args, argv)
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    sizes = sorted(set(args.events) | ({TEN_MILLION} if args.ten_million else set()))
    databases = ([] if args.no_sqlite else ["sqlite"]) + (["postgresql"] if args.postgres_url else [])
    if not databases:
        print("journey-atlas bench: error: --no-sqlite needs --postgres-url", file=sys.stderr)
        return 2
    command = "journey-atlas bench " + shlex.join(list(argv) if argv is not None else sys.argv[1:])
    report = Report(command=command.strip())
    postgres_urls = [args.postgres_url] if args.postgres_url else []
    postgres_urls += [url for url in args.existing or [] if url.startswith("postgresql")]
    if postgres_urls:  # the server's version, also when only `--existing` names a PostgreSQL database
        report.postgres_version = postgres_version(postgres_urls[0])
    if args.notes is not None:
        report.notes = args.notes.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="atlas-bench-") as workdir:
        try:
            if args.existing:
                for url in args.existing:
                    report.results.append(measure_existing(url, args, Path(workdir)))
            for database in [] if args.existing else databases:
                for events in sizes:
                    report.results.append(measure(database, events, args, Path(workdir)))
        except NumbersDiffer as difference:
            print(
                f"journey-atlas bench: error: the numbers differ, nothing was timed further: {difference}",
                file=sys.stderr,
            )
            return 2
    report.load_after = os.getloadavg()
    args.output.write_text(render(report), encoding="utf-8")
    for verdict in verdicts(report.results):
        say(f"{verdict.target} — {verdict.database} {verdict.events:,}: {verdict.measured:.2f} {verdict.describe()}")
    say(f"Results written to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Load held: 20 browser sessions opening the overview and a journey page over and over while an import runs.

    python -m benchmarks.load                                   # SQLite, and PostgreSQL when configured
    python -m benchmarks.load --databases sqlite --import-events 50000 --sessions 5   # a quick look

Per database: the demo company (`--events`) served by `journey-atlas serve`'s process with its script runs
logged (`benchmarks.script_run_log`); once its warm-up is done, one session opens the overview and a journey
page in turn (`--baseline-views` loads), then `--sessions` Chromium contexts open them over and over while
`--import-events` new events of the demo company (another seed) are imported from Parquet, the way a team
would: `journey-atlas import events` on the server (`--import-from cli`) or the Import page in a browser
(`--import-from page`, whose import runs in the app server's process). Every load waits for its first chart
and for the script to finish, and is checked for error text.

It prints, per database and import way: the loads and the errors (which must be 0), the import's result and
time, the server's script-run seconds per view (wall-clock and the run's own CPU) median and p90 alone and
under load with their ratio (target: wall-clock ≤ 3×), and the browsers' time to the first chart and to a
settled page. The figures are measured in one run; the load average is sampled throughout, as the machine may
be shared. Results go to benchmarks/RESULTS-load.md.

The browsers stand in for people on their own computers, yet here they share the server's cores: by default they
run at the lowest CPU priority (`--browser-nice 19`, through `nice`), so the server's script runs and the import
are not slowed by twenty Chromiums drawing pages; `--browser-idle` puts them in Linux's idle scheduling class
(`chrt --idle`: they run only when nothing else wants the CPU). `--browser-nice 0` runs them as any other process.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from benchmarks.browser import CHROMIUM, CHROMIUM_FLAGS, free_port, wait_until_healthy
from benchmarks.imports import COLUMNS, export_demo_events
from benchmarks.script_run_log import ScriptRun, read_runs
from dashboard.cli import server_command
from data_access.db import make_engine, upgrade_schema
from data_access.demo import load_demo
from data_access.models import Event

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OVERVIEW = "/?journey=northwind-current"
JOURNEY_PAGE = "/journey?journey=northwind-current&stage=onboarding"
FIRST_CHART = '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg.marks'
SETTLED = '[data-testid="stApp"][data-test-script-state="notRunning"]'
# what a page must never show: an exception, a lock, the shared-page race, a fault of the database
NEVER_SHOWN = ("Traceback", "database is locked", "cannot be called directly", "Cannot use the database", "Error:")
TIMEOUT_MS = 300_000
RATIO_TARGET = 3.0


@dataclass
class Load:
    """One page load in one browser session: seconds from `goto` to the first chart and to the page settled."""

    path: str
    first_chart: float
    settled: float


@dataclass
class Measured:
    """One database and one way of importing: what the sessions saw, the server measured and the import did."""

    database: str
    import_from: str
    sessions: int
    alone: list[Load] = field(default_factory=list)
    loaded: list[Load] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    runs_alone: list[ScriptRun] = field(default_factory=list)
    runs_loaded: list[ScriptRun] = field(default_factory=list)
    import_seconds: float = 0.0
    import_result: str = ""
    events_before: int = 0
    events_after: int = 0
    load_average: list[float] = field(default_factory=list)
    server_log_problems: list[str] = field(default_factory=list)


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]


def figures(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), p90(values)


def events_in(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(Event)).scalar_one())
    finally:
        engine.dispose()


def import_file(folder: Path, events: int) -> tuple[Path, Path]:
    """New events of the demo company (seed 8) as a customer's Parquet export, and its mapping; kept for reuse."""
    data, mapping = folder / f"import-{events}.parquet", folder / "import-mapping.yaml"
    mapping.write_text("kind: events\ncolumns: {" + ", ".join(f"{c}: {c}" for c in COLUMNS) + "}\n", encoding="utf-8")
    if data.exists():
        return data, mapping
    with tempfile.TemporaryDirectory(dir=folder) as scratch_folder:
        scratch = make_engine(f"sqlite:///{Path(scratch_folder) / 'scratch.db'}")
        upgrade_schema(scratch)
        load_demo(scratch, events=events, seed=8)
        _map, files = export_demo_events(scratch, Path(scratch_folder))
        scratch.dispose()
        files["parquet"].rename(data)
    return data, mapping


@contextmanager
def demo_database(kind: str, *, events: int, folder: Path, postgres_url: str | None) -> Iterator[str]:
    """A database of this run's own holding the demo company: a SQLite file or a PostgreSQL database `load_…`."""
    if kind == "sqlite":
        path = folder / f"load-{uuid.uuid4().hex[:8]}.db"
        engine = make_engine(f"sqlite:///{path}")
        try:
            upgrade_schema(engine)
            load_demo(engine, events=events, seed=7)
            engine.dispose()
            yield f"sqlite:///{path}"
        finally:
            engine.dispose()
            for leftover in folder.glob(f"{path.name}*"):
                leftover.unlink()
        return
    if not postgres_url:
        raise SystemExit("PostgreSQL needs --postgres-url or ATLAS_TEST_POSTGRES_URL")
    server = make_url(postgres_url)
    name = f"load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        upgrade_schema(engine)
        load_demo(engine, events=events, seed=7)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def timed_server(database_url: str, *, port: int, folder: Path) -> Iterator[tuple[str, Path, Path]]:
    """`journey-atlas serve`'s process with its script runs logged: base URL, runs log, server log."""
    import subprocess

    runs_log, server_log = folder / f"runs-{port}.log", folder / f"server-{port}.log"
    runs_log.write_bytes(b"")
    command = server_command("127.0.0.1", port)
    at = command.index("dashboard.server")
    command[at : at + 1] = ["benchmarks.script_run_log", str(runs_log)]
    env = os.environ | {"ATLAS_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    with server_log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, what="the dashboard", timeout=180)
        deadline = time.monotonic() + 600
        while "warm-up:" not in server_log.read_text(errors="replace") and time.monotonic() < deadline:
            time.sleep(0.2)  # a benchmark's own wait for a log line, not a test
        yield url, runs_log, server_log
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def open_page(page: Page, url: str, errors: list[str]) -> Load:
    """Open `url`; wait for its first chart and for the run to finish; note any error text it shows."""
    started = time.perf_counter()
    await page.goto(url, wait_until="commit")
    await page.locator(FIRST_CHART).first.wait_for(state="visible")
    first = time.perf_counter() - started
    await page.locator(SETTLED).wait_for(state="attached")
    await page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached")
    settled = time.perf_counter() - started
    shown = await page.locator('[data-testid="stMain"]').inner_text()
    said = [word for word in NEVER_SHOWN if word in shown]
    if said or await page.locator('[data-testid="stException"]').count():
        errors.append(f"{url}: {', '.join(said) or 'an exception'}: {shown[:300]!r}")
    return Load(url.split("127.0.0.1", 1)[-1].split("/", 1)[-1].split("?")[0] or "overview", first, settled)


async def session(page: Page, base: str, found: Measured, importing: asyncio.Task[None], rounds: int) -> None:
    """One person: the overview, then the journey page, over and over until the import is done."""
    done = 0
    while done < rounds or not importing.done():
        for path in (OVERVIEW, JOURNEY_PAGE):
            try:
                found.loaded.append(await open_page(page, base + path, found.errors))
            except Exception as error:  # a page that never draws is an error of the run, not of the benchmark
                found.errors.append(f"{base + path}: {str(error).splitlines()[0]}")
        done += 1


async def import_by_cli(database_url: str, data: Path, mapping: Path, found: Measured) -> None:
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dashboard.cli", "import", "events", str(data), "--mapping", str(mapping),
        cwd=ROOT, env=os.environ | {"ATLAS_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    found.import_seconds = time.perf_counter() - started
    found.import_result = out.decode().strip() if process.returncode == 0 else f"FAILED: {err.decode()[-500:]}"


async def import_by_page(browser: Browser, base: str, data: Path, mapping: Path, found: Measured) -> None:
    """The Import page: the mapping typed in, the file uploaded and checked, Import clicked, until it says so."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS * 2)
    try:
        await page.goto(base + "/import")
        await page.get_by_role("textbox", name="Mapping (YAML)").fill(mapping.read_text(encoding="utf-8"))
        await page.get_by_role("textbox", name="Mapping (YAML)").blur()
        started = time.perf_counter()
        await page.locator('[data-testid="stFileUploaderDropzone"] input[type="file"]').last.set_input_files(str(data))
        await page.get_by_role("button", name="Import", exact=True).and_(page.locator(":enabled")).wait_for()
        await page.get_by_role("button", name="Import", exact=True).click()
        success = page.get_by_test_id("stAlertContentSuccess").or_(page.get_by_test_id("stAlertContentError"))
        await success.first.wait_for()
        found.import_seconds = time.perf_counter() - started
        said = await success.first.inner_text()
        ok = await page.get_by_test_id("stAlertContentSuccess").count()
        found.import_result = said.strip() if ok else f"FAILED: {said.strip()[:500]}"
    except Exception as error:
        found.import_seconds = time.perf_counter() - started if "started" in locals() else 0.0
        found.import_result = f"FAILED: {str(error).splitlines()[0]}"
    finally:
        await context.close()


async def sample_load(found: Measured, stop: asyncio.Event) -> None:
    while not stop.is_set():
        found.load_average.append(os.getloadavg()[0])
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=5)


def chromium_at(nice: int, folder: Path, *, idle: bool = False) -> Path:
    """Debian's Chromium, or a wrapper that starts it (and so every process it forks) at `nice` priority, and
    with `idle` in the idle scheduling class."""
    if nice == 0 and not idle:
        return CHROMIUM
    wrapper = folder / f"chromium-nice-{nice}{'-idle' if idle else ''}"
    idle_class = "chrt --idle 0 " if idle else ""
    wrapper.write_text(f'#!/bin/sh\nexec {idle_class}nice -n {nice} {CHROMIUM} "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    return wrapper


async def measure(
    database_url: str, kind: str, import_from: str, args: argparse.Namespace, data: Path, mapping: Path
) -> Measured:
    found = Measured(kind, import_from, args.sessions)
    with timed_server(database_url, port=args.port or free_port(), folder=args.workdir) as (base, runs_log, server_log):
        async with async_playwright() as playwright:
            chromium = chromium_at(args.browser_nice, args.workdir, idle=args.browser_idle)
            browser = await playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
            contexts = [
                await browser.new_context(viewport={"width": 1280, "height": 800}) for _ in range(args.sessions)
            ]
            pages = [await context.new_page() for context in contexts]
            for page in pages:
                page.set_default_timeout(TIMEOUT_MS)
            for path in (OVERVIEW, JOURNEY_PAGE):  # each page once, not counted: the session's first run
                await open_page(pages[0], base + path, found.errors)
            start = runs_log.stat().st_size
            for view in range(args.baseline_views):
                path = (OVERVIEW, JOURNEY_PAGE)[view % 2]
                found.alone.append(await open_page(pages[0], base + path, found.errors))
            middle = runs_log.stat().st_size
            found.events_before = events_in(database_url)
            stop = asyncio.Event()
            sampler = asyncio.create_task(sample_load(found, stop))
            importing = asyncio.create_task(
                import_by_cli(database_url, data, mapping, found)
                if import_from == "cli"
                else import_by_page(browser, base, data, mapping, found)
            )
            await asyncio.gather(*(session(page, base, found, importing, args.rounds) for page in pages))
            await importing
            stop.set()
            await sampler
            found.runs_alone = read_runs(runs_log, start=start, end=middle)
            found.runs_loaded = read_runs(runs_log, start=middle)
            found.events_after = events_in(database_url)
            await pages[0].reload()  # the data after the import, on a page that still draws
            await open_page(pages[0], base + OVERVIEW, found.errors)
            for context in contexts:
                await context.close()
            await browser.close()
        log = server_log.read_text(errors="replace")
        found.server_log_problems = [w for w in ("Traceback", "database is locked") if w in log]
    return found


def lines_for(found: Measured) -> list[str]:
    """The run's figures as Markdown, also printed."""
    wall_alone, wall_loaded = figures([r.wall for r in found.runs_alone]), figures([r.wall for r in found.runs_loaded])
    cpu_alone, cpu_loaded = figures([r.cpu for r in found.runs_alone]), figures([r.cpu for r in found.runs_loaded])
    ratio, ratio_p90 = wall_loaded[0] / wall_alone[0], wall_loaded[1] / wall_alone[1]
    verdict = "**met**" if max(ratio, ratio_p90) <= RATIO_TARGET else "**missed**"
    first_alone, first_loaded = (
        figures([x.first_chart for x in found.alone]),
        figures([x.first_chart for x in found.loaded]),
    )
    settled_alone, settled_loaded = (
        figures([x.settled for x in found.alone]),
        figures([x.settled for x in found.loaded]),
    )
    load = found.load_average
    lines = [
        f"### {found.database}, import from the {'command line' if found.import_from == 'cli' else 'Import page'}",
        "",
        f"- loads: {len(found.alone)} alone, {len(found.loaded)} by {found.sessions} sessions during the import; "
        f"errors: **{len(found.errors)}**; "
        f"server log: {', '.join(found.server_log_problems) or 'no traceback, no lock'}",
        f"- import: {found.import_seconds:.1f} s; events {found.events_before:,} → {found.events_after:,}; "
        f"{found.import_result.splitlines()[0] if found.import_result else ''}",
        f"- load average (1 min) during the load: {min(load):.1f}–{max(load):.1f}, median {statistics.median(load):.1f}"
        if load
        else "- load average: not sampled",
        "",
        "| per page view | alone, median / p90 | under load, median / p90 | ratio of medians / p90s |",
        "| --- | --- | --- | --- |",
        f"| server script run, wall-clock | {wall_alone[0]:.3f} / {wall_alone[1]:.3f} s | "
        f"{wall_loaded[0]:.3f} / {wall_loaded[1]:.3f} s | {ratio:.2f}× / {ratio_p90:.2f}× "
        f"(target ≤ {RATIO_TARGET:.0f}× at both: {verdict}) |",
        f"| server script run, the run's own CPU | {cpu_alone[0]:.3f} / {cpu_alone[1]:.3f} s | "
        f"{cpu_loaded[0]:.3f} / {cpu_loaded[1]:.3f} s | {cpu_loaded[0] / cpu_alone[0]:.2f}× / "
        f"{cpu_loaded[1] / cpu_alone[1]:.2f}× |",
        f"| browser, goto → first chart | {first_alone[0]:.2f} / {first_alone[1]:.2f} s | "
        f"{first_loaded[0]:.2f} / {first_loaded[1]:.2f} s | {first_loaded[0] / first_alone[0]:.2f}× / "
        f"{first_loaded[1] / first_alone[1]:.2f}× |",
        f"| browser, goto → settled | {settled_alone[0]:.2f} / {settled_alone[1]:.2f} s | "
        f"{settled_loaded[0]:.2f} / {settled_loaded[1]:.2f} s | {settled_loaded[0] / settled_alone[0]:.2f}× / "
        f"{settled_loaded[1] / settled_alone[1]:.2f}× |",
        "",
    ]
    lines += [f"- error: {error}" for error in found.errors[:10]]
    return lines


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", nargs="+", choices=("sqlite", "postgresql"), default=None,
                        help="default: SQLite, and PostgreSQL when a server URL is given")  # fmt: skip
    parser.add_argument("--postgres-url", default=os.environ.get("ATLAS_TEST_POSTGRES_URL"))
    parser.add_argument("--events", type=int, default=200_000, help="the demo's events in the served database")
    parser.add_argument("--import-events", type=int, default=500_000, help="events imported during the load")
    parser.add_argument("--import-from", choices=("cli", "page"), nargs="+", default=["cli"])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2, help="each session's overview + journey page, at least")
    parser.add_argument("--baseline-views", type=int, default=20, help="loads by the single session")
    parser.add_argument("--browser-nice", type=int, default=19, choices=range(20), metavar="0..19",
                        help="the browsers' CPU priority (nice); 0: as any process")  # fmt: skip
    parser.add_argument("--browser-idle", action="store_true", help="the browsers in the idle scheduling class")
    parser.add_argument("--port", type=int, default=8741)
    parser.add_argument("--workdir", type=Path, default=ROOT / ".local" / "load")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS-load.md")
    return parser


def write_results(
    args: argparse.Namespace, argv: list[str] | None, load_before: tuple[float, float, float], results: list[Measured]
) -> None:
    header = [
        "# Load held: sessions opening pages while an import runs",
        "",
        f"`python -m benchmarks.load {' '.join(argv if argv is not None else sys.argv[1:])}`".replace("  ", " "),
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; load average before: {load_before[0]:.1f}. "
        f"{args.events:,} demo events served; {args.import_events:,} events imported; {args.sessions} sessions, "
        f"each opening the overview and the Onboarding journey page in turn until the import is done "
        f"(at least {args.rounds} rounds); the single session's {args.baseline_views} loads come first. "
        f"The browsers ran at nice {args.browser_nice}{' in the idle scheduling class' if args.browser_idle else ''} "
        "(the server and the import at nice 0).",
        "",
        "Script run: the page's run in the server (`dashboard.routes.run_timed`), wall-clock and the run's own "
        "thread CPU time; browser times from `goto` in a context of its own per session (Chromium).",
        "",
    ]
    body = [line for found in results for line in lines_for(found)]
    args.output.write_text("\n".join(header + body) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    databases = args.databases or (["sqlite", "postgresql"] if args.postgres_url else ["sqlite"])
    args.workdir.mkdir(parents=True, exist_ok=True)
    data, mapping = import_file(args.workdir, args.import_events)
    results: list[Measured] = []
    load_before = os.getloadavg()
    for kind in databases:
        for import_from in args.import_from:  # one way at a time, each on a fresh copy of the demo
            with demo_database(kind, events=args.events, folder=args.workdir, postgres_url=args.postgres_url) as url:
                found = asyncio.run(measure(url, kind, import_from, args, data, mapping))
            results.append(found)
            print("\n".join(lines_for(found)), flush=True)
            write_results(args, argv, load_before, results)  # after each part: an interrupted run keeps its figures
    print(f"Results written to {args.output}")
    return 1 if any(found.errors or found.import_result.startswith("FAILED") for found in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())

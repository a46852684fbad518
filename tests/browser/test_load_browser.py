"""Load held: many sessions opening the overview and a journey page while an import runs, on SQLite and
PostgreSQL; and two app processes on one PostgreSQL database seeing each other's writes after a reload.

Marked slow: the load test takes about a minute per database on two cores. Its twenty browser sessions run in
Linux's idle scheduling class, as in `benchmarks.load --browser-idle`: they stand in for people's own computers,
so they take only the CPU that the server and the import leave.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from benchmarks.browser import CHROMIUM_FLAGS
from benchmarks.imports import COLUMNS, export_demo_events
from benchmarks.load import chromium_at
from data_access.db import make_engine, upgrade_schema
from data_access.demo import load_demo
from data_access.models import Event
from tests.browser.conftest import ACTION_TIMEOUT_MS, ROOT, start_server, wait_for_app_run
from tests.conftest import DEMO_EVENTS, scratch_postgres_database

pytestmark = pytest.mark.slow

SESSIONS = 20
ROUNDS = 1  # at least: each session opens both pages this many times, then again while the import runs
IMPORT_EVENTS = 30_000
JOURNEY_PAGE = "/journey?journey=northwind-current&stage=onboarding"
# what a page must never show: an exception, a lock, the shared-page race, a fault of the database
NEVER_SHOWN = ("Traceback", "database is locked", "cannot be called directly", "Cannot use the database", "Error:")


@pytest.fixture(scope="module")
def import_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """New events of the demo company (another seed) as a customer's export, and its mapping."""
    folder = tmp_path_factory.mktemp("load-import")
    scratch = make_engine(f"sqlite:///{folder / 'scratch.db'}")
    upgrade_schema(scratch)
    load_demo(scratch, events=IMPORT_EVENTS, seed=8)
    _map, files = export_demo_events(scratch, folder)
    scratch.dispose()
    mapping = folder / "mapping.yaml"
    mapping.write_text("kind: events\ncolumns: {" + ", ".join(f"{c}: {c}" for c in COLUMNS) + "}\n", encoding="utf-8")
    return files["parquet"], mapping


@pytest.fixture(scope="module")
def idle_browser(playwright: Playwright, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Chromium at nice 19 in the idle scheduling class (and every process it starts)."""
    chromium = chromium_at(19, tmp_path_factory.mktemp("chromium"), idle=True)
    launched = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def postgres_demo_url() -> Iterator[str]:
    """A PostgreSQL database of this module's own, holding the small demo."""
    with scratch_postgres_database("atlas_load") as url:
        engine = make_engine(url)
        load_demo(engine, events=DEMO_EVENTS, seed=7)
        engine.dispose()
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, demo_database_url: str, tmp_path: Path) -> str:
    """The demo on SQLite (a copy, as the import writes to it) or on PostgreSQL."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_demo_url"))
    copy = tmp_path / "atlas.db"
    shutil.copyfile(str(make_url(demo_database_url).database), copy)
    return f"sqlite:///{copy}"


def _events(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(Event)).scalar_one()
    engine.dispose()
    return int(count)


def _settled(page: Page) -> None:
    """The page has run and shows nothing of an error."""
    wait_for_app_run(page)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    shown = page.locator('[data-testid="stMain"]').inner_text()
    assert not [word for word in NEVER_SHOWN if word in shown], shown[:2000]


def _load_round(pages: list[Page], url: str) -> list[float]:
    """Every session opens `url` at once; seconds from asking to a settled page, per session."""
    started = []
    for page in pages:
        started.append(time.perf_counter())
        page.goto(url, wait_until="commit")
    seconds = []
    for page, start in zip(pages, started, strict=True):
        _settled(page)
        seconds.append(time.perf_counter() - start)
    return seconds


def test_sessions_load_pages_while_an_import_runs(
    idle_browser: Browser, database_url: str, import_file: tuple[Path, Path], tmp_path: Path
) -> None:
    """20 sessions open the overview and a journey page over and over during an import: no error on any
    page, the import succeeds; the pages' time to settle, alone and under load, is printed."""
    server, base = start_server(database_url, tmp_path / "streamlit.log")
    contexts = [idle_browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(SESSIONS)]
    try:
        pages = [context.new_page() for context in contexts]
        for page in pages:
            page.set_default_timeout(ACTION_TIMEOUT_MS * 4)
        alone = _load_round(pages[:1], base + "/") + _load_round(pages[:1], base + JOURNEY_PAGE)
        before = _events(database_url)
        data, mapping = import_file
        importer = subprocess.Popen(
            [sys.executable, "-m", "dashboard.cli", "import", "events", str(data), "--mapping", str(mapping)],
            cwd=ROOT,
            env=os.environ | {"ATLAS_DATABASE_URL": database_url},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        loaded: list[float] = []
        rounds = 0
        while rounds < ROUNDS or importer.poll() is None:
            loaded += _load_round(pages, base + "/") + _load_round(pages, base + JOURNEY_PAGE)
            rounds += 1
        out, err = importer.communicate(timeout=60)
        assert importer.returncode == 0, err
        assert _events(database_url) > before
        _load_round(pages[:1], base + "/")  # the page after the import still draws
        print(
            f"\n{make_url(database_url).get_backend_name()}: {len(loaded)} loads in {rounds} rounds of {SESSIONS} "
            f"sessions during the import; settled in {statistics.median(alone):.1f} s alone (median), "
            f"{statistics.median(loaded):.1f} s under load (median; the browsers share the machine); {out.strip()}"
        )
    finally:
        for context in contexts:
            context.close()
        server.terminate()
        server.wait(timeout=20)
    log = (tmp_path / "streamlit.log").read_text(errors="replace")
    assert "Traceback" not in log and "database is locked" not in log, log[-3000:]


def test_two_app_processes_see_each_others_notes(browser: Browser, postgres_demo_url: str, tmp_path: Path) -> None:
    """A note added through one app process shows on the other after a reload (one PostgreSQL database)."""
    first, first_url = start_server(postgres_demo_url, tmp_path / "first.log")
    second, second_url = start_server(postgres_demo_url, tmp_path / "second.log")
    note = f"Heard at the desk {uuid.uuid4().hex[:8]}"
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        reader = context.new_page()
        reader.set_default_timeout(ACTION_TIMEOUT_MS)
        reader.goto(second_url + JOURNEY_PAGE)
        _settled(reader)
        expect(reader.get_by_text(note)).to_have_count(0)
        writer = context.new_page()
        writer.set_default_timeout(ACTION_TIMEOUT_MS)
        writer.goto(first_url + JOURNEY_PAGE)
        _settled(writer)
        writer.get_by_label("Your name").fill("Front desk")
        writer.get_by_label("Note", exact=True).fill(note)
        writer.get_by_role("button", name="Add note").click()
        expect(writer.get_by_text("Note added.")).to_be_visible()
        reader.reload()
        _settled(reader)
        expect(reader.get_by_text(note)).to_be_visible()
    finally:
        context.close()
        for server in (first, second):
            server.terminate()
            server.wait(timeout=20)

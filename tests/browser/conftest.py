"""Browser fixtures: a Journey Atlas server on a demo database, and Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from benchmarks.browser import CHROMIUM, CHROMIUM_FLAGS, free_port, wait_until_healthy

ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder `browser`, so `-m "not browser"` leaves them out (a conftest's
    `pytestmark` does not apply to the modules beside it)."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


# One patience for a loaded machine: an assertion waits as long as an action may take.
ACTION_TIMEOUT_MS = 30_000
expect.set_options(timeout=ACTION_TIMEOUT_MS)


def start_server(
    database_url: str, log: Path, port: int | None = None, settings: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """A dashboard on `database_url`; `settings` are more ATLAS_* variables (e.g. ATLAS_HOST)."""
    port = port or free_port()
    served = {"ATLAS_DATABASE_URL": database_url, "ATLAS_DRAW_ABOVE_THE_FOLD_FIRST": "true"}  # as a browser sees it
    env = os.environ | served | (settings or {})
    command = [
        sys.executable, "-m", "streamlit", "run", "dashboard/app.py",
        "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(url, server, what="the dashboard", timeout=90.0)
    return server, url


@pytest.fixture(scope="module")
def app_url(demo_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a running dashboard on the demo database."""
    server, url = start_server(demo_database_url, tmp_path_factory.mktemp("server") / "streamlit.log")
    yield url
    server.terminate()
    server.wait(timeout=20)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver, once per test session (it runs one at a time)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed (apt-get install -y chromium)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(ACTION_TIMEOUT_MS)
    yield opened
    context.close()


def wait_for_app_run(page: Page) -> None:
    """Wait until Streamlit has finished running the page script."""
    expect(page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')).to_be_attached(timeout=60_000)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=60_000)

"""Time to visible in Debian's Chromium (Playwright), and the app server's peak memory.

Every load opens a fresh browser context (no cache, no cookies) at 1280 × 800 and is timed from `goto` to
what a person waits for: the first chart drawn (a Vega canvas or SVG) and the page settled (Streamlit has
finished running the script). The yardsticks are two pages served by a separate, minimal Streamlit script:
a trivial page (`st.markdown`) and a page with one small Altair bar chart. Cold is the first visitor after
the server started (the overview, then a journey page, each the first of its kind); warm is a later visitor.
The click is on a grid cell of a settled overview, timed until the journey page shows its first chart.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.common import Timing, peak_memory_mib
from dashboard.cli import APP, server_command

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
TIMEOUT_MS = 180_000
ROOT = APP.parent.parent
FIRST_CHART = '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg.marks'
DRAWING_REST = "Drawing the rest of the page…"  # dashboard.components.frame's placeholder below the fold
SETTLED = '[data-testid="stApp"][data-test-script-state="notRunning"]'
YARDSTICK_APP = """\
import altair as alt
import streamlit as st

if st.query_params.get("page") == "chart":
    bars = [{"stage": f"Stage {i}", "customers": 100 * (8 - i)} for i in range(8)]
    chart = alt.Chart(alt.Data(values=bars)).mark_bar().encode(x="stage:N", y="customers:Q")
    st.altair_chart(chart, width="stretch")
else:
    st.markdown("Journey Atlas benchmark: a trivial page")
"""


def chromium_available() -> bool:
    return CHROMIUM.exists()


@dataclass
class BrowserTimings:
    """Seconds per measurement, each a list over runs; the app's peak memory in MiB."""

    runs: dict[str, list[float]] = field(default_factory=dict)
    peak_memory_mib: float | None = None
    chromium: str = ""

    def add(self, name: str, seconds: float) -> None:
        self.runs.setdefault(name, []).append(seconds)

    def note_memory(self, pid: int) -> None:
        """Keep the highest peak of the app's server processes."""
        peak = peak_memory_mib(pid)
        if peak is not None:
            self.peak_memory_mib = max(peak, self.peak_memory_mib or 0.0)

    def timings(self) -> dict[str, Timing]:
        return {name: Timing(tuple(found)) for name, found in self.runs.items()}


class PageDidNotShow(RuntimeError):
    """A page did not show what the benchmark waits for; says which page and what."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_healthy(url: str, server: subprocess.Popen[bytes], *, what: str, timeout: float = 120.0) -> None:
    """Wait until the Streamlit server at `url` answers its health check; `what` names it in the errors."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        try:  # a moment for the server, noticing at once if it exits instead of starting
            server.wait(timeout=0.25)
        except subprocess.TimeoutExpired:
            continue
        raise RuntimeError(f"{what} exited with code {server.returncode}")
    raise TimeoutError(f"{what} did not answer at {url} within {timeout:.0f} s")


@contextmanager
def streamlit_server(script: Path, *, database_url: str, port: int, log: Path) -> Iterator[tuple[str, int]]:
    """A headless Streamlit server running `script`: its base URL and process id, stopped afterwards."""
    with socket.socket() as probe:  # another server on the port would answer the health check in its place
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: a closed socket is no owner
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise PageDidNotShow(f"port {port} is taken (a server left from an interrupted run?)") from None
    command = server_command("127.0.0.1", port)
    command[command.index(str(APP))] = str(script)
    env = os.environ | {"ATLAS_DATABASE_URL": database_url, "ATLAS_DRAW_ABOVE_THE_FOLD_FIRST": "true"}
    with log.open("ab") as output:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, server, what="the Streamlit server for the benchmark")
        yield url, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


class Stopwatch:
    """Fresh-context page loads in one Chromium, each timed from `goto`."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser

    def load(
        self, url: str, *, until: Callable[[Page], None], then: Callable[[Page], None] | None = None
    ) -> list[float]:
        """Seconds from `goto` to `until` (and on to `then`, when given) in a fresh browser context."""
        context = self.browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        waiting_for = f"{url}: {until.__name__}"
        try:
            started = time.perf_counter()
            page.goto(url)
            until(page)
            marks = [time.perf_counter() - started]
            if then is not None:
                waiting_for = f"{url}: {then.__name__}"
                then(page)
                marks.append(time.perf_counter() - started)
            return marks
        except Exception as error:
            raise PageDidNotShow(f"{waiting_for}: {str(error).splitlines()[0]}") from error
        finally:
            context.close()

    def click_cell(self, overview_url: str, *, stage_name: str) -> float:
        """Seconds from a click on a grid cell of a settled overview to the stage's journey page with a chart."""
        context = self.browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        try:
            page.goto(overview_url)
            first_chart(page)
            settled(page)
            cell = page.locator(
                f'path[aria-roledescription="rect mark"][aria-label*="stage: {stage_name}"]'
                '[aria-label*="channel_line: "]'
            ).first
            try:
                cell.wait_for(state="visible")
            except Exception as error:
                raise PageDidNotShow(f"{overview_url}: no grid cell of {stage_name}: {error}") from error
            started = time.perf_counter()
            cell.click()
            page.wait_for_url("**/journey?**")
            page.get_by_role("heading", level=1, name=f"{stage_name} — journey map").wait_for(state="visible")
            first_chart(page)
            return time.perf_counter() - started
        finally:
            context.close()


def first_chart(page: Page) -> None:
    page.locator(FIRST_CHART).first.wait_for(state="visible")


def settled(page: Page) -> None:
    """Streamlit's script run finished with the whole page drawn: sections below the fold come in a run of
    their own once the first chart is drawn, so their placeholder must be gone too."""
    page.get_by_text(DRAWING_REST).wait_for(state="detached")
    page.locator(SETTLED).wait_for(state="attached")
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached")


def text_shown(text: str) -> Callable[[Page], None]:
    def wait(page: Page) -> None:
        page.get_by_text(text).first.wait_for(state="visible")

    wait.__name__ = f"text {text!r} shown"
    return wait


def time_browser(
    *, database_url: str, journey: str, stage_slug: str, stage_name: str, runs: int, port: int | None, log: Path
) -> BrowserTimings:
    """Yardsticks, then the app cold (`runs` server starts) and warm, the click, and the app's peak memory."""
    from playwright.sync_api import sync_playwright

    port = port or free_port()
    found = BrowserTimings()
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as folder, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        watch = Stopwatch(browser)
        yardstick = Path(folder) / "yardstick.py"
        yardstick.write_text(YARDSTICK_APP, encoding="utf-8")
        with streamlit_server(yardstick, database_url=database_url, port=port, log=log) as (url, _pid):
            watch.load(url, until=text_shown("a trivial page"))  # the server's first page, not timed
            for _ in range(runs):
                found.add("trivial page", watch.load(url, until=text_shown("a trivial page"))[0])
                found.add("one small Altair chart", watch.load(f"{url}/?page=chart", until=first_chart)[0])
        overview = f"/?journey={journey}"
        journey_page = f"/journey?journey={journey}&stage={stage_slug}"
        heading = text_shown(f"{stage_name} — journey map")
        for run in range(runs):
            with streamlit_server(APP, database_url=database_url, port=port, log=log) as (url, pid):
                chart, done = watch.load(url + overview, until=first_chart, then=settled)
                found.add("overview, cold: first chart", chart)
                found.add("overview, cold: settled", done)
                cold_journey = watch.load(url + journey_page, until=heading, then=first_chart)[1]
                found.add("journey page, cold: first chart", cold_journey)
                if run == runs - 1:  # the last server, now warm, serves the warm visitors
                    for _ in range(runs):
                        chart, done = watch.load(url + overview, until=first_chart, then=settled)
                        found.add("overview, warm: first chart", chart)
                        found.add("overview, warm: settled", done)
                        warm_journey = watch.load(url + journey_page, until=heading, then=first_chart)[1]
                        found.add("journey page, warm: first chart", warm_journey)
                        found.add(
                            "click on a grid cell → journey page",
                            watch.click_cell(url + overview, stage_name=stage_name),
                        )
                found.note_memory(pid)
        found.chromium = browser.version
        browser.close()
    return found

"""Time to visible in Chromium: the experience map and a journey page, cold (first visitor after a start) and
warm, against a page with one small Altair chart; medians of several fresh browser contexts.

    python -m benchmarks.first_draw --database /tmp/atlas-1m.db --runs 5 --port 8602

Serves the database with `journey-atlas serve` (which warms the default views in the background; the first
visit waits for its "warm-up:" line unless `--no-wait`), and with plain `streamlit run` for the cold figures
without warm-up. "First chart" is the first Vega view drawn;
"settled" is the script done and every chart on the page drawn. Prints seconds and ratios; run it on an
otherwise idle machine, and compare ratios rather than seconds between machines.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from benchmarks.browser import CHROMIUM, CHROMIUM_FLAGS

ROOT = Path(__file__).resolve().parents[1]
ONE_CHART = """
import altair as alt
import polars as pl
import streamlit as st

st.title("One chart")
frame = pl.DataFrame({"stage": list("ABCDEFGH"), "value": [3, 5, 2, 8, 6, 4, 7, 1]})
st.altair_chart(alt.Chart(frame).mark_bar().encode(x="stage:O", y="value:Q"), width="stretch")
"""
CHARTS_DRAWN = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
  return charts.length > 0 && charts.every(c => c.querySelector('svg .mark-group, canvas'));
}"""


@contextmanager
def server(command: list[str], *, database: str, port: int, log: Path) -> Iterator[str]:
    env = os.environ | {"ATLAS_DATABASE_URL": f"sqlite:///{database}", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def streamlit_run(script: Path, port: int) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false"]  # fmt: skip


def serve(port: int) -> list[str]:
    return [sys.executable, "-m", "dashboard.cli", "serve", "--port", str(port)]


def visit(browser: Browser, url: str) -> tuple[float, float]:
    """Seconds from goto to the first chart drawn, and to the page settled, in a fresh context."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page: Page = context.new_page()
    started = time.perf_counter()
    page.goto(url)
    page.locator('[data-testid="stVegaLiteChart"] svg .mark-group').first.wait_for(timeout=600_000)
    first = time.perf_counter() - started
    page.wait_for_function(CHARTS_DRAWN, timeout=600_000, polling=50)
    settled = time.perf_counter() - started
    context.close()
    return first, settled


def warmed_up(log: Path, timeout: float = 600) -> None:
    """Wait until the server's log says the warm-up is done."""
    deadline = time.monotonic() + timeout
    while "warm-up:" not in log.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.2)


def median(visits: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(v[0] for v in visits), statistics.median(v[1] for v in visits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", required=True, help="a SQLite file filled with `journey-atlas demo`")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--port", type=int, default=8602)
    parser.add_argument("--stage", default="onboarding")
    parser.add_argument("--no-wait", action="store_true",
                        help="visit as soon as `serve` answers, not once its warm-up is done")  # fmt: skip
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="atlas-first-draw-"))
    reference = work / "one_chart.py"
    reference.write_text(ONE_CHART)
    journey = f"journey?journey=northwind-current&stage={args.stage}"
    results: dict[str, tuple[float, float]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        with server(streamlit_run(reference, args.port), database=args.database, port=args.port,
                    log=work / "reference.log") as url:  # fmt: skip
            visit(browser, url)
            results["one small Altair chart, warm"] = median([visit(browser, url) for _ in range(args.runs)])
        for name, path in (("experience map", ""), ("journey page", journey)):
            with server(streamlit_run(ROOT / "dashboard" / "app.py", args.port), database=args.database,
                        port=args.port, log=work / "plain.log") as url:  # fmt: skip
                results[f"{name}, cold, no warm-up"] = visit(browser, f"{url}/{path}")
            with server(serve(args.port), database=args.database, port=args.port, log=work / "serve.log") as url:
                if not args.no_wait:
                    warmed_up(work / "serve.log")
                results[f"{name}, first visitor after `serve`"] = visit(browser, f"{url}/{path}")
                results[f"{name}, warm"] = median([visit(browser, f"{url}/{path}") for _ in range(args.runs)])
        browser.close()
    base_first, base_settled = results["one small Altair chart, warm"]
    print(f"{'page':<52} {'first chart':>12} {'settled':>9} {'ratio first':>12} {'ratio settled':>14}")
    for name, (first, settled) in results.items():
        ratios = f"{first / base_first:>11.2f}x {settled / base_settled:>13.2f}x"
        print(f"{name:<52} {first:>11.2f}s {settled:>8.2f}s {ratios}")


if __name__ == "__main__":
    main()

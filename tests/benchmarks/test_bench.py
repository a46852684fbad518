"""`journey-atlas bench` at the smallest size: every section of RESULTS.md has numbers, and a difference stops it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete

from benchmarks.browser import chromium_available
from benchmarks.page_data import NumbersDiffer, check_numbers, default_view
from benchmarks.results import SECTIONS
from benchmarks.run import main as run_benchmark
from dashboard import cli
from data_access.db import make_engine, session_scope, upgrade_schema
from data_access.demo import load_demo
from data_access.models import EntryView
from tests.paths import ROOT

SIZE = "2000"
TIMING = re.compile(r"\| \d+(\.\d+)? (ms|s) \|")


def _sections(text: str) -> dict[str, str]:
    """Each `## ` section's body, by its heading."""
    parts = re.split(r"^(## .+)$", text, flags=re.MULTILINE)
    return {heading: body for heading, body in zip(parts[1::2], parts[2::2], strict=True)}


def _run(tmp_path: Path, *extra: str, own_process: bool = False) -> dict[str, str]:
    """Run the benchmark (`own_process`: as `python -m benchmarks.run`, so that its Playwright driver never meets
    the browser tests' one in the same process, which can run only one) and check what every run writes."""
    output = tmp_path / "RESULTS.md"
    arguments = ["--events", SIZE, "--runs", "1", "--output", str(output), "--workdir", str(tmp_path), *extra]
    if own_process:
        finished = subprocess.run(
            [sys.executable, "-m", "benchmarks.run", *arguments],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert finished.returncode == 0, finished.stderr[-3000:]
    else:
        assert run_benchmark(arguments) == 0
    sections = _sections(output.read_text(encoding="utf-8"))
    assert [heading for heading in SECTIONS if heading not in sections] == []
    assert re.search(r"\d+ cores, [\d.]+ GiB RAM", sections["## Machine"])
    assert re.search(
        r"Python 3\.\d+.*streamlit [\d.]+.*polars [\d.]+.*SQLAlchemy [\d.]+.*SQLite 3\.", sections["## Machine"]
    )
    for file_format in () if "--no-imports" in extra else ("parquet", "csv"):
        assert re.search(rf"\| sqlite \| [\d,]+ \| {file_format} \| \d", sections["## Import"])
    for what in (
        "overview data, cold",
        "overview data, warm",
        "journey page data (onboarding), cold",
        "peer (a)",
        "peer (b)",
    ):
        row = next(line for line in sections["## Page data"].splitlines() if what in line)
        assert TIMING.search(row), row
    assert "NPS and its answers" in sections["## Page data"]
    assert re.search(r"\| [\d.]+× \| context", sections["## Targets"])
    return sections


def test_bench_without_the_browser_writes_every_section(tmp_path: Path) -> None:
    """Import, page data and targets have numbers; the browser and memory sections say they were not run."""
    sections = _run(tmp_path, "--no-browser")
    assert "Not run" in sections["## Browser"]
    assert "Not measured" in sections["## Memory"]


def test_bench_without_imports_says_they_were_not_measured(tmp_path: Path) -> None:
    """`--no-imports` (for 10M events): page data and targets as usual, no import rows and a line saying so."""
    sections = _run(tmp_path, "--no-browser", "--no-imports")
    assert "Not measured (`--no-imports`)" in sections["## Import"]
    assert not re.search(r"\| sqlite \| [\d,]+ \| (parquet|csv) \|", sections["## Import"])


@pytest.mark.browser
def test_bench_with_the_browser_times_every_page(tmp_path: Path) -> None:
    """With Chromium, every page has a time, the app its peak memory, and the browser targets a verdict."""
    if not chromium_available():
        pytest.skip("Debian's Chromium is not installed (apt-get install -y chromium)")
    sections = _run(tmp_path, own_process=True)
    for page in ("trivial page", "one small Altair chart", "overview, cold: settled", "journey page, warm: first chart",
                 "click on a grid cell → journey page"):  # fmt: skip
        row = next(
            line for line in sections["## Browser"].splitlines() if line.startswith(f"| sqlite | 2,000 | {page} |")
        )
        assert TIMING.search(row), row
    assert re.search(r"\| sqlite \| 2,000 \| \d+ \|", sections["## Memory"])
    assert re.search(
        r"one-small-chart page \(≤ 1\.2\) \| sqlite \| 2,000 \| [\d.]+× \| \*\*(met|missed)\*\*", sections["## Targets"]
    )


def test_numbers_that_differ_stop_the_benchmark(tmp_path: Path) -> None:
    """A stage's entrants missing from the rollup the pages read (all customers: the view rollup) make the pages
    disagree with the polars peer: a clear stop."""
    engine = make_engine(f"sqlite:///{tmp_path / 'atlas.db'}")
    upgrade_schema(engine)
    load_demo(engine, events=int(SIZE), seed=7)
    with engine.connect() as connection:
        view = default_view(connection, stage_slug="onboarding")
        assert "NPS and its answers" in check_numbers(connection, view)
    with session_scope(engine) as session:
        session.execute(delete(EntryView).where(EntryView.stage_id == 1))
    with engine.connect() as connection, pytest.raises(NumbersDiffer, match="customers first reaching each stage"):
        check_numbers(connection, view)
    engine.dispose()


def test_the_cli_passes_its_arguments_to_the_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    """`journey-atlas bench` is the benchmark's own command line: a bad size is one clear usage error."""
    with pytest.raises(SystemExit) as stopped:
        cli.main(["bench", "--events", "5"])
    assert stopped.value.code == 2
    assert "5 events is outside 1,000..10,000,000" in capsys.readouterr().err


def test_bench_measures_databases_that_already_hold_the_demo(tmp_path: Path) -> None:
    """`--existing`: the databases named are measured as they are (no demo loaded), each at its own size."""
    url = f"sqlite:///{tmp_path / 'held.db'}"
    engine = make_engine(url)
    upgrade_schema(engine)
    load_demo(engine, events=3_000, seed=7)
    engine.dispose()
    output = tmp_path / "RESULTS.md"
    argv = ["--existing", url, "--no-browser", "--no-imports", "--runs", "1", "--output", str(output)]
    assert run_benchmark([*argv, "--workdir", str(tmp_path)]) == 0
    sections = _sections(output.read_text(encoding="utf-8"))
    row = next(line for line in sections["## Page data"].splitlines() if "overview data, cold" in line)
    assert re.match(r"\| sqlite \| [\d,]+ \|", row) and TIMING.search(row), row
    assert re.search(r"Demo load \(context\): sqlite [\d.]+k not timed \(loaded beforehand\)\.", sections["## Targets"])

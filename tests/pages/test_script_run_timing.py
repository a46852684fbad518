"""The server's own work per page view: each page's run is timed and logged when asked for, and only then."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from benchmarks.script_run_log import read_runs
from dashboard.routes import SCRIPT_RUNS
from tests.paths import APP


def _runs_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == SCRIPT_RUNS.name]


def test_each_run_of_a_page_is_logged_with_its_seconds(
    app_env: str, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """With the logger at DEBUG, every run of the overview logs its wall-clock and CPU seconds, and the
    benchmark reads them back."""
    caplog.set_level(logging.DEBUG, logger=SCRIPT_RUNS.name)
    app = AppTest.from_file(APP, default_timeout=90).run()
    app.run()
    assert not app.exception
    lines = _runs_logged(caplog)
    assert len(lines) == 2, lines
    log = tmp_path / "runs.log"
    log.write_text("\n".join(["some other line", *lines]) + "\n", encoding="utf-8")
    runs = read_runs(log)
    assert [run.page for run in runs] == ["/", "/"]
    for run in runs:
        assert 0 < run.cpu <= run.wall + 0.01  # one thread's CPU cannot outrun the clock
    assert read_runs(log, start=log.stat().st_size) == []


def test_nothing_is_logged_by_default(app_env: str, caplog: pytest.LogCaptureFixture) -> None:
    """At the default level a page's run logs no timing."""
    caplog.set_level(logging.INFO, logger=SCRIPT_RUNS.name)
    app = AppTest.from_file(APP, default_timeout=90).run()
    assert not app.exception
    assert _runs_logged(caplog) == []

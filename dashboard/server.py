"""The dashboard's server process: Streamlit's own `run`, with a warm-up started once the server is up.

`journey-atlas serve` runs `python -m dashboard.server APP [streamlit options]`. The warm-up has to run in
this process, because the cache it fills is this process's memory; it waits for Streamlit's runtime in a
thread of its own, so the server starts as fast as it did without it.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import time

from streamlit import runtime
from streamlit.runtime.runtime import RuntimeState
from streamlit.web import cli as streamlit_cli

LOG = logging.getLogger(__name__)
WAIT_SECONDS = 120
# Altair looks these up in `sys.modules` without importing them (an isinstance check while it turns a chart into a
# dict); Streamlit imports pandas lazily, in whichever script run needs it first. With two sessions' runs (or a run
# and the warm-up) in threads at once, the one building a chart could find pandas half-imported and fail with
# "partially initialized module 'pandas' has no attribute 'Timestamp'". Imported before the first thread starts,
# they are whole for every run.
SHARED_BEFORE_THREADS = ("numpy", "pandas")
# What the pages import that does not need Streamlit's runtime (`dashboard.cache` declares its loaders with
# Streamlit's cache, so it waits for it): the libraries and the project's own data and export modules, about 1.5 s
# of imports. Imported before the server answers, the first visitor's run (and the warm-up beside it) does not
# wait for them, and no two runs can find one of them half-imported either.
PAGES_NEED = (
    "pyarrow",
    "polars",
    "sqlalchemy",
    "alembic",
    "altair",
    "fpdf",
    "pydantic_settings",
    "sqlite3",
    "dashboard.settings",
    "data_access.db",
    "data_access.importing",
    "data_access.experience_map",
    "data_access.journey_map",
    "data_access.changes",
    "data_access.opportunities",
    "data_access.personas",
    "data_access.reviews",
    "dashboard.charts.experience_map",
    "dashboard.exports.report",
)


def import_shared_libraries() -> None:
    """Import, in the main thread, the libraries that script runs in several threads would otherwise race for,
    and what the pages need that does not need Streamlit's runtime (`PAGES_NEED`)."""
    for name in (*SHARED_BEFORE_THREADS, *PAGES_NEED):
        importlib.import_module(name)


def _warm_up_once_running() -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if runtime.exists() and runtime.get_instance().state != RuntimeState.INITIAL:
            # imported once the runtime exists, so the loaders are declared with Streamlit's cache in place
            from dashboard.warmup import start_warm_up

            start_warm_up()
            return
        time.sleep(0.1)
    LOG.warning("warm-up: Streamlit's runtime did not start within %d s; no warm-up", WAIT_SECONDS)


def main(argv: list[str]) -> None:
    """Start the warm-up watcher, then Streamlit (`streamlit run` with `argv`); never returns."""
    # the warm-up says on standard error what it computed, beside Streamlit's own lines
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("journey-atlas: %(message)s"))
    logging.getLogger("dashboard").addHandler(handler)
    logging.getLogger("dashboard").setLevel(logging.INFO)
    import_shared_libraries()
    threading.Thread(target=_warm_up_once_running, name="journey-atlas-warm-up-wait", daemon=True).start()
    streamlit_cli.main(args=["run", *argv], prog_name="streamlit")


if __name__ == "__main__":
    main(sys.argv[1:])

"""The app's pages as `st.Page` objects, shared by the router and by pages that link to each other.

`st.Page` only makes a whole page inside a script run (outside one, e.g. when the warm-up thread imports a
component, it gives an empty shell), so each page is made on first use in a run. It is kept in the session,
never shared between sessions: a page object carries a may-run-once flag that `st.navigation` sets and
running the page clears, so two sessions sharing one object could clear each other's ("This page cannot be
called directly"), as 1 load in 50 did with ten people opening pages at once.

`run_timed` runs the page the router chose and, when the `dashboard.script_runs` logger is enabled for DEBUG
(it is not by default: `benchmarks/load.py` turns it on in the server it starts), logs the run's wall-clock and
CPU seconds: the server's own work per page view, measured in the server.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.navigation.page import StreamlitPage
from streamlit.runtime.scriptrunner import get_script_run_ctx

PAGES = Path(__file__).resolve().parent.parent / "pages"

# name: (script, title, icon, url path; None for the default page at /)
_ROUTES: dict[str, tuple[str, str, str, str | None]] = {
    "EXPERIENCE_MAP": ("experience_map.py", "Experience map", ":material/map:", None),
    "JOURNEY_MAP": ("journey_map.py", "Journey map", ":material/route:", "journey"),
    "PERSONAS": ("personas.py", "Personas", ":material/groups:", "personas"),
    "COMPARE": ("compare.py", "Current vs future", ":material/compare_arrows:", "compare"),
    "IMPORT_DATA": ("import_data.py", "Import data", ":material/upload_file:", "import"),
}
SESSION_KEY = "atlas_routes"  # session state: this session's page objects, by name
SCRIPT_RUNS = logging.getLogger("dashboard.script_runs")


def __getattr__(name: str) -> Any:
    if name not in _ROUTES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    in_run = get_script_run_ctx(suppress_warning=True) is not None
    made: dict[str, Any] = st.session_state.setdefault(SESSION_KEY, {}) if in_run else {}
    if name not in made:
        script, title, icon, url_path = _ROUTES[name]
        options: dict[str, Any] = {"default": True} if url_path is None else {"url_path": url_path}
        made[name] = st.Page(PAGES / script, title=title, icon=icon, **options)
    return made[name]


def run_timed(page: StreamlitPage) -> None:
    """Run the chosen page (`st.navigation`'s answer); log its run's seconds when `SCRIPT_RUNS` says DEBUG.

    Wall-clock seconds include waiting for the other sessions' runs (one interpreter, one GIL); CPU seconds are
    this run's thread's own, so the two together tell the server's work from its queueing under load.
    """
    if not SCRIPT_RUNS.isEnabledFor(logging.DEBUG):
        page.run()
        return
    wall, cpu = time.perf_counter(), time.thread_time()
    try:
        page.run()
    finally:  # st.stop and st.rerun end a run with an exception: the run's work is still counted
        SCRIPT_RUNS.debug(
            "script run: page=/%s wall=%.4f cpu=%.4f",
            page.url_path,
            time.perf_counter() - wall,
            time.thread_time() - cpu,
        )

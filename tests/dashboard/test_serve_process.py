"""`journey-atlas serve` as a service: no terminal, no home directory, stopped by SIGTERM or SIGINT."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.paths import ROOT

START_SECONDS = 90
STOP_SECONDS = 10


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield f"sqlite:///{tmp_path_factory.mktemp('serve') / 'atlas.db'}"


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_runs_without_terminal_or_home_and_stops_cleanly_on_a_signal(
    database: str, stop: signal.Signals, tmp_path: Path
) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("HOME", "ATLAS_DATABASE_URL")}
    env |= {"ATLAS_DATABASE_URL": database, "ATLAS_DEMO_EVENTS": "1000", "PYTHONPATH": str(ROOT)}
    err = (tmp_path / "stderr").open("w+")
    command = [sys.executable, "-m", "dashboard.cli", "serve", "--port", str(port)]
    quiet = subprocess.DEVNULL
    server = subprocess.Popen(
        command, stdin=quiet, stdout=quiet, stderr=err, env=env, cwd=tmp_path, start_new_session=True
    )
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _healthy(port):
            assert server.poll() is None, f"serve ended with {server.returncode}: {(tmp_path / 'stderr').read_text()}"
            assert time.monotonic() < deadline, "the health URL never answered"
            with contextlib.suppress(subprocess.TimeoutExpired):  # a pause that notices at once if serve exits
                server.wait(timeout=0.5)
        server.send_signal(stop)
        status = server.wait(timeout=STOP_SECONDS)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    said = (tmp_path / "stderr").read_text()
    assert status == 0, said
    assert "Traceback" not in said and "email" not in said.lower()
    assert "the dashboard has stopped" in said
    assert _port_is_free(port), "the Streamlit child still holds the port"
    assert not _healthy(port)


def test_the_server_imports_what_altair_looks_up_before_any_script_run_starts() -> None:
    """Two first visitors at once: a chart built while another run imports pandas must find pandas whole.

    Altair checks `sys.modules` for pandas (without importing it) while it turns a chart into a dict, and Streamlit
    imports pandas lazily in whichever run needs it first; a run building a chart beside it once failed with
    "partially initialized module 'pandas' has no attribute 'Timestamp'". The server imports it before Streamlit
    starts any thread: checked here in a fresh interpreter, at the moment Streamlit would start.
    """
    probe = """
import sys
import altair, streamlit  # noqa: F401  what a script run has imported before its first chart
import dashboard.charts.experience_map  # noqa: F401
assert "pandas" not in sys.modules, "pandas is imported by then anyway: this test no longer shows the race"
from streamlit.web import cli as streamlit_cli
from dashboard import server
from altair.utils.schemapi import _get_optional_modules

def started(**_: object) -> None:
    found = _get_optional_modules(np_opt="numpy", pd_opt="pandas")
    print("pandas whole:", hasattr(found["pd_opt"], "Timestamp"), "numpy whole:", hasattr(found["np_opt"], "ndarray"))
    print("streamlit's cache used before its runtime:", "dashboard.cache" in sys.modules)
    before = set(sys.modules)
    import dashboard.cache, dashboard.components.frame, dashboard.components.journey_map  # noqa: F401, E401
    import dashboard.components.changes, dashboard.components.opportunities, dashboard.components.slides  # noqa
    import dashboard.components.comments, dashboard.components.personas, dashboard.components.import_data  # noqa
    import dashboard.components.future_state, dashboard.components.editing  # noqa: F401, E401
    print("libraries a page run would still import:", sorted({m.split(".")[0] for m in set(sys.modules) - before}))

streamlit_cli.main = started
server.threading.Thread = lambda **_: type("NoThread", (), {"start": lambda self: None})()
server.main(["dashboard/app.py"])
"""
    finished = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "pandas whole: True numpy whole: True" in finished.stdout
    # nothing declared a cached loader before Streamlit's runtime, and a page's run imports no library of its
    # own: only the project's modules that need Streamlit are left (`server.PAGES_NEED`)
    assert "streamlit's cache used before its runtime: False" in finished.stdout
    assert "libraries a page run would still import: ['dashboard', 'data_access']" in finished.stdout


def test_the_served_app_leaves_garbage_to_the_interpreter_rather_than_collecting_after_every_run() -> None:
    """A full collection after each script run held the interpreter's lock for every session; the project turns it off.

    Streamlit reads `.streamlit/config.toml` from the folder it runs in, as `journey-atlas serve` does from ROOT.
    """
    probe = "from streamlit import config; config.get_config_options(force_reparse=True); "
    probe += "print('collect after each run:', config.get_option('runner.postScriptGC'))"
    finished = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "collect after each run: False" in finished.stdout

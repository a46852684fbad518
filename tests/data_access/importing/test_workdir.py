"""Temporary folders of killed imports are removed at the next start; those of running imports are kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboard import cli
from dashboard.settings import get_settings
from data_access.importing.workdir import (
    IMPORT_PREFIX,
    UNLOCKED_GRACE_SECONDS,
    remove_abandoned_folders,
    work_folder,
)
from tests.paths import ROOT

# an import's work folder, held by a process of its own until it is killed (it waits on its stdin, which
# the test never closes before the kill)
HOLDER = """
import sys
from data_access.importing.workdir import work_folder
with work_folder() as folder:
    (folder / "staging.db").write_bytes(b"x" * 1_000_000)
    print(folder, flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary directory of the test's own, for this process and the processes it starts."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    yield tmp_path


@pytest.fixture
def running_import(temp_root: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=os.environ.copy(),
    )
    assert holder.stdout is not None
    folder = Path(holder.stdout.readline().strip())
    yield holder, folder
    holder.kill()
    holder.wait()


def test_folder_of_a_killed_import_is_removed_and_a_running_one_kept(
    running_import: tuple[subprocess.Popen[str], Path],
) -> None:
    holder, folder = running_import
    assert folder.is_dir() and folder.name.startswith(IMPORT_PREFIX)
    assert remove_abandoned_folders() == (0, 0)  # the import is running: its folder stays
    assert folder.is_dir()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert folder.is_dir()  # a SIGKILL runs no clean-up
    removed, freed = remove_abandoned_folders()
    assert (removed, freed >= 1_000_000) == (1, True)
    assert not folder.exists()


def test_a_finished_import_leaves_no_folder(temp_root: Path) -> None:
    with work_folder() as folder:
        (folder / "utf8.csv").write_text("a,b\n")
    assert not folder.exists() and list(temp_root.iterdir()) == []


def test_folder_without_a_lock_is_removed_only_when_a_day_old(temp_root: Path) -> None:
    """Folders left by an earlier release have no lock file: they are judged by their age."""
    old, recent = temp_root / f"{IMPORT_PREFIX}old", temp_root / f"{IMPORT_PREFIX}recent"
    old.mkdir()
    recent.mkdir()
    (old / "utf8.csv").write_text("a,b\n")
    day_ago = time.time() - UNLOCKED_GRACE_SECONDS - 60
    os.utime(old, (day_ago, day_ago))
    other = temp_root / "someone-else"
    other.mkdir()
    os.utime(other, (day_ago, day_ago))
    assert remove_abandoned_folders()[0] == 1
    assert not old.exists() and recent.is_dir() and other.is_dir()


def test_serve_removes_them_before_the_server_starts(
    running_import: tuple[subprocess.Popen[str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    holder, folder = running_import
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    monkeypatch.setenv("ATLAS_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("ATLAS_DEMO_EVENTS", "1000")
    get_settings.cache_clear()

    def start(_command: list[str], **_: Any) -> int:
        assert not folder.exists()
        return 0

    monkeypatch.setattr(cli, "run_server", start)
    assert cli.main(["serve"]) == 0
    assert "removed 1 temporary folder(s) of interrupted imports" in capsys.readouterr().err
    get_settings.cache_clear()


def test_the_app_removes_them_when_it_makes_its_engine(
    running_import: tuple[subprocess.Popen[str], Path], app_env: str
) -> None:
    """`streamlit run` without `serve`: the first page's run makes the engine and clears the folders."""
    from streamlit.testing.v1 import AppTest

    from tests.paths import APP

    holder, folder = running_import
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    app = AppTest.from_file(APP, default_timeout=90).run()
    assert not app.exception
    assert not folder.exists()

"""A fault of the database through the command line: one line naming the setting, exit status 2, no password.

`init`, `import events` and `review create` against a read-only database, a missing folder, a locked
database, a malformed URL, an unknown driver, and on PostgreSQL an unknown database and a closed port.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from dashboard.cli import main
from dashboard.settings import get_settings
from tests.paths import EXAMPLES

PASSWORD = "s3cret-Pa55"
ORDERS = [str(EXAMPLES / "data" / "orders.csv"), "--mapping", str(EXAMPLES / "mappings" / "orders.yaml")]
COMMANDS = {
    "init": ["init"],
    "import": ["import", "events", *ORDERS],
    "review": ["review", "create", "--journey", "orders", "--label", "Q3 review", "--date", "2026-09-30"],
}


@pytest.fixture
def run_with(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[..., str]]:
    """Run a command with ATLAS_DATABASE_URL set to `url`; check status 2 and one line; return that line."""

    def run(url: str, command: list[str]) -> str:
        monkeypatch.setenv("ATLAS_DATABASE_URL", url)
        get_settings.cache_clear()
        assert main(command) == 2
        captured = capsys.readouterr()
        lines = [line for line in captured.err.splitlines() if line.strip() and not line.startswith("\r")]
        errors = [line for line in lines if line.startswith("journey-atlas: error:")]
        assert len(errors) == 1, captured.err
        assert "Traceback" not in captured.err and PASSWORD not in captured.err + captured.out
        return errors[0]

    yield run
    get_settings.cache_clear()


@pytest.fixture
def database_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Path]:
    """A SQLite file that `command` has to write to: for `init` an empty file (no schema yet), for the others
    one with the orders map, so `import events` and `review create` get as far as writing."""

    def make(command: str) -> Path:
        path = tmp_path / "atlas.db"
        if command == "init":
            sqlite3.connect(path).close()
            return path
        monkeypatch.setenv("ATLAS_DATABASE_URL", f"sqlite:///{path}")
        get_settings.cache_clear()
        assert main(["import", "map", str(EXAMPLES / "maps" / "orders.yaml")]) == 0
        return path

    return make


@pytest.mark.parametrize("command", list(COMMANDS))
def test_read_only_database(run_with: Callable[..., str], database_for: Callable[[str], Path], command: str) -> None:
    line = run_with(f"sqlite:///file:{database_for(command)}?mode=ro&uri=true", COMMANDS[command])
    assert "the file is read-only" in line and "ATLAS_DATABASE_URL" in line


def test_init_on_a_read_only_current_schema_succeeds(
    database_for: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A current schema needs no write: `init` says so on a read-only file too."""
    monkeypatch.setenv("ATLAS_DATABASE_URL", f"sqlite:///file:{database_for('review')}?mode=ro&uri=true")
    get_settings.cache_clear()
    assert main(["init"]) == 0
    assert "Schema is current" in capsys.readouterr().out


@pytest.mark.parametrize("command", list(COMMANDS))
def test_locked_database(run_with: Callable[..., str], database_for: Callable[[str], Path], command: str) -> None:
    """Another process holds the write lock past the busy timeout."""
    path = database_for(command)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        line = run_with(f"sqlite:///{path}?timeout=0.2", COMMANDS[command])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "another writer" in line and "try again" in line


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("sqlite:///{tmp}/missing/atlas.db", "folder is missing or not writable; check the path in ATLAS_DATABASE_URL"),
        (f"postgres//atlas:{PASSWORD}@db/atlas", "ATLAS_DATABASE_URL is not a database URL"),
        (f"postgresql+nosuch://atlas:{PASSWORD}@db/atlas", "not installed: postgresql+nosuch"),
    ],
    ids=["missing-folder", "malformed-url", "unknown-driver"],
)
def test_set_up_faults(run_with: Callable[..., str], tmp_path: Path, command: str, url: str, said: str) -> None:
    assert said in run_with(url.format(tmp=tmp_path), COMMANDS[command])


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"database": "atlas_no_such_database"}, "no database 'atlas_no_such_database'"),
        ({"port": 1}, "no database server answers there"),
    ],
    ids=["unknown-database", "closed-port"],
)
def test_postgres_faults(
    run_with: Callable[..., str], postgres_database: str, command: str, change: dict[str, object], said: str
) -> None:
    url = make_url(postgres_database).set(password=PASSWORD, **change)  # type: ignore[arg-type]
    line = run_with(url.render_as_string(hide_password=False), COMMANDS[command])
    assert said in line and ":***@" in line


def test_init_does_not_print_the_password(
    postgres_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The test server trusts local connections, so a URL with a password connects: init names it masked."""
    url = make_url(postgres_database).set(password=PASSWORD)
    monkeypatch.setenv("ATLAS_DATABASE_URL", url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    assert main(["init"]) == 0
    captured = capsys.readouterr()
    assert PASSWORD not in captured.out + captured.err
    assert f"Schema is current in {url.render_as_string(hide_password=True)}" in captured.out
    get_settings.cache_clear()

"""The command line as the operator's tool: its writes are recorded as `cli`, `serve` tells the app where it
listens and who may write, and no secret reaches its output."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from dashboard import cli
from dashboard.settings import get_settings
from data_access.db import make_engine
from data_access.writers import list_imports
from tests.paths import EXAMPLES

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("ATLAS_DATABASE_URL", url)
    monkeypatch.setenv("ATLAS_DEMO_EVENTS", "1000")
    for name in ("ATLAS_HOST", "ATLAS_EDITOR_PASSPHRASE", "ATLAS_EDITOR_EMAILS"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_cli_imports_are_recorded_as_cli(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`import map` and `import events` need no editor and log themselves as run by `cli`."""
    assert cli.main(["import", "map", str(EXAMPLES / "maps" / "orders.yaml")]) == 0
    orders = [str(EXAMPLES / "data" / "orders.csv"), "--mapping", str(EXAMPLES / "mappings" / "orders.yaml")]
    assert cli.main(["import", "events", *orders]) == 0
    engine = make_engine(database)
    with engine.connect() as connection:
        logged = list_imports(connection)
    engine.dispose()
    assert logged.select("kind", "source", "inserted", "written_by").rows() == [
        ("events", "orders.csv", 26, "cli"),
        ("map", "orders.yaml", None, "cli"),
    ]


def _serve(monkeypatch: pytest.MonkeyPatch, *args: str) -> dict[str, str]:
    started: list[dict[str, str]] = []

    def start(_command: list[str], *, env: dict[str, str], **_: Any) -> int:
        started.append(env)
        return 0

    monkeypatch.setattr(cli, "run_server", start)
    assert cli.main(["serve", *args]) == 0
    return started[-1]


def test_serve_tells_the_app_where_it_listens_and_who_may_write(
    database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The app gets ATLAS_HOST from --host; on the network, the warning says who may write, never the secret."""
    assert _serve(monkeypatch)["ATLAS_HOST"] == "127.0.0.1"
    capsys.readouterr()
    assert _serve(monkeypatch, "--host", "0.0.0.0")["ATLAS_HOST"] == "0.0.0.0"
    said = capsys.readouterr().err
    assert "without one the dashboard is read-only" in said

    monkeypatch.setenv("ATLAS_EDITOR_PASSPHRASE", PASSPHRASE)
    get_settings.cache_clear()
    _serve(monkeypatch, "--host", "0.0.0.0")
    said = capsys.readouterr()
    assert "only editors who enter ATLAS_EDITOR_PASSPHRASE" in said.err
    assert PASSPHRASE not in said.err + said.out


def test_init_hides_the_database_password(
    postgres_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`init` names the database it upgraded without its password."""
    with_password = make_url(postgres_database).set(password="s3cret-Passw0rd")
    monkeypatch.setenv("ATLAS_DATABASE_URL", with_password.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        status = cli.main(["init"])
    finally:
        get_settings.cache_clear()
    said = capsys.readouterr()
    assert "s3cret-Passw0rd" not in said.out + said.err
    assert status == 0, said.err
    assert "Schema is current in postgresql+psycopg://" in said.out and "***" in said.out

"""`journey-atlas serve`: the schema and the first-run demo are ready before Streamlit starts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from dashboard import cli
from dashboard.settings import get_settings
from data_access.db import make_engine
from data_access.models import Journey


@pytest.fixture
def empty_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    monkeypatch.setenv("ATLAS_DATABASE_URL", url)
    monkeypatch.setenv("ATLAS_DEMO_EVENTS", "1000")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _journeys(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(Journey)).scalar_one()
    engine.dispose()
    return int(count)


def test_serve_fills_an_empty_database_before_the_server_starts(
    empty_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first start says it is generating the demo, and Streamlit starts on a filled, migrated database."""
    started: list[tuple[list[str], dict[str, str]]] = []

    def start(command: list[str], *, env: dict[str, str], **_: Any) -> int:
        started.append((command, env))
        assert _journeys(env["ATLAS_DATABASE_URL"]) > 0  # the demo is there before the server runs
        return 0

    monkeypatch.setattr(cli, "run_server", start)
    assert cli.main(["serve", "--port", "8599"]) == 0
    said = capsys.readouterr().err
    assert "bringing the schema up to date" in said
    assert "generating the demo company (1,000 events)" in said and "the demo company is ready" in said
    ((command, env),) = started
    assert command[1:3] == ["-m", "dashboard.server"] and "8599" in command
    assert env["ATLAS_DATABASE_URL"] == empty_database

    assert cli.main(["serve", "--headless"]) == 0  # the old flag is still accepted: serve is always headless
    assert "demo" not in capsys.readouterr().err
    assert len(started) == 2


def _option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_serve_is_a_headless_local_service_that_makes_no_outbound_call(
    empty_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Headless (no prompt, no browser), no usage statistics, 127.0.0.1 unless --host, and a warning then."""
    started: list[list[str]] = []
    monkeypatch.setattr(cli, "run_server", lambda command, **_: started.append(command) or 0)
    assert cli.main(["serve"]) == 0
    local = started[-1]
    assert _option(local, "--server.headless") == "true"
    assert _option(local, "--server.showEmailPrompt") == "false"
    assert _option(local, "--browser.gatherUsageStats") == "false"
    assert _option(local, "--server.address") == "127.0.0.1"
    # a server address set by hand: Streamlit prints it instead of asking a web service for the external IP
    assert _option(local, "--browser.serverAddress") == "127.0.0.1"
    assert "warning" not in capsys.readouterr().err

    assert cli.main(["serve", "--host", "0.0.0.0"]) == 0
    assert _option(started[-1], "--server.address") == "0.0.0.0"
    assert _option(started[-1], "--browser.serverAddress") == "localhost"
    assert "warning: listening on 0.0.0.0" in capsys.readouterr().err

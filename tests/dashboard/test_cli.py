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

    monkeypatch.setattr(cli.subprocess, "call", start)
    assert cli.main(["serve", "--headless", "--port", "8599"]) == 0
    assert "generating the demo company (1,000 events)" in capsys.readouterr().out
    ((command, env),) = started
    assert command[1:4] == ["-m", "streamlit", "run"] and "8599" in command
    assert env["ATLAS_DATABASE_URL"] == empty_database

    assert cli.main(["serve", "--headless"]) == 0
    assert "demo" not in capsys.readouterr().out
    assert len(started) == 2

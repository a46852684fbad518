"""`journey-atlas import events|feedback` and `refresh` through the CLI's main()."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.cli import main
from dashboard.settings import get_settings
from tests.paths import BAD_FILES, EXAMPLES

BAD = BAD_FILES


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("ATLAS_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    yield tmp_path / "cli.db"
    get_settings.cache_clear()


def test_import_events_then_refresh(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The orders example imports, reports its counts, and refresh succeeds."""
    assert main(["import", "map", str(EXAMPLES / "maps" / "orders.yaml")]) == 0
    mapping = str(EXAMPLES / "mappings" / "orders.yaml")
    assert main(["import", "events", str(EXAMPLES / "data" / "orders.csv"), "--mapping", mapping]) == 0
    assert "26 inserted, 0 already present" in capsys.readouterr().out
    assert main(["import", "events", str(EXAMPLES / "data" / "orders.csv"), "--mapping", mapping]) == 0
    assert "0 inserted, 26 already present" in capsys.readouterr().out
    assert main(["refresh"]) == 0


def test_a_bad_file_exits_2_with_file_row_column_and_example(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Problems are printed without a traceback; the exit status is 2."""
    assert main(["import", "map", str(EXAMPLES / "maps" / "orders.yaml")]) == 0
    mapping = BAD / "orders.yaml"
    bad = BAD / "orders_bad_timestamp.csv"
    text = (mapping.read_text()).replace("journey: shop", "journey: orders")
    (database.parent / "orders.yaml").write_text(text)
    code = main(["import", "events", str(bad), "--mapping", str(database.parent / "orders.yaml")])
    err = capsys.readouterr().err
    assert code == 2
    assert "orders_bad_timestamp.csv, column 'shipped_at': unparsable timestamp" in err
    assert "rows 2" in err and "'next week'" in err
    assert "Traceback" not in err


def test_a_missing_or_wrong_mapping_exits_2(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No --mapping, or a mapping of the other kind, is a clear error."""
    assert main(["import", "events", str(EXAMPLES / "data" / "orders.csv")]) == 2
    assert "needs --mapping" in capsys.readouterr().err
    mapping = str(EXAMPLES / "mappings" / "orders.yaml")
    assert main(["import", "feedback", str(EXAMPLES / "data" / "orders.csv"), "--mapping", mapping]) == 2
    assert "for events, not feedback" in capsys.readouterr().err

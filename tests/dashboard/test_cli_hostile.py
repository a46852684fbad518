"""Hostile invocations of `journey-atlas`: each ends with one line on standard error and exit status 2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dashboard import cli
from dashboard.settings import get_settings
from data_access.db import make_engine, upgrade_schema
from data_access.models import Review
from tests import hostile
from tests.paths import EXAMPLES


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated SQLite database holding the example map's journeys."""
    url = f"sqlite:///{tmp_path / 'atlas.db'}"
    monkeypatch.setenv("ATLAS_DATABASE_URL", url)
    get_settings.cache_clear()
    engine = make_engine(url)
    upgrade_schema(engine)
    engine.dispose()
    map_file = next(EXAMPLES.joinpath("maps").glob("*.yaml"))
    assert cli.main(["import", "map", str(map_file)]) == 0
    yield url
    get_settings.cache_clear()


def _files(folder: Path) -> dict[str, Path]:
    texts = {
        "bomb.yaml": hostile.YAML_BOMB,
        "deep.yaml": hostile.YAML_DEEP_FLOW,
        "deep_block.yaml": hostile.YAML_DEEP_BLOCK,
        "mapping_bomb.yaml": "kind: events\n" + hostile.YAML_BOMB,
    }
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    hostile.garbage_file(folder / "garbage.yaml")
    (folder / "events.csv").write_text("customer,timestamp\nc1,2024-01-01\n", encoding="utf-8")
    return {name: folder / name for name in [*texts, "garbage.yaml", "events.csv"]}


def _journey(url: str) -> str:
    from data_access.models import Journey

    engine = make_engine(url)
    with engine.connect() as connection:
        slug = connection.execute(select(Journey.slug).limit(1)).scalar_one()
    engine.dispose()
    return str(slug)


def test_hostile_invocations_end_in_one_line_with_status_2(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = _files(tmp_path)
    journey = _journey(database)
    capsys.readouterr()
    invocations = {
        "deep map": ["import", "map", str(files["deep.yaml"])],
        "deep block map": ["import", "map", str(files["deep_block.yaml"])],
        "bomb map": ["import", "map", str(files["bomb.yaml"])],
        "garbage map": ["import", "map", str(files["garbage.yaml"])],
        "bomb mapping": ["import", "events", str(files["events.csv"]), "--mapping", str(files["mapping_bomb.yaml"])],
        "deep mapping": ["import", "events", str(files["events.csv"]), "--mapping", str(files["deep.yaml"])],
        "export into a missing folder": ["export", "map", "--output", str(tmp_path / "missing" / "map.yaml")],
        "export onto a folder": ["export", "map", "--output", str(tmp_path)],
        "negative demo": ["demo", "--events", "-5"],
        "huge demo": ["demo", "--events", "10000000000"],
        "text demo": ["demo", "--events", hostile.STRINGS["sql"]],
        "review in year 1": ["review", "create", "--journey", journey, "--label", "Q3", "--date", "0001-01-01"],
        "review in year 9999": ["review", "create", "--journey", journey, "--label", "Q3", "--date", "9999-12-31"],
        "review on no date": ["review", "create", "--journey", journey, "--label", "Q3", "--date", "2024-02-30"],
        "review of a hostile journey": ["review", "create", "--journey", hostile.STRINGS["control"], "--label", "x"],
        "port out of range": ["serve", "--port", "99999"],
        "unknown command": [hostile.STRINGS["heading"]],
    }
    for case, argv in invocations.items():
        try:
            status = cli.main(argv)
        except SystemExit as exit_:  # argparse ends usage mistakes with SystemExit(2)
            status = exit_.code  # type: ignore[assignment]
        said = capsys.readouterr().err.strip()
        assert status == 2, case
        assert len(said.splitlines()) == 1, (case, said)
        assert said.startswith("journey-atlas") and "error" in said, (case, said)
        assert "Traceback" not in said, case
    assert not (tmp_path / "missing").exists()
    engine = make_engine(database)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Review)).scalar_one() == 0
    engine.dispose()

"""The data version against SQLite and PostgreSQL: every write that changes a view bumps it, in its transaction."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine

from data_access.data_version import bump_data_version, read_data_version
from data_access.db import session_scope
from data_access.demo import load_demo
from data_access.importing import ImportValidationError, import_events, refresh
from data_access.importing.mapping import parse_mapping
from data_access.mapfile import export_map, import_map
from data_access.reviews import create_review
from data_access.stage_notes import add_note
from tests.import_fixtures import add_shop_map

EVENTS_MAPPING = parse_mapping(
    """
kind: events
fixed: {journey: shop}
columns: {customer: customer, timestamp: timestamp, stage: stage, channel: channel}
"""
)


def _version(engine: Engine) -> int:
    with engine.connect() as connection:
        return read_data_version(connection)


def _events_file(tmp_path: Path, *, stage: str = "purchase") -> Path:
    path = tmp_path / f"events_{stage}.csv"
    pl.DataFrame(
        {
            "customer": ["c1", "c2", "c3"],
            "timestamp": ["2026-05-01T10:00:00", "2026-05-02T11:00:00", "2026-05-03T12:00:00"],
            "stage": [stage] * 3,
            "channel": ["web", "store", "email"],
        }
    ).write_csv(path)
    return path


def test_a_migrated_database_starts_at_version_one(sqlite_engine: Engine) -> None:
    """The migration writes the row, so the first read is one primary-key lookup that finds it."""
    assert _version(sqlite_engine) == 1


def test_every_write_that_changes_a_view_bumps_the_version(engine: Engine, tmp_path: Path) -> None:
    """Import, refresh, map import, review and stage note: each moves the version up by one."""
    add_shop_map(engine)
    seen = [_version(engine)]

    def bumped() -> bool:
        seen.append(_version(engine))
        return seen[-1] == seen[-2] + 1

    import_events(engine, path=_events_file(tmp_path), mapping=EVENTS_MAPPING)
    assert bumped(), "import"
    refresh(engine)
    assert bumped(), "refresh"
    with session_scope(engine) as session:
        text = export_map(session)
    with session_scope(engine) as session:
        import_map(session, text, source="map.yaml")
    assert bumped(), "map import"
    with session_scope(engine) as session:
        create_review(session, journey_slug="shop", label="Q2 review", reviewed_on=dt.date(2026, 6, 1))
    assert bumped(), "review"
    with session_scope(engine) as session:
        add_note(session, journey_slug="shop", stage_slug="purchase", author="Ana", body="Queues at the till.")
    assert bumped(), "stage note"


def test_a_refused_import_or_a_rolled_back_write_leaves_the_version(engine: Engine, tmp_path: Path) -> None:
    """The bump is in the write's transaction: nothing written, nothing bumped."""
    add_shop_map(engine)
    before = _version(engine)
    with pytest.raises(ImportValidationError):
        import_events(engine, path=_events_file(tmp_path, stage="no-such-stage"), mapping=EVENTS_MAPPING)
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        bump_data_version(session)
        raise RuntimeError("the write failed after the bump")
    assert _version(engine) == before


def test_the_demo_load_bumps_the_version_and_never_resets_it(engine: Engine) -> None:
    """Replacing the whole content keeps the counter, so no cached view of the old content looks current."""
    with engine.begin() as connection:
        for _ in range(5):
            bump_data_version(connection)
    before = _version(engine)
    load_demo(engine, events=1_000, seed=3)
    assert _version(engine) == before + 2  # the demo's map import, then its facts


def test_an_emptied_version_table_starts_again(engine: Engine) -> None:
    """A database whose version row was deleted by hand gets one back on the next write."""
    from sqlalchemy import delete

    from data_access.models import DataVersion

    with engine.begin() as connection:
        connection.execute(delete(DataVersion))
    assert _version(engine) == 0
    with engine.begin() as connection:
        bump_data_version(connection)
    assert _version(engine) == 1

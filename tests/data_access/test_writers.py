"""Who wrote what, on SQLite and PostgreSQL: the imports log, the writer's name, and migration 0012 up and down."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from data_access.db import alembic_config, session_scope, upgrade_schema
from data_access.importing import ImportValidationError, import_events
from data_access.mapfile import MapFileError, import_map
from data_access.models import WRITER_LENGTH
from data_access.writers import DIRECT_WRITER, checked_writer, list_imports
from tests.paths import EXAMPLES

ORDERS_MAP = (EXAMPLES / "maps" / "orders.yaml").read_text()
ORDERS = EXAMPLES / "data" / "orders.csv"
ORDERS_MAPPING = EXAMPLES / "mappings" / "orders.yaml"


def test_imports_are_logged_with_who_ran_them(engine: Engine) -> None:
    """A map and a data file imported: newest first, with kind, file name, facts inserted and writer."""
    with session_scope(engine) as session:
        import_map(session, ORDERS_MAP, source="/home/ana/maps/orders.yaml", written_by="ana@example.com")
    import_events(engine, path=ORDERS, mapping=ORDERS_MAPPING, written_by="cli")
    import_events(engine, path=ORDERS, mapping=ORDERS_MAPPING)  # again: nothing new, logged all the same
    with engine.connect() as connection:
        logged = list_imports(connection)
    assert logged.select("kind", "source", "inserted", "written_by").rows() == [
        ("events", "orders.csv", 0, DIRECT_WRITER),
        ("events", "orders.csv", 26, "cli"),
        ("map", "orders.yaml", None, "ana@example.com"),
    ]


def test_a_refused_import_is_not_logged(engine: Engine, tmp_path: pytest.TempPathFactory) -> None:
    """Nothing written, nothing logged: a bad map and a file with a bad timestamp leave the log empty."""
    with pytest.raises(MapFileError), session_scope(engine) as session:
        import_map(session, ORDERS_MAP.replace("version: 1", "version: 9"), source="broken.yaml", written_by="cli")
    with session_scope(engine) as session:
        import_map(session, ORDERS_MAP, source="orders.yaml", written_by="cli")
    bad = ORDERS.read_text().replace("2024-03-0", "2024-13-0", 1)
    path = tmp_path / "bad.csv"  # type: ignore[operator]
    path.write_text(bad)
    with pytest.raises(ImportValidationError):
        import_events(engine, path=path, mapping=ORDERS_MAPPING, written_by="cli")
    with engine.connect() as connection:
        assert list_imports(connection)["kind"].to_list() == ["map"]


@pytest.mark.parametrize(("name", "problem"), [("", "must name its writer"), ("  ", "must name its writer"),
                                               ("x" * (WRITER_LENGTH + 1), "at most 320 characters")])  # fmt: skip
def test_a_write_must_name_its_writer(name: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        checked_writer(name)


def test_migration_0012_names_older_rows_unknown_and_goes_back_down(engine: Engine) -> None:
    """Up: reviews and notes written before it say 'unknown', the imports log appears. Down: both go, rows stay."""
    config = alembic_config(engine)
    command.downgrade(config, "0010")
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO journeys (slug, name, kind, description, owner) "
                                    "VALUES ('shop', 'Shop', 'current', '', '')"))  # fmt: skip
            journey = connection.execute(text("SELECT id FROM journeys")).scalar_one()
            connection.execute(
                text("INSERT INTO stages (journey_id, slug, name, position, description) "
                     "VALUES (:j, 'buy', 'Buy', 1, '')"),
                {"j": journey},
            )  # fmt: skip
            stage = connection.execute(text("SELECT id FROM stages")).scalar_one()
            connection.execute(
                text("INSERT INTO reviews (journey_id, slug, label, reviewed_on, map_snapshot, created_at) "
                     "VALUES (:j, 'q3', 'Q3', '2026-09-30', 'version: 1', '2026-09-30 10:00:00')"),
                {"j": journey},
            )  # fmt: skip
            connection.execute(
                text("INSERT INTO stage_notes (stage_id, author, body, created_at) "
                     "VALUES (:s, 'Ana', 'Queues', '2026-09-30 10:00:00')"),
                {"s": stage},
            )  # fmt: skip
        assert "imports" not in inspect(engine).get_table_names()
        upgrade_schema(engine)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT written_by FROM reviews")).scalar_one() == "unknown"
            assert connection.execute(text("SELECT author, written_by FROM stage_notes")).one() == ("Ana", "unknown")
        assert "imports" in inspect(engine).get_table_names()
        # a new row must name its writer: the column has no default left
        with pytest.raises(IntegrityError, match=r"(?i)not[ -]null"), engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO stage_notes (stage_id, author, body, created_at) VALUES (:s, 'Bo', 'x', '2026-10-01')"
                ),
                {"s": stage},
            )
        command.downgrade(config, "0010")
        assert "imports" not in inspect(engine).get_table_names()
        for table in ("reviews", "stage_notes"):
            assert "written_by" not in {column["name"] for column in inspect(engine).get_columns(table)}
        with engine.connect() as connection:
            assert connection.execute(text("SELECT author, body FROM stage_notes")).one() == ("Ana", "Queues")
            assert connection.execute(text("SELECT label FROM reviews")).scalar_one() == "Q3"
    finally:
        upgrade_schema(engine)

"""The schema comes from migrations and matches the models on both databases."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from data_access.db import alembic_config, upgrade_schema
from data_access.models import Base


def test_migrations_create_every_model_table(engine: Engine) -> None:
    """A new database gets every table the models declare."""
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_migrations_match_models(engine: Engine) -> None:
    """Models and migrations agree: a model change without a migration fails here."""
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_upgrade_is_repeatable(engine: Engine) -> None:
    """Running `init` on an up-to-date database changes nothing and does not fail."""
    upgrade_schema(engine)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() is not None


EVENT_0001 = (
    "INSERT INTO events (customer_id, occurred_at, journey_id, stage_id, channel_id, event_type, source_key) "
    "VALUES ('ada', '2024-03-01 09:00:00.000000', 1, 1, 1, 'visit', 'k1')"
)


def test_a_database_made_by_the_first_release_opens_in_this_one(engine: Engine) -> None:
    """Data written under revision 0001 survives the upgrade to the newest schema."""
    config = alembic_config(engine)
    command.downgrade(config, "0001")
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO channels (slug, name, kind, position) VALUES ('web', 'Website', 'digital', 1)")
        )
        connection.execute(
            text(
                "INSERT INTO journeys (slug, name, kind, description, owner) VALUES ('shop', 'Shop', 'current', '', '')"
            )
        )
        connection.execute(
            text("INSERT INTO stages (journey_id, slug, name, position, description) VALUES (1, 'buy', 'Buy', 1, '')")
        )
        connection.execute(text(EVENT_0001))
    upgrade_schema(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM channels WHERE slug = 'web'")).scalar_one() == "Website"
        assert connection.execute(text("SELECT customer_id, source_key FROM events")).one() == ("ada", "k1")
        # the source key is still unique, now through a named index the importer can drop and rebuild
        with pytest.raises(IntegrityError), connection.begin_nested():
            connection.execute(text(EVENT_0001))
        assert "ux_events_source_key" in {index["name"] for index in inspect(connection).get_indexes("events")}
        assert (
            MigrationContext.configure(connection).get_current_revision()
            == ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
        )

"""The schema comes from migrations and matches the models on both databases."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import polars_hash as plh
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, DateTime, Engine, bindparam, inspect, text
from sqlalchemy.exc import IntegrityError

from data_access.db import alembic_config, make_engine, upgrade_schema
from data_access.importing import import_events
from data_access.importing.keys import event_source_keys
from data_access.importing.mapping import parse_mapping
from data_access.models import Base
from tests.import_fixtures import add_shop_map


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


# --- 0006: events re-keyed from BLAKE2b to BLAKE3 -----------------------------------------------------

# an event's stored fields, in the order its identity lists them, with the importer's types for them
EVENT_FIELDS: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "occurred_at": pl.Datetime("us"),
    "journey_id": pl.Int64(),
    "stage_id": pl.Int64(),
    "channel_id": pl.Int64(),
    "step_id": pl.Int64(),
    "persona_id": pl.Int64(),
    "event_type": pl.String(),
    "value": pl.Float64(),
}
HEX_128 = re.compile(r"[0-9a-f]{32}")
BLAKE3_OF_NOTHING = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
MIGRATION_0006 = importlib.import_module("data_access.migrations.versions.0006_event_keys_blake3")


def event_identities(events: list[dict[str, Any]]) -> list[str]:
    """Each event's identity as the importer built it when keys were BLAKE2b (a copy frozen here)."""
    parts = [pl.lit("events"), *(pl.col(c).cast(pl.String) for c in EVENT_FIELDS)]
    identity = pl.concat_str([part.fill_null("") for part in parts], separator="\x1f")
    frame = pl.DataFrame([[e[c] for c in EVENT_FIELDS] for e in events], schema=EVENT_FIELDS, orient="row")
    return frame.select(identity).to_series().to_list()


def blake2b_key(identity: str) -> str:
    return hashlib.blake2b(identity.encode(), digest_size=16).hexdigest()


def blake3_key(identity: str) -> str:
    digest = pl.select(plh.CryptographicHashingNameSpace(pl.lit(identity)).blake3()).item()
    assert len(digest) == 64  # the whole 256-bit hash, of which a key keeps the first 128 bits
    return digest[:32]


def test_event_keys_are_the_first_128_bits_of_blake3() -> None:
    """BLAKE3 of the empty string is a published test vector: a change in polars-hash would show here."""
    assert blake3_key("") == BLAKE3_OF_NOTHING[:32]
    identities = pl.Series("identity", ["", "events"])
    assert MIGRATION_0006.blake3_keys(identities)[0] == BLAKE3_OF_NOTHING[:32]
    assert pl.select(event_source_keys(pl.lit(""))).item() == BLAKE3_OF_NOTHING[:32]
    assert MIGRATION_0006.blake2b_keys(identities).to_list() == [blake2b_key(""), blake2b_key("events")]


@pytest.fixture
def at_0005(engine: Engine) -> Iterator[Engine]:
    """The shop map in a database taken back to revision 0005, brought to the newest schema again after the test
    (PostgreSQL's test database is shared by the whole session)."""
    add_shop_map(engine)
    command.downgrade(alembic_config(engine), "0005")
    yield engine
    upgrade_schema(engine)


INSERT_EVENT = text(
    "INSERT INTO events (customer_id, occurred_at, journey_id, stage_id, channel_id, step_id, persona_id, "
    "event_type, value, source_key) VALUES (:customer_id, :occurred_at, :journey_id, :stage_id, :channel_id, "
    ":step_id, :persona_id, :event_type, :value, :source_key)"
).bindparams(bindparam("occurred_at", type_=DateTime()))


# customer, time, stage, channel, step, persona, event type, value
EVENTS_0005: list[tuple[str, dt.datetime, str, str, str | None, str | None, str, float | None]] = [
    ("ada", dt.datetime(2024, 3, 1, 9, 0, 0, 7), "purchase", "web", "pay", "bargain-hunter", "order", 19.99),
    ("bob", dt.datetime(2024, 3, 2, 10, 30), "awareness", "store", None, None, "visit", None),
    ("cy", dt.datetime(2024, 12, 31, 23, 59, 59, 999999), "delivery", "email", None, "bargain-hunter", "visit", 1 / 3),
    ("dee", dt.datetime(2024, 3, 4, 8, 0, 0, 120000), "purchase", "web", "pay", None, "order", 4.0),
    ("eve", dt.datetime(2024, 3, 5, 12, 0), "shipping", "email", None, None, "visit", 1.0),
]


def add_keyed_events(connection: Connection) -> list[dict[str, Any]]:
    """Events as revision 0005 stored them (BLAKE2b keys), and the rows inserted; ids are the events' ids.

    `dee` was changed after its import (value 3.0 then), so its key is not the hash of its fields;
    `eve` was entered by hand, without a key.
    """

    def ids(table: str) -> dict[str, int]:
        return dict(connection.execute(text(f"SELECT slug, id FROM {table}")).tuples().all())

    stages, channels, steps, personas = ids("stages"), ids("channels"), ids("steps"), ids("personas")
    journey = ids("journeys")["shop"]
    events = [
        {
            "customer_id": customer,
            "occurred_at": moment,
            "journey_id": journey,
            "stage_id": stages[stage],
            "channel_id": channels[channel],
            "step_id": None if step is None else steps[step],
            "persona_id": None if persona is None else personas[persona],
            "event_type": event_type,
            "value": value,
        }
        for customer, moment, stage, channel, step, persona, event_type, value in EVENTS_0005
    ]
    keys: list[str | None] = [blake2b_key(identity) for identity in event_identities(events)]
    keys[3] = blake2b_key(event_identities([{**events[3], "value": 3.0}])[0])
    keys[4] = None
    for event, key in zip(events, keys, strict=True):
        connection.execute(INSERT_EVENT, {**event, "source_key": key})
    event_ids = connection.execute(text("SELECT id FROM events ORDER BY id")).scalars()
    for event, event_id in zip(events, event_ids, strict=True):
        event["id"] = event_id
    # the identity exactly as the importer made it: nulls as empty fields, microseconds always written
    assert event_identities(events[:2]) == [
        f"events\x1fada\x1f2024-03-01 09:00:00.000007\x1f{journey}\x1f{stages['purchase']}\x1f{channels['web']}"
        f"\x1f{steps['pay']}\x1f{personas['bargain-hunter']}\x1forder\x1f19.99",
        f"events\x1fbob\x1f2024-03-02 10:30:00.000000\x1f{journey}\x1f{stages['awareness']}\x1f{channels['store']}"
        "\x1f\x1f\x1fvisit\x1f",
    ]
    assert event_identities(events[2:3])[0].endswith("\x1fvisit\x1f0.3333333333333333")
    connection.execute(
        text(
            "INSERT INTO feedback (customer_id, occurred_at, journey_id, stage_id, measure, score, source_key) "
            "VALUES ('ada', :occurred_at, :journey_id, :stage_id, 'nps', 9, :source_key)"
        ).bindparams(bindparam("occurred_at", type_=DateTime())),
        {
            "occurred_at": events[0]["occurred_at"],
            "journey_id": journey,
            "stage_id": stages["purchase"],
            "source_key": blake2b_key("feedback"),
        },
    )
    return [{**event, "source_key": key} for event, key in zip(events, keys, strict=True)]


def event_keys(engine: Engine) -> dict[int, str | None]:
    with engine.connect() as connection:
        return dict(connection.execute(text("SELECT id, source_key FROM events")).tuples().all())


def feedback_keys(engine: Engine) -> list[str | None]:
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT source_key FROM feedback")).scalars())


def test_upgrade_rekeys_each_event_whose_key_is_the_blake2b_of_its_fields(at_0005: Engine) -> None:
    """Every event keyed by 0005's BLAKE2b of its fields gets the BLAKE3 key the importer now computes; a key
    that is not the hash of its row's fields, a missing key and feedback keys stay as they were."""
    with at_0005.begin() as connection:
        events = add_keyed_events(connection)
    identities = event_identities(events)

    upgrade_schema(at_0005)

    keys = event_keys(at_0005)
    assert keys == {
        events[0]["id"]: blake3_key(identities[0]),
        events[1]["id"]: blake3_key(identities[1]),
        events[2]["id"]: blake3_key(identities[2]),
        events[3]["id"]: events[3]["source_key"],  # dee's stored key is not the hash of its fields: kept
        events[4]["id"]: None,
    }
    assert all(HEX_128.fullmatch(key) for key in keys.values() if key is not None)
    assert feedback_keys(at_0005) == [blake2b_key("feedback")]
    # the key is unique still: a repeat of a re-keyed row is refused
    with at_0005.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(INSERT_EVENT, {**events[0], "customer_id": "ada2", "source_key": blake3_key(identities[0])})
    indexes = {index["name"]: index for index in inspect(at_0005).get_indexes("events")}
    assert indexes["ux_events_source_key"]["unique"]
    assert indexes["ux_events_source_key"]["column_names"] == ["source_key"]


def test_downgrade_gives_back_the_blake2b_keys(at_0005: Engine) -> None:
    """Taking the database back to 0005 restores every key it had there, so an older release finds its rows."""
    with at_0005.begin() as connection:
        events = add_keyed_events(connection)
    upgrade_schema(at_0005)
    assert event_keys(at_0005) != {event["id"]: event["source_key"] for event in events}

    command.downgrade(alembic_config(at_0005), "0005")

    assert event_keys(at_0005) == {event["id"]: event["source_key"] for event in events}
    assert feedback_keys(at_0005) == [blake2b_key("feedback")]
    assert "ux_events_source_key" in {index["name"] for index in inspect(at_0005).get_indexes("events")}


COLLATIONS = text(
    "SELECT c.relname, co.collname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
    "JOIN pg_collation co ON co.oid = i.indcollation[0] WHERE c.relname IN ('ux_events_source_key', "
    "'ux_feedback_source_key') "
    "UNION ALL SELECT table_name || '.' || column_name, collation_name FROM information_schema.columns "
    "WHERE column_name = 'source_key' AND table_name IN ('events', 'feedback')"
)


@pytest.fixture
def postgres_engine(postgres_database: str) -> Iterator[Engine]:
    db = make_engine(postgres_database)
    yield db
    db.dispose()


def test_source_keys_compare_bytewise_on_postgresql(postgres_engine: Engine) -> None:
    """On PostgreSQL the source keys and their unique indexes use collation "C" (twice as fast to index);
    0005 had the database's default."""
    with postgres_engine.connect() as connection:
        assert dict(connection.execute(COLLATIONS).tuples().all()) == {
            "events.source_key": "C",
            "feedback.source_key": "C",
            "ux_events_source_key": "C",
            "ux_feedback_source_key": "C",
        }
    command.downgrade(alembic_config(postgres_engine), "0005")
    try:
        with postgres_engine.connect() as connection:
            assert dict(connection.execute(COLLATIONS).tuples().all()) == {
                "events.source_key": None,
                "feedback.source_key": None,
                "ux_events_source_key": "default",
                "ux_feedback_source_key": "default",
            }
    finally:
        upgrade_schema(postgres_engine)


REIMPORT_MAPPING = parse_mapping(
    """
kind: events
fixed: {journey: shop}
columns: {customer: customer, timestamp: timestamp, stage: stage, channel: channel, step: step, persona: persona,
          value: value}
"""
)


def test_a_file_imported_before_0006_is_found_again_after_it(engine: Engine, tmp_path: Path) -> None:
    """A file imported under 0005 (BLAKE2b keys) and imported again after the upgrade adds nothing."""
    add_shop_map(engine)
    path = tmp_path / "events.csv"
    pl.DataFrame(
        {
            "customer": ["ada", "bob", "cy"],
            "timestamp": ["2024-03-01 09:00:00.000007", "2024-03-02T10:30:00", "2024-12-31 23:59:59.999999"],
            "stage": ["purchase", "awareness", "delivery"],
            "channel": ["web", "store", "email"],
            "step": ["pay", None, None],
            "persona": ["bargain-hunter", None, "bargain-hunter"],
            "value": [19.99, None, 1 / 3],
        }
    ).write_csv(path)
    assert import_events(engine, path=path, mapping=REIMPORT_MAPPING).inserted == 3
    keys = event_keys(engine)

    command.downgrade(alembic_config(engine), "0005")
    try:
        old_keys = event_keys(engine)
        # 0005's keys: each is another hash of the same fields
        assert old_keys.keys() == keys.keys()
        assert all(HEX_128.fullmatch(key or "") and key != keys[i] for i, key in old_keys.items())
    finally:
        upgrade_schema(engine)
    assert event_keys(engine) == keys

    report = import_events(engine, path=path, mapping=REIMPORT_MAPPING)

    assert (report.inserted, report.already_present) == (0, 3)
    assert len(event_keys(engine)) == 3

"""What importing a map would add, change and remove, against what the import then does."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from data_access.db import session_scope
from data_access.mapfile import MapFileError, export_map, import_map
from data_access.mapfile.diff import MapChange, map_changes
from tests.paths import ROOT

MARKETPLACE = (ROOT / "examples" / "maps" / "marketplace.yaml").read_text()


def _changes(engine: Engine, text: str) -> list[MapChange]:
    with session_scope(engine) as session:
        return map_changes(session, text, source="marketplace.yaml")


def test_a_new_map_is_all_added_and_an_imported_one_changes_nothing(engine: Engine) -> None:
    """On an empty database every item is added; once imported, the same file changes nothing."""
    added = _changes(engine, MARKETPLACE)
    assert {c.change for c in added} == {"added"}
    kinds = [c.kind for c in added]
    assert (kinds.count("channel"), kinds.count("journey"), kinds.count("stage"), kinds.count("step")) == (3, 1, 4, 2)
    assert kinds.count("metric") == 3 and kinds.count("touchpoint") == 4 and kinds.count("persona") == 3
    with session_scope(engine) as session:
        import_map(session, MARKETPLACE, source="marketplace.yaml")
    assert _changes(engine, MARKETPLACE) == []


def test_changes_and_removals_are_listed_as_the_import_makes_them(engine: Engine) -> None:
    """A new target, a step left out and a new channel: exactly those three, and the import agrees."""
    with session_scope(engine) as session:
        import_map(session, MARKETPLACE, source="marketplace.yaml")
    edited = (
        MARKETPLACE.replace("target: 95", "target: 97")
        .replace("          - slug: delivered-late\n", "          - slug: delivered-later\n")
        .replace("channels:\n", "channels:\n  - slug: email\n    name: Email\n", 1)
    )
    changes = _changes(engine, edited)
    assert sorted((c.change, c.kind, c.item) for c in changes) == [
        ("added", "channel", "email"),
        ("added", "step", "marketplace / delivery / delivered-later"),
        ("changed", "metric", "marketplace / delivery-conversion"),
        ("removed", "step", "marketplace / delivery / delivered-late"),
    ]
    with session_scope(engine) as session:
        import_map(session, edited, source="marketplace.yaml")
        exported = export_map(session)
    assert "delivered-later" in exported and "slug: delivered-late\n" not in exported
    assert _changes(engine, edited) == []


def test_an_unreadable_map_names_its_file_and_line(engine: Engine) -> None:
    with pytest.raises(MapFileError) as raised:
        _changes(engine, MARKETPLACE.replace("formula: rating", "formula: stars", 1))
    assert raised.value.details.startswith("marketplace.yaml:")

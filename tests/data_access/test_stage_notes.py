"""Notes from the front line: add and list on SQLite and PostgreSQL, validation, and the journey page's form."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from data_access.db import session_scope
from data_access.stage_notes import MAX_BODY, NoteError, add_note, list_notes
from tests.journey_fixtures import build_shop
from tests.paths import APP

STAGE = {"journey_slug": "shop", "stage_slug": "buy"}


def test_notes_list_newest_first(engine: Engine) -> None:
    """Notes come back newest first, trimmed, only for their own stage, and bounded by `limit`."""
    build_shop(engine)
    with session_scope(engine) as session:
        for day, author in enumerate(["Ana", "Bo", "Cy"], start=1):
            note = add_note(
                session, **STAGE, author=f"  {author} ", body=f"Note by {author}\n", written_by=f"{author}@example.com"
            )
            note.created_at = dt.datetime(2024, 3, day, 9, 30)
        add_note(session, journey_slug="shop", stage_slug="use", author="Di", body="Elsewhere")
    with engine.connect() as connection:
        notes = list_notes(connection, **STAGE)
        assert list_notes(connection, **STAGE, limit=2)["author"].to_list() == ["Cy", "Bo"]
        assert list_notes(connection, journey_slug="shop", stage_slug="nope").is_empty()
    assert notes["author"].to_list() == ["Cy", "Bo", "Ana"]
    assert notes["body"].to_list() == ["Note by Cy", "Note by Bo", "Note by Ana"]
    assert notes["created_at"][0] == dt.datetime(2024, 3, 3, 9, 30)
    assert notes["written_by"].to_list() == ["Cy@example.com", "Bo@example.com", "Ana@example.com"]
    assert notes.columns == ["note_id", "author", "body", "created_at", "written_by"]


@pytest.mark.parametrize(
    ("author", "body", "message"),
    [
        ("", "Long queues", "Author"),
        ("   ", "Long queues", "Author"),
        ("Ana", "", "Note: the text is empty"),
        ("Ana", " \n\t ", "Note: the text is empty"),
        ("Ana", "x" * (MAX_BODY + 1), "Note: at most 1,000 characters"),
    ],
)
def test_bad_notes_are_refused_with_the_field_named(engine: Engine, author: str, body: str, message: str) -> None:
    """Empty author or text, or a text over 1,000 characters, is refused and nothing is saved."""
    build_shop(engine)
    with pytest.raises(NoteError, match=message), session_scope(engine) as session:
        add_note(session, **STAGE, author=author, body=body)
    with engine.connect() as connection:
        assert list_notes(connection, **STAGE).is_empty()


def test_a_note_of_exactly_the_limit_is_kept(engine: Engine) -> None:
    """1,000 characters is allowed; an unknown stage is refused by name."""
    build_shop(engine)
    with session_scope(engine) as session:
        add_note(session, **STAGE, author="Ana", body="x" * MAX_BODY)
    with pytest.raises(NoteError, match="Stage: 'nope'"), session_scope(engine) as session:
        add_note(session, journey_slug="shop", stage_slug="nope", author="Ana", body="Hello")
    with engine.connect() as connection:
        assert list_notes(connection, **STAGE)["body"].str.len_chars().to_list() == [MAX_BODY]


def _journey_app(**params: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()  # registers the navigation's pages, so switch_page finds the one at url_path "journey"
    app.switch_page("../pages/journey_map.py")
    app.query_params.clear()
    for name, value in {"journey": "northwind-current", "stage": "support", **params}.items():
        app.query_params[name] = value
    return app.run()


def test_the_journey_page_adds_a_note_through_its_form(app_env: str) -> None:
    """The section and its form show; a note added through the form appears, as plain text."""
    app = _journey_app()
    assert not app.exception
    assert any(h.value == "Notes from the front line" for h in app.header)
    body = "Customers say *the* <b>hold music</b> — 20 € of patience ★"
    app.text_input(key="journey_note_author").input("Front desk")
    app.text_area(key="journey_note_body").input(body)
    app.button[-1].click().run()
    assert not app.exception
    assert body in [t.value for t in app.text]
    assert any("Front desk" in c.value for c in app.caption)
    assert not app.error


def test_an_empty_note_shows_which_field_is_missing(app_env: str) -> None:
    """Submitting without a name explains itself instead of saving."""
    app = _journey_app()
    app.text_area(key="journey_note_body").input("Something")
    app.button[-1].click().run()
    assert not app.exception
    assert app.error and "Author" in app.error[0].value


def test_presentation_mode_hides_the_form(app_env: str) -> None:
    """In presentation mode nobody types: no note form on the page."""
    app = _journey_app(present="1")
    assert not app.exception
    assert not [w for w in app.text_area if w.key == "journey_note_body"]

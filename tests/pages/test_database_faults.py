"""A fault of the database on any page (AppTest): one sentence in an error box, no exception, no password."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

from dashboard.settings import get_settings
from tests.paths import APP

PASSWORD = "s3cret-Pa55"
PAGES = {"overview": None, "journey": "../pages/journey_map.py", "import": "../pages/import_data.py"}


@pytest.fixture
def open_page(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str], AppTest]]:
    """Open `page` with ATLAS_DATABASE_URL set to `url`, from empty caches."""

    def run(url: str, page: str) -> AppTest:
        monkeypatch.setenv("ATLAS_DATABASE_URL", url)
        get_settings.cache_clear()
        st.cache_data.clear()
        st.cache_resource.clear()
        app = AppTest.from_file(APP, default_timeout=60)
        switch_to = PAGES[page]
        if switch_to is not None:
            app.switch_page(switch_to)
        return app.run()

    yield run
    get_settings.cache_clear()
    st.cache_resource.clear()


def _said(app: AppTest) -> str:
    """The one error box's text with Markdown's escapes removed; no exception, nothing else in error."""
    assert not app.exception, [e.value for e in app.exception]
    assert len(app.error) == 1, [e.value for e in app.error]
    text = re.sub(r"\\(.)", r"\1", str(app.error[0].value)).replace("\u2060", "")
    assert PASSWORD not in text and "Traceback" not in text
    return text


@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.parametrize(
    ("url", "said"),
    [
        (f"postgres//atlas:{PASSWORD}@db/atlas", "ATLAS_DATABASE_URL is not a database URL"),
        (f"postgresql+nosuch://atlas:{PASSWORD}@db/atlas", "not installed: postgresql+nosuch"),
        ("sqlite:///{tmp}/missing/atlas.db", "folder is missing or not writable; check the path in ATLAS_DATABASE_URL"),
        ("sqlite:///{tmp}/empty.db", "no Journey Atlas tables: run `journey-atlas init`"),
    ],
    ids=["malformed-url", "unknown-driver", "missing-folder", "no-schema"],
)
def test_fault_is_one_sentence_on_every_page(
    open_page: Callable[[str, str], AppTest], tmp_path: Path, page: str, url: str, said: str
) -> None:
    if "empty.db" in url:
        sqlite3.connect(tmp_path / "empty.db").close()
    assert said in _said(open_page(url.format(tmp=tmp_path), page))


@pytest.mark.parametrize("page", ["overview", "journey"])
@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"database": "atlas_no_such_database"}, "no database 'atlas_no_such_database'"),
        ({"port": 1}, "no database server answers there"),
    ],
    ids=["unknown-database", "closed-port"],
)
def test_postgres_fault_is_one_sentence(
    open_page: Callable[[str, str], AppTest], postgres_database: str, page: str, change: dict[str, object], said: str
) -> None:
    url = make_url(postgres_database).set(password=PASSWORD, **change)  # type: ignore[arg-type]
    text = _said(open_page(url.render_as_string(hide_password=False), page))
    assert said in text and ":***@" in text


def test_page_works_again_once_the_fault_is_gone(
    open_page: Callable[[str, str], AppTest], demo_database_url: str, tmp_path: Path
) -> None:
    """The engine is not kept broken: the same process draws the page once the setting is right."""
    assert "folder is missing" in _said(open_page(f"sqlite:///{tmp_path}/missing/atlas.db", "overview"))
    app = open_page(demo_database_url, "overview")
    assert not app.exception and not app.error

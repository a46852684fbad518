"""Shared fixtures: a fresh, migrated database per test on SQLite and, when configured, on PostgreSQL.

PostgreSQL tests run when ATLAS_TEST_POSTGRES_URL points at a server (`.ci/run` sets it); each test
session creates its own throw-away database there, so parallel runs never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from data_access.db import make_engine, upgrade_schema
from data_access.models import Base

# Property tests judge numbers, not speed: on a loaded CI machine one example may take seconds, which
# must not fail a test whose numbers are right.
settings.register_profile("atlas", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("atlas")

# AppTest runs no JavaScript, so nothing tells the server that the browser has drawn a page's first chart:
# pages read through AppTest draw their sections below the fold in the same run. The browser tests' servers
# draw above the fold first, as a person's browser sees it (tests/browser/conftest.py).
os.environ["ATLAS_DRAW_ABOVE_THE_FOLD_FIRST"] = "false"

POSTGRES_URL = os.environ.get("ATLAS_TEST_POSTGRES_URL", "")
SKIP_POSTGRES = "ATLAS_TEST_POSTGRES_URL is not set: no PostgreSQL server to test against"


@contextmanager
def scratch_postgres_database(prefix: str) -> Iterator[str]:
    """URL of a migrated PostgreSQL database created on the test server for the block and dropped after it
    (skips the test when no server is configured)."""
    if not POSTGRES_URL:
        pytest.skip(SKIP_POSTGRES)
    server = make_url(POSTGRES_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    migrated = make_engine(url)
    upgrade_schema(migrated)
    migrated.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """URL of a PostgreSQL database created for this test session and dropped after it."""
    with scratch_postgres_database("atlas_test") as url:
        yield url


def _empty_all_tables(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty, migrated database: a SQLite file, or the session's PostgreSQL database emptied."""
    if request.param == "sqlite":
        db = make_engine(f"sqlite:///{tmp_path / 'atlas.db'}")
        upgrade_schema(db)
    else:
        db = make_engine(request.getfixturevalue("postgres_database"))
        _empty_all_tables(db)
    yield db
    db.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    db = make_engine(f"sqlite:///{tmp_path / 'atlas.db'}")
    upgrade_schema(db)
    yield db
    db.dispose()


DEMO_EVENTS = 20_000


@pytest.fixture(scope="session")
def demo_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file holding a small demo company, made once per test session (pages and browser tests)."""
    from data_access.demo import load_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'atlas.db'}"
    db = make_engine(url)
    upgrade_schema(db)
    load_demo(db, events=DEMO_EVENTS, seed=7)
    db.dispose()
    return url


@pytest.fixture
def app_env(demo_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the app's settings at the demo database and start from empty Streamlit caches."""
    import streamlit as st

    from dashboard.settings import get_settings

    monkeypatch.setenv("ATLAS_DATABASE_URL", demo_database_url)
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield demo_database_url
    get_settings.cache_clear()

"""Faults of the database and the disk, each said in one sentence naming the setting to check, never the password.

Every fault is produced for real where this machine allows it: a read-only SQLite URI (and a read-only file
when the tests do not run as root, who may write to any file), a missing folder, a database locked by
another connection, a full database (SQLite's `max_page_count` caps the file, so the driver reports
SQLITE_FULL "database or disk is full" as on a full disk), a file with no schema, a malformed URL, unknown
drivers; on PostgreSQL an unknown user, database, port and host, and a read-only transaction. A full disk
under the temporary folder and PostgreSQL's wrong password (the test server trusts local connections, so
it accepts any password) are simulated with the exact errors the OS and the driver raise.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from data_access.db import make_engine, upgrade_schema
from data_access.faults import describe_fault, shown_url

SETTING = "ATLAS_DATABASE_URL"
PASSWORD = "s3cret-Pa55"


def _fault_of(url: str, action: Any) -> str:
    """The sentence for the error that `action(engine)` raises on `url`."""
    with pytest.raises(Exception) as raised:
        action(make_engine(url))
    said = describe_fault(raised.value, url=url, setting=SETTING)
    assert said is not None, f"not recognised as a fault: {raised.value!r}"
    assert PASSWORD not in said and "Traceback" not in said and "\n" not in said
    return said


def _write(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE data_version SET version = version + 1"))


def _read(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT version FROM data_version")).all()


def _migrated_file(tmp_path: Path) -> Path:
    path = tmp_path / "atlas.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_schema(engine)
    engine.dispose()
    return path


def test_read_only_sqlite_database_says_read_only_and_the_setting(tmp_path: Path) -> None:
    """A database opened read-only refuses a write: the sentence says read-only, names the file and the setting."""
    path = _migrated_file(tmp_path)
    said = _fault_of(f"sqlite:///file:{path}?mode=ro&uri=true", _write)
    assert said.startswith(f"Cannot use the database file:{path}")
    assert "read-only" in said and SETTING in said


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to a read-only file")
def test_read_only_sqlite_file_says_read_only(tmp_path: Path) -> None:
    """A database file without write permission: the same sentence."""
    path = _migrated_file(tmp_path)
    path.chmod(0o444)
    try:
        assert "read-only" in _fault_of(f"sqlite:///{path}", _write)
    finally:
        path.chmod(0o644)


def test_missing_folder_says_the_path_and_the_setting(tmp_path: Path) -> None:
    """A SQLite path in a folder that does not exist cannot be created: check the path in the setting."""
    url = f"sqlite:///{tmp_path / 'missing' / 'atlas.db'}"
    said = _fault_of(url, upgrade_schema)
    assert str(tmp_path / "missing" / "atlas.db") in said
    assert "folder is missing" in said and f"check the path in {SETTING}" in said


def test_database_without_schema_says_run_init(tmp_path: Path) -> None:
    """A database that holds no Journey Atlas tables (an empty or wrong file): run `journey-atlas init`."""
    said = _fault_of(f"sqlite:///{tmp_path / 'empty.db'}", _read)
    assert "no Journey Atlas tables" in said and "journey-atlas init" in said


def test_locked_sqlite_database_says_another_writer_holds_it(tmp_path: Path) -> None:
    """Another connection holds the write lock past the busy timeout: the sentence says so and to try again."""
    path = _migrated_file(tmp_path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        said = _fault_of(f"sqlite:///{path}?timeout=0.2", _write)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "another writer" in said and "try again" in said


def test_full_sqlite_database_says_the_disk_is_full(tmp_path: Path) -> None:
    """The database cannot grow (SQLITE_FULL, what a full disk gives): the sentence says the disk is full."""
    path = _migrated_file(tmp_path)
    engine = make_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _cap(dbapi_connection: Any, _record: Any) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 2}")

    with pytest.raises(OperationalError) as raised, engine.begin() as connection:
        connection.execute(text("CREATE TABLE filler (payload TEXT)"))
        for _ in range(50):
            connection.execute(text("INSERT INTO filler VALUES (:p)"), {"p": "x" * 10_000})
    engine.dispose()
    said = describe_fault(raised.value, url=f"sqlite:///{path}", setting=SETTING)
    assert said is not None and "disk that holds it is full" in said


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "No space left on device", "/tmp/atlas-import-x/staging.db"),
        RuntimeError("failed to write: No space left on device (os error 28)"),
    ],
    ids=["oserror", "polars"],
)
def test_full_disk_under_the_temporary_folder_says_free_space_or_set_tmpdir(error: Exception) -> None:
    """Simulated: the error the OS (or polars, writing a staged file) gives on a full disk."""
    said = describe_fault(error, url="sqlite:///atlas.db", setting=SETTING)
    assert said is not None and "full" in said and "TMPDIR" in said


def test_malformed_url_names_the_setting_and_an_example() -> None:
    said = _fault_of("postgres//atlas:" + PASSWORD + "@db/atlas", upgrade_schema)
    assert said.startswith(f"{SETTING} is not a database URL") and "sqlite:///" in said


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("postgresql+nosuch://atlas:" + PASSWORD + "@db/atlas", "postgresql+nosuch"),
        ("nosuchdb://atlas:" + PASSWORD + "@db/atlas", "nosuchdb"),
        ("mysql+mysqldb://atlas:" + PASSWORD + "@db/atlas", "mysql+mysqldb"),  # known dialect, module missing
    ],
)
def test_unknown_driver_names_the_scheme_and_the_setting(url: str, scheme: str) -> None:
    said = _fault_of(url, upgrade_schema)
    assert said.startswith(f"{SETTING} names a database driver that is not installed: {scheme} ")


def test_a_bug_is_not_passed_off_as_a_fault(sqlite_engine: Engine) -> None:
    """Errors that are not about the database's set-up (a broken constraint, a plain bug) give no sentence."""
    with pytest.raises(IntegrityError) as raised, sqlite_engine.begin() as connection:
        connection.execute(text("INSERT INTO data_version (id, version) VALUES (1, 1), (1, 2)"))
    assert describe_fault(raised.value, url="sqlite://", setting=SETTING) is None
    assert describe_fault(ValueError("bad"), url="sqlite://", setting=SETTING) is None
    assert describe_fault(OSError(errno.ENOENT, "gone", "x.csv"), url="sqlite://", setting=SETTING) is None


def test_shown_url_hides_the_password() -> None:
    assert (
        shown_url(f"postgresql+psycopg://atlas:{PASSWORD}@db:5432/atlas")
        == "postgresql+psycopg://atlas:***@db:5432/atlas"
    )
    assert shown_url("sqlite:////srv/atlas.db") == "/srv/atlas.db"
    assert shown_url(f"postgres//atlas:{PASSWORD}@db") == "the URL given"


# --- PostgreSQL ---------------------------------------------------------------------------------------


@pytest.fixture
def server_url(postgres_database: str) -> Iterator[str]:
    """The test server's URL with a password in it, so the tests can check it is never shown."""
    yield make_url(postgres_database).set(password=PASSWORD).render_as_string(hide_password=False)


def test_postgres_unknown_database_says_create_it_or_check_the_name(server_url: str) -> None:
    url = make_url(server_url).set(database="atlas_no_such_database").render_as_string(hide_password=False)
    said = _fault_of(url, upgrade_schema)
    assert "no database 'atlas_no_such_database'" in said and f"database name in {SETTING}" in said
    assert ":***@" in said


def test_postgres_unknown_user_says_check_the_user(server_url: str) -> None:
    url = make_url(server_url).set(username="atlas_no_such_user").render_as_string(hide_password=False)
    said = _fault_of(url, upgrade_schema)
    assert "no user 'atlas_no_such_user'" in said and f"user name in {SETTING}" in said


def test_postgres_nothing_listening_says_start_it_or_check_host_and_port(server_url: str) -> None:
    url = make_url(server_url).set(port=1).render_as_string(hide_password=False)
    said = _fault_of(url, upgrade_schema)
    assert "no database server answers" in said and f"host and port in {SETTING}" in said


def test_postgres_unknown_host_says_check_the_host(server_url: str) -> None:
    url = make_url(server_url).set(host="atlas-no-such-host.invalid").render_as_string(hide_password=False)
    assert f"host name is unknown: check the host in {SETTING}" in _fault_of(url, upgrade_schema)


def test_postgres_read_only_transaction_says_read_only(server_url: str) -> None:
    """A standby or a read-only default refuses writes (SQLSTATE 25006)."""
    engine = make_engine(server_url, connect_args={"options": "-c default_transaction_read_only=on"})
    with pytest.raises(DBAPIError) as raised:
        _write(engine)
    engine.dispose()
    said = describe_fault(raised.value, url=server_url, setting=SETTING)
    assert said is not None and "read-only" in said and PASSWORD not in said


def test_postgres_wrong_password_says_check_the_password() -> None:
    """Simulated (the test server trusts local connections): psycopg's error on a refused password."""
    refused = psycopg.OperationalError(
        'connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  password authentication '
        'failed for user "atlas"'
    )
    error = OperationalError("SELECT 1", {}, refused)
    url = f"postgresql+psycopg://atlas:{PASSWORD}@10.0.0.5/atlas"
    said = describe_fault(error, url=url, setting=SETTING)
    assert said == (
        "Cannot use the database postgresql+psycopg://atlas:***@10.0.0.5/atlas: the server refused the password of "
        f"user 'atlas': check the password in {SETTING}."
    )

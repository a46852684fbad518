"""Faults of the database and the disk, said in one sentence: what is wrong and which setting to check.

A read-only database, a full disk, a missing database or folder, a wrong password, a malformed URL, an
unknown driver, a server that does not answer and a database locked by another writer reach the user as
SQLAlchemy or driver errors whose text is a traceback's first line at best. `describe_fault` turns each
into a sentence for the page and the command line; an error it does not know gives None, so a bug is never
passed off as a fault of the set-up. The sentence names the database by its URL with the password hidden.
"""

from __future__ import annotations

import errno
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

# what an OSError's number means for the user, when it is the disk's fault
DISK_ERRNOS = {errno.ENOSPC: "full", errno.EDQUOT: "full", errno.EROFS: "read-only"}
# the first words of a driver's message on a failed connection (PostgreSQL's, as psycopg passes them on),
# each with the sentence that follows ""Cannot use the database …: "
CONNECTION_MESSAGES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], str], str]], ...] = (
    (
        re.compile(r'password authentication failed for user "([^"]*)"'),
        lambda m, setting: f"the server refused the password of user '{m[1]}': check the password in {setting}",
    ),
    (
        re.compile(r"no password supplied|password authentication failed"),
        lambda _m, setting: f"the server asks for a password that {setting} does not give or gets wrong",
    ),
    (
        re.compile(r'role "([^"]*)" does not exist'),
        lambda m, setting: f"the server has no user '{m[1]}': check the user name in {setting}",
    ),
    (
        re.compile(r'database "([^"]*)" does not exist'),
        lambda m, setting: f"the server has no database '{m[1]}': create it, or check the database name in {setting}",
    ),
    (
        re.compile(r"failed to resolve host|could not translate host name|Name or service not known"),
        lambda _m, setting: f"the server's host name is unknown: check the host in {setting}",
    ),
    (
        re.compile(r"invalid port number"),
        lambda _m, setting: f"the port is not a port number: check the port in {setting}",
    ),
    (
        re.compile(r"Connection refused|No such file or directory|timeout expired|Connection timed out"),
        lambda _m, setting: f"no database server answers there: start it, or check the host and port in {setting}",
    ),
    (
        re.compile(r"permission denied for database"),
        lambda _m, setting: f"the user may not connect to this database: check the user in {setting}",
    ),
)
# SQLSTATE classes and codes of errors raised on a working connection
POSTGRES_STATES: dict[str, str] = {
    "53100": "the server's disk is full: free some space on it, then try again",
    "53200": "the server is out of memory: try again later",
    "25006": "it is read-only (a read-only transaction, or a standby): point {setting} at one that accepts writes",
    "42501": "its user may not write here (permission denied): grant the rights, or check the user in {setting}",
    "40P01": "it found a deadlock with another writer and stopped this one: try again",
    "55P03": "another writer holds a lock on it: try again in a moment",
    "57P01": "the server is shutting down: try again once it is back",
    "57P03": "the server is starting up or not accepting connections: try again in a moment",
    "28P01": "the server refused the password: check the password in {setting}",
    "28000": "the server refused the user: check the user name in {setting}",
    "3D000": "it does not exist: create it, or check the database name in {setting}",
    "42P01": "it holds no Journey Atlas tables: run `journey-atlas init`, or check the database in {setting}",
}
SQLITE_CODES: dict[str, str] = {
    "SQLITE_READONLY": "the file is read-only: give this user write access to it and its folder, "
    "or point {setting} at a writable file",
    "SQLITE_FULL": "the disk that holds it is full (database or disk is full): free some space, then try again",
    "SQLITE_BUSY": "another writer (an import, or another process) holds its lock: try again once it has finished",
    "SQLITE_LOCKED": "another writer holds its lock: try again once it has finished",
    "SQLITE_CANTOPEN": "the file cannot be opened: its folder is missing or not writable; check the path in {setting}",
    "SQLITE_NOTADB": "the file is not a SQLite database: check the path in {setting}",
    "SQLITE_CORRUPT": "the file is damaged: restore it from a backup, or point {setting} at another file",
    "SQLITE_IOERR": "the disk could not read or write the file: check the disk, then try again",
    "SQLITE_PERM": "this user may not open the file: check its permissions, or the path in {setting}",
    "SQLITE_AUTH": "this user may not open the file: check its permissions, or the path in {setting}",
}


def shown_url(url: str | URL) -> str:
    """The database as it may be shown: a SQLite file by its path, a server's URL with the password replaced
    by ***; a URL that does not parse, not at all."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "the URL given"
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return parsed.database
    return parsed.render_as_string(hide_password=True)


def describe_fault(error: BaseException, *, url: str | URL, setting: str) -> str | None:
    """One sentence for a fault of the database or the disk behind `error`, or None if it is not one.

    `url` is the database's URL (shown with its password hidden); `setting` is where the user sets it
    (e.g. ATLAS_DATABASE_URL). The error's own text is never repeated: it can hold the password.
    """
    for cause in _chain(error):
        said = _said(cause, setting=setting, url=url)
        if isinstance(said, Sentence):
            return said.text
        if said is not None:
            return f"Cannot use the database {shown_url(url)}: {said}."
    return None


@dataclass(frozen=True)
class Sentence:
    """A whole sentence, about the setting itself rather than the database it names (which may not parse)."""

    text: str


def _said(error: BaseException, *, setting: str, url: str | URL) -> Sentence | str | None:
    """A whole sentence, or the reason a database cannot be used, or None."""
    if isinstance(error, ArgumentError) and "URL" in str(error):
        return Sentence(
            f"{setting} is not a database URL: write it as dialect+driver://user@host/database, for example "
            "sqlite:///journey_atlas.db or postgresql+psycopg://atlas@localhost/atlas."
        )
    if isinstance(error, NoSuchModuleError):
        return Sentence(
            f"{setting} names a database driver that is not installed: {_scheme(url)} "
            "(installed with the project: sqlite, postgresql+psycopg)."
        )
    if isinstance(error, DBAPIError) and error.orig is not None:
        return _driver_said(error.orig, setting=setting)
    if isinstance(error, sqlite3.Error):
        return _driver_said(error, setting=setting)
    if isinstance(error, OSError) and error.errno in DISK_ERRNOS:
        where = f"'{error.filename}'" if error.filename else "the temporary folder"
        what = DISK_ERRNOS[error.errno]
        return f"the disk that holds {where} is {what}: free some space or set TMPDIR to a folder with room"
    if "No space left on device" in str(error) or "os error 28" in str(error):
        return "the disk is full (no space left on device): free some space or set TMPDIR to a folder with room"
    return None


def _scheme(url: str | URL) -> str:
    try:
        return make_url(url).drivername
    except ArgumentError:
        return "its scheme"


def _driver_said(error: BaseException, *, setting: str) -> str | None:
    name = getattr(error, "sqlite_errorname", None)
    known = next((said for code, said in SQLITE_CODES.items() if str(name).startswith(code)), None)
    if known is not None:
        return known.format(setting=setting)
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if isinstance(state, str) and state in POSTGRES_STATES:
        return POSTGRES_STATES[state].format(setting=setting)
    message = str(error)
    for pattern, sentence in CONNECTION_MESSAGES:
        found = pattern.search(message)
        if found is not None:
            return sentence(found, setting)
    if message.startswith("no such table"):
        return POSTGRES_STATES["42P01"].format(setting=setting)
    if "database is locked" in message:
        return SQLITE_CODES["SQLITE_BUSY"]
    if "disk is full" in message or "No space left on device" in message:
        return SQLITE_CODES["SQLITE_FULL"]
    return None


def _chain(error: BaseException) -> list[BaseException]:
    """The error and its causes, outermost first (each once)."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen

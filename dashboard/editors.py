"""Who may write: the one check every write of the dashboard passes, and how a browser session becomes an editor.

Viewing is open to whoever the server lets in. Writing (imports, stage notes, reviews) needs an editor, and
`require_editor` decides it at the moment of the write, whatever the page showed:

- **login**: `[auth]` in `.streamlit/secrets.toml` (Streamlit's OpenID Connect login): a logged-in person whose
  e-mail is in ATLAS_EDITOR_EMAILS (and not marked unverified by the identity provider);
- **passphrase**: otherwise, with ATLAS_EDITOR_PASSPHRASE set: a session that entered it. It is compared in
  constant time; after failures, attempts wait (per session, and per process across sessions);
- **local**: with neither, everyone, but only when the server listens on this machine alone (ATLAS_HOST,
  which `journey-atlas serve` sets, and Streamlit's `server.address`);
- **closed**: else nobody: the dashboard is read-only.

The pure parts (`write_mode`, `login_editor`, `passphrase_matches`, `FailureLimiter`, `try_passphrase`) take
plain values and are tested alone; the rest reads the session (`st.user`, `st.session_state`, `st.secrets`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import streamlit as st
from pydantic import SecretStr
from streamlit.runtime.scriptrunner import get_script_run_ctx

from dashboard.settings import Settings, get_settings, is_local_host

LOG = logging.getLogger(__name__)

PASSPHRASE_EDITOR = "passphrase editor"
LOCAL_EDITOR = "local"
# failures allowed within WINDOW_SECONDS before attempts wait: one session's, and all sessions' of the process
SESSION_FAILURES = 5
PROCESS_FAILURES = 30
WINDOW_SECONDS = 15 * 60
UNLOCKED_KEY = "editors_unlocked"  # session state: the fingerprint of the passphrase this session entered
PROCESS_KEY = "all sessions"


class WriteMode(StrEnum):
    LOGIN = "login"
    PASSPHRASE = "passphrase"
    LOCAL = "local"
    CLOSED = "closed"


@dataclass(frozen=True)
class Editor:
    """Someone allowed to write; `name` is what the write records as its writer (`written_by`)."""

    name: str


class NotAnEditor(PermissionError):
    """A write refused: the message says who may write and how to become an editor (no secret in it)."""


# --- decisions from plain values ---------------------------------------------------------------------


def write_mode(settings: Settings, *, login_configured: bool, listening: Sequence[str]) -> WriteMode:
    """How writers are told apart: a login when configured, else the passphrase, else the address listened on."""
    if login_configured:
        return WriteMode.LOGIN
    if settings.editor_passphrase is not None:
        return WriteMode.PASSPHRASE
    if listening and all(is_local_host(host) for host in listening):
        return WriteMode.LOCAL
    return WriteMode.CLOSED


def login_editor(settings: Settings, user: Mapping[str, object]) -> Editor | None:
    """The editor a logged-in person is (`user` as `st.user` gives it), or None: not logged in, no e-mail, an
    e-mail the identity provider says is unverified, or one not in ATLAS_EDITOR_EMAILS (compared without case)."""
    if user.get("is_logged_in") is not True:
        return None
    email = user.get("email")
    if not isinstance(email, str) or not email.strip() or user.get("email_verified") is False:
        return None
    email = email.strip().lower()
    return Editor(email) if email in settings.editor_emails else None


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def passphrase_matches(given: str, expected: SecretStr) -> bool:
    """Whether `given` is the passphrase, in time that depends on neither (digests of equal length compared)."""
    return hmac.compare_digest(_digest(given), _digest(expected.get_secret_value()))


class FailureLimiter:
    """Failures per key within a sliding window; a key with `failures` of them waits until the oldest expires.

    Shared by every session of the process (one lock); keys with no failure left in the window are dropped, so
    it holds at most the failures of one window.
    """

    def __init__(self, *, failures: int, window_seconds: float) -> None:
        self.failures = failures
        self.window_seconds = window_seconds
        self._times: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._times.get(key, deque())
        while times and times[0] <= now - self.window_seconds:
            times.popleft()
        if not times:
            self._times.pop(key, None)
        return times

    def wait_seconds(self, key: str, now: float) -> float:
        """0 when `key` may try now, else how long until it may."""
        with self._lock:
            times = self._recent(key, now)
            return 0.0 if len(times) < self.failures else times[0] + self.window_seconds - now

    def fail(self, key: str, now: float) -> None:
        with self._lock:
            self._times[key] = self._recent(key, now)
            self._times[key].append(now)

    def clear(self, key: str) -> None:
        with self._lock:
            self._times.pop(key, None)


@dataclass(frozen=True)
class PassphraseLimits:
    """The process's limits on wrong passphrases: each session's (keyed by session), and all sessions' together."""

    sessions: FailureLimiter
    process: FailureLimiter

    @classmethod
    def standard(cls) -> PassphraseLimits:
        return cls(
            sessions=FailureLimiter(failures=SESSION_FAILURES, window_seconds=WINDOW_SECONDS),
            process=FailureLimiter(failures=PROCESS_FAILURES, window_seconds=WINDOW_SECONDS),
        )


@dataclass(frozen=True)
class Attempt:
    """A passphrase attempt: unlocked or not, and what to tell the person."""

    unlocked: bool
    message: str


def _wait_text(seconds: float) -> str:
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def try_passphrase(
    given: str,
    *,
    expected: SecretStr,
    limits: PassphraseLimits,
    session: str,
    now: float,
) -> Attempt:
    """Check a passphrase under the limits: while the session or the process waits, nothing is compared."""
    waits = [
        (limits.sessions.wait_seconds(session, now), "this session"),
        (limits.process.wait_seconds(PROCESS_KEY, now), "this server, after failures from several sessions"),
    ]
    for wait, whom in waits:
        if wait > 0:
            return Attempt(False, f"Too many wrong passphrases for {whom}: try again in {_wait_text(wait)}.")
    if passphrase_matches(given, expected):
        limits.sessions.clear(session)
        return Attempt(True, "Editing unlocked for this browser session.")
    limits.sessions.fail(session, now)
    limits.process.fail(PROCESS_KEY, now)
    LOG.warning("editor passphrase refused (a wrong passphrase; it is not logged)")
    return Attempt(False, "That is not the editor passphrase.")


# --- the session ---------------------------------------------------------------------------------------

# a per-process key, so the session keeps a fingerprint of the passphrase, never the passphrase
_FINGERPRINT_KEY = secrets.token_bytes(32)


def _fingerprint(passphrase: SecretStr) -> str:
    return hmac.new(_FINGERPRINT_KEY, passphrase.get_secret_value().encode("utf-8"), hashlib.sha256).hexdigest()


def login_configured() -> bool:
    """Whether Streamlit's login is configured: an `[auth]` section in `.streamlit/secrets.toml`."""
    return bool(st.secrets.load_if_toml_exists() and "auth" in st.secrets)


def listening_hosts(settings: Settings) -> list[str]:
    """The addresses the server may listen on: ATLAS_HOST (set by `serve`) and Streamlit's own, when set."""
    address = st.get_option("server.address")
    return [settings.host, *([str(address)] if address else [])]


def current_mode() -> WriteMode:
    settings = get_settings()
    return write_mode(settings, login_configured=login_configured(), listening=listening_hosts(settings))


def current_editor() -> Editor | None:
    """The session's editor, decided afresh from the settings and the session (never from what a page drew)."""
    settings = get_settings()
    mode = current_mode()
    if mode == WriteMode.LOGIN:
        return login_editor(settings, st.user.to_dict())
    if mode == WriteMode.PASSPHRASE:
        assert settings.editor_passphrase is not None
        unlocked = st.session_state.get(UNLOCKED_KEY)
        if isinstance(unlocked, str) and hmac.compare_digest(unlocked, _fingerprint(settings.editor_passphrase)):
            return Editor(PASSPHRASE_EDITOR)
        return None
    return Editor(LOCAL_EDITOR) if mode == WriteMode.LOCAL else None


def refusal(action: str) -> str:
    """Why this session may not `action` (e.g. "import data"), and how to become an editor."""
    settings = get_settings()
    mode = current_mode()
    if mode == WriteMode.LOGIN:
        user = st.user.to_dict()
        if user.get("is_logged_in") is not True:
            return f"Only editors can {action}: log in first."
        if not settings.editor_emails:
            return f"Only editors can {action}, and no editor is named yet (ATLAS_EDITOR_EMAILS)."
        if user.get("email_verified") is False:
            return f"Only editors can {action}: the login did not confirm your e-mail address."
        return f"Only editors can {action}: {user.get('email') or 'this login'} is not an editor (ATLAS_EDITOR_EMAILS)."
    if mode == WriteMode.PASSPHRASE:
        return f"Only editors can {action}: enter the editor passphrase first."
    return (
        f"Only editors can {action}, and this server has no way to sign in as one: it listens on "
        f"{', '.join(listening_hosts(settings))} with neither a login ([auth] in .streamlit/secrets.toml) nor "
        "ATLAS_EDITOR_PASSPHRASE. It is read-only."
    )


def require_editor(action: str) -> Editor:
    """The guard of every write: the session's editor, or `NotAnEditor` saying why not and how."""
    editor = current_editor()
    if editor is None:
        raise NotAnEditor(refusal(action))
    return editor


def unlock(given: str, *, limits: PassphraseLimits) -> Attempt:
    """Enter the editor passphrase for this session (`limits`: the process's, `cache.passphrase_limits()`)."""
    expected = get_settings().editor_passphrase
    if expected is None or current_mode() != WriteMode.PASSPHRASE:
        return Attempt(False, "This server does not use an editor passphrase.")
    ctx = get_script_run_ctx(suppress_warning=True)
    session = ctx.session_id if ctx is not None else "no session"
    attempt = try_passphrase(given, expected=expected, limits=limits, session=session, now=time.monotonic())
    if attempt.unlocked:
        st.session_state[UNLOCKED_KEY] = _fingerprint(expected)
    return attempt


def lock() -> None:
    """Forget this session's passphrase: it views only, until the passphrase is entered again."""
    st.session_state.pop(UNLOCKED_KEY, None)

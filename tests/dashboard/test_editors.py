"""Who may write, decided from plain values: the mode, a login's e-mail, the passphrase and its limits, settings."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from dashboard.editors import (
    PROCESS_FAILURES,
    SESSION_FAILURES,
    WINDOW_SECONDS,
    Editor,
    FailureLimiter,
    PassphraseLimits,
    WriteMode,
    login_editor,
    passphrase_matches,
    try_passphrase,
    write_mode,
)
from dashboard.settings import Settings

PASSPHRASE = "correct horse battery staple"
SECRET = SecretStr(PASSPHRASE)


def _settings(**values: object) -> Settings:
    return Settings(database_url="sqlite://", **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("login", "passphrase", "listening", "mode"),
    [
        (True, PASSPHRASE, ["0.0.0.0"], WriteMode.LOGIN),  # a login wins over the passphrase
        (True, None, ["127.0.0.1"], WriteMode.LOGIN),
        (False, PASSPHRASE, ["127.0.0.1"], WriteMode.PASSPHRASE),  # a passphrase is asked even on this machine
        (False, None, ["127.0.0.1"], WriteMode.LOCAL),
        (False, None, ["localhost", "LOCALHOST"], WriteMode.LOCAL),
        (False, None, ["::1", "[::1]"], WriteMode.LOCAL),
        (False, None, ["0.0.0.0"], WriteMode.CLOSED),
        (False, None, ["10.1.2.3"], WriteMode.CLOSED),
        (False, None, ["127.0.0.1", "0.0.0.0"], WriteMode.CLOSED),  # ATLAS_HOST local, Streamlit on every address
        (False, None, [], WriteMode.CLOSED),
    ],
)
def test_the_write_mode_follows_login_passphrase_and_address(
    login: bool, passphrase: str | None, listening: list[str], mode: WriteMode
) -> None:
    """A login when configured; else the passphrase; else writes only on a server this machine alone can reach."""
    settings = _settings(editor_passphrase=passphrase)
    assert write_mode(settings, login_configured=login, listening=listening) == mode


EDITORS = _settings(editor_emails="Ed@Example.com, second@example.com")


@pytest.mark.parametrize(
    ("user", "editor"),
    [
        ({"is_logged_in": True, "email": "ed@example.com", "email_verified": True}, Editor("ed@example.com")),
        ({"is_logged_in": True, "email": " SECOND@example.COM "}, Editor("second@example.com")),  # no claim: trusted
        ({"is_logged_in": True, "email": "ed@example.com", "email_verified": False}, None),
        ({"is_logged_in": True, "email": "eve@example.com", "email_verified": True}, None),
        ({"is_logged_in": True, "email": "ed@example.com.evil.test"}, None),
        ({"is_logged_in": True}, None),
        ({"is_logged_in": True, "email": ""}, None),
        ({"is_logged_in": False, "email": "ed@example.com"}, None),
        ({"email": "ed@example.com"}, None),  # what st.user holds with no login configured: not a login
        ({}, None),
    ],
)
def test_a_login_is_an_editor_only_with_a_listed_verified_email(user: dict[str, object], editor: Editor | None) -> None:
    """The e-mail must be listed (any case), the person logged in, and the e-mail not marked unverified."""
    assert login_editor(EDITORS, user) == editor


def test_nobody_is_an_editor_when_no_email_is_listed() -> None:
    assert login_editor(_settings(), {"is_logged_in": True, "email": "ed@example.com"}) is None


@pytest.mark.parametrize(
    ("given", "matches"),
    [
        (PASSPHRASE, True),
        (PASSPHRASE + " ", False),
        (PASSPHRASE[:-1], False),
        (PASSPHRASE.upper(), False),
        ("", False),
        ("pässphrase ünïcode ✓", False),
    ],
)
def test_the_passphrase_must_match_exactly(given: str, matches: bool) -> None:
    assert passphrase_matches(given, SECRET) is matches


def test_a_unicode_passphrase_matches_itself() -> None:
    assert passphrase_matches("pässphrase ünïcode ✓", SecretStr("pässphrase ünïcode ✓"))


def test_a_session_waits_after_too_many_wrong_passphrases() -> None:
    """After 5 wrong ones, even the right passphrase is refused until the oldest failure leaves the window."""
    limits = PassphraseLimits.standard()
    for second in range(SESSION_FAILURES):
        attempt = try_passphrase("wrong guess", expected=SECRET, limits=limits, session="s1", now=float(second))
        assert not attempt.unlocked and attempt.message == "That is not the editor passphrase."
    refused = try_passphrase(PASSPHRASE, expected=SECRET, limits=limits, session="s1", now=60.0)
    assert not refused.unlocked
    assert refused.message == "Too many wrong passphrases for this session: try again in 14 minutes."
    # another session is not held up by this one's failures
    assert try_passphrase(PASSPHRASE, expected=SECRET, limits=limits, session="s2", now=60.0).unlocked
    # once the first failure is older than the window, the session may try again
    assert try_passphrase(PASSPHRASE, expected=SECRET, limits=limits, session="s1", now=WINDOW_SECONDS + 0.5).unlocked


def test_the_process_waits_after_failures_from_many_sessions() -> None:
    """New sessions gain no attempts: 30 failures over any sessions make every session wait."""
    limits = PassphraseLimits.standard()
    for failure in range(PROCESS_FAILURES):
        session = f"s{failure // (SESSION_FAILURES - 1)}"  # each session stays under its own limit
        assert not try_passphrase("guess", expected=SECRET, limits=limits, session=session, now=float(failure)).unlocked
    refused = try_passphrase(PASSPHRASE, expected=SECRET, limits=limits, session="fresh", now=100.0)
    assert not refused.unlocked
    assert refused.message.startswith("Too many wrong passphrases for this server")
    assert try_passphrase(PASSPHRASE, expected=SECRET, limits=limits, session="fresh", now=WINDOW_SECONDS + 31).unlocked


def test_a_right_passphrase_clears_the_sessions_failures() -> None:
    limits = PassphraseLimits.standard()
    for second in range(SESSION_FAILURES - 1):
        try_passphrase("wrong", expected=SECRET, limits=limits, session="s1", now=float(second))
    assert try_passphrase(PASSPHRASE, expected=SECRET, limits=limits, session="s1", now=10.0).unlocked
    assert limits.sessions.wait_seconds("s1", 10.0) == 0.0
    for second in range(SESSION_FAILURES - 1):
        try_passphrase("wrong", expected=SECRET, limits=limits, session="s1", now=11.0 + second)
    assert limits.sessions.wait_seconds("s1", 20.0) == 0.0  # 4 failures since the success: still allowed


def test_the_limiter_forgets_keys_whose_failures_expired() -> None:
    """It holds at most one window of failures, whatever the number of sessions that ever failed."""
    limiter = FailureLimiter(failures=2, window_seconds=10)
    for key in range(1_000):
        limiter.fail(f"s{key}", now=0.0)
    assert limiter.wait_seconds("s1", now=5.0) == 0.0
    for key in range(1_000):
        limiter.wait_seconds(f"s{key}", now=11.0)
    assert limiter._times == {}


def test_settings_read_editor_emails_and_never_show_the_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    """ATLAS_EDITOR_EMAILS is comma-separated; the passphrase shows as stars in the settings' text."""
    monkeypatch.setenv("ATLAS_EDITOR_EMAILS", "Ana@Example.com, ,bo@example.com")
    monkeypatch.setenv("ATLAS_EDITOR_PASSPHRASE", PASSPHRASE)
    settings = Settings()
    assert settings.editor_emails == ["ana@example.com", "bo@example.com"]
    assert settings.editor_passphrase is not None and settings.editor_passphrase.get_secret_value() == PASSPHRASE
    assert PASSPHRASE not in repr(settings) and PASSPHRASE not in str(settings)


def test_a_short_passphrase_is_refused_without_showing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_EDITOR_PASSPHRASE", "hunter2")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "at least 12 characters" in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_an_empty_passphrase_is_no_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATLAS_EDITOR_PASSPHRASE", "")
    assert Settings().editor_passphrase is None

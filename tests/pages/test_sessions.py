"""No state shared between sessions: each session has page objects of its own (AppTest)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from dashboard.routes import SESSION_KEY
from tests.paths import APP


def test_two_sessions_never_share_a_page_object(app_env: str) -> None:
    """A shared `st.Page` lets one session clear another's may-run flag ("This page cannot be called directly")."""
    first, second = (AppTest.from_file(APP, default_timeout=90).run() for _ in range(2))
    assert not first.exception and not second.exception
    pages_of_first, pages_of_second = first.session_state[SESSION_KEY], second.session_state[SESSION_KEY]
    assert set(pages_of_first) >= {"EXPERIENCE_MAP", "JOURNEY_MAP"}
    assert all(pages_of_first[name] is not pages_of_second.get(name) for name in pages_of_first)
    first.run()  # the same session keeps its own pages from run to run
    assert first.session_state[SESSION_KEY]["EXPERIENCE_MAP"] is pages_of_first["EXPERIENCE_MAP"]

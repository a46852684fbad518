"""Becoming an editor, on screen: the login button or the passphrase form a viewer sees instead of a write form,
and who is editing. Whatever these draw, each write checks the editor again (`editors.require_editor`)."""

from __future__ import annotations

import polars as pl
import streamlit as st
from streamlit.errors import StreamlitAPIException

from dashboard import cache, editors, format
from dashboard.editors import Editor, WriteMode


def editor_or_sign_in(prefix: str, *, action: str) -> Editor | None:
    """The session's editor; for a viewer, None, with the way to become an editor (or why there is none) drawn
    in its place. `prefix` keeps the widgets of each page apart; `action` says what needs an editor."""
    editor = editors.current_editor()
    if editor is not None:
        return editor
    mode = editors.current_mode()
    st.info(format.verbatim(editors.refusal(action), limit=None), icon=":material/lock:")
    if mode == WriteMode.LOGIN:
        _login_buttons(prefix)
    elif mode == WriteMode.PASSPHRASE:
        _passphrase_form(prefix)
    return None


def editing_as(prefix: str, editor: Editor) -> None:
    """A line saying who writes here, with the way to stop (log out, or lock the passphrase again)."""
    mode = editors.current_mode()
    if mode == WriteMode.LOCAL:
        st.caption("Editing as local: this server listens on this machine only.")
        return
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.caption(f"Editing as {format.verbatim(editor.name)}.")
    if mode == WriteMode.LOGIN:
        right.button("Log out", key=f"{prefix}_logout", on_click=st.logout)
    else:
        right.button("Lock editing", key=f"{prefix}_lock", on_click=editors.lock)


def imports_list(imports: pl.DataFrame) -> None:
    """The latest imports, newest first, with who ran them; file names and writers shown as plain text."""
    if imports.is_empty():
        st.caption("Nothing has been imported yet.")
    for created_at, kind, source, inserted, writer in imports.iter_rows():
        facts = "" if inserted is None else f", {format.count_text(inserted)} facts inserted"
        st.caption(
            f"{created_at:%d %b %Y, %H:%M} UTC · {kind} from {format.verbatim(source)}{facts} · "
            f"run by {format.verbatim(writer)}"
        )


def _login_buttons(prefix: str) -> None:
    if st.user.to_dict().get("is_logged_in") is True:
        st.button("Log out", key=f"{prefix}_logout", on_click=st.logout)
        return
    if st.button("Log in", key=f"{prefix}_login", type="primary"):
        try:
            st.login()
        except StreamlitAPIException as problem:  # Authlib missing, or [auth] incomplete: Streamlit says which
            first = str(problem).strip().splitlines()[0] if str(problem).strip() else type(problem).__name__
            st.error(f"The login cannot start: {format.verbatim(first, limit=300)}")


def _passphrase_form(prefix: str) -> None:
    with st.form(f"{prefix}_unlock", clear_on_submit=True):
        given = st.text_input("Editor passphrase", type="password", key=f"{prefix}_passphrase")
        if st.form_submit_button("Unlock editing"):
            attempt = editors.unlock(given, limits=cache.passphrase_limits())
            if attempt.unlocked:
                st.rerun()
            st.error(attempt.message)

"""Writes only by editors, through AppTest: every write path refused to a viewer (the database unchanged) and
done for an editor (who wrote it stored), with the login, the passphrase, this machine only, or none of them."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from streamlit.testing.v1 import AppTest

from dashboard.editors import UNLOCKED_KEY
from data_access.db import make_engine
from data_access.models import Event, ImportRecord, Journey, Review, StageNote
from tests.paths import APP, ROOT

PASSPHRASE = "correct horse battery staple"
ORDERS_MAP = (ROOT / "examples" / "maps" / "orders.yaml").read_text()
AUTH = {
    "auth": {
        "redirect_uri": "http://localhost:8621/oauth2callback",
        "cookie_secret": "a-cookie-secret-for-tests-only-0123456789",
        "client_id": "atlas",
        "client_secret": "an-oidc-secret-for-tests",
        "server_metadata_url": "https://login.example.com/.well-known/openid-configuration",
    }
}
EDITOR_LOGIN = {"is_logged_in": True, "email": "Ed@Example.com", "email_verified": True}
JOURNEY = {"journey": "northwind-current", "stage": "support"}


@pytest.fixture
def database(demo_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A copy of the small demo for this test alone, with the app's settings and caches pointed at it."""
    import streamlit as st

    from dashboard.settings import get_settings

    source = Path(demo_database_url.removeprefix("sqlite:///"))
    copy = tmp_path / "atlas.db"
    shutil.copyfile(source, copy)
    url = f"sqlite:///{copy}"
    for name in ("ATLAS_HOST", "ATLAS_EDITOR_PASSPHRASE", "ATLAS_EDITOR_EMAILS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ATLAS_DATABASE_URL", url)
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    engine = make_engine(url)
    yield engine
    engine.dispose()
    get_settings.cache_clear()
    st.cache_resource.clear()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Set how the server runs: where it listens, the passphrase, the editors' e-mails."""
    from dashboard.settings import get_settings

    def configure(host: str = "127.0.0.1", passphrase: str | None = None, emails: str | None = None) -> None:
        monkeypatch.setenv("ATLAS_HOST", host)
        for name, value in (("ATLAS_EDITOR_PASSPHRASE", passphrase), ("ATLAS_EDITOR_EMAILS", emails)):
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    return configure


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            model.__tablename__: connection.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Review, StageNote, ImportRecord, Journey, Event)
        }


def _writers(engine: Engine, model: type[Review] | type[StageNote] | type[ImportRecord]) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(select(model.written_by).order_by(model.id)))


def _page(script: str, *, params: dict[str, str] | None = None, secrets: dict[str, object] | None = None,
          user: dict[str, object] | None = None) -> AppTest:  # fmt: skip
    app = AppTest.from_file(APP, default_timeout=90)
    if secrets is not None:
        app.secrets = secrets
    if user is not None:
        app.user = user
    app.run()  # registers the navigation's pages, so switch_page finds the page
    app.switch_page(f"../pages/{script}")
    app.query_params.clear()
    for name, value in (params or {}).items():
        app.query_params[name] = value
    return app.run()


def _every_write() -> None:
    """Each write of the dashboard, as a page would make it; a refusal is shown, not raised."""
    import datetime as dt

    import streamlit as st

    from dashboard import cache
    from dashboard.components.import_data import Upload
    from dashboard.editors import NotAnEditor
    from data_access.importing.mapping import parse_mapping
    from tests.paths import ROOT

    orders = ROOT / "examples"
    writes = {
        "review": lambda: cache.save_review("northwind-current", "Q4 review", dt.date(2026, 10, 1)),
        "note": lambda: cache.add_stage_note("northwind-current", "support", author="Front desk", body="Queues"),
        "map": lambda: cache.import_map_file("orders.yaml", (orders / "maps" / "orders.yaml").read_text()),
        "facts": lambda: cache.import_facts_file(
            [Upload("orders.csv", (orders / "data" / "orders.csv").read_bytes())],
            parse_mapping((orders / "mappings" / "orders.yaml").read_text()),
            lambda _progress: None,
        ),
    }
    for name, write in writes.items():
        try:
            write()
        except NotAnEditor as refused:
            st.text(f"{name} refused: {refused}")
        else:
            st.text(f"{name} written")


def _run_every_write(**options: dict[str, object]) -> AppTest:
    app = AppTest.from_function(_every_write, default_timeout=120)
    for name, value in options.items():
        setattr(app, name, value)
    return app.run()


def test_every_write_refuses_a_viewer_where_it_writes(database: Engine, server: Callable[..., None]) -> None:
    """Called directly, as a crafted request would reach them, the four writes refuse and write nothing."""
    server(host="0.0.0.0")
    before = _counts(database)
    app = _run_every_write()
    assert not app.exception
    texts = [t.value for t in app.text]
    assert [t.split(" refused: ")[0] for t in texts] == ["review", "note", "map", "facts"]
    assert "it listens on 0.0.0.0 with neither a login" in texts[0]
    assert _counts(database) == before


def test_every_write_refuses_a_login_that_is_not_an_editor(database: Engine, server: Callable[..., None]) -> None:
    server(host="0.0.0.0", passphrase=PASSPHRASE, emails="ed@example.com")
    before = _counts(database)
    app = _run_every_write(secrets=AUTH, user={"is_logged_in": True, "email": "eve@example.com"})
    assert app.text[0].value == (
        "review refused: Only editors can label reviews: eve@example.com is not an editor (ATLAS_EDITOR_EMAILS)."
    )
    assert all(" refused: " in t.value for t in app.text)
    assert _counts(database) == before


def test_every_write_of_a_logged_in_editor_records_the_email(database: Engine, server: Callable[..., None]) -> None:
    """A login whose e-mail is listed writes; reviews, notes and both imports name that e-mail."""
    server(host="0.0.0.0", emails="ed@example.com")
    before = _counts(database)
    app = _run_every_write(secrets=AUTH, user=EDITOR_LOGIN)
    assert not app.exception
    assert [t.value for t in app.text] == ["review written", "note written", "map written", "facts written"]
    after = _counts(database)
    assert after["reviews"] == before["reviews"] + 1 and after["stage_notes"] == before["stage_notes"] + 1
    assert after["events"] == before["events"] + 26
    assert _writers(database, Review)[-1] == "ed@example.com"
    assert _writers(database, StageNote)[-1] == "ed@example.com"
    assert _writers(database, ImportRecord)[-2:] == ["ed@example.com", "ed@example.com"]


def test_on_this_machine_alone_every_write_is_local(database: Engine, server: Callable[..., None]) -> None:
    server(host="localhost")
    app = _run_every_write()
    assert [t.value for t in app.text] == ["review written", "note written", "map written", "facts written"]
    assert _writers(database, Review)[-1] == _writers(database, StageNote)[-1] == "local"


def test_a_viewer_on_a_read_only_server_gets_no_upload(database: Engine, server: Callable[..., None]) -> None:
    """No login, no passphrase, every address: the Import page says it is read-only and offers no upload."""
    server(host="0.0.0.0")
    app = _page("import_data.py")
    assert not app.exception
    assert "It is read\\-only" in app.info[0].value
    assert not app.get("file_uploader")
    assert not [w for w in app.text_input if w.key == "import_passphrase"]


def test_the_passphrase_unlocks_the_import_page(database: Engine, server: Callable[..., None]) -> None:
    """A wrong passphrase is refused and not shown; the right one brings the upload; the import names its writer."""
    server(host="0.0.0.0", passphrase=PASSPHRASE)
    before = _counts(database)
    app = _page("import_data.py")
    assert not app.get("file_uploader")
    app.text_input(key="import_passphrase").input("not the passphrase at all")
    app.button[0].click().run()
    assert not app.exception
    assert app.error[0].value == "That is not the editor passphrase."
    assert not app.get("file_uploader")
    app.text_input(key="import_passphrase").input(PASSPHRASE)
    app.button[0].click().run()
    assert not app.exception
    assert app.get("file_uploader")
    assert any("Editing as passphrase editor" in c.value for c in app.caption)
    assert all(PASSPHRASE not in element.value for element in [*app.markdown, *app.caption, *app.error, *app.info])
    app.get("file_uploader")[0].upload("orders.yaml", ORDERS_MAP.encode(), "application/yaml").run()  # type: ignore[union-attr]
    app.button(key="import_map_confirm").click().run()
    assert not app.exception
    assert app.success[0].value.startswith("Map imported")
    assert _counts(database)["journeys"] == before["journeys"] + 1
    assert _writers(database, ImportRecord)[-1] == "passphrase editor"


def test_a_replayed_import_after_locking_writes_nothing(database: Engine, server: Callable[..., None]) -> None:
    """The Import button pressed again once the session is no editor (its passphrase forgotten): nothing written."""
    server(host="0.0.0.0", passphrase=PASSPHRASE)
    app = _page("import_data.py")
    app.text_input(key="import_passphrase").input(PASSPHRASE)
    app.button[0].click().run()
    app.get("file_uploader")[0].upload("orders.yaml", ORDERS_MAP.encode(), "application/yaml").run()  # type: ignore[union-attr]
    before = _counts(database)
    del app.session_state[UNLOCKED_KEY]
    app.button(key="import_map_confirm").click().run()
    assert not app.exception
    assert not app.success
    assert _counts(database) == before


def test_a_viewer_sees_no_note_form_and_an_editor_adds_one(database: Engine, server: Callable[..., None]) -> None:
    """With a login configured: a listed editor adds a note, shown with who saved it; someone else gets no form."""
    server(host="0.0.0.0", emails="ed@example.com")
    viewer = _page("journey_map.py", params=JOURNEY, secrets=AUTH, user={"is_logged_in": True, "email": "eve@x.org"})
    assert not viewer.exception
    assert not [w for w in viewer.text_area if w.key == "journey_note_body"]
    assert any("not an editor" in i.value for i in viewer.info)

    before = _counts(database)
    app = _page("journey_map.py", params=JOURNEY, secrets=AUTH, user=EDITOR_LOGIN)
    app.text_input(key="journey_note_author").input("Front desk")
    app.text_area(key="journey_note_body").input("Customers ask for a call back")
    app.button(key="FormSubmitter:journey_note_form-Add note").click().run()
    assert not app.exception and not app.error
    assert _counts(database)["stage_notes"] == before["stage_notes"] + 1
    assert _writers(database, StageNote)[-1] == "ed@example.com"
    assert any("Front desk" in c.value and "saved by ed@\u2060example\\.com" in c.value for c in app.caption)


def test_a_viewer_sees_no_review_form_and_a_local_editor_labels_one(
    database: Engine, server: Callable[..., None]
) -> None:
    """On a read-only server no label field; on this machine alone a review is saved as 'local' and says so."""
    server(host="0.0.0.0")
    viewer = _page("experience_map.py", params={"journey": "northwind-current"})
    assert not viewer.exception
    assert not [w for w in viewer.text_input if w.key == "overview_review_label"]

    server(host="127.0.0.1")
    app = _page("experience_map.py", params={"journey": "northwind-current"})
    app.text_input(key="overview_review_label").input("Q4 review")
    app.button(key="FormSubmitter:overview_review_form-Save review").click().run()
    assert not app.exception
    assert _writers(database, Review)[-1] == "local"
    assert app.query_params["review"] == "q4-review"
    assert any(c.value == "Review labelled by local." for c in app.caption)

"""The Import page through Streamlit's AppTest, and its logic module without Streamlit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from streamlit.testing.v1 import AppTest

from dashboard.components.import_data import (
    Upload,
    changes_table,
    check_map_upload,
    check_upload,
    example_mappings,
    import_map_upload,
    missing_journey,
    problems_table,
)
from data_access.db import make_engine, session_scope, upgrade_schema
from data_access.mapfile import import_map
from data_access.models import Event
from data_access.writers import list_imports
from tests.paths import BAD_FILES, ROOT

APP = str(ROOT / "dashboard" / "app.py")
ORDERS = (ROOT / "examples" / "data" / "orders.csv").read_bytes()
BAD_ORDERS = (BAD_FILES / "orders_bad_timestamp.csv").read_bytes()


@pytest.fixture
def orders_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A SQLite file holding only the orders map, with the app's settings and caches pointed at it."""
    import streamlit as st

    from dashboard.settings import get_settings

    url = f"sqlite:///{tmp_path / 'orders.db'}"
    db = make_engine(url)
    upgrade_schema(db)
    with session_scope(db) as session:
        import_map(session, (ROOT / "examples" / "maps" / "orders.yaml").read_text(), source="orders.yaml")
    monkeypatch.setenv("ATLAS_DATABASE_URL", url)
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield db
    get_settings.cache_clear()
    st.cache_resource.clear()
    db.dispose()


def _events(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(Event)).scalar_one()


def _import_page(mapping: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()  # registers the navigation's pages, so switch_page finds the one at url_path "import"
    app.switch_page("../pages/import_data.py")
    app.run()
    app.selectbox(key="import_example").set_value(mapping).run()
    return app


def test_the_page_asks_for_a_file_first(orders_database: Engine) -> None:
    """Without an upload the page shows the mapping editor and a hint, and no exception."""
    app = _import_page("orders")
    assert not app.exception
    assert "kind: events" in str(app.text_area(key="import_mapping_orders").value)
    assert "Upload a file" in app.info[0].value


def test_preview_then_import_the_orders_example(orders_database: Engine) -> None:
    """Upload, see the rows as stored, press Import: the events are in the database."""
    app = _import_page("orders")
    app.get("file_uploader")[-1].upload("orders.csv", ORDERS, "text/csv").run()  # type: ignore[union-attr]
    assert not app.exception
    assert not app.error
    preview = app.dataframe[-1].value  # AppTest does not expose dataframe keys
    # what a person checks a mapping by: names on the map, not the database's ids
    assert list(preview.columns) == [
        *("row", "customer", "time", "journey", "stage", "channel", "step", "persona", "event type", "value")
    ]
    assert preview.iloc[0][["customer", "journey", "stage", "channel"]].tolist() == ["ada", "orders", "purchase", "web"]
    assert "26** new, 0 already in the database." in app.markdown[-1].value
    assert _events(orders_database) == 0
    app.button(key="import_confirm").click().run()
    assert not app.exception
    assert "26 inserted" in app.success[0].value
    # the report names the file the person uploaded, not the server's temporary copy
    assert app.success[0].value.startswith("orders\\.csv\\: 8 rows")  # the file name shown as text, escaped
    assert _events(orders_database) == 26


def test_a_bad_file_shows_its_problems_and_cannot_be_imported(orders_database: Engine) -> None:
    """Problems are listed with column and row; the Import button is disabled."""
    mapping = (ROOT / "examples" / "mappings" / "orders.yaml").read_text()
    fixed_mapping = mapping.replace("  customer: customer_id\n  value: order_total", "  customer: order_id")
    app = _import_page("orders")
    app.text_area(key="import_mapping_orders").set_value(fixed_mapping).run()
    app.get("file_uploader")[-1].upload("orders.csv", BAD_ORDERS, "text/csv").run()  # type: ignore[union-attr]
    assert not app.exception
    problems = app.dataframe[0].value
    assert problems["check"].tolist() == ["unparsable timestamp"]
    assert problems["column"].tolist() == ["shipped_at"]
    assert app.button(key="import_confirm").disabled
    assert _events(orders_database) == 0
    # no count of rows "new" for a file that cannot be imported
    assert not any("already in the database" in m.value for m in app.markdown)
    assert "problem(s): fix the file or the mapping" in app.error[0].value


def test_a_file_missing_a_mapped_column_shows_no_empty_preview(orders_database: Engine) -> None:
    """The wrong mapping for a file: the missing columns are named as problems of the whole file, with the
    rows' own problems (a timestamp that is no date) in the same list, and no empty preview table is drawn."""
    app = _import_page("orders")
    app.get("file_uploader")[-1].upload("orders.csv", BAD_ORDERS, "text/csv").run()  # type: ignore[union-attr]
    assert not app.exception
    [problems] = [d.value for d in app.dataframe]
    assert set(problems["check"]) == {"missing column", "unparsable timestamp"}
    affected = dict(zip(problems["check"], problems["rows affected"], strict=False))
    assert affected["missing column"] == "whole file"
    assert affected["unparsable timestamp"] != "whole file"
    assert "First rows as they will be stored" not in [s.value for s in app.subheader]
    assert app.button(key="import_confirm").disabled


def test_check_upload_reports_mapping_errors(orders_database: Engine) -> None:
    """A mapping that does not validate comes back as messages, not an exception."""
    checked = check_upload(orders_database, uploads=[Upload("orders.csv", ORDERS)], mapping_text="kind: events\n")
    assert not checked.importable
    assert any("'customer' is required" in m for m in checked.mapping_errors)
    assert set(example_mappings()) >= {"orders", "airline_passenger_satisfaction"}
    assert problems_table([]).height == 0


def test_the_chosen_mapping_is_in_the_url_and_in_the_share_link(orders_database: Engine) -> None:
    """A link naming an example mapping opens the page with it; an unknown one gives a notice."""
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    app.switch_page("../pages/import_data.py")
    app.query_params["mapping"] = "orders"
    app.run()
    assert not app.exception
    assert app.selectbox(key="import_example").value == "orders"
    assert "purchased_at" in str(app.text_area[0].value)
    assert app.query_params["mapping"] == "orders"
    assert any("mapping=orders" in code.value for code in app.sidebar.code)

    pasted = AppTest.from_file(APP, default_timeout=90)
    pasted.run()
    pasted.switch_page("../pages/import_data.py")
    pasted.query_params["mapping"] = "nowhere"
    pasted.run()
    assert any("`mapping`: 'nowhere' is unknown" in w.value for w in pasted.warning)
    assert pasted.selectbox(key="import_example").value == "blank events mapping"


@pytest.fixture
def empty_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A migrated SQLite file with no map at all, with the app's settings and caches pointed at it."""
    import streamlit as st

    from dashboard.settings import get_settings

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    db = make_engine(url)
    upgrade_schema(db)
    monkeypatch.setenv("ATLAS_DATABASE_URL", url)
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield db
    get_settings.cache_clear()
    st.cache_resource.clear()
    db.dispose()


def test_the_page_says_when_the_data_needs_its_map_first(empty_database: Engine) -> None:
    """With no map stored, the orders mapping's journey is named and the map import is asked for."""
    app = _import_page("orders")
    assert not app.exception
    assert any("import its map first" in warning.value and "'orders'" in warning.value for warning in app.warning)


def test_a_map_is_previewed_then_imported_and_the_data_no_longer_waits_for_it(empty_database: Engine) -> None:
    """The shipped orders example from uploads alone: the map's preview, its import, then the data's."""
    text = (ROOT / "examples" / "maps" / "orders.yaml").read_text()
    mapping = example_mappings()["orders"]
    assert missing_journey(empty_database, mapping) == "orders"
    checked = check_map_upload(empty_database, name="orders.yaml", text=text)
    assert checked.errors == [] and {c.change for c in checked.changes} == {"added"}
    assert changes_table(checked.changes).height == len(checked.changes)
    import_map_upload(empty_database, name="orders.yaml", text=text, written_by="ana@example.com")
    with empty_database.connect() as connection:
        logged = list_imports(connection)
    assert logged.select("kind", "source", "written_by").rows() == [("map", "orders.yaml", "ana@example.com")]
    assert check_map_upload(empty_database, name="orders.yaml", text=text).changes == []
    assert missing_journey(empty_database, mapping) is None
    shown = check_upload(empty_database, uploads=[Upload("orders.csv", ORDERS)], mapping_text=mapping).preview
    assert shown is not None and not shown.problems and shown.new > 0
    broken = check_map_upload(empty_database, name="broken.yaml", text=text.replace("version: 1", "version: 9"))
    assert broken.changes == [] and broken.errors[0].startswith("broken.yaml")


def test_the_page_previews_and_imports_an_uploaded_map(empty_database: Engine) -> None:
    """Upload a map: the page lists what it adds; Import map writes it and the data's warning goes."""
    app = _import_page("orders")
    text = (ROOT / "examples" / "maps" / "orders.yaml").read_bytes()
    app.get("file_uploader")[0].upload("orders.yaml", text, "application/yaml").run()  # type: ignore[union-attr]
    assert not app.exception
    assert any("**6** added" in markdown.value for markdown in app.markdown)
    app.button(key="import_map_confirm").click().run()
    assert not app.exception
    assert app.success[0].value.startswith("Map imported")
    assert missing_journey(empty_database, example_mappings()["orders"]) is None


def _shown(markdown: str) -> str:
    """Markdown as a person reads it: without the backslashes that escape names."""
    return markdown.replace("\\", "")


def test_a_mapping_of_several_files_says_which_are_missing_then_imports_them(empty_database: Engine) -> None:
    """The marketplace's orders mapping joins payments: with the orders alone the page names the missing
    table; with both, it previews and imports them in one go."""
    marketplace = ROOT / "examples" / "data" / "marketplace"
    with session_scope(empty_database) as session:
        import_map(session, (ROOT / "examples" / "maps" / "marketplace.yaml").read_text(), source="marketplace.yaml")
    app = _import_page("marketplace/orders")
    assert any("payments.csv (table payments)" in _shown(caption.value) for caption in app.caption)
    uploader = app.get("file_uploader")[-1]
    uploader.upload("orders.csv", (marketplace / "orders.csv").read_bytes(), "text/csv").run()  # type: ignore[union-attr]
    assert not app.exception
    assert any("still missing: payments.csv (table payments)" in _shown(w.value) for w in app.warning)
    assert not [b for b in app.button if b.key == "import_confirm"] and not app.dataframe
    uploads = [(name, (marketplace / name).read_bytes(), "text/csv") for name in ("orders.csv", "payments.csv")]
    app.get("file_uploader")[-1].set_value(uploads).run()  # type: ignore[union-attr]
    assert not app.exception and not app.warning
    assert not app.button(key="import_confirm").disabled
    app.button(key="import_confirm").click().run()
    assert not app.exception
    assert _shown(app.success[0].value).startswith("orders.csv: 2400 rows →")
    assert _events(empty_database) > 0

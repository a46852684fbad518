"""The Import page in a real browser: upload a file, see the preview, import, see the overview change."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from data_access.db import make_engine, session_scope, upgrade_schema
from data_access.mapfile import import_map
from tests.browser.conftest import start_server, wait_for_app_run

ROOT = Path(__file__).resolve().parents[2]
ORDERS_VIEW = "/?journey=orders&from=2024-03-01&to=2024-03-31&metric=volume"


@pytest.fixture(scope="module")
def orders_app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A dashboard on a database that holds the orders map and no facts yet."""
    folder = tmp_path_factory.mktemp("orders")
    url = f"sqlite:///{folder / 'orders.db'}"
    engine = make_engine(url)
    upgrade_schema(engine)
    with session_scope(engine) as session:
        import_map(session, (ROOT / "examples" / "maps" / "orders.yaml").read_text(), source="orders.yaml")
    engine.dispose()
    server, base = start_server(url, folder / "streamlit.log")
    yield base
    server.terminate()
    server.wait(timeout=20)


def _purchase_box(page: Page) -> str:
    box = page.locator('path[aria-roledescription="rect mark"][aria-label^="stage: Purchase; row: Stage health"]')
    return box.get_attribute("aria-label") or ""


def test_upload_preview_import_and_the_overview_changes(orders_app_url: str, page: Page) -> None:
    """An order table goes in through its mapping, and the experience map then counts its customers."""
    page.goto(orders_app_url + ORDERS_VIEW)
    wait_for_app_run(page)
    assert "In the period: 0 customers" in _purchase_box(page)

    page.goto(f"{orders_app_url}/import")
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="Import data")).to_be_visible()
    page.get_by_test_id("stSelectbox").filter(has_text="Start from a mapping").click()
    page.get_by_role("option", name="orders", exact=True).click()
    wait_for_app_run(page)
    expect(page.get_by_role("textbox", name="Mapping (YAML)")).to_have_value(re.compile("purchased_at"))

    page.locator('[data-testid="stFileUploaderDropzone"] input[type="file"]').last.set_input_files(
        str(ROOT / "examples" / "data" / "orders.csv")
    )
    wait_for_app_run(page)
    expect(page.get_by_text(re.compile(r"8 rows → \d+ facts"))).to_be_visible()
    expect(page.get_by_role("heading", name="First rows as they will be stored")).to_be_visible()

    page.get_by_role("button", name="Import", exact=True).click()
    wait_for_app_run(page)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_be_visible()

    page.goto(orders_app_url + ORDERS_VIEW)
    wait_for_app_run(page)
    # eight orders from seven customers (ada ordered twice): the map counts customers, not orders
    assert "In the period: 7 customers" in _purchase_box(page)


def test_a_bad_file_shows_its_problems_and_cannot_be_imported(orders_app_url: str, page: Page) -> None:
    """A file with an unparsable date lists the problem with its row and column, and Import stays disabled."""
    page.goto(f"{orders_app_url}/import")
    wait_for_app_run(page)
    page.get_by_test_id("stSelectbox").filter(has_text="Start from a mapping").click()
    page.get_by_role("option", name="orders", exact=True).click()
    wait_for_app_run(page)
    page.locator('[data-testid="stFileUploaderDropzone"] input[type="file"]').last.set_input_files(
        str(ROOT / "tests" / "data" / "bad" / "orders_bad_timestamp.csv")
    )
    wait_for_app_run(page)
    expect(page.get_by_text(re.compile(r"problem\(s\): fix the file or the mapping"))).to_be_visible()
    expect(page.get_by_role("button", name="Import", exact=True)).to_be_disabled()


@pytest.fixture(scope="module")
def empty_app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A dashboard on a migrated database with no map and no facts."""
    folder = tmp_path_factory.mktemp("empty")
    url = f"sqlite:///{folder / 'empty.db'}"
    engine = make_engine(url)
    upgrade_schema(engine)
    engine.dispose()
    server, base = start_server(url, folder / "streamlit.log")
    yield base
    server.terminate()
    server.wait(timeout=20)


def test_on_an_empty_database_a_map_then_data_from_the_browser_alone(empty_app_url: str, page: Page) -> None:
    """The shipped orders example: the page asks for the map, previews and imports it, then the data."""
    page.goto(f"{empty_app_url}/import?mapping=orders")
    wait_for_app_run(page)
    expect(page.get_by_text("import its map first")).to_be_visible()
    uploaders = page.locator('[data-testid="stFileUploaderDropzone"] input[type="file"]')
    uploaders.first.set_input_files(str(ROOT / "examples" / "maps" / "orders.yaml"))
    wait_for_app_run(page)
    expect(page.get_by_text(re.compile(r"6\*?\*? added"))).to_be_visible()
    page.get_by_role("button", name="Import map").click()
    wait_for_app_run(page)
    expect(page.get_by_text(re.compile("Map imported: journeys created orders"))).to_be_visible()
    expect(page.get_by_text("import its map first")).to_have_count(0)

    uploaders.last.set_input_files(str(ROOT / "examples" / "data" / "orders.csv"))
    wait_for_app_run(page)
    expect(page.get_by_text(re.compile(r"8 rows → \d+ facts"))).to_be_visible()
    page.get_by_role("button", name="Import", exact=True).click()
    wait_for_app_run(page)
    expect(page.get_by_text(re.compile("26 inserted"))).to_be_visible()

    page.goto(empty_app_url + ORDERS_VIEW)
    wait_for_app_run(page)
    assert "In the period: 7 customers" in _purchase_box(page)


def test_the_marketplace_export_in_several_files_from_the_browser_alone(empty_app_url: str, page: Page) -> None:
    """The marketplace's map, then its orders with their payments and its reviews with their orders, each
    mapping's files uploaded together: the overview then names the late deliveries."""
    marketplace = ROOT / "examples" / "data" / "marketplace"
    page.goto(f"{empty_app_url}/import?mapping=marketplace/orders")
    wait_for_app_run(page)
    uploaders = page.locator('[data-testid="stFileUploaderDropzone"] input[type="file"]')
    uploaders.first.set_input_files(str(ROOT / "examples" / "maps" / "marketplace.yaml"))
    wait_for_app_run(page)
    page.get_by_role("button", name="Import map").click()
    wait_for_app_run(page)
    expect(page.get_by_text(re.compile("Map imported: journeys created marketplace"))).to_be_visible()

    for mapping, source in (("orders", "orders.csv"), ("reviews", "reviews.csv")):
        page.goto(f"{empty_app_url}/import?mapping=marketplace/{mapping}")
        wait_for_app_run(page)
        uploaders.last.set_input_files(str(marketplace / source))
        wait_for_app_run(page)
        expect(page.get_by_text(re.compile(r"still missing: \w+\\?\.csv \(table \w+\)"))).to_be_visible()
        table = "payments.csv" if mapping == "orders" else "orders.csv"
        uploaders.last.set_input_files(str(marketplace / table))  # added beside the file already there
        wait_for_app_run(page)
        expect(page.get_by_text(re.compile(r"rows → [\d,]+ facts"))).to_be_visible()
        page.get_by_role("button", name="Import", exact=True).click()
        wait_for_app_run(page)
        expect(page.get_by_text(re.compile(r"\d+ inserted"))).to_be_visible()

    page.goto(f"{empty_app_url}/?journey=marketplace")
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="Where the answers hurt most")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Delivered after the promised date \(step in Delivery\)"))).to_be_visible()

"""Writes only by editors, in a real browser: a viewer of a server open to the network sees no write form, and
the editor passphrase unlocks the Import page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import start_server, wait_for_app_run

PASSPHRASE = "correct horse battery staple"


@pytest.fixture(scope="module")
def open_app_url(demo_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo dashboard as a team would serve it: on every address, with an editor passphrase."""
    settings = {"ATLAS_HOST": "0.0.0.0", "ATLAS_EDITOR_PASSPHRASE": PASSPHRASE}
    log = tmp_path_factory.mktemp("editors") / "streamlit.log"
    server, url = start_server(demo_database_url, log, settings=settings)
    yield url
    server.terminate()
    server.wait(timeout=20)
    assert PASSPHRASE not in log.read_text(errors="replace")


def test_a_viewer_sees_no_write_form(open_app_url: str, page: Page) -> None:
    """The journey page shows its notes but no note form; the overview offers no review label field."""
    page.goto(f"{open_app_url}/journey?journey=northwind-current&stage=support")
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="Notes from the front line")).to_be_visible()
    expect(page.get_by_text("Only editors can add notes: enter the editor passphrase first.")).to_be_visible()
    expect(page.get_by_role("button", name="Add note")).to_have_count(0)
    expect(page.get_by_label("Your name")).to_have_count(0)

    page.goto(f"{open_app_url}/?journey=northwind-current")
    wait_for_app_run(page)
    page.get_by_text("Label this map as a review").click()
    expect(page.get_by_text("Only editors can label reviews")).to_be_visible()
    expect(page.get_by_role("button", name="Save review")).to_have_count(0)


def test_the_passphrase_unlocks_the_import_page(open_app_url: str, page: Page) -> None:
    """No upload until the passphrase; a wrong one is refused; the right one brings the uploads."""
    page.goto(f"{open_app_url}/import")
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="Import data")).to_be_visible()
    expect(page.get_by_test_id("stFileUploaderDropzone")).to_have_count(0)

    passphrase = page.get_by_label("Editor passphrase")
    passphrase.fill("not the passphrase at all")
    page.get_by_role("button", name="Unlock editing").click()
    wait_for_app_run(page)
    expect(page.get_by_text("That is not the editor passphrase.")).to_be_visible()
    expect(page.get_by_test_id("stFileUploaderDropzone")).to_have_count(0)

    page.get_by_label("Editor passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Unlock editing").click()
    wait_for_app_run(page)
    expect(page.get_by_text("Editing as passphrase editor.")).to_be_visible()
    expect(page.get_by_test_id("stFileUploaderDropzone").first).to_be_visible()
    expect(page.get_by_role("heading", name="1. The map")).to_be_visible()
    expect(page.get_by_text(PASSPHRASE)).to_have_count(0)

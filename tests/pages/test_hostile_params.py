"""Hostile URL parameters on both pages (AppTest): no exception, and nothing from the URL renders as markup.

Every parameter of a page gets the same hostile value in one run, so a run checks them all; dates at the
edges of the calendar are clamped with a notice.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from streamlit.testing.v1 import AppTest

from dashboard.format import verbatim
from data_access.db import make_engine, session_scope
from tests import hostile
from tests.paths import APP

OVERVIEW_PARAMS = ("journey", "persona", "metric", "from", "to", "compare_from", "compare_to", "review", "present")
JOURNEY_PARAMS = (*OVERVIEW_PARAMS, "stage")
JOURNEY = "northwind-current"
# Markdown that is live: a link or image not preceded by a backslash, a KaTeX block, a directive, a heading,
# a bare address that GitHub-flavoured Markdown would turn into a link
LIVE_MARKUP = re.compile(r"(?<!\\)\]\(|(?<!\\)\$\$|(?<!\\):red\[|(?<!\\)!\[|^#|\n#|(?i:https?\\?:|www\\?\.)")


@pytest.fixture
def run_page(app_env: str) -> Iterator[Callable[[str, dict[str, str]], AppTest]]:
    def run(page: str, params: dict[str, str]) -> AppTest:
        app = AppTest.from_file(APP, default_timeout=90)
        if page == "journey":
            app.run()
            app.switch_page("../pages/journey_map.py")
            app.query_params.clear()
        for name, value in params.items():
            app.query_params[name] = value
        return app.run()

    yield run


@pytest.fixture
def demo_copy(demo_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A copy of the demo database that the app reads, with empty caches: a test writes hostile text into it."""
    import streamlit as st

    from dashboard.settings import get_settings

    copy = tmp_path / "atlas.db"
    shutil.copy(demo_database_url.removeprefix("sqlite:///"), copy)
    engine = make_engine(f"sqlite:///{copy}")
    monkeypatch.setenv("ATLAS_DATABASE_URL", f"sqlite:///{copy}")
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield engine
    engine.dispose()
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()


def _param(app: AppTest, name: str) -> str:
    value = app.query_params.get(name)
    return str(value[0] if isinstance(value, list) else value)


def _shown(app: AppTest) -> list[str]:
    """The Markdown bodies of notices, captions, titles and text on the page."""
    elements = [*app.warning, *app.info, *app.error, *app.caption, *app.markdown, *app.title, *app.success]
    return [str(element.value) for element in elements]


@pytest.mark.parametrize("page", ["overview", "journey"])
@pytest.mark.parametrize("kind", hostile.SAMPLE)
def test_hostile_value_in_every_parameter_shows_as_text(
    run_page: Callable[[str, dict[str, str]], AppTest], page: str, kind: str
) -> None:
    value = hostile.STRINGS[kind]
    names = JOURNEY_PARAMS if page == "journey" else OVERVIEW_PARAMS
    app = run_page(page, dict.fromkeys(names, value))
    assert not app.exception, app.exception
    shown = _shown(app)
    for body in shown:
        assert not LIVE_MARKUP.search(body), body[:300]
        assert value not in body or not re.search(r"[\[\]()!$#`*_:]", value), body[:300]
    notices = "\n".join(str(w.value) for w in app.warning)
    assert verbatim(value) in notices  # the value is named in a notice, escaped (and cut when long)


@pytest.mark.parametrize("page", ["overview", "journey"])
@pytest.mark.parametrize("present", ["0", "1"])
def test_dates_at_the_edges_of_the_calendar_are_clamped_with_a_notice(
    run_page: Callable[[str, dict[str, str]], AppTest], page: str, present: str
) -> None:
    params = {"from": "0001-01-01", "to": "9999-12-31", "compare_from": "0001-01-01", "compare_to": "9999-12-31"}
    if page == "journey":
        params["stage"] = "onboarding"
    app = run_page(page, params | {"present": present})
    assert not app.exception, app.exception
    notices = "\n".join(str(w.value) for w in app.warning)
    for name in ("from", "to", "compare_from", "compare_to"):
        assert f"Parameter `{name}` (" in notices and "far outside the data" in notices
    shown = {name: _param(app, name) for name in ("from", "to")}
    assert "2000" < shown["from"] <= shown["to"] < "9000", shown


def test_a_hostile_review_label_shows_as_text_in_what_changed(demo_copy: Engine) -> None:
    """A label anyone may save (a link, an image, KaTeX) is plain text in the caption and 'On the map since'."""
    from data_access.reviews import create_review

    label = f"{hostile.IMAGE} {hostile.LINK} $$x^2$$ www.attacker.example"
    with session_scope(demo_copy) as session:
        slug = create_review(session, journey_slug=JOURNEY, label=label, reviewed_on=dt.date(2026, 9, 30)).slug
    app = AppTest.from_file(APP, default_timeout=90)
    app.query_params["journey"] = JOURNEY
    app.query_params["review"] = slug
    app.run()
    assert not app.exception, app.exception
    shown = _shown(app)
    assert any(verbatim(label) in body and "the period ending on review" in body for body in shown)
    assert any(f"On the map since {verbatim(label)}" in body for body in shown)
    for body in shown:
        assert not LIVE_MARKUP.search(body), body[:300]


def test_a_hostile_metric_label_shows_as_text_on_its_card(demo_copy: Engine) -> None:
    """A metric's label comes from a map file: a link, an image or a formula in it is plain text on the
    journey page's metric card (Streamlit renders a metric's label as Markdown)."""
    from data_access.models import MetricDefinition

    label = f"{hostile.IMAGE} {hostile.LINK} $$x^2$$"
    with session_scope(demo_copy) as session:
        named = MetricDefinition.label == "Onboarding effort"
        session.execute(update(MetricDefinition).where(named).values(label=label))
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    app.switch_page("../pages/journey_map.py")
    app.query_params.clear()
    app.query_params["journey"] = JOURNEY
    app.query_params["stage"] = "onboarding"
    app.run()
    assert not app.exception, app.exception
    labels = [str(metric.label) for metric in app.metric]
    assert verbatim(label) in labels, labels
    for shown in labels:
        assert not LIVE_MARKUP.search(shown), shown

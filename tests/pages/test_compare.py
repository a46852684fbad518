"""The current vs future state page through AppTest: the demo's pair, and every wrong pair a link can name."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.settings import get_settings
from data_access.db import make_engine, session_scope
from data_access.models import Journey, Stage
from tests.paths import APP

CURRENT, FUTURE = "northwind-current", "northwind-future"


def _texts(app: AppTest) -> str:
    parts = [m.value for m in app.markdown] + [c.value for c in app.caption] + [t.value for t in app.title]
    parts += [h.value for h in app.header] + [s.value for s in app.subheader]
    parts += [w.value for w in app.warning] + [i.value for i in app.info]
    return "\n".join(str(p) for p in parts)


def _param(app: AppTest, name: str) -> str | None:
    value = app.query_params.get(name)
    return value[0] if isinstance(value, list) else value


@pytest.fixture
def lonely_database(demo_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The demo plus a journey without a future state ('lonely') and one with its own ('lonely-next')."""
    copy = tmp_path / "atlas.db"
    shutil.copy(demo_database_url.removeprefix("sqlite:///"), copy)
    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    with session_scope(engine) as session:
        lonely = Journey(slug="lonely", name="Lonely journey")
        alone = Journey(slug="alone", name="Alone journey")
        nextone = Journey(slug="lonely-next", name="Lonely next", kind="future", improves=lonely)
        session.add_all([lonely, alone, nextone, Stage(journey=lonely, slug="only", name="Only", position=0)])
    engine.dispose()
    monkeypatch.setenv("ATLAS_DATABASE_URL", url)
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield url
    get_settings.cache_clear()


def _run(**params: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    app.switch_page("../pages/compare.py")
    app.query_params.clear()
    for name, value in params.items():
        app.query_params[name] = value
    return app.run()


@pytest.fixture
def run_compare(app_env: str) -> Callable[..., AppTest]:
    return _run


def test_the_demo_pair(run_compare: Callable[..., AppTest]) -> None:
    """Stage changes, the emotion chart, pain points and today against the targets, all from the URL."""
    app = run_compare(journey=CURRENT, **{"with": FUTURE})
    assert not app.exception
    text = _texts(app)
    for header in ("What the future state changes", "Today's pain points", "Today against the future state's targets"):
        assert header in text
    assert "Resolved (" in text and "Left open (" in text
    assert not app.warning
    assert _param(app, "journey") == CURRENT and _param(app, "with") == FUTURE
    # the period in the link: its days, or the whole history the small test demo opens on
    assert (_param(app, "from") and _param(app, "to")) or _param(app, "period") == "all"


def test_a_future_state_named_as_journey_is_compared_with_its_current(run_compare: Callable[..., AppTest]) -> None:
    """journey=<the future state> alone: the page compares it with the journey it improves, and says so."""
    app = run_compare(journey=FUTURE)
    assert not app.exception
    assert any("is a future state: comparing it with" in i.value for i in app.info)
    assert _param(app, "journey") == CURRENT and _param(app, "with") == FUTURE


def test_unknown_future_state_gives_a_notice(run_compare: Callable[..., AppTest]) -> None:
    app = run_compare(journey=CURRENT, **{"with": "atlantis"})
    assert not app.exception
    assert any("'atlantis' is not a journey on the map" in w.value for w in app.warning)
    assert _param(app, "with") == FUTURE


def test_a_current_journey_as_with_gives_a_notice(run_compare: Callable[..., AppTest]) -> None:
    app = run_compare(journey=CURRENT, **{"with": CURRENT})
    assert not app.exception
    assert any("is not a future state of any journey" in w.value for w in app.warning)


def test_a_journey_without_a_future_state_says_so(lonely_database: str) -> None:
    """A journey no other journey improves: a clear message, and links to the pairs the map holds."""
    app = _run(journey="alone")
    assert not app.exception
    assert any("has no future state" in i.value for i in app.info)
    assert "What the future state changes" not in _texts(app)


def test_a_future_state_of_another_journey_gives_a_notice(lonely_database: str) -> None:
    """with=<a future state of another journey>: the notice names the journey it improves."""
    app = _run(journey=CURRENT, **{"with": "lonely-next"})
    assert not app.exception
    assert any("is a future state of 'lonely', not of this journey" in w.value for w in app.warning)
    assert _param(app, "with") == FUTURE


def test_the_overview_of_a_future_state_links_here(run_compare: Callable[..., AppTest]) -> None:
    """The experience map of the future-state journey offers the comparison."""
    app = AppTest.from_file(APP, default_timeout=120)
    app.query_params["journey"] = FUTURE
    app.run()
    assert not app.exception
    links = [link for link in app.get("page_link") if "compare it with the current state" in str(link.proto.label)]
    assert links


def test_presentation_mode_draws_without_the_sidebar(run_compare: Callable[..., AppTest]) -> None:
    """With present=1 the comparison draws without the filters and keeps the parameter."""
    app = run_compare(journey=CURRENT, present="1", **{"with": FUTURE})
    assert not app.exception
    assert not app.sidebar.selectbox
    assert _param(app, "present") == "1"
    assert "What the future state changes" in _texts(app)


def test_markup_in_with_is_shown_as_text(run_compare: Callable[..., AppTest]) -> None:
    """A link or heading in `with` is named in the notice as literal text."""
    app = run_compare(journey=CURRENT, **{"with": "[x](http://evil.example) # y"})
    assert not app.exception
    notice = next(w.value for w in app.warning if "Parameter `with`" in w.value)
    assert "](" not in notice.replace("\\](", "") and "http://" not in notice

"""The experience map page through Streamlit's AppTest: content, filters in the URL, bad parameters."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.paths import APP, EXAMPLES

JOURNEY = "northwind-current"


def _run_app(**params: str) -> AppTest:
    """The app run once with `params` as its URL's query parameters."""
    app = AppTest.from_file(APP, default_timeout=60)
    for name, value in params.items():
        app.query_params[name] = value
    return app.run()


@pytest.fixture
def run_overview(app_env: str) -> Callable[..., AppTest]:
    return _run_app


def _texts(app: AppTest) -> str:
    parts = [m.value for m in app.markdown] + [c.value for c in app.caption] + [t.value for t in app.title]
    return "\n".join(str(p) for p in parts)


def test_overview_shows_title_headlines_and_charts(run_overview: Callable[..., AppTest]) -> None:
    """A first visit shows the experience map with the journey's metrics (NPS, CSAT, CES, sentiment), conversion
    and its charts."""
    app = run_overview()
    assert not app.exception
    assert app.title[0].value == "Experience map"
    labels = [m.label for m in app.metric]
    assert labels[:4] == ["NPS", "CSAT", "CES", "Sentiment"]
    assert labels[4].startswith("Conversion to")
    assert len(app.get("vega_lite_chart")) >= 3
    assert not app.warning


def test_a_first_run_draws_above_the_fold_alone(
    run_overview: Callable[..., AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the browser's first draw awaited (the served default), the first run of the overview holds the
    headlines, the stage strip and the grid, and below them only a line saying the rest is coming: no What
    changed, no emotional curve, no moments of truth (the browser asks for them once a chart is drawn)."""
    from dashboard.settings import get_settings

    monkeypatch.setenv("ATLAS_DRAW_ABOVE_THE_FOLD_FIRST", "true")
    get_settings.cache_clear()
    app = run_overview()
    assert not app.exception
    assert len(app.metric) == 5
    assert len(app.get("vega_lite_chart")) == 2  # the stage strip and the grid
    assert "Drawing the rest of the page…" in _texts(app)
    assert not [h.value for h in app.subheader if h.value in ("What changed", "Moments of truth")]
    get_settings.cache_clear()


def test_defaults_are_written_into_the_url(run_overview: Callable[..., AppTest]) -> None:
    """Missing parameters take defaults, and the URL then names them, so the link is complete."""
    app = run_overview()
    params = app.query_params
    assert params["journey"] == JOURNEY
    assert params["metric"] == "health"
    # the small demo's last 90 days hold too few answers for some touchpoint metrics: the whole history
    assert params.get("period") == "all" or params["from"] <= params["to"]


def test_url_parameters_set_the_filters(run_overview: Callable[..., AppTest]) -> None:
    """A pasted link selects its persona, period and metric in the widgets."""
    app = run_overview(
        journey=JOURNEY, persona="remote-worker", metric="csat", **{"from": "2026-06-01", "to": "2026-06-30"}
    )
    assert not app.exception and not app.warning
    assert app.selectbox(key="overview_persona").value == "remote-worker"
    assert app.selectbox(key="overview_metric").value == "csat"
    assert [d.isoformat() for d in app.date_input(key="overview_dates").value] == ["2026-06-01", "2026-06-30"]
    assert "01 Jun 2026 – 30 Jun 2026" in _texts(app)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"journey": "no-such-journey"}, "`journey`: 'no\\-such\\-journey' is unknown"),  # escaped: shown as text
        ({"persona": "martian"}, "`persona`: 'martian' is unknown"),
        ({"metric": "bogus"}, "`metric`: 'bogus' is unknown"),
        ({"from": "2026-13-45"}, "`from`: '2026\\-13\\-45' is not a date"),
        ({"to": "yesterday"}, "`to`: 'yesterday' is not a date"),
        ({"from": "2026-09-01", "to": "2026-08-01"}, "`from` (2026-09-01) is after `to` (2026-08-01)"),
    ],
)
def test_bad_parameters_give_a_notice_and_a_default(
    run_overview: Callable[..., AppTest], params: dict[str, str], fragment: str
) -> None:
    """A bad link shows what is wrong and still draws the map; never a traceback."""
    app = run_overview(**params)
    assert not app.exception
    assert any(fragment in w.value for w in app.warning), [w.value for w in app.warning]
    assert app.title[0].value == "Experience map"


def test_changing_a_filter_updates_the_url(run_overview: Callable[..., AppTest]) -> None:
    """Choosing a persona in the sidebar puts it in the URL."""
    app = run_overview()
    app.selectbox(key="overview_persona").select("budget-family").run()
    assert app.query_params["persona"] == "budget-family"


def test_clicking_a_cell_opens_the_journey_map(run_overview: Callable[..., AppTest]) -> None:
    """Selecting a grid cell switches to that stage's journey map with the filters carried over."""
    app = run_overview(persona="remote-worker")
    app.session_state["overview_grid"] = {
        "selection": {"cell": [{"stage_slug": "onboarding", "channel_slug": "call-centre"}]}
    }
    app.run()
    assert not app.exception
    assert app.query_params["stage"] == "onboarding"
    assert app.query_params["persona"] == "remote-worker"
    assert "Onboarding" in app.title[0].value


def test_what_changed_compares_with_a_chosen_period(run_overview: Callable[..., AppTest]) -> None:
    """compare_from/compare_to in the URL: the sidebar says so and every metric lists now, then and change."""
    app = run_overview(
        journey=JOURNEY,
        **{"from": "2026-06-01", "to": "2026-06-30", "compare_from": "2026-01-01", "compare_to": "2026-01-31"},
    )
    assert not app.exception and not app.warning
    assert app.selectbox(key="overview_compare").value == "period"
    assert [d.isoformat() for d in app.date_input(key="overview_compare_dates").value] == ["2026-01-01", "2026-01-31"]
    assert app.query_params["compare_from"] == "2026-01-01"
    assert "Arrows compare with 01 Jan 2026 – 31 Jan 2026" in _texts(app)
    changes = next(d.value for d in app.dataframe if "compared_value" in d.value.columns)
    assert list(changes.columns) == ["stage", "label", "value", "compared_value", "change", "status"]
    assert {"Whole journey", "Onboarding"} <= set(changes["stage"])
    assert len(changes) >= 10
    # statuses in the legend's words, as the PDF report prints them
    assert set(changes["status"]) <= {"on target", "near target", "off target", "not enough data"}
    assert "off target" in set(changes["status"])
    moments = next(d.value for d in app.dataframe if "touchpoint" in d.value.columns)
    assert set(moments["status"]) <= {"on target", "near target", "off target", "not enough data"}


def test_what_changed_since_a_review(run_overview: Callable[..., AppTest]) -> None:
    """review=<slug>: the period ending on the review's date, and the map's changes since it."""

    from data_access.db import make_engine, session_scope
    from data_access.reviews import create_review, list_reviews

    engine = make_engine(os.environ["ATLAS_DATABASE_URL"])
    with session_scope(engine) as session:
        slug = create_review(
            session, journey_slug=JOURNEY, label=f"Review {uuid.uuid4().hex[:8]}", reviewed_on=dt.date(2026, 5, 31)
        ).slug
    with engine.connect() as connection:
        assert slug in list_reviews(connection, journey_slug=JOURNEY)["slug"].to_list()
    engine.dispose()
    app = run_overview(journey=JOURNEY, review=slug, **{"from": "2026-06-01", "to": "2026-06-30"})
    assert not app.exception and not app.warning
    assert app.selectbox(key="overview_compare").value == slug
    assert app.query_params["review"] == slug
    assert "Arrows compare with 02 May 2026 – 31 May 2026" in _texts(app)
    assert "No pain point or opportunity was added or resolved since this review." in _texts(app)


def test_an_unknown_review_gives_a_notice_and_the_previous_period(run_overview: Callable[..., AppTest]) -> None:
    app = run_overview(journey=JOURNEY, review="no-such-review")
    assert not app.exception
    assert any("review" in w.value for w in app.warning)
    assert app.selectbox(key="overview_compare").value == "previous"


def test_a_journey_without_data_says_so(run_overview: Callable[..., AppTest]) -> None:
    """The demo's target-state map holds no facts: a note says the numbers come with an import, and the
    sidebar does not claim a data range."""
    app = run_overview(journey="northwind-future")
    assert not app.exception
    [note] = app.info
    assert "No events or feedback are stored for" in note.value and "Import data" in note.value
    assert any(c.value.endswith("No data stored for this journey yet.") for c in app.sidebar.caption)
    # the journey with data does not get the note
    assert not run_overview(journey=JOURNEY).info


@pytest.fixture
def orders_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AppTest]]:
    """The app on a database holding only the orders example map: no touchpoints, no facts yet."""
    import streamlit as st

    from dashboard.settings import get_settings
    from data_access.db import make_engine, session_scope, upgrade_schema
    from data_access.mapfile import import_map

    url = f"sqlite:///{tmp_path / 'orders.db'}"
    engine = make_engine(url)
    upgrade_schema(engine)
    with session_scope(engine) as session:
        maps = EXAMPLES / "maps"
        import_map(session, (maps / "orders.yaml").read_text(), source="orders.yaml")
    engine.dispose()
    monkeypatch.setenv("ATLAS_DATABASE_URL", url)
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield _run_app
    get_settings.cache_clear()


def test_a_map_without_touchpoints_says_so_instead_of_an_empty_grid(orders_app: Callable[..., AppTest]) -> None:
    """No touchpoints, no grid: a note says why and what to do; headlines without answers show a dash.

    The orders map defines no feedback metric, so its only tile is conversion: no NPS, CSAT or CES tile is
    made up for it."""
    app = orders_app(journey="orders")
    assert not app.exception
    no_data, no_touchpoints = (note.value for note in app.info)
    assert "No events or feedback are stored for" in no_data
    assert "has no touchpoints on its map yet" in no_touchpoints
    assert [m.label for m in app.metric] == ["Conversion to Delivery"]
    conversion = app.metric[0]
    assert (conversion.value, conversion.delta) == ("—", "not enough data")
    assert ":gray-badge[not enough data] no\u00a0target" in [m.value for m in app.markdown]
    # the stage strip and the emotional curve are still drawn
    assert len(app.get("vega_lite_chart")) == 2


def _switch_whole_history(value: bool) -> None:
    """The whole-history switch's callback, as Streamlit calls it when the switch reports `value`."""
    import streamlit as st

    from dashboard.components.frame import _set_param

    st.session_state["overview_whole_history"] = value
    _set_param("period", "overview_whole_history")


@pytest.mark.parametrize(
    ("url", "switch", "expected"),
    [
        ({"from": "2026-07-01", "to": "2026-09-30"}, True, {"period": "all"}),
        ({"period": "all"}, False, {"period": "recent"}),
        # the default view of a short history is the whole of it, with nothing in the link
        ({}, False, {"period": "recent"}),
        ({"period": "all", "from": "2026-07-01", "to": "2026-09-30"}, False, {"period": "recent"}),
        # A switch replayed as off on a view that already has its dates (a click that leaves a page while its
        # script runs) keeps the reader's dates.
        ({"from": "2026-07-01", "to": "2026-09-30"}, False, {"from": "2026-07-01", "to": "2026-09-30"}),
    ],
)
def test_the_whole_history_switch_writes_the_period_into_the_url(
    url: dict[str, str], switch: bool, expected: dict[str, str]
) -> None:
    app = AppTest.from_function(_switch_whole_history, args=(switch,), default_timeout=30)
    for name, value in url.items():
        app.query_params[name] = value
    app.run()
    assert not app.exception
    assert dict(app.query_params) == expected

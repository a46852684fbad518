"""The journey map page through Streamlit's AppTest: every lane, the numbers, and bad parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.components.journey_map import LANES
from tests.paths import APP

JOURNEY = "northwind-current"


@pytest.fixture
def run_journey(app_env: str) -> Callable[..., AppTest]:
    def run(**params: str) -> AppTest:
        app = AppTest.from_file(APP, default_timeout=90)
        app.run()  # registers the navigation's pages, so switch_page finds the one at url_path "journey"
        app.switch_page("../pages/journey_map.py")
        app.query_params.clear()
        for name, value in params.items():
            app.query_params[name] = value
        return app.run()

    return run


def _param(app: AppTest, name: str) -> str | None:
    value = app.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def _texts(app: AppTest) -> str:
    parts = [m.value for m in app.markdown] + [c.value for c in app.caption] + [t.value for t in app.title]
    parts += [h.value for h in app.header] + [w.value for w in app.warning] + [i.value for i in app.info]
    return "\n".join(str(p) for p in parts)


def test_every_lane_and_section_is_drawn(run_journey: Callable[..., AppTest]) -> None:
    """A known stage shows all seven lanes, the linked metrics, funnel, findings and comments."""
    app = run_journey(journey=JOURNEY, stage="onboarding")
    assert not app.exception
    text = _texts(app)
    assert "Onboarding" in app.title[0].value
    for title in LANES.values():
        assert f"**{title}**" in text
    for header in ("What the numbers say", "Funnel through the steps", "Where it hurts", "In the customers' words"):
        assert header in text
    assert len(app.metric) >= 2
    assert _param(app, "stage") == "onboarding" and _param(app, "journey") == JOURNEY
    # the small demo's last 90 days are sparse for some metrics: it opens on its whole history
    assert (_param(app, "from") and _param(app, "to")) or _param(app, "period") == "all"


def test_a_stage_of_a_journey_without_data_says_so(run_journey: Callable[..., AppTest]) -> None:
    """The target-state map's stages hold no facts: the page says the numbers come with an import."""
    app = run_journey(journey="northwind-future", stage="onboarding")
    assert not app.exception
    assert any("No events or feedback are stored for" in note.value for note in app.info)
    assert not [note for note in run_journey(journey=JOURNEY, stage="onboarding").info if "No events" in note.value]


def test_persona_keeps_the_url_complete(run_journey: Callable[..., AppTest]) -> None:
    """Choosing a persona in the sidebar writes it into the URL beside the stage."""
    app = run_journey(journey=JOURNEY, stage="onboarding")
    app.selectbox(key="journey_persona").select("budget-family").run()
    assert not app.exception
    assert _param(app, "persona") == "budget-family" and _param(app, "stage") == "onboarding"


def _comments(app: AppTest) -> Any:
    """The comments' table (the page has other tables: the opportunities, the metrics); None when not shown."""
    return next((d.value for d in app.dataframe if "band" in d.value.columns), None)


def test_comment_filters_page_through_comments(run_journey: Callable[..., AppTest]) -> None:
    """Band and measure from the link narrow the comments; choosing a channel writes it into the link."""
    app = run_journey(journey=JOURNEY, stage="support", band="low", measure="csat", period="all")
    assert not app.exception and app.dataframe, "the support stage of the demo has low CSAT comments"
    shown = _comments(app)
    assert shown is not None and len(shown) and set(shown["band"]) == {"low"} and set(shown["measure"]) == {"CSAT"}
    assert app.selectbox(key="journey_comment_measure").value == "csat"
    app.selectbox(key="journey_comment_channel").select("call-centre").run()
    assert not app.exception
    assert (_param(app, "channel"), _param(app, "band"), _param(app, "measure")) == ("call-centre", "low", "csat")
    for channel in [] if _comments(app) is None else _comments(app)["channel_name"]:
        assert channel == "Call centre"


def test_a_touchpoint_and_a_comment_page_from_the_link(run_journey: Callable[..., AppTest]) -> None:
    """A link naming a touchpoint and a page opens that touchpoint's comments on that page."""
    # the test demo's help centre holds more than one page of comments over its whole history
    app = run_journey(journey=JOURNEY, stage="support", touchpoint="help-centre", comment_page="2", period="all")
    assert not app.exception and not app.warning
    assert app.selectbox(key="journey_comment_touchpoint").value == "help-centre"
    assert app.number_input(key="journey_comment_page").value == 2
    assert (_param(app, "touchpoint"), _param(app, "comment_page")) == ("help-centre", "2")
    assert 0 < len(_comments(app)) <= 20 and set(_comments(app)["channel_name"]) == {"Website"}


@pytest.mark.parametrize(
    ("params", "notice"),
    [
        ({"journey": JOURNEY, "stage": "nowhere"}, "Stage 'nowhere' is not in journey"),
        ({"journey": JOURNEY}, "Which stage?"),
        ({"journey": "atlantis", "stage": "onboarding"}, "'atlantis' is unknown"),
        ({"journey": JOURNEY, "stage": "support", "from": "yesterday"}, "is not a date"),
        ({"journey": JOURNEY, "stage": "support", "persona": "ghost"}, "'ghost' is unknown"),
        ({"journey": JOURNEY, "stage": "support", "from": "2026-10-01", "to": "2026-01-01"}, "is after `to`"),
    ],
)
def test_bad_parameters_give_notices_not_tracebacks(
    run_journey: Callable[..., AppTest], params: dict[str, str], notice: str
) -> None:
    """Unknown or malformed parameters explain themselves; unknown stages list the valid ones."""
    app = run_journey(**params)
    assert not app.exception
    assert notice in _texts(app)


def test_the_onboarding_page_says_which_cohorts_its_conversions_count(run_journey: Callable[..., AppTest]) -> None:
    """Over the last 90 days of the demo, the conversion card and the funnel say that cohorts entering in the
    window's last 30 days are left out, and the summary's status is the stage's (as on the strip)."""
    app = run_journey(journey=JOURNEY, stage="onboarding", **{"from": "2026-08-03", "to": "2026-10-31"})
    assert not app.exception
    text = _texts(app)
    assert "Cohorts entering up to 01 Oct 2026; later ones are still inside their 30-day conversion window." in text
    summary = next(m.value for m in app.markdown if "measured metrics on target" in str(m.value))
    assert any(word in summary for word in ("on target", "near target", "off target", "not enough data"))


def test_a_period_of_open_cohorts_reads_not_yet_known(run_journey: Callable[..., AppTest]) -> None:
    """The demo's last 20 days: every cohort is still inside its window, so the conversion is not yet known
    and the funnel says why instead of being drawn."""
    app = run_journey(journey=JOURNEY, stage="onboarding", **{"from": "2026-10-12", "to": "2026-10-31"})
    assert not app.exception
    text = _texts(app)
    assert "Conversion not yet known: every cohort of the period is still inside its 30-day conversion window." in text
    assert any(str(m.value).startswith(":gray-badge[not yet known · target") for m in app.markdown)

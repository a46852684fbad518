"""The journey map page through Streamlit's AppTest: every lane, the numbers, and bad parameters."""

from __future__ import annotations

import base64
import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import format
from dashboard.cache import load_journey_map
from dashboard.components.journey_map import LANES
from data_access.journey_map import JourneyMapData
from data_access.scope import Period
from tests.lane_grid import LaneGrid, read_lane_grid
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
    (grid,) = [read_lane_grid(block.value) for block in app.get("html") if "lane-grid" in block.value]
    assert list(grid.lanes) == [title for lane, title in LANES.items() if lane != "emotion"]
    assert f"**{LANES['emotion']}**" in text  # the emotion: a curve under the grid, named beside it
    for header in ("What the numbers say", "Funnel through the steps", "Where it hurts", "In the customers' words"):
        assert header in text
    assert len(app.metric) >= 2
    assert _param(app, "stage") == "onboarding" and _param(app, "journey") == JOURNEY
    # the small demo's last 90 days are sparse for some metrics: it opens on its whole history
    assert (_param(app, "from") and _param(app, "to")) or _param(app, "period") == "all"


# the small demo's whole year: only there do some metrics have weeks with enough answers
PERIOD = Period(dt.date(2025, 11, 1), dt.date(2026, 10, 31))


def _stage_page(run_journey: Callable[..., AppTest], stage: str) -> tuple[AppTest, JourneyMapData]:
    """A stage's page over PERIOD, and the data it was drawn from (the page's own cached loader)."""
    app = run_journey(journey=JOURNEY, stage=stage, **{"from": f"{PERIOD.start}", "to": f"{PERIOD.end}"})
    assert not app.exception
    assert (_param(app, "from"), _param(app, "to")) == (f"{PERIOD.start}", f"{PERIOD.end}")
    return app, load_journey_map(JOURNEY, stage, None, PERIOD, PERIOD.previous())


def _lane_grid(app: AppTest) -> LaneGrid:
    (grid,) = [read_lane_grid(block.value) for block in app.get("html") if "lane-grid" in block.value]
    return grid


def test_a_first_run_draws_the_lanes_and_numbers_alone(
    run_journey: Callable[..., AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the browser's first draw awaited (the served default), the journey page's first run holds the
    summary, the lanes with their emotion curve and the metric cards, then one line saying the rest is coming:
    no funnel, no findings, no comments yet (the browser asks for them once the curve is drawn)."""
    from dashboard.settings import get_settings

    monkeypatch.setenv("ATLAS_DRAW_ABOVE_THE_FOLD_FIRST", "true")
    get_settings.cache_clear()
    app = run_journey(journey=JOURNEY, stage="onboarding")
    get_settings.cache_clear()
    assert not app.exception
    headers = [h.value for h in app.header]
    assert "What the numbers say" in headers
    assert not {"Funnel through the steps", "Where it hurts", "In the customers' words"} & set(headers), headers
    assert len(app.get("vega_lite_chart")) == 1  # the emotion curve
    assert len(app.metric) >= 3
    assert _texts(app).count("Drawing the rest of the page…") == 1


def test_every_lane_item_is_in_its_lane_under_its_step(run_journey: Callable[..., AppTest]) -> None:
    """Each lane item of the stage (and each step's touchpoint) is a card in its lane's row, in its step's column,
    in the steps' order; the emotion lane is the curve, not cards."""
    app, data = _stage_page(run_journey, "onboarding")
    grid = _lane_grid(app)
    steps = data.steps.sort("position")
    assert grid.steps == steps["step_name"].to_list()
    column = {step_id: index for index, step_id in enumerate(steps["step_id"])}
    items = data.lane_items.filter(pl.col("lane") != "emotion")
    assert items.height >= 15
    for lane, step_id, text in items.select("lane", "step_id", "text").iter_rows():
        cards = grid.lanes[LANES[lane]][column[step_id]]
        assert any(text.strip('"“” ') in card for card in cards), (lane, text)
    for step_id, touchpoint in steps.drop_nulls("touchpoint_name").select("step_id", "touchpoint_name").iter_rows():
        assert any(card.startswith(touchpoint) for card in grid.lanes[LANES["touchpoint"]][column[step_id]])
    shown = sum(len(cards) for cells in grid.lanes.values() for cards in cells)
    assert shown == items.height + steps["touchpoint_name"].drop_nulls().len()


def test_each_metric_card_draws_its_weekly_values_as_an_image_not_a_chart(run_journey: Callable[..., AppTest]) -> None:
    """A card's trend is an SVG image whose dots are the metric's measured weeks, as the card writes them, over
    its target; the page's only charts are the emotion curve, the funnel and (when placed) the opportunity matrix."""
    app, data = _stage_page(run_journey, "purchase")
    images = [image for element in app.get("image") for image in element.proto.imgs]
    drawn = [
        metric
        for metric in data.metrics.to_dicts()
        if data.trend.filter(pl.col("metric_id") == metric["metric_id"])["value"].drop_nulls().len() > 0
    ]
    assert len(drawn) >= 2 and len(images) == len(drawn)
    for image, metric in zip(images, drawn, strict=True):
        svg = ET.fromstring(base64.b64decode(image.url.removeprefix("data:image/svg+xml;base64,")).decode())
        weekly = data.trend.filter(pl.col("metric_id") == metric["metric_id"]).drop_nulls("value").sort("week")
        formula = metric["formula"]
        expected = [
            f"Week of {week:%d %b %Y}: {format.value_text(value, formula)} ({format.count_text(sample)} answers)"
            for week, value, sample in weekly.select("week", "value", "sample").iter_rows()
        ]
        titles = [title.text for title in svg.iter("{http://www.w3.org/2000/svg}title")]
        target = f"Target {format.value_text(metric['target'], metric['formula'])} (the dashed line)"
        assert titles == ([target] if metric["target"] is not None else []) + expected, metric["label"]
        assert f"latest {format.value_text(weekly['value'][-1], metric['formula'])}" in image.alt
    specs = [chart.proto.spec for chart in app.get("vega_lite_chart")]
    assert not any('"week"' in spec for spec in specs)
    assert len(specs) == 2 + any("opportunit" in spec for spec in specs)


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

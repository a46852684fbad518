"""Share links and exports: CSV safe to open in a spreadsheet, chart images that decode, both pages offer them."""

from __future__ import annotations

import datetime as dt
import io
import struct
import xml.etree.ElementTree as ET
from collections.abc import Callable

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from streamlit.testing.v1 import AppTest

from dashboard.charts import experience_map as experience_map_charts
from dashboard.exports import files
from data_access import experience_map, journey_map
from data_access.db import make_engine
from data_access.experience_map.queries import data_days
from data_access.scope import Period, journey_id, resolve_scope, resolve_stage
from tests.paths import APP

JOURNEY = "northwind-current"
PERIOD = (dt.date(2026, 8, 3), dt.date(2026, 10, 31))
INJECTIONS = ["=1+1", "+cmd", "-2+3", "@SUM(A1:A2)", "\t=x", "\r=x"]


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.fixture(scope="module")
def demo_views(demo_database_url: str) -> tuple[experience_map.ExperienceMapData, journey_map.JourneyMapData]:
    """The demo's experience map and its onboarding journey map over the last 90 days."""
    engine = make_engine(demo_database_url)
    with engine.connect() as connection:
        found = journey_id(connection, JOURNEY)
        assert found is not None
        days = data_days(connection, journey_id=found)
        assert days is not None
        period = Period(days.end - dt.timedelta(days=89), days.end)
        scope = resolve_scope(connection, journey_slug=JOURNEY, persona_slug=None, period=period)
        assert scope is not None
        onboarding = resolve_stage(connection, scope, stage_slug="onboarding")
        assert onboarding is not None
        experience = experience_map.load_experience_map(connection, scope=scope, metric="health", min_answers=30)
        stage = journey_map.load_journey_map(connection, scope=onboarding, min_answers=30)
    engine.dispose()
    return experience, stage


def test_formula_like_text_is_neutralised_and_numbers_are_not() -> None:
    """Text starting with = + - @ tab or CR gets a leading quote; a negative NPS stays the number -12."""
    frame = pl.DataFrame(
        {
            "label": [*INJECTIONS, "Net Promoter Score", "a=b"],
            "nps": [-12.0, 3.5, -2.0, 0.0, 1.0, 2.0, 40.0, -100.0],
            "answers": [1, 2, 3, 4, 5, 6, 7, 8],
        }
    )
    parsed = pl.read_csv(io.BytesIO(files.csv_bytes(frame)))
    assert parsed["label"].to_list() == [f"'{text}" for text in INJECTIONS] + ["Net Promoter Score", "a=b"]
    assert parsed.schema["nps"] == pl.Float64 and parsed.schema["answers"] == pl.Int64
    assert parsed["nps"].to_list() == frame["nps"].to_list()
    assert parsed["answers"].to_list() == frame["answers"].to_list()


def test_null_text_cells_stay_empty() -> None:
    """A missing label is written as an empty cell, not as a quote."""
    frame = pl.DataFrame({"label": ["=x", None]}, schema={"label": pl.String})
    assert files.neutralise_formulas(frame)["label"].to_list() == ["'=x", None]


def test_touchpoint_csv_reads_back_as_the_grid_on_screen(
    demo_views: tuple[experience_map.ExperienceMapData, object],
) -> None:
    """The overview's CSV parses back to the grid's cells: same columns, order and values."""
    table = files.touchpoint_table(demo_views[0].grid)
    parsed = pl.read_csv(io.BytesIO(files.csv_bytes(table)), schema=table.schema)
    assert_frame_equal(parsed, files.neutralise_formulas(table))
    assert table.height == demo_views[0].grid.height
    assert parsed["stage"].unique(maintain_order=True).to_list() == demo_views[0].stages["stage"].to_list()


def test_stage_metrics_csv_reads_back(demo_views: tuple[object, journey_map.JourneyMapData]) -> None:
    """The journey map's CSV holds each linked metric with its value, target and change as numbers."""
    table = files.stage_metric_table(demo_views[1].metrics)
    parsed = pl.read_csv(io.BytesIO(files.csv_bytes(table)), schema=table.schema)
    assert_frame_equal(parsed, files.neutralise_formulas(table))
    assert set(parsed["key"]) == set(demo_views[1].metrics["key"])
    assert parsed.schema["value"] == pl.Float64


def test_file_names_say_what_and_when() -> None:
    """journey-atlas_<journey>_<stage or overview>_<from>_<to>.<ext>, nothing unsafe in it."""
    name = files.file_name(journey=JOURNEY, scope="onboarding", date_from=PERIOD[0], date_to=PERIOD[1], extension="csv")
    assert name == "journey-atlas_northwind-current_onboarding_2026-08-03_2026-10-31.csv"
    odd = files.file_name(journey="a/b c", scope="../x", date_from=PERIOD[0], date_to=PERIOD[1], extension="png")
    assert "/" not in odd and " " not in odd and odd.endswith(".png")


@pytest.mark.parametrize(
    ("page_url", "page", "expected"),
    [
        (None, "overview", "/?journey=j&from=2026-08-03"),
        (None, "journey", "/journey?journey=j&from=2026-08-03"),
        ("http://atlas.example:8501", "overview", "http://atlas.example:8501/?journey=j&from=2026-08-03"),
        ("http://atlas.example/cx/journey", "journey", "http://atlas.example/cx/journey?journey=j&from=2026-08-03"),
    ],
)
def test_view_link(page_url: str | None, page: str, expected: str) -> None:
    """The link is the page's URL in the browser plus the view's query (or the page's path alone)."""
    assert files.view_link(page_url, page=page, query={"journey": "j", "from": "2026-08-03"}) == expected


def test_grid_png_and_svg(demo_views: tuple[experience_map.ExperienceMapData, object]) -> None:
    """The touchpoint grid renders offline: a PNG about twice the chart's width, an SVG naming every stage."""
    data = demo_views[0]
    stages = data.stages["stage"].to_list()
    grid = experience_map_charts.touchpoint_heatmap(
        data.grid, metric="health", metric_label="Health", stage_order=stages
    )
    width, height = _png_size(files.chart_png(grid, width=600, scale=2))
    assert 2 * 600 <= width <= 2 * (600 + 300) and height > 200
    svg = files.chart_svg(grid, width=600)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    texts = {element.text for element in root.iter() if element.text}
    assert set(stages) <= texts


def test_emotion_curve_png_and_svg(demo_views: tuple[object, journey_map.JourneyMapData]) -> None:
    """The journey map's emotion curve renders with its steps named and the stage in its title."""
    data = demo_views[1]
    steps = data.steps.sort("position")["step_name"].to_list()
    chart = files.stage_emotion_chart(data.emotions, step_order=steps, stage_name="Onboarding")
    width, _ = _png_size(files.chart_png(chart, width=500, scale=2))
    assert 2 * 500 <= width <= 2 * (500 + 300)
    root = ET.fromstring(files.chart_svg(chart, width=500))
    # a step's name may be broken into lines (tspans of one text element): read each text element whole
    texts = {
        " ".join(part.text for part in element.iter() if part.text)
        for element in root.iter()
        if element.tag.endswith("}text")
    }
    assert set(steps) <= texts
    assert "Onboarding: emotion over the steps" in texts


@pytest.fixture
def run_page(app_env: str) -> Callable[..., AppTest]:
    def run(page: str, **params: str) -> AppTest:
        app = AppTest.from_file(APP, default_timeout=90)
        if page == "journey":
            app.run()  # registers the navigation's pages, so switch_page finds the one at its url_path
            app.switch_page("../pages/journey_map.py")
            app.query_params.clear()
        for name, value in params.items():
            app.query_params[name] = value
        return app.run()

    return run


@pytest.mark.parametrize(
    ("page", "params", "path"),
    [
        ("overview", {"persona": "remote-worker"}, "/?"),
        ("journey", {"journey": JOURNEY, "stage": "onboarding"}, "/journey?"),
    ],
)
def test_pages_offer_the_link_and_the_downloads(
    run_page: Callable[..., AppTest], page: str, params: dict[str, str], path: str
) -> None:
    """Both pages show the view's link (with the whole query) and the CSV, PNG, SVG and PDF downloads."""
    app = run_page(page, **params)
    assert not app.exception
    links = [code.value for code in app.code if code.value.startswith(path)]
    assert len(links) == 1
    for name, value in params.items():
        assert f"{name}={value}" in links[0]
    assert ("from=" in links[0] and "to=" in links[0]) or "period=all" in links[0]
    buttons = app.sidebar.get("download_button")  # the export menu's (the opportunity matrix has its own)
    assert [button.label for button in buttons] == ["Numbers (CSV)", "Chart (PNG)", "Chart (SVG)", "Report (PDF)"]
    assert buttons[0].proto.url  # the CSV is ready; the images and the report are made when clicked
    assert all(button.proto.deferred_file_id for button in buttons[1:])


# the 14 payloads of the kind a spreadsheet reads as a formula: the four signs, the control characters that
# start a cell, and the same signs behind leading whitespace, invisible characters or in full-width form
FORMULA_PAYLOADS = [
    '=HYPERLINK("http://attacker.example","x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    " =1+1",
    "   @SUM(A1)",
    "\u200b=1+1",
    "\u00a0=1+1",
    "\ufeff+1",
    "\uff1d1+1",
    " \u200b\uff20SUM(A1)",
]


@pytest.mark.parametrize("payload", FORMULA_PAYLOADS, ids=[repr(p)[:20] for p in FORMULA_PAYLOADS])
def test_formulas_behind_whitespace_invisible_or_full_width_characters_are_neutralised(payload: str) -> None:
    """Each cell keeps its text but starts with a quote, so a spreadsheet shows it instead of evaluating it."""
    frame = pl.DataFrame({"label": [payload, "Net Promoter Score"], "nps": [-12.0, 40.0]})
    parsed = pl.read_csv(io.BytesIO(files.csv_bytes(frame)))
    assert parsed["label"].to_list() == [f"'{payload}", "Net Promoter Score"]
    assert parsed["nps"].to_list() == [-12.0, 40.0]

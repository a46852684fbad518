"""Chart specs of the experience map, checked through `to_dict()`."""

from __future__ import annotations

from typing import Any

import polars as pl

from dashboard.charts import experience_map as charts
from dashboard.charts.palette import (
    INK,
    MUTED_INK,
    NO_DATA,
    NO_DATA_HATCH,
    STATUS_COLOURS,
    STATUS_TINTS,
    VOLUME_STEPS,
    contrast,
)
from dashboard.format import STATUS_WORDS

STAGES = ["Awareness", "Purchase"]


def _grid() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "stage": ["Awareness", "Purchase", "Purchase"],
            "stage_slug": ["awareness", "purchase", "purchase"],
            "stage_position": [1, 2, 2],
            "channel": ["Web", "Web", "Store"],
            "channel_slug": ["web", "web", "store"],
            "channel_position": [1, 1, 2],
            "touchpoints": ["Ads", "Checkout", "Till"],
            "touchpoint_slug": ["ads", "checkout", "till"],
            "moment_of_truth": [False, True, False],
            "metric": ["health"] * 3,
            "value": [1.0, 0.5, None],
            "value_answers": [40, 50, 3],
            "status": ["green", "red", "no data"],
            "answers": [40, 50, 3],
            "events": [100, 80, 5],
            "metrics": [2, 3, 2],
            "measured": [2, 2, 0],
            "judged": [2, 2, 0],
            "on_target": [2, 1, 0],
            "nps": [20.0, -5.0, None],
            "nps_answers": [40, 50, 3],
            "csat": [80.0, 60.0, None],
            "csat_answers": [40, 50, 0],
            "ces": [5.2, 4.0, None],
            "ces_answers": [40, 50, 0],
        }
    )


def _layers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list(spec["layer"])


def _data(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return next(iter(spec["datasets"].values()))


def test_heatmap_colours_cells_by_status_in_words_with_a_fixed_palette() -> None:
    """Status colours are fixed (same colour = same meaning everywhere) and the legend uses words."""
    spec = charts.touchpoint_heatmap(_grid(), metric="health", metric_label="Health", stage_order=STAGES).to_dict()
    colour = _layers(spec)[0]["encoding"]["color"]
    assert colour["field"] == "status_word"
    assert colour["scale"]["domain"] == ["on target", "near target", "off target", "not enough data"]
    assert colour["scale"]["range"] == [STATUS_COLOURS[s] for s in ("green", "amber", "red", "no data")]
    words = {row["status"]: row["status_word"] for row in _data(spec)}
    assert words == {s: STATUS_WORDS[s] for s in ("green", "red", "no data")}


def test_heatmap_draws_too_little_data_hatched_not_as_bad() -> None:
    """A cell with too few answers is drawn again over its grey with diagonal stripes (a gradient: Vega draws
    no dash on a rect), and only those cells; a red cell stays plain."""
    spec = charts.touchpoint_heatmap(_grid(), metric="health", metric_label="Health", stage_order=STAGES).to_dict()
    hatched = _layers(spec)[1]
    assert "no data" in hatched["transform"][0]["filter"]
    fill = hatched["mark"]["fill"]
    assert fill["gradient"] == "linear"
    colours = [stop["color"] for stop in fill["stops"]]
    assert set(colours) == {NO_DATA, NO_DATA_HATCH} and len(colours) >= 8
    assert STATUS_COLOURS["no data"] != STATUS_COLOURS["red"]


def test_every_cell_text_reads_on_its_fill() -> None:
    """Each cell's number takes the ink chosen for its fill, at 4.5:1 or better, by status and by volume."""
    for metric in ("health", "volume"):
        spec = charts.touchpoint_heatmap(_grid(), metric=metric, metric_label="x", stage_order=STAGES).to_dict()
        cells, _hatched, labels, _target = _layers(spec)
        assert labels["encoding"]["color"] == {"field": "ink", "type": "nominal", "scale": None}
        scale = cells["encoding"]["color"]["scale"]
        fills = dict(zip(scale["domain"], scale["range"], strict=True))
        for row in _data(spec):
            field = "volume_band" if metric == "volume" else "status_word"
            assert contrast(row["ink"], fills[row[field]]) >= 4.5, (metric, row[field])
            assert contrast(row["ink"], NO_DATA_HATCH) >= 4.5 or row["status"] != "no data"


def test_every_chart_text_is_at_least_12_px() -> None:
    """Font sizes set in the experience map's specs (marks, axes, legends) are 12 px or more."""
    stages = _stages()
    specs = [
        charts.touchpoint_heatmap(_grid(), metric="health", metric_label="Health", stage_order=STAGES).to_dict(),
        charts.stage_strip(stages).to_dict(),
        charts.emotional_curve(_curve(), moments=["Purchase"]).to_dict(),
    ]
    sizes = [size for spec in specs for size in _font_sizes(spec)]
    assert sizes and min(sizes) >= 12


def _font_sizes(spec: Any) -> list[float]:
    if isinstance(spec, dict):
        own = [v for k, v in spec.items() if k in ("fontSize", "labelFontSize", "titleFontSize")]
        return own + [size for value in spec.values() for size in _font_sizes(value)]
    if isinstance(spec, list):
        return [size for item in spec for size in _font_sizes(item)]
    return []


def test_strip_grid_and_curve_share_one_stage_axis() -> None:
    """The same band scale over the stages and the same row-label width left of it, in all three charts."""
    specs = [
        charts.touchpoint_heatmap(_grid(), metric="health", metric_label="Health", stage_order=STAGES).to_dict(),
        charts.stage_strip(_stages()).to_dict(),
        charts.emotional_curve(_curve(), moments=[]).to_dict(),
    ]
    x_scales, y_extents = [], []
    for spec in specs:
        for layer in _layers(spec):
            encoding = layer.get("encoding", {})
            if "x" in encoding and encoding["x"].get("field") == "stage":
                x_scales.append(encoding["x"]["scale"])
            if "y" in encoding and encoding["y"].get("axis"):
                y_extents.append((encoding["y"]["axis"]["minExtent"], encoding["y"]["axis"]["maxExtent"]))
    assert x_scales and all(scale == x_scales[0] for scale in x_scales)
    assert x_scales[0]["domain"] == STAGES
    assert set(y_extents) == {(charts.ROW_LABEL_WIDTH, charts.ROW_LABEL_WIDTH)}


def test_heatmap_keeps_stage_order_and_labels_each_cell() -> None:
    spec = charts.touchpoint_heatmap(_grid(), metric="health", metric_label="Health", stage_order=STAGES).to_dict()
    cells, _hatched, labels, target = _layers(spec)
    assert cells["encoding"]["x"]["sort"] == STAGES
    assert cells["encoding"]["y"]["sort"] == ["Web", "Store"]
    assert labels["encoding"]["text"]["field"] == "value_label"
    # what the cells and their tooltips say, written by `format` from the grid's numbers
    shown = [(row["value_label"], row["nps_label"], row["csat_label"], row["ces_label"]) for row in _data(spec)]
    assert shown == [
        ("100%", "+20 (40 answers)", "80.0% (40 answers)", "5.20 (40 answers)"),
        ("★ 50%", "-5 (50 answers)", "60.0% (50 answers)", "4.00 (50 answers)"),
        ("n=3", "not enough data (3 answers)", "not enough data (0 answers)", "not enough data (0 answers)"),
    ]
    tooltip_titles = [t["title"] for t in target["encoding"]["tooltip"]]
    assert tooltip_titles[:4] == ["Stage", "Channel", "Touchpoints", "Health"]
    assert {"NPS", "CSAT", "CES", "Events"} <= set(tooltip_titles)


def test_a_click_on_a_cell_or_its_label_selects_stage_channel_and_touchpoint() -> None:
    """The click target is the top layer, so clicking the number in a cell selects the cell."""
    spec = charts.touchpoint_heatmap(_grid(), metric="health", metric_label="Health", stage_order=STAGES).to_dict()
    (param,) = spec["params"]
    assert param["name"] == charts.CELL_SELECTION
    assert param["select"] == {
        "type": "point",
        "fields": ["stage_slug", "channel_slug", "touchpoint_slug"],
        "on": "click",
    }
    target = _layers(spec)[-1]
    assert target["mark"]["fill"] == "transparent"
    assert param["views"] == [target["name"]]


def test_volume_is_drawn_in_steps_of_events() -> None:
    """Five equal steps of volume (a cell's events and answers: the grid's value) up to the busiest cell."""
    grid = _grid().with_columns(pl.col("events").cast(pl.Float64).alias("value"))
    spec = charts.touchpoint_heatmap(grid, metric="volume", metric_label="Volume", stage_order=STAGES).to_dict()
    colour = _layers(spec)[0]["encoding"]["color"]
    assert colour["field"] == "volume_band"
    assert colour["scale"]["domain"] == ["0–20", "20–40", "40–60", "60–80", "80–100", "not enough data"]
    assert colour["scale"]["range"] == [*VOLUME_STEPS, NO_DATA]
    assert [row["volume_band"] for row in _data(spec)] == ["80–100", "80–100", "0–20"]


def _stages() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "stage": STAGES,
            "stage_slug": ["awareness", "purchase"],
            "stage_position": [1, 2],
            "customers": [1000, 0],
            "answers": [50, 14500],
            "open_pain_points": [0, 2],
            "open_opportunities": [1, 0],
            "findings_detail": ["0 open pain points, 1 open opportunities", "2 open pain points, 0 open opportunities"],
            "health_status": ["green", "no data"],
        }
    )


def test_stage_strip_selects_a_stage_and_shows_health_and_findings() -> None:
    """Each box is tinted by its stage's health and says it; zero findings are quiet grey, pain dark red."""
    spec = charts.stage_strip(_stages()).to_dict()
    (param,) = spec["params"]
    assert param["select"]["fields"] == ["stage_slug"]
    texts = [layer["encoding"]["text"]["field"] for layer in _layers(spec) if "text" in layer.get("encoding", {})]
    assert texts == ["stage", "health_word", "customers_line", "pain_line", "opportunity_line"]
    rows = _data(spec)
    # where no customer reached a stage (a journey known from feedback alone) its box counts the answers
    assert [row["customers_line"] for row in rows] == ["1,000 customers", "14,500 answers"]
    assert [row["health_word"] for row in rows] == ["on target", "not enough data"]
    assert [row["pain_line"] for row in rows] == ["no open pain", "2 pain points"]
    assert [row["opportunity_line"] for row in rows] == ["1 opportunity", "no open opp."]
    assert [row["tint"] for row in rows] == [STATUS_TINTS["green"], STATUS_TINTS["no data"]]
    assert [row["pain_ink"] for row in rows] == [MUTED_INK, charts.ALARM_INK]
    for row in rows:
        for ink in (row["pain_ink"], row["opp_ink"], INK, MUTED_INK):
            assert contrast(ink, row["tint"]) >= 4.5


def _curve() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "stage": STAGES * 2,
            "stage_position": [1, 2, 1, 2],
            "source": ["measured", "measured", "assumed", "assumed"],
            "emotion": [0.5, -1.0, 1.0, 0.0],
            "answers": [40, 50, None, None],
        }
    )


def test_emotional_curve_draws_measured_solid_and_assumed_dashed_on_the_emotion_scale() -> None:
    spec = charts.emotional_curve(_curve(), moments=["Purchase"]).to_dict()
    _zero, lines, _points, _flags = _layers(spec)
    assert lines["encoding"]["y"]["scale"]["domain"] == [-2, 2]
    assert lines["encoding"]["strokeDash"]["scale"] == {"domain": ["measured", "assumed"], "range": [[1, 0], [6, 4]]}
    assert lines["encoding"]["x"]["sort"] == STAGES
    flagged = next(v for k, v in spec["datasets"].items() if any(row.get("label") == "★" for row in v))
    assert [row["stage"] for row in flagged] == ["Purchase"]


def test_the_health_tooltip_says_how_many_metrics_are_measured() -> None:
    """A cell with unmeasured metrics says so; a cell with none measured is not enough data, not 0 % or 100 %."""
    spec = charts.touchpoint_heatmap(_grid(), metric="health", metric_label="Health", stage_order=STAGES).to_dict()
    labels = {row["touchpoints"]: row["health_label"] for row in _data(spec)}
    assert labels == {
        "Ads": "2 of 2 metrics on target",
        "Checkout": "2 of 3 metrics measured · 1 of 2 on target",
        "Till": "not enough data (0 of 2 metrics measured)",
    }
    tooltip = {t["field"]: t["title"] for t in _layers(spec)[-1]["encoding"]["tooltip"]}
    # its own title, never shadowed by the value's ("Health" when the grid shows health)
    assert tooltip["health_label"] == "Metrics"
    assert len(set(tooltip.values())) == len(tooltip)

"""The opportunity matrix's spec and list: what is placed, how it is encoded, how its numbers read."""

from __future__ import annotations

import polars as pl
import pytest

from dashboard.charts import opportunities as charts
from data_access.opportunities import MATRIX_COLUMNS, OPPORTUNITY_SCHEMA


def _matrix() -> pl.DataFrame:
    base = {name: None for name in MATRIX_COLUMNS}
    rows = [
        base | {"item_id": 1, "stage_slug": "buy", "stage_name": "Buy", "text": "Slots", "status": " In Progress",
                "impact": 5, "effort": 4, "reach": 1200, "metric_key": "csat", "metric_label": "CSAT",
                "metric_formula": "csat", "metric_value": 60.0, "metric_target": 80.0, "gap": 0.25,
                "measured_value": 300.0},
        base | {"item_id": 2, "stage_slug": "use", "stage_name": "Use", "text": "Texts", "status": "parked",
                "impact": None, "effort": 2, "reach": 10, "metric_key": "csat", "metric_label": "CSAT",
                "metric_formula": "csat", "metric_value": 90.0, "metric_target": 80.0, "gap": 0.0,
                "measured_value": 0.0},
        base | {"item_id": 3, "stage_slug": "use", "stage_name": "Use", "text": "Unknown", "status": "open",
                "impact": 3, "effort": 2, "reach": 10},
    ]  # fmt: skip
    schema = {**OPPORTUNITY_SCHEMA, "reach": pl.Int64, "metric_key": pl.String, "metric_label": pl.String,
              "metric_formula": pl.String, "metric_value": pl.Float64, "metric_target": pl.Float64,
              "gap": pl.Float64, "measured_value": pl.Float64}  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


def test_only_measured_opportunities_are_placed() -> None:
    """An opportunity without a measured value is listed, never drawn as a zero."""
    spec = charts.opportunity_matrix(_matrix()).to_dict()
    values = next(iter(spec["datasets"].values()))
    assert [row["item_id"] for row in values] == [1, 2]
    assert [row["status_word"] for row in values] == ["in progress", "other"]
    assert spec["encoding"]["x"]["field"] == "effort_position" and spec["encoding"]["y"]["field"] == "measured_value"
    # equal effort (2 and 2 would overlap): side by side around it
    assert [row["effort_position"] for row in values] == [4.0, 2.0]
    assert spec["encoding"]["size"]["field"] == "impact_size"
    assert spec["encoding"]["color"]["scale"]["domain"] == charts.STATUS_ORDER
    assert spec["params"][0]["name"] == charts.OPPORTUNITY_SELECTION
    assert spec["params"][0]["select"]["fields"] == ["stage_slug"]


def test_list_writes_every_number() -> None:
    """The list says 'not enough data' for an unknown value and writes metric, gap and reach as elsewhere."""
    table = charts.opportunity_list(_matrix())
    assert table["measured_value"].to_list() == ["300", "0", "not enough data"]
    assert table["customers_reached"].to_list() == ["1,200", "10", "10"]
    assert table["linked_metric"].to_list()[0] == "CSAT 60.0% against 80.0%"
    assert table["linked_metric"].to_list()[2] == "no measured metric with a target"
    assert table["gap"].to_list() == ["25.0%", "0.0%", "—"]


def test_equal_effort_sits_side_by_side() -> None:
    """Two opportunities of the same effort are placed either side of it, never on top of each other."""
    matrix = _matrix().with_columns(pl.lit(3).alias("effort"), pl.lit(10.0).alias("measured_value"))
    placed = charts.plotted(matrix)["effort_position"].to_list()
    assert placed == pytest.approx([2.88, 3.0, 3.12])

"""Chart specs of the journey map, checked through `to_dict()`."""

from __future__ import annotations

from typing import Any

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from dashboard.charts import journey_map as charts
from dashboard.charts.palette import ASSUMED, BAD, MEASURED, MUTED_INK
from data_access.journey_map.assembly import cohort_funnel


def layers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return spec["layer"]


def test_emotion_curve_draws_both_curves_and_the_gap() -> None:
    """Assumed and measured share one y scale (−2..+2); the gap rule only where both exist."""
    emotions = pl.DataFrame(
        {
            "step_name": ["Browse", "Cart", "Pay"],
            "assumed_emotion": [1.0, 0.5, None],
            "measured_emotion": [None, -0.5, 1.5],
            "answers": [0, 40, 10],
        }
    )
    spec = charts.emotion_curve(emotions, step_order=["Browse", "Cart", "Pay"]).to_dict()
    _zero, gap, lines, points = layers(spec)
    assert gap["mark"]["type"] == "rule" and gap["encoding"]["y2"]["field"] == "measured_emotion"
    gap_rows = spec["datasets"][gap["data"]["name"]]
    assert [row["step_name"] for row in gap_rows] == ["Cart"]
    assert lines["encoding"]["x"]["type"] == "ordinal" and lines["encoding"]["x"]["sort"] == ["Browse", "Cart", "Pay"]
    assert lines["encoding"]["y"]["scale"]["domain"] == [-2, 2]
    assert lines["encoding"]["color"]["scale"]["range"] == [ASSUMED, MEASURED]
    assert points["encoding"]["tooltip"][2]["type"] == "quantitative"


def test_a_standalone_emotion_curve_names_every_step_in_short_lines() -> None:
    """On a slide or an exported image every step is named under its point: long names are broken at spaces
    into lines, and Vega may not drop a label for overlapping its neighbour."""
    names = ["Books the installation", "Chases the appointment", "Installation visit", "Visit rescheduled"]
    emotions = pl.DataFrame(
        {"step_name": names, "assumed_emotion": [-1.0, -1.5, 0.5, 0.0], "measured_emotion": [-0.8, None, 0.2, 0.1]}
    ).with_columns(answers=pl.lit(40))
    spec = charts.emotion_curve(emotions, step_order=names, standalone=True).to_dict()
    _zero, gap, lines, _points = layers(spec)
    axis = lines["encoding"]["x"]["axis"]
    assert axis["labelOverlap"] is False and "split(datum.label" in axis["labelExpr"]
    shown = lines["encoding"]["x"]["sort"]
    assert [" ".join(label.split("\n")) for label in shown] == names
    assert all(len(line) <= 14 for label in shown for line in label.split("\n"))
    gap_rows = spec["datasets"][gap["data"]["name"]]
    assert {row["step_line"] for row in gap_rows} <= set(shown)


def test_step_funnel_marks_outlying_steps() -> None:
    """Rows keep the funnel's order; the outlying required step is in the 'bad' colour, the optional step in
    the muted one; each bar says its cohort share; the axis names the conversion window."""
    steps = pl.DataFrame(
        {
            "step_id": [1, 2, 3],
            "step_name": ["Browse", "Chat", "Cart"],
            "position": [0, 1, 2],
            "step_kind": ["required", "optional", "required"],
            "group": [None, None, None],
        }
    )
    conversions = pl.DataFrame(
        [(7, None, 7, 1, 90, 100, 0.9), (7, None, 7, 2, 30, 100, 0.3), (7, 1, 7, 3, 30, 90, 1 / 3),
         (7, None, 8, None, 20, 100, 0.2)],
        schema=["stage_id", "step_id", "next_stage_id", "next_step_id", "converted", "entrants", "conversion"],
        orient="row",
    )  # fmt: skip
    funnel = cohort_funnel((7, "Buy"), steps, (8, "Use"), conversions, 100, 30)
    spec = charts.step_funnel(funnel, outlier_steps=[3]).to_dict()
    bars, labels = layers(spec)
    assert bars["encoding"]["y"]["sort"] == ["Buy", "Browse", "Chat (optional)", "Cart", "→ Use"]
    assert bars["encoding"]["color"]["scale"]["range"] == [MEASURED, BAD, MUTED_INK]
    assert bars["encoding"]["x"]["title"] == "Customers of the period's cohorts who reached it within 30 days"
    # the longest bar leaves room beside it for its label
    assert bars["encoding"]["x"]["scale"]["domain"] == [0, 180.0]
    # the legend names what the colours mean, not "false" and "true"
    assert bars["encoding"]["color"]["scale"]["domain"] == [
        "in line with the other steps",
        "stands out",
        "optional or alternative: never drop-off",
    ]
    rows = spec["datasets"][spec["data"]["name"]]
    assert [row["stands_out"] for row in rows] == [False, False, False, True, False]
    assert [row["drop_off_is"] for row in rows][1:4] == [
        "in line with the other steps",
        "optional or alternative: never drop-off",
        "stands out",
    ]
    assert [row["conversion_label"] for row in rows] == [
        "",
        "90.0% of 'Buy'",
        "taken by 30.0% of entrants",
        "33.3% of 'Browse'",
        "20.0% of entrants",
    ]
    assert labels["encoding"]["text"]["field"] == "conversion_label"


@given(st.integers(min_value=1, max_value=10**9))
def test_funnel_axis_ticks_are_round_and_stop_at_the_longest_bar(longest: int) -> None:
    ticks = charts.axis_ticks(longest)
    assert ticks[0] == 0 and ticks[-1] <= longest and len(ticks) <= 6
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1
    assert ticks[-1] + step > longest  # no round tick below the longest bar is left out
    assert str(step).rstrip("0") in {"1", "2", "5"}

"""The headline tiles' SVG sparkline: gaps for weeks with too few answers, values placed in order, titles."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from itertools import pairwise

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from dashboard.charts.palette import MEASURED
from dashboard.charts.sparkline import (
    HEIGHT,
    PAD,
    WIDTH,
    sparkline_coverage,
    sparkline_runs,
    sparkline_svg,
    sparkline_words,
)

SVG = "{http://www.w3.org/2000/svg}"
MONDAY = dt.date(2026, 10, 5)


def _weekly(values: list[float | None], answers: list[int] | None = None) -> pl.DataFrame:
    weeks = [MONDAY + dt.timedelta(weeks=i) for i in range(len(values))]
    counts = answers or [100 + i for i in range(len(values))]
    return pl.DataFrame({"week": weeks, "value": values, "answers": counts}, schema_overrides={"value": pl.Float64})


def test_a_week_with_too_few_answers_is_a_gap_never_a_zero() -> None:
    runs = sparkline_runs(_weekly([62.0, 64.0, None, 66.5, 61.0]), formula="csat")
    assert [len(run) for run in runs] == [2, 2]
    svg = ET.fromstring(sparkline_svg(_weekly([62.0, 64.0, None, 66.5, 61.0]), formula="csat"))
    lines = svg.findall(f"{SVG}polyline")
    assert len(lines) == 2  # two lines, not one across the gap
    assert all(line.get("stroke") == MEASURED for line in lines)
    assert len(svg.findall(f"{SVG}path")) == 4  # a dot per measured week


def test_each_dot_says_its_week_value_and_answers_as_the_tile_writes_them() -> None:
    svg = ET.fromstring(sparkline_svg(_weekly([62.0, None, 66.5], answers=[120, 3, 1400]), formula="csat"))
    titles = [title.text for title in svg.iter(f"{SVG}title")]
    assert titles == ["Week of 05 Oct 2026: 62.0% (120 answers)", "Week of 19 Oct 2026: 66.5% (1,400 answers)"]
    nps = ET.fromstring(sparkline_svg(_weekly([12.0, -3.0]), formula="nps"))
    assert [t.text for t in nps.iter(f"{SVG}title")][1].startswith("Week of 12 Oct 2026: -3 ")


def test_the_highest_week_is_at_the_top_and_the_weeks_run_left_to_right() -> None:
    (run,) = sparkline_runs(_weekly([3.0, 5.0, 4.0]), formula="ces")
    assert [p.x for p in run] == [PAD, WIDTH / 2, WIDTH - PAD]
    assert [p.y for p in run] == [HEIGHT - PAD, PAD, HEIGHT / 2]


def test_no_measured_week_draws_nothing_and_a_flat_series_sits_in_the_middle() -> None:
    assert sparkline_runs(_weekly([None, None]), formula="nps") == []
    (flat,) = sparkline_runs(_weekly([40.0, 40.0, 40.0]), formula="nps")
    assert {p.y for p in flat} == {HEIGHT / 2}


@given(
    st.lists(st.one_of(st.none(), st.floats(min_value=-100, max_value=100, allow_nan=False)), min_size=1, max_size=30)
)
def test_every_measured_week_is_one_dot_inside_the_drawing_ranked_by_its_value(values: list[float | None]) -> None:
    runs = sparkline_runs(_weekly(values), formula="nps")
    points = [p for run in runs for p in run]
    measured = [v for v in values if v is not None]
    assert len(points) == len(measured)
    assert sum(len(run) > 0 for run in runs) == len(runs)
    assert all(PAD <= p.x <= WIDTH - PAD and PAD <= p.y <= HEIGHT - PAD for p in points)
    placed = list(zip(points, measured, strict=True))
    for (a, value_a), (b, value_b) in pairwise(placed):
        assert a.x < b.x
        if value_a > value_b + 1e-9 * (1 + abs(value_b)):
            assert a.y <= b.y  # higher value, nearer the top
    ET.fromstring(sparkline_svg(_weekly(values), formula="nps"))  # always well-formed


def test_the_words_say_the_weeks_the_lowest_highest_and_latest_week_and_the_gaps() -> None:
    words = sparkline_words(_weekly([62.0, 58.5, None, 66.5, 61.0, None]), formula="csat")
    assert words == (
        "Weekly values, weeks of 05 Oct – 09 Nov 2026: lowest 58.5% (week of 12 Oct), highest 66.5% "
        "(week of 26 Oct), latest 61.0% (week of 02 Nov); 2 weeks with too few answers left as gaps."
    )
    assert sparkline_words(_weekly([None]), formula="nps").startswith("No week of the period")


def test_a_target_is_a_dashed_line_inside_the_drawing_and_in_the_words() -> None:
    """A metric card's target: a dashed line at its level, the scale stretched to hold it (here above every
    week), said in its title and in the words; without a target, no line."""
    weekly = _weekly([3.0, None, 4.0])
    svg = ET.fromstring(sparkline_svg(weekly, formula="ces", target=5.0))
    (target,) = svg.findall(f"{SVG}line")
    assert target.get("stroke-dasharray") == "5 4"
    assert float(target.get("y1", "nan")) == float(target.get("y2", "nan")) == PAD  # the highest level drawn
    assert target.findtext(f"{SVG}title") == "Target 5.00 (the dashed line)"
    (first,), (second,) = sparkline_runs(weekly, formula="ces", target=5.0)
    assert (first.y, second.y) == (HEIGHT - PAD, HEIGHT / 2)  # 4.0 halfway between 3.0 and the target
    assert sparkline_words(weekly, formula="ces", target=5.0).endswith(". Target 5.00 (the dashed line).")
    assert not ET.fromstring(sparkline_svg(weekly, formula="ces")).findall(f"{SVG}line")


@given(st.lists(st.one_of(st.none(), st.floats(min_value=-100, max_value=100)), min_size=1, max_size=14))
def test_under_a_line_with_gaps_it_says_how_many_weeks_are_measured(values: list[float | None]) -> None:
    coverage = sparkline_coverage(_weekly(values))
    measured = sum(value is not None for value in values)
    if measured == len(values):
        assert coverage is None  # nothing to explain
    else:
        assert coverage == f"{measured} of {len(values)} weeks measured"

"""Metric maths against DESIGN.md's table, worked by hand, and rollup sums against raw answers."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from data_access import metrics
from data_access.metrics import Status
from data_access.models import Measure
from tests.data_access import metric_oracles as oracle


def _bands(measure: Measure, scores: list[float]) -> dict[str, float]:
    """Rollup columns for a list of raw answers, counted the way DESIGN.md defines the bands."""
    if measure == Measure.NPS:
        good, bad = sum(s >= 9 for s in scores), sum(s <= 6 for s in scores)
    elif measure in (Measure.CSAT, Measure.RATING):
        good, bad = sum(s >= 4 for s in scores), sum(s <= 2 for s in scores)
    elif measure == Measure.CES:
        good, bad = sum(s >= 5 for s in scores), sum(s <= 3 for s in scores)
    else:
        good, bad = sum(s > 0 for s in scores), sum(s < 0 for s in scores)
    return {"answers": len(scores), "score_sum": float(sum(scores)), "good": good, "bad": bad}


# --- NPS, CSAT, CES, sentiment ------------------------------------------------------------------


def test_nps_is_promoters_minus_detractors() -> None:
    """10 answers, 5 promoters, 2 passives, 3 detractors: NPS +20."""
    scores = [10, 9, 9, 10, 9, 8, 7, 6, 0, 3]
    assert oracle.nps(5, 3, 10) == pytest.approx(20.0)
    assert oracle.measure_value(Measure.NPS, **_bands(Measure.NPS, scores)) == pytest.approx(20.0)


def test_nps_ranges_from_minus_100_to_100() -> None:
    """All detractors is −100, all promoters +100, all passives 0."""
    assert oracle.measure_value(Measure.NPS, **_bands(Measure.NPS, [0, 6, 5])) == pytest.approx(-100.0)
    assert oracle.measure_value(Measure.NPS, **_bands(Measure.NPS, [9, 10])) == pytest.approx(100.0)
    assert oracle.measure_value(Measure.NPS, **_bands(Measure.NPS, [7, 8])) == pytest.approx(0.0)


def test_csat_is_top_two_box() -> None:
    """Answers 5, 4, 3, 2, 4, 4, 5, 5: six of eight are 4 or 5 → 75 %."""
    scores = [5, 4, 3, 2, 4, 4, 5, 5]
    assert oracle.measure_value(Measure.CSAT, **_bands(Measure.CSAT, scores)) == pytest.approx(75.0)
    assert oracle.top_box_share(6, 8) == pytest.approx(75.0)


def test_ces_is_the_mean_answer() -> None:
    """Answers 7, 5, 3, 1 on 1–7: mean 4.0."""
    assert oracle.measure_value(Measure.CES, **_bands(Measure.CES, [7, 5, 3, 1])) == pytest.approx(4.0)


def test_sentiment_counts_neutral_in_the_total() -> None:
    """3 positive, 1 negative, 4 neutral: (3 − 1) / 8 = +25, not (3 − 1) / 4."""
    scores = [0.8, 0.2, 1.0, -0.5, 0.0, 0.0, 0.0, 0.0]
    assert oracle.measure_value(Measure.SENTIMENT, **_bands(Measure.SENTIMENT, scores)) == pytest.approx(25.0)


@pytest.mark.parametrize("measure", list(Measure))
def test_a_measure_without_answers_has_no_value(measure: Measure) -> None:
    assert oracle.measure_value(measure, answers=0, score_sum=0.0, good=0, bad=0) is None


# --- conversion ---------------------------------------------------------------------------------


def test_conversion() -> None:
    """30 of 120 customers go on: conversion 0.25; nobody before → no value."""
    assert metrics.conversion(30, 120) == pytest.approx(0.25)
    assert metrics.conversion(5, 0) is None


def test_conversion_expression_agrees_with_the_scalar() -> None:
    frame = pl.DataFrame({"reached": [30, 0, 5], "previous": [120, 10, 0]})
    out = frame.select(metrics.conversion_expr("reached", "previous").alias("conversion"))
    expected = [metrics.conversion(r, p) for r, p in frame.iter_rows()]
    assert out["conversion"].to_list() == expected == [0.25, 0.0, None]


# --- status against target and health -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(50.0, Status.GREEN), (60.0, Status.GREEN), (45.0, Status.AMBER), (40.0, Status.AMBER), (39.9, Status.RED)],
)
def test_status_when_higher_is_better(value: float, expected: Status) -> None:
    """Target 50, warning band 10: 50 green, 40–50 amber, below 40 red."""
    assert metrics.status(value, target=50.0, warning=10.0, direction="higher") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3.0, Status.GREEN), (2.0, Status.GREEN), (3.4, Status.AMBER), (3.5, Status.AMBER), (3.6, Status.RED)],
)
def test_status_when_lower_is_better(value: float, expected: Status) -> None:
    """Target 3 days, warning band 0.5: at or under 3 green, up to 3.5 amber, above red."""
    assert metrics.status(value, target=3.0, warning=0.5, direction="lower") == expected


def test_status_without_value_or_target_is_no_data() -> None:
    assert metrics.status(None, target=50.0, warning=10.0, direction="higher") == Status.NO_DATA
    assert metrics.status(50.0, target=None, warning=10.0, direction="higher") == Status.NO_DATA


def test_status_expression_agrees_with_the_scalar() -> None:
    rows = [
        (value, target, warning, direction)
        for value in (None, 35.0, 40.0, 45.0, 50.0, 55.0, 60.0, 65.0)
        for target in (None, 50.0)
        for warning in (0.0, 10.0)
        for direction in ("higher", "lower")
    ]
    frame = pl.DataFrame(
        rows,
        schema={"value": pl.Float64, "target": pl.Float64, "warning": pl.Float64, "direction": pl.String},
        orient="row",
    )
    expected = [metrics.status(v, target=t, warning=w, direction=d).value for v, t, w, d in rows]
    assert frame.select(metrics.status_expr().alias("status"))["status"].to_list() == expected


def test_health() -> None:
    g, a, r, n = Status.GREEN, Status.AMBER, Status.RED, Status.NO_DATA
    assert metrics.health([g, g]) == (1.0, g)
    assert metrics.health([g, a, g, n]) == (pytest.approx(2 / 3), a)
    assert metrics.health([g, g, r]) == (pytest.approx(2 / 3), r)
    assert metrics.health([a, r]) == (0.0, r)
    # metrics without data neither help nor hurt
    assert metrics.health([g, n, n]) == (1.0, g)
    assert metrics.health([n, n]) == (None, n)
    assert metrics.health([]) == (None, n)


def test_change_and_improvement() -> None:
    assert metrics.change(30.0, 20.0) == pytest.approx(10.0)
    assert metrics.change(None, 20.0) is None
    assert metrics.change(30.0, None) is None
    frame = pl.DataFrame({"value": [30.0, 30.0], "previous_value": [20.0, 20.0], "direction": ["higher", "lower"]})
    assert frame.select(metrics.improvement_expr())["value"].to_list() == [10.0, -10.0]


# --- emotion ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measure", "low", "middle", "high"),
    [
        (Measure.NPS, 0.0, 5.0, 10.0),
        (Measure.CSAT, 1.0, 3.0, 5.0),
        (Measure.CES, 1.0, 4.0, 7.0),
        (Measure.RATING, 1.0, 3.0, 5.0),
        (Measure.SENTIMENT, -1.0, 0.0, 1.0),
    ],
)
def test_emotion_from_mean_maps_the_scale_onto_minus_two_to_two(
    measure: Measure, low: float, middle: float, high: float
) -> None:
    assert oracle.emotion_from_mean(measure, low) == pytest.approx(-2.0)
    assert oracle.emotion_from_mean(measure, middle) == pytest.approx(0.0)
    assert oracle.emotion_from_mean(measure, high) == pytest.approx(2.0)


def test_emotion_expression_agrees_with_the_scalar() -> None:
    frame = pl.DataFrame(
        {
            "measure": ["nps", "csat", "ces", "rating", "sentiment"],
            "answers": [4, 2, 5, 3, 4],
            "score_sum": [30.0, 9.0, 12.0, 6.0, -1.0],
        }
    )
    got = frame.select(metrics.emotion_expr())["emotion"].to_list()
    expected = [
        oracle.emotion_from_mean(Measure(m), s / n)
        for m, n, s in zip(frame["measure"], frame["answers"], frame["score_sum"], strict=True)
    ]
    assert got == pytest.approx(expected)
    assert got[0] == pytest.approx(1.0)  # NPS mean 7.5 → +1


# --- the polars expression over rollup columns ----------------------------------------------------


def test_measure_value_expression_is_null_below_the_minimum() -> None:
    """NPS from 10 answers is +20 with a minimum of 10, not enough data with a minimum of 11."""
    frame = pl.DataFrame({"measure": ["nps"], "answers": [10], "score_sum": [76.0], "good": [5], "bad": [3]})
    assert frame.select(metrics.measure_value_expr(10))["value"].to_list() == [pytest.approx(20.0)]
    assert frame.select(metrics.measure_value_expr(11))["value"].to_list() == [None]


def test_measure_value_expression_agrees_with_the_scalar() -> None:
    answers = {
        Measure.NPS: [10, 9, 9, 10, 9, 8, 7, 6, 0, 3],
        Measure.CSAT: [5, 4, 3, 2, 4, 4, 5, 5],
        Measure.CES: [7, 5, 3, 1],
        Measure.RATING: [5, 3, 2],
        Measure.SENTIMENT: [0.8, 0.2, 1.0, -0.5, 0.0, 0.0, 0.0, 0.0],
    }
    frame = pl.DataFrame([{"measure": m.value, **_bands(m, s)} for m, s in answers.items()])
    got = frame.select(metrics.measure_value_expr())["value"].to_list()
    expected = [oracle.measure_value(m, **_bands(m, s)) for m, s in answers.items()]
    assert got == pytest.approx(expected)
    assert got == pytest.approx([20.0, 75.0, 4.0, 10 / 3, 25.0])


# --- rollups are exact ------------------------------------------------------------------------------


def _answers(measure: Measure) -> st.SearchStrategy[list[float]]:
    scale = metrics.SCALES[measure]
    if measure == Measure.SENTIMENT:
        score = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False)
    else:
        score = st.integers(min_value=int(scale.low), max_value=int(scale.high)).map(float)
    return st.lists(score, min_size=1, max_size=60)


def _direct(measure: Measure, scores: list[float]) -> float:
    """The metric straight from DESIGN.md's definition, over raw answers."""
    n = len(scores)
    if measure == Measure.NPS:
        return 100 * sum(s >= 9 for s in scores) / n - 100 * sum(s <= 6 for s in scores) / n
    if measure == Measure.CSAT:
        return 100 * sum(s in (4, 5) for s in scores) / n
    if measure == Measure.SENTIMENT:
        return 100 * sum(s > 0 for s in scores) / n - 100 * sum(s < 0 for s in scores) / n
    return sum(scores) / n


def _rollup_rows(measure: Measure, scores: list[float], days: list[int]) -> list[dict[str, float]]:
    """Split the answers over days, one rollup row per day, banded by the module's own scales."""
    scale = metrics.SCALES[measure]
    by_day: dict[int, list[float]] = {}
    for score, day in zip(scores, days, strict=False):
        by_day.setdefault(day, []).append(score)
    for score in scores[len(days) :]:
        by_day.setdefault(0, []).append(score)
    return [
        {
            "answers": len(chunk),
            "score_sum": sum(chunk),
            "good": sum(s >= scale.good_from for s in chunk),
            "bad": sum(s <= scale.bad_to for s in chunk),
        }
        for chunk in by_day.values()
    ]


@pytest.mark.parametrize("measure", [m for m in Measure])
@given(data=st.data())
def test_measure_value_over_summed_rollups_equals_the_value_from_raw_answers(
    measure: Measure, data: st.DataObject
) -> None:
    """Rollups are exact: summing daily rows and applying the formula gives the raw-answer value."""
    scores = data.draw(_answers(measure))
    days = data.draw(st.lists(st.integers(min_value=0, max_value=5), max_size=len(scores)))
    rows = _rollup_rows(measure, scores, days)
    summed = {k: sum(r[k] for r in rows) for k in ("answers", "score_sum", "good", "bad")}
    value = oracle.measure_value(measure, **summed)  # type: ignore[arg-type]
    assert value is not None
    assert math.isclose(value, _direct(measure, scores), rel_tol=1e-9, abs_tol=1e-9)
    frame = pl.DataFrame([{"measure": measure.value, **r} for r in rows]).group_by("measure").agg(pl.all().sum())
    assert frame.select(metrics.measure_value_expr())["value"][0] == pytest.approx(value)

"""DESIGN.md's metric definitions written the slow, obvious way, one value at a time.

The app computes every metric as a polars expression over rollup columns (`data_access.metrics`); the
tests compare those expressions with these scalars, worked out independently.
"""

from __future__ import annotations

from data_access.metrics import SCALES
from data_access.models import Measure


def nps(promoters: int, detractors: int, answers: int) -> float | None:
    """% promoters − % detractors; NPS and sentiment share this shape."""
    return None if answers == 0 else 100.0 * (promoters - detractors) / answers


def top_box_share(good: int, answers: int) -> float | None:
    return None if answers == 0 else 100.0 * good / answers


def mean_score(score_sum: float, answers: int) -> float | None:
    return None if answers == 0 else score_sum / answers


def measure_value(measure: Measure, *, answers: int, score_sum: float, good: int, bad: int) -> float | None:
    """The headline value of a measure from its rollup counts."""
    if measure in (Measure.NPS, Measure.SENTIMENT):
        return nps(good, bad, answers)
    if measure == Measure.CSAT:
        return top_box_share(good, answers)
    return mean_score(score_sum, answers)


def emotion_from_mean(measure: Measure, mean: float) -> float:
    """A measure's mean answer on the map's emotion scale, −2 (very negative) .. +2."""
    scale = SCALES[measure]
    return -2.0 + 4.0 * (mean - scale.low) / (scale.high - scale.low)

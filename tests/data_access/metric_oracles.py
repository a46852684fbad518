"""DESIGN.md's metric definitions written the slow, obvious way, one value at a time.

The app computes every metric as a polars expression over rollup columns (`data_access.metrics`); the
tests compare those expressions with these scalars, worked out independently.
"""

from __future__ import annotations

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


def is_favourable(measure: Measure, score: float) -> bool:
    """DESIGN.md's favourable band: NPS 9–10, CSAT/rating 4–5, CES 5–7, sentiment above 0."""
    if measure == Measure.NPS:
        return score >= 9
    if measure in (Measure.CSAT, Measure.RATING):
        return score >= 4
    if measure == Measure.CES:
        return score >= 5
    return score > 0


def measured_emotion(answers: list[tuple[Measure, float]]) -> float | None:
    """Measured emotion of raw answers: 2 × (favourable answers − all other answers) ÷ answers."""
    if not answers:
        return None
    good = sum(is_favourable(m, s) for m, s in answers)
    others = sum(not is_favourable(m, s) for m, s in answers)
    return 2.0 * (good - others) / len(answers)


def health_colour(readings: list[tuple[float | None, int, float | None, float, str]], min_answers: int) -> str:
    """The health of (value, answers, target, warning, direction) metrics, worked out one case at a time."""
    colours = []
    for value, answers, target, warning, direction in readings:
        if value is None or answers < min_answers or target is None:
            continue  # unmeasured (or nothing to judge against): neither helps nor hurts
        gap = (target - value) if direction == "higher" else (value - target)
        colours.append("green" if gap <= 0 else "amber" if gap <= warning else "red")
    if not colours:
        return "no data"
    if "red" in colours:
        return "red"
    return "amber" if "amber" in colours else "green"

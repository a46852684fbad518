"""Metric maths: the one place where DESIGN.md's metric definitions are written down as code.

Everything here is pure: plain numbers in, plain numbers out, or polars expressions over the rollup
columns (`answers`, `score_sum`, `good`, `bad`). Every view reuses these, so a number means the same
thing on every page; how it reads on screen is `dashboard.format`'s job.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import polars as pl

from data_access.models import Direction, Measure


@dataclass(frozen=True)
class Scale:
    """The answer scale of a measure and the bands its favourable/unfavourable counts use."""

    low: float
    high: float
    good_from: float  # score >= good_from counts as favourable
    bad_to: float  # score <= bad_to counts as unfavourable
    label: str


SCALES: dict[Measure, Scale] = {
    # NPS: promoters 9–10, detractors 0–6
    Measure.NPS: Scale(0, 10, 9, 6, "0–10 likelihood to recommend"),
    # CSAT: top-2-box on 1–5
    Measure.CSAT: Scale(1, 5, 4, 2, "1–5 satisfaction"),
    # CES 2.0: 1–7 agreement with "it was easy"; 7 is the least effort
    Measure.CES: Scale(1, 7, 5, 3, "1–7 ease (7 = very easy)"),
    Measure.RATING: Scale(1, 5, 4, 2, "1–5 rating"),
    # sentiment: -1 (negative) .. +1 (positive); neutral is 0 and counts in the total. The bands are the
    # smallest floats either side of 0, so `>= good_from` means exactly `> 0` and `<= bad_to` exactly `< 0`.
    Measure.SENTIMENT: Scale(-1, 1, math.ulp(0.0), -math.ulp(0.0), "-1..+1 sentiment"),
}


class Formula(StrEnum):
    NPS = "nps"
    CSAT = "csat"
    CES = "ces"
    RATING = "rating"
    SENTIMENT = "sentiment"
    CONVERSION = "conversion"
    DROP_OFF = "drop_off"
    TIME_TO_NEXT = "time_to_next_stage"
    VOLUME = "volume"


# formulas whose value is a share (0..1): their scale is 1
SHARE_FORMULAS = (Formula.CONVERSION.value, Formula.DROP_OFF.value)


@dataclass(frozen=True)
class TargetScale:
    """How a metric's target and warning band are written in a map file: the unit people read on screen.

    Shares (conversion, drop-off) are written as percents, 95 for 95 %, and stored as fractions (÷ 100);
    every other formula is written and stored as shown. `high` None means no upper bound.
    """

    low: float
    high: float | None
    text: str
    factor: float = 1.0  # file value ÷ factor = stored value

    def holds(self, value: float) -> bool:
        return value >= self.low and (self.high is None or value <= self.high)

    def span(self) -> float | None:
        return None if self.high is None else self.high - self.low


TARGET_SCALES: dict[str, TargetScale] = {
    Formula.NPS: TargetScale(-100, 100, "NPS points, −100..100"),
    Formula.CSAT: TargetScale(0, 100, "a percent of answers 4 or 5, 0..100"),
    Formula.CES: TargetScale(1, 7, "a mean of 1–7 answers, 1..7"),
    Formula.RATING: TargetScale(1, 5, "a mean of 1–5 answers, 1..5"),
    Formula.SENTIMENT: TargetScale(-100, 100, "sentiment points (% positive − % negative), −100..100"),
    Formula.CONVERSION: TargetScale(0, 100, "a percent, 0..100 (95 means 95 %)", factor=100),
    Formula.DROP_OFF: TargetScale(0, 100, "a percent, 0..100 (5 means 5 %)", factor=100),
    Formula.TIME_TO_NEXT: TargetScale(0, None, "days, 0 or more"),
    Formula.VOLUME: TargetScale(0, None, "a count of events or answers, 0 or more"),
}


def stored_target(formula: str, written: float | None) -> float | None:
    """A target or warning as a map file writes it, in the unit the metric is computed in."""
    return None if written is None else written / TARGET_SCALES[formula].factor


def written_target(formula: str, stored: float | None) -> float | None:
    """A stored target or warning as a map file writes it (rounded: ×100 must not show 95.00000000000001)."""
    return None if stored is None else round(stored * TARGET_SCALES[formula].factor, 9)


# What a metric definition says, as every view's frames carry it: what it is, and how it is judged.
DEFINITION_COLUMNS: dict[str, pl.DataType | type] = {
    "key": pl.String,
    "label": pl.String,
    "formula": pl.String,
    "unit": pl.String,
    "direction": pl.String,
    "target": pl.Float64,
    "warning": pl.Float64,
}

FORMULA_LABELS: dict[str, str] = {
    Formula.NPS: "NPS: % promoters (9–10) − % detractors (0–6)",
    Formula.CSAT: "CSAT: % of answers 4 or 5 on 1–5",
    Formula.CES: "CES: mean of 1–7 ease answers (7 = very easy)",
    Formula.RATING: "Rating: mean of 1–5 answers",
    Formula.SENTIMENT: "Sentiment: % positive − % negative",
    Formula.CONVERSION: "Conversion: customers reaching this stage ÷ customers reaching the one before",
    Formula.DROP_OFF: "Drop-off: 1 − conversion",
    Formula.TIME_TO_NEXT: "Time to next stage: median days from entering to entering the next",
    Formula.VOLUME: "Volume: events or answers in the period",
}


# --- scalar formulas ----------------------------------------------------------------------------


def conversion(reached: int, previous: int) -> float | None:
    """A cohort's conversion: of the `previous` customers who first reached a stage or step (the cohort),
    the `reached` who went on to the next within the window; None for an empty cohort. Since every
    converted customer belongs to the cohort, it is never above 1."""
    return None if previous == 0 else reached / previous


def median_from_histogram(counts: Mapping[int, int], bin_width: float) -> float | None:
    """The median of durations counted in bins of `bin_width` (bin i holds [i·width, (i+1)·width)).

    Each middle value is read as its bin's midpoint, so the result is within half a bin of the exact
    median (the mean of the two middle values when the count is even). None when nothing was counted.
    """
    total = sum(count for count in counts.values() if count > 0)
    if total == 0:
        return None
    wanted = sorted({(total - 1) // 2, total // 2})  # 0-based ranks of the middle value(s)
    found: list[float] = []
    seen = 0
    for index in sorted(counts):
        seen += max(counts[index], 0)
        while wanted and wanted[0] < seen:
            wanted.pop(0)
            found.append((index + 0.5) * bin_width)
    if total % 2:
        return found[0]
    return (found[0] + found[-1]) / 2


# --- status against target ----------------------------------------------------------------------


class Status(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    NO_DATA = "no data"


def status(value: float | None, *, target: float | None, warning: float, direction: str) -> Status:
    """Green at or better than target, amber within the warning band below it, red beyond."""
    if value is None or target is None:
        return Status.NO_DATA
    shortfall = target - value if direction == Direction.HIGHER else value - target
    if shortfall <= 0:
        return Status.GREEN
    if shortfall <= warning:
        return Status.AMBER
    return Status.RED


@dataclass(frozen=True)
class Reading:
    """One metric of a cell, a tile or a moment of truth: its value on the answers behind it, and its target."""

    value: float | None
    answers: int
    target: float | None
    warning: float
    direction: str


def is_measured(reading: Reading, *, min_answers: int) -> bool:
    """A metric is measured when it has a value from at least `min_answers` answers; else it is unmeasured."""
    return reading.value is not None and reading.answers >= min_answers


def judge(reading: Reading, *, min_answers: int) -> Status:
    """The status of one metric: 'no data' while unmeasured (never on target), else against its target."""
    if not is_measured(reading, min_answers=min_answers):
        return Status.NO_DATA
    return status(reading.value, target=reading.target, warning=reading.warning, direction=reading.direction)


@dataclass(frozen=True)
class Health:
    """How a set of metrics stands: `share` of the judged ones on target and the colour of the whole.

    `measured` of `metrics` have enough answers; `judged` of those also have a target.
    """

    share: float | None
    status: Status
    measured: int
    judged: int
    metrics: int

    @property
    def on_target(self) -> int:
        return 0 if self.share is None else round(self.share * self.judged)


def health(readings: Sequence[Reading], *, min_answers: int) -> Health:
    """The health of a cell or a moment of truth from its metrics.

    Unmeasured metrics (fewer than `min_answers` answers) are left out, never counted as on target.
    Green only when at least one metric is judged and every judged one is on target; red when any judged
    one is beyond its warning band; amber otherwise; 'no data' when nothing is judged.
    """
    measured = [r for r in readings if is_measured(r, min_answers=min_answers)]
    judged = [s for s in (judge(r, min_answers=min_answers) for r in measured) if s != Status.NO_DATA]
    counts = {"measured": len(measured), "judged": len(judged), "metrics": len(readings)}
    if not judged:
        return Health(None, Status.NO_DATA, **counts)
    share = sum(s == Status.GREEN for s in judged) / len(judged)
    if Status.RED in judged:
        return Health(share, Status.RED, **counts)
    if Status.AMBER in judged:
        return Health(share, Status.AMBER, **counts)
    return Health(share, Status.GREEN, **counts)


def worst_status_expr(status: str = "status") -> pl.Expr:
    """The health of a group of cells (a stage) from their health statuses: red if any is red, else amber if
    any is amber, else green if any is green, else 'no data'. It is `health` over the union of the cells'
    metrics, as each cell's status is already the worst of its own judged metrics."""
    column = pl.col(status)
    return (
        pl.when((column == Status.RED.value).any())
        .then(pl.lit(Status.RED.value))
        .when((column == Status.AMBER.value).any())
        .then(pl.lit(Status.AMBER.value))
        .when((column == Status.GREEN.value).any())
        .then(pl.lit(Status.GREEN.value))
        .otherwise(pl.lit(Status.NO_DATA.value))
    )


def stage_status(statuses: Iterable[str]) -> Status:
    """A stage's status, the one the stage strip, the journey page, the slides and the report show: `health`
    over the metrics its journey page lists (its own, its touchpoints', and the journey's feedback metrics on
    its answers), given their statuses. Red when any is off target, amber when any is near target, green when
    at least one is judged and all judged are on target; 'no data' when none is judged."""
    found = set(statuses)
    for status in (Status.RED, Status.AMBER, Status.GREEN):
        if status.value in found:
            return status
    return Status.NO_DATA


STATUS_RANK = {Status.RED.value: 0, Status.AMBER.value: 1, Status.GREEN.value: 2, Status.NO_DATA.value: 3}


def worst_first(judged: pl.DataFrame) -> pl.DataFrame:
    """Metrics (columns value, target, warning, direction, status) worst first: by status (off target, near,
    on, not enough data), then by how many warning bands they fall short of target (a share of a band when
    the band is zero-wide counts as the shortfall itself), so units do not decide which reads worst."""
    shortfall = (
        pl.when(pl.col("direction") == Direction.LOWER.value)
        .then(pl.col("value") - pl.col("target"))
        .otherwise(pl.col("target") - pl.col("value"))
    )
    bands = shortfall / pl.when(pl.col("warning") > 0).then(pl.col("warning")).otherwise(1.0)
    return judged.sort(
        pl.col("status").replace_strict(STATUS_RANK, default=len(STATUS_RANK)), bands, descending=[False, True],
        nulls_last=True,
    )  # fmt: skip


def change(current: float | None, previous: float | None) -> float | None:
    if current is None or previous is None:
        return None
    return current - previous


# --- polars expressions over rollup columns -----------------------------------------------------


def measure_value_expr(min_answers: int = 1) -> pl.Expr:
    """Value of the measure in column `measure` from summed rollup columns; null below `min_answers`."""
    answers = pl.col("answers")
    net = 100.0 * (pl.col("good") - pl.col("bad")) / answers
    top_box = 100.0 * pl.col("good") / answers
    mean = pl.col("score_sum") / answers
    value = (
        pl.when(pl.col("measure").is_in([Measure.NPS.value, Measure.SENTIMENT.value]))
        .then(net)
        .when(pl.col("measure") == Measure.CSAT.value)
        .then(top_box)
        .otherwise(mean)
    )
    return pl.when(answers >= min_answers).then(value).otherwise(None).alias("value")


def emotion(good: int, answers: int) -> float | None:
    """Measured emotion on −2..+2: 2 × (share of favourable answers − share of the other answers).

    Favourable is each measure's top band from `SCALES` (NPS 9–10, CSAT and rating 4–5, CES 5–7, sentiment
    above 0); counts are summed over every measure, so each answer weighs the same. +2 when every answer is
    favourable, 0 when half are, −2 when none is: a stage reads positive only when most of its answers are
    favourable, and a stage where most answers are middling or low reads negative (as CSAT's top-2-box does).
    """
    return None if answers <= 0 else 2.0 * (2 * good - answers) / answers


def emotion_agg_expr(min_answers: int = 1) -> pl.Expr:
    """`emotion()` as an aggregation over rollup rows (`good`, `answers`); null below `min_answers` answers."""
    answers = pl.col("answers").sum()
    value = 2.0 * (2 * pl.col("good").sum() - answers) / answers
    return pl.when(answers >= max(min_answers, 1)).then(value).otherwise(None).alias("emotion")


# --- journey map: funnel, status and change as expressions --------------------------------------


def conversion_expr(reached: str, previous: str) -> pl.Expr:
    """`conversion` over columns: the cohort's converted ÷ the cohort; null for an empty cohort."""
    return pl.when(pl.col(previous) > 0).then(pl.col(reached) / pl.col(previous)).otherwise(None)


def status_expr(value: str = "value") -> pl.Expr:
    """`status()` over columns `value`, `target`, `warning` and `direction`, as the Status string."""
    shortfall = (
        pl.when(pl.col("direction") == Direction.LOWER.value)
        .then(pl.col(value) - pl.col("target"))
        .otherwise(pl.col("target") - pl.col(value))
    )
    return (
        pl.when(pl.col(value).is_null() | pl.col("target").is_null())
        .then(pl.lit(Status.NO_DATA.value))
        .when(shortfall <= 0)
        .then(pl.lit(Status.GREEN.value))
        .when(shortfall <= pl.col("warning"))
        .then(pl.lit(Status.AMBER.value))
        .otherwise(pl.lit(Status.RED.value))
    )


def improvement_expr(current: str = "value", previous: str = "previous_value") -> pl.Expr:
    """Change against the previous period, signed so that positive is better in the metric's direction."""
    delta = pl.col(current) - pl.col(previous)
    return pl.when(pl.col("direction") == Direction.LOWER.value).then(-delta).otherwise(delta)


def value_span(measure: Measure) -> float:
    """Width of the range a measure's headline value can take: 200 for net shares, 100 for CSAT, else the scale."""
    if measure in (Measure.NPS, Measure.SENTIMENT):
        return 200.0
    if measure == Measure.CSAT:
        return 100.0
    scale = SCALES[measure]
    return scale.high - scale.low

"""A weekly sparkline as a small SVG image, drawn with the page instead of as a Vega chart: the overview's
headline tiles and the journey page's metric cards (these with their target as a dashed line).

Five Vega charts (one per tile) cost the browser about as much as the grid itself; a line of a dozen
points needs no chart library. The SVG holds only our own numbers and dates, formatted by
`dashboard.format`, and every text in it is escaped all the same.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape

import polars as pl

from dashboard import format
from dashboard.charts.palette import INK, MEASURED

WIDTH, HEIGHT = 240.0, 44.0  # the drawing's size; the image scales to the tile's width
PAD = 5.0  # room for the dots at the edges
DOT = 5  # the dots' diameter


@dataclass(frozen=True)
class SparkPoint:
    """One measured week: its place in the view box and its hover title."""

    x: float
    y: float
    title: str


def _title(week: dt.date, value: float, answers: int | None, formula: str) -> str:
    shown = f"Week of {week:%d %b %Y}: {format.value_text(value, formula)}"
    return shown if answers is None else f"{shown} ({format.count_text(answers)} answers)"


def _y_scale(values: list[float | None], target: float | None) -> tuple[float, float] | None:
    """The lowest and highest value the drawing spans: the measured weeks and the target; None if no week is
    measured."""
    measured = [v for v in values if v is not None]
    if not measured:
        return None
    spanned = measured if target is None else [*measured, target]
    return min(spanned), max(spanned)


def _y(value: float, low: float, high: float) -> float:
    return HEIGHT / 2 if high == low else PAD + (HEIGHT - 2 * PAD) * (high - value) / (high - low)


def sparkline_runs(weekly: pl.DataFrame, *, formula: str, target: float | None = None) -> list[list[SparkPoint]]:
    """The measured weeks in runs of consecutive weeks: a week with too few answers (a null value) ends a run,
    so it is a gap in the line, never a zero. Columns: week, value and (optional) answers.

    x follows the weeks' dates across the period; y spans the measured values (not from zero) and the
    `target` when given, the highest at the top; a flat series sits in the middle.
    """
    rows = weekly.sort("week")
    weeks: list[dt.date] = rows["week"].to_list()
    values: list[float | None] = rows["value"].to_list()
    answers: list[int | None] = rows["answers"].to_list() if "answers" in rows.columns else [None] * len(weeks)
    scale = _y_scale(values, target)
    if scale is None:
        return []
    first, span = weeks[0], max((weeks[-1] - weeks[0]).days, 1)
    low, high = scale

    def x(week: dt.date) -> float:
        return PAD + (WIDTH - 2 * PAD) * (week - first).days / span if len(weeks) > 1 else WIDTH / 2

    def y(value: float) -> float:
        return _y(value, low, high)

    runs: list[list[SparkPoint]] = [[]]
    for week, value, count in zip(weeks, values, answers, strict=True):
        if value is None:
            runs.append([])
            continue
        runs[-1].append(SparkPoint(round(x(week), 2), round(y(value), 2), _title(week, value, count, formula)))
    return [run for run in runs if run]


def sparkline_svg(weekly: pl.DataFrame, *, formula: str, target: float | None = None) -> str:
    """The sparkline as SVG markup: a line per run of measured weeks and a dot per measured week, over the
    `target` as a dashed line across the period when given (and some week is measured).

    Shown as an image (Streamlit keeps SVG out of HTML elements), so its numbers are told in words by
    `sparkline_words`; the dots' titles still say them where the SVG is opened on its own.
    """
    runs = sparkline_runs(weekly, formula=formula, target=target)
    stroke = f'fill="none" stroke="{MEASURED}" stroke-linecap="round" stroke-linejoin="round"'
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:g} {HEIGHT:g}" '
        f'width="{WIDTH:g}" height="{HEIGHT:g}">'
    ]
    scale = _y_scale(weekly["value"].to_list(), target)
    if target is not None and scale is not None:
        level = round(_y(target, *scale), 2)
        parts.append(
            f'<line x1="{PAD:g}" y1="{level:g}" x2="{WIDTH - PAD:g}" y2="{level:g}" stroke="{INK}" '
            f'stroke-width="1.5" stroke-dasharray="5 4"><title>{escape(_target_words(target, formula))}</title></line>'
        )
    for run in runs:
        if len(run) > 1:
            points = " ".join(f"{p.x:g},{p.y:g}" for p in run)
            parts.append(f'<polyline points="{points}" {stroke} stroke-width="2"/>')
    for run in runs:
        for point in run:
            # a zero-length round-capped stroke: a dot
            parts.append(
                f'<path d="M{point.x:g} {point.y:g}h0" {stroke} stroke-width="{DOT}">'
                f"<title>{escape(point.title)}</title></path>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _target_words(target: float, formula: str) -> str:
    return f"Target {format.value_text(target, formula)} (the dashed line)"


def sparkline_coverage(weekly: pl.DataFrame) -> str | None:
    """Under a sparkline with gaps, how many of its weeks are drawn ("2 of 13 weeks measured"), so that a line
    of two dots says why at a glance; None when every week is measured."""
    measured = weekly["value"].drop_nulls().len()
    if measured == weekly.height:
        return None
    return f"{measured} of {weekly.height} weeks measured"


def sparkline_words(weekly: pl.DataFrame, *, formula: str, target: float | None = None) -> str:
    """What the sparkline shows, in words (its image's alternative text and the tile's help): the weeks it
    spans, its lowest, highest and latest measured week, how many weeks are gaps, and the target when drawn."""
    rows = weekly.sort("week")
    measured = rows.filter(pl.col("value").is_not_null())
    if measured.is_empty():
        return "No week of the period has enough answers for a weekly value."

    def week_value(row: dict[str, object]) -> str:
        week = row["week"]
        value = row["value"]
        assert isinstance(week, dt.date) and isinstance(value, float | int)
        return f"{format.value_text(float(value), formula)} (week of {week:%d %b})"

    lowest = measured.sort("value", "week").row(0, named=True)
    highest = measured.sort("value", "week", descending=[True, False]).row(0, named=True)
    latest = measured.row(-1, named=True)
    gaps = rows.height - measured.height
    first, last = rows["week"][0], rows["week"][-1]
    gap_words = "" if gaps == 0 else f"; {gaps} week{'' if gaps == 1 else 's'} with too few answers left as gaps"
    target_words = "" if target is None else f" {_target_words(target, formula)}."
    return (
        f"Weekly values, weeks of {first:%d %b} – {last:%d %b %Y}: lowest {week_value(lowest)}, "
        f"highest {week_value(highest)}, latest {week_value(latest)}{gap_words}.{target_words}"
    )

"""How Journey Atlas writes a number: every value, change, target and status word on the pages, the
slides, the PDF report and the CSV comes from here, so a metric reads the same wherever it is shown.

One text per metric, from the table `RULES` (the scalar functions and the polars expressions both read
it, so the two cannot drift):

| formula                          | value        | change       |
| -------------------------------- | ------------ | ------------ |
| NPS, sentiment                   | "+12"        | "+4"         |
| CSAT                             | "81.3%"      | "+4.3 pts"   |
| conversion, drop-off (0..1)      | "92.3%"      | "+4.3 pts"   |
| CES, rating (scale in the label) | "5.42"       | "+0.12"      |
| time to next stage               | "4.5 days"   | "+0.5 days"  |
| volume                           | "12,345"     | "+1,234"     |
| health (share of metrics)        | "67%"        | "+33 pts"    |

- Net scores (NPS, sentiment) carry their sign; other values only a minus. A value that rounds to zero
  has no sign.
- Changes are signed; what is a percentage moves in points. A change that rounds to zero reads "±0",
  neutral (no colour, no arrow).
- Halves round away from zero: a CSAT of 81.25 reads "81.3%".
- A target reads like a value of its metric. No value reads "—" (em dash).
- Status words, once: on target, near target, off target, not enough data; their chart colours are in
  `charts.palette`, their badge colours here.

Its parts, each written from the rules here: `format.lanes` (lane cards: the journey page, the slides,
the PDF; `format.lane_texts`), `format.charts` (texts drawn inside the experience map's charts),
`format.answers` (what a journey known from its answers shows, the period caption).
"""

from __future__ import annotations

import decimal
import html
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import polars as pl

from data_access.conversions import CohortCoverage
from data_access.detection import REASONS
from data_access.experience_map.assembly import SHORT_LABELS
from data_access.journey_map.content import open_counts
from data_access.metrics import Formula, Status

NO_VALUE = "—"
NO_CHANGE = "±0"
HEALTH = "health"  # the experience map's cell health: a share of metrics on target, like a formula here


@dataclass(frozen=True)
class TextRule:
    """How one formula's numbers are written."""

    factor: int = 1  # shares (0..1) are shown ×100
    decimals: int = 0
    signed: bool = False  # a value carries "+" (net scores)
    suffix: str = ""  # after a value
    change_suffix: str = ""  # after a change
    thousands: bool = False  # "12,345"
    axis_decimals: int | None = None  # a chart axis's decimals, when fewer than the value's


_NET = TextRule(signed=True)
_PERCENT = TextRule(decimals=1, suffix="%", change_suffix=" pts", axis_decimals=0)
_SHARE = TextRule(factor=100, decimals=1, suffix="%", change_suffix=" pts", axis_decimals=0)
_MEAN = TextRule(decimals=2)

RULES: Mapping[str, TextRule] = {
    Formula.NPS: _NET,
    Formula.SENTIMENT: _NET,
    Formula.CSAT: _PERCENT,
    Formula.CONVERSION: _SHARE,
    Formula.DROP_OFF: _SHARE,
    Formula.CES: _MEAN,
    Formula.RATING: _MEAN,
    Formula.TIME_TO_NEXT: TextRule(decimals=1, suffix=" days", change_suffix=" days", axis_decimals=0),
    Formula.VOLUME: TextRule(thousands=True),
    HEALTH: TextRule(factor=100, suffix="%", change_suffix=" pts"),
}
DEFAULT_RULE = TextRule(decimals=1)

BadgeColour = Literal["green", "orange", "red", "gray"]
STATUS_WORDS: Mapping[str, str] = {
    Status.GREEN: "on target",
    Status.AMBER: "near target",
    Status.RED: "off target",
    Status.NO_DATA: "not enough data",
}
BADGE_COLOURS: Mapping[str, BadgeColour] = {
    Status.GREEN: "green",
    Status.AMBER: "orange",
    Status.RED: "red",
    Status.NO_DATA: "gray",
}


def rule(formula: str) -> TextRule:
    return RULES.get(formula, DEFAULT_RULE)


# --- scalars ---------------------------------------------------------------------------------------


def _units(amount: float, text_rule: TextRule) -> int:
    """|amount| in the rule's smallest shown unit, halves away from zero (as polars' `half_away_from_zero`)."""
    scaled = abs(amount * (text_rule.factor * 10**text_rule.decimals))
    return int(decimal.Decimal(scaled).to_integral_value(rounding=decimal.ROUND_HALF_UP))


def _digits(units: int, text_rule: TextRule) -> str:
    whole, fraction = divmod(units, 10**text_rule.decimals)
    text = f"{whole:,}" if text_rule.thousands else str(whole)
    return f"{text}.{fraction:0{text_rule.decimals}d}" if text_rule.decimals else text


def value_text(value: float | None, formula: str) -> str:
    """A metric's value (or target) as people read it, e.g. "+12", "81.3%", "5.42", "4.5 days", "—"."""
    if value is None or math.isnan(value):
        return NO_VALUE
    text_rule = rule(formula)
    units = _units(value, text_rule)
    sign = "" if units == 0 else "-" if value < 0 else "+" if text_rule.signed else ""
    return sign + _digits(units, text_rule) + text_rule.suffix


def change_text(change: float | None, formula: str) -> str:
    """A change of a metric's value, signed, percentages in points: "+4", "+4.3 pts", "-0.12", "±0", "—"."""
    if change is None or math.isnan(change):
        return NO_VALUE
    text_rule = rule(formula)
    units = _units(change, text_rule)
    if units == 0:
        return NO_CHANGE
    return ("-" if change < 0 else "+") + _digits(units, text_rule) + text_rule.change_suffix


def count_text(count: int) -> str:
    """A count of answers, customers or events, as volume reads: "12,345"."""
    return value_text(count, Formula.VOLUME)


def days_text(days: int) -> str:
    """A number of days: "1 day", "365 days"."""
    return f"{count_text(days)} day{'' if days == 1 else 's'}"


def open_findings_text(items: pl.DataFrame) -> str:
    """Open pain points and opportunities among a view's lane items ("open" as `content.is_open_expr`)."""
    pain, opportunities = open_counts(items).row(0)
    return (
        f"{count_text(pain)} open pain point{'' if pain == 1 else 's'} · "
        f"{count_text(opportunities)} open opportunit{'y' if opportunities == 1 else 'ies'}"
    )


def target_text(target: float | None, formula: str) -> str:
    """A target as its card says it: "target 80.0%", or "no target"."""
    return "no target" if target is None else f"target {value_text(target, formula)}"


def delta_colour(change: str, direction: str) -> Literal["normal", "inverse", "off"]:
    """How `st.metric` colours a change: green when the move is good in the metric's direction (a fall of a
    lower-is-better metric is green), and not at all when there is none ("±0" or "—")."""
    if change in (NO_CHANGE, NO_VALUE):
        return "off"
    return "inverse" if direction == "lower" else "normal"


def delta_arrow(change: str) -> Literal["auto", "off"]:
    """`st.metric`'s arrow: none for a change that rounds to zero or is missing."""
    return "off" if change in (NO_CHANGE, NO_VALUE) else "auto"


def status_text(status: str | None) -> str:
    """A status in words: on target, near target, off target or not enough data."""
    return STATUS_WORDS.get(status or Status.NO_DATA, STATUS_WORDS[Status.NO_DATA])


def status_badge(status: str | None) -> tuple[str, BadgeColour]:
    """The status word and the colour of its badge."""
    key = status if status is not None and status in STATUS_WORDS else Status.NO_DATA
    return STATUS_WORDS[key], BADGE_COLOURS[key]


NOT_YET_KNOWN = "not yet known"
# formulas counted on cohorts: only the cohorts whose conversion window has closed count
COHORT_FORMULAS = frozenset({Formula.CONVERSION.value, Formula.DROP_OFF.value, Formula.TIME_TO_NEXT.value})


def cohort_status_badge(status: str | None, *, value: float | None, cohorts: CohortCoverage) -> tuple[str, BadgeColour]:
    """A conversion's status word and badge colour: grey "not yet known" when every cohort of the period is
    still inside its window (never coloured as good or bad), else `status_badge`."""
    if value is None and cohorts.not_yet_known:
        return NOT_YET_KNOWN, BADGE_COLOURS[Status.NO_DATA]
    return status_badge(status)


def metric_badge(metric: Mapping[str, object], cohorts: CohortCoverage) -> tuple[str, BadgeColour]:
    """A linked metric's status word and badge colour (a `stage_metrics` row): a conversion, drop-off or
    time to next stage whose cohorts are all still open reads "not yet known"."""
    status = metric.get("status")
    status_key = status if isinstance(status, str) else None
    if metric.get("formula") in COHORT_FORMULAS:
        value = metric.get("value")
        return cohort_status_badge(status_key, value=value if isinstance(value, float) else None, cohorts=cohorts)
    return status_badge(status_key)


def cohort_tag(cohorts: CohortCoverage | None) -> str | None:
    """`cohort_note` in a few words, for a tile: "Cohorts to 01 Oct 2026 (30-day window)"."""
    if cohorts is None or (cohorts.through is None and not cohorts.not_yet_known):
        return None
    if cohorts.not_yet_known:
        return f"All cohorts still open ({cohorts.window_days}-day window)"
    return f"Cohorts to {cohorts.through:%d %b %Y} ({cohorts.window_days}-day window)"


def cohort_note(cohorts: CohortCoverage | None) -> str | None:
    """What a conversion counts, when some cohorts of the period are left out: "Cohorts entering up to 31 Oct
    2026; later ones are still inside their 30-day window." None when every cohort of the period has closed."""
    if cohorts is None:
        return None
    window = f"{cohorts.window_days}-day conversion window"
    if cohorts.not_yet_known:
        return f"Conversion not yet known: every cohort of the period is still inside its {window}."
    if cohorts.through is None:
        return None
    return f"Cohorts entering up to {cohorts.through:%d %b %Y}; later ones are still inside their {window}."


def chart_formats(formula: str) -> tuple[str, str]:
    """d3 formats of a metric on a chart, for its axis and its tooltips, reading like `value_text`.

    A share is written by d3 ×100 with "%"; other suffixes (%, days) are left to the chart's title.
    """
    text_rule = rule(formula)

    def d3(decimals: int) -> str:
        sign = "+" if text_rule.signed else ""
        group = "," if text_rule.thousands else ""
        return f"{sign}{group}.{decimals}{'%' if text_rule.factor == 100 else 'f'}"

    axis = text_rule.decimals if text_rule.axis_decimals is None else text_rule.axis_decimals
    return d3(axis), d3(text_rule.decimals)


# --- the same rules as polars expressions ----------------------------------------------------------


def _rule_column(formula: pl.Expr, field: str) -> pl.Expr:
    """A field of each row's rule, looked up by its formula."""
    default = getattr(DEFAULT_RULE, field)
    mapping = {str(name): getattr(text_rule, field) for name, text_rule in RULES.items()}
    dtype = pl.String if isinstance(default, str) else pl.Boolean if isinstance(default, bool) else pl.Int64
    return formula.replace_strict(mapping, default=default, return_dtype=dtype)


def _units_expr(amount: pl.Expr, formula: pl.Expr) -> pl.Expr:
    scale = _rule_column(formula, "factor") * pl.lit(10).pow(_rule_column(formula, "decimals"))
    return (amount * scale).abs().round(0, mode="half_away_from_zero").cast(pl.Int64)


def _digits_expr(units: pl.Expr, formula: pl.Expr) -> pl.Expr:
    decimals = _rule_column(formula, "decimals")
    step = pl.lit(10).pow(decimals).cast(pl.Int64)
    whole = (units // step).cast(pl.String)
    grouped = whole.str.reverse().str.extract_all(r"\d{1,3}").list.join(",").str.reverse()
    whole = pl.when(_rule_column(formula, "thousands")).then(grouped).otherwise(whole)
    fraction = (units % step).cast(pl.String).str.zfill(decimals)
    return pl.when(decimals > 0).then(pl.concat_str(whole, pl.lit("."), fraction)).otherwise(whole)


def value_expr(value: pl.Expr, formula: pl.Expr) -> pl.Expr:
    """`value_text` over columns: each row's value written by its formula's rule; null reads "—"."""
    value = value.cast(pl.Float64).fill_nan(None)
    units = _units_expr(value, formula)
    sign = (
        pl.when(units == 0)
        .then(pl.lit(""))
        .when(value < 0)
        .then(pl.lit("-"))
        .when(_rule_column(formula, "signed"))
        .then(pl.lit("+"))
        .otherwise(pl.lit(""))
    )
    text = pl.concat_str(sign, _digits_expr(units, formula), _rule_column(formula, "suffix"))
    return pl.when(value.is_null()).then(pl.lit(NO_VALUE)).otherwise(text)


def change_expr(change: pl.Expr, formula: pl.Expr) -> pl.Expr:
    """`change_text` over columns; null reads "—", a change that rounds to zero "±0"."""
    change = change.cast(pl.Float64).fill_nan(None)
    units = _units_expr(change, formula)
    sign = pl.when(change < 0).then(pl.lit("-")).otherwise(pl.lit("+"))
    text = pl.concat_str(sign, _digits_expr(units, formula), _rule_column(formula, "change_suffix"))
    return pl.when(change.is_null()).then(pl.lit(NO_VALUE)).when(units == 0).then(pl.lit(NO_CHANGE)).otherwise(text)


def status_expr(column: str) -> pl.Expr:
    """A status column in words ("off target", not "red"), named as the column."""
    words = {str(status): word for status, word in STATUS_WORDS.items()}
    return pl.col(column).replace_strict(words, default=words[Status.NO_DATA], return_dtype=pl.String).alias(column)


def measure_expr(column: str) -> pl.Expr:
    """A feedback measure as the tiles name it ("NPS", "CES", "Sentiment"), named as the column."""
    return pl.col(column).replace_strict(SHORT_LABELS, default=pl.col(column)).alias(column)


def count_expr(count: pl.Expr) -> pl.Expr:
    """A count with thousands separators, as volume reads: "12,345"."""
    return value_expr(count, pl.lit(Formula.VOLUME.value))


# --- sentences and labels built from numbers -------------------------------------------------------


def grid_labels() -> list[pl.Expr]:
    """Texts of the experience map's touchpoint grid from its numbers (`experience_map.touchpoint_grid`).

    `value_label` is drawn in the cell (★ for a moment of truth; "n=…" answers when too few; "no metric" in
    the health view when the cell has answers but the map defines no metric that reads them), the
    `<measure>_label` columns feed its tooltip.
    """
    no_metric = (pl.col("metrics") == 0) & (pl.col("answers") > 0)
    value = (
        # answers that no metric of the map reads: said so, not mistaken for too few answers
        pl.when(pl.col("value").is_null() & (pl.col("metric") == "health") & no_metric)
        .then(pl.lit("no metric"))
        .when(pl.col("value").is_null())
        .then(pl.format("n={}", pl.col("value_answers")))
        .otherwise(value_expr(pl.col("value"), pl.col("metric")))
    )
    star = pl.when(pl.col("moment_of_truth")).then(pl.lit("★ ")).otherwise(pl.lit(""))
    measures = [
        pl.when(pl.col(measure).is_null())
        .then(pl.format("not enough data ({} answers)", count_expr(pl.col(f"{measure}_answers"))))
        .otherwise(
            pl.format(
                "{} ({} answers)",
                value_expr(pl.col(measure), pl.lit(measure)),
                count_expr(pl.col(f"{measure}_answers")),
            )
        )
        .alias(f"{measure}_label")
        for measure in ("nps", "csat", "ces")
    ]
    return [pl.concat_str(star, value).alias("value_label"), *measures, health_label_expr()]


def health_label_expr() -> pl.Expr:
    """A cell's health in words from its counts: "2 of 3 metrics measured · 1 of 2 on target".

    Columns `metrics`, `measured` (enough answers), `judged` (measured and with a target), `on_target`.
    Nothing judged reads "not enough data", whatever the cell's other numbers; answers that no metric reads
    (columns `answers`, `metrics` 0) say so.
    """
    on_target = pl.format("{} of {} on target", "on_target", "judged")
    return (
        pl.when((pl.col("metrics") == 0) & (pl.col("answers") > 0))
        .then(pl.format("no metric reads these {} answers", count_expr(pl.col("answers"))))
        .when(pl.col("judged") == 0)
        .then(pl.format("not enough data ({} of {} metrics measured)", "measured", "metrics"))
        .when(pl.col("measured") < pl.col("metrics"))
        .then(pl.format("{} of {} metrics measured · {}", "measured", "metrics", on_target))
        .otherwise(pl.format("{} of {} metrics on target", "on_target", "judged"))
        .alias("health_label")
    )


def finding_evidence() -> pl.Expr:
    """Each finding of `detection.detect_pain_points` in a sentence, from its numbers."""
    misses_target, got_worse, _drop_off_stands_out = REASONS
    formula = pl.col("formula")
    value, target = value_expr(pl.col("value"), formula), value_expr(pl.col("target"), formula)
    return (
        pl.when(pl.col("reason") == misses_target)
        .then(pl.format("{} is {} against a target of {}", "metric", value, target))
        .when(pl.col("reason") == got_worse)
        .then(
            pl.format(
                "{} went from {} to {} ({})",
                "metric",
                value_expr(pl.col("previous_value"), formula),
                value,
                change_expr(pl.col("change"), formula),
            )
        )
        .otherwise(
            pl.format(
                "{} of the {} customers who reached the step before did not reach this one; the stage's median "
                "step drop-off is {}",
                value,
                count_expr(pl.col("base")),
                target,
            )
        )
        .alias("evidence")
    )


# --- people's text shown literally -------------------------------------------------------------

MARKDOWN_SPECIALS = r"([\\`*_{}\[\]<>()#+\-.!|~$:])"


def escaped(column: str | pl.Expr) -> pl.Expr:
    """Text with markdown's special characters backslash-escaped, so it shows literally."""
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.fill_null("").str.replace_all(MARKDOWN_SPECIALS, r"\$1")


# bidirectional overrides and isolates: they reorder what follows on screen, so outside text loses them
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
# HTML's special characters and their entities, "&" first so no entity is escaped twice
_HTML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}


def html_escaped(column: str | pl.Expr) -> pl.Expr:
    """Text as literal text inside our own HTML (the journey page's lane grid): control characters as spaces,
    bidirectional overrides dropped, and HTML's special characters as entities, so no tag, attribute or
    entity of the text's own survives; Markdown means nothing there, so `**` and `[…](…)` stay as typed."""
    expr = pl.col(column) if isinstance(column, str) else column
    expr = expr.fill_null("").str.replace_all(r"\p{Cc}", " ").str.replace_all("[\u202a-\u202e\u2066-\u2069]", "")
    for special, entity in _HTML_ENTITIES.items():
        expr = expr.str.replace_all(special, entity, literal=True)
    return expr


def html_text(value: object) -> str:
    """One value from outside as literal text inside our own HTML, cleaned and escaped as `html_escaped`."""
    text = "" if value is None else str(value)
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text).translate(_BIDI_CONTROLS)
    return html.escape(text, quote=True)


def verbatim(value: object, *, limit: int | None = 120) -> str:
    """One value from outside (URL, file, form, database) as literal text inside Markdown: one line, control
    characters as spaces, bidirectional overrides dropped, at most `limit` characters (then "…"), an
    invisible word joiner inside bare web and e-mail addresses, and Markdown's special characters
    backslash-escaped (no link, image, formula, emphasis or directive)."""
    text = "" if value is None else str(value)
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text).translate(_BIDI_CONTROLS)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    # bare addresses are linked even when escaped (GitHub-flavoured autolinks): a word joiner breaks them
    text = re.sub(r"(?i)(https?|ftps?|mailto|www)(?=[:.])", "\\1\u2060", text).replace("@", "@\u2060")
    return re.sub(MARKDOWN_SPECIALS, r"\\\1", text)


# the companions, written from the rules above: lane cards, chart texts, texts of answers
from dashboard.format import answers as answers  # noqa: E402
from dashboard.format import charts as charts  # noqa: E402
from dashboard.format import lanes as lanes  # noqa: E402
from dashboard.format.lanes import LaneData as LaneData  # noqa: E402
from dashboard.format.lanes import lane_texts as lane_texts  # noqa: E402

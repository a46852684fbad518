"""Texts of the numbers a journey known from its answers shows: what a stage box counts, findings from answers.

Part of `dashboard.format` (`format.answers`), built from its rules, so a number reads the same here as
anywhere else.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from dashboard.format import count_expr, count_text, days_text, value_text, verbatim
from data_access.metrics import Formula
from data_access.periods import DefaultPeriod
from data_access.scope import Period

SCOPE_WORDS = {"stage": "stage", "touchpoint": "touchpoint"}
MEASURE_WORDS = {"nps": "NPS", "csat": "CSAT", "ces": "CES", "rating": "rating", "sentiment": "sentiment"}
# what makes an answer unfavourable, as the end of "1,784 of 4,020 CES answers were …"
UNFAVOURABLE_WORDS = {
    "nps": "detractors (0–6)",
    "csat": "1–2",
    "ces": "1–3",
    "rating": "1–2",
    "sentiment": "negative",
}


def stage_count_expr() -> pl.Expr:
    """What a stage box counts: "1,234 customers" who first reached it, or where no customer did (a journey
    known from feedback alone), "14,500 answers" given about it."""
    return (
        pl.when((pl.col("customers") == 0) & (pl.col("answers") > 0))
        .then(pl.format("{} answers", count_expr(pl.col("answers"))))
        .otherwise(pl.format("{} customers", count_expr(pl.col("customers"))))
        .alias("summary")
    )


def answer_finding_text(finding: dict[str, Any]) -> str:
    """One row of `detection.feedback_findings` in a sentence, from its numbers (Markdown, names escaped).

    E.g. "**Customer service** (touchpoint in Support): 2,310 of 2,310 sentiment answers were negative (100.0%),
    against 42.0% over the journey. Most unfavourable answers; misses target (−100 against target +0)."
    A touchpoint or a step says its stage, unless they share a name; a stage names only itself.
    """
    measure = finding["measure"]
    share = value_text(finding["share"], Formula.CONVERSION)
    journey_share = value_text(finding["journey_share"], Formula.CONVERSION)
    answered = f"{count_text(finding['answers'])} {MEASURE_WORDS.get(measure, measure)} answers"
    counted = (
        f"{count_text(finding['unfavourable'])} of {answered} were "
        f"{UNFAVOURABLE_WORDS.get(measure, 'unfavourable')} ({share}), against {journey_share} over the journey"
    )
    reasons = finding["reasons"].split("; ")
    said = "; ".join(reasons).capitalize()
    if "misses target" in reasons:
        said += f" ({value_text(finding['value'], measure)} against target {value_text(finding['target'], measure)})"
    name = verbatim(finding["scope_name"])
    scope = SCOPE_WORDS.get(finding["scope"], finding["scope"])
    stage = finding.get("stage_name")
    if finding["scope"] != "stage" and stage and str(stage).lower() != str(finding["scope_name"]).lower():
        scope += f" in {verbatim(stage)}"
    return f"**{name}** ({scope}): {counted}. {said}."


def period_caption(
    period: Period, whole_history: bool, default: DefaultPeriod | None, first: dt.date, last: dt.date
) -> str:
    """Under the period control: how long the period is and, when it is the default one, why it was chosen."""
    span = f"Data from {first:%d %b %Y} to {last:%d %b %Y}."
    if whole_history:
        said = f"Whole history: {days_text(period.days)}. {span}"
        if default is not None and default.reason == "short":
            return f"{said} The data spans {default.days} days or fewer, so the whole of it is shown by default."
        if default is not None and default.reason == "sparse":
            said += (
                f" Shown by default because the last {default.days} days hold only "
                f"{count_text(default.short_answers)} answers for {verbatim(default.short_metric)}, fewer than "
                f"the {count_text(default.min_answers)} a metric needs to be measured"
            )
            if default.rule != "step":
                return f"{said}."
            measure = default.short_measure or ""
            return (
                f"{said}: over the whole history this step reads {value_text(default.short_value, measure)} "
                f"against target {value_text(default.short_target, measure)} while its cell is on target "
                f"({value_text(default.cell_value, measure)}), which the last {default.days} days would hide."
            )
        return said
    if default is not None and default.reason == "recent" and default.period == period:
        return (
            f"The last {period.days} days with data (the default): every metric of the map has at least "
            f"{count_text(default.min_answers)} answers in them, and they hide no step that misses target behind "
            f"a cell on target. {span}"
        )
    return f"{days_text(period.days)}. {span}"

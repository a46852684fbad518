"""Pure assembly of the journey map: funnel conversions, metric values from daily parts, step emotions.

Nothing here touches a database: the rules (what a conversion is, when a value is not enough data, how a
step's emotion is measured) are tested on crafted frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from data_access.metrics import (
    Formula,
    conversion_expr,
    emotion_agg_expr,
    improvement_expr,
    measure_value_expr,
    status_expr,
)
from data_access.models import Lane, Measure
from data_access.scope import Period

FEEDBACK_FORMULAS = tuple(m.value for m in Measure)


SPECIFICITY = {"touchpoint": 0, "stage": 1, "journey": 2}


def without_repeats(definitions: pl.DataFrame) -> pl.DataFrame:
    """The stage's metric definitions with each number once, in their order.

    A definition repeats another when both have the same formula, direction and target and evaluate the
    same answers: the same touchpoint, or the stage itself (a stage's metric and a journey-level feedback
    metric, which the page evaluates on the stage's answers). Of such a set the most specific one stays
    (touchpoint, then stage, then journey), then the first by key. `mapfile.checks.repeated_metrics` warns
    about the same sets when a map is imported.
    """
    rank = pl.col("scope").replace_strict(SPECIFICITY, default=len(SPECIFICITY), return_dtype=pl.Int64)
    return (
        definitions.with_row_index("_order")
        .sort(rank, "key")
        .unique(["formula", "direction", "target", "touchpoint_id"], keep="first", maintain_order=True)
        .sort("_order")
        .drop("_order")
    )


FUNNEL_COLUMNS = [
    "kind",
    "step_id",
    "label",
    "step_kind",
    "group",
    "order",
    "customers",
    "previous_customers",
    "conversion",
    "drop_off",
    "share_of_entry",
    "from_label",
    "window_days",
]


def cohort_funnel(
    stage: tuple[int, str],
    steps: pl.DataFrame,
    next_stage: tuple[int, str] | None,
    conversions: pl.DataFrame,
    stage_entrants: int,
    window_days: int,
) -> pl.DataFrame:
    """The stage's funnel from its cohort conversions (`conversions.pair_conversions`).

    Rows: the stage entry; each step in order; the next stage. A required step's conversion is from the
    required step before it (the stage entry for the first), and its drop-off is 1 − conversion. An
    optional or alternative step shows the share of the stage's entrants who took it within the window
    (`share_of_entry`) and has no conversion and no drop-off. The next stage's conversion is from the
    stage entry. `steps`: step_id, step_name, position, step_kind, group.
    """
    stage_id, stage_name = stage
    found = {
        (row["stage_id"], row["step_id"], row["next_stage_id"], row["next_step_id"]): row
        for row in conversions.iter_rows(named=True)
    }

    def pair(from_step: int | None, to_stage: int, to_step: int | None) -> tuple[int, int, float | None]:
        row = found.get((stage_id, from_step, to_stage, to_step))
        return (row["converted"], row["entrants"], row["conversion"]) if row else (0, 0, None)

    rows: list[dict[str, object]] = [
        {"kind": "stage", "label": stage_name, "customers": stage_entrants, "share_of_entry": 1.0}
        if stage_entrants
        else {"kind": "stage", "label": stage_name, "customers": 0}
    ]
    previous: tuple[int | None, str] = (None, stage_name)
    for step in steps.sort("position").iter_rows(named=True):
        customers, entrants, conversion = pair(
            previous[0] if step["step_kind"] == "required" else None, stage_id, step["step_id"]
        )
        row: dict[str, object] = {
            "kind": "step",
            "step_id": step["step_id"],
            "label": step["step_name"],
            "step_kind": step["step_kind"],
            "group": step["group"],
            "customers": customers,
            "previous_customers": entrants,
            "from_label": previous[1] if step["step_kind"] == "required" else stage_name,
        }
        if step["step_kind"] == "required":
            row |= {"conversion": conversion, "drop_off": None if conversion is None else 1.0 - conversion}
            previous = (step["step_id"], step["step_name"])
        else:
            row["share_of_entry"] = customers / stage_entrants if stage_entrants else None
        rows.append(row)
    if next_stage is not None:
        customers, entrants, conversion = pair(None, next_stage[0], None)
        rows.append(
            {
                "kind": "next_stage",
                "label": next_stage[1],
                "customers": customers,
                "previous_customers": entrants,
                "conversion": conversion,
                "drop_off": None if conversion is None else 1.0 - conversion,
                "share_of_entry": conversion,
                "from_label": stage_name,
            }
        )
    schema = {
        "kind": pl.String,
        "step_id": pl.Int64,
        "label": pl.String,
        "step_kind": pl.String,
        "group": pl.String,
        "order": pl.Int64,
        "customers": pl.Int64,
        "previous_customers": pl.Int64,
        "conversion": pl.Float64,
        "drop_off": pl.Float64,
        "share_of_entry": pl.Float64,
        "from_label": pl.String,
        "window_days": pl.Int64,
    }
    return pl.DataFrame(
        [{**row, "order": order, "window_days": window_days} for order, row in enumerate(rows)], schema=schema
    )


def metric_components(
    definitions: pl.DataFrame,
    feedback_daily: pl.DataFrame,
    events_daily: pl.DataFrame,
    entries_daily: pl.DataFrame,
    *,
    by: str = "day",
) -> pl.LazyFrame:
    """Daily additive parts of every definition: answers/score_sum/good/bad, reached/base, events.

    Pure: a definition's value over any set of days is a function of these parts summed over those days.
    The frames are per day, or per any other column `by` they all carry (What changed passes sums per
    period); the parts carry the same column.
    """
    feedback_defs = definitions.lazy().filter(pl.col("formula").is_in(FEEDBACK_FORMULAS))
    sums = [pl.col(c).sum() for c in ("answers", "score_sum", "good", "bad")]
    stage_feedback = feedback_daily.lazy().group_by(by, "measure").agg(sums)
    touchpoint_feedback = feedback_daily.lazy().group_by(by, "touchpoint_id", "measure").agg(sums)
    parts = [
        feedback_defs.filter(pl.col("touchpoint_id").is_null()).join(
            stage_feedback, left_on="formula", right_on="measure"
        ),
        feedback_defs.filter(pl.col("touchpoint_id").is_not_null()).join(
            touchpoint_feedback, left_on=["touchpoint_id", "formula"], right_on=["touchpoint_id", "measure"]
        ),
        definitions.lazy()
        .filter(pl.col("formula") == Formula.VOLUME.value, pl.col("touchpoint_id").is_null())
        .join(events_daily.lazy().group_by(by).agg(pl.col("events").sum()), how="cross"),
        definitions.lazy()
        .filter(pl.col("formula") == Formula.VOLUME.value, pl.col("touchpoint_id").is_not_null())
        .join(events_daily.lazy(), on="channel_id"),
        definitions.lazy()
        .filter(
            pl.col("formula").is_in([Formula.CONVERSION.value, Formula.DROP_OFF.value]),
            pl.col("touchpoint_id").is_null(),
        )
        .join(entries_daily.lazy(), how="cross"),
    ]
    columns = ["metric_id", "formula", by, "answers", "score_sum", "good", "bad", "reached", "base", "events"]
    return pl.concat(parts, how="diagonal_relaxed").select(
        pl.col("metric_id"),
        pl.col("formula"),
        pl.col(by),
        *(pl.col(c).fill_null(0) for c in columns[3:]),
    )


def metric_value_expr(min_answers: int) -> pl.Expr:
    """Value of each definition from its summed parts, null below `min_answers` (answers or base customers)."""
    feedback = measure_value_expr(min_answers)
    conversion = pl.when(pl.col("base") >= min_answers).then(conversion_expr("reached", "base"))
    return (
        pl.when(pl.col("formula").is_in(FEEDBACK_FORMULAS))
        .then(feedback)
        .when(pl.col("formula") == Formula.CONVERSION.value)
        .then(conversion)
        .when(pl.col("formula") == Formula.DROP_OFF.value)
        .then(1.0 - conversion)
        .when(pl.col("formula") == Formula.VOLUME.value)
        .then(pl.col("events").cast(pl.Float64))
        .otherwise(None)
        .alias("value")
    )


def sample_expr() -> pl.Expr:
    """How many answers (or customers, or events) a value rests on."""
    return (
        pl.when(pl.col("formula").is_in(FEEDBACK_FORMULAS))
        .then(pl.col("answers"))
        .when(pl.col("formula").is_in([Formula.CONVERSION.value, Formula.DROP_OFF.value]))
        .then(pl.col("base"))
        .otherwise(pl.col("events"))
        .alias("sample")
    )


def summed(components: pl.LazyFrame, by: list[str], min_answers: int) -> pl.LazyFrame:
    parts = ("answers", "score_sum", "good", "bad", "reached", "base", "events")
    return (
        components.group_by(*by)
        .agg(pl.col("formula").first(), *(pl.col(p).sum() for p in parts))
        .with_columns(pl.col("formula").alias("measure"))
        .with_columns(metric_value_expr(min_answers), sample_expr())
        .select(*by, "value", "sample")
    )


STAGE_METRIC_COLUMNS = ["value", "sample", "previous_value", "previous_sample", "change", "improvement", "status"]


def time_to_next_values(
    now: tuple[float | None, int], before: tuple[float | None, int], min_answers: int
) -> pl.DataFrame:
    """Time to next stage (median days, customers) now and before, as one row keyed by formula; a median
    resting on fewer than `min_answers` customers is null."""
    return pl.DataFrame(
        {
            "formula": [Formula.TIME_TO_NEXT.value],
            "value": [now[0] if now[1] >= min_answers else None],
            "sample": [now[1]],
            "previous_value": [before[0] if before[1] >= min_answers else None],
            "previous_sample": [before[1]],
        },
        schema={
            "formula": pl.String,
            "value": pl.Float64,
            "sample": pl.Int64,
            "previous_value": pl.Float64,
            "previous_sample": pl.Int64,
        },
    )


def stage_metric_table(
    definitions: pl.DataFrame, components: pl.LazyFrame, timing: pl.DataFrame, *, min_answers: int
) -> pl.DataFrame:
    """Pure part of `numbers.stage_metrics`: each definition's value now and before, change and status.

    `components`: `metric_components` rows with a `period` column ("current" or "previous");
    `timing`: `time_to_next_values`. Columns: the definitions', then `STAGE_METRIC_COLUMNS`.
    """
    if definitions.is_empty():
        return definitions.with_columns(pl.lit(None).alias(c) for c in STAGE_METRIC_COLUMNS)
    values = summed(components, ["metric_id", "period"], min_answers).collect()
    return judged_metrics(definitions, values, timing).select(*definitions.columns, *STAGE_METRIC_COLUMNS).collect()


def judged_metrics(
    definitions: pl.DataFrame, values: pl.DataFrame, timing: pl.DataFrame, *, by: Sequence[str] = ()
) -> pl.LazyFrame:
    """Each definition (per `by`, e.g. a stage) with its value now and before, change, improvement and status,
    in the definitions' order: `values` are `summed` rows with a `period` column ("current" or "previous"),
    `timing` the time to next stage's (`time_to_next_values`, with `by`)."""
    current = values.filter(pl.col("period") == "current").drop("period")
    previous = values.filter(pl.col("period") == "previous").drop("period")
    return (
        definitions.lazy()
        .with_row_index("definition_order")
        .join(current.lazy(), on=[*by, "metric_id"], how="left")
        .join(previous.lazy(), on=[*by, "metric_id"], how="left", suffix="_previous")
        .rename({"value_previous": "previous_value", "sample_previous": "previous_sample"})
        .join(timing.lazy(), on=[*by, "formula"], how="left", suffix="_timing")
        .with_columns(
            pl.coalesce("value", "value_timing").alias("value"),
            pl.coalesce("sample", "sample_timing").fill_null(0).alias("sample"),
            pl.coalesce("previous_value", "previous_value_timing").alias("previous_value"),
            pl.coalesce("previous_sample", "previous_sample_timing").fill_null(0).alias("previous_sample"),
        )
        .with_columns(
            (pl.col("value") - pl.col("previous_value")).alias("change"),
            improvement_expr().alias("improvement"),
            status_expr().alias("status"),
        )
        .sort("definition_order")
    )


def evaluate_step_metrics(
    definitions: pl.DataFrame, feedback_daily: pl.DataFrame, *, period: Period, min_answers: int
) -> pl.DataFrame:
    """Pure part of `step_metrics`: feedback definitions × steps.

    Rows carry their `period` ("current" or "previous"); without that column, days from `period.start` on are
    the current period and earlier days the previous one.
    """
    if "period" not in feedback_daily.columns:
        feedback_daily = feedback_daily.with_columns(
            pl.when(pl.col("day") >= period.start).then(pl.lit("current")).otherwise(pl.lit("previous")).alias("period")
        )
    per_step = (
        feedback_daily.lazy()
        .filter(pl.col("step_id").is_not_null())
        .group_by("step_id", "measure", "period")
        .agg(pl.col("answers", "score_sum", "good", "bad").sum())
        .with_columns(measure_value_expr(min_answers), pl.col("answers").alias("sample"))
        .collect()
        .pivot("period", index=["step_id", "measure"], values=["value", "sample"])
    )
    for column in ("value_current", "value_previous", "sample_current", "sample_previous"):
        if column not in per_step.columns:
            per_step = per_step.with_columns(pl.lit(None, dtype=pl.Float64).alias(column))
    return (
        definitions.lazy()
        .select("metric_id", "key", "label", "formula", "direction", "target", "warning")
        .join(per_step.lazy(), left_on="formula", right_on="measure")
        .select(
            "step_id",
            "metric_id",
            "key",
            "label",
            "formula",
            "direction",
            "target",
            "warning",
            pl.col("value_current").cast(pl.Float64).alias("value"),
            pl.col("sample_current").fill_null(0).cast(pl.Int64).alias("sample"),
            pl.col("value_previous").cast(pl.Float64).alias("previous_value"),
            pl.col("sample_previous").fill_null(0).cast(pl.Int64).alias("previous_sample"),
        )
        .with_columns(
            (pl.col("value") - pl.col("previous_value")).alias("change"),
            improvement_expr().alias("improvement"),
            status_expr().alias("status"),
        )
        .sort("step_id", "metric_id")
        .collect()
    )


def step_emotion(feedback_daily: pl.DataFrame, *, min_answers: int) -> pl.DataFrame:
    """Measured emotion (−2..+2) per step: `metrics.emotion` over the step's answers on every measure.

    Pure; columns step_id, measured_emotion, answers. Null below `min_answers` answers.
    """
    return (
        feedback_daily.lazy()
        .filter(pl.col("step_id").is_not_null())
        .group_by("step_id")
        .agg(emotion_agg_expr(min_answers).alias("measured_emotion"), pl.col("answers").sum())
        .sort("step_id")
        .collect()
    )


def step_emotions(steps: pl.DataFrame, lane_items: pl.DataFrame, measured: pl.DataFrame) -> pl.DataFrame:
    """Per step in order: the team's assumed emotion (mean of its emotion cards) beside the measured one."""
    assumed = (
        lane_items.lazy()
        .filter(pl.col("lane") == Lane.EMOTION.value, pl.col("emotion").is_not_null())
        .group_by("step_id")
        .agg(pl.col("emotion").mean().alias("assumed_emotion"))
    )
    return (
        steps.lazy()
        .select("step_id", "step_name", "position")
        .join(assumed, on="step_id", how="left")
        .join(measured.lazy(), on="step_id", how="left")
        .with_columns(pl.col("answers").fill_null(0))
        .sort("position")
        .collect()
    )


FUNNEL_ABSENCES = ("no events", "no required steps")


def funnel_absence(funnel: pl.DataFrame) -> str | None:
    """Why the stage's funnel through its steps is absent, or None when it is there.

    "no events": no customer first reached the stage in the period (a journey known from feedback alone
    has none at all), so there is nothing to count. "no required steps": customers entered, but no step of
    the stage is required, so no step can be drop-off (optional steps and alternatives are never drop-off).
    `funnel`: `cohort_funnel`'s frame.
    """
    entry = funnel.filter(pl.col("kind") == "stage")["customers"].fill_null(0)
    if entry.is_empty() or int(entry.sum()) == 0:
        return FUNNEL_ABSENCES[0]
    if funnel.filter((pl.col("kind") == "step") & (pl.col("step_kind") == "required")).is_empty():
        return FUNNEL_ABSENCES[1]
    return None

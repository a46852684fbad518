"""Pain points the data points at: pure detection over the journey map's frames.

Three rules, each with its evidence, over one stage and one window (see `DetectionRules` for the numbers):

1. **Misses target** — a step's or a touchpoint's metric is amber or red against its target
   (`metrics.status`), on at least `min_answers` answers (values below that are null upstream).
2. **Got worse** — a metric fell against the previous period of equal length, in its own direction, by
   more than `worsening_share` of the range its value can take (`metrics.value_span`: 5 % is 10 NPS
   points, 5 CSAT points, 0.3 on a 1–7 CES). Both periods need a value.
3. **Drop-off stands out** — a required step's drop-off (1 − the cohort conversion from the required step
   before, the stage entry for the first one) is more than `drop_off_margin` (10 percentage points) above
   the median drop-off of the stage's required steps, and the cohort holds at least `min_base` customers.
   Only closed cohorts count (`conversions.CohortMaturity`), so a cohort still inside its window never
   reads as drop-off. Optional steps and alternatives are never drop-off: fewer customers chasing is not a loss, and a
   "late" alternative is a share of the stage's entrants, not customers who left.

Nothing here touches a database: frames in, one frame out, so every rule is tested on crafted frames.
A finding carries the numbers behind it (value, target, previous value, change, the formula they are in
and the customers a drop-off is counted on); `dashboard.format.finding_evidence` says it in a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from data_access.metrics import Formula, measure_value_expr, status_expr, value_span
from data_access.models import Measure

REASONS = ("misses target", "got worse", "drop-off stands out")

FINDING_SCHEMA: dict[str, pl.DataType | type] = {
    "scope": pl.String, "scope_id": pl.Int64, "scope_name": pl.String, "step_id": pl.Int64, "reason": pl.String,
    "metric": pl.String, "value": pl.Float64, "target": pl.Float64, "previous_value": pl.Float64,
    "change": pl.Float64, "formula": pl.String, "base": pl.Int64, "on_map": pl.Boolean,
}  # fmt: skip


@dataclass(frozen=True)
class DetectionRules:
    """Thresholds of the three rules; the defaults are what the journey page uses."""

    drop_off_margin: float = 0.10
    min_base: int = 30
    worsening_share: float = 0.05


def _span_expr() -> pl.Expr:
    spans = {m.value: value_span(m) for m in Measure}
    return pl.col("formula").replace_strict(spans, default=None, return_dtype=pl.Float64)


def _metric_findings(metrics: pl.LazyFrame, rules: DetectionRules) -> pl.LazyFrame:
    """Rules 1 and 2 over metric rows carrying scope, scope_id, scope_name and step_id."""
    misses = metrics.filter(pl.col("status").is_in(["amber", "red"])).with_columns(
        pl.lit("misses target").alias("reason")
    )
    worse = metrics.filter(
        pl.col("improvement").is_not_null(),
        pl.col("improvement") < -rules.worsening_share * _span_expr(),
    ).with_columns(pl.lit("got worse").alias("reason"))
    return pl.concat([misses, worse]).select(
        "scope",
        "scope_id",
        "scope_name",
        "step_id",
        "reason",
        pl.col("label").alias("metric"),
        "value",
        "target",
        "previous_value",
        "change",
        "formula",
        pl.lit(None, dtype=pl.Int64).alias("base"),
    )


def drop_off_outliers(funnel: pl.DataFrame, rules: DetectionRules = DetectionRules()) -> pl.DataFrame:
    """Rule 3: steps whose drop-off is more than the margin above the median step drop-off of the stage.

    `funnel` is `journey_map.stage_funnel`'s frame (kind, step_id, step_kind, label, customers, drop_off,
    and previous_customers: the cohort's size). Only required steps count. Returns the outlying step rows
    with `median_drop_off` added.
    """
    steps = funnel.lazy().filter(
        pl.col("kind") == "step", pl.col("step_kind") == "required", pl.col("drop_off").is_not_null()
    )
    return (
        steps.with_columns(pl.col("drop_off").median().alias("median_drop_off"))
        .filter(
            pl.col("previous_customers") >= rules.min_base,
            pl.col("drop_off") > pl.col("median_drop_off") + rules.drop_off_margin,
        )
        .collect()
    )


def detect_pain_points(
    *,
    step_metrics: pl.DataFrame,
    touchpoint_metrics: pl.DataFrame,
    funnel: pl.DataFrame,
    steps: pl.DataFrame,
    lane_items: pl.DataFrame,
    rules: DetectionRules = DetectionRules(),
) -> pl.DataFrame:
    """Every finding of the three rules, worst first, with whether the team's map already has it.

    - `step_metrics`: `journey_map.step_metrics` (step_id, label, formula, value, target, previous_value,
      change, improvement, status).
    - `touchpoint_metrics`: `journey_map.stage_metrics` rows; only scope "touchpoint" is read.
    - `funnel`: `journey_map.stage_funnel`; `steps`: `journey_map.stage_steps`.
    - `lane_items`: `journey_map.lane_items`, for `on_map` (a written pain point on the same step, or on a
      step of the same touchpoint).
    """
    step_names = steps.lazy().select("step_id", pl.col("step_name").alias("scope_name"), "touchpoint_id")
    by_step = (
        step_metrics.lazy()
        .join(step_names, on="step_id", how="left")
        .with_columns(pl.lit("step").alias("scope"), pl.col("step_id").alias("scope_id"))
    )
    by_touchpoint = (
        touchpoint_metrics.lazy()
        .filter(pl.col("scope") == "touchpoint")
        .with_columns(
            pl.col("touchpoint_id").alias("scope_id"),
            pl.col("touchpoint_name").alias("scope_name"),
            pl.lit(None, dtype=pl.Int64).alias("step_id"),
        )
    )
    columns = ["scope", "scope_id", "scope_name", "step_id", "label", "formula", "value", "target"]
    columns += ["previous_value", "change", "improvement", "status"]
    metrics = pl.concat([by_step.select(columns), by_touchpoint.select(columns)], how="vertical_relaxed")
    drops = (
        drop_off_outliers(funnel, rules)
        .lazy()
        .select(
            pl.lit("step").alias("scope"),
            pl.col("step_id").alias("scope_id"),
            pl.col("label").alias("scope_name"),
            "step_id",
            pl.lit("drop-off stands out").alias("reason"),
            pl.lit("Drop-off").alias("metric"),
            pl.col("drop_off").alias("value"),
            pl.col("median_drop_off").alias("target"),
            pl.lit(None, dtype=pl.Float64).alias("previous_value"),
            (pl.col("drop_off") - pl.col("median_drop_off")).alias("change"),
            pl.lit(Formula.DROP_OFF.value).alias("formula"),
            pl.col("previous_customers").alias("base"),
        )
    )
    written = (
        lane_items.lazy()
        .filter(pl.col("lane") == "pain_point")
        .join(steps.lazy().select("step_id", "touchpoint_id"), on="step_id", how="left")
    )
    on_step = written.select(pl.col("step_id").alias("scope_id"), pl.lit("step").alias("scope"))
    on_touchpoint = written.filter(pl.col("touchpoint_id").is_not_null()).select(
        pl.col("touchpoint_id").alias("scope_id"), pl.lit("touchpoint").alias("scope")
    )
    on_map = pl.concat([on_step, on_touchpoint]).unique().with_columns(pl.lit(True).alias("on_map"))
    reason_rank = pl.col("reason").replace_strict({r: i for i, r in enumerate(REASONS)}, return_dtype=pl.Int64)
    return (
        pl.concat([_metric_findings(metrics, rules), drops], how="vertical_relaxed")
        .join(on_map, on=["scope", "scope_id"], how="left")
        .with_columns(pl.col("on_map").fill_null(False))
        .sort(reason_rank, "scope", "scope_id", "metric")
        .select(list(FINDING_SCHEMA))
        .cast(pl.Schema(FINDING_SCHEMA))
        .collect()
    )


# --- the overview: findings from answers alone ----------------------------------------------------

FEEDBACK_REASONS = ("most unfavourable answers", "unfavourable share stands out", "misses target")

FEEDBACK_FINDING_SCHEMA: dict[str, pl.DataType | type] = {
    "scope": pl.String,  # "stage" | "touchpoint" | "step"
    "scope_id": pl.Int64, "scope_name": pl.String,
    "stage_slug": pl.String, "stage_name": pl.String, "channel_slug": pl.String, "touchpoint_slug": pl.String,
    "measure": pl.String,
    "answers": pl.Int64, "unfavourable": pl.Int64, "share": pl.Float64, "journey_share": pl.Float64,
    "value": pl.Float64, "target": pl.Float64, "reasons": pl.String,
}  # fmt: skip


@dataclass(frozen=True)
class FeedbackRules:
    """Thresholds of the answers-only rules (see `feedback_findings`)."""

    share_margin: float = 0.10


def _scope_answers(feedback: pl.LazyFrame, key: str, min_answers: int) -> pl.LazyFrame:
    return (
        feedback.filter(pl.col(key).is_not_null())
        .group_by(key, "measure")
        .agg(pl.col("answers").sum(), pl.col("score_sum").sum(), pl.col("good").sum(), pl.col("bad").sum())
        .filter(pl.col("answers") >= min_answers)
        .with_columns(measure_value_expr(min_answers), pl.col(key).alias("scope_id"))
    )


def _step_rows(
    step_feedback: pl.DataFrame,
    *,
    stages: pl.DataFrame,
    channels: pl.DataFrame,
    touchpoints: pl.DataFrame,
    min_answers: int,
) -> pl.LazyFrame:
    """A row per step × measure with at least `min_answers` answers, named by its stage, touchpoint and channel."""
    return (
        step_feedback.lazy()
        .filter(pl.col("answers") >= min_answers)
        .with_columns(
            measure_value_expr(min_answers),
            pl.lit("step").alias("scope"),
            pl.col("step_id").alias("scope_id"),
            pl.col("step").alias("scope_name"),
        )
        .join(stages.lazy().select("stage_id", "stage_slug", pl.col("stage").alias("stage_name")), on="stage_id")
        .join(
            touchpoints.lazy().select("touchpoint_id", "channel_id", "touchpoint_slug"), on="touchpoint_id", how="left"
        )
        .join(channels.lazy().select("channel_id", "channel_slug"), on="channel_id", how="left")
    )


def feedback_findings(
    *,
    feedback: pl.DataFrame,
    stages: pl.DataFrame,
    channels: pl.DataFrame,
    touchpoints: pl.DataFrame,
    definitions: pl.DataFrame,
    min_answers: int,
    step_feedback: pl.DataFrame | None = None,
    rules: FeedbackRules = FeedbackRules(),
) -> pl.DataFrame:
    """Stages, touchpoints and steps whose low or negative answers point at a problem, most unfavourable
    answers first.

    Works on answers alone (no event needed), per measure, over scopes with at least `min_answers` answers:

    1. **Most unfavourable answers** — the one stage (and the one touchpoint) holding more of the journey's
       unfavourable answers (each scale's low band: NPS 0–6, CSAT and rating 1–2, CES 1–3, negative
       sentiment) than any other: the most common complaint, when it holds at least `min_answers` of them.
    2. **Unfavourable share stands out** — its share of unfavourable answers is more than
       `rules.share_margin` above the share over all the journey's answers of that measure.
    3. **Misses target** — its value is amber or red against the target of its own definition (stage or
       touchpoint) or else the journey-level one for that measure.

    Steps (`step_feedback`, `experience_map.queries.feedback_by_step`'s frame) are judged by rules 2 and 3
    only: they split their stage's answers (a delivery on time or late), so the one with the most low answers
    is merely the most common case, while a step whose answers are far worse than the journey's is the
    problem a stage's average hides (late deliveries rated 2 stars among on-time ones rated 4.3).

    `feedback` sums answers per stage × channel × touchpoint × measure (`period_sums.feedback_sums`); one
    row per scope × measure with every rule it meets in `reasons` ("; "-joined), sorted by unfavourable
    answers, most first. A touchpoint that holds all of its stage's answers of a measure stands for them:
    its row names it, with its stage in `stage_name`, and the stage's is left out (after rule 1 has weighed
    every stage, so no other stage is "most" in its place); a step that holds all of them is left out too.
    So a social export whose complaint reason is the touchpoint names the reason ("Customer service"), not
    the stage it sits in.
    """
    answers = feedback.lazy()
    journey = answers.group_by("measure").agg(
        (pl.col("bad").sum() / pl.col("answers").sum()).alias("journey_share"),
        pl.col("bad").sum().alias("journey_unfavourable"),
    )
    journey_targets = definitions.lazy().filter(pl.col("stage_id").is_null() & pl.col("touchpoint_id").is_null())
    stage_rows = _scope_answers(answers, "stage_id", min_answers).join(
        stages.lazy().select("stage_id", "stage_slug", pl.col("stage").alias("scope_name")), on="stage_id"
    )
    stage_rows = stage_rows.with_columns(
        pl.lit("stage").alias("scope"),
        pl.col("scope_name").alias("stage_name"),
        pl.lit(None, dtype=pl.String).alias("channel_slug"),
        pl.lit(None, dtype=pl.String).alias("touchpoint_slug"),
    )
    touchpoint_rows = (
        _scope_answers(answers, "touchpoint_id", min_answers)
        .join(
            touchpoints.lazy().select(
                "touchpoint_id", "stage_id", "channel_id", "touchpoint_slug", pl.col("touchpoint").alias("scope_name")
            ),
            on="touchpoint_id",
        )
        .join(stages.lazy().select("stage_id", "stage_slug", pl.col("stage").alias("stage_name")), on="stage_id")
        .join(channels.lazy().select("channel_id", "channel_slug"), on="channel_id")
        .with_columns(pl.lit("touchpoint").alias("scope"))
    )
    columns = ["scope", "scope_id", "scope_name", "stage_slug", "stage_name", "channel_slug", "touchpoint_slug"]
    columns += ["measure", "answers", "bad", "value"]
    # a touchpoint that holds all its stage's answers is what they are about (a social export's complaint
    # reason): its row is kept, the stage's is dropped once every rule has been judged over all stages
    same = ["stage_slug", "measure", "answers", "bad"]
    repeated = touchpoint_rows.select(same).unique().with_columns(pl.lit(True).alias("repeated"))
    scoped = pl.concat([stage_rows.select(columns), touchpoint_rows.select(columns)], how="vertical_relaxed")
    if step_feedback is not None:
        step_rows = _step_rows(
            step_feedback, stages=stages, channels=channels, touchpoints=touchpoints, min_answers=min_answers
        ).join(scoped.select(same), on=same, how="anti")
        scoped = pl.concat([scoped, step_rows.select(columns)], how="vertical_relaxed")
    scoped = scoped.join(repeated, on=same, how="left").with_columns(
        ((pl.col("scope") == "stage") & pl.col("repeated").fill_null(False)).alias("repeated")
    )
    own_targets = (
        definitions.lazy()
        .select(
            pl.when(pl.col("touchpoint_id").is_not_null())
            .then(pl.lit("touchpoint"))
            .otherwise(pl.lit("stage"))
            .alias("scope"),
            pl.coalesce("touchpoint_id", "stage_id").alias("scope_id"),
            pl.col("formula").alias("measure"),
            pl.col("target").alias("own_target"),
            pl.col("warning").alias("own_warning"),
            pl.col("direction").alias("own_direction"),
        )
        .filter(pl.col("scope_id").is_not_null())
        .unique(["scope", "scope_id", "measure"], keep="first")
    )
    fallback = journey_targets.select(pl.col("formula").alias("measure"), "target", "warning", "direction").unique(
        "measure", keep="first"
    )
    most = pl.col("bad") == pl.col("bad").max().over("scope", "measure")
    alone = most.cast(pl.Int64).sum().over("scope", "measure") == 1  # no tie for the most
    judged = (
        scoped.join(journey, on="measure", how="left")
        .join(own_targets, on=["scope", "scope_id", "measure"], how="left")
        .join(fallback, on="measure", how="left")
        .with_columns(
            pl.coalesce("own_target", "target").alias("target"),
            pl.coalesce("own_warning", "warning", pl.lit(0.0)).alias("warning"),
            pl.coalesce("own_direction", "direction", pl.lit("higher")).alias("direction"),
            (pl.col("bad") / pl.col("answers")).alias("share"),
        )
        .with_columns(status_expr("value").alias("status"))
    )
    flags = {
        FEEDBACK_REASONS[0]: most & alone & (pl.col("bad") >= max(min_answers, 1)) & (pl.col("scope") != "step"),
        FEEDBACK_REASONS[1]: pl.col("share") > pl.col("journey_share") + rules.share_margin,
        FEEDBACK_REASONS[2]: pl.col("status").is_in(["amber", "red"]),
    }
    reasons = pl.concat_str(
        [pl.when(rule).then(pl.lit(name)) for name, rule in flags.items()], separator="; ", ignore_nulls=True
    )
    return (
        judged.with_columns(reasons.alias("reasons"))
        .filter(pl.col("reasons") != "", ~pl.col("repeated"))
        .rename({"bad": "unfavourable"})
        .sort(["unfavourable", "share", "scope", "scope_id"], descending=[True, True, False, False])
        .select(list(FEEDBACK_FINDING_SCHEMA))
        .cast(pl.Schema(FEEDBACK_FINDING_SCHEMA))
        .collect()
    )

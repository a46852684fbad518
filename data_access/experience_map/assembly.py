"""Pure assembly of the experience map: the touchpoint grid, the emotional curve and headline metrics.

Inputs are the frames of `experience_map.queries`; nothing here touches a database, so each rule of the
overview (what a cell's health is, when a number is 'not enough data') is tested on crafted frames.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from data_access import metrics
from data_access.conversions import CohortCoverage, CohortMaturity
from data_access.metrics import Status
from data_access.models import Measure
from data_access.period_sums import CURRENT, PREVIOUS
from data_access.scope import Period

FEEDBACK_MEASURES = [m.value for m in Measure]
GRID_METRICS: dict[str, str] = {
    "health": "Health: share of the cell's measured metrics on target",
    Measure.NPS.value: metrics.FORMULA_LABELS[metrics.Formula.NPS],
    Measure.CSAT.value: metrics.FORMULA_LABELS[metrics.Formula.CSAT],
    Measure.CES.value: metrics.FORMULA_LABELS[metrics.Formula.CES],
    Measure.SENTIMENT.value: metrics.FORMULA_LABELS[metrics.Formula.SENTIMENT],
    "volume": "Volume: events and answers in the period",
}
SHORT_LABELS = {"nps": "NPS", "csat": "CSAT", "ces": "CES", "sentiment": "Sentiment", "rating": "Rating"}
TOOLTIP_MEASURES = ("nps", "csat", "ces")


def _summed(feedback: pl.DataFrame, keys: list[str], min_answers: int) -> pl.DataFrame:
    return (
        feedback.group_by([*keys, "measure"])
        .agg(pl.col("answers").sum(), pl.col("score_sum").sum(), pl.col("good").sum(), pl.col("bad").sum())
        .with_columns(metrics.measure_value_expr(min_answers))
    )


def _readings(
    definitions: list[dict[str, Any]], values: dict[str, float | None], answers: dict[str, int]
) -> list[metrics.Reading]:
    """Each feedback definition (rows of definitions) read on one place's value and answers per measure; no
    answers, no value."""
    return [
        metrics.Reading(
            value=values.get(d["formula"]),
            answers=int(answers.get(d["formula"], 0)),
            target=d["target"],
            warning=d["warning"] or 0.0,
            direction=d["direction"],
        )
        for d in definitions
        if d["formula"] in FEEDBACK_MEASURES
    ]


def _by_key(summed: pl.DataFrame, keys: list[str]) -> dict[tuple[Any, ...], tuple[dict[str, Any], dict[str, int]]]:
    """`_summed` rows as {key: ({measure: value}, {measure: answers})}, read once instead of filtered per cell."""
    found: dict[tuple[Any, ...], tuple[dict[str, Any], dict[str, int]]] = {}
    for row in summed.iter_rows(named=True):
        values, answers = found.setdefault(tuple(row[k] for k in keys), ({}, {}))
        values[row["measure"]] = row["value"]
        answers[row["measure"]] = row["answers"]
    return found


def touchpoint_grid(
    *,
    stages: pl.DataFrame,
    channels: pl.DataFrame,
    touchpoints: pl.DataFrame,
    feedback: pl.DataFrame,
    events: pl.DataFrame,
    definitions: pl.DataFrame,
    metric: str,
    min_answers: int,
) -> pl.DataFrame:
    """One row per stage × channel cell that holds a touchpoint, with the chosen metric and its status.

    A cell's metrics are the journey-level feedback metrics evaluated on the cell's answers plus the
    metrics linked to the cell's touchpoints evaluated on that touchpoint's answers. `status` colours the
    cell: by health, or for a single measure by the journey's target for it ('no data' below
    `min_answers`). `metric` names what `value` is and `value_answers` the answers behind it; `nps`,
    `csat` and `ces` with their answers feed the tooltip (`dashboard.format.grid_labels` writes them).
    """
    cell_keys = ["stage_id", "channel_id"]
    cells = (
        touchpoints.group_by(cell_keys, maintain_order=True)
        .agg(
            pl.col("touchpoint").str.join("; ").alias("touchpoints"),
            pl.col("moment_of_truth").any().alias("moment_of_truth"),
            pl.col("touchpoint_id"),
            pl.col("touchpoint_slug"),
        )
        .join(stages.select("stage_id", "stage_slug", "stage", "stage_position"), on="stage_id")
        .join(channels.select("channel_id", "channel_slug", "channel", "channel_position"), on="channel_id")
    )
    cell_values = _summed(feedback.filter(pl.col("channel_id").is_not_null()), cell_keys, min_answers)
    touchpoint_values = _summed(feedback.filter(pl.col("touchpoint_id").is_not_null()), ["touchpoint_id"], min_answers)
    journey_definitions = definitions.filter(
        pl.col("stage_id").is_null() & pl.col("touchpoint_id").is_null() & pl.col("formula").is_in(FEEDBACK_MEASURES)
    )
    journey_rows = journey_definitions.to_dicts()
    touchpoint_rows: dict[int, list[dict[str, Any]]] = {}
    for row in definitions.filter(pl.col("touchpoint_id").is_not_null()).iter_rows(named=True):
        touchpoint_rows.setdefault(row["touchpoint_id"], []).append(row)
    by_cell = _by_key(cell_values, cell_keys)
    by_touchpoint = _by_key(touchpoint_values, ["touchpoint_id"])
    volume = {
        (row["stage_id"], row["channel_id"]): int(row["events"])
        for row in events.group_by(cell_keys).agg(pl.col("events").sum()).iter_rows(named=True)
    }

    rows = []
    for cell in cells.iter_rows(named=True):
        key = (cell["stage_id"], cell["channel_id"])
        measured_values, answers = by_cell.get(key, ({}, {}))
        values: dict[str, float | None] = dict.fromkeys(FEEDBACK_MEASURES)
        values.update(measured_values)
        readings = _readings(journey_rows, measured_values, answers)
        for touchpoint_id in cell["touchpoint_id"]:
            own_values, own_answers = by_touchpoint.get((touchpoint_id,), ({}, {}))
            readings += _readings(touchpoint_rows.get(touchpoint_id, []), own_values, own_answers)
        cell_health = metrics.health(readings, min_answers=min_answers)
        cell_events = volume.get(key, 0)
        total_answers = sum(answers.values())
        if metric == "health":
            value, state = cell_health.share, cell_health.status
            value_answers = max(answers.values(), default=0)
        elif metric == "volume":
            # events and answers both: a journey known from feedback alone has volume too
            cell_volume = cell_events + total_answers
            value, state = float(cell_volume), Status.GREEN if cell_volume else Status.NO_DATA
            value_answers = cell_volume
        else:
            value = values.get(metric)
            own_readings = _readings([d for d in journey_rows if d["formula"] == metric], measured_values, answers)
            # a measure without a target is shown, not judged: it is never coloured as on target
            state = metrics.judge(own_readings[0], min_answers=min_answers) if own_readings else Status.NO_DATA
            value_answers = answers.get(metric, 0)
        rows.append(
            {
                **{k: cell[k] for k in ("stage_id", "stage_slug", "stage", "stage_position")},
                **{k: cell[k] for k in ("channel_id", "channel_slug", "channel", "channel_position")},
                "touchpoints": cell["touchpoints"],
                # the cell's touchpoint when it holds one (a click opens the stage with it selected)
                "touchpoint_slug": cell["touchpoint_slug"][0] if len(cell["touchpoint_slug"]) == 1 else None,
                "moment_of_truth": cell["moment_of_truth"],
                "metric": metric,
                "value": value,
                "value_answers": value_answers,
                "status": state.value,
                "answers": total_answers,
                "events": cell_events,
                "health_status": cell_health.status.value,
                "metrics": cell_health.metrics,
                "measured": cell_health.measured,
                "judged": cell_health.judged,
                "on_target": cell_health.on_target,
                **{m: values[m] for m in TOOLTIP_MEASURES},
                **{f"{m}_answers": answers.get(m, 0) for m in TOOLTIP_MEASURES},
            }
        )
    return pl.DataFrame(rows, schema=_GRID_SCHEMA)


_GRID_SCHEMA = {
    "stage_id": pl.Int64,
    "stage_slug": pl.String,
    "stage": pl.String,
    "stage_position": pl.Int64,
    "channel_id": pl.Int64,
    "channel_slug": pl.String,
    "channel": pl.String,
    "channel_position": pl.Int64,
    "touchpoints": pl.String,
    "touchpoint_slug": pl.String,
    "moment_of_truth": pl.Boolean,
    "metric": pl.String,
    "value": pl.Float64,
    "value_answers": pl.Int64,
    "status": pl.String,
    "answers": pl.Int64,
    "events": pl.Int64,
    "health_status": pl.String,
    "metrics": pl.Int64,
    "measured": pl.Int64,
    "judged": pl.Int64,
    "on_target": pl.Int64,
    **{m: pl.Float64 for m in TOOLTIP_MEASURES},
    **{f"{m}_answers": pl.Int64 for m in TOOLTIP_MEASURES},
}


def emotional_curve(
    *, stages: pl.DataFrame, feedback: pl.DataFrame, assumed: pl.DataFrame, min_answers: int
) -> pl.DataFrame:
    """Measured and assumed emotion (−2..+2) per stage, long: stage, stage_position, source, emotion, answers.

    Measured: `metrics.emotion` over all the stage's answers (2 × (share favourable − share unfavourable));
    null when the stage has fewer than `min_answers` answers.
    """
    measured = feedback.group_by("stage_id").agg(metrics.emotion_agg_expr(min_answers), pl.col("answers").sum())
    base = stages.select("stage_id", "stage_slug", "stage", "stage_position")
    measured_rows = base.join(measured, on="stage_id", how="left").with_columns(
        pl.lit("measured").alias("source"), pl.col("answers").fill_null(0)
    )
    assumed_rows = base.join(assumed.rename({"assumed": "emotion"}), on="stage_id", how="left").with_columns(
        pl.lit("assumed").alias("source"), pl.lit(None, dtype=pl.Int64).alias("answers")
    )
    columns = ["stage_id", "stage_slug", "stage", "stage_position", "source", "emotion", "answers"]
    return pl.concat([measured_rows.select(columns), assumed_rows.select(columns)]).sort("source", "stage_position")


@dataclass(frozen=True)
class Headline:
    """One headline tile: a journey-level metric's value, target, status and change, and its weekly series.

    `weekly` has columns week (the Monday starting it) and value (null in a week with too few answers).
    """

    key: str
    label: str
    definition: str
    value: float | None
    previous: float | None
    status: Status
    target: float | None
    answers: int
    formula: str = ""
    direction: str = "higher"
    weekly: pl.DataFrame | None = None
    cohorts: CohortCoverage | None = None  # for a conversion: which cohorts of the period it counts

    @property
    def change(self) -> float | None:
        return metrics.change(self.value, self.previous)


def _journey_values(feedback: pl.DataFrame, min_answers: int) -> dict[str, tuple[float | None, int]]:
    summed = _summed(feedback.with_columns(pl.lit(1).alias("all")), ["all"], min_answers)
    return {row["measure"]: (row["value"], row["answers"]) for row in summed.iter_rows(named=True)}


def weekly_values(daily_feedback: pl.DataFrame, *, measure: str, min_answers: int) -> pl.DataFrame:
    """A measure's value per calendar week (Monday first) from its rollup rows of single days or of whole weeks
    dated by their Monday: week, value, answers."""
    return (
        daily_feedback.filter(pl.col("measure") == measure)
        .with_columns(pl.col("day").dt.truncate("1w").alias("week"))
        .pipe(_summed, ["week"], min_answers)
        .sort("week")
        .select("week", "value", "answers")
    )


HEADLINE_ORDER = [
    Measure.NPS.value,
    Measure.CSAT.value,
    Measure.CES.value,
    Measure.RATING.value,
    Measure.SENTIMENT.value,
]


def headline_metrics(
    *,
    feedback: pl.DataFrame,
    previous_feedback: pl.DataFrame,
    daily_feedback: pl.DataFrame,
    cohorts: CohortDays,
    stages: pl.DataFrame,
    definitions: pl.DataFrame,
    min_answers: int,
) -> list[Headline]:
    """The headline tiles: the metrics the journey defines, answered or not, then conversion where it has events.

    One tile per feedback metric the journey defines at journey level; then one per measure the journey
    defines only on stages or touchpoints (read over all the journey's answers, with the target those
    definitions share, else none), and one per measure answered in the period that nothing defines (shown,
    not judged); then the conversion into its key stage, unless the journey is known from its answers alone
    (answers and no events in either period) and defines no conversion. Each tile is judged as a cell's
    metric is (`metrics.judge`): unmeasured below `min_answers` answers.
    """
    current = _journey_values(feedback, min_answers)
    previous = _journey_values(previous_feedback, min_answers)
    feedback_definitions = definitions.filter(pl.col("formula").is_in(FEEDBACK_MEASURES))
    journey_level = pl.col("stage_id").is_null() & pl.col("touchpoint_id").is_null()
    journey_definitions = feedback_definitions.filter(journey_level)
    covered = set(journey_definitions["formula"])
    # a measure defined only further down: one tile over the whole journey, with the target all its definitions share
    lower = (
        feedback_definitions.filter(~journey_level & ~pl.col("formula").is_in(list(covered)))
        .group_by("formula", maintain_order=True)
        .agg(
            pl.col("key").first(),
            pl.col("label").first(),
            pl.col("direction").first(),
            pl.when(pl.col("target").n_unique() == 1).then(pl.col("target").first()).alias("target"),
            pl.when(pl.col("target").n_unique() == 1).then(pl.col("warning").first()).alias("warning"),
        )
    )
    covered |= set(lower["formula"])
    answered = [m for m in FEEDBACK_MEASURES if m not in covered and current.get(m, (None, 0))[1] > 0]
    undefined = pl.DataFrame(
        {
            "formula": answered,
            "key": answered,
            "label": [SHORT_LABELS.get(m, m) for m in answered],
            "direction": ["higher"] * len(answered),
            "target": [None] * len(answered),
            "warning": [None] * len(answered),
        },
        schema={
            "formula": pl.String,
            "key": pl.String,
            "label": pl.String,
            "direction": pl.String,
            "target": pl.Float64,
            "warning": pl.Float64,
        },
    )
    columns = ["formula", "key", "label", "direction", "target", "warning"]
    tiles = pl.concat(
        [journey_definitions.select(columns), lower.select(columns), undefined.select(columns)], how="vertical_relaxed"
    ).with_columns(
        pl.col("formula").replace_strict(HEADLINE_ORDER, list(range(len(HEADLINE_ORDER))), default=99).alias("order")
    )
    headlines = []
    for definition in tiles.sort("order", "key", maintain_order=True).iter_rows(named=True):
        measure = definition["formula"]
        value, answers = current.get(measure, (None, 0))
        reading = metrics.Reading(
            value, answers, definition["target"], definition["warning"] or 0.0, definition["direction"]
        )
        headlines.append(
            Headline(
                key=definition["key"],
                label=SHORT_LABELS.get(measure, definition["label"]),
                definition=f"{definition['label']}. {metrics.FORMULA_LABELS[measure]}",
                value=value,
                previous=previous.get(measure, (None, 0))[0],
                status=metrics.judge(reading, min_answers=min_answers),
                target=definition["target"],
                answers=answers,
                formula=measure,
                direction=definition["direction"],
                weekly=weekly_values(daily_feedback, measure=measure, min_answers=min_answers),
            )
        )
    has_events = bool(cohorts.entrants["entrants"].sum())
    answers_only = not has_events and not (feedback.is_empty() and previous_feedback.is_empty())
    if not answers_only or not definitions.filter(pl.col("key") == "conversion").is_empty():
        headlines.append(_conversion_headline(cohorts, stages, definitions, min_answers))
    return headlines


@dataclass(frozen=True)
class CohortDays:
    """The stages' cohorts per entry day of the view's periods (`period_sums`, `by_day=True`).

    `entrants`: period, day, stage_id, entrants (customers first reaching the stage that day);
    `conversions`: period, day, stage_id, next_stage_id, converted (of that day's cohort, those who reached
    the next stage within the window). `maturity` says which days' cohorts have closed: only those count
    towards a conversion (`conversions.CohortMaturity`); `periods` are the periods by label.
    """

    entrants: pl.DataFrame
    conversions: pl.DataFrame
    maturity: CohortMaturity
    periods: Mapping[str, Period] = field(default_factory=dict)

    def coverage(self, period: str) -> CohortCoverage:
        """Which cohorts of the period a conversion counts (all, when the period is not known)."""
        known = self.periods.get(period)
        if known is None:
            return CohortCoverage(through=None, window_days=self.maturity.window_days)
        return self.maturity.coverage(known)

    def stage_cohorts(self, period: str) -> pl.DataFrame:
        """Per stage over the period: the customers first reaching it (`customers`), its closed cohorts'
        customers (`cohort`) and, of the stage before's closed cohorts, those who reached this one within the
        window (`converted_in`)."""
        closed = self.maturity.closed_days()
        customers = (
            self.entrants.filter(pl.col("period") == period)
            .group_by("stage_id")
            .agg(
                pl.col("entrants").sum().alias("customers"),
                pl.col("entrants").filter(closed).sum().alias("cohort"),
            )
        )
        converted = (
            self.conversions.filter(pl.col("period") == period, closed)
            .group_by(pl.col("next_stage_id").alias("stage_id"))
            .agg(pl.col("converted").sum().alias("converted_in"))
        )
        return customers.join(converted, on="stage_id", how="full", coalesce=True).with_columns(
            pl.col("customers", "cohort", "converted_in").fill_null(0)
        )

    def weekly_conversion(self, *, before: int, stage_id: int, period: str, min_answers: int) -> pl.DataFrame:
        """Conversion from `before` into `stage_id` per calendar week of cohort entry (Monday first), over the
        week's closed cohorts: week, value, answers (the week's closed cohorts). Null below `min_answers`
        customers; a week whose cohorts are all still open has no row (it is not drawn)."""
        week = pl.col("day").dt.truncate("1w").alias("week")
        closed = self.maturity.closed_days()
        base = (
            self.entrants.filter(pl.col("period") == period, pl.col("stage_id") == before, closed)
            .group_by(week)
            .agg(pl.col("entrants").sum().alias("answers"))
        )
        reached = (
            self.conversions.filter(
                pl.col("period") == period, pl.col("stage_id") == before, pl.col("next_stage_id") == stage_id, closed
            )
            .group_by(week)
            .agg(pl.col("converted").sum())
        )
        return (
            base.join(reached, on="week", how="left")
            .with_columns(pl.col("converted").fill_null(0))
            .with_columns(
                pl.when(pl.col("answers") >= min_answers)
                .then(metrics.conversion_expr("converted", "answers"))
                .alias("value")
            )
            .sort("week")
            .select("week", "value", "answers")
        )


def _conversion_headline(
    cohorts: CohortDays, stages: pl.DataFrame, definitions: pl.DataFrame, min_answers: int
) -> Headline:
    """Conversion into the stage whose definition has key 'conversion' (else the last stage) from the one
    before, with its value per week of the period."""
    ordered = stages.sort("stage_position")
    chosen = definitions.filter((pl.col("key") == "conversion") & pl.col("stage_id").is_not_null())
    stage_id = chosen["stage_id"][0] if len(chosen) else (ordered["stage_id"][-1] if len(ordered) else None)
    ids = ordered["stage_id"].to_list()
    if stage_id is None or stage_id not in ids or ids.index(stage_id) == 0:
        return Headline(
            "conversion",
            "Conversion",
            "not defined for this journey",
            None,
            None,
            Status.NO_DATA,
            None,
            0,
            formula="conversion",
        )
    before = ids[ids.index(stage_id) - 1]
    names = dict(zip(ordered["stage_id"], ordered["stage"], strict=True))

    def rate(period: str) -> tuple[float | None, int]:
        frame = cohorts.stage_cohorts(period)
        sizes = dict(zip(frame["stage_id"], frame["cohort"], strict=True))
        converted = dict(zip(frame["stage_id"], frame["converted_in"], strict=True))
        return metrics.conversion(converted.get(stage_id, 0), sizes.get(before, 0)), sizes.get(before, 0)

    value, base = rate(CURRENT)
    target = chosen["target"][0] if len(chosen) else None
    state = (
        metrics.status(value, target=target, warning=chosen["warning"][0], direction=chosen["direction"][0])
        if len(chosen)
        else Status.NO_DATA
    )
    return Headline(
        key="conversion",
        label=f"Conversion to {names[stage_id]}",
        definition=(
            f"Of the customers who first reached {names[before]} in the period, the share who reached "
            f"{names[stage_id]} within the journey's conversion window ({cohorts.maturity.window_days} days), "
            "counting only the cohorts whose window has closed"
        ),
        value=value,
        previous=rate(PREVIOUS)[0],
        status=state,
        target=target,
        answers=base,
        formula=metrics.Formula.CONVERSION.value,
        direction=chosen["direction"][0] if len(chosen) else "higher",
        weekly=cohorts.weekly_conversion(before=before, stage_id=stage_id, period=CURRENT, min_answers=min_answers),
        cohorts=cohorts.coverage(CURRENT),
    )


def moments_of_truth(grid: pl.DataFrame, touchpoints: pl.DataFrame) -> pl.DataFrame:
    """The touchpoints flagged as moments of truth, with their cell's health (whatever metric the grid shows).

    `measured` of the cell's `metrics` have enough answers; with none measured the status is 'no data'.
    """
    return (
        touchpoints.filter(pl.col("moment_of_truth"))
        .join(
            grid.select(
                "stage_id", "channel_id", "stage", "stage_position", "channel",
                pl.col("health_status").alias("status"), "measured", "metrics",
            ),
            on=["stage_id", "channel_id"],
        )
        .sort("stage_position")
        .select("stage", "channel", "touchpoint", "owner", "status", "measured", "metrics")
    )  # fmt: skip


def stage_summary(stages: pl.DataFrame, entrants: pl.DataFrame, feedback: pl.DataFrame) -> pl.DataFrame:
    """Per stage: customers first reaching it in the period, the answers given about it in the period, and
    the conversion from the stage before: of that stage's closed cohorts (its customers of the period's days
    whose window has closed), the share who reached this one within the window. A journey known from feedback
    alone has answers and no customers. `entrants`: `CohortDays.stage_cohorts`."""
    answers = feedback.group_by("stage_id").agg(pl.col("answers").sum())
    return (
        stages.sort("stage_position")
        .join(entrants, on="stage_id", how="left")
        .join(answers, on="stage_id", how="left")
        .with_columns(pl.col("customers", "cohort", "converted_in", "answers").fill_null(0))
        .with_columns(
            pl.when(pl.col("cohort").shift(1) > 0)
            .then(pl.col("converted_in") / pl.col("cohort").shift(1))
            .alias("conversion")
        )
        .drop("converted_in", "cohort")
    )


def with_open_findings(stage_rows: pl.DataFrame, findings: pl.DataFrame) -> pl.DataFrame:
    """Add each stage's open pain points and opportunities from its journey map (the roll-up of findings)."""
    return (
        stage_rows.join(findings, on="stage_slug", how="left")
        .with_columns(pl.col("open_pain_points", "open_opportunities").fill_null(0))
        .with_columns(
            pl.format("{} pain · {} opp. open", "open_pain_points", "open_opportunities").alias("findings"),
            pl.format(
                "{} open pain points, {} open opportunities on the journey map",
                "open_pain_points",
                "open_opportunities",
            ).alias("findings_detail"),
        )
    )


def with_stage_health(stage_rows: pl.DataFrame, statuses: pl.DataFrame) -> pl.DataFrame:
    """Add each stage's `health_status`, its `metrics.stage_status` ('no data' for a stage without a judged
    metric), whatever metric colours the grid. `statuses`: stage_slug, health_status."""
    return stage_rows.join(statuses.select("stage_slug", "health_status"), on="stage_slug", how="left").with_columns(
        pl.col("health_status").fill_null(Status.NO_DATA.value)
    )

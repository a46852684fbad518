"""The period a view opens on when its link names none: the latest days that hold enough answers.

The rule, as a CX lead would put it: **show the last `days` days with data, unless they are too thin to
judge the map's metrics or would hide a problem the history shows.** So the whole history is shown when

1. the history is no longer than `days` days (`short`); or
2. a metric the map defines (journey, stage or touchpoint: what health and the tiles are made of) has
   fewer than the minimum of answers in the last `days` days, among those that reach it over the whole
   history (`sparse`, rule `metric`); or
3. a step hides behind its cell: over the whole history its answers of a measure miss the target while
   the cell it sits in (its touchpoint, else its stage) is on target against the same target, and the last
   `days` days hold fewer than the minimum of them (`sparse`, rule `step`). A two-year export whose last 90
   days hold 19 late-delivery reviews (2 stars, the delivery cell at 4.2 against 4) opens on the whole
   history, not on a green cell.

Any other step (an alternative "visit rescheduled", a rarely answered "rates us") with few answers in the
last days shows "not enough data" there instead of widening the period: a step has no target of its own,
and a rare step that reads like its cell, or worse than a cell already off target, hides nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl
from sqlalchemy import Connection, case, func, select

from data_access.metrics import measure_value_expr, status_expr
from data_access.models import FeedbackView, Measure, MetricDefinition, Step
from data_access.scope import Period
from data_access.view_rollups import period_rows

DEFAULT_DAYS = 90
FEEDBACK_MEASURES = [m.value for m in Measure]

ANSWER_SCHEMA: dict[str, pl.DataType | type] = {
    "stage_id": pl.Int64,
    "touchpoint_id": pl.Int64,
    "step_id": pl.Int64,
    "step": pl.String,
    "measure": pl.String,
    "answers": pl.Int64,
}
SCORE_SCHEMA: dict[str, pl.DataType | type] = {"score_sum": pl.Float64, "good": pl.Int64, "bad": pl.Int64}
DEFINITION_SCHEMA: dict[str, pl.DataType | type] = {
    "label": pl.String,
    "formula": pl.String,
    "stage_id": pl.Int64,
    "touchpoint_id": pl.Int64,
    "target": pl.Float64,
    "warning": pl.Float64,
    "direction": pl.String,
}
HIDDEN_STEP_SCHEMA: dict[str, pl.DataType | type] = {
    "step": pl.String,
    "measure": pl.String,
    "recent": pl.Int64,
    "value": pl.Float64,
    "target": pl.Float64,
    "cell_value": pl.Float64,
}
CELL = ["stage_id", "touchpoint_id", "measure"]


@dataclass(frozen=True)
class DefaultPeriod:
    """The default period of a journey and why: `recent` (the last `days` days hold enough answers for every
    metric and every step that counts), `short` (the history is no longer than `days` days) or `sparse`
    (`short_metric` has only `short_answers` answers in the last `days` days, fewer than `min_answers`).

    `rule` says what `short_metric` is: a metric of the map (`metric`), or a step whose answers miss target
    while its cell is on target over the whole history (`step`; then `short_measure`, `short_value`,
    `short_target` and `cell_value` give that measure's values over the history)."""

    period: Period
    reason: Literal["recent", "short", "sparse"]
    days: int = DEFAULT_DAYS
    min_answers: int = 0
    short_metric: str | None = None
    short_answers: int = 0
    rule: Literal["metric", "step"] | None = None
    short_measure: str | None = None
    short_value: float | None = None
    short_target: float | None = None
    cell_value: float | None = None

    @property
    def whole_history(self) -> bool:
        return self.reason != "recent"


def _answers_of(definition: dict[str, object], answers: pl.DataFrame) -> int:
    """The answers a definition reads: its measure's, on its touchpoint, else its stage, else the journey."""
    scoped = answers.filter(pl.col("measure") == definition["formula"])
    if definition["touchpoint_id"] is not None:
        scoped = scoped.filter(pl.col("touchpoint_id") == definition["touchpoint_id"])
    elif definition["stage_id"] is not None:
        scoped = scoped.filter(pl.col("stage_id") == definition["stage_id"])
    return int(scoped["answers"].sum())


def fitting_period(
    *,
    history: Period,
    definitions: pl.DataFrame,
    recent_answers: pl.DataFrame,
    all_answers: pl.DataFrame,
    min_answers: int,
    days: int = DEFAULT_DAYS,
) -> DefaultPeriod:
    """The default period of a journey whose data spans `history` (pure; see the module's docstring).

    `definitions` are the map's metric definitions (label, formula, stage_id, touchpoint_id, and for the step
    rule target, warning and direction; non-feedback formulas are ignored); with none on feedback, every
    measure answered counts as a journey-level metric. `recent_answers` and `all_answers` sum answers per
    stage_id × touchpoint_id × measure (and step_id, step) over the last `days` days and over the whole
    history; the step rule reads `all_answers`' score_sum, good and bad too, when it has them.
    """
    if history.days <= days:
        return DefaultPeriod(history, "short", days, min_answers)
    recent = Period(history.end - dt.timedelta(days=days - 1), history.end)
    feedback = definitions.filter(pl.col("formula").is_in(FEEDBACK_MEASURES))
    if feedback.is_empty():
        measures = sorted(set(all_answers["measure"]))
        feedback = pl.DataFrame({"label": measures, "formula": measures}).with_columns(
            pl.lit(None, dtype=pl.Int64).alias("stage_id"), pl.lit(None, dtype=pl.Int64).alias("touchpoint_id")
        )
    short: list[tuple[int, str]] = []
    for definition in feedback.iter_rows(named=True):
        if _answers_of(definition, all_answers) < min_answers:
            continue  # never measured, whatever the period: no period would help it
        found = _answers_of(definition, recent_answers)
        if found < min_answers:
            short.append((found, str(definition["label"])))
    if short:
        answers, label = min(short)
        return DefaultPeriod(history, "sparse", days, min_answers, label, answers, rule="metric")
    hidden = hidden_steps(
        definitions=feedback, recent_answers=recent_answers, all_answers=all_answers, min_answers=min_answers
    )
    if hidden.is_empty():
        return DefaultPeriod(recent, "recent", days, min_answers)
    step = hidden.row(0, named=True)
    return DefaultPeriod(
        history, "sparse", days, min_answers, step["step"], step["recent"], rule="step", short_measure=step["measure"],
        short_value=step["value"], short_target=step["target"], cell_value=step["cell_value"],
    )  # fmt: skip


def _cell_targets(steps: pl.LazyFrame, definitions: pl.DataFrame) -> pl.LazyFrame:
    """Each step row's cell × measure with the target it is judged by: its touchpoint's definition of the
    measure, else its stage's, else the journey's."""
    judged = definitions.lazy().select(
        "stage_id", "touchpoint_id", pl.col("formula").alias("measure"), "target", "warning", "direction"
    )
    on_touchpoint = (
        judged.filter(pl.col("touchpoint_id").is_not_null())
        .drop("stage_id")
        .unique(["touchpoint_id", "measure"], keep="first")
    )
    on_stage = (
        judged.filter(pl.col("touchpoint_id").is_null() & pl.col("stage_id").is_not_null())
        .drop("touchpoint_id")
        .unique(["stage_id", "measure"], keep="first")
    )
    on_journey = (
        judged.filter(pl.col("touchpoint_id").is_null() & pl.col("stage_id").is_null())
        .drop("touchpoint_id", "stage_id")
        .unique("measure", keep="first")
    )
    target = ["target", "warning", "direction"]
    return (
        steps.join(on_touchpoint, on=["touchpoint_id", "measure"], how="left")
        .join(on_stage, on=["stage_id", "measure"], how="left", suffix="_stage")
        .join(on_journey, on="measure", how="left", suffix="_journey")
        .with_columns(pl.coalesce(name, f"{name}_stage", f"{name}_journey").alias(name) for name in target)
    )


def _value_of(frame: pl.LazyFrame, keys: list[str], min_answers: int, name: str) -> pl.LazyFrame:
    """The measure's value of the answers summed by `keys`, as column `name`."""
    sums = [pl.col(column).sum() for column in ("answers", *SCORE_SCHEMA)]
    return frame.group_by(keys).agg(sums).select(*keys, measure_value_expr(min_answers).alias(name))


def hidden_steps(
    *, definitions: pl.DataFrame, recent_answers: pl.DataFrame, all_answers: pl.DataFrame, min_answers: int
) -> pl.DataFrame:
    """Steps × measures whose answers over the whole history miss their cell's target while the cell (the
    step's touchpoint, else its stage) is on target, and that have fewer than `min_answers` answers in the
    recent frame; fewest recent answers first (`HIDDEN_STEP_SCHEMA`). Empty when the frames carry no steps
    or scores, or the definitions no targets."""
    if not {"step_id", "step", *SCORE_SCHEMA} <= set(all_answers.columns) or "target" not in definitions.columns:
        return pl.DataFrame(schema=HIDDEN_STEP_SCHEMA)
    answers = all_answers.lazy()
    steps = answers.filter(pl.col("step_id").is_not_null())
    recent = (
        recent_answers.lazy()
        .filter(pl.col("step_id").is_not_null())
        .group_by("step_id", *CELL)
        .agg(pl.col("answers").sum().alias("recent"))
    )
    by_touchpoint = _value_of(answers.filter(pl.col("touchpoint_id").is_not_null()), ["touchpoint_id", "measure"],
                              min_answers, "touchpoint_value")  # fmt: skip
    by_stage = _value_of(answers, ["stage_id", "measure"], min_answers, "stage_value")
    found = (
        _cell_targets(_value_of(steps, ["step_id", "step", *CELL], min_answers, "value"), definitions)
        .join(by_touchpoint, on=["touchpoint_id", "measure"], how="left")
        .join(by_stage, on=["stage_id", "measure"], how="left")
        .with_columns(
            pl.when(pl.col("touchpoint_id").is_not_null())
            .then(pl.col("touchpoint_value"))
            .otherwise(pl.col("stage_value"))
            .alias("cell_value")
        )
        .join(recent, on=["step_id", *CELL], how="left")
        .with_columns(pl.col("recent").fill_null(0))
        .filter(
            status_expr("value") == "red",
            status_expr("cell_value") == "green",
            pl.col("recent") < min_answers,
        )
    )
    return found.sort("recent", "step", "measure").select(list(HIDDEN_STEP_SCHEMA)).collect()


def _answers(
    connection: Connection, *, journey_id: int, history: Period, since: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Answers per stage × touchpoint × step × measure since `since`, and over `history` (the journey's days
    with data) with their score sums (what a step's value is made of), in one statement over the view
    rollup's pieces of both periods (see `view_rollups`)."""
    r = FeedbackView
    rows_of = period_rows(
        r,
        [Period(since, history.end), history],
        ["stage_id", "touchpoint_id", "step_id", "measure", "answers", "score_sum", "good", "bad"],
        r.journey_id == journey_id,
    )
    keys = (rows_of.c.stage_id, rows_of.c.touchpoint_id, rows_of.c.step_id, Step.name, rows_of.c.measure)

    def summed(column: str, index: int) -> Any:
        return func.sum(case((rows_of.c.period_index == index, rows_of.c[column]), else_=0))

    query = (
        select(*keys, summed("answers", 0), *(summed(column, 1) for column in ("answers", "score_sum", "good", "bad")))
        .select_from(rows_of)
        .outerjoin(Step, Step.id == rows_of.c.step_id)
        .group_by(*keys)
    )
    rows = [tuple(row) for row in connection.execute(query)]
    both = pl.DataFrame(rows, schema={**ANSWER_SCHEMA, "all_answers": pl.Int64, **SCORE_SCHEMA}, orient="row")
    recent_answers = both.select(list(ANSWER_SCHEMA)).filter(pl.col("answers") > 0)
    return recent_answers, both.drop("answers").rename({"all_answers": "answers"})


def default_period(
    connection: Connection, *, journey_id: int, history: Period, min_answers: int, days: int = DEFAULT_DAYS
) -> DefaultPeriod:
    """The default period of the journey whose data spans `history`, read from the feedback view rollup."""
    m = MetricDefinition
    columns = (m.label, m.formula, m.stage_id, m.touchpoint_id, m.target, m.warning, m.direction)
    definitions = pl.DataFrame(
        [tuple(row) for row in connection.execute(select(*columns).where(m.journey_id == journey_id))],
        schema=DEFINITION_SCHEMA,
        orient="row",
    )
    recent_answers, all_answers = _answers(
        connection, journey_id=journey_id, history=history, since=history.end - dt.timedelta(days=days - 1)
    )
    return fitting_period(
        history=history, definitions=definitions, recent_answers=recent_answers, all_answers=all_answers,
        min_answers=min_answers, days=days,
    )  # fmt: skip

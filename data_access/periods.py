"""The period a view opens on when its link names none: the latest days that hold enough answers.

The last `days` days with data are shown when every metric the map defines holds at least the minimum of
answers there (the rule that keeps health honest), among the metrics that reach it over the whole history;
otherwise, and when the history is no longer than that, the whole history. A step answered over the history
counts as one more such metric (the overview judges steps' answers too). So a two-year export whose last
90 days hold 19 late-delivery reviews opens on the whole history, not on a green cell of 19 answers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import polars as pl
from sqlalchemy import Connection, case, func, select

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
DEFINITION_SCHEMA: dict[str, pl.DataType | type] = {
    "label": pl.String,
    "formula": pl.String,
    "stage_id": pl.Int64,
    "touchpoint_id": pl.Int64,
}


@dataclass(frozen=True)
class DefaultPeriod:
    """The default period of a journey and why: `recent` (the last `days` days hold enough answers for every
    metric), `short` (the history is no longer than `days` days) or `sparse` (`short_metric` has only
    `short_answers` answers in the last `days` days, fewer than `min_answers`)."""

    period: Period
    reason: Literal["recent", "short", "sparse"]
    days: int = DEFAULT_DAYS
    min_answers: int = 0
    short_metric: str | None = None
    short_answers: int = 0

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

    `definitions` are the map's metric definitions (label, formula, stage_id, touchpoint_id; non-feedback
    formulas are ignored); with none on feedback, every measure answered counts as a journey-level metric.
    `recent_answers` and `all_answers` sum answers per stage_id × touchpoint_id × measure over the last
    `days` days and over the whole history.
    """
    if history.days <= days:
        return DefaultPeriod(history, "short", days, min_answers)
    recent = Period(history.end - dt.timedelta(days=days - 1), history.end)
    feedback = definitions.filter(pl.col("formula").is_in(FEEDBACK_MEASURES))
    if feedback.is_empty():
        measures = sorted(set(all_answers["measure"]))
        feedback = pl.DataFrame(
            {"label": measures, "formula": measures, "stage_id": None, "touchpoint_id": None},
            schema=DEFINITION_SCHEMA,
        )
    short: list[tuple[int, str]] = []
    for definition in feedback.iter_rows(named=True):
        if _answers_of(definition, all_answers) < min_answers:
            continue  # never measured, whatever the period: no period would help it
        found = _answers_of(definition, recent_answers)
        if found < min_answers:
            short.append((found, str(definition["label"])))
    short += _short_steps(recent_answers, all_answers, min_answers)
    if not short:
        return DefaultPeriod(recent, "recent", days, min_answers)
    answers, label = min(short)
    return DefaultPeriod(history, "sparse", days, min_answers, short_metric=label, short_answers=answers)


def _short_steps(recent_answers: pl.DataFrame, all_answers: pl.DataFrame, min_answers: int) -> list[tuple[int, str]]:
    """Steps × measures with at least `min_answers` answers over the history and fewer in the last days, by
    step name (frames without a `step_id` column name no step)."""
    if "step_id" not in all_answers.columns:
        return []
    keys = ["step_id", "step", "measure"]

    def per_step(answers: pl.DataFrame) -> pl.DataFrame:
        return answers.filter(pl.col("step_id").is_not_null()).group_by(keys).agg(pl.col("answers").sum())

    judged = per_step(all_answers).filter(pl.col("answers") >= min_answers).drop("answers")
    found = judged.join(per_step(recent_answers), on=keys, how="left").with_columns(pl.col("answers").fill_null(0))
    return [
        (int(n), str(step))
        for step, n in found.filter(pl.col("answers") < min_answers).select("step", "answers").rows()
    ]


def _answers(
    connection: Connection, *, journey_id: int, history: Period, since: dt.date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Answers per stage × touchpoint × step × measure since `since` and over `history` (the journey's days
    with data), one statement over the view rollup's pieces of both periods (see `view_rollups`)."""
    r = FeedbackView
    rows_of = period_rows(
        r,
        [Period(since, history.end), history],
        ["stage_id", "touchpoint_id", "step_id", "measure", "answers"],
        r.journey_id == journey_id,
    )
    keys = (rows_of.c.stage_id, rows_of.c.touchpoint_id, rows_of.c.step_id, Step.name, rows_of.c.measure)
    recent, whole = (func.sum(case((rows_of.c.period_index == index, rows_of.c.answers), else_=0)) for index in (0, 1))
    query = (
        select(*keys, recent, whole).select_from(rows_of).outerjoin(Step, Step.id == rows_of.c.step_id).group_by(*keys)
    )
    rows = [tuple(row) for row in connection.execute(query)]
    both = pl.DataFrame(rows, schema={**ANSWER_SCHEMA, "all_answers": pl.Int64}, orient="row")
    recent_answers = both.drop("all_answers").filter(pl.col("answers") > 0)
    return recent_answers, both.drop("answers").rename({"all_answers": "answers"})


def default_period(
    connection: Connection, *, journey_id: int, history: Period, min_answers: int, days: int = DEFAULT_DAYS
) -> DefaultPeriod:
    """The default period of the journey whose data spans `history`, read from the feedback view rollup."""
    m = MetricDefinition
    definitions = pl.DataFrame(
        [
            tuple(row)
            for row in connection.execute(
                select(m.label, m.formula, m.stage_id, m.touchpoint_id).where(m.journey_id == journey_id)
            )
        ],
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

"""Everything the experience map draws for one view, in one call: the queries, then the pure assembly."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection

from data_access.changes import JourneySums
from data_access.conversions import CohortCoverage
from data_access.detection import feedback_findings
from data_access.experience_map.assembly import (
    CohortDays,
    Headline,
    emotional_curve,
    headline_metrics,
    moments_of_truth,
    stage_summary,
    touchpoint_grid,
    with_open_findings,
    with_stage_health,
)
from data_access.experience_map.queries import (
    assumed_emotion_by_stage,
    channels,
    feedback_by_step,
    journey_feedback_by_week,
    touchpoints,
)
from data_access.journey_map.content import open_findings_by_stage
from data_access.metrics import DEFINITION_COLUMNS, stage_status
from data_access.period_sums import CURRENT, PREVIOUS, view_periods
from data_access.scope import Scope


@dataclass(frozen=True)
class ExperienceMapData:
    """Everything the experience map page draws, for one journey, persona and period."""

    grid: pl.DataFrame
    curve: pl.DataFrame
    headlines: list[Headline]
    moments_of_truth: pl.DataFrame
    stages: pl.DataFrame  # with customers, answers, conversion and a one-line summary per stage
    # stages, touchpoints and steps whose low or negative answers point at a problem (`detection.feedback_findings`)
    findings: pl.DataFrame
    cohorts: CohortCoverage  # which cohorts of the period the conversions count: those whose window has closed


def stage_statuses(sums: JourneySums, *, min_answers: int) -> pl.DataFrame:
    """Each stage's status (`metrics.stage_status`) over the metrics its journey page lists, computed by the
    journey page's rules from the view's sums (`changes.stage_metrics_by_stage`): stage_slug, health_status."""
    metrics = sums.stage_metrics(min_answers=min_answers)
    rows = [
        (stage.stage_slug, stage_status(metrics.filter(pl.col("stage_id") == stage.stage_id)["status"]))
        for stage in sums.stages
    ]
    return pl.DataFrame(
        {"stage_slug": [slug for slug, _ in rows], "health_status": [status.value for _, status in rows]},
        schema={"stage_slug": pl.String, "health_status": pl.String},
    )


def load_experience_map(
    connection: Connection, *, scope: Scope, metric: str, min_answers: int, sums: JourneySums | None = None
) -> ExperienceMapData:
    """The experience map of one view; stages carry their journey map's open findings and their status.

    Headlines compare with `scope.compared`. The journey's stages, metric definitions, feedback and event sums
    and cohorts per day come from the view's `changes.JourneySums` (`sums`, when the caller has them: What
    changed reads them too), each rollup read once for both periods.
    """
    journey_id, persona_id = scope.journey_id, scope.persona_id
    sums = sums if sums is not None else JourneySums.load(connection, scope=scope)
    stage_frame = sums.stage_rows
    touchpoint_frame = touchpoints(connection, journey_id=journey_id)
    definitions = sums.definitions.select(*DEFINITION_COLUMNS, "stage_id", "touchpoint_id")
    feedback = sums.feedback.filter(pl.col("period") == CURRENT).drop("period")
    cell_events = sums.events.filter(pl.col("period") == CURRENT).drop("period")
    channel_frame = channels(connection)
    grid = touchpoint_grid(
        stages=stage_frame,
        channels=channel_frame,
        touchpoints=touchpoint_frame,
        feedback=feedback,
        events=cell_events,
        definitions=definitions,
        metric=metric,
        min_answers=min_answers,
    )
    curve = emotional_curve(
        stages=stage_frame,
        feedback=feedback,
        assumed=assumed_emotion_by_stage(connection, journey_id=journey_id, persona_id=persona_id),
        min_answers=min_answers,
    )
    cohort_days = CohortDays(
        entrants=sums.entrant_days,
        conversions=sums.conversion_days,
        maturity=sums.cohorts,
        periods=view_periods(scope),
    )
    entrants = cohort_days.stage_cohorts(CURRENT)
    headlines = headline_metrics(
        feedback=feedback,
        previous_feedback=sums.feedback.filter(pl.col("period") == PREVIOUS).drop("period"),
        daily_feedback=journey_feedback_by_week(
            connection, period=scope.period, journey_id=journey_id, persona_id=persona_id
        ),
        cohorts=cohort_days,
        stages=stage_frame,
        definitions=definitions,
        min_answers=min_answers,
    )
    findings = feedback_findings(
        feedback=feedback, stages=stage_frame, channels=channel_frame, touchpoints=touchpoint_frame,
        definitions=definitions, min_answers=min_answers,
        step_feedback=feedback_by_step(connection, journey_id=journey_id, period=scope.period, persona_id=persona_id),
    )  # fmt: skip
    return ExperienceMapData(
        grid=grid,
        curve=curve,
        headlines=headlines,
        moments_of_truth=moments_of_truth(grid, touchpoint_frame),
        stages=with_stage_health(
            with_open_findings(
                stage_summary(stage_frame, entrants, feedback),
                open_findings_by_stage(connection, journey_id=journey_id, persona_id=persona_id, stages=stage_frame),
            ),
            stage_statuses(sums, min_answers=min_answers),
        ),
        findings=findings,
        cohorts=cohort_days.coverage(CURRENT),
    )

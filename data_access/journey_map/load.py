"""Everything the journey page shows for one stage, in one call: lanes, numbers, findings and evidence."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection

from data_access.conversions import CohortCoverage, cohort_maturity
from data_access.detection import DetectionRules, detect_pain_points
from data_access.journey_map.assembly import step_emotion, step_emotions
from data_access.journey_map.comments import comment_channels, comment_touchpoints, evidence_comments
from data_access.journey_map.content import journey_stages, lane_items, stage_steps
from data_access.journey_map.numbers import (
    StageReads,
    TimeToNextStage,
    stage_funnel,
    stage_metric_definitions,
    stage_metric_trend,
    stage_metrics,
    step_metrics,
    time_to_next_stage,
)
from data_access.metrics import Status, stage_status
from data_access.scope import StageScope


@dataclass(frozen=True)
class JourneyMapData:
    """The journey map of one stage, persona and period: lanes, numbers and findings."""

    stages: pl.DataFrame
    steps: pl.DataFrame
    lane_items: pl.DataFrame
    emotions: pl.DataFrame
    funnel: pl.DataFrame
    time_to_next: TimeToNextStage
    metrics: pl.DataFrame
    trend: pl.DataFrame
    findings: pl.DataFrame
    evidence: pl.DataFrame
    channels: pl.DataFrame
    touchpoints: pl.DataFrame  # the stage's touchpoints, for the comments filter
    status: Status  # the stage's status (`metrics.stage_status`), as the experience map's stage strip shows it
    cohorts: CohortCoverage  # which cohorts of the period the conversions count: those whose window has closed


def load_journey_map(connection: Connection, *, scope: StageScope, min_answers: int) -> JourneyMapData:
    """Every frame of the journey page for one stage; detection uses `DetectionRules(min_base=min_answers)`.

    Metrics compare `scope.period` with `scope.compared`.
    """
    steps = stage_steps(connection, scope=scope)
    items = lane_items(connection, scope=scope)
    stages = journey_stages(connection, journey_id=scope.journey_id)
    maturity = cohort_maturity(connection, journey_id=scope.journey_id)
    reads = StageReads(connection, scope, maturity)  # the numbers below share their rollup reads
    funnel = stage_funnel(connection, scope=scope, steps=steps, reads=reads, stages=stages)
    definitions = stage_metric_definitions(connection, scope=scope)
    metrics = stage_metrics(connection, scope=scope, min_answers=min_answers, definitions=definitions, reads=reads)
    by_step = step_metrics(connection, scope=scope, min_answers=min_answers, definitions=definitions, reads=reads)
    # each step's answers over the period: the sums the metrics read
    measured = step_emotion(reads.feedback(scope.period, grain="period"), min_answers=min_answers)
    findings = detect_pain_points(
        step_metrics=by_step, touchpoint_metrics=metrics, funnel=funnel, steps=steps, lane_items=items,
        rules=DetectionRules(min_base=min_answers),
    )  # fmt: skip
    return JourneyMapData(
        stages=stages,
        steps=steps,
        lane_items=items,
        emotions=step_emotions(steps, items, measured),
        funnel=funnel,
        time_to_next=time_to_next_stage(connection, scope=scope, reads=reads),
        metrics=metrics,
        trend=stage_metric_trend(
            connection, scope=scope, min_answers=min_answers, definitions=definitions, reads=reads
        ),
        findings=findings,
        evidence=evidence_comments(connection, scope=scope, findings=findings),
        channels=comment_channels(connection),
        touchpoints=comment_touchpoints(connection, scope=scope),
        status=stage_status(metrics["status"]),
        cohorts=maturity.coverage(scope.period),
    )

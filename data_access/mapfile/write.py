"""File → database: upsert a checked map by slug inside the caller's session, all or nothing."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from data_access.cohort_rollup import CohortPair, read_pairs
from data_access.data_version import bump_data_version
from data_access.mapfile.checks import check_map, parse_located, raise_problems, repeated_metrics, unlikely_targets
from data_access.mapfile.errors import MapFileError, MapProblem
from data_access.mapfile.schema import JourneySpec, MapFile, MapImportSummary, StageSpec
from data_access.mapfile.yaml_io import format_path
from data_access.metrics import stored_target
from data_access.models import Channel, Journey, LaneItem, MetricDefinition, Persona, Stage, Step, Touchpoint
from data_access.rollups import rebuild_cohorts
from data_access.writers import DIRECT_WRITER, record_import


def import_map(
    session: Session, text: str, *, source: str = "<map>", written_by: str = DIRECT_WRITER
) -> MapImportSummary:
    """Upsert a map file's content by slug inside the caller's transaction; all or nothing.

    Everything is checked before the first write, so a `MapFileError` about the file leaves the session as it
    was. A metric that repeats another (`checks.repeated_metrics`) is imported all the same and named in the
    summary's `warnings`. Should the database still refuse a write, that error is a `MapFileError` too, and the caller's
    transaction must be rolled back (`session_scope` does).
    """
    map_file, locator = parse_located(text, source)
    stored_channels = {c.slug: c for c in session.scalars(select(Channel))}
    stored_personas = {p.slug: p for p in session.scalars(select(Persona))}
    stored_journeys = {
        j.slug: j
        for j in session.scalars(
            select(Journey).options(
                selectinload(Journey.stages).selectinload(Stage.touchpoints),
                selectinload(Journey.stages).selectinload(Stage.steps).selectinload(Step.lane_items),
            )
        )
    }
    problems = check_map(
        map_file,
        stored_channels=list(stored_channels),
        stored_personas=list(stored_personas),
        stored_journeys=list(stored_journeys),
    )
    raise_problems(source, locator, problems)
    try:
        conversions_before = _conversion_shape(session)
        with session.no_autoflush:
            summary = _write_map(session, map_file, stored_channels, stored_personas, stored_journeys)
        session.flush()
        conversions_after = _conversion_shape(session)
        changed = [
            journey_id
            for journey_id, shape in conversions_before.items()
            if conversions_after.get(journey_id, shape) != shape
        ]
        if changed:
            # the stored first entries stay; which conversions they make depends on the map
            rebuild_cohorts(session.connection(), journey_ids=changed)
        record_import(session, kind="map", source=Path(source).name, inserted=None, written_by=written_by)
        bump_data_version(session)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise MapFileError(source, [MapProblem("", f"the database refused the map: {reason}")]) from exc
    warnings = [
        MapProblem(format_path(loc), message, locator.line(loc)).describe(source)
        for loc, message in [*repeated_metrics(map_file), *unlikely_targets(map_file)]
    ]
    return dataclasses.replace(summary, warnings=warnings)


def _conversion_shape(session: Session) -> dict[int, tuple[int, frozenset[CohortPair]]]:
    """Per stored journey, what its cohort rollup depends on in the map: the window and the pairs."""
    connection = session.connection()
    windows = dict(connection.execute(select(Journey.id, Journey.conversion_window_days)).tuples().all())
    pairs: dict[int, set[CohortPair]] = {journey_id: set() for journey_id in windows}
    for pair in read_pairs(connection):
        pairs[pair.journey_id].add(pair)
    return {journey_id: (window, frozenset(pairs[journey_id])) for journey_id, window in windows.items()}


def _write_map(
    session: Session, map_file: MapFile,
    channels: dict[str, Channel], personas: dict[str, Persona], journeys: dict[str, Journey],
) -> MapImportSummary:  # fmt: skip
    for position, channel_spec in enumerate(map_file.channels):
        channel = channels.get(channel_spec.slug)
        if channel is None:
            channel = channels[channel_spec.slug] = Channel(slug=channel_spec.slug)
            session.add(channel)
        channel.name, channel.kind, channel.position = channel_spec.name, channel_spec.kind.value, position

    for persona_spec in map_file.personas:
        persona = personas.get(persona_spec.slug)
        if persona is None:
            persona = personas[persona_spec.slug] = Persona(slug=persona_spec.slug)
            session.add(persona)
        persona.name = persona_spec.name
        persona.description, persona.goals = persona_spec.description, persona_spec.goals
        persona.frustrations = persona_spec.frustrations
        empathy = persona_spec.empathy_map
        persona.thinks, persona.feels, persona.says, persona.does = (
            empathy.thinks,
            empathy.feels,
            empathy.says,
            empathy.does,
        )

    created: list[str] = []
    updated: list[str] = []
    counts = {"stages": 0, "touchpoints": 0, "steps": 0, "lane_items": 0, "metrics": 0}
    written: list[tuple[Journey, JourneySpec]] = []
    for journey_spec in map_file.journeys:
        journey = journeys.get(journey_spec.slug)
        if journey is None:
            journey = journeys[journey_spec.slug] = Journey(slug=journey_spec.slug)
            session.add(journey)
            created.append(journey_spec.slug)
        else:
            updated.append(journey_spec.slug)
        journey.name, journey.kind = journey_spec.name, journey_spec.kind.value
        journey.owner, journey.description = journey_spec.owner, journey_spec.description
        journey.conversion_window_days = journey_spec.conversion_window_days
        journey.stages = [_write_stage(journey, position, spec, channels, personas, counts)
                          for position, spec in enumerate(journey_spec.stages)]  # fmt: skip
        written.append((journey, journey_spec))
    for journey, journey_spec in written:
        journey.improves = journeys[journey_spec.improves] if journey_spec.improves is not None else None

    # metric definitions point at stages and touchpoints by id, so those need their ids first
    session.flush()
    for journey, journey_spec in written:
        counts["metrics"] += _write_metrics(session, journey, journey_spec)
    return MapImportSummary(
        channels=len(map_file.channels),
        personas=len(map_file.personas),
        journeys_created=created,
        journeys_updated=updated,
        stages=counts["stages"],
        touchpoints=counts["touchpoints"],
        steps=counts["steps"],
        lane_items=counts["lane_items"],
        metrics=counts["metrics"],
    )


def _write_stage(
    journey: Journey,
    position: int,
    spec: StageSpec,
    channels: dict[str, Channel],
    personas: dict[str, Persona],
    counts: dict[str, int],
) -> Stage:
    stage = next((s for s in journey.stages if s.slug == spec.slug), None) or Stage(slug=spec.slug)
    stage.name, stage.position, stage.description = spec.name, position, spec.description

    stored_touchpoints = {t.slug: t for t in stage.touchpoints}
    touchpoints = []
    for touchpoint_spec in spec.touchpoints:
        touchpoint = stored_touchpoints.get(touchpoint_spec.slug) or Touchpoint(slug=touchpoint_spec.slug)
        touchpoint.name, touchpoint.channel = touchpoint_spec.name, channels[touchpoint_spec.channel]
        touchpoint.owner, touchpoint.description = touchpoint_spec.owner, touchpoint_spec.description
        touchpoint.moment_of_truth = touchpoint_spec.moment_of_truth
        touchpoints.append(touchpoint)
    stage.touchpoints = touchpoints
    by_slug = {t.slug: t for t in touchpoints}

    stored_steps = {s.slug: s for s in stage.steps}
    steps = []
    for step_position, step_spec in enumerate(spec.steps):
        step = stored_steps.get(step_spec.slug) or Step(slug=step_spec.slug)
        step.name, step.position, step.description = step_spec.name, step_position, step_spec.description
        step.touchpoint = by_slug[step_spec.touchpoint] if step_spec.touchpoint is not None else None
        step.kind, step.alternative_group = step_spec.kind.value, step_spec.group
        step.lane_items = [
            LaneItem(
                lane=lane.value, text=item.text, position=item_position,
                persona=personas[item.persona] if item.persona is not None else None,
                emotion=item.emotion, severity=item.severity, evidence=item.evidence,
                owner=item.owner, status=item.status, impact=item.impact, effort=item.effort,
            )
            for item_position, (lane, item) in enumerate(
                (lane, item) for lane, items in step_spec.lanes.by_lane() for item in items
            )
        ]  # fmt: skip
        counts["lane_items"] += len(step.lane_items)
        steps.append(step)
    stage.steps = steps
    counts["stages"] += 1
    counts["touchpoints"] += len(touchpoints)
    counts["steps"] += len(steps)
    return stage


def _write_metrics(session: Session, journey: Journey, spec: JourneySpec) -> int:
    stored = {
        m.key: m for m in session.scalars(select(MetricDefinition).where(MetricDefinition.journey_id == journey.id))
    }
    stages = {stage.slug: stage for stage in journey.stages}
    for metric_spec in spec.metrics:
        metric = stored.pop(metric_spec.key, None)
        if metric is None:
            metric = MetricDefinition(journey_id=journey.id, key=metric_spec.key)
            session.add(metric)
        stage = stages[metric_spec.stage] if metric_spec.stage is not None else None
        touchpoint = (
            next(t for t in stage.touchpoints if t.slug == metric_spec.touchpoint)
            if stage is not None and metric_spec.touchpoint is not None
            else None
        )
        metric.label, metric.formula, metric.unit = metric_spec.label, metric_spec.formula.value, metric_spec.unit
        formula = metric_spec.formula.value
        metric.direction, metric.target, metric.warning = (
            metric_spec.direction.value,
            stored_target(formula, metric_spec.target),
            stored_target(formula, metric_spec.warning) or 0.0,
        )
        metric.stage_id = stage.id if stage is not None else None
        metric.touchpoint_id = touchpoint.id if touchpoint is not None else None
    for removed in stored.values():
        session.delete(removed)
    return len(spec.metrics)

"""Database → file: the map the database holds as a `MapFile` in canonical order, and as YAML text."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from data_access import models
from data_access.mapfile.schema import (
    LANE_FIELDS,
    LANE_ORDER,
    MAP_FILE_VERSION,
    ChannelSpec,
    EmpathyMapSpec,
    JourneySpec,
    LaneItemSpec,
    LanesSpec,
    MapFile,
    MetricSpec,
    PersonaSpec,
    StageSpec,
    StepSpec,
    TouchpointSpec,
)
from data_access.mapfile.yaml_io import render_map
from data_access.metrics import Formula, written_target
from data_access.models import Channel, Journey, LaneItem, MetricDefinition, Persona, Stage, Step, Touchpoint


def _lane_item_spec(item: LaneItem) -> LaneItemSpec:
    lane = models.Lane(item.lane)
    lane_fields = {name: getattr(item, name) for name in LANE_FIELDS[lane]}
    persona = item.persona.slug if item.persona is not None else None
    return LaneItemSpec.model_validate({"text": item.text, "persona": persona, **lane_fields})


def read_map(session: Session) -> MapFile:
    """Everything the map holds, as a `MapFile` in the file's canonical order."""
    channels = sorted(session.scalars(select(Channel)), key=lambda c: (c.position, c.slug))
    channel_rank = {channel.id: rank for rank, channel in enumerate(channels)}
    personas = session.scalars(select(Persona).order_by(Persona.slug))
    journeys = session.scalars(
        select(Journey)
        .order_by(Journey.slug)
        .options(
            selectinload(Journey.improves),
            selectinload(Journey.stages).selectinload(Stage.touchpoints).selectinload(Touchpoint.channel),
            selectinload(Journey.stages).selectinload(Stage.steps).selectinload(Step.touchpoint),
            selectinload(Journey.stages)
            .selectinload(Stage.steps)
            .selectinload(Step.lane_items)
            .selectinload(LaneItem.persona),
        )
    ).all()
    metrics_by_journey: dict[int, list[MetricDefinition]] = {}
    for metric in session.scalars(select(MetricDefinition).order_by(MetricDefinition.key)):
        metrics_by_journey.setdefault(metric.journey_id, []).append(metric)
    stage_slugs = {stage.id: stage.slug for journey in journeys for stage in journey.stages}
    touchpoints = {t.id: t for journey in journeys for stage in journey.stages for t in stage.touchpoints}

    def stage_spec(stage: Stage) -> StageSpec:
        steps = []
        for step in sorted(stage.steps, key=lambda s: (s.position, s.slug)):
            lanes: dict[str, list[LaneItemSpec]] = {}
            for item in sorted(step.lane_items, key=lambda i: (LANE_ORDER.get(i.lane, 99), i.position, i.id)):
                lanes.setdefault(item.lane, []).append(_lane_item_spec(item))
            steps.append(
                StepSpec(
                    slug=step.slug,
                    name=step.name,
                    touchpoint=step.touchpoint.slug if step.touchpoint is not None else None,
                    kind=models.StepKind(step.kind),
                    group=step.alternative_group,
                    description=step.description,
                    lanes=LanesSpec.model_validate(lanes),
                )
            )
        return StageSpec(
            slug=stage.slug,
            name=stage.name,
            description=stage.description,
            touchpoints=[
                TouchpointSpec(
                    slug=t.slug,
                    name=t.name,
                    channel=t.channel.slug,
                    owner=t.owner,
                    moment_of_truth=t.moment_of_truth,
                    description=t.description,
                )
                for t in sorted(stage.touchpoints, key=lambda t: (channel_rank[t.channel_id], t.slug))
            ],
            steps=steps,
        )

    def metric_spec(metric: MetricDefinition) -> MetricSpec:
        touchpoint = touchpoints.get(metric.touchpoint_id) if metric.touchpoint_id is not None else None
        stage_id = touchpoint.stage_id if touchpoint is not None else metric.stage_id
        return MetricSpec(
            key=metric.key,
            label=metric.label,
            formula=Formula(metric.formula),
            unit=metric.unit,
            direction=models.Direction(metric.direction),
            target=written_target(metric.formula, metric.target),
            warning=written_target(metric.formula, metric.warning) or 0.0,
            stage=stage_slugs[stage_id] if stage_id is not None else None,
            touchpoint=touchpoint.slug if touchpoint is not None else None,
        )

    return MapFile(
        version=MAP_FILE_VERSION,
        channels=[ChannelSpec(slug=c.slug, name=c.name, kind=models.ChannelKind(c.kind)) for c in channels],
        personas=[
            PersonaSpec(
                slug=p.slug,
                name=p.name,
                description=p.description,
                goals=p.goals,
                frustrations=p.frustrations,
                empathy_map=EmpathyMapSpec(thinks=p.thinks, feels=p.feels, says=p.says, does=p.does),
            )
            for p in personas
        ],
        journeys=[
            JourneySpec(
                slug=journey.slug,
                name=journey.name,
                kind=models.JourneyKind(journey.kind),
                improves=journey.improves.slug if journey.improves is not None else None,
                owner=journey.owner,
                description=journey.description,
                conversion_window_days=journey.conversion_window_days,
                stages=[stage_spec(stage) for stage in sorted(journey.stages, key=lambda s: (s.position, s.slug))],
                metrics=[metric_spec(metric) for metric in metrics_by_journey.get(journey.id, [])],
            )
            for journey in journeys
        ],
    )


def canonical_map(map_file: MapFile) -> MapFile:
    """The same map in the order an export writes it, so two equal maps render to the same text."""
    channel_rank = {channel.slug: rank for rank, channel in enumerate(map_file.channels)}
    journeys = []
    for journey in sorted(map_file.journeys, key=lambda j: j.slug):
        stages = [
            stage.model_copy(
                update={
                    "touchpoints": sorted(
                        stage.touchpoints, key=lambda t: (channel_rank.get(t.channel, len(channel_rank)), t.slug)
                    )
                }
            )
            for stage in journey.stages
        ]
        journeys.append(
            journey.model_copy(update={"stages": stages, "metrics": sorted(journey.metrics, key=lambda m: m.key)})
        )
    return map_file.model_copy(
        update={"personas": sorted(map_file.personas, key=lambda p: p.slug), "journeys": journeys}
    )


def export_map(session: Session) -> str:
    """The whole map (channels, personas, journeys with everything in them) as YAML text."""
    return render_map(read_map(session))

"""The demo map read into the generator's arrays: stage, step, channel and persona order, each step's
touchpoint and channel, the comment texts per step and band, and the database ids the facts refer to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from data_access.demo.parameters import (
    CHANNEL_AFFINITY,
    CHANNEL_EVENT_TYPES,
    CHANNEL_MIX,
    CHANNELS,
    CURRENT_SLUG,
    DATA_DAYS,
    DATA_START,
    DAY_OF_WEEK,
    HOUR_OF_DAY,
    MEASURE_MIX,
    PERSONAS,
    STAGES,
    STEP_EVENTS,
)
from data_access.mapfile import MapFile
from data_access.models import Channel, Journey, Measure, Persona, Stage, Step, StepKind, Touchpoint

N_STAGES = len(STAGES)
N_CHANNELS = len(CHANNELS)
N_PERSONAS = len(PERSONAS)
MEASURES = (Measure.NPS, Measure.CSAT, Measure.CES, Measure.SENTIMENT)
NPS, CSAT, CES, SENTIMENT = range(len(MEASURES))
BANDS = ("bad", "neutral", "good")  # how a score reads on its scale; the keys of comments.yaml
BAD, NEUTRAL, GOOD = range(len(BANDS))


@dataclass(frozen=True)
class Shape:
    """Lookup arrays of the current-state journey by position: stages and channels in the order of
    `parameters` (checked to be the map's), steps and touchpoints in the map's order."""

    steps: tuple[tuple[str, ...], ...]  # step slugs per stage
    touchpoints: tuple[tuple[str, str], ...]  # (stage slug, touchpoint slug)
    max_steps: int
    steps_per_stage: np.ndarray  # (stages,)
    visit_share: np.ndarray  # (stages, max_steps), 0 beyond the stage's steps
    alternative_group: np.ndarray  # (stages, max_steps) index of the step's alternative group or -1
    alternative_low: np.ndarray  # (stages, max_steps) an alternative is taken when its group's draw
    alternative_high: np.ndarray  # falls in [low, high): exactly one of a group, shares its visit_share
    group_position: np.ndarray  # (groups,) position of the group's first step in its stage
    step_event_type: np.ndarray  # (stages, max_steps) index into event_types
    step_touchpoint: np.ndarray  # (stages, max_steps) index into touchpoints or -1
    touchpoint_channel: np.ndarray  # (touchpoints,)
    cell_touchpoint: np.ndarray  # (stages, channels) first touchpoint of the cell or -1
    event_types: tuple[str, ...]
    channel_event_type: np.ndarray  # (channels,) event type forced by the channel or -1
    channel_cdf: np.ndarray  # (personas, stages, channels)
    measure_cdf: np.ndarray  # (stages, measures)
    day_weights: np.ndarray  # (DATA_DAYS,)
    hour_weights: np.ndarray  # (24,)
    comments: tuple[str, ...]
    comment_offset: np.ndarray  # (comment groups, bands): first text of (group, band) in `comments`
    comment_count: np.ndarray  # (comment groups, bands)
    step_comments: np.ndarray  # (stages, max_steps) the step's comment group
    channel_comments: np.ndarray  # (stages, max_steps, channels) the step's group for that channel or -1


def _check_axes(map_file: MapFile) -> None:
    """The parameters' tables are laid out along the map's stages, channels and personas."""
    journey = next((j for j in map_file.journeys if j.slug == CURRENT_SLUG), None)
    if journey is None:
        raise ValueError(f"the demo map has no journey '{CURRENT_SLUG}'")
    axes = {
        "stages": ([s.slug for s in journey.stages], list(STAGES)),
        "channels": ([c.slug for c in map_file.channels], list(CHANNELS)),
        "personas": (sorted(p.slug for p in map_file.personas), sorted(PERSONAS)),
        "steps": (
            [[step.slug for step in stage.steps] for stage in journey.stages],
            [list(STEP_EVENTS.get(stage.slug, {})) for stage in journey.stages],
        ),
    }
    for name, (in_map, in_parameters) in axes.items():
        if in_map != in_parameters:
            raise ValueError(f"the demo map's {name} {in_map} are not the generator's {in_parameters}")


def shape_of(map_file: MapFile, comments: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> Shape:
    """The lookup arrays of the current-state journey in `map_file`, with the comment texts by stage, step,
    band and (where a step has texts of its own for a channel) channel: comments.yaml's layout."""
    _check_axes(map_file)
    journey = next(j for j in map_file.journeys if j.slug == CURRENT_SLUG)
    channel_of = {(stage.slug, t.slug): t.channel for stage in journey.stages for t in stage.touchpoints}
    touchpoint_keys = list(channel_of)
    steps = tuple(tuple(step.slug for step in stage.steps) for stage in journey.stages)
    max_steps = max(len(stage_steps) for stage_steps in steps)
    event_types = tuple(
        sorted(
            {e.event_type for stage_steps in STEP_EVENTS.values() for e in stage_steps.values()}
            | set(CHANNEL_EVENT_TYPES.values())
        )
    )
    steps_per_stage = np.array([len(stage_steps) for stage_steps in steps])
    visit_share = np.zeros((N_STAGES, max_steps))
    step_event_type = np.zeros((N_STAGES, max_steps), dtype=np.int64)
    step_touchpoint = np.full((N_STAGES, max_steps), -1)
    for s, stage in enumerate(journey.stages):
        for j, step in enumerate(stage.steps):
            settings = STEP_EVENTS[stage.slug][step.slug]
            visit_share[s, j] = settings.visit_share
            step_event_type[s, j] = event_types.index(settings.event_type)
            if step.touchpoint is not None:
                step_touchpoint[s, j] = touchpoint_keys.index((stage.slug, step.touchpoint))
    alternative_group = np.full((N_STAGES, max_steps), -1)
    alternative_low = np.zeros((N_STAGES, max_steps))
    alternative_high = np.zeros((N_STAGES, max_steps))
    group_index: dict[tuple[int, str], int] = {}
    group_position: list[int] = []
    for s, stage in enumerate(journey.stages):
        for j, step in enumerate(stage.steps):
            if step.kind != StepKind.ALTERNATIVE or step.group is None:
                continue
            if (s, step.group) not in group_index:
                group_index[s, step.group] = len(group_position)
                group_position.append(j)
            g = group_index[s, step.group]
            taken = alternative_high[alternative_group == g].max(initial=0.0)
            alternative_group[s, j] = g
            alternative_low[s, j], alternative_high[s, j] = taken, taken + visit_share[s, j]
    if (alternative_high > 1 + 1e-9).any() or (alternative_group[:, 0] >= 0).any():
        raise ValueError("an alternative group's shares add up to more than 1, or a stage starts with one")
    touchpoint_channel = np.array([CHANNELS.index(channel_of[key]) for key in touchpoint_keys])
    cell_touchpoint = np.full((N_STAGES, N_CHANNELS), -1)
    for i, (stage_slug, _) in reversed(list(enumerate(touchpoint_keys))):
        cell_touchpoint[STAGES.index(stage_slug), touchpoint_channel[i]] = i
    if ((CHANNEL_MIX > 0) & (cell_touchpoint < 0)).any():
        raise ValueError("the channel mix sends events to a stage × channel cell without a touchpoint")
    channel_event_type = np.array(
        [event_types.index(CHANNEL_EVENT_TYPES[c]) if c in CHANNEL_EVENT_TYPES else -1 for c in CHANNELS]
    )

    mix = CHANNEL_MIX[None, :, :] * CHANNEL_AFFINITY[:, None, :]
    channel_cdf = np.cumsum(mix / mix.sum(axis=2, keepdims=True), axis=2)
    measure_cdf = np.cumsum(MEASURE_MIX / MEASURE_MIX.sum(axis=1, keepdims=True), axis=1)

    day = np.arange(DATA_DAYS)
    weekday = (DATA_START.weekday() + day) % 7
    day_of_year = (DATA_START.timetuple().tm_yday + day) % 365
    # autumn/winter peak around early December, plus the Black Friday fortnight
    season = 1.0 + 0.35 * np.cos(2 * np.pi * (day_of_year - 340) / 365)
    black_friday = np.where((day_of_year >= 325) & (day_of_year <= 338), 1.4, 1.0)
    day_weights = DAY_OF_WEEK[weekday] * season * black_friday

    # comment groups: one per step (its texts for any channel), one per step × channel with its own texts
    texts: list[str] = []
    offsets: list[list[int]] = []
    counts: list[list[int]] = []
    step_comments = np.zeros((N_STAGES, max_steps), dtype=np.int64)
    channel_comments = np.full((N_STAGES, max_steps, N_CHANNELS), -1, dtype=np.int64)

    def add_group(by_band: Mapping[str, Sequence[str]]) -> int:
        offsets.append([])
        counts.append([])
        for band_name in BANDS:
            group_texts = list(by_band.get(band_name, ()))
            offsets[-1].append(len(texts))
            counts[-1].append(len(group_texts))
            texts.extend(group_texts)
        return len(offsets) - 1

    for s, stage in enumerate(journey.stages):
        for j, step in enumerate(stage.steps):
            written = comments.get(stage.slug, {}).get(step.slug, {})
            step_comments[s, j] = add_group(written)
            for channel, by_band in written.items():
                if channel not in BANDS:
                    if channel not in CHANNELS:
                        raise ValueError(f"comments for {stage.slug}/{step.slug} name an unknown channel '{channel}'")
                    channel_comments[s, j, CHANNELS.index(channel)] = add_group(by_band)
    return Shape(
        steps=steps, touchpoints=tuple(touchpoint_keys), max_steps=max_steps, steps_per_stage=steps_per_stage,
        visit_share=visit_share, alternative_group=alternative_group,
        alternative_low=alternative_low, alternative_high=alternative_high,
        group_position=np.array(group_position, dtype=np.int64),
        step_event_type=step_event_type, step_touchpoint=step_touchpoint, touchpoint_channel=touchpoint_channel,
        cell_touchpoint=cell_touchpoint, event_types=event_types, channel_event_type=channel_event_type,
        channel_cdf=channel_cdf, measure_cdf=measure_cdf,
        day_weights=day_weights / day_weights.sum(),
        hour_weights=HOUR_OF_DAY / HOUR_OF_DAY.sum(),
        comments=tuple(texts),
        comment_offset=np.array(offsets, dtype=np.int64).reshape(-1, len(BANDS)),
        comment_count=np.array(counts, dtype=np.int64).reshape(-1, len(BANDS)),
        step_comments=step_comments, channel_comments=channel_comments,
    )  # fmt: skip


@dataclass(frozen=True)
class Ids:
    """Database ids of the current-state map, laid out like `Shape`'s arrays."""

    journey: int
    stages: np.ndarray
    channels: np.ndarray
    personas: np.ndarray
    steps: np.ndarray  # (stages, max_steps), -1 beyond the stage's steps
    touchpoints: np.ndarray


def ids_of(connection: Connection, shape: Shape) -> Ids:
    """The ids the imported map gave the current-state journey's rows, looked up by slug."""
    journey_id = connection.scalar(select(Journey.id).where(Journey.slug == CURRENT_SLUG))
    if journey_id is None:
        raise ValueError(f"the database holds no journey '{CURRENT_SLUG}'")
    stages = {
        slug: id_
        for slug, id_ in connection.execute(select(Stage.slug, Stage.id).where(Stage.journey_id == journey_id))
    }
    channels = {slug: id_ for slug, id_ in connection.execute(select(Channel.slug, Channel.id))}
    personas = {slug: id_ for slug, id_ in connection.execute(select(Persona.slug, Persona.id))}
    steps = {
        (stage, step): id_
        for stage, step, id_ in connection.execute(
            select(Stage.slug, Step.slug, Step.id).join(Stage).where(Stage.journey_id == journey_id)
        )
    }
    touchpoints = {
        (stage, touchpoint): id_
        for stage, touchpoint, id_ in connection.execute(
            select(Stage.slug, Touchpoint.slug, Touchpoint.id).join(Stage).where(Stage.journey_id == journey_id)
        )
    }
    step_ids = np.full((N_STAGES, shape.max_steps), -1, dtype=np.int64)
    for s, stage_slug in enumerate(STAGES):
        for j, step_slug in enumerate(shape.steps[s]):
            step_ids[s, j] = steps[stage_slug, step_slug]
    return Ids(
        journey=journey_id,
        stages=np.array([stages[slug] for slug in STAGES]),
        channels=np.array([channels[slug] for slug in CHANNELS]),
        personas=np.array([personas[slug] for slug in PERSONAS]),
        steps=step_ids,
        touchpoints=np.array([touchpoints[key] for key in shape.touchpoints]),
    )

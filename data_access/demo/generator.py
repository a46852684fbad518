"""The demo's facts: customers walking the current-state map, generated from a seed with numpy.

The generator reads the map's shape from the parsed `northwind.yaml` (stage, step and channel order,
each step's touchpoint and that touchpoint's channel) and everything else from `parameters`. It is fully
vectorised and works in chunks of customers, so the same seed and size always give the same rows and
10k or 10M events take bounded memory.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl

from data_access.demo.parameters import (
    CALL_CENTRE_COMMENT_SHARE,
    CHANNEL_EFFECT,
    COMMENT_SHARE,
    CONTINUE,
    DATA_DAYS,
    DATA_START,
    FEEDBACK_PER_EVENT,
    FEEDBACK_WEIGHT,
    GAP_MEDIAN_DAYS,
    GAP_SIGMA,
    MONTHLY_PRICE,
    PERSONA_EFFECT,
    PERSONA_MIX,
    PRICED_EVENT_TYPES,
    REPEAT_RATE,
    STAGE_EFFECT,
    STEP_CHANNEL_SHARE,
    TREND_OVER_YEAR,
)
from data_access.demo.shape import BAD, CES, CSAT, GOOD, MEASURES, N_PERSONAS, N_STAGES, NEUTRAL, NPS, Ids, Shape
from data_access.metrics import SCALES

CHUNK_CUSTOMERS = 50_000  # bounds memory: about 600k events per chunk
FIRST_GUESS_EVENTS_PER_CUSTOMER = 11.0


def _sample(cdf: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """Index drawn from each row's cumulative distribution."""
    index: np.ndarray = np.minimum((uniform[:, None] > cdf).sum(axis=1), cdf.shape[1] - 1)
    return index


@dataclass
class EventBatch:
    """Events of a chunk of customers, as positions into the `Shape`; sorted by customer."""

    customer: np.ndarray  # customer number
    persona: np.ndarray
    seconds: np.ndarray  # seconds since DATA_START
    stage: np.ndarray
    step: np.ndarray
    channel: np.ndarray
    event_type: np.ndarray
    value: np.ndarray

    def take(self, mask: np.ndarray) -> EventBatch:
        return EventBatch(*(getattr(self, name)[mask] for name in self.__dataclass_fields__))


def _generate_events(rng: np.random.Generator, shape: Shape, *, customers: int, first_customer: int) -> EventBatch:
    """A chunk of customers walking the funnel: stage entries in order, events across each stage's steps."""
    n = customers
    horizon = DATA_DAYS * 86_400
    persona = rng.choice(N_PERSONAS, size=n, p=PERSONA_MIX)
    day = rng.choice(DATA_DAYS, size=n, p=shape.day_weights)
    start = day * 86_400 + rng.choice(24, size=n, p=shape.hour_weights) * 3_600 + rng.integers(0, 3_600, size=n)

    goes_on = rng.random((n, N_STAGES - 1)) < CONTINUE[persona]
    stages_reached = 1 + np.cumprod(goes_on, axis=1).sum(axis=1)
    gaps = rng.lognormal(np.log(GAP_MEDIAN_DAYS * 86_400), GAP_SIGMA, size=(n, N_STAGES))
    entry = start[:, None] + np.concatenate([np.zeros((n, 1)), np.cumsum(gaps[:, :-1], axis=1)], axis=1)
    in_stage = (np.arange(N_STAGES) < stages_reached[:, None]) & (entry < horizon)

    # one row per customer × stage reached
    cust, stage = np.nonzero(in_stage)
    moved_on = np.zeros(len(cust), dtype=bool)
    not_last = stage < N_STAGES - 1
    moved_on[not_last] = in_stage[cust[not_last], stage[not_last] + 1]
    steps = shape.steps_per_stage[stage]
    last_step = np.where(moved_on, steps - 1, rng.integers(0, steps))  # in-stage drop-off for those who stop
    positions = np.arange(shape.max_steps)
    visited = (positions <= last_step[:, None]) & (
        (positions == 0) | (rng.random((len(cust), shape.max_steps)) < shape.visit_share[stage])
    )
    # an alternative group: whoever gets as far as its first step takes exactly one of its steps
    group = shape.alternative_group[stage]
    if len(shape.group_position):
        # drawn from a generator of its own, so the other draws (and the rest of the demo) stay as they were
        choice = np.random.default_rng(rng.bit_generator.seed_seq.spawn(1)[0])  # type: ignore[attr-defined]
        draw = choice.random((len(cust), len(shape.group_position)))[
            np.arange(len(cust))[:, None], np.maximum(group, 0)
        ]
        taken = (draw >= shape.alternative_low[stage]) & (draw < shape.alternative_high[stage])
        reached = shape.group_position[np.maximum(group, 0)] <= last_step[:, None]
        visited = np.where(group >= 0, taken & reached, visited)

    # one row per event: each visited step once, plus repeat visits
    row, step = np.nonzero(visited)
    repeats = 1 + rng.poisson(REPEAT_RATE[stage[row]])
    row, step = np.repeat(row, repeats), np.repeat(step, repeats)
    event_stage = stage[row]
    event_customer = cust[row]
    slot = 0.9 * gaps[event_customer, event_stage] / steps[row]  # the steps share the time before the next stage
    seconds = (entry[event_customer, event_stage] + slot * (step + rng.random(len(row)))).astype(np.int64)
    event_persona = persona[event_customer]

    channel = _sample(shape.channel_cdf[event_persona, event_stage], rng.random(len(row)))
    step_touchpoint = shape.step_touchpoint[event_stage, step]
    own_channel = (step_touchpoint >= 0) & (rng.random(len(row)) < STEP_CHANNEL_SHARE)
    channel = np.where(own_channel, shape.touchpoint_channel[step_touchpoint], channel)

    event_type = shape.step_event_type[event_stage, step]
    forced = shape.channel_event_type[channel]
    priced = np.isin(event_type, [shape.event_types.index(t) for t in PRICED_EVENT_TYPES])
    event_type = np.where((forced >= 0) & ~priced, forced, event_type)
    price = np.round(rng.lognormal(np.log(MONTHLY_PRICE[event_persona]), 0.25)) - 0.01
    value = np.where(priced, price, np.nan)

    batch = EventBatch(
        customer=first_customer + event_customer, persona=event_persona, seconds=seconds, stage=event_stage,
        step=step, channel=channel, event_type=event_type, value=value,
    )  # fmt: skip
    return batch.take(seconds < horizon)


@dataclass
class FeedbackBatch:
    customer: np.ndarray
    persona: np.ndarray
    seconds: np.ndarray
    stage: np.ndarray
    step: np.ndarray
    channel: np.ndarray  # -1: not recorded
    touchpoint: np.ndarray  # -1: not recorded
    measure: np.ndarray
    score: np.ndarray
    comment: np.ndarray  # index into shape.comments, -1: no comment


def _generate_feedback(rng: np.random.Generator, shape: Shape, events: EventBatch) -> FeedbackBatch:
    """Answers that follow some events: NPS late in the journey, CES at effortful stages, CSAT after touchpoints."""
    weight = FEEDBACK_WEIGHT[events.stage]
    chance = np.minimum(1.0, FEEDBACK_PER_EVENT * weight / max(weight.mean(), 1e-9))
    answered = events.take(rng.random(len(weight)) < chance)
    n = len(answered.stage)
    measure = _sample(shape.measure_cdf[answered.stage], rng.random(n))

    horizon = DATA_DAYS * 86_400
    delay = rng.lognormal(np.log(4 * 3_600), 1.0, size=n).astype(np.int64)
    seconds = np.minimum(answered.seconds + delay, horizon - 1)
    mood = (
        rng.standard_normal(n)
        + STAGE_EFFECT[answered.stage]
        + CHANNEL_EFFECT[answered.channel]
        + PERSONA_EFFECT[answered.persona]
        + TREND_OVER_YEAR * (seconds / horizon - 0.5)
    )
    score = np.select(
        [measure == NPS, measure == CSAT, measure == CES],
        [
            np.clip(np.rint(8.0 + 1.8 * mood), 0, 10),
            np.clip(np.rint(4.1 + 0.95 * mood), 1, 5),
            np.clip(np.rint(5.3 + 1.2 * mood), 1, 7),
        ],
        default=np.where(mood > 0.4, 1.0, np.where(mood < -0.6, -1.0, 0.0)),
    )

    # CSAT and CES are about a touchpoint; NPS about the relationship; sentiment about a channel
    step_touchpoint = shape.step_touchpoint[answered.stage, answered.step]
    own = (step_touchpoint >= 0) & (shape.touchpoint_channel[np.maximum(step_touchpoint, 0)] == answered.channel)
    touchpoint = np.where(own, step_touchpoint, shape.cell_touchpoint[answered.stage, answered.channel])
    about_touchpoint = (measure == CSAT) | (measure == CES)
    touchpoint = np.where(about_touchpoint, touchpoint, -1)
    channel = np.where(measure == NPS, -1, answered.channel)

    good_from = np.array([SCALES[m].good_from for m in MEASURES])[measure]
    bad_to = np.array([SCALES[m].bad_to for m in MEASURES])[measure]
    band = np.where(score >= good_from, GOOD, np.where(score <= bad_to, BAD, NEUTRAL))
    # the text fits the step answered at; good and bad answers recorded through a channel with texts of its
    # own at that step take theirs from there some of the time
    own_group = np.where(channel >= 0, shape.channel_comments[answered.stage, answered.step, channel], -1)
    group = np.where(
        (own_group >= 0) & (band != NEUTRAL) & (rng.random(n) < CALL_CENTRE_COMMENT_SHARE),
        own_group,
        shape.step_comments[answered.stage, answered.step],
    )
    pick = (rng.random(n) * shape.comment_count[group, band]).astype(np.int64)
    has_comment = (rng.random(n) < COMMENT_SHARE) & (shape.comment_count[group, band] > 0)
    comment = np.where(has_comment, shape.comment_offset[group, band] + pick, -1)

    return FeedbackBatch(
        customer=answered.customer,
        persona=answered.persona,
        seconds=seconds,
        stage=answered.stage,
        step=answered.step,
        channel=channel,
        touchpoint=touchpoint,
        measure=measure,
        score=score,
        comment=comment,
    )


def _timestamps(seconds: np.ndarray) -> pl.Series:
    moments = np.datetime64(DATA_START, "s") + seconds.astype("timedelta64[s]")
    return pl.Series(moments.astype("datetime64[us]"))


def _customer_ids(numbers: np.ndarray) -> pl.Expr:
    return pl.format("NW-{}", pl.lit(pl.Series(numbers)).cast(pl.String).str.zfill(7))


def _optional_ids(ids: np.ndarray, index: np.ndarray) -> pl.Series:
    """Database ids for positions, null where the position is -1."""
    return pl.Series(np.where(index >= 0, ids[np.maximum(index, 0)], np.nan), nan_to_null=True).cast(pl.Int64)


def event_frame(batch: EventBatch, shape: Shape, ids: Ids) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "occurred_at": _timestamps(batch.seconds),
            "journey_id": np.full(len(batch.stage), ids.journey),
            "stage_id": ids.stages[batch.stage],
            "channel_id": ids.channels[batch.channel],
            "step_id": ids.steps[batch.stage, batch.step],
            "persona_id": ids.personas[batch.persona],
            "event_type": pl.Series(shape.event_types).gather(batch.event_type),
            "value": pl.Series(batch.value, nan_to_null=True),
        }
    ).select(_customer_ids(batch.customer).alias("customer_id"), pl.all())


def feedback_frame(batch: FeedbackBatch, shape: Shape, ids: Ids) -> pl.DataFrame:
    comment = pl.Series(shape.comments, dtype=pl.String).gather(np.maximum(batch.comment, 0))
    return pl.DataFrame(
        {
            "occurred_at": _timestamps(batch.seconds),
            "journey_id": np.full(len(batch.stage), ids.journey),
            "stage_id": ids.stages[batch.stage],
            "channel_id": _optional_ids(ids.channels, batch.channel),
            "touchpoint_id": _optional_ids(ids.touchpoints, batch.touchpoint),
            "step_id": ids.steps[batch.stage, batch.step],
            "persona_id": ids.personas[batch.persona],
            "measure": pl.Series([m.value for m in MEASURES]).gather(batch.measure),
            "score": batch.score,
            "comment": pl.Series(batch.comment >= 0).cast(pl.Boolean),
        }
    ).select(
        _customer_ids(batch.customer).alias("customer_id"),
        pl.exclude("comment"),
        pl.when(pl.col("comment")).then(pl.lit(comment)).otherwise(None).alias("comment"),
    )


def fact_batches(
    rng: np.random.Generator, shape: Shape, *, events: int
) -> Iterator[tuple[EventBatch, FeedbackBatch, int]]:
    """Chunks of customers until `events` events exist; the last chunk is cut at a customer boundary."""
    remaining = events
    next_customer = 1
    per_customer = FIRST_GUESS_EVENTS_PER_CUSTOMER
    while remaining > 0:
        customers = min(CHUNK_CUSTOMERS, math.ceil(remaining / per_customer * 1.05) + 20)
        batch = _generate_events(rng, shape, customers=customers, first_customer=next_customer)
        if len(batch.customer) > remaining:
            per_customer_events = np.bincount(batch.customer - next_customer, minlength=customers)
            kept_customers = int(np.searchsorted(np.cumsum(per_customer_events), remaining, side="right"))
            batch = batch.take(batch.customer < next_customer + kept_customers)
            customers = kept_customers
        if len(batch.customer) == 0:
            break
        per_customer = max(1.0, len(batch.customer) / max(customers, 1))
        remaining -= len(batch.customer)
        next_customer += customers
        yield batch, _generate_feedback(rng, shape, batch), customers

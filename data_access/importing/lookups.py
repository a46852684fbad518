"""The map a file refers to: its journeys', stages', channels', personas', steps' and touchpoints' slugs and ids."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, select

from data_access.models import Channel, Journey, Persona, Stage, Step, Touchpoint


@dataclass(frozen=True)
class Lookups:
    """The map's slugs and ids as small frames to join against; keys are lower-case slugs."""

    journeys: pl.LazyFrame
    stages: pl.LazyFrame
    channels: pl.LazyFrame
    personas: pl.LazyFrame
    steps: pl.LazyFrame
    touchpoints: pl.LazyFrame
    touchpoints_in_journey: pl.LazyFrame  # only slugs that are unique within their journey
    stage_slugs: tuple[str, ...]
    channel_slugs: tuple[str, ...]

    @classmethod
    def load(cls, connection: Connection) -> Lookups:
        def frame(query: object, schema: dict[str, type[pl.DataType]]) -> pl.DataFrame:
            rows = [tuple(row) for row in connection.execute(query)]  # type: ignore[call-overload]
            return pl.DataFrame(rows, schema=schema, orient="row")

        journeys = frame(select(Journey.slug, Journey.id), {"journey_key": pl.String, "journey_id": pl.Int64})
        stages = frame(
            select(Stage.journey_id, Stage.slug, Stage.id),
            {"journey_id": pl.Int64, "stage_key": pl.String, "stage_id": pl.Int64},
        )
        touchpoints = frame(
            select(Stage.journey_id, Touchpoint.stage_id, Touchpoint.slug, Touchpoint.id, Touchpoint.channel_id).join(
                Stage, Stage.id == Touchpoint.stage_id
            ),
            {
                "journey_id": pl.Int64,
                "stage_id": pl.Int64,
                "touchpoint_key": pl.String,
                "touchpoint_id": pl.Int64,
                "touchpoint_channel_id": pl.Int64,
            },
        ).with_columns(pl.col("touchpoint_key").str.to_lowercase())
        channels = frame(select(Channel.slug, Channel.id), {"channel_key": pl.String, "channel_id": pl.Int64})
        return cls(
            journeys=journeys.with_columns(pl.col("journey_key").str.to_lowercase()).lazy(),
            stages=stages.with_columns(pl.col("stage_key").str.to_lowercase()).lazy(),
            channels=channels.with_columns(pl.col("channel_key").str.to_lowercase()).lazy(),
            personas=frame(select(Persona.slug, Persona.id), {"persona_key": pl.String, "persona_id": pl.Int64})
            .with_columns(pl.col("persona_key").str.to_lowercase())
            .lazy(),
            steps=frame(
                select(Step.stage_id, Step.slug, Step.id),
                {"stage_id": pl.Int64, "step_key": pl.String, "step_id": pl.Int64},
            )
            .with_columns(pl.col("step_key").str.to_lowercase())
            .lazy(),
            touchpoints=touchpoints.select(
                "stage_id", "touchpoint_key", "touchpoint_id", "touchpoint_channel_id"
            ).lazy(),
            touchpoints_in_journey=(
                touchpoints.filter(pl.len().over("journey_id", "touchpoint_key") == 1)
                .select(
                    "journey_id",
                    "touchpoint_key",
                    pl.col("stage_id").alias("touchpoint_stage_id"),
                    pl.col("touchpoint_id").alias("journey_touchpoint_id"),
                    pl.col("touchpoint_channel_id").alias("journey_touchpoint_channel_id"),
                )
                .lazy()
            ),
            stage_slugs=tuple(sorted(set(stages["stage_key"].to_list()))),
            channel_slugs=tuple(sorted(set(channels["channel_key"].to_list()))),
        )

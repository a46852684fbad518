"""Personas beside their numbers: who they are (the map), and what the data says about them (the rollups).

The profile (description, goals, frustrations, empathy map) is map content. The numbers are read from the
daily rollups per persona × stage, so a persona's page costs O(days × stages) like every view:

- **share of customers**: the persona's share of the journey's stage entries in the period — customers who
  first entered a stage, counted once per stage they entered (additive over days, so read from
  `rollup_entries_daily`, never a distinct count over events);
- **comparison**: one value per persona × stage of a chosen metric (`COMPARISON_METRICS`), each as the
  Metrics table defines it, "not enough data" below the minimum of answers;
- **worst stages**: the lowest measured emotion; **worst touchpoints**: the lowest health of the persona's
  cells (see `worst_cells`).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, func, select

from data_access.experience_map.assembly import Headline
from data_access.experience_map.queries import stages
from data_access.journey_map.sql import Schema, frame
from data_access.metrics import emotion_agg_expr, measure_value_expr
from data_access.models import EntryRollup, FeedbackRollup, Measure, Persona
from data_access.scope import Period

PROFILE_FIELDS = ("description", "goals", "frustrations", "thinks", "feels", "says", "does")
EMPATHY_QUADRANTS = {"thinks": "Thinks", "feels": "Feels", "says": "Says", "does": "Does"}

# what the side-by-side comparison can be coloured by: key -> label (the formula's own words)
COMPARISON_METRICS: dict[str, str] = {
    "emotion": "Measured emotion (−2..+2)",
    Measure.NPS.value: "NPS",
    Measure.CSAT.value: "CSAT",
    Measure.CES.value: "CES",
    Measure.SENTIMENT.value: "Sentiment",
    "customers": "Customers entering the stage",
}
COMPARISON_DEFAULT = "emotion"
ALL_CUSTOMERS = "All customers"


def persona_profiles(connection: Connection) -> pl.DataFrame:
    """Every persona with its profile: slug, name and `PROFILE_FIELDS`, by name."""
    return frame(
        connection,
        select(Persona.slug, Persona.name, *(getattr(Persona, name) for name in PROFILE_FIELDS)).order_by(
            Persona.name, Persona.id
        ),
        {"slug": pl.String, "name": pl.String, **dict.fromkeys(PROFILE_FIELDS, pl.String)},
    )


FEEDBACK_SCHEMA: Schema = {
    "persona_id": pl.Int64,
    "stage_id": pl.Int64,
    "measure": pl.String,
    "answers": pl.Int64,
    "score_sum": pl.Float64,
    "good": pl.Int64,
    "bad": pl.Int64,
}
ENTRANT_SCHEMA: Schema = {"persona_id": pl.Int64, "stage_id": pl.Int64, "customers": pl.Int64}


def feedback_by_persona_stage(connection: Connection, *, journey_id: int, period: Period) -> pl.DataFrame:
    """Summed answers per persona × stage × measure over the period (persona null: answers with none)."""
    r = FeedbackRollup
    return frame(
        connection,
        select(
            r.persona_id, r.stage_id, r.measure,
            func.sum(r.answers), func.sum(r.score_sum), func.sum(r.good), func.sum(r.bad),
        )
        .where(r.journey_id == journey_id, r.day.between(period.start, period.end))
        .group_by(r.persona_id, r.stage_id, r.measure),
        FEEDBACK_SCHEMA,
    )  # fmt: skip


def entrants_by_persona_stage(connection: Connection, *, journey_id: int, period: Period) -> pl.DataFrame:
    """Customers who first entered each stage in the period, per persona × stage (persona null: none known)."""
    r = EntryRollup
    return frame(
        connection,
        select(r.persona_id, r.stage_id, func.sum(r.customers))
        .where(r.journey_id == journey_id, r.step_id.is_(None), r.day.between(period.start, period.end))
        .group_by(r.persona_id, r.stage_id),
        ENTRANT_SCHEMA,
    )


def persona_ids(connection: Connection) -> pl.DataFrame:
    """slug -> id of every persona, to label the rollups' persona ids."""
    return frame(connection, select(Persona.slug, Persona.id), {"persona_slug": pl.String, "persona_id": pl.Int64})


# --- pure assembly -------------------------------------------------------------------------------


def _stage_values(
    feedback: pl.LazyFrame, entrants: pl.LazyFrame, keys: list[str], metric: str, min_answers: int
) -> pl.LazyFrame:
    """One value per `keys` group of the chosen metric, with the answers (or customers) behind it."""
    if metric == "customers":
        return entrants.group_by(keys).agg(
            pl.col("customers").sum().cast(pl.Float64).alias("value"), pl.col("customers").sum().alias("sample")
        )
    if metric == "emotion":
        return feedback.group_by(keys).agg(
            emotion_agg_expr(min_answers).alias("value"), pl.col("answers").sum().alias("sample")
        )
    return (
        feedback.filter(pl.col("measure") == metric)
        .group_by(keys)
        .agg(pl.col("answers", "score_sum", "good", "bad").sum())
        .with_columns(pl.lit(metric).alias("measure"))
        .with_columns(measure_value_expr(min_answers), pl.col("answers").alias("sample"))
        .select(*keys, "value", "sample")
    )


def comparison_matrix(
    *,
    feedback: pl.DataFrame,
    entrants: pl.DataFrame,
    stages: pl.DataFrame,
    personas: pl.DataFrame,
    metric: str,
    min_answers: int,
) -> pl.DataFrame:
    """Persona × stage values of `metric` (a key of `COMPARISON_METRICS`), all customers first.

    `feedback`: `feedback_by_persona_stage`; `entrants`: `entrants_by_persona_stage`; `stages`: stage_id,
    stage_slug, stage (name), stage_position; `personas`: persona_slug, persona_name, persona_id. Every
    persona × stage pair has a row; `value` is null below `min_answers` answers (not enough data) or, for
    customers, never. Columns: persona_slug (null for all customers), persona_name, persona_order,
    stage_slug, stage, stage_position, value, sample.
    """
    every = _stage_values(feedback.lazy(), entrants.lazy(), ["stage_id"], metric, min_answers).with_columns(
        pl.lit(None, dtype=pl.Int64).alias("persona_id")
    )
    each = _stage_values(
        feedback.lazy().filter(pl.col("persona_id").is_not_null()),
        entrants.lazy().filter(pl.col("persona_id").is_not_null()),
        ["persona_id", "stage_id"],
        metric,
        min_answers,
    )
    rows = (
        pl.concat(
            [
                pl.DataFrame({"persona_id": [None], "persona_slug": [None], "persona_name": [ALL_CUSTOMERS]})
                .cast({"persona_id": pl.Int64, "persona_slug": pl.String, "persona_name": pl.String})
                .lazy(),
                personas.lazy().select("persona_id", "persona_slug", "persona_name"),
            ]
        )
        .with_row_index("persona_order")
        .join(stages.lazy().select("stage_id", "stage_slug", "stage", "stage_position"), how="cross")
    )
    values = pl.concat([every.select(each.collect_schema().names()), each])
    return (
        rows.join(values, on=["persona_id", "stage_id"], how="left", nulls_equal=True)
        .with_columns(
            pl.col("sample").fill_null(0),
            pl.when(pl.lit(metric) == "customers").then(pl.col("value").fill_null(0.0)).otherwise(pl.col("value")),
        )
        .select(
            "persona_slug",
            "persona_name",
            pl.col("persona_order").cast(pl.Int64),
            "stage_slug",
            "stage",
            "stage_position",
            "value",
            pl.col("sample").cast(pl.Int64),
        )
        .sort("persona_order", "stage_position")
        .collect()
    )


def persona_shares(entrants: pl.DataFrame, personas: pl.DataFrame) -> pl.DataFrame:
    """Each persona's stage entries in the period and its share of all of them (customers of no persona too).

    Columns: persona_slug, persona_name, customers, share (null when the period has no entries).
    """
    total = int(entrants["customers"].sum())
    per_persona = (
        entrants.filter(pl.col("persona_id").is_not_null()).group_by("persona_id").agg(pl.col("customers").sum())
    )
    return (
        personas.select("persona_id", "persona_slug", "persona_name")
        .join(per_persona, on="persona_id", how="left")
        .select(
            "persona_slug",
            "persona_name",
            pl.col("customers").fill_null(0).cast(pl.Int64),
            (pl.col("customers").fill_null(0) / total if total else pl.lit(None, dtype=pl.Float64)).alias("share"),
        )
    )


def worst_stages(curve: pl.DataFrame, *, count: int = 3) -> pl.DataFrame:
    """The stages with the lowest measured emotion (`experience_map` curve rows); unmeasured stages left out."""
    return (
        curve.filter(pl.col("source") == "measured", pl.col("emotion").is_not_null())
        .sort("emotion", "stage_position")
        .head(count)
        .select("stage_slug", "stage", "emotion", "answers")
    )


def worst_cells(grid: pl.DataFrame, *, count: int = 3) -> pl.DataFrame:
    """The touchpoint cells in the worst health (an experience-map grid coloured by health): lowest share of
    judged metrics on target first, red before amber on a tie; cells with nothing judged are left out."""
    rank = pl.col("health_status").replace_strict({"red": 0, "amber": 1, "green": 2}, default=3, return_dtype=pl.Int64)
    return (
        grid.filter(pl.col("judged") > 0)
        .with_columns((pl.col("on_target") / pl.col("judged")).alias("share_on_target"))
        .sort(pl.col("share_on_target"), rank, pl.col("stage_position"), pl.col("channel_position"))
        .head(count)
        .select(
            "stage_slug", "stage", "channel", "touchpoints", "health_status", "on_target", "judged", "share_on_target"
        )
    )


def headline_comparison(persona: list[Headline], everyone: list[Headline]) -> pl.DataFrame:
    """The persona's headline metrics beside the whole customer base's: key, label, formula, direction, target,
    status (the persona's, against target), persona_value, persona_answers, everyone_value, everyone_answers,
    and difference (persona − everyone, signed so that positive is better; null when either is unmeasured)."""
    base = {headline.key: headline for headline in everyone}
    rows = []
    for headline in persona:
        other = base.get(headline.key)
        other_value = other.value if other else None
        difference = None
        if headline.value is not None and other_value is not None:
            difference = headline.value - other_value
            difference = -difference if headline.direction == "lower" else difference
        rows.append(
            {
                "key": headline.key,
                "label": headline.label,
                "formula": headline.formula or headline.key,
                "direction": headline.direction,
                "target": headline.target,
                "status": str(headline.status),
                "persona_value": headline.value,
                "persona_answers": headline.answers,
                "everyone_value": other_value,
                "everyone_answers": other.answers if other else 0,
                "difference": difference,
            }
        )
    schema = {
        "key": pl.String,
        "label": pl.String,
        "formula": pl.String,
        "direction": pl.String,
        "target": pl.Float64,
        "status": pl.String,
        "persona_value": pl.Float64,
        "persona_answers": pl.Int64,
        "everyone_value": pl.Float64,
        "everyone_answers": pl.Int64,
        "difference": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)


@dataclass(frozen=True)
class PersonaData:
    """The personas of a journey over a period: profiles, shares of customers, and the comparison."""

    profiles: pl.DataFrame
    shares: pl.DataFrame
    comparison: pl.DataFrame


def read_personas(
    connection: Connection, *, journey_id: int, period: Period, metric: str, min_answers: int
) -> PersonaData:
    """Every persona's profile, share of customers and persona × stage values of `metric` (4 statements)."""
    profiles = persona_profiles(connection)
    labelled = profiles.select(pl.col("slug").alias("persona_slug"), pl.col("name").alias("persona_name")).join(
        persona_ids(connection), on="persona_slug", how="left"
    )
    entrants = entrants_by_persona_stage(connection, journey_id=journey_id, period=period)
    comparison = comparison_matrix(
        feedback=feedback_by_persona_stage(connection, journey_id=journey_id, period=period),
        entrants=entrants,
        stages=stages(connection, journey_id=journey_id),
        personas=labelled,
        metric=metric,
        min_answers=min_answers,
    )
    return PersonaData(profiles=profiles, shares=persona_shares(entrants, labelled), comparison=comparison)

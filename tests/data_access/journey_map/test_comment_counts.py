"""Comment counts per band from the feedback rollups, on SQLite and PostgreSQL, against the raw answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, insert, select

from data_access.journey_map.comments import comment_band_counts
from data_access.metrics import SCALES
from data_access.models import Channel, Feedback, Measure, Persona, Stage
from data_access.rollups import add_to_rollups
from data_access.scope import Period, resolve_scope, resolve_stage
from tests.data_access.test_cohort_rollup import START, _prepare

SCORES = {"nps": [0.0, 5.0, 6.0, 7.0, 9.0, 10.0], "csat": [1.0, 2.0, 3.0, 4.0, 5.0], "ces": [1.0, 3.0, 4.0, 5.0, 7.0]}
answers = st.lists(
    st.tuples(
        st.integers(0, 60),  # day after START
        st.sampled_from(["browse", "buy"]),
        st.sampled_from(sorted(SCORES)).flatmap(lambda m: st.tuples(st.just(m), st.sampled_from(SCORES[m]))),
        st.sampled_from([None, "", "too slow", "great"]),
        st.sampled_from([None, "saver", "spender"]),
    ),
    min_size=1,
    max_size=40,
)


def _band(measure: str, score: float) -> str:
    scale = SCALES[Measure(measure)]
    return "low" if score <= scale.bad_to else "high" if score >= scale.good_from else "middle"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=answers,
    cut=st.integers(0, 40),
    first_day=st.integers(0, 60),
    length=st.integers(1, 60),
    persona=st.sampled_from([None, "saver"]),
    measure=st.sampled_from([None, "nps", "csat"]),
)
def test_comment_counts_per_band_are_the_commented_answers_of_the_stage_in_the_period(
    engine: Engine,
    rows: list[tuple[int, str, tuple[str, float], str | None, str | None]],
    cut: int,
    first_day: int,
    length: int,
    persona: str | None,
    measure: str | None,
) -> None:
    """Answers added in two batches: the counts equal a count over the raw answers with a comment."""
    ids = _prepare(engine)
    with engine.begin() as connection:
        journey_id = connection.execute(select(Stage.journey_id).limit(1)).scalar_one()
        web = connection.execute(select(Channel.id).where(Channel.slug == "web")).scalar_one()
        personas = dict(connection.execute(select(Persona.slug, Persona.id)).tuples().all())
    feedback = Feedback.__table__
    for batch in (rows[:cut], rows[cut:]):
        if not batch:
            continue
        values: list[dict[str, Any]] = [
            {
                "occurred_at": START + dt.timedelta(days=day, hours=13),
                "journey_id": journey_id,
                "stage_id": ids["stages"][stage],
                "channel_id": web,
                "persona_id": personas.get(who) if who else None,
                "measure": kind,
                "score": score,
                "comment": comment,
            }
            for day, stage, (kind, score), comment, who in batch
        ]
        with engine.begin() as connection:
            known = connection.execute(select(func.coalesce(func.max(feedback.c.id), 0))).scalar_one()
            connection.execute(insert(Feedback), values)
            add_to_rollups(connection, feedback=select(feedback).where(feedback.c.id > known).subquery())

    start = START.date() + dt.timedelta(days=first_day)
    period = Period(start, start + dt.timedelta(days=length - 1))
    with engine.connect() as connection:
        scope = resolve_scope(connection, journey_slug="shop", persona_slug=persona, period=period)
        assert scope is not None
        stage = resolve_stage(connection, scope, stage_slug="buy")
        assert stage is not None
        counted = comment_band_counts(connection, scope=stage, measure=measure)

    raw = pl.DataFrame(
        [(day, stage_slug, kind, score, comment, who) for day, stage_slug, (kind, score), comment, who in rows],
        schema=["day", "stage", "measure", "score", "comment", "persona"],
        orient="row",
    )
    chosen = raw.filter(
        pl.col("stage") == "buy",
        pl.col("day").is_between(first_day, first_day + length - 1),
        pl.col("comment").is_not_null() & (pl.col("comment") != ""),
        pl.lit(True) if persona is None else pl.col("persona") == persona,
        pl.lit(True) if measure is None else pl.col("measure") == measure,
    )
    expected = {band: 0 for band in ("low", "middle", "high")}
    for kind, score in chosen.select("measure", "score").iter_rows():
        expected[_band(kind, score)] += 1
    assert dict(counted.iter_rows()) == expected

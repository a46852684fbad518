"""Personas beside their numbers: the crafted journey on both databases, and the comparison against raw answers."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from data_access.models import Measure
from data_access.personas import comparison_matrix, read_personas, worst_stages
from tests.data_access.metric_oracles import measure_value, measured_emotion
from tests.journey_fixtures import PERIOD, build_shop


def _value(frame: pl.DataFrame, persona: str | None, stage: str) -> float | None:
    found = frame.filter(pl.col("persona_slug").eq_missing(persona), pl.col("stage_slug") == stage)
    assert found.height == 1
    value = found["value"][0]
    return None if value is None else float(value)


def test_crafted_journey(engine: Engine) -> None:
    """Profiles, shares of stage entries and persona × stage values, each worked out from the fixture's rows."""
    ids = build_shop(engine)
    with engine.connect() as connection:
        emotion = read_personas(connection, journey_id=ids["shop"], period=PERIOD, metric="emotion", min_answers=10)
        nps = read_personas(connection, journey_id=ids["shop"], period=PERIOD, metric="nps", min_answers=10)
        customers = read_personas(connection, journey_id=ids["shop"], period=PERIOD, metric="customers", min_answers=10)
    assert emotion.profiles["slug"].to_list() == ["bargain", "pro"]  # by name: Bargain hunter, Professional
    # stage entries in the period: aware 10 (5 + 5), buy c0..c7 (5 + 3), use c0, c1 (2 + 0)
    shares = {row["persona_slug"]: (row["customers"], row["share"]) for row in emotion.shares.iter_rows(named=True)}
    assert shares == {"bargain": (12, pytest.approx(0.6)), "pro": (8, pytest.approx(0.4))}
    assert _value(customers.comparison, None, "buy") == 8 and _value(customers.comparison, "pro", "buy") == 3
    assert _value(customers.comparison, "pro", "use") == 0
    # buy, bargain: NPS 5 promoters, 10 detractors of 20; CSAT 5 answers of 5: 10 favourable of 25
    assert _value(nps.comparison, "bargain", "buy") == pytest.approx(-25.0)
    assert _value(emotion.comparison, "bargain", "buy") == pytest.approx(2 * (10 - 15) / 25)
    assert _value(emotion.comparison, None, "buy") == pytest.approx(2 * (20 - 30) / 50)
    # no answers in aware: not enough data, never zero
    assert _value(emotion.comparison, None, "aware") is None
    assert emotion.comparison["persona_name"].unique(maintain_order=True).to_list() == [
        "All customers",
        "Bargain hunter",
        "Professional",
    ]


def test_worst_stages_leave_out_the_unmeasured() -> None:
    """The lowest measured emotions first; a stage without enough answers is not among the worst."""
    curve = pl.DataFrame(
        {
            "stage_slug": ["a", "b", "c", "d", "a"],
            "stage": ["A", "B", "C", "D", "A"],
            "stage_position": [0, 1, 2, 3, 0],
            "source": ["measured", "measured", "measured", "measured", "assumed"],
            "emotion": [0.5, None, -1.0, 0.1, -2.0],
            "answers": [40, 3, 50, 60, None],
        }
    )
    assert worst_stages(curve)["stage_slug"].to_list() == ["c", "d", "a"]


STAGES = pl.DataFrame({"stage_id": [1, 2], "stage_slug": ["s1", "s2"], "stage": ["S1", "S2"], "stage_position": [0, 1]})
PERSONAS = pl.DataFrame({"persona_id": [7, 8], "persona_slug": ["p7", "p8"], "persona_name": ["P7", "P8"]})
SCORES = {Measure.NPS: st.integers(0, 10), Measure.CSAT: st.integers(1, 5), Measure.CES: st.integers(1, 7)}
answer = st.sampled_from(list(SCORES)).flatmap(
    lambda m: st.tuples(st.sampled_from([7, 8, None]), st.sampled_from([1, 2]), st.just(m), SCORES[m])
)


def _rolled_up(answers: list[tuple[int | None, int, Measure, int]]) -> pl.DataFrame:
    """Answers summed per persona × stage × measure, as the rollup holds them (favourable / unfavourable bands)."""
    bands = {Measure.NPS: (9, 6), Measure.CSAT: (4, 2), Measure.CES: (5, 3)}
    rows = [
        {
            "persona_id": persona,
            "stage_id": stage,
            "measure": measure.value,
            "answers": 1,
            "score_sum": float(score),
            "good": int(score >= bands[measure][0]),
            "bad": int(score <= bands[measure][1]),
        }
        for persona, stage, measure, score in answers
    ]
    schema = {"persona_id": pl.Int64, "stage_id": pl.Int64, "measure": pl.String, "answers": pl.Int64,
              "score_sum": pl.Float64, "good": pl.Int64, "bad": pl.Int64}  # fmt: skip
    return pl.DataFrame(rows, schema=schema).group_by("persona_id", "stage_id", "measure").agg(pl.all().sum())


@settings(max_examples=60, deadline=None)
@given(
    answers=st.lists(answer, max_size=60),
    min_answers=st.integers(1, 6),
    metric=st.sampled_from(["emotion", "nps", "csat", "ces"]),
)
def test_comparison_matches_raw_answers(
    answers: list[tuple[int | None, int, Measure, int]], min_answers: int, metric: str
) -> None:
    """Every persona × stage value equals the metric worked out one raw answer at a time."""
    entrants = pl.DataFrame(schema={"persona_id": pl.Int64, "stage_id": pl.Int64, "customers": pl.Int64})
    matrix = comparison_matrix(
        feedback=_rolled_up(answers), entrants=entrants, stages=STAGES, personas=PERSONAS, metric=metric,
        min_answers=min_answers,
    )  # fmt: skip
    assert matrix.height == 3 * 2
    for row in matrix.iter_rows(named=True):
        persona_id = {None: None, "p7": 7, "p8": 8}[row["persona_slug"]]
        stage_id = 1 if row["stage_slug"] == "s1" else 2
        mine = [(m, s) for p, st_, m, s in answers if st_ == stage_id and (persona_id is None or p == persona_id)]
        if metric != "emotion":
            mine = [(m, s) for m, s in mine if m.value == metric]
        if len(mine) < min_answers or not mine:
            assert row["value"] is None
            continue
        if metric == "emotion":
            expected = measured_emotion([(m, float(s)) for m, s in mine])
        else:
            measure = Measure(metric)
            good = sum(s >= {Measure.NPS: 9, Measure.CSAT: 4, Measure.CES: 5}[measure] for _, s in mine)
            bad = sum(s <= {Measure.NPS: 6, Measure.CSAT: 2, Measure.CES: 3}[measure] for _, s in mine)
            expected = measure_value(
                measure, answers=len(mine), score_sum=float(sum(s for _, s in mine)), good=good, bad=bad
            )
        assert row["value"] == pytest.approx(expected)
        assert row["sample"] == len(mine)

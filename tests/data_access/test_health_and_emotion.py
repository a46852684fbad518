"""The demo company's overview judged honestly: measured emotion from raw answers, health from measured metrics."""

from __future__ import annotations

import polars as pl
import pytest
from sqlalchemy import Engine, select

from data_access.demo import CURRENT_SLUG, load_demo
from data_access.experience_map.load import ExperienceMapData, load_experience_map
from data_access.experience_map.queries import data_days, journeys
from data_access.models import Feedback, Measure, MetricDefinition, Stage
from data_access.scope import Scope
from tests.data_access import metric_oracles as oracle

EVENTS = 10_000
MIN_ANSWERS = 30


@pytest.fixture
def demo(engine: Engine) -> Engine:
    load_demo(engine, events=EVENTS, seed=7)
    return engine


def _overview(engine: Engine, metric: str = "health") -> tuple[ExperienceMapData, int]:
    with engine.connect() as connection:
        journey = journeys(connection).filter(pl.col("slug") == CURRENT_SLUG).row(0, named=True)
        period = data_days(connection, journey_id=journey["id"])
        assert period is not None
        scope = Scope(
            journey_id=journey["id"],
            journey_slug=CURRENT_SLUG,
            persona_id=None,
            period=period,
            compared=period.previous(),
        )
        return load_experience_map(connection, scope=scope, metric=metric, min_answers=MIN_ANSWERS), journey["id"]


def test_measured_emotion_equals_a_direct_computation_over_raw_answers(demo: Engine) -> None:
    """Every stage's measured point on the curve, against the raw answers; Onboarding reads clearly negative."""
    overview, journey_id = _overview(demo)
    with demo.connect() as connection:
        rows = connection.execute(
            select(Stage.slug, Feedback.measure, Feedback.score)
            .join(Stage, Stage.id == Feedback.stage_id)
            .where(Feedback.journey_id == journey_id)
        ).all()
    answers: dict[str, list[tuple[Measure, float]]] = {}
    for slug, measure, score in rows:
        answers.setdefault(slug, []).append((Measure(measure), score))
    measured = overview.curve.filter(pl.col("source") == "measured")
    got = {r["stage_slug"]: (r["emotion"], r["answers"]) for r in measured.iter_rows(named=True)}
    for slug, (emotion, count) in got.items():
        said = answers.get(slug, [])
        assert count == len(said)
        expected = oracle.measured_emotion(said) if len(said) >= MIN_ANSWERS else None
        assert emotion == (None if expected is None else pytest.approx(expected)), slug
    onboarding = got["onboarding"][0]
    assert onboarding is not None and onboarding <= -0.5
    # the dip: Onboarding is the lowest measured stage of the journey
    assert onboarding == min(e for e, _ in got.values() if e is not None)


def test_no_cell_or_moment_of_truth_is_on_target_without_a_measured_metric(demo: Engine) -> None:
    for metric in ("health", "csat", "ces", "nps"):
        grid = _overview(demo, metric)[0].grid
        green = grid.filter(pl.col("status") == "green")
        if metric == "health":
            assert grid["judged"].sum() > 0  # the demo has judged cells, so the checks below have rows to see
            assert (green["measured"] >= 1).all()
            assert (green["on_target"] == green["judged"]).all()
        else:
            assert (green[f"{metric}_answers"] >= MIN_ANSWERS).all()
    overview = _overview(demo)[0]
    unmeasured = overview.grid.filter(pl.col("measured") == 0)
    assert set(unmeasured["health_status"]) <= {"no data"}
    moments = overview.moments_of_truth
    assert moments.filter(pl.col("measured") == 0)["status"].to_list() == ["no data"] * int(
        (moments["measured"] == 0).sum()
    )


def test_headline_tiles_are_the_journeys_own_metrics(demo: Engine) -> None:
    """One tile per journey-level feedback metric of the map, then conversion; each with its weekly series."""
    overview, journey_id = _overview(demo)
    with demo.connect() as connection:
        defined = connection.execute(
            select(MetricDefinition.key).where(
                MetricDefinition.journey_id == journey_id,
                MetricDefinition.stage_id.is_(None),
                MetricDefinition.touchpoint_id.is_(None),
                MetricDefinition.formula.in_([m.value for m in Measure]),
            )
        ).scalars()
        keys = set(defined)
    tiles = overview.headlines
    assert {t.key for t in tiles[:-1]} == keys
    assert tiles[-1].key == "conversion"
    for tile in tiles[:-1]:
        assert tile.target is not None
        assert tile.weekly is not None and tile.weekly.height > 1
        assert all(week.weekday() == 0 for week in tile.weekly["week"])  # weeks start on Monday
        assert tile.weekly["week"].is_sorted() and tile.weekly["week"].n_unique() == tile.weekly.height
        # the weekly answers add up to the tile's answers
        assert int(tile.weekly["answers"].sum()) == tile.answers

"""What changed: biggest movers on crafted frames, journey and stage rows, and load_changes on both databases."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import Engine

from data_access.changes import (
    CHANGES_SCHEMA,
    WHOLE_JOURNEY,
    JourneySums,
    biggest_movers,
    journey_changes,
    load_changes,
    metric_span,
    stage_changes,
    stage_metrics_by_stage,
)
from data_access.demo import load_demo
from data_access.experience_map.queries import data_days, journeys
from data_access.journey_map.numbers import stage_metrics
from data_access.scope import Period, Scope, resolve_scope
from tests.data_access.experience_map.test_experience_map import CURRENT, MIN_ANSWERS, PREVIOUS, shop  # noqa: F401  (shop is a fixture)


def _changes(*rows: tuple[str, str, float | None, float | None], position: int = 0) -> pl.DataFrame:
    """Rows of (key, formula, value, compared_value) on one stage, target 0 and higher is better."""
    return pl.DataFrame(
        [
            (position, "stage", "Stage", key, key, formula, "", "higher", 0.0, 0.0, value, then)
            for key, formula, value, then in rows
        ],
        schema=CHANGES_SCHEMA,
        orient="row",
    )


def test_metric_spans_follow_each_scale() -> None:
    assert metric_span("nps") == 200.0
    assert metric_span("sentiment") == 200.0
    assert metric_span("csat") == 100.0
    assert metric_span("ces") == 6.0
    assert metric_span("conversion") == 1.0
    assert metric_span("drop_off") == 1.0
    assert metric_span("time_to_next_stage") is None


def test_biggest_movers_compare_changes_on_their_scales() -> None:
    """20 NPS points (0.10) rank below 0.9 on CES (0.15) and above 5 CSAT points (0.05); nulls last."""
    movers = biggest_movers(
        _changes(
            ("csat", "csat", 75.0, 70.0),
            ("nps", "nps", 10.0, 30.0),
            ("missing", "nps", None, 30.0),
            ("ces", "ces", 4.1, 5.0),
            ("conversion", "conversion", 0.62, 0.5),
            ("time", "time_to_next_stage", 8.0, 10.0),
        )
    )
    assert movers["key"].to_list() == ["time", "ces", "conversion", "nps", "csat", "missing"]
    assert movers["movement"].to_list()[:5] == pytest.approx([0.2, 0.15, 0.12, 0.10, 0.05])
    assert movers.filter(pl.col("key") == "nps")["change"][0] == -20.0


def test_improvement_is_signed_by_direction_and_status_is_judged_now() -> None:
    frame = _changes(("wait", "time_to_next_stage", 8.0, 10.0)).with_columns(
        pl.lit("lower").alias("direction"), pl.lit(7.0).alias("target"), pl.lit(3.0).alias("warning")
    )
    row = biggest_movers(frame).row(0, named=True)
    assert (row["change"], row["improvement"], row["status"]) == (-2.0, 2.0, "amber")


def test_ties_keep_the_journey_first_then_stages_in_order() -> None:
    later = _changes(("b", "nps", 20.0, 0.0), position=2)
    earlier = _changes(("a", "nps", 0.0, 20.0), position=1)
    journey = _changes(("z", "nps", 10.0, 30.0), position=-1)
    assert biggest_movers(pl.concat([later, earlier, journey]))["key"].to_list() == ["z", "a", "b"]


def _feedback(measure: str, answers: int, score_sum: float, good: int, bad: int) -> dict[str, object]:
    return {
        "stage_id": 1,
        "channel_id": None,
        "touchpoint_id": None,
        "measure": measure,
        "answers": answers,
        "score_sum": score_sum,
        "good": good,
        "bad": bad,
    }


def test_journey_changes_list_every_journey_measure_with_its_target() -> None:
    now = pl.DataFrame([_feedback("nps", 10, 80.0, 6, 2), _feedback("nps", 10, 80.0, 4, 0)])
    then = pl.DataFrame([_feedback("nps", 20, 150.0, 5, 5), _feedback("ces", 2, 10.0, 1, 0)])
    definitions = pl.DataFrame(
        {
            "key": ["nps"],
            "label": ["Net Promoter Score"],
            "formula": ["nps"],
            "unit": ["points"],
            "direction": ["higher"],
            "target": [30.0],
            "warning": [10.0],
            "stage_id": [None],
            "touchpoint_id": [None],
        },
        schema_overrides={"stage_id": pl.Int64, "touchpoint_id": pl.Int64},
    )
    rows = {
        r["formula"]: r
        for r in journey_changes(
            feedback=now, compared_feedback=then, definitions=definitions, min_answers=5
        ).iter_rows(named=True)
    }
    assert list(rows) == ["nps", "csat", "ces", "sentiment"]
    assert (rows["nps"]["value"], rows["nps"]["compared_value"], rows["nps"]["target"]) == (40.0, 0.0, 30.0)
    assert rows["nps"]["stage"] == WHOLE_JOURNEY and rows["nps"]["label"] == "Net Promoter Score"
    assert rows["ces"]["compared_value"] is None  # 2 answers: not enough data
    assert rows["csat"]["label"] == "CSAT" and rows["csat"]["target"] is None


def test_stage_changes_take_the_compared_value_by_metric_and_leave_journey_scope_out() -> None:
    metrics = pl.DataFrame(
        {
            "stage_id": [7, 7, 3],
            "metric_id": [1, 2, 4],
            "key": ["conversion", "nps", "volume"],
            "label": ["Conversion", "NPS", "Volume"],
            "formula": ["conversion", "nps", "volume"],
            "unit": ["share", "", ""],
            "direction": ["higher", "higher", "higher"],
            "target": [0.5, 30.0, None],
            "warning": [0.1, 10.0, None],
            "scope": ["stage", "journey", "stage"],
            "value": [0.6, 10.0, 12.0],
            "previous_value": [0.4, 50.0, None],
        }
    )
    stages = pl.DataFrame(
        {"stage_id": [3, 7], "stage_slug": ["browse", "buy"], "stage": ["Browse", "Buy"], "stage_position": [1, 2]}
    )
    frame = stage_changes(metrics, stages)
    assert frame.select("stage_slug", "stage_position", "key", "value", "compared_value").rows() == [
        ("buy", 2, "conversion", 0.6, 0.4),
        ("browse", 1, "volume", 12.0, None),
    ]


def _scope(shop: Engine, compared: Period) -> Scope:  # noqa: F811
    with shop.connect() as connection:
        scope = resolve_scope(connection, journey_slug="shop", persona_slug=None, period=CURRENT, compared=compared)
    assert scope is not None
    return scope


def test_load_changes_compares_any_two_periods(shop: Engine) -> None:  # noqa: F811
    """Against the period before, and against the current period itself (every change is then zero)."""
    with shop.connect() as connection:
        before = load_changes(connection, scope=_scope(shop, PREVIOUS), min_answers=MIN_ANSWERS)
        itself = load_changes(connection, scope=_scope(shop, CURRENT), min_answers=MIN_ANSWERS)
    rows = {(r["stage"], r["key"]): r for r in before.iter_rows(named=True)}
    # the same numbers as the overview's headlines (see test_overview)
    assert rows[(WHOLE_JOURNEY, "nps")]["value"] == pytest.approx(200 / 13)
    assert rows[(WHOLE_JOURNEY, "nps")]["compared_value"] == 100.0
    assert rows[(WHOLE_JOURNEY, "csat")]["change"] == 70.0
    # conversion into purchase rests on 4 customers, fewer than the minimum: listed, not enough data
    assert rows[("Purchase", "conversion")]["value"] is None
    # biggest movers first: CSAT moved 70 of 100, NPS 85 of 200; no change at all comes last
    assert before["key"].to_list()[:2] == ["csat", "nps"]
    assert before["movement"].to_list()[-1] is None
    assert set(before["stage"]) >= {WHOLE_JOURNEY, "Purchase"}
    assert itself.filter(pl.col("change").is_not_null())["change"].abs().max() == 0.0


@pytest.mark.parametrize("persona", [None, "budget-family"])
def test_every_stage_in_one_pass_equals_its_journey_page(engine: Engine, persona: str | None) -> None:
    """On the demo (feedback, touchpoint, volume, conversion and time metrics), the grouped pass over every
    stage gives each stage exactly the journey page's metric table, for everyone and for one persona."""
    load_demo(engine, events=6_000, seed=3)
    with engine.connect() as connection:
        journey = journeys(connection).row(0, named=True)
        days = data_days(connection, journey_id=int(journey["id"]))
        assert days is not None
        period = Period(days.end - dt.timedelta(days=59), days.end)
        scope = resolve_scope(
            connection, journey_slug=journey["slug"], persona_slug=persona, period=period, compared=period.previous()
        )
        assert scope is not None
        sums = JourneySums.load(connection, scope=scope)
        by_stage = stage_metrics_by_stage(sums, min_answers=2)
        pages = {stage.stage_id: stage_metrics(connection, scope=stage, min_answers=2) for stage in sums.stages}
    assert set(by_stage["stage_id"]) == {stage_id for stage_id, page in pages.items() if page.height}
    assert by_stage.filter(pl.col("value").is_not_null()).height >= 10
    for stage_id, page in pages.items():
        assert_frame_equal(by_stage.filter(pl.col("stage_id") == stage_id).drop("stage_id"), page, check_dtypes=False)

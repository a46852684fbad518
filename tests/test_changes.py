"""What changed: biggest movers on crafted frames, journey and stage rows, and load_changes on both databases."""

from __future__ import annotations

import polars as pl
import pytest
from sqlalchemy import Engine

from data_access.changes import (
    CHANGES_SCHEMA,
    WHOLE_JOURNEY,
    biggest_movers,
    journey_changes,
    load_changes,
    metric_span,
    stage_changes,
)
from data_access.scope import Period, Scope, resolve_scope
from tests.test_overview import CURRENT, MIN_ANSWERS, PREVIOUS, shop  # noqa: F401  (shop is a fixture)


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
            "metric_id": [1, 2],
            "key": ["conversion", "nps"],
            "label": ["Conversion", "NPS"],
            "formula": ["conversion", "nps"],
            "unit": ["share", ""],
            "direction": ["higher", "higher"],
            "target": [0.5, 30.0],
            "warning": [0.1, 10.0],
            "scope": ["stage", "journey"],
            "value": [0.6, 10.0],
        }
    )
    compared = pl.DataFrame({"metric_id": [1, 2], "value": [0.4, 50.0]})
    frame = stage_changes(stage_slug="buy", stage="Buy", position=2, metrics=metrics, compared_metrics=compared)
    assert frame.select("stage_slug", "key", "value", "compared_value").rows() == [("buy", "conversion", 0.6, 0.4)]


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

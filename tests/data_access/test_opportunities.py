"""Where to act first: the value formula by hand, on the crafted journey (both databases), and on raw rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from data_access.db import make_engine, session_scope, upgrade_schema
from data_access.models import Channel, Event, Feedback, Journey, LaneItem, MetricDefinition, Stage, Step, Touchpoint
from data_access.opportunities import (
    OPPORTUNITY_SCHEMA,
    load_opportunity_matrix,
    opportunity_values,
    relative_gap,
)
from data_access.rollups import refresh_rollups
from data_access.scope import Period, resolve_scope
from tests.journey_fixtures import PERIOD, build_shop


def test_relative_gap_by_hand() -> None:
    """Shortfall ÷ |target|, 0 on target, at most 1, unknown without a value or a non-zero target."""
    assert relative_gap(60.0, target=80.0, direction="higher") == pytest.approx(0.25)
    assert relative_gap(90.0, target=80.0, direction="higher") == 0.0
    assert relative_gap(9.0, target=6.0, direction="lower") == pytest.approx(0.5)
    assert relative_gap(-25.0, target=20.0, direction="higher") == 1.0
    assert relative_gap(None, target=80.0, direction="higher") is None
    assert relative_gap(10.0, target=0.0, direction="higher") is None
    assert relative_gap(10.0, target=None, direction="higher") is None


def _opportunity(item_id: int, step_id: int, touchpoint_id: int | None, *, impact: int = 3) -> dict[str, object]:
    return {
        "item_id": item_id,
        "stage_id": 1,
        "stage_slug": "buy",
        "stage_name": "Buy",
        "stage_position": 0,
        "step_id": step_id,
        "step_name": f"Step {step_id}",
        "step_position": step_id,
        "touchpoint_id": touchpoint_id,
        "text": f"Idea {item_id}",
        "persona_slug": None,
        "owner": "Ana",
        "status": "open",
        "impact": impact,
        "effort": 2,
    }


def test_values_by_hand() -> None:
    """Each opportunity takes its stage's and own touchpoint's metric with the largest relative shortfall."""
    opportunities = pl.DataFrame(
        [_opportunity(1, 10, 100), _opportunity(2, 11, 200), _opportunity(3, 12, None), _opportunity(4, 13, None)],
        schema=OPPORTUNITY_SCHEMA,
    )
    reach = pl.DataFrame({"step_id": [10, 11, 12], "reach": [1000, 400, 50]})
    metrics = pl.DataFrame(
        {
            "key": ["stage_csat", "web_ces", "store_csat", "days", "nps"],
            "label": ["Stage CSAT", "Web CES", "Store CSAT", "Days", "NPS"],
            "formula": ["csat", "ces", "csat", "time_to_next_stage", "nps"],
            "scope": ["stage", "touchpoint", "touchpoint", "stage", "journey"],
            "touchpoint_id": [None, 100, 200, None, None],
            "direction": ["higher", "higher", "higher", "lower", "higher"],
            "target": [80.0, 5.0, 80.0, 7.0, 0.0],
            "value": [70.0, 3.0, 40.0, None, -10.0],
            "stage_id": [1, 1, 1, 1, 1],
        }
    )
    result = opportunity_values(opportunities, reach, metrics)
    rows = {row["item_id"]: row for row in result.iter_rows(named=True)}
    # web CES 3 against 5: 0.4 > stage CSAT's 10/80; 1000 × 0.4
    assert rows[1]["metric_key"] == "web_ces" and rows[1]["measured_value"] == pytest.approx(400.0)
    # store CSAT 40 against 80: 0.5; 400 × 0.5 (the web CES belongs to another touchpoint)
    assert rows[2]["metric_key"] == "store_csat" and rows[2]["measured_value"] == pytest.approx(200.0)
    # no touchpoint: the stage's CSAT only (NPS has a zero target, days no value); 50 × 0.125
    assert rows[3]["metric_key"] == "stage_csat" and rows[3]["measured_value"] == pytest.approx(6.25)
    # a step nobody reached: reach 0, value 0 (not unknown: the gap is known)
    assert rows[4]["reach"] == 0 and rows[4]["measured_value"] == 0.0
    assert result["item_id"].to_list() == [1, 2, 3, 4]


def test_no_measured_metric_leaves_the_value_unknown() -> None:
    """Without a measured metric with a target, the value is unknown and sorts last, never zero."""
    opportunities = pl.DataFrame([_opportunity(1, 10, None), _opportunity(2, 11, None)], schema=OPPORTUNITY_SCHEMA)
    metrics = pl.DataFrame(
        {
            "key": ["stage_csat"],
            "label": ["Stage CSAT"],
            "formula": ["csat"],
            "scope": ["stage"],
            "touchpoint_id": [None],
            "direction": ["higher"],
            "target": [80.0],
            "value": [None],
            "stage_id": [2],
        },
        schema_overrides={"touchpoint_id": pl.Int64, "value": pl.Float64},
    )
    result = opportunity_values(opportunities, pl.DataFrame({"step_id": [10], "reach": [5]}), metrics)
    assert result["measured_value"].to_list() == [None, None]
    assert result["reach"].to_list() == [5, 0]


@pytest.mark.parametrize(("persona", "cart_reach", "pay_reach"), [(None, 6, 3), ("bargain", 5, 3)])
def test_crafted_journey(engine: Engine, persona: str | None, cart_reach: int, pay_reach: int) -> None:
    """Buy NPS is −25 against 20 (gap capped at 1) on both steps: the value is the step's reach."""
    build_shop(engine)
    with engine.connect() as connection:
        scope = resolve_scope(connection, journey_slug="shop", persona_slug=persona, period=PERIOD)
        assert scope is not None
        matrix = load_opportunity_matrix(connection, scope=scope, stage_slug=None, min_answers=10)
        one_stage = load_opportunity_matrix(connection, scope=scope, stage_slug="buy", min_answers=10)
        aware = load_opportunity_matrix(connection, scope=scope, stage_slug="aware", min_answers=10)
        unknown = load_opportunity_matrix(connection, scope=scope, stage_slug="nowhere", min_answers=10)
    rows = {row["text"]: row for row in matrix.iter_rows(named=True)}
    assert set(rows) == {"Show shipping early", "Self-checkout"}
    cart, pay = rows["Show shipping early"], rows["Self-checkout"]
    assert (cart["reach"], pay["reach"]) == (cart_reach, pay_reach)
    assert cart["metric_key"] == pay["metric_key"] == "buy_nps"
    assert cart["metric_value"] == pytest.approx(-25.0) and cart["gap"] == 1.0
    assert (cart["measured_value"], pay["measured_value"]) == (cart_reach, pay_reach)
    assert matrix["text"].to_list() == ["Show shipping early", "Self-checkout"]
    assert one_stage.equals(matrix)
    assert aware.is_empty() and unknown.is_empty()


# --- the value against a direct computation over raw rows ------------------------------------------

START = dt.date(2024, 5, 1)
DAYS = 20
CHECK = Period(dt.date(2024, 5, 6), dt.date(2024, 5, 15))
TARGET = 80.0
MIN_ANSWERS = 3

entries = st.lists(st.tuples(st.integers(0, 14), st.integers(0, DAYS - 1)), max_size=40)
answers = st.lists(st.tuples(st.integers(0, DAYS - 1), st.integers(1, 5)), max_size=30)


def _direct_value(step_entries: list[tuple[int, int]], csat: list[tuple[int, int]]) -> tuple[int, float | None]:
    """Reach and measured value worked out one raw row at a time."""
    first: dict[int, int] = {}
    for customer, day in step_entries:
        first[customer] = min(day, first.get(customer, day))
    in_period = [d for d in first.values() if CHECK.start <= START + dt.timedelta(days=d) <= CHECK.end]
    scores = [s for d, s in csat if CHECK.start <= START + dt.timedelta(days=d) <= CHECK.end]
    if len(scores) < MIN_ANSWERS:
        return len(in_period), None
    value = 100.0 * sum(s >= 4 for s in scores) / len(scores)
    gap = min(max((TARGET - value) / TARGET, 0.0), 1.0)
    return len(in_period), len(in_period) * gap


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(step_entries=entries, csat=answers)
def test_value_matches_raw_rows(
    tmp_path: Path, step_entries: list[tuple[int, int]], csat: list[tuple[int, int]]
) -> None:
    """Reach × gap from the rollups equals the same number counted from raw events and answers."""
    db = make_engine(f"sqlite:///{tmp_path / f'raw-{abs(hash((tuple(step_entries), tuple(csat))))}.db'}")
    upgrade_schema(db)
    with session_scope(db) as session:
        journey = Journey(slug="j", name="J")
        stage = Stage(journey=journey, slug="s", name="S", position=0)
        channel = Channel(slug="web", name="Web")
        session.add_all([journey, stage, channel])
        session.flush()
        touchpoint = Touchpoint(stage=stage, channel=channel, slug="t", name="T")
        step = Step(stage=stage, slug="step", name="Step", position=0, touchpoint=touchpoint)
        session.add_all([touchpoint, step])
        session.flush()
        session.add(LaneItem(step=step, lane="opportunity", text="Fix it", status="open", impact=3, effort=2))
        session.add(
            MetricDefinition(
                journey_id=journey.id, key="tp_csat", label="CSAT", formula="csat", target=TARGET,
                touchpoint_id=touchpoint.id,
            )
        )  # fmt: skip
        session.add_all(
            Event(
                customer_id=f"c{customer}",
                occurred_at=dt.datetime.combine(START + dt.timedelta(days=day), dt.time(9, index % 60)),
                journey_id=journey.id,
                stage_id=stage.id,
                channel_id=channel.id,
                step_id=step.id,
            )
            for index, (customer, day) in enumerate(step_entries)
        )
        session.add_all(
            Feedback(
                occurred_at=dt.datetime.combine(START + dt.timedelta(days=day), dt.time(12, index % 60)),
                journey_id=journey.id,
                stage_id=stage.id,
                channel_id=channel.id,
                touchpoint_id=touchpoint.id,
                step_id=step.id,
                measure="csat",
                score=float(score),
            )
            for index, (day, score) in enumerate(csat)
        )
    with db.begin() as connection:
        refresh_rollups(connection)
    with db.connect() as connection:
        scope = resolve_scope(connection, journey_slug="j", persona_slug=None, period=CHECK)
        assert scope is not None
        matrix = load_opportunity_matrix(connection, scope=scope, stage_slug=None, min_answers=MIN_ANSWERS)
    db.dispose()
    reach, value = _direct_value(step_entries, csat)
    assert matrix["reach"].to_list() == [reach]
    if value is None:
        assert matrix["measured_value"].to_list() == [None]
    else:
        assert matrix["measured_value"][0] == pytest.approx(value)

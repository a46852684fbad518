"""Current vs future state: matching, pain points and targets on the crafted journey (both databases)."""

from __future__ import annotations

import polars as pl
import pytest
from sqlalchemy import Engine, select

from data_access.db import session_scope
from data_access.future_state import (
    ADDED,
    KEPT,
    LEFT_OPEN,
    REMOVED,
    RESOLVED,
    future_states,
    improvements_of,
    is_future_state,
    load_future_comparison,
    match_items,
)
from data_access.models import Journey, LaneItem, MetricDefinition, Stage, Step
from data_access.scope import resolve_scope
from tests.journey_fixtures import PERIOD, build_shop


def _items(*rows: tuple[int, str, str, int]) -> pl.DataFrame:
    schema = {"stage_id": pl.Int64, "slug": pl.String, "name": pl.String, "position": pl.Int64}
    return pl.DataFrame(rows, schema=schema, orient="row")


def test_match_by_slug_then_name() -> None:
    """Slugs first; then names, case and spaces ignored; the rest added or removed."""
    current = _items((1, "aware", "Aware", 0), (2, "buy", "Buy", 1), (3, "use", "Use", 2))
    future = _items((11, "aware", "Noticing", 0), (12, "purchase", " buy ", 1), (13, "love", "Love", 2))
    pairs = match_items(current, future, id_column="stage_id")
    found = {(r["current_id"], r["future_id"]): (r["change"], r["matched_by"]) for r in pairs.iter_rows(named=True)}
    assert found == {
        (1, 11): (KEPT, "slug"),
        (2, 12): (KEPT, "name"),
        (3, None): (REMOVED, None),
        (None, 13): (ADDED, None),
    }


def build_future(engine: Engine) -> dict[str, int]:
    """A future state of the crafted shop: aware kept, 'Buy' kept by name (slug purchase), use removed, loyal
    added; in Buy, browse and pay kept, cart removed, one-click added; pay still has the till queue."""
    ids = build_shop(engine)
    with session_scope(engine) as session:
        shop = session.get(Journey, ids["shop"])
        assert shop is not None
        future = Journey(slug="shop-next", name="Shop next", kind="future", improves=shop)
        aware = Stage(journey=future, slug="aware", name="Aware", position=0)
        buy = Stage(journey=future, slug="purchase", name="buy", position=1)
        loyal = Stage(journey=future, slug="loyal", name="Loyal", position=2)
        session.add_all([future, aware, buy, loyal])
        session.flush()
        browse = Step(stage=buy, slug="browse", name="Browse", position=0)
        one_click = Step(stage=buy, slug="one-click", name="One click", position=1)
        pay = Step(stage=buy, slug="pay", name="Pay", position=2)
        session.add_all([browse, one_click, pay])
        session.flush()
        session.add_all(
            [
                LaneItem(step=browse, lane="emotion", text="Keen", emotion=2.0),
                LaneItem(step=pay, lane="pain_point", text=" queue at the TILL ", severity=2),
                MetricDefinition(journey_id=future.id, key="csat", label="CSAT ambition", formula="csat", target=90),
                MetricDefinition(journey_id=future.id, key="buy_nps", label="Buy NPS ambition", formula="nps",
                                 target=0, stage_id=buy.id),
            ]
        )  # fmt: skip
        session.flush()
        ids["future"] = future.id
    return ids


def test_which_journeys_are_future_states(engine: Engine) -> None:
    build_future(engine)
    with engine.connect() as connection:
        journeys = future_states(connection)
    assert improvements_of(journeys, "shop") == ["shop-next"]
    assert improvements_of(journeys, "other") == []
    assert is_future_state(journeys, "shop-next") and not is_future_state(journeys, "shop")


def test_comparison_of_the_crafted_future(engine: Engine) -> None:
    """Stages and steps added, removed and kept; pain points resolved or left open; today against the targets."""
    ids = build_future(engine)
    with engine.connect() as connection:
        scope = resolve_scope(connection, journey_slug="shop", persona_slug=None, period=PERIOD)
        assert scope is not None
        comparison = load_future_comparison(connection, scope=scope, future_id=ids["future"], min_answers=10)
        names = dict(connection.execute(select(Stage.id, Stage.slug)).all())
    stages = {
        (names.get(r["current_id"]), names.get(r["future_id"])): r["change"]
        for r in comparison.stages.iter_rows(named=True)
    }
    assert stages == {
        ("aware", "aware"): KEPT,
        ("buy", "purchase"): KEPT,
        ("use", None): REMOVED,
        (None, "loyal"): ADDED,
    }
    steps = {(r["current_name"], r["future_name"]): r["change"] for r in comparison.steps.iter_rows(named=True)}
    assert steps == {
        ("Browse", "Browse"): KEPT,
        ("Cart", None): REMOVED,
        (None, "One click"): ADDED,
        ("Pay", "Pay"): KEPT,
    }
    outcomes = dict(comparison.pain_points.select("text", "outcome").iter_rows())
    assert outcomes == {"Shipping cost appears late": RESOLVED, "Queue at the till": LEFT_OPEN}
    emotions = {(r["stage"], r["state"]): r["emotion"] for r in comparison.emotions.iter_rows(named=True)}
    assert emotions[("buy", "future")] == 2.0 and emotions[("buy", "current")] == pytest.approx(0.75)
    targets = {r["key"]: r for r in comparison.targets.filter(pl.col("stage") == "buy").iter_rows(named=True)}
    # today's buy: NPS −25 on 40 answers against the future's 0; CSAT 100 (10 answers of 5) against 90
    assert targets["buy_nps"]["value"] == pytest.approx(-25.0) and targets["buy_nps"]["gap"] == pytest.approx(25.0)
    assert targets["buy_nps"]["status"] == "red"
    assert targets["csat"]["value"] == pytest.approx(100.0) and targets["csat"]["gap"] == pytest.approx(-10.0)
    assert targets["csat"]["status"] == "green"
    # aware has no answers: the future's CSAT target there is not enough data, never met
    aware = comparison.targets.filter(pl.col("stage") == "Aware")
    assert aware["key"].to_list() == ["csat"] and aware["value"].to_list() == [None]
    assert aware["status"].to_list() == ["no data"]

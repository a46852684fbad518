"""A view's scope: slugs resolved to ids once, the compared period, and each stage's neighbours."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from data_access.scope import Period, resolve_scope, resolve_stage, stage_scopes
from tests.journey_fixtures import PERIOD, build_shop


@pytest.mark.parametrize(
    ("period", "previous"),
    [
        (Period(dt.date(2024, 3, 1), dt.date(2024, 3, 14)), Period(dt.date(2024, 2, 16), dt.date(2024, 2, 29))),
        (Period(dt.date(2024, 3, 8), dt.date(2024, 3, 8)), Period(dt.date(2024, 3, 7), dt.date(2024, 3, 7))),
        (Period(dt.date(2024, 3, 1), dt.date(2024, 3, 31)), Period(dt.date(2024, 1, 30), dt.date(2024, 2, 29))),
    ],
)
def test_the_previous_period_has_equal_length_and_ends_the_day_before(period: Period, previous: Period) -> None:
    assert period.previous() == previous
    assert period.previous().days == period.days


def test_a_period_ending_on_a_review_day_keeps_its_length() -> None:
    assert PERIOD.ending_on(dt.date(2024, 1, 31)) == Period(dt.date(2024, 1, 18), dt.date(2024, 1, 31))


def test_slugs_resolve_to_ids_and_the_compared_period_defaults_to_the_one_before(engine: Engine) -> None:
    ids = build_shop(engine)
    with engine.connect() as connection:
        scope = resolve_scope(connection, journey_slug="shop", persona_slug="pro", period=PERIOD)
        chosen = resolve_scope(connection, journey_slug="shop", persona_slug=None, period=PERIOD, compared=PERIOD)
    assert scope is not None and chosen is not None
    assert (scope.journey_id, scope.journey_slug) == (ids["shop"], "shop")
    assert scope.persona_id is not None and chosen.persona_id is None
    assert scope.compared == PERIOD.previous() and chosen.compared == PERIOD


def test_an_unknown_journey_persona_or_stage_has_no_scope(engine: Engine) -> None:
    build_shop(engine)
    with engine.connect() as connection:
        assert resolve_scope(connection, journey_slug="nope", persona_slug=None, period=PERIOD) is None
        assert resolve_scope(connection, journey_slug="shop", persona_slug="nobody", period=PERIOD) is None
        scope = resolve_scope(connection, journey_slug="shop", persona_slug=None, period=PERIOD)
        assert scope is not None
        assert resolve_stage(connection, scope, stage_slug="nope") is None


def test_every_stage_knows_its_neighbours_in_the_journeys_order(engine: Engine) -> None:
    ids = build_shop(engine)
    with engine.connect() as connection:
        scope = resolve_scope(connection, journey_slug="shop", persona_slug=None, period=PERIOD)
        assert scope is not None
        aware, buy, use = stage_scopes(connection, scope)
    assert [s.stage_slug for s in (aware, buy, use)] == ["aware", "buy", "use"]
    assert (aware.previous_stage_id, aware.next_stage_id, aware.next_stage_slug) == (None, buy.stage_id, "buy")
    assert (buy.stage_id, buy.stage_name, buy.previous_stage_id) == (ids["buy"], "Buy", aware.stage_id)
    assert (use.next_stage_id, use.next_stage_slug) == (None, None)
    assert buy.period == PERIOD and buy.compared == PERIOD.previous() and buy.journey_id == ids["shop"]

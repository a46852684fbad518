"""A small crafted journey whose every journey-map number is known in advance.

Journey `shop`: stages aware → buy → use. Stage `buy` has steps browse → cart → pay on touchpoints
`buy-web` (browse, cart) and `buy-store` (pay). The window is 2024-03-01..2024-03-14; the previous
period is 2024-02-16..2024-02-29.

- 10 customers (c0..c9) enter `aware` on 1 March; c0..c7 enter `buy` at browse on 2 March, c0..c5 reach
  cart, c0..c2 pay; c0 enters `use` 3 days after entering `buy`, c1 4 days after. c8 entered `buy` only in
  the previous period. c0..c4 are persona `bargain`, the others `pro`.
- c9 comes back to `aware` on 13 April, after both periods: the data's last day, so every cohort of the
  window (entering up to 14 March) has closed its 30-day conversion window and counts.
- NPS at cart (web): 40 answers in the window (10 promoters, 20 detractors, 10 passives: NPS −25); 40
  promoters in the previous period (NPS 100). CSAT at pay (store): 10 answers of 5 in the window.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Engine

from data_access.db import session_scope
from data_access.models import (
    Channel,
    Event,
    Feedback,
    Journey,
    LaneItem,
    MetricDefinition,
    Persona,
    Stage,
    Step,
    Touchpoint,
)
from data_access.rollups import refresh_rollups
from data_access.scope import Period, StageScope, resolve_scope, resolve_stage

START = dt.date(2024, 3, 1)
END = dt.date(2024, 3, 14)
PERIOD = Period(START, END)


def at(day: int, hour: int = 10, month: int = 3) -> dt.datetime:
    return dt.datetime(2024, month, day, hour)


def build_shop(engine: Engine) -> dict[str, int]:
    """Insert the crafted journey and refresh its rollups; returns ids by name."""
    with session_scope(engine) as session:
        shop = Journey(slug="shop", name="Shop")
        other = Journey(slug="other", name="Other")
        aware = Stage(journey=shop, slug="aware", name="Aware", position=0)
        buy = Stage(journey=shop, slug="buy", name="Buy", position=1)
        use = Stage(journey=shop, slug="use", name="Use", position=2)
        other_buy = Stage(journey=other, slug="buy", name="Other buy", position=0)
        web = Channel(slug="web", name="Web", position=0)
        store = Channel(slug="store", name="Store", kind="physical", position=1)
        bargain = Persona(slug="bargain", name="Bargain hunter")
        pro = Persona(slug="pro", name="Professional")
        session.add_all([shop, other, aware, buy, use, other_buy, web, store, bargain, pro])
        session.flush()
        buy_web = Touchpoint(stage=buy, channel=web, slug="buy-web", name="Web shop", moment_of_truth=True)
        buy_store = Touchpoint(stage=buy, channel=store, slug="buy-store", name="Till")
        session.add_all([buy_web, buy_store])
        session.flush()
        browse = Step(stage=buy, slug="browse", name="Browse", position=0, touchpoint=buy_web)
        cart = Step(stage=buy, slug="cart", name="Cart", position=1, touchpoint=buy_web)
        pay = Step(stage=buy, slug="pay", name="Pay", position=2, touchpoint=buy_store)
        other_step = Step(stage=other_buy, slug="browse", name="Other browse", position=0)
        session.add_all([browse, cart, pay, other_step])
        session.flush()
        session.add_all(
            [
                LaneItem(step=browse, lane="action", text="Looks around the catalogue"),
                LaneItem(step=browse, lane="thought", text="Is this the cheapest?", persona=bargain),
                LaneItem(step=browse, lane="emotion", text="Curious", emotion=1.0),
                LaneItem(step=cart, lane="emotion", text="Hopeful", emotion=0.5),
                LaneItem(step=cart, lane="pain_point", text="Shipping cost appears late", severity=4),
                LaneItem(step=cart, lane="opportunity", text="Show shipping early", owner="Ana", status="done"),
                LaneItem(step=pay, lane="pain_point", text="Queue at the till", severity=3, persona=pro),
                LaneItem(step=pay, lane="opportunity", text="Self-checkout", owner="Bo", status="open", impact=4),
                LaneItem(step=pay, lane="backstage", text="Payment provider settles"),
                LaneItem(step=other_step, lane="pain_point", text="Elsewhere", severity=5),
            ]
        )
        session.add_all(
            [
                MetricDefinition(journey_id=shop.id, key="buy_nps", label="Buy NPS", formula="nps", target=20,
                                 warning=10, stage_id=buy.id),
                MetricDefinition(journey_id=shop.id, key="web_csat", label="Web CSAT", formula="csat", target=80,
                                 warning=5, touchpoint_id=buy_web.id),
                MetricDefinition(journey_id=shop.id, key="store_csat", label="Till CSAT", formula="csat", target=80,
                                 warning=5, touchpoint_id=buy_store.id),
                MetricDefinition(journey_id=shop.id, key="shop_nps", label="Journey NPS", formula="nps", target=0),
                MetricDefinition(journey_id=shop.id, key="buy_conversion", label="Into buy", formula="conversion",
                                 target=0.9, warning=0.05, stage_id=buy.id),
                MetricDefinition(journey_id=shop.id, key="buy_ttn", label="Days to use", formula="time_to_next_stage",
                                 direction="lower", target=2, warning=1, stage_id=buy.id),
                MetricDefinition(journey_id=shop.id, key="aware_nps", label="Aware NPS", formula="nps", target=0,
                                 stage_id=aware.id),
            ]
        )  # fmt: skip
        events: list[Event] = []

        def event(customer: int, when: dt.datetime, stage: Stage, step: Step | None, channel: Channel) -> None:
            persona = bargain if customer < 5 else pro
            events.append(
                Event(
                    customer_id=f"c{customer}",
                    occurred_at=when,
                    journey_id=shop.id,
                    stage_id=stage.id,
                    channel_id=channel.id,
                    step_id=step.id if step else None,
                    persona_id=persona.id,
                )
            )

        for customer in range(10):
            event(customer, at(1), aware, None, web)
        for customer in range(8):
            event(customer, at(2), buy, browse, web)
        for customer in range(6):
            event(customer, at(2, 11), buy, cart, web)
        for customer in range(3):
            event(customer, at(2, 12), buy, pay, store)
        event(0, at(5), use, None, web)
        event(1, at(6), use, None, web)
        event(8, at(20, month=2), buy, browse, web)
        event(9, at(13, month=4), aware, None, web)  # the data's last day: the window's cohorts have closed
        session.add_all(events)

        answers: list[Feedback] = []

        def answer(when: dt.datetime, step: Step, touchpoint: Touchpoint, measure: str, score: float, n: int) -> None:
            for i in range(n):
                answers.append(
                    Feedback(
                        customer_id=f"c{i % 10}",
                        occurred_at=when + dt.timedelta(minutes=i),
                        journey_id=shop.id,
                        stage_id=buy.id,
                        channel_id=touchpoint.channel_id,
                        touchpoint_id=touchpoint.id,
                        step_id=step.id,
                        persona_id=bargain.id if i % 10 < 5 else pro.id,
                        measure=measure,
                        score=score,
                        comment=f"{measure} {score:g} #{i}" if i < 4 else None,
                    )
                )

        answer(at(3), cart, buy_web, "nps", 10, 10)
        answer(at(4), cart, buy_web, "nps", 3, 20)
        answer(at(10), cart, buy_web, "nps", 8, 10)
        answer(at(20, month=2), cart, buy_web, "nps", 10, 40)
        answer(at(7), pay, buy_store, "csat", 5, 10)
        session.add_all(answers)
        session.flush()
        ids = {
            "shop": shop.id,
            "buy": buy.id,
            "browse": browse.id,
            "cart": cart.id,
            "pay": pay.id,
            "buy_web": buy_web.id,
            "buy_store": buy_store.id,
        }
    with engine.begin() as connection:
        refresh_rollups(connection)
    return ids


def stage_scope(
    connection: Connection,
    *,
    stage: str = "buy",
    persona: str | None = None,
    period: Period = PERIOD,
    compared: Period | None = None,
) -> StageScope:
    """The scope of a view of the crafted journey's stage, resolved from slugs as a page does."""
    scope = resolve_scope(connection, journey_slug="shop", persona_slug=persona, period=period, compared=compared)
    assert scope is not None
    found = resolve_stage(connection, scope, stage_slug=stage)
    assert found is not None
    return found

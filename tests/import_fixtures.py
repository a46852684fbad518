"""A small shop map built with ORM objects, and helpers that count what an import wrote."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from data_access.db import session_scope
from data_access.models import (
    Channel,
    ChannelKind,
    EntryRollup,
    Event,
    EventRollup,
    Feedback,
    FeedbackRollup,
    Journey,
    Persona,
    Stage,
    StageEntry,
    Step,
    Touchpoint,
)

SHOP_STAGES = ("awareness", "consideration", "purchase", "approval", "shipping", "delivery")
SHOP_CHANNELS = ("web", "store", "email")
COUNTED = (Event, Feedback, EventRollup, FeedbackRollup, StageEntry, EntryRollup)


def add_shop_map(engine: Engine) -> None:
    """Journey `shop` with six stages, three channels, a persona, two touchpoints and one step."""
    with session_scope(engine) as session:
        channels = {
            slug: Channel(slug=slug, name=slug.title(), kind=ChannelKind.DIGITAL.value, position=i)
            for i, slug in enumerate(SHOP_CHANNELS)
        }
        session.add_all(channels.values())
        journey = Journey(slug="shop", name="Shop")
        stages = {slug: Stage(slug=slug, name=slug.title(), position=i) for i, slug in enumerate(SHOP_STAGES)}
        journey.stages = list(stages.values())
        session.add(journey)
        session.add(Persona(slug="bargain-hunter", name="Bargain hunter"))
        purchase = stages["purchase"]
        checkout = Touchpoint(slug="checkout", name="Checkout", channel=channels["web"])
        till = Touchpoint(slug="till", name="Till", channel=channels["store"])
        purchase.touchpoints = [checkout, till]
        purchase.steps = [Step(slug="pay", name="Pay", position=0, touchpoint=checkout)]


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in every fact and rollup table."""
    with engine.connect() as connection:
        return {
            model.__tablename__: connection.execute(select(func.count()).select_from(model)).scalar_one()
            for model in COUNTED
        }

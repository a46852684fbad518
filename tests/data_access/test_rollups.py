"""refresh_rollups on SQLite and PostgreSQL: daily rollups and first entries against hand-counted facts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, insert, select

from data_access.models import (
    Channel,
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
from data_access.rollups import refresh_rollups

SHOP, OTHER = 1, 2
AWARENESS, PURCHASE, ELSEWHERE = 10, 11, 20
WEB, STORE = 1, 2
BASKET, PAY = 100, 101
SAVER, SPENDER = 1, 2
HOMEPAGE, TILL = 50, 51
D1, D2, D3, D4 = (dt.date(2024, 3, d) for d in (1, 2, 3, 4))


def at(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute, second))


def _map(connection: Connection) -> None:
    connection.execute(
        insert(Journey), [{"id": SHOP, "slug": "shop", "name": "Shop"}, {"id": OTHER, "slug": "other", "name": "Other"}]
    )
    connection.execute(
        insert(Stage),
        [
            {"id": AWARENESS, "journey_id": SHOP, "slug": "awareness", "name": "Awareness", "position": 1},
            {"id": PURCHASE, "journey_id": SHOP, "slug": "purchase", "name": "Purchase", "position": 2},
            {"id": ELSEWHERE, "journey_id": OTHER, "slug": "elsewhere", "name": "Elsewhere", "position": 1},
        ],
    )
    connection.execute(
        insert(Channel),
        [{"id": WEB, "slug": "web", "name": "Web"}, {"id": STORE, "slug": "store", "name": "Store", "position": 1}],
    )
    connection.execute(
        insert(Touchpoint),
        [
            {"id": HOMEPAGE, "stage_id": AWARENESS, "channel_id": WEB, "slug": "homepage", "name": "Homepage"},
            {"id": TILL, "stage_id": PURCHASE, "channel_id": STORE, "slug": "till", "name": "Till"},
        ],
    )
    connection.execute(
        insert(Step),
        [
            {"id": BASKET, "stage_id": PURCHASE, "slug": "basket", "name": "Basket", "position": 1},
            {"id": PAY, "stage_id": PURCHASE, "slug": "pay", "name": "Pay", "position": 2},
        ],
    )
    connection.execute(
        insert(Persona),
        [{"id": SAVER, "slug": "saver", "name": "Saver"}, {"id": SPENDER, "slug": "spender", "name": "Spender"}],
    )


def _event(customer: str, when: dt.datetime, stage: int, channel: int, **extra: Any) -> dict[str, Any]:
    journey = OTHER if stage == ELSEWHERE else SHOP
    row = {"customer_id": customer, "occurred_at": when, "journey_id": journey, "stage_id": stage}
    return {**row, "channel_id": channel, "step_id": None, "persona_id": None, "value": None, **extra}


EVENTS = [
    _event("c1", at(D1, 9), AWARENESS, WEB, persona_id=SAVER, value=1.0),
    _event("c1", at(D1, 18), AWARENESS, WEB, persona_id=SAVER, value=2.0),
    _event("c3", at(D1, 11), AWARENESS, WEB, persona_id=SAVER),
    _event("c2", at(D1, 10), AWARENESS, STORE, persona_id=SPENDER),
    _event("c1", at(D2, 8), PURCHASE, WEB, step_id=BASKET, persona_id=SAVER, value=5.0),
    _event("c1", at(D3, 8), PURCHASE, WEB, step_id=PAY, persona_id=SAVER),
    _event("c1", at(D4, 8), AWARENESS, WEB, persona_id=SAVER),  # back to awareness: not a new entry
    _event("c2", at(D2, 23, 59, 59), PURCHASE, STORE, persona_id=SPENDER),
    _event("c2", at(D3, 12), PURCHASE, STORE, step_id=BASKET, persona_id=SPENDER),
    _event("c2", at(D4, 12), PURCHASE, STORE, step_id=BASKET, persona_id=SPENDER),  # basket again
    _event("c9", at(D1, 12), ELSEWHERE, WEB),
]


def _answers(measure: str, scores: list[float], when: dt.datetime, **extra: Any) -> list[dict[str, Any]]:
    base = {"occurred_at": when, "journey_id": SHOP, "stage_id": AWARENESS, "channel_id": WEB}
    base |= {"touchpoint_id": HOMEPAGE, "persona_id": SAVER, "measure": measure}
    return [{**base, **extra, "score": score} for score in scores]


FEEDBACK = [
    # promoters 9–10, passives 7–8, detractors 0–6
    *_answers("nps", [10, 9, 8, 7, 6, 0], at(D1, 10)),
    # CSAT: 4–5 good, 3 neither, 1–2 bad
    *_answers("csat", [5, 4, 3, 2, 1], at(D1, 10)),
    # CES: 5–7 good, 4 neither, 1–3 bad
    *_answers("ces", [7, 5, 4, 3, 1], at(D1, 10)),
    # sentiment: any score above 0 is positive, below 0 negative, 0 neutral
    *_answers("sentiment", [0.5, 1e-12, 0.0, -0.25, -1e-12], at(D1, 10)),
    # answers late in the day land on that day, without channel, touchpoint or persona
    *_answers(
        "nps", [9, 3], at(D2, 23, 59, 59), stage_id=PURCHASE, channel_id=None, touchpoint_id=None, persona_id=None
    ),
    *_answers("nps", [10], at(D1, 9), journey_id=OTHER, stage_id=ELSEWHERE, touchpoint_id=None),
]


def _load(engine: Engine) -> None:
    with engine.begin() as connection:
        _map(connection)
        connection.execute(insert(Event), EVENTS)
        connection.execute(insert(Feedback), FEEDBACK)


def _refresh(engine: Engine, journey_ids: list[int] | None = None) -> None:
    with engine.begin() as connection:
        refresh_rollups(connection, journey_ids=journey_ids)


def _rows(engine: Engine, columns: list[Any], journey_id: int) -> list[tuple[Any, ...]]:
    table = columns[0].class_
    with engine.connect() as connection:
        rows = connection.execute(select(*columns).where(table.journey_id == journey_id)).all()
    return sorted((tuple(r) for r in rows), key=repr)


def _event_rollup(engine: Engine, journey_id: int = SHOP) -> list[tuple[Any, ...]]:
    r = EventRollup
    return _rows(engine, [r.day, r.stage_id, r.channel_id, r.step_id, r.persona_id, r.events, r.value_sum], journey_id)


def _feedback_rollup(engine: Engine, journey_id: int = SHOP) -> list[tuple[Any, ...]]:
    r = FeedbackRollup
    columns = [r.day, r.stage_id, r.channel_id, r.touchpoint_id, r.persona_id, r.measure, r.answers, r.good, r.bad]
    return _rows(engine, columns, journey_id)


def _entries(engine: Engine, journey_id: int = SHOP) -> list[tuple[Any, ...]]:
    e = StageEntry
    return _rows(engine, [e.customer_id, e.stage_id, e.step_id, e.persona_id, e.entered_at], journey_id)


def _entry_rollup(engine: Engine, journey_id: int = SHOP) -> list[tuple[Any, ...]]:
    r = EntryRollup
    return _rows(engine, [r.day, r.stage_id, r.step_id, r.persona_id, r.customers], journey_id)


def _sorted(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(rows, key=repr)


EXPECTED_EVENT_ROLLUP = _sorted(
    [
        (D1, AWARENESS, WEB, None, SAVER, 3, 3.0),
        (D1, AWARENESS, STORE, None, SPENDER, 1, 0.0),
        (D2, PURCHASE, WEB, BASKET, SAVER, 1, 5.0),
        (D3, PURCHASE, WEB, PAY, SAVER, 1, 0.0),
        (D4, AWARENESS, WEB, None, SAVER, 1, 0.0),
        (D2, PURCHASE, STORE, None, SPENDER, 1, 0.0),
        (D3, PURCHASE, STORE, BASKET, SPENDER, 1, 0.0),
        (D4, PURCHASE, STORE, BASKET, SPENDER, 1, 0.0),
    ]
)

EXPECTED_FEEDBACK_ROLLUP = _sorted(
    [
        (D1, AWARENESS, WEB, HOMEPAGE, SAVER, "nps", 6, 2, 2),
        (D1, AWARENESS, WEB, HOMEPAGE, SAVER, "csat", 5, 2, 2),
        (D1, AWARENESS, WEB, HOMEPAGE, SAVER, "ces", 5, 2, 2),
        (D1, AWARENESS, WEB, HOMEPAGE, SAVER, "sentiment", 5, 2, 2),
        (D2, PURCHASE, None, None, None, "nps", 2, 1, 1),
    ]
)

EXPECTED_ENTRIES = _sorted(
    [
        ("c1", AWARENESS, None, SAVER, at(D1, 9)),
        ("c2", AWARENESS, None, SPENDER, at(D1, 10)),
        ("c3", AWARENESS, None, SAVER, at(D1, 11)),
        ("c1", PURCHASE, None, SAVER, at(D2, 8)),
        ("c2", PURCHASE, None, SPENDER, at(D2, 23, 59, 59)),
        ("c1", PURCHASE, BASKET, SAVER, at(D2, 8)),
        ("c1", PURCHASE, PAY, SAVER, at(D3, 8)),
        ("c2", PURCHASE, BASKET, SPENDER, at(D3, 12)),
    ]
)

EXPECTED_ENTRY_ROLLUP = _sorted(
    [
        (D1, AWARENESS, None, SAVER, 2),
        (D1, AWARENESS, None, SPENDER, 1),
        (D2, PURCHASE, None, SAVER, 1),
        (D2, PURCHASE, None, SPENDER, 1),
        (D2, PURCHASE, BASKET, SAVER, 1),
        (D3, PURCHASE, PAY, SAVER, 1),
        (D3, PURCHASE, BASKET, SPENDER, 1),
    ]
)


def test_events_are_counted_and_summed_per_day_stage_channel_step_and_persona(engine: Engine) -> None:
    _load(engine)
    _refresh(engine)
    assert _event_rollup(engine) == EXPECTED_EVENT_ROLLUP
    assert _event_rollup(engine, OTHER) == [(D1, ELSEWHERE, WEB, None, None, 1, 0.0)]


def test_answers_are_counted_in_their_measure_bands(engine: Engine) -> None:
    """NPS 9–10 good, 0–6 bad; CSAT ≥4 / ≤2; CES ≥5 / ≤3; sentiment >0 / <0."""
    _load(engine)
    _refresh(engine)
    assert _feedback_rollup(engine) == EXPECTED_FEEDBACK_ROLLUP
    with engine.connect() as connection:
        r = FeedbackRollup
        day_one = dict(
            connection.execute(select(r.measure, r.score_sum).where(r.journey_id == SHOP, r.day == D1)).tuples().all()
        )
    assert day_one == {
        "nps": pytest.approx(40.0),
        "csat": pytest.approx(15.0),
        "ces": pytest.approx(20.0),
        "sentiment": pytest.approx(0.25),
    }


def test_each_customer_enters_each_stage_and_step_once_at_the_first_time(engine: Engine) -> None:
    _load(engine)
    _refresh(engine)
    assert _entries(engine) == EXPECTED_ENTRIES
    assert _entry_rollup(engine) == EXPECTED_ENTRY_ROLLUP
    assert _entry_rollup(engine, OTHER) == [(D1, ELSEWHERE, None, None, 1)]


def test_refreshing_twice_gives_the_same_rows(engine: Engine) -> None:
    _load(engine)
    _refresh(engine)
    _refresh(engine)
    assert _event_rollup(engine) == EXPECTED_EVENT_ROLLUP
    assert _feedback_rollup(engine) == EXPECTED_FEEDBACK_ROLLUP
    assert _entries(engine) == EXPECTED_ENTRIES
    assert _entry_rollup(engine) == EXPECTED_ENTRY_ROLLUP


def test_refreshing_one_journey_leaves_the_others_rollups_alone(engine: Engine) -> None:
    _load(engine)
    _refresh(engine)
    other_before = (_event_rollup(engine, OTHER), _feedback_rollup(engine, OTHER), _entry_rollup(engine, OTHER))
    with engine.begin() as connection:
        connection.execute(
            insert(Event),
            [
                _event("c4", at(D4, 9), AWARENESS, STORE, persona_id=SPENDER, value=4.0),
                _event("c8", at(D4, 9), ELSEWHERE, WEB),
            ],
        )
    _refresh(engine, journey_ids=[SHOP])

    assert (_event_rollup(engine, OTHER), _feedback_rollup(engine, OTHER), _entry_rollup(engine, OTHER)) == other_before
    assert _event_rollup(engine) == _sorted([*EXPECTED_EVENT_ROLLUP, (D4, AWARENESS, STORE, None, SPENDER, 1, 4.0)])
    assert _entry_rollup(engine) == _sorted([*EXPECTED_ENTRY_ROLLUP, (D4, AWARENESS, None, SPENDER, 1)])
    assert _feedback_rollup(engine) == EXPECTED_FEEDBACK_ROLLUP


def test_a_failed_transaction_keeps_the_previous_rollups(engine: Engine) -> None:
    """Rollups are rebuilt in the caller's transaction: when it rolls back, the old rows stay."""
    _load(engine)
    _refresh(engine)
    with pytest.raises(RuntimeError), engine.begin() as connection:
        connection.execute(insert(Event), [_event("c5", at(D4, 9), AWARENESS, WEB, persona_id=SAVER)])
        refresh_rollups(connection)
        raise RuntimeError("import failed after the refresh")
    assert _event_rollup(engine) == EXPECTED_EVENT_ROLLUP
    assert _entry_rollup(engine) == EXPECTED_ENTRY_ROLLUP

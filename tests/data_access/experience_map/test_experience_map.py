"""The experience map's numbers: load_experience_map over refreshed rollups on SQLite and PostgreSQL, and pure parts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Connection, Engine, delete, insert

from dashboard import format
from data_access.experience_map.assembly import Headline, emotional_curve, touchpoint_grid
from data_access.experience_map.load import ExperienceMapData, load_experience_map
from data_access.experience_map.queries import data_days
from data_access.metrics import Status
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
from data_access.period_sums import TOUCHPOINT_FEEDBACK_SCHEMA
from data_access.rollups import refresh_rollups
from data_access.scope import Period, Scope

SHOP = 1
AWARENESS, PURCHASE, SUPPORT = 10, 11, 12
WEB, STORE, EMAIL = 1, 2, 3
HOMEPAGE, ADS, CHECKOUT, TILL = 50, 51, 52, 53
SAVER, SPENDER = 1, 2
CURRENT = Period(dt.date(2024, 3, 8), dt.date(2024, 3, 14))
PREVIOUS = Period(dt.date(2024, 3, 1), dt.date(2024, 3, 7))
MIN_ANSWERS = 5


def day(n: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 3, n, hour, minute)


def _map(connection: Connection) -> None:
    connection.execute(insert(Journey), [{"id": SHOP, "slug": "shop", "name": "Shop"}])
    connection.execute(
        insert(Stage),
        [
            {"id": AWARENESS, "journey_id": SHOP, "slug": "awareness", "name": "Awareness", "position": 1},
            {"id": PURCHASE, "journey_id": SHOP, "slug": "purchase", "name": "Purchase", "position": 2},
            {"id": SUPPORT, "journey_id": SHOP, "slug": "support", "name": "Support", "position": 3},
        ],
    )
    connection.execute(
        insert(Channel),
        [
            {"id": WEB, "slug": "web", "name": "Web", "position": 0},
            {"id": STORE, "slug": "store", "name": "Store", "position": 1},
            {"id": EMAIL, "slug": "email", "name": "Email", "position": 2},
        ],
    )
    touchpoint = {"owner": "", "description": "", "moment_of_truth": False}
    connection.execute(
        insert(Touchpoint),
        [
            {
                **touchpoint,
                "id": HOMEPAGE,
                "stage_id": AWARENESS,
                "channel_id": WEB,
                "slug": "home",
                "name": "Homepage",
            },
            {**touchpoint, "id": ADS, "stage_id": AWARENESS, "channel_id": WEB, "slug": "ads", "name": "Ads"},
            {**touchpoint, "id": CHECKOUT, "stage_id": PURCHASE, "channel_id": WEB, "slug": "out", "name": "Checkout"},
            {**touchpoint, "id": TILL, "stage_id": PURCHASE, "channel_id": STORE, "slug": "till", "name": "Till"}
            | {"moment_of_truth": True, "owner": "Stores"},
        ],
    )
    connection.execute(
        insert(Persona),
        [{"id": SAVER, "slug": "saver", "name": "Saver"}, {"id": SPENDER, "slug": "spender", "name": "Spender"}],
    )
    connection.execute(
        insert(Step),
        [
            {"id": 100, "stage_id": AWARENESS, "slug": "see-ad", "name": "See an ad", "position": 1},
            {"id": 101, "stage_id": PURCHASE, "slug": "pay", "name": "Pay", "position": 1},
        ],
    )
    emotion = {"lane": "emotion", "text": "", "persona_id": None}
    connection.execute(
        insert(LaneItem),
        [
            {**emotion, "step_id": 100, "emotion": 1.0},
            {**emotion, "step_id": 100, "emotion": -1.0, "persona_id": SAVER},
            {**emotion, "step_id": 101, "emotion": -0.5},
            {**emotion, "step_id": 101, "emotion": 2.0, "persona_id": SPENDER},
            {**emotion, "lane": "action", "text": "pays", "step_id": 101, "emotion": None},
        ],
    )
    definition = {"journey_id": SHOP, "unit": "", "direction": "higher", "stage_id": None, "touchpoint_id": None}
    connection.execute(
        insert(MetricDefinition),
        [
            {**definition, "key": "nps", "label": "NPS", "formula": "nps", "target": 30.0, "warning": 10.0},
            {**definition, "key": "csat", "label": "CSAT", "formula": "csat", "target": 80.0, "warning": 10.0},
            {**definition, "key": "ces", "label": "CES", "formula": "ces", "target": 5.0, "warning": 0.5},
            {**definition, "key": "conversion", "label": "Conversion", "formula": "conversion"}
            | {"stage_id": PURCHASE, "target": 0.5, "warning": 0.1},
            {**definition, "key": "till_csat", "label": "Till CSAT", "formula": "csat", "target": 90.0, "warning": 5.0}
            | {"touchpoint_id": TILL},
        ],
    )


def _answers(
    measure: str, scores: list[float], when: dt.datetime, stage: int, channel: int | None, **extra: Any
) -> list[dict[str, Any]]:
    row = {"occurred_at": when, "journey_id": SHOP, "stage_id": stage, "channel_id": channel, "measure": measure}
    return [{"touchpoint_id": None, "persona_id": None, **row, **extra, "score": s} for s in scores]


def _event(customer: str, when: dt.datetime, stage: int, channel: int, persona: int | None) -> dict[str, Any]:
    return {
        "customer_id": customer,
        "occurred_at": when,
        "journey_id": SHOP,
        "stage_id": stage,
        "channel_id": channel,
        "persona_id": persona,
    }


HOME = {"touchpoint_id": HOMEPAGE, "persona_id": SAVER}
AT_TILL = {"touchpoint_id": TILL, "persona_id": SPENDER}
AT_CHECKOUT = {"touchpoint_id": CHECKOUT, "persona_id": SAVER}
FEEDBACK = [
    # current period
    *_answers("nps", [10, 10, 9, 8, 0], day(8), AWARENESS, WEB, **HOME),  # +40 from 5 answers
    *_answers("csat", [5, 5, 4, 4, 1], day(9), AWARENESS, WEB, **HOME),  # 80 %
    *_answers("ces", [4, 4], day(10), AWARENESS, WEB, **HOME),  # too few
    *_answers("nps", [10, 6, 6, 5, 9, 0], day(14, 23, 59), PURCHASE, STORE, **AT_TILL),  # −33
    *_answers("csat", [5, 4, 4, 3, 2], day(11), PURCHASE, STORE, **AT_TILL),  # 60 %
    *_answers("nps", [9, 9], day(12), PURCHASE, WEB, **AT_CHECKOUT),  # too few
    *_answers("sentiment", [0.5, 0.5, -1.0], day(12), SUPPORT, None),  # too few, no channel
    # previous period, up to the day before the current one starts
    *_answers("nps", [10, 10, 10, 10, 10], day(7, 23, 30), AWARENESS, WEB, **HOME),
    *_answers("csat", [1, 1, 1, 1, 1], day(1, 0, 0), AWARENESS, WEB, **HOME),
    # before both periods
    *_answers("nps", [0] * 10, dt.datetime(2024, 2, 20), AWARENESS, WEB, **HOME),
]

EVENTS = [
    # current period: c1, c3, c4 (savers) and c2 (spender) enter awareness; c1 and c2 go on to purchase
    _event("c1", day(8, 10), AWARENESS, WEB, SAVER),
    _event("c2", day(8, 11), AWARENESS, WEB, SPENDER),
    _event("c3", day(11), AWARENESS, WEB, SAVER),
    _event("c4", day(12), AWARENESS, STORE, SAVER),
    _event("c1", day(9), PURCHASE, WEB, SAVER),
    _event("c2", day(10), PURCHASE, STORE, SPENDER),
    _event("c5", day(8), AWARENESS, WEB, None),  # back again: an event, not a new entrant
    # previous period: four enter awareness, one goes on
    *[_event(c, day(2), AWARENESS, WEB, None) for c in ("c5", "c6", "c7", "c8")],
    _event("c5", day(3), PURCHASE, WEB, None),
    # after both periods, c5 comes back on 13 April: the data's last day, so every cohort of the current
    # period (entering up to 14 March) has closed its 30-day conversion window and counts
    _event("c5", dt.datetime(2024, 4, 13, 12), AWARENESS, WEB, None),
]


@pytest.fixture
def shop(engine: Engine) -> Engine:
    with engine.begin() as connection:
        _map(connection)
        connection.execute(insert(Feedback), FEEDBACK)
        connection.execute(insert(Event), EVENTS)
        refresh_rollups(connection)
    return engine


def _scope(*, persona_id: int | None = None, period: Period = CURRENT, compared: Period | None = None) -> Scope:
    return Scope(
        journey_id=SHOP,
        journey_slug="shop",
        persona_id=persona_id,
        period=period,
        compared=compared or period.previous(),
    )


def _overview(
    engine: Engine, *, metric: str = "nps", persona_id: int | None = None, period: Period = CURRENT
) -> ExperienceMapData:
    with engine.connect() as connection:
        return load_experience_map(
            connection, scope=_scope(persona_id=persona_id, period=period), metric=metric, min_answers=MIN_ANSWERS
        )


def _cells(grid: pl.DataFrame, *columns: str) -> dict[tuple[str, str], tuple[Any, ...]]:
    return {
        (row["stage_slug"], row["channel_slug"]): tuple(row[c] for c in columns) for row in grid.iter_rows(named=True)
    }


def _headlines(overview: ExperienceMapData) -> dict[str, Headline]:
    return {h.key: h for h in overview.headlines}


# --- the grid -------------------------------------------------------------------------------------


def test_grid_has_one_row_per_cell_with_a_touchpoint(shop: Engine) -> None:
    grid = _overview(shop).grid
    assert _cells(grid, "touchpoints", "moment_of_truth") == {
        ("awareness", "web"): ("Homepage; Ads", False),
        ("purchase", "web"): ("Checkout", False),
        ("purchase", "store"): ("Till", True),
    }


def test_grid_shows_the_chosen_measure_and_its_status(shop: Engine) -> None:
    grid = _overview(shop, metric="nps").grid.with_columns(format.grid_labels())
    cells = _cells(grid, "value", "status", "value_label", "answers", "nps_label", "csat_label", "ces_label")
    assert cells[("awareness", "web")] == (
        pytest.approx(40.0),
        "green",
        "+40",
        12,
        "+40 (5 answers)",
        "80.0% (5 answers)",
        "not enough data (2 answers)",
    )
    assert cells[("purchase", "store")][:4] == (pytest.approx(-100 / 3), "red", "★ -33", 11)
    assert cells[("purchase", "store")][5] == "60.0% (5 answers)"


def test_a_cell_with_too_few_answers_says_so_instead_of_turning_red(shop: Engine) -> None:
    grid = _overview(shop, metric="nps").grid.with_columns(format.grid_labels())
    value, status, label, nps_label, health_label = _cells(
        grid, "value", "status", "value_label", "nps_label", "health_label"
    )[("purchase", "web")]
    assert (value, status) == (None, "no data")
    # the cell shows how few answers it has, never a number that could be read as the score
    assert "2" in label
    assert not label.lstrip("★ ").startswith(("+", "-"))
    assert nps_label == "not enough data (2 answers)"
    assert health_label == "not enough data (0 of 3 metrics measured)"


def test_grid_health_counts_metrics_on_target(shop: Engine) -> None:
    """Awareness/web: NPS and CSAT on target, CES too few answers; purchase/store: NPS, CSAT, till CSAT all red.

    An unmeasured metric is named as such, never counted as on target."""
    grid = _overview(shop, metric="health").grid.with_columns(format.grid_labels())
    cells = _cells(grid, "value", "status", "value_label", "health_label")
    assert cells[("awareness", "web")][:2] == (1.0, "green")
    assert cells[("awareness", "web")][2].startswith("100%")
    assert cells[("awareness", "web")][3] == "2 of 3 metrics measured · 2 of 2 on target"
    assert cells[("purchase", "store")][:2] == (0.0, "red")
    assert cells[("purchase", "store")][2].startswith("★ 0%")
    assert cells[("purchase", "store")][3] == "3 of 4 metrics measured · 0 of 3 on target"
    assert cells[("purchase", "web")][:2] == (None, "no data")
    assert not cells[("purchase", "web")][2].startswith("0%")
    assert cells[("purchase", "web")][3] == "not enough data (0 of 3 metrics measured)"


def test_grid_volume_counts_events_and_answers_in_the_period(shop: Engine) -> None:
    """Volume is a cell's events plus its answers (README Metrics): 4 events + 12 answers on awareness/web."""
    cells = _cells(_overview(shop, metric="volume").grid, "value", "status", "events", "answers")
    assert cells == {
        ("awareness", "web"): (16.0, "green", 4, 12),
        ("purchase", "web"): (3.0, "green", 1, 2),
        ("purchase", "store"): (12.0, "green", 1, 11),
    }


def test_grid_judges_a_single_measure_against_the_journeys_target(shop: Engine) -> None:
    """CSAT target 80 with a 10-point band: 80 % green, 60 % red; CES from 2 answers is not enough data."""
    csat = _cells(_overview(shop, metric="csat").grid, "value", "status")
    assert csat[("awareness", "web")] == (pytest.approx(80.0), "green")
    assert csat[("purchase", "store")] == (pytest.approx(60.0), "red")
    ces = _cells(_overview(shop, metric="ces").grid, "value", "status")
    assert ces[("awareness", "web")] == (None, "no data")


def test_moments_of_truth_carry_their_cells_status(shop: Engine) -> None:
    moments = _overview(shop, metric="nps").moments_of_truth
    assert moments.rows() == [("Purchase", "Store", "Till", "Stores", "red", 3, 4)]
    # the health of the cell, whatever metric the grid shows
    assert _overview(shop, metric="volume").moments_of_truth["status"].to_list() == ["red"]


# --- the emotional curve ------------------------------------------------------------------------


def _curve(overview: ExperienceMapData, source: str) -> dict[str, tuple[float | None, int | None]]:
    rows = overview.curve.filter(pl.col("source") == source).sort("stage_position")
    return {r["stage_slug"]: (r["emotion"], r["answers"]) for r in rows.iter_rows(named=True)}


def test_emotional_curve_sets_measured_beside_assumed(shop: Engine) -> None:
    overview = _overview(shop)
    # 2 × (favourable − the other answers) ÷ answers, over every measure:
    # awareness: NPS 3 promoters of 5, CSAT 4 top-box of 5, CES two 4s (not favourable): 2 × (7 − 5) / 12
    # purchase: NPS 2 + 2 promoters of 8, CSAT 3 top-box of 5: 2 × (7 − 6) / 13
    # support: 3 answers, fewer than the minimum
    measured = _curve(overview, "measured")
    assert list(measured) == ["awareness", "purchase", "support"]
    assert measured["awareness"] == (pytest.approx(4 / 12), 12)
    assert measured["purchase"] == (pytest.approx(2 / 13), 13)
    assert measured["support"] == (None, 3)
    assert _curve(overview, "assumed") == {"awareness": (1.0, None), "purchase": (-0.5, None), "support": (None, None)}


# --- headlines ----------------------------------------------------------------------------------


def test_headlines_give_the_journey_values_and_the_previous_period(shop: Engine) -> None:
    headlines = _headlines(_overview(shop))
    nps, csat, ces, conversion = (headlines[k] for k in ("nps", "csat", "ces", "conversion"))
    # NPS: 13 answers, 7 promoters, 5 detractors; last period 5 promoters of 5
    assert (nps.value, nps.previous, nps.answers, nps.status) == (pytest.approx(200 / 13), 100.0, 13, Status.RED)
    assert nps.change == pytest.approx(200 / 13 - 100)
    # CSAT: 7 of 10 top-2-box, exactly at the edge of the warning band; last period 0 of 5
    assert (csat.value, csat.previous, csat.answers, csat.status) == (70.0, 0.0, 10, Status.AMBER)
    assert (format.value_text(csat.value, csat.key), format.change_text(csat.change, csat.key)) == (
        "70.0%",
        "+70.0 pts",
    )
    # CES: 2 answers only
    assert (ces.value, ces.previous, ces.status) == (None, None, Status.NO_DATA)
    assert format.value_text(ces.value, ces.key) == "—"
    # conversion to purchase: 2 of 4 awareness entrants now, 1 of 4 last period
    assert (conversion.value, conversion.previous, conversion.answers) == (0.5, 0.25, 4)
    assert conversion.status == Status.GREEN
    assert conversion.label == "Conversion to Purchase"
    assert format.value_text(conversion.value, conversion.key) == "50.0%"
    assert format.change_text(conversion.change, conversion.key) == "+25.0 pts"


def test_persona_filter_restricts_every_view(shop: Engine) -> None:
    overview = _overview(shop, persona_id=SAVER)
    cells = _cells(overview.grid, "value", "status", "answers")
    assert cells[("awareness", "web")] == (pytest.approx(40.0), "green", 12)
    assert cells[("purchase", "store")] == (None, "no data", 0)
    headlines = _headlines(overview)
    # saver NPS: 7 answers, 5 promoters, 1 detractor
    assert headlines["nps"].value == pytest.approx(400 / 7)
    assert headlines["nps"].answers == 7
    assert headlines["csat"].value == pytest.approx(80.0)
    # savers: c1, c3, c4 enter awareness, c1 goes on; last period's entrants had no persona
    assert (headlines["conversion"].value, headlines["conversion"].previous) == (pytest.approx(1 / 3), None)
    assert _curve(overview, "measured")["purchase"] == (None, 2)
    # assumed: the general cards and the saver's own
    assert _curve(overview, "assumed")["awareness"] == (0.0, None)
    volume = _cells(_overview(shop, metric="volume", persona_id=SAVER).grid, "events")
    assert volume == {("awareness", "web"): (2,), ("purchase", "web"): (1,), ("purchase", "store"): (0,)}


def test_a_period_without_data_shows_no_data_everywhere(shop: Engine) -> None:
    empty = Period(dt.date(2023, 1, 1), dt.date(2023, 1, 31))
    for metric in ("health", "nps", "csat", "ces", "volume"):
        grid = _overview(shop, metric=metric, period=empty).grid
        assert grid.height == 3
        assert set(grid["status"]) == {"no data"}
    overview = _overview(shop, period=empty)
    assert overview.curve.filter(pl.col("source") == "measured")["emotion"].null_count() == 3
    for headline in overview.headlines:
        assert (headline.value, headline.previous, headline.status) == (None, None, Status.NO_DATA)


def test_conversion_headline_defaults_to_the_last_stage(shop: Engine) -> None:
    """Without a 'conversion' definition the headline is support ÷ purchase: nobody reached support."""
    with shop.begin() as connection:
        connection.execute(delete(MetricDefinition).where(MetricDefinition.key == "conversion"))
    conversion = _headlines(_overview(shop))["conversion"]
    assert conversion.label == "Conversion to Support"
    assert (conversion.value, conversion.answers, conversion.status) == (0.0, 2, Status.NO_DATA)


def test_data_days_span_events_and_feedback(shop: Engine) -> None:
    """From the first answer (20 February) to the last event (13 April)."""
    with shop.connect() as connection:
        assert data_days(connection, journey_id=SHOP) == Period(dt.date(2024, 2, 20), dt.date(2024, 4, 13))
        assert data_days(connection, journey_id=SHOP + 1) is None


def test_a_journey_with_no_facts_at_all_loads(engine: Engine) -> None:
    with engine.begin() as connection:
        _map(connection)
    overview = _overview(engine)
    assert overview.grid.height == 3
    assert set(overview.grid["status"]) == {"no data"}
    assert all(h.value is None for h in overview.headlines)


# --- pure assembly on crafted frames -------------------------------------------------------------

STAGES = pl.DataFrame(
    {"stage_id": [1, 2], "stage_slug": ["a", "b"], "stage": ["A", "B"], "stage_position": [1, 2]},
)
CHANNELS = pl.DataFrame({"channel_id": [7], "channel_slug": ["web"], "channel": ["Web"], "channel_position": [0]})
TOUCHPOINTS = pl.DataFrame(
    {
        "touchpoint_id": [70, 71],
        "stage_id": [1, 2],
        "channel_id": [7, 7],
        "touchpoint_slug": ["site", "cart"],
        "touchpoint": ["Site", "Cart"],
        "owner": ["", ""],
        "moment_of_truth": [False, False],
    }
)
DEFINITIONS = pl.DataFrame(
    {
        "key": ["nps"],
        "label": ["NPS"],
        "formula": ["nps"],
        "unit": [""],
        "direction": ["higher"],
        "target": [0.0],
        "warning": [10.0],
        "stage_id": [None],
        "touchpoint_id": [None],
    },
    schema_overrides={"stage_id": pl.Int64, "touchpoint_id": pl.Int64},
)


def _feedback(rows: list[tuple[int, int | None, int | None, str, int, float, int, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=TOUCHPOINT_FEEDBACK_SCHEMA, orient="row")


def test_touchpoint_grid_sums_a_cells_daily_rows_before_applying_the_minimum() -> None:
    """Two rows of 3 answers each make 6: enough for a minimum of 5, and NPS over all six."""
    feedback = _feedback(
        [(1, 7, 70, "nps", 3, 27.0, 3, 0), (1, 7, 70, "nps", 3, 0.0, 0, 3), (2, 7, 71, "nps", 4, 40.0, 4, 0)]
    )
    events = pl.DataFrame(schema={"stage_id": pl.Int64, "channel_id": pl.Int64, "events": pl.Int64})
    grid = touchpoint_grid(
        stages=STAGES,
        channels=CHANNELS,
        touchpoints=TOUCHPOINTS,
        feedback=feedback,
        events=events,
        definitions=DEFINITIONS,
        metric="nps",
        min_answers=5,
    )
    cells = _cells(grid.with_columns(format.grid_labels()), "value", "status", "value_label")
    assert cells[("a", "web")] == (0.0, "green", "0")
    assert cells[("b", "web")][:2] == (None, "no data")
    assert "4" in cells[("b", "web")][2]


def test_emotional_curve_weights_measures_by_answers() -> None:
    """NPS mean 10 (+2) from 3 answers and CSAT mean 1 (−2) from 1 answer: (6 − 2) / 4 = +1."""
    feedback = _feedback([(1, 7, None, "nps", 3, 30.0, 3, 0), (1, None, None, "csat", 1, 1.0, 0, 1)])
    assumed = pl.DataFrame({"stage_id": [2], "assumed": [-1.5]})
    curve = emotional_curve(stages=STAGES, feedback=feedback, assumed=assumed, min_answers=4)
    rows = {(r["source"], r["stage_slug"]): (r["emotion"], r["answers"]) for r in curve.iter_rows(named=True)}
    assert rows == {
        ("measured", "a"): (pytest.approx(1.0), 4),
        ("measured", "b"): (None, 0),
        ("assumed", "a"): (None, None),
        ("assumed", "b"): (-1.5, None),
    }


def test_headlines_compare_with_the_chosen_period(shop: Engine) -> None:
    """The scope's `compared` replaces the period before: compared with itself, every headline's change is zero."""
    with shop.connect() as connection:
        chosen = load_experience_map(connection, scope=_scope(compared=CURRENT), metric="nps", min_answers=MIN_ANSWERS)
    default, explicit = _headlines(_overview(shop)), _headlines(chosen)
    assert explicit["nps"].previous == pytest.approx(200 / 13) and explicit["nps"].change == 0.0
    assert explicit["csat"].previous == 70.0
    assert (explicit["conversion"].previous, default["conversion"].previous) == (0.5, 0.25)

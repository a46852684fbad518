"""Journey-map queries on SQLite and PostgreSQL, against the crafted journey of `journey_fixtures`."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import Engine

from data_access.conversions import MEDIAN_RESOLUTION_DAYS
from data_access.journey_map import comments, content, numbers
from data_access.journey_map.assembly import funnel_absence, step_emotion
from data_access.journey_map.load import load_journey_map
from data_access.scope import Period
from tests.journey_fixtures import PERIOD, build_shop, stage_scope


def test_previous_period_has_equal_length() -> None:
    """The previous period ends the day before the period and is as long."""
    period = Period(dt.date(2024, 3, 1), dt.date(2024, 3, 14))
    assert period.previous() == Period(dt.date(2024, 2, 16), dt.date(2024, 2, 29))


def test_stages_steps_and_neighbours(engine: Engine) -> None:
    """Stages come in order, steps carry their touchpoints, and a stage's scope knows its neighbours."""
    ids = build_shop(engine)
    with engine.connect() as connection:
        assert content.journey_stages(connection, journey_id=ids["shop"])["stage_slug"].to_list() == [
            "aware",
            "buy",
            "use",
        ]
        assert content.journey_stages(connection, journey_id=-1).is_empty()
        buy = stage_scope(connection)
        steps = content.stage_steps(connection, scope=buy)
    assert steps["step_slug"].to_list() == ["browse", "cart", "pay"]
    assert steps["touchpoint_name"].to_list() == ["Web shop", "Web shop", "Till"]
    assert steps["channel_name"].to_list() == ["Web", "Web", "Store"]
    assert buy.stage_id == ids["buy"] and buy.previous_stage_id and buy.next_stage_id
    assert buy.next_stage_slug == "use"


@pytest.mark.parametrize(
    ("persona", "extra"),
    [(None, set()), ("bargain", {"Is this the cheapest?"}), ("pro", {"Queue at the till"})],
)
def test_lane_items_follow_the_persona(engine: Engine, persona: str | None, extra: set[str]) -> None:
    """General items always show; a persona's own items only for that persona."""
    build_shop(engine)
    general = {
        "Looks around the catalogue",
        "Curious",
        "Hopeful",
        "Shipping cost appears late",
        "Show shipping early",
        "Self-checkout",
        "Payment provider settles",
    }
    with engine.connect() as connection:
        items = content.lane_items(connection, scope=stage_scope(connection, persona=persona))
    assert set(items["text"].to_list()) == general | extra


def test_open_findings_by_stage(engine: Engine) -> None:
    """A written pain point is open, also beside a done opportunity; done opportunities are not; a persona's
    items count in that persona's view only."""
    build_shop(engine)
    with engine.connect() as connection:
        pro = stage_scope(connection, persona="pro")
        everyone = content.open_findings_by_stage(connection, journey_id=pro.journey_id, persona_id=None)
        for_pro = content.open_findings_by_stage(connection, journey_id=pro.journey_id, persona_id=pro.persona_id)
    assert everyone.rows() == [("aware", 0, 0), ("buy", 1, 1), ("use", 0, 0)]
    assert for_pro.rows() == [("aware", 0, 0), ("buy", 2, 1), ("use", 0, 0)]


def test_funnel_through_steps_to_next_stage(engine: Engine) -> None:
    """Cohorts of the period: 8 entrants → 8 → 6 → 3 through the required steps, each conversion from the step
    before; 2 of the 8 entrants reach Use, a conversion of 2/8 from the stage (not 2/3 of the last step)."""
    build_shop(engine)
    with engine.connect() as connection:
        funnel = numbers.stage_funnel(connection, scope=stage_scope(connection))
        bargain = numbers.stage_funnel(connection, scope=stage_scope(connection, persona="bargain"))
    assert funnel["kind"].to_list() == ["stage", "step", "step", "step", "next_stage"]
    assert funnel["label"].to_list() == ["Buy", "Browse", "Cart", "Pay", "Use"]
    assert funnel["customers"].to_list() == [8, 8, 6, 3, 2]
    assert funnel["conversion"].to_list() == pytest.approx([None, 1.0, 0.75, 0.5, 0.25], nan_ok=True)
    assert funnel["drop_off"][2] == pytest.approx(0.25)
    assert bargain["customers"].to_list() == [5, 5, 5, 3, 2]


def test_the_funnel_says_why_it_is_absent(engine: Engine) -> None:
    """Buy has events and required steps; Use has entrants and no steps; a period with no events has none."""
    build_shop(engine)
    with engine.connect() as connection:
        buy = numbers.stage_funnel(connection, scope=stage_scope(connection))
        use = numbers.stage_funnel(connection, scope=stage_scope(connection, stage="use"))
        empty = numbers.stage_funnel(
            connection, scope=stage_scope(connection, period=Period(dt.date(2023, 1, 1), dt.date(2023, 1, 31)))
        )
    assert funnel_absence(buy) is None
    assert int(use.filter(pl.col("kind") == "stage")["customers"].sum()) == 2
    assert funnel_absence(use) == "no required steps"
    assert funnel_absence(empty) == "no events"


def test_time_to_next_stage_is_the_median_of_those_who_moved(engine: Engine) -> None:
    """c0 took 3 days and c1 4 days: the median is 3.5 over 2 customers, read from the quarter-day histogram
    to within half a bin."""
    build_shop(engine)
    with engine.connect() as connection:
        everyone = numbers.time_to_next_stage(connection, scope=stage_scope(connection))
        pro = numbers.time_to_next_stage(connection, scope=stage_scope(connection, persona="pro"))
        last = numbers.time_to_next_stage(connection, scope=stage_scope(connection, stage="use"))
    assert everyone == numbers.TimeToNextStage(
        next_stage_slug="use", median_days=pytest.approx(3.5, abs=MEDIAN_RESOLUTION_DAYS), customers=2
    )
    assert pro.customers == 0 and pro.median_days is None
    assert last.next_stage_slug is None


def test_stage_metrics_values_status_and_change(engine: Engine) -> None:
    """Linked metrics: stage, touchpoint and journey feedback ones, conversion and time to next stage."""
    build_shop(engine)
    with engine.connect() as connection:
        metrics = numbers.stage_metrics(connection, scope=stage_scope(connection), min_answers=5)
        loose = numbers.stage_metrics(connection, scope=stage_scope(connection), min_answers=1)
    by_key = {row["key"]: row for row in metrics.iter_rows(named=True)}
    assert set(by_key) == {"buy_nps", "web_csat", "store_csat", "shop_nps", "buy_conversion", "buy_ttn"}
    assert by_key["buy_nps"]["value"] == pytest.approx(-25.0)
    assert by_key["buy_nps"]["previous_value"] == pytest.approx(100.0)
    assert by_key["buy_nps"]["change"] == pytest.approx(-125.0)
    assert by_key["buy_nps"]["status"] == "red"
    assert by_key["shop_nps"]["scope"] == "journey" and by_key["shop_nps"]["value"] == pytest.approx(-25.0)
    assert by_key["web_csat"]["status"] == "no data" and by_key["web_csat"]["sample"] == 0
    assert by_key["store_csat"]["value"] == pytest.approx(100.0) and by_key["store_csat"]["status"] == "green"
    assert by_key["buy_conversion"]["value"] == pytest.approx(0.8) and by_key["buy_conversion"]["status"] == "red"
    assert by_key["buy_ttn"]["value"] is None and by_key["buy_ttn"]["sample"] == 2
    ttn = loose.filter(pl.col("key") == "buy_ttn").row(0, named=True)
    assert ttn["value"] == pytest.approx(3.5, abs=MEDIAN_RESOLUTION_DAYS) and ttn["status"] == "red"


def test_not_enough_answers_gives_no_value(engine: Engine) -> None:
    """Below the minimum number of answers a metric has no value, so no status."""
    build_shop(engine)
    with engine.connect() as connection:
        metrics = numbers.stage_metrics(connection, scope=stage_scope(connection), min_answers=41)
    nps = metrics.filter(pl.col("key") == "buy_nps").row(0, named=True)
    assert nps["value"] is None and nps["sample"] == 40 and nps["status"] == "no data"


def test_weekly_trend(engine: Engine) -> None:
    """Weeks start on Monday: 26 Feb (10 promoters) and 4 March (20 detractors, 10 passives)."""
    build_shop(engine)
    with engine.connect() as connection:
        trend = numbers.stage_metric_trend(connection, scope=stage_scope(connection), min_answers=5)
    nps = trend.filter(pl.col("key") == "buy_nps")
    assert nps["week"].to_list() == [dt.date(2024, 2, 26), dt.date(2024, 3, 4)]
    assert nps["value"].to_list() == pytest.approx([100.0, -200 / 3])
    assert nps["target"].to_list() == [20.0, 20.0]


def test_step_metrics_and_emotion(engine: Engine) -> None:
    """Stage and journey NPS evaluated at the cart step; measured emotion per step from the answer bands.

    Cart: 10 promoters of 40 answers → 2 × (10 − 30) / 40 = −1 (a mean of 5.75 on 0–10 would have read
    +0.3); pay: 10 CSAT answers of 5 → +2."""
    build_shop(engine)
    with engine.connect() as connection:
        steps = numbers.step_metrics(connection, scope=stage_scope(connection), min_answers=5)
        daily = numbers.stage_feedback_daily(connection, scope=stage_scope(connection))
    assert sorted(steps["key"].to_list()) == ["buy_nps", "shop_nps"]
    assert steps["value"].to_list() == pytest.approx([-25.0, -25.0])
    assert steps["previous_value"].to_list() == pytest.approx([100.0, 100.0])
    emotion = step_emotion(daily, min_answers=5)
    assert emotion["measured_emotion"].to_list() == pytest.approx([-1.0, 2.0])
    assert emotion["answers"].to_list() == [40, 10]


def test_comment_counts_and_pages(engine: Engine) -> None:
    """Counts per band; pages newest first; filters by band, measure and channel."""
    build_shop(engine)
    with engine.connect() as connection:
        buy = stage_scope(connection)
        counts = comments.comment_band_counts(connection, scope=buy)
        nps_counts = comments.comment_band_counts(connection, scope=buy, measure="nps")
        store_counts = comments.comment_band_counts(connection, scope=buy, channel_slug="store")
        first = comments.stage_comments(connection, scope=buy, limit=5)
        second = comments.stage_comments(connection, scope=buy, limit=5, offset=5)
        low = comments.stage_comments(connection, scope=buy, band="low")
        nowhere = pl.DataFrame({"scope": ["step"], "scope_id": [1_000_000]})
        evidence = comments.evidence_comments(connection, scope=buy, findings=nowhere)
    assert counts.rows() == [("low", 4), ("middle", 4), ("high", 8)]
    assert nps_counts.rows() == [("low", 4), ("middle", 4), ("high", 4)]
    assert store_counts.rows() == [("low", 0), ("middle", 0), ("high", 4)]
    assert first["comment"].to_list() == ["nps 8 #3", "nps 8 #2", "nps 8 #1", "nps 8 #0", "csat 5 #3"]
    assert second.height == 5 and set(first["feedback_id"]).isdisjoint(second["feedback_id"])
    assert set(low["comment"]) == {f"nps 3 #{i}" for i in range(4)} and set(low["band"]) == {"low"}
    assert evidence.is_empty()


def test_metrics_compare_with_a_chosen_period(engine: Engine) -> None:
    """With a chosen comparison, 'then' is exactly what the metrics show when that period is the view's."""
    build_shop(engine)
    chosen = PERIOD.previous()
    with engine.connect() as connection:
        default = numbers.stage_metrics(connection, scope=stage_scope(connection), min_answers=5)
        explicit = numbers.stage_metrics(connection, scope=stage_scope(connection, compared=chosen), min_answers=5)
        swapped = numbers.stage_metrics(
            connection, scope=stage_scope(connection, period=chosen, compared=PERIOD), min_answers=5
        )
        steps = numbers.step_metrics(connection, scope=stage_scope(connection, compared=PERIOD), min_answers=5)
    assert explicit.equals(default)
    by_key = {row["key"]: row for row in swapped.iter_rows(named=True)}
    assert by_key["buy_nps"]["value"] == pytest.approx(100.0)
    assert by_key["buy_nps"]["previous_value"] == pytest.approx(-25.0)
    assert by_key["buy_nps"]["change"] == pytest.approx(125.0)
    # comparing the period with itself: every step metric with data is unchanged
    assert steps["previous_value"].to_list() == pytest.approx(steps["value"].to_list())
    assert steps["change"].to_list() == pytest.approx([0.0, 0.0])


def test_load_journey_map_puts_the_stage_together(engine: Engine) -> None:
    """The page's one call: the stage's steps, lanes, funnel, metrics and time to next stage for the scope."""
    build_shop(engine)
    with engine.connect() as connection:
        data = load_journey_map(connection, scope=stage_scope(connection, persona="pro"), min_answers=5)
    assert data.stages["stage_slug"].to_list() == ["aware", "buy", "use"]
    assert data.steps["step_slug"].to_list() == ["browse", "cart", "pay"]
    assert "Queue at the till" in data.lane_items["text"].to_list()
    assert data.funnel["customers"].to_list() == [3, 3, 1, 0, 0]
    assert data.emotions["step_name"].to_list() == ["Browse", "Cart", "Pay"]
    assert data.time_to_next.customers == 0
    assert set(data.metrics["key"]) == {"buy_nps", "web_csat", "store_csat", "shop_nps", "buy_conversion", "buy_ttn"}
    assert data.channels["channel_slug"].to_list() == ["web", "store"]

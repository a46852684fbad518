"""The URL is the state: every view survives state → URL → state unchanged, and bad URLs get notices."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode

from hypothesis import given
from hypothesis import strategies as st

from dashboard.view_state import Choices, ViewState, read_view_state
from data_access.periods import DefaultPeriod
from data_access.scope import Period

CHOICES = Choices(
    journeys=["northwind-current", "northwind-future"],
    personas=["budget-family", "remote-worker"],
    metrics=["health", "nps", "csat", "ces", "sentiment", "volume"],
    first_day=dt.date(2025, 11, 1),
    last_day=dt.date(2026, 10, 31),
    stages=["awareness", "onboarding", "support"],
    reviews={"q3-review": dt.date(2026, 9, 30), "kick-off": dt.date(2026, 1, 15)},
    channels=["web", "store"],
    touchpoints=["web-shop", "till"],
    measures=["nps", "csat", "sentiment"],
    bands=["low", "middle", "high"],
)
DAYS = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31))


@st.composite
def views(draw: st.DrawFn) -> tuple[ViewState, str]:
    start, end = sorted((draw(DAYS), draw(DAYS)))
    compare = draw(st.none() | st.tuples(DAYS, DAYS).map(sorted))
    page = draw(st.sampled_from(["overview", "journey"]))
    review = draw(st.none() | st.sampled_from(list(CHOICES.reviews)))
    whole_history = draw(st.booleans())
    if whole_history:
        start, end = CHOICES.first_day, CHOICES.last_day
    on_journey = page == "journey"
    comment_filters = {
        name: draw(st.none() | st.sampled_from(known)) if on_journey else None
        for name, known in (
            ("channel", CHOICES.channels),
            ("touchpoint", CHOICES.touchpoints),
            ("measure", CHOICES.measures),
            ("band", CHOICES.bands),
        )
    }
    state = ViewState(
        journey=draw(st.sampled_from(CHOICES.journeys)),
        date_from=start,
        date_to=end,
        persona=draw(st.none() | st.sampled_from(CHOICES.personas)),
        metric=draw(st.sampled_from(CHOICES.metrics)) if page == "overview" else "health",
        stage=draw(st.sampled_from(CHOICES.stages)) if page == "journey" else None,
        compare_from=compare[0] if compare else None,
        compare_to=compare[1] if compare else None,
        review=review,
        review_on=CHOICES.reviews[review] if review else None,
        present=draw(st.booleans()),
        whole_history=whole_history,
        comment_page=draw(st.integers(1, 10_000)) if on_journey else 1,
        **comment_filters,
    )
    return state, page


@given(views())
def test_every_view_survives_a_round_trip_through_its_url(view: tuple[ViewState, str]) -> None:
    """Encoding a view as a query string and reading it back gives the same view, with no notice."""
    state, page = view
    url_query = urlencode(state.query(page=page))
    restored, notices = read_view_state(dict(parse_qsl(url_query)), CHOICES)
    assert notices == []
    assert restored == state


def test_missing_parameters_take_the_last_90_days_of_data() -> None:
    state, notices = read_view_state({}, CHOICES)
    assert notices == []
    assert (state.journey, state.date_to, state.date_from) == (
        "northwind-current",
        CHOICES.last_day,
        dt.date(2026, 8, 3),
    )
    assert state.compared == Period(dt.date(2026, 5, 5), dt.date(2026, 8, 2))


def test_a_chosen_comparison_period_is_used_as_given() -> None:
    params = {"from": "2026-10-01", "to": "2026-10-31", "compare_from": "2025-12-01", "compare_to": "2025-12-31"}
    state, notices = read_view_state(params, CHOICES)
    assert notices == []
    assert state.compared == Period(dt.date(2025, 12, 1), dt.date(2025, 12, 31))


def test_half_a_comparison_or_a_bad_flag_gives_a_notice() -> None:
    _, notices = read_view_state({"compare_from": "2026-01-01", "present": "yes", "review": "nope"}, CHOICES)
    assert any("`compare_from` and `compare_to` go together" in n for n in notices)
    assert any("`present`: 'yes' is not 0 or 1" in n for n in notices)
    assert any("`review`: 'nope' is unknown" in n for n in notices)


def test_since_a_review_the_view_compares_with_the_period_ending_on_its_day() -> None:
    """A review names the compared period (as long as the view's, ending on its day) unless one is chosen."""
    params = {"from": "2026-10-01", "to": "2026-10-31", "review": "q3-review"}
    state, notices = read_view_state(params, CHOICES)
    assert notices == []
    assert state.review_on == dt.date(2026, 9, 30)
    assert state.compared == Period(dt.date(2026, 8, 31), dt.date(2026, 9, 30))
    chosen, _ = read_view_state({**params, "compare_from": "2025-12-01", "compare_to": "2025-12-31"}, CHOICES)
    assert chosen.compared == Period(dt.date(2025, 12, 1), dt.date(2025, 12, 31))


def _default(reason: str) -> DefaultPeriod:
    whole = Period(CHOICES.first_day, CHOICES.last_day)
    recent = Period(CHOICES.last_day - dt.timedelta(days=89), CHOICES.last_day)
    if reason == "recent":
        return DefaultPeriod(recent, "recent", 90, 30)
    return DefaultPeriod(whole, "sparse", 90, 30, short_metric="Delivery rating", short_answers=19)


def test_period_all_is_the_whole_history_and_its_link_says_so() -> None:
    state, notices = read_view_state({"period": "all"}, CHOICES)
    assert notices == []
    assert (state.whole_history, state.date_from, state.date_to) == (True, CHOICES.first_day, CHOICES.last_day)
    assert state.query()["period"] == "all" and "from" not in state.query()


def test_a_sparse_recent_period_opens_the_whole_history_by_default() -> None:
    """The default rule's choice is used only when the link names no period."""
    sparse = replace(CHOICES, default=_default("sparse"))
    state, notices = read_view_state({}, sparse)
    assert notices == [] and state.whole_history and state.period == Period(CHOICES.first_day, CHOICES.last_day)
    dated, _ = read_view_state({"from": "2026-10-01", "to": "2026-10-31"}, sparse)
    assert not dated.whole_history and dated.period == Period(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    recent, _ = read_view_state({"period": "recent"}, sparse)
    assert not recent.whole_history and recent.period == Period(dt.date(2026, 8, 3), CHOICES.last_day)


def test_a_recent_default_period_is_the_last_90_days() -> None:
    state, notices = read_view_state({}, replace(CHOICES, default=_default("recent")))
    assert notices == [] and not state.whole_history
    assert state.period == Period(dt.date(2026, 8, 3), CHOICES.last_day)


def test_bad_period_comment_page_and_filters_give_notices() -> None:
    params = {"period": "forever", "comment_page": "0", "touchpoint": "nowhere", "band": "x", "stage": "support"}
    state, notices = read_view_state(params, CHOICES)
    assert len(notices) == 4
    assert (state.whole_history, state.comment_page, state.touchpoint, state.band) == (False, 1, None, None)
    assert any("`period`" in n for n in notices) and any("`comment_page`" in n for n in notices)


def test_comment_filters_belong_to_the_journey_page_and_a_stage_change_drops_them() -> None:
    state = ViewState(
        journey="northwind-current",
        date_from=dt.date(2026, 10, 1),
        date_to=dt.date(2026, 10, 31),
        stage="support",
        channel="web",
        touchpoint="web-shop",
        comment_page=3,
    )
    assert {"channel", "touchpoint", "comment_page"} <= set(state.query(page="journey"))
    assert not {"channel", "touchpoint", "comment_page"} & set(state.query(page="overview"))
    assert set(state.without_comment_filters().query(page="journey")) == {"journey", "stage", "from", "to"}

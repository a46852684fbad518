"""The URL is the state: every view survives state → URL → state unchanged, and bad URLs get notices."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl, urlencode

from hypothesis import given
from hypothesis import strategies as st

from dashboard.view_state import Choices, ViewState, read_view_state
from data_access.scope import Period

CHOICES = Choices(
    journeys=["northwind-current", "northwind-future"],
    personas=["budget-family", "remote-worker"],
    metrics=["health", "nps", "csat", "ces", "sentiment", "volume"],
    first_day=dt.date(2025, 11, 1),
    last_day=dt.date(2026, 10, 31),
    stages=["awareness", "onboarding", "support"],
    reviews={"q3-review": dt.date(2026, 9, 30), "kick-off": dt.date(2026, 1, 15)},
)
DAYS = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31))


@st.composite
def views(draw: st.DrawFn) -> tuple[ViewState, str]:
    start, end = sorted((draw(DAYS), draw(DAYS)))
    compare = draw(st.none() | st.tuples(DAYS, DAYS).map(sorted))
    page = draw(st.sampled_from(["overview", "journey"]))
    review = draw(st.none() | st.sampled_from(list(CHOICES.reviews)))
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

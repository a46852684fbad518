"""The URL is the state: parse query parameters into a view, and build the query of a view.

Pure (no streamlit): pages hand in `st.query_params` as a plain mapping and get back a complete view plus
notices for whatever was missing, unknown or malformed, so a bad link never raises. The view's period and
the period it compares with are worked out here, once (`ViewState.period`, `ViewState.compared`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from dashboard.format import verbatim
from data_access.periods import DefaultPeriod
from data_access.scope import Period

DEFAULT_DAYS = 90
# a date further than this from the data is clamped to the data's first or last day (year 1, 9999, …)
SLACK = dt.timedelta(days=3653)
METRIC_DEFAULT = "health"
MAX_COMMENT_PAGE = 1_000_000
WHOLE_HISTORY = "all"  # `period=all`: every day the journey holds
RECENT = "recent"  # `period=recent`: the last DEFAULT_DAYS days with data, even where they hold few answers


@dataclass(frozen=True)
class ViewState:
    journey: str
    date_from: dt.date
    date_to: dt.date
    persona: str | None = None
    metric: str = METRIC_DEFAULT
    stage: str | None = None
    # the period compared against; None means the period of equal length just before
    compare_from: dt.date | None = None
    compare_to: dt.date | None = None
    # a labelled version (review) of the journey: "what changed since" that review, and the review's day
    review: str | None = None
    review_on: dt.date | None = None
    present: bool = False
    # the period is the journey's whole history (`period=all`), whatever days it holds when the link opens
    whole_history: bool = False
    # the journey page's comment filters and page: channel and touchpoint slugs, measure, score band
    channel: str | None = None
    touchpoint: str | None = None
    measure: str | None = None
    band: str | None = None
    comment_page: int = 1

    def query(self, *, page: str = "overview") -> dict[str, str]:
        """Query parameters that reproduce this view on `page` ('overview' or 'journey')."""
        params = {"journey": self.journey}
        if page == "journey" and self.stage:
            params["stage"] = self.stage
        if self.persona:
            params["persona"] = self.persona
        if self.whole_history:
            params["period"] = WHOLE_HISTORY
        else:
            params["from"] = self.date_from.isoformat()
            params["to"] = self.date_to.isoformat()
        if self.compare_from and self.compare_to:
            params["compare_from"] = self.compare_from.isoformat()
            params["compare_to"] = self.compare_to.isoformat()
        if self.review:
            params["review"] = self.review
        if page == "overview":
            params["metric"] = self.metric
        if page == "journey":
            comment_filters = {
                "channel": self.channel,
                "touchpoint": self.touchpoint,
                "measure": self.measure,
                "band": self.band,
            }
            params |= {name: value for name, value in comment_filters.items() if value}
            if self.comment_page > 1:
                params["comment_page"] = str(self.comment_page)
        if self.present:
            params["present"] = "1"
        return params

    def without_comment_filters(self) -> ViewState:
        """The same view with no comment filter and the first page of comments (another stage, say)."""
        return replace(self, channel=None, touchpoint=None, measure=None, band=None, comment_page=1)

    @property
    def period(self) -> Period:
        return Period(self.date_from, self.date_to)

    @property
    def compared(self) -> Period:
        """The period the view compares with: the one chosen; else, since a review, the period of equal
        length ending on the review's day; else the period of equal length just before."""
        if self.compare_from and self.compare_to:
            return Period(self.compare_from, self.compare_to)
        if self.review_on:
            return self.period.ending_on(self.review_on)
        return self.period.previous()

    def with_(self, **changes: object) -> ViewState:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Choices:
    """What the URL may name: slugs known to the database and the data's date range."""

    journeys: Sequence[str]
    personas: Sequence[str]
    metrics: Sequence[str]
    first_day: dt.date
    last_day: dt.date
    stages: Sequence[str] = ()
    reviews: Mapping[str, dt.date] = field(default_factory=dict)  # review slug -> the review's day
    # the period a view without `from`, `to` or `period` shows (`data_access.periods.default_period`);
    # None: the last DEFAULT_DAYS days with data
    default: DefaultPeriod | None = None
    # what the journey page's comments may be filtered by
    channels: Sequence[str] = ()
    touchpoints: Sequence[str] = ()
    measures: Sequence[str] = ()
    bands: Sequence[str] = ()


def _date(params: Mapping[str, str], name: str, notices: list[str]) -> dt.date | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        notices.append(f"Parameter `{name}`: '{verbatim(raw)}' is not a date (YYYY-MM-DD); using the default.")
        return None


def _near_data(day: dt.date | None, name: str, choices: Choices, notices: list[str]) -> dt.date | None:
    """`day`, or the data's first or last day when `day` lies more than ten years outside the data."""
    if day is None:
        return None
    earliest = choices.first_day - SLACK if choices.first_day > dt.date.min + SLACK else dt.date.min
    latest = choices.last_day + SLACK if choices.last_day < dt.date.max - SLACK else dt.date.max
    if earliest <= day <= latest:
        return day
    edge = choices.first_day if day < earliest else choices.last_day
    notices.append(
        f"Parameter `{name}` ({day.isoformat()}) is far outside the data "
        f"({choices.first_day.isoformat()} to {choices.last_day.isoformat()}); using {edge.isoformat()}."
    )
    return edge


def _choice(params: Mapping[str, str], name: str, known: Sequence[str], notices: list[str]) -> str | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if raw in known:
        return raw
    shown = verbatim(", ".join(known), limit=300) if known else "none"
    notices.append(f"Parameter `{name}`: '{verbatim(raw)}' is unknown (known: {shown}); using the default.")
    return None


def _dates(params: Mapping[str, str], choices: Choices, notices: list[str]) -> tuple[dt.date, dt.date]:
    """The period named by `from` and `to`, each defaulting to the default period's (else the data's last
    DEFAULT_DAYS days)."""
    fallback = choices.default.period if choices.default and not choices.default.whole_history else None
    date_to = _near_data(_date(params, "to", notices), "to", choices, notices) or (
        fallback.end if fallback else choices.last_day
    )
    date_from = _near_data(_date(params, "from", notices), "from", choices, notices) or (
        fallback.start
        if fallback and fallback.end == date_to
        else max(choices.first_day, date_to - dt.timedelta(days=DEFAULT_DAYS - 1))
    )
    if date_from > date_to:
        notices.append(
            f"Parameter `from` ({date_from}) is after `to` ({date_to}); showing the {DEFAULT_DAYS} days up to `to`."
        )
        date_from = date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
    return date_from, date_to


def _comment_filters(params: Mapping[str, str], choices: Choices, notices: list[str]) -> dict[str, Any]:
    """The journey page's comment filters; each checked against what the map has when `choices` lists it."""
    found: dict[str, Any] = {}
    for name, known in (
        ("channel", choices.channels),
        ("touchpoint", choices.touchpoints),
        ("measure", choices.measures),
        ("band", choices.bands),
    ):
        found[name] = _choice(params, name, known, notices) if known else params.get(name) or None
    raw_page = params.get("comment_page", "")
    found["comment_page"] = 1
    if raw_page:
        if raw_page.isdigit() and 1 <= int(raw_page) <= MAX_COMMENT_PAGE:
            found["comment_page"] = int(raw_page)
        else:
            notices.append(
                f"Parameter `comment_page`: '{verbatim(raw_page)}' is not a page number "
                f"(1 to {MAX_COMMENT_PAGE:,}); showing the first page."
            )
    return found


def read_view_state(params: Mapping[str, str], choices: Choices) -> tuple[ViewState, list[str]]:
    """A complete view from query parameters, with a notice for each parameter that could not be used."""
    notices: list[str] = []
    journey = _choice(params, "journey", choices.journeys, notices) or choices.journeys[0]
    persona = _choice(params, "persona", choices.personas, notices)
    metric = _choice(params, "metric", choices.metrics, notices) or METRIC_DEFAULT
    stage = _choice(params, "stage", choices.stages, notices) if choices.stages else params.get("stage") or None

    whole_history = False
    period_raw = params.get("period", "")
    if period_raw not in ("", WHOLE_HISTORY, RECENT):
        notices.append(
            f"Parameter `period`: '{verbatim(period_raw)}' is neither '{WHOLE_HISTORY}' (the whole history) nor "
            f"'{RECENT}' (the last {DEFAULT_DAYS} days with data); using `from` and `to`."
        )
    has_dates = bool(params.get("from") or params.get("to"))
    default_is_whole = not has_dates and not period_raw and choices.default and choices.default.whole_history
    if period_raw == WHOLE_HISTORY or default_is_whole:
        whole_history = True
        date_from, date_to = choices.first_day, choices.last_day
        if period_raw == WHOLE_HISTORY and has_dates:
            notices.append("Parameters `from` and `to` are ignored with `period=all` (the whole history).")
    else:
        date_from, date_to = _dates(params, choices, notices)
    compare_from = _near_data(_date(params, "compare_from", notices), "compare_from", choices, notices)
    compare_to = _near_data(_date(params, "compare_to", notices), "compare_to", choices, notices)
    if (compare_from is None) != (compare_to is None):
        notices.append("Parameters `compare_from` and `compare_to` go together; comparing with the period before.")
        compare_from = compare_to = None
    elif compare_from and compare_to and compare_from > compare_to:
        notices.append(
            f"Parameter `compare_from` ({compare_from}) is after `compare_to` ({compare_to}); "
            "comparing with the period before."
        )
        compare_from = compare_to = None
    review = _choice(params, "review", list(choices.reviews), notices)
    if review and _near_data(choices.reviews[review], "review", choices, []) != choices.reviews[review]:
        notices.append(
            f"Review '{verbatim(review)}' is dated {choices.reviews[review].isoformat()}, far outside the data; "
            "comparing with the period before."
        )
        review = None
    present_raw = params.get("present", "")
    if present_raw not in ("", "0", "1"):
        notices.append(f"Parameter `present`: '{verbatim(present_raw)}' is not 0 or 1; showing the normal view.")
    state = ViewState(
        journey=journey, whole_history=whole_history, **_comment_filters(params, choices, notices),
        date_from=date_from, date_to=date_to, persona=persona, metric=metric, stage=stage,
        compare_from=compare_from, compare_to=compare_to,
        review=review, review_on=choices.reviews[review] if review else None, present=present_raw == "1",
    )  # fmt: skip
    return state, notices

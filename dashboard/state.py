"""The URL is the state: parse query parameters into a view, and build the query of a view.

Pure (no streamlit): pages hand in `st.query_params` as a plain mapping and get back a complete view plus
notices for whatever was missing, unknown or malformed, so a bad link never raises.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

DEFAULT_DAYS = 90
METRIC_DEFAULT = "health"


@dataclass(frozen=True)
class ViewState:
    journey: str
    date_from: dt.date
    date_to: dt.date
    persona: str | None = None
    metric: str = METRIC_DEFAULT
    stage: str | None = None

    def query(self, *, page: str = "overview") -> dict[str, str]:
        """Query parameters that reproduce this view on `page` ('overview' or 'journey')."""
        params = {"journey": self.journey}
        if page == "journey" and self.stage:
            params["stage"] = self.stage
        if self.persona:
            params["persona"] = self.persona
        params["from"] = self.date_from.isoformat()
        params["to"] = self.date_to.isoformat()
        if page == "overview":
            params["metric"] = self.metric
        return params

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


def _date(params: Mapping[str, str], name: str, notices: list[str]) -> dt.date | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        notices.append(f"Parameter `{name}`: '{raw}' is not a date (YYYY-MM-DD); using the default.")
        return None


def _choice(params: Mapping[str, str], name: str, known: Sequence[str], notices: list[str]) -> str | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if raw in known:
        return raw
    shown = ", ".join(known) if known else "none"
    notices.append(f"Parameter `{name}`: '{raw}' is unknown (known: {shown}); using the default.")
    return None


def read_view_state(params: Mapping[str, str], choices: Choices) -> tuple[ViewState, list[str]]:
    """A complete view from query parameters, with a notice for each parameter that could not be used."""
    notices: list[str] = []
    journey = _choice(params, "journey", choices.journeys, notices) or choices.journeys[0]
    persona = _choice(params, "persona", choices.personas, notices)
    metric = _choice(params, "metric", choices.metrics, notices) or METRIC_DEFAULT
    stage = _choice(params, "stage", choices.stages, notices) if choices.stages else params.get("stage") or None

    date_to = _date(params, "to", notices) or choices.last_day
    date_from = _date(params, "from", notices) or max(choices.first_day, date_to - dt.timedelta(days=DEFAULT_DAYS - 1))
    if date_from > date_to:
        notices.append(
            f"Parameter `from` ({date_from}) is after `to` ({date_to}); showing the {DEFAULT_DAYS} days up to `to`."
        )
        date_from = date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
    state = ViewState(
        journey=journey, date_from=date_from, date_to=date_to, persona=persona, metric=metric, stage=stage
    )
    return state, notices

"""The one module that caches: the engine as a resource, and the views' loaders keyed by plain values only.

Loaders take slugs and periods (never frames, sessions or engines), so their cache keys are small and the
same view asked twice costs one query. A view's slugs become ids once, in `load_scope` / `load_stage_scope`,
and the loaders pass the scope down. Every loader has a TTL and a bound on entries.

The engine resource only makes the engine: `journey-atlas serve` (and `init`, `demo`) bring the schema up to
date and fill an empty database before the server starts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
import streamlit as st
from sqlalchemy import Engine

from dashboard.exports import report
from dashboard.settings import get_settings
from data_access import changes, experience_map, journey_map, periods, reviews, stage_notes
from data_access.db import make_engine, session_scope
from data_access.experience_map.queries import data_days, journeys, personas, touchpoints
from data_access.journey_map.comments import comment_band_counts, comment_channels, stage_comments
from data_access.journey_map.content import journey_stages
from data_access.scope import Period, Scope, StageScope, journey_id, resolve_scope, resolve_stage

TTL = get_settings().cache_ttl_seconds
ENTRIES = 64


@st.cache_resource
def engine() -> Engine:
    """The app's engine (the schema and the first-run demo are `journey-atlas serve`'s job)."""
    return make_engine(get_settings().database_url, pool_pre_ping=True)


def forget_cached_data() -> None:
    """Drop cached query results, e.g. after an import changed the facts."""
    st.cache_data.clear()


@dataclass(frozen=True)
class Catalogue:
    """What exists to choose from: journeys, personas, and each journey's days with data."""

    journeys: pl.DataFrame
    personas: pl.DataFrame
    days: dict[str, Period]  # the days with data of each journey that has any

    def journey_name(self, slug: str) -> str:
        return str(self.journeys.filter(pl.col("slug") == slug)["name"][0])

    def persona_name(self, slug: str | None, *, default: str) -> str:
        """The persona's name, or `default` when the view is of all customers."""
        if slug is None:
            return default
        names = self.personas.filter(pl.col("slug") == slug)["name"]
        return str(names[0]) if len(names) else default


@st.cache_data(ttl=TTL, max_entries=4, show_spinner=False)
def load_catalogue() -> Catalogue:
    with engine().connect() as connection:
        every_journey = journeys(connection)
        days = {}
        for slug, journey_id in every_journey.select("slug", "id").iter_rows():
            found = data_days(connection, journey_id=journey_id)
            if found:
                days[slug] = found
        return Catalogue(journeys=every_journey, personas=personas(connection), days=days)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def load_default_period(journey: str, history: Period) -> periods.DefaultPeriod | None:
    """The period a link naming none opens on, for a journey whose data spans `history` (None: no such journey)."""
    with engine().connect() as connection:
        found = journey_id(connection, journey)
        if found is None:
            return None
        return periods.default_period(
            connection, journey_id=found, history=history, min_answers=get_settings().min_responses
        )


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def load_filter_slugs(journey: str) -> tuple[list[str], list[str]]:
    """What the journey's comments can be filtered by: every channel's slug, and the journey's touchpoints'."""
    with engine().connect() as connection:
        channels = comment_channels(connection)["channel_slug"].to_list()
        found = journey_id(connection, journey)
        points = [] if found is None else touchpoints(connection, journey_id=found)["touchpoint_slug"].to_list()
    return channels, points


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def load_scope(journey: str, persona: str | None, period: Period, compared: Period) -> Scope:
    """The view's ids; the view state has already checked that the journey and persona exist."""
    with engine().connect() as connection:
        scope = resolve_scope(connection, journey_slug=journey, persona_slug=persona, period=period, compared=compared)
    if scope is None:
        raise LookupError(f"Journey '{journey}' or persona '{persona}' does not exist.")
    return scope


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def load_stage_scope(journey: str, stage: str, persona: str | None, period: Period, compared: Period) -> StageScope:
    """The ids of one stage's view; the page has already checked that the journey has the stage."""
    scope = load_scope(journey, persona, period, compared)
    with engine().connect() as connection:
        stage_scope = resolve_stage(connection, scope, stage_slug=stage)
    if stage_scope is None:
        raise LookupError(f"Stage '{stage}' is not in journey '{journey}'.")
    return stage_scope


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner="Loading the experience map…")
def load_experience_map(
    journey: str, persona: str | None, period: Period, compared: Period, metric: str
) -> experience_map.ExperienceMapData:
    """The experience map; headlines compare with `compared`."""
    scope = load_scope(journey, persona, period, compared)
    with engine().connect() as connection:
        return experience_map.load_experience_map(
            connection, scope=scope, metric=metric, min_answers=get_settings().min_responses
        )


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner="Comparing the two periods…")
def load_changes(journey: str, persona: str | None, period: Period, compared: Period) -> pl.DataFrame:
    """Every metric of the journey now and in the compared period, biggest movers first."""
    scope = load_scope(journey, persona, period, compared)
    with engine().connect() as connection:
        return changes.load_changes(connection, scope=scope, min_answers=get_settings().min_responses)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def load_reviews(journey: str) -> pl.DataFrame:
    """The journey's reviews, latest first: slug, label, reviewed_on, created_at."""
    with engine().connect() as connection:
        return reviews.list_reviews(connection, journey_slug=journey)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def load_map_changes(journey: str, review: str) -> pl.DataFrame:
    """Pain points and opportunities added or resolved on the journey's map since the review."""
    with session_scope(engine()) as session:
        return reviews.map_changes_since(session, journey_slug=journey, review_slug=review)


def save_review(journey: str, label: str, reviewed_on: dt.date) -> str:
    """Label the journey's current map as a review; returns its slug. Not cached: it writes."""
    with session_scope(engine()) as session:
        slug = reviews.create_review(session, journey_slug=journey, label=label, reviewed_on=reviewed_on).slug
    load_reviews.clear()
    load_map_changes.clear()
    return slug


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def load_journey_stages(journey: str) -> pl.DataFrame:
    """The journey's stages in order; the view state has already checked that the journey exists."""
    with engine().connect() as connection:
        found = journey_id(connection, journey)
        if found is None:
            raise LookupError(f"Journey '{journey}' does not exist.")
        return journey_stages(connection, journey_id=found)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner="Loading the journey map…")
def load_journey_map(
    journey: str, stage: str, persona: str | None, period: Period, compared: Period
) -> journey_map.JourneyMapData:
    """The journey map of a stage; metrics compare with `compared`."""
    scope = load_stage_scope(journey, stage, persona, period, compared)
    with engine().connect() as connection:
        return journey_map.load_journey_map(connection, scope=scope, min_answers=get_settings().min_responses)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def load_stage_comments(
    journey: str,
    stage: str,
    persona: str | None,
    period: Period,
    compared: Period,
    band: str | None,
    measure: str | None,
    channel: str | None,
    page: int,
    page_size: int = 20,
    touchpoint: str | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Comment counts per score band, and one page of comments newest first, for the filters given."""
    scope = load_stage_scope(journey, stage, persona, period, compared)
    with engine().connect() as connection:
        counts = comment_band_counts(
            connection, scope=scope, measure=measure, channel_slug=channel, touchpoint_slug=touchpoint
        )
        comments = stage_comments(
            connection,
            scope=scope,
            band=band,
            measure=measure,
            channel_slug=channel,
            touchpoint_slug=touchpoint,
            limit=page_size,
            offset=page * page_size,
        )
    return counts, comments


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def load_stage_notes(journey: str, stage: str) -> pl.DataFrame:
    """The stage's notes from the front line, newest first."""
    with engine().connect() as connection:
        return stage_notes.list_notes(connection, journey_slug=journey, stage_slug=stage)


def add_stage_note(journey: str, stage: str, *, author: str, body: str) -> None:
    """Save a note (raises `stage_notes.NoteError` for a bad field) and drop the cached notes so it shows."""
    with session_scope(engine()) as session:
        stage_notes.add_note(session, journey_slug=journey, stage_slug=stage, author=author, body=body)
    load_stage_notes.clear()
    load_report_pdf.clear()


@st.cache_data(ttl=TTL, max_entries=8, show_spinner=False)
def load_report_pdf(
    journey: str, persona: str | None, period: Period, compared: Period, metric: str, stage: str | None
) -> bytes:
    """The view's PDF report: the experience map, then `stage` in depth, or every stage when it is None.

    Built from the same cached view data the pages draw, so the report shows the numbers on screen.
    """
    settings = get_settings()
    catalogue = load_catalogue()
    overview = load_experience_map(journey, persona, period, compared, metric)
    slugs = [stage] if stage is not None else overview.stages["stage_slug"].to_list()
    stages = {}
    for slug in slugs:
        scope = load_stage_scope(journey, slug, persona, period, compared)
        with engine().connect() as connection:
            low = stage_comments(connection, scope=scope, band="low", limit=5) if stage else None
            newest = stage_comments(connection, scope=scope, limit=8) if stage else None
            notes = (
                stage_notes.list_notes(connection, journey_slug=journey, stage_slug=slug, limit=20 if stage else 5)
                if settings.stage_notes
                else None
            )
        stages[slug] = report.StageReport(
            journey_map=load_journey_map(journey, slug, persona, period, compared),
            low_comments=low,
            newest_comments=newest,
            notes=notes,
        )
    title = report.ReportTitle(
        journey=catalogue.journey_name(journey),
        persona=catalogue.persona_name(persona, default="All customers"),
        start=period.start,
        end=period.end,
        compared=(compared.start, compared.end),
    )
    return report.build_report(title=title, experience_map=overview, stages=stages, metric=metric, stage=stage)

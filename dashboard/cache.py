"""The one module that caches: the engine as a resource, and loaders keyed by plain values only.

Loaders take slugs and dates (never frames, sessions or engines), so their cache keys are small and the
same view asked twice costs one query. Every loader has a TTL and a bound on entries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
import streamlit as st
from sqlalchemy import Engine

from dashboard import report
from dashboard.settings import get_settings
from data_access import changes, journey_map, overview, reviews, stage_notes
from data_access.db import make_engine, session_scope, upgrade_schema
from data_access.demo import ensure_demo

TTL = get_settings().cache_ttl_seconds
ENTRIES = 64


@st.cache_resource
def engine() -> Engine:
    """The app's engine; on first use the schema is brought up to date and an empty database gets the demo."""
    settings = get_settings()
    db = make_engine(settings.database_url, pool_pre_ping=True)
    upgrade_schema(db)
    ensure_demo(db, events=settings.demo_events, seed=settings.demo_seed)
    return db


def forget_cached_data() -> None:
    """Drop cached query results, e.g. after an import changed the facts."""
    st.cache_data.clear()


@dataclass(frozen=True)
class Catalogue:
    """What exists to choose from: journeys, personas, and each journey's days with data."""

    journeys: pl.DataFrame
    personas: pl.DataFrame
    days: dict[str, tuple[dt.date, dt.date]]

    def journey_id(self, slug: str) -> int:
        return int(self.journeys.filter(pl.col("slug") == slug)["id"][0])

    def journey_name(self, slug: str) -> str:
        return str(self.journeys.filter(pl.col("slug") == slug)["name"][0])

    def persona_name(self, slug: str | None, *, default: str) -> str:
        """The persona's name, or `default` when the view is of all customers."""
        if slug is None:
            return default
        names = self.personas.filter(pl.col("slug") == slug)["name"]
        return str(names[0]) if len(names) else default

    def persona_id(self, slug: str | None) -> int | None:
        if slug is None:
            return None
        return int(self.personas.filter(pl.col("slug") == slug)["id"][0])


@st.cache_data(ttl=TTL, max_entries=4, show_spinner=False)
def load_catalogue() -> Catalogue:
    with engine().connect() as connection:
        journeys = overview.journeys(connection)
        days = {}
        for slug, journey_id in journeys.select("slug", "id").iter_rows():
            found = overview.data_days(connection, journey_id=journey_id)
            if found:
                days[slug] = found
        return Catalogue(journeys=journeys, personas=overview.personas(connection), days=days)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner="Loading the experience map…")
def load_overview(
    journey: str,
    persona: str | None,
    date_from: dt.date,
    date_to: dt.date,
    metric: str,
    compare_from: dt.date | None = None,
    compare_to: dt.date | None = None,
) -> overview.OverviewData:
    """The experience map; headlines compare with compare_from..compare_to, by default the period before."""
    catalogue = load_catalogue()
    compared = overview.Period(compare_from, compare_to) if compare_from and compare_to else None
    with engine().connect() as connection:
        return overview.load_overview(
            connection,
            journey_id=catalogue.journey_id(journey),
            period=overview.Period(date_from, date_to),
            persona_id=catalogue.persona_id(persona),
            metric=metric,
            min_answers=get_settings().min_responses,
            compared=compared,
        )


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner="Comparing the two periods…")
def load_changes(
    journey: str, persona: str | None, date_from: dt.date, date_to: dt.date, compare_from: dt.date, compare_to: dt.date
) -> pl.DataFrame:
    """Every metric of the journey now and in the compared period, biggest movers first."""
    with engine().connect() as connection:
        return changes.load_changes(
            connection,
            journey_slug=journey,
            period=overview.Period(date_from, date_to),
            compared=overview.Period(compare_from, compare_to),
            persona_slug=persona,
            min_answers=get_settings().min_responses,
        )


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
    """The journey's stages in order (empty for an unknown journey)."""
    with engine().connect() as connection:
        return journey_map.journey_stages(connection, journey_slug=journey)


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner="Loading the journey map…")
def load_journey_map(
    journey: str,
    stage: str,
    persona: str | None,
    date_from: dt.date,
    date_to: dt.date,
    compare_from: dt.date | None = None,
    compare_to: dt.date | None = None,
) -> journey_map.JourneyMapData:
    """The journey map of a stage; metrics compare with compare_from..compare_to, else the period before."""
    with engine().connect() as connection:
        return journey_map.load_journey_map(
            connection,
            journey_slug=journey,
            stage_slug=stage,
            persona_slug=persona,
            start=date_from,
            end=date_to,
            min_answers=get_settings().min_responses,
            compared=(compare_from, compare_to) if compare_from and compare_to else None,
        )


@st.cache_data(ttl=TTL, max_entries=ENTRIES, show_spinner=False)
def load_stage_comments(
    journey: str,
    stage: str,
    persona: str | None,
    date_from: dt.date,
    date_to: dt.date,
    band: str | None,
    measure: str | None,
    channel: str | None,
    page: int,
    page_size: int = 20,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Comment counts per score band, and one page of comments newest first, for the filters given."""
    with engine().connect() as connection:
        counts = journey_map.comment_band_counts(
            connection,
            journey_slug=journey,
            stage_slug=stage,
            persona_slug=persona,
            start=date_from,
            end=date_to,
            measure=measure,
            channel_slug=channel,
        )
        comments = journey_map.stage_comments(
            connection,
            journey_slug=journey,
            stage_slug=stage,
            persona_slug=persona,
            start=date_from,
            end=date_to,
            band=band,
            measure=measure,
            channel_slug=channel,
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
    journey: str,
    persona: str | None,
    date_from: dt.date,
    date_to: dt.date,
    metric: str,
    stage: str | None,
    compare_from: dt.date,
    compare_to: dt.date,
) -> bytes:
    """The view's PDF report: the experience map, then `stage` in depth, or every stage when it is None."""
    settings = get_settings()
    with engine().connect() as connection:
        return report.build_report(
            connection,
            journey_slug=journey,
            persona_slug=persona,
            start=date_from,
            end=date_to,
            metric=metric,
            stage_slug=stage,
            min_answers=settings.min_responses,
            notes=settings.stage_notes,
            compared=(compare_from, compare_to),
        )

"""The one module that caches: the engine as a resource, and the views' loaders keyed by plain values only.

Loaders take slugs and periods (never frames, sessions or engines), so their cache keys are small and the
same view asked twice costs one query. A view's slugs become ids once, in `load_scope` / `load_stage_scope`,
and the loaders pass the scope down.

Caches follow the data, not the clock: every loader's key also holds the data version (`data_access.data_version`,
bumped by every write that changes a view, in the write's transaction), read once at the start of each
page's run (`begin_run`: one primary-key query). A cached view stays valid until the data changes, and the
first run after an import shows it. The TTL is only a backstop, and every loader has a bound on entries.

Charts too: `chart_spec` builds a chart (the pure builders of `dashboard.charts`) and turns it into its Vega-Lite
specification, validated, once per distinct input; a page draws the specification. Building and validating an
Altair chart was about two thirds of a warm overview's own work in the server, repeated for every view.

The engine resource only makes the engine: `journey-atlas serve` (and `init`, `demo`) bring the schema up to
date and fill an empty database before the server starts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, ParamSpec, TypeVar

import altair as alt
import polars as pl
import streamlit as st
from sqlalchemy import Engine
from streamlit.runtime.scriptrunner import get_script_run_ctx

from dashboard import editors
from dashboard.components import import_data
from dashboard.exports import report, report_pages
from dashboard.settings import get_settings
from data_access import changes, experience_map, journey_map, opportunities, periods, reviews, stage_notes, writers
from data_access.data_version import read_data_version
from data_access.db import make_engine, session_scope
from data_access.experience_map.queries import data_days_by_journey, journeys, personas, touchpoints
from data_access.future_state import FutureComparison, future_states, improvements_of, load_future_comparison
from data_access.importing import ImportReport, ProgressCallback
from data_access.importing.mapping import Mapping
from data_access.importing.workdir import remove_abandoned_folders
from data_access.journey_map.comments import comment_band_counts, comment_channels, stage_comments
from data_access.journey_map.content import journey_stages
from data_access.mapfile import MapImportSummary
from data_access.personas import COMPARISON_DEFAULT, PersonaData, read_personas
from data_access.scope import Period, Scope, StageScope, journey_id, resolve_scope, resolve_stage

TTL = get_settings().cache_ttl_seconds
ENTRIES = 64
CHART_ENTRIES = 256  # specifications of a few tens of kB: a few MB at most
# how stale the warm-up's data version may be (pages read it at the start of each run: `begin_run`)
VERSION_SECONDS = 2
RUN_VERSION_KEY = "atlas_data_version"  # session state: the data version of the page's current run

P = ParamSpec("P")
R = TypeVar("R")


@st.cache_resource
def engine() -> Engine:
    """The app's engine (the schema and the first-run demo are `journey-atlas serve`'s job), made once per
    process: first, the temporary folders of imports killed earlier are removed."""
    remove_abandoned_folders()
    return make_engine(get_settings().database_url, pool_pre_ping=True)


def _read_version() -> int:
    with engine().connect() as connection:
        return read_data_version(connection)


@st.cache_data(ttl=VERSION_SECONDS, max_entries=1, show_spinner=False)
def data_version() -> int:
    """The data version outside a page's run (the warm-up), read at most once every VERSION_SECONDS."""
    return _read_version()


def data_changed() -> None:
    """After a write from this process: the rest of this run and the warm-up read the new version at once."""
    data_version.clear()
    if get_script_run_ctx(suppress_warning=True) is not None:
        begin_run()


def begin_run() -> None:
    """Read the data version once, at the start of a page's run: every loader of the run is keyed by it.

    So a run draws one version of the data throughout, and the run after an import (made here or by any
    other process) draws the new one. A fragment's rerun keeps the version of the page's last run.
    """
    st.session_state[RUN_VERSION_KEY] = _read_version()


def _current_version() -> int:
    if get_script_run_ctx(suppress_warning=True) is not None:
        version = st.session_state.get(RUN_VERSION_KEY)
        if isinstance(version, int):
            return version
    return data_version()


class ViewLoader(Generic[P, R]):
    """A loader cached under its arguments and the data version: valid until the data changes."""

    def __init__(self, load: Callable[P, R], *, max_entries: int, spinner: bool | str) -> None:
        def keyed(version: int, /, *args: P.args, **kwargs: P.kwargs) -> R:
            return load(*args, **kwargs)

        # the cache tells functions apart by module and qualified name: each loader keeps its own
        keyed.__module__, keyed.__name__, keyed.__qualname__ = load.__module__, load.__name__, load.__qualname__
        keyed.__doc__ = load.__doc__
        self.__doc__ = load.__doc__
        self._cached = st.cache_data(ttl=TTL, max_entries=max_entries, show_spinner=spinner)(keyed)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._cached(_current_version(), *args, **kwargs)

    def clear(self) -> None:
        """Drop this loader's entries (the data version makes this unnecessary after a write)."""
        self._cached.clear()


def view_loader(
    *, max_entries: int = ENTRIES, spinner: bool | str = False
) -> Callable[[Callable[P, R]], ViewLoader[P, R]]:
    """Decorate a loader so that it is cached under its arguments and the data version."""

    def decorate(load: Callable[P, R]) -> ViewLoader[P, R]:
        return ViewLoader(load, max_entries=max_entries, spinner=spinner)

    return decorate


@st.cache_data(max_entries=CHART_ENTRIES, show_spinner=False)
def _chart_spec(key: str, _build: Callable[[], alt.TopLevelMixin]) -> dict[str, Any]:
    """The specification of `_build()`, cached under `key` alone (what the chart is built from)."""
    spec: dict[str, Any] = _build().to_dict()  # validated against Vega-Lite's schema, once per key
    return spec


def chart_spec(build: Callable[P, alt.TopLevelMixin], /, *args: P.args, **kwargs: P.kwargs) -> dict[str, Any]:
    """The Vega-Lite specification of `build(*args, **kwargs)`, built once per distinct input.

    The key is a digest of the builder and its arguments pickled (a function by its module and name, a partial
    with its arguments, frames by content), so the same data gives the same chart without building it again,
    and other data gives another.
    """
    pickled = pickle.dumps((build, args, sorted(kwargs.items())), protocol=5)
    key = hashlib.blake2b(pickled, digest_size=20).hexdigest()
    return _chart_spec(key, lambda: build(*args, **kwargs))


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


@view_loader(max_entries=4)
def load_catalogue() -> Catalogue:
    with engine().connect() as connection:
        every_journey = journeys(connection)
        by_id = data_days_by_journey(connection)
        days = {slug: by_id[found] for slug, found in every_journey.select("slug", "id").iter_rows() if found in by_id}
        return Catalogue(journeys=every_journey, personas=personas(connection), days=days)


@view_loader()
def load_default_period(journey: str, history: Period) -> periods.DefaultPeriod | None:
    """The period a link naming none opens on, for a journey whose data spans `history` (None: no such journey)."""
    found = _catalogue_id(journey)
    if found is None:
        return None
    with engine().connect() as connection:
        return periods.default_period(
            connection, journey_id=found, history=history, min_answers=get_settings().min_responses
        )


def _catalogue_id(journey: str) -> int | None:
    """The journey's id from the cached catalogue (no query)."""
    ids = load_catalogue().journeys.filter(pl.col("slug") == journey)["id"]
    return int(ids[0]) if len(ids) else None


@view_loader()
def load_filter_slugs(journey: str) -> tuple[list[str], list[str]]:
    """What the journey's comments can be filtered by: every channel's slug, and the journey's touchpoints'."""
    with engine().connect() as connection:
        channels = comment_channels(connection)["channel_slug"].to_list()
        found = _catalogue_id(journey)
        points = [] if found is None else touchpoints(connection, journey_id=found)["touchpoint_slug"].to_list()
    return channels, points


@view_loader()
def load_scope(journey: str, persona: str | None, period: Period, compared: Period) -> Scope:
    """The view's ids; the view state has already checked that the journey and persona exist."""
    with engine().connect() as connection:
        scope = resolve_scope(connection, journey_slug=journey, persona_slug=persona, period=period, compared=compared)
    if scope is None:
        raise LookupError(f"Journey '{journey}' or persona '{persona}' does not exist.")
    return scope


@view_loader()
def load_stage_scope(journey: str, stage: str, persona: str | None, period: Period, compared: Period) -> StageScope:
    """The ids of one stage's view; the page has already checked that the journey has the stage."""
    scope = load_scope(journey, persona, period, compared)
    with engine().connect() as connection:
        stage_scope = resolve_stage(connection, scope, stage_slug=stage)
    if stage_scope is None:
        raise LookupError(f"Stage '{stage}' is not in journey '{journey}'.")
    return stage_scope


@view_loader(spinner="Loading the experience map…")
def load_experience_map(
    journey: str, persona: str | None, period: Period, compared: Period, metric: str
) -> experience_map.ExperienceMapData:
    """The experience map; headlines compare with `compared`."""
    scope = load_scope(journey, persona, period, compared)
    sums = load_journey_sums(journey, persona, period, compared)  # What changed reads the same sums
    with engine().connect() as connection:
        return experience_map.load_experience_map(
            connection, scope=scope, metric=metric, min_answers=get_settings().min_responses, sums=sums
        )


@view_loader(spinner="Comparing the two periods…")
def load_changes(journey: str, persona: str | None, period: Period, compared: Period) -> pl.DataFrame:
    """Every metric of the journey now and in the compared period, biggest movers first."""
    scope = load_scope(journey, persona, period, compared)
    sums = load_journey_sums(journey, persona, period, compared)
    with engine().connect() as connection:
        return changes.load_changes(connection, scope=scope, min_answers=get_settings().min_responses, sums=sums)


@view_loader()
def load_journey_sums(journey: str, persona: str | None, period: Period, compared: Period) -> changes.JourneySums:
    """The rollup sums of every stage in both periods, which the map, What changed and the opportunity matrix
    share, with every stage's metrics computed once: each loader gets its own copy of the cached sums."""
    scope = load_scope(journey, persona, period, compared)
    with engine().connect() as connection:
        sums = changes.JourneySums.load(connection, scope=scope)
    sums.stage_metrics(min_answers=get_settings().min_responses)
    return sums


@view_loader()
def load_reviews(journey: str) -> pl.DataFrame:
    """The journey's reviews, latest first: slug, label, reviewed_on, created_at."""
    with engine().connect() as connection:
        return reviews.list_reviews(connection, journey_slug=journey)


@view_loader()
def load_map_changes(journey: str, review: str) -> pl.DataFrame:
    """Pain points and opportunities added or resolved on the journey's map since the review."""
    with session_scope(engine()) as session:
        return reviews.map_changes_since(session, journey_slug=journey, review_slug=review)


def save_review(journey: str, label: str, reviewed_on: dt.date) -> str:
    """Label the journey's current map as a review, as the session's editor (`editors.NotAnEditor` for anyone
    else); returns its slug. Not cached: it writes."""
    editor = editors.require_editor("label reviews")
    with session_scope(engine()) as session:
        slug = reviews.create_review(
            session, journey_slug=journey, label=label, reviewed_on=reviewed_on, written_by=editor.name
        ).slug
    data_changed()
    return slug


@view_loader()
def load_journey_stages(journey: str) -> pl.DataFrame:
    """The journey's stages in order; the view state has already checked that the journey exists."""
    with engine().connect() as connection:
        found = journey_id(connection, journey)
        if found is None:
            raise LookupError(f"Journey '{journey}' does not exist.")
        return journey_stages(connection, journey_id=found)


@view_loader(spinner="Loading the journey map…")
def load_journey_map(
    journey: str, stage: str, persona: str | None, period: Period, compared: Period
) -> journey_map.JourneyMapData:
    """The journey map of a stage; metrics compare with `compared`."""
    scope = load_stage_scope(journey, stage, persona, period, compared)
    with engine().connect() as connection:
        return journey_map.load_journey_map(connection, scope=scope, min_answers=get_settings().min_responses)


@view_loader()
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
            connection, scope=scope, band=band, measure=measure, channel_slug=channel, touchpoint_slug=touchpoint,
            limit=page_size, offset=page * page_size,
        )  # fmt: skip
    return counts, comments


@view_loader()
def load_stage_notes(journey: str, stage: str) -> pl.DataFrame:
    """The stage's notes from the front line, newest first."""
    with engine().connect() as connection:
        return stage_notes.list_notes(connection, journey_slug=journey, stage_slug=stage)


def add_stage_note(journey: str, stage: str, *, author: str, body: str) -> None:
    """Save a note as the session's editor (`editors.NotAnEditor` for anyone else, `stage_notes.NoteError` for a
    bad field); the new data version makes it show."""
    editor = editors.require_editor("add notes")
    with session_scope(engine()) as session:
        stage_notes.add_note(
            session, journey_slug=journey, stage_slug=stage, author=author, body=body, written_by=editor.name
        )
    data_changed()


def import_map_file(name: str, text: str) -> MapImportSummary:
    """Import an uploaded map as the session's editor (`editors.NotAnEditor` for anyone else)."""
    editor = editors.require_editor("import data")
    summary = import_data.import_map_upload(engine(), name=name, text=text, written_by=editor.name)
    data_changed()
    return summary


def import_facts_file(uploads: list[import_data.Upload], mapping: Mapping, progress: ProgressCallback) -> ImportReport:
    """Import uploaded events or feedback (with the tables their mapping reads) as the session's editor
    (`editors.NotAnEditor` for anyone else)."""
    editor = editors.require_editor("import data")
    report = import_data.import_upload(
        engine(), uploads=uploads, mapping=mapping, written_by=editor.name, progress=progress
    )
    data_changed()
    return report


@view_loader()
def load_recent_imports() -> pl.DataFrame:
    """The latest imports, with who ran them."""
    with engine().connect() as connection:
        return writers.list_imports(connection, limit=10)


@st.cache_resource
def passphrase_limits() -> editors.PassphraseLimits:
    """Wrong editor passphrases of every session of this process, so opening new sessions gains no attempts."""
    return editors.PassphraseLimits.standard()


@view_loader(max_entries=8)
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
    return report.build_report(
        title=title,
        changes=load_changes(journey, persona, period, compared),
        experience_map=overview,
        stages=stages,
        metric=metric,
        stage=stage,
        appendix=_report_appendix(journey, persona, period) if stage is None else (),
    )


# --- personas, the future state, and where to act first ---------------------------------------------


@view_loader(spinner="Weighing the opportunities…")
def load_opportunity_matrix(
    journey: str, persona: str | None, period: Period, compared: Period, stage: str | None
) -> pl.DataFrame:
    """Every opportunity of the journey (or of `stage`) with its measured value, biggest first."""
    scope = load_scope(journey, persona, period, compared)
    sums = load_journey_sums(journey, persona, period, compared)
    with engine().connect() as connection:
        return opportunities.load_opportunity_matrix(
            connection, scope=scope, stage_slug=stage, min_answers=get_settings().min_responses, sums=sums
        )


@view_loader()
def load_personas(journey: str, period: Period, metric: str) -> PersonaData:
    """Every persona's profile and share of customers, and persona × stage values of `metric`."""
    with engine().connect() as connection:
        found = journey_id(connection, journey)
        if found is None:
            raise LookupError(f"Journey '{journey}' does not exist.")
        return read_personas(
            connection, journey_id=found, period=period, metric=metric, min_answers=get_settings().min_responses
        )


@view_loader(max_entries=4)
def load_journey_links() -> pl.DataFrame:
    """Every journey with the one it improves: slug, name, kind, improves (a future state's current journey)."""
    with engine().connect() as connection:
        return future_states(connection)


@view_loader(spinner="Comparing with the future state…")
def load_future_state(journey: str, future: str, persona: str | None, period: Period) -> FutureComparison:
    """The current journey against its future state `future`; the page has checked that it improves `journey`."""
    scope = load_scope(journey, persona, period, period.previous())
    with engine().connect() as connection:
        future_id = journey_id(connection, future)
        if future_id is None:
            raise LookupError(f"Journey '{future}' does not exist.")
        return load_future_comparison(
            connection, scope=scope, future_id=future_id, min_answers=get_settings().min_responses
        )


def _report_appendix(journey: str, persona: str | None, period: Period) -> list[report_pages.PageWriter]:
    """The overview report's last pages: the personas, and the journey against its future state if it has one."""
    catalogue = load_catalogue()
    pages = [report_pages.personas_pages(load_personas(journey, period, COMPARISON_DEFAULT), metric=COMPARISON_DEFAULT)]
    futures = improvements_of(load_journey_links(), journey)
    if futures:
        pages.append(
            report_pages.comparison_pages(
                load_future_state(journey, futures[0], persona, period),
                current=catalogue.journey_name(journey),
                future=catalogue.journey_name(futures[0]),
            )
        )
    return pages

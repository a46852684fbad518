"""The data behind the overview and a journey page, cold and warm, against the peers a user might build.

The pages' data is what `dashboard/cache.py` loads for them, called here without streamlit: the overview's
scope, experience map and What changed; the journey page's stages, stage scope, journey map and first page
of comments. Cold is the first load on a new engine (a new connection, an empty SQLite page cache; the
operating system's file cache stays warm); warm is the same load again on the same connection.

The peers: (a) a plain stage × channel GROUP BY with COUNT(DISTINCT customer) over the raw events of the
period, in the same database; (b) the same numbers computed with polars over the raw event and answer rows
read from the database. Before anything is timed, the pages' numbers (customers first reaching each stage in
the period, NPS, CSAT and CES) are compared with the polars peer's and the GROUP BY's; a difference stops the
benchmark.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, and_, func, select

from benchmarks.common import Timing, repeat, timed
from data_access import changes, experience_map, journey_map
from data_access.db import make_engine
from data_access.experience_map.queries import data_days, journeys
from data_access.journey_map.comments import comment_band_counts, stage_comments
from data_access.journey_map.content import journey_stages
from data_access.models import Event, Feedback, Journey
from data_access.scope import Period, Scope, StageScope, resolve_scope, resolve_stage

MIN_ANSWERS = 30  # the app's default ATLAS_MIN_RESPONSES
PERIOD_DAYS = 90  # the app's default view: the last 90 days with data


class NumbersDiffer(RuntimeError):
    """The pages' loaders and a peer computed different numbers for the same view."""


@dataclass(frozen=True)
class View:
    journey_slug: str
    journey_id: int
    stage_slug: str
    stage_name: str
    period: Period


@dataclass(frozen=True)
class PageDataTimings:
    overview_cold: Timing
    overview_warm: Timing
    journey_cold: Timing
    journey_warm: Timing
    group_by: Timing
    polars_peer: Timing


def default_view(connection: Connection, *, stage_slug: str) -> View:
    """The app's first view: the first journey, the last 90 days with data."""
    journey = journeys(connection).row(0, named=True)
    days = data_days(connection, journey_id=int(journey["id"]))
    if days is None:
        raise NumbersDiffer(f"journey {journey['slug']!r} has no data to benchmark")
    period = Period(max(days.start, days.end - dt.timedelta(days=PERIOD_DAYS - 1)), days.end)
    stages = journey_stages(connection, journey_id=int(journey["id"])).filter(pl.col("stage_slug") == stage_slug)
    if stages.is_empty():
        raise NumbersDiffer(f"no stage {stage_slug!r} in journey {journey['slug']!r}")
    return View(str(journey["slug"]), int(journey["id"]), stage_slug, str(stages["stage_name"][0]), period)


def _scope(connection: Connection, view: View) -> Scope | None:
    """The view's journey, all personas, its period against the one before."""
    return resolve_scope(
        connection,
        journey_slug=view.journey_slug,
        persona_slug=None,
        period=view.period,
        compared=view.period.previous(),
    )


def overview_data(connection: Connection, view: View) -> tuple[experience_map.ExperienceMapData, pl.DataFrame]:
    scope = _scope(connection, view)
    assert scope is not None
    # as `dashboard/cache.py`: the map and What changed share the view's sums
    sums = changes.JourneySums.load(connection, scope=scope)
    overview = experience_map.load_experience_map(
        connection, scope=scope, metric="health", min_answers=MIN_ANSWERS, sums=sums
    )
    return overview, changes.load_changes(connection, scope=scope, min_answers=MIN_ANSWERS, sums=sums)


def journey_page_data(connection: Connection, view: View) -> journey_map.JourneyMapData:
    journey_stages(connection, journey_id=view.journey_id)
    scope = _scope(connection, view)
    stage: StageScope | None = None if scope is None else resolve_stage(connection, scope, stage_slug=view.stage_slug)
    if stage is None:
        raise NumbersDiffer(f"no stage {view.stage_slug!r} in journey {view.journey_slug!r}")
    data = journey_map.load_journey_map(connection, scope=stage, min_answers=MIN_ANSWERS)
    comment_band_counts(connection, scope=stage)
    stage_comments(connection, scope=stage, limit=20)
    return data


def _period_bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(period.start, dt.time())
    return start, dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time())


def group_by_peer(connection: Connection, view: View) -> pl.DataFrame:
    """Peer (a): stage × channel customers, COUNT(DISTINCT) over the period's raw events."""
    start, end = _period_bounds(view.period)
    query = (
        select(Event.stage_id, Event.channel_id, func.count(func.distinct(Event.customer_id)).label("customers"))
        .where(and_(Event.journey_id == view.journey_id, Event.occurred_at >= start, Event.occurred_at < end))
        .group_by(Event.stage_id, Event.channel_id)
    )
    rows = connection.execute(query).all()
    return pl.DataFrame(
        rows, schema={"stage_id": pl.Int64, "channel_id": pl.Int64, "customers": pl.Int64}, orient="row"
    )


@dataclass(frozen=True)
class PolarsNumbers:
    stage_customers: pl.DataFrame  # stage_id, customers first reaching the stage in the period
    # the same on the days whose cohorts have closed (entered at least the window before the last event's day):
    # the funnel's cohort
    closed_stage_customers: pl.DataFrame
    cell_customers: pl.DataFrame  # stage_id, channel_id, customers with an event in the period
    headlines: dict[str, tuple[float | None, int]]  # measure: (value, answers)


def polars_peer(connection: Connection, view: View) -> PolarsNumbers:
    """Peer (b): the raw rows of the journey read into polars, the same numbers computed there."""
    events = pl.read_database(
        select(Event.stage_id, Event.channel_id, Event.customer_id, Event.occurred_at).where(
            Event.journey_id == view.journey_id
        ),
        connection,
    )
    answers = pl.read_database(
        select(Feedback.measure, Feedback.score, Feedback.occurred_at).where(Feedback.journey_id == view.journey_id),
        connection,
    )
    in_period = pl.col("occurred_at").dt.date().is_between(view.period.start, view.period.end)
    first_entries = events.group_by("stage_id", "customer_id").agg(pl.col("occurred_at").min()).filter(in_period)
    stage_customers = first_entries.group_by("stage_id").agg(pl.len().cast(pl.Int64).alias("customers"))
    window = connection.execute(select(Journey.conversion_window_days).where(Journey.id == view.journey_id)).scalar()
    last_day = events["occurred_at"].max()
    closed_stage_customers = (
        first_entries.filter(
            pl.col("occurred_at").dt.date()
            <= (last_day.date() if isinstance(last_day, dt.datetime) else view.period.start)
            - dt.timedelta(days=int(window or 30))
        )
        .group_by("stage_id")
        .agg(pl.len().cast(pl.Int64).alias("customers"))
    )
    cell_customers = (
        events.filter(in_period)
        .group_by("stage_id", "channel_id")
        .agg(pl.col("customer_id").n_unique().cast(pl.Int64).alias("customers"))
    )
    scores = answers.filter(in_period)
    headlines: dict[str, tuple[float | None, int]] = {}
    formulas = {
        "nps": ((pl.col("score") >= 9).mean() - (pl.col("score") <= 6).mean()) * 100,
        "csat": (pl.col("score") >= 4).mean() * 100,
        "ces": pl.col("score").mean(),
    }
    for measure, formula in formulas.items():
        measured = scores.filter(pl.col("measure") == measure)
        # below the minimum of answers a metric is unmeasured: no value, as the app says "not enough data"
        value = measured.select(formula.alias("value"))["value"][0] if measured.height >= MIN_ANSWERS else None
        headlines[measure] = (value, measured.height)
    return PolarsNumbers(stage_customers, closed_stage_customers, cell_customers, headlines)


def _same(frame: pl.DataFrame, other: pl.DataFrame, keys: list[str]) -> bool:
    left = frame.select(*keys, "customers").filter(pl.col("customers") > 0).sort(keys)
    right = other.select(*keys, "customers").filter(pl.col("customers") > 0).sort(keys)
    return left.equals(right)


def check_numbers(connection: Connection, view: View) -> list[str]:
    """Stop with the differences when the pages, the GROUP BY and the polars peer disagree; else what was checked."""
    overview, _ = overview_data(connection, view)
    journey = journey_page_data(connection, view)
    peer = polars_peer(connection, view)
    problems = []
    if not _same(overview.stages, peer.stage_customers, ["stage_id"]):
        problems.append(
            "customers first reaching each stage: overview "
            f"{overview.stages.select('stage_id', 'customers').rows()} vs polars "
            f"{peer.stage_customers.sort('stage_id').rows()}"
        )
    stage_row = journey.funnel.filter(pl.col("kind") == "stage")
    stage_id = int(overview.stages.filter(pl.col("stage_slug") == view.stage_slug)["stage_id"][0])
    expected = peer.closed_stage_customers.filter(pl.col("stage_id") == stage_id)["customers"]
    if stage_row["customers"].to_list() != (expected.to_list() or [0]):
        problems.append(
            f"customers entering {view.stage_slug} (closed cohorts): journey page "
            f"{stage_row['customers'].to_list()} vs polars "
            f"{expected.to_list()}"
        )
    if not _same(group_by_peer(connection, view), peer.cell_customers, ["stage_id", "channel_id"]):
        problems.append("stage × channel customers: the GROUP BY and polars differ")
    shown = {headline.key: (headline.value, headline.answers) for headline in overview.headlines}
    for measure, (value, answers) in peer.headlines.items():
        if measure not in shown:
            continue
        page_value, page_answers = shown[measure]
        if page_answers != answers or not _close(page_value, value):
            problems.append(
                f"{measure}: overview {page_value} from {page_answers} answers, polars {value} from {answers}"
            )
    if problems:
        raise NumbersDiffer("; ".join(problems))
    checked = ["customers first reaching each stage (overview and journey page)", "stage × channel customers"]
    return checked + [f"{measure.upper()} and its answers" for measure in peer.headlines if measure in shown]


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _cold(url: str, load: Any, view: View) -> float:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return timed(lambda: load(connection, view))[0]
    finally:
        engine.dispose()


def time_page_data(engine: Engine, *, stage_slug: str, runs: int) -> tuple[View, list[str], PageDataTimings]:
    url = engine.url.render_as_string(hide_password=False)
    with engine.connect() as connection:
        view = default_view(connection, stage_slug=stage_slug)
        checked = check_numbers(connection, view)
    overview_cold = Timing(tuple(_cold(url, overview_data, view) for _ in range(runs)))
    journey_cold = Timing(tuple(_cold(url, journey_page_data, view) for _ in range(runs)))
    with engine.connect() as connection:
        overview_warm = repeat(lambda: overview_data(connection, view), runs)
        journey_warm = repeat(lambda: journey_page_data(connection, view), runs)
        group_by = repeat(lambda: group_by_peer(connection, view), runs)
        polars = repeat(lambda: polars_peer(connection, view), runs)
    return view, checked, PageDataTimings(overview_cold, overview_warm, journey_cold, journey_warm, group_by, polars)

"""The cohort rollup against a direct cohort computation over the raw events, on SQLite and PostgreSQL.

Random small event sets over a journey with required, optional and alternative steps are imported in one
or two files; the rollup must equal, row for row, the cohorts computed with polars from the events, and
what a user reads from it (conversion, alternative splits, the median time) must be what the definition
says.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, event, select

from data_access.db import make_engine, session_scope, upgrade_schema
from data_access.importing import import_events, refresh
from data_access.importing.mapping import parse_mapping
from data_access.journey_map.numbers import stage_funnel
from data_access.mapfile import import_map
from data_access.metrics import median_from_histogram
from data_access.models import (
    COHORT_BIN_SECONDS,
    CohortRollup,
    EntryRollup,
    Event,
    Feedback,
    Journey,
    Persona,
    Stage,
    Step,
)
from data_access.scope import Period, resolve_scope, resolve_stage

WINDOW_DAYS = 3
MAP = f"""
version: 1
channels:
  - slug: web
    name: Web
personas:
  - slug: saver
    name: Saver
  - slug: spender
    name: Spender
journeys:
  - slug: shop
    name: Shop
    conversion_window_days: {WINDOW_DAYS}
    stages:
      - slug: browse
        name: Browse
        steps:
          - slug: look
            name: Looks around
      - slug: buy
        name: Buy
        steps:
          - slug: basket
            name: Fills the basket
          - slug: ask
            name: Asks a question
            kind: optional
          - slug: pay
            name: Pays
          - slug: on-time
            name: Delivered on time
            kind: alternative
            group: delivery
          - slug: late
            name: Delivered late
            kind: alternative
            group: delivery
      - slug: return
        name: Comes back
"""
MAPPING = parse_mapping(
    """
kind: events
fixed: {journey: shop, channel: web}
columns: {customer: customer, timestamp: timestamp, stage: stage, step: step, persona: persona}
"""
)
START = dt.datetime(2024, 5, 1)
PLACES = [
    ("browse", None),
    ("browse", "look"),
    ("buy", None),
    ("buy", "basket"),
    ("buy", "ask"),
    ("buy", "pay"),
    ("buy", "on-time"),
    ("buy", "late"),
    ("return", None),
]
# (from, to, alternative group) as the map defines them; a step of None is the stage itself
PAIRS: list[tuple[tuple[str, str | None], tuple[str, str | None], str | None]] = [
    (("browse", None), ("buy", None), None),
    (("buy", None), ("return", None), None),
    (("browse", None), ("browse", "look"), None),
    (("buy", None), ("buy", "basket"), None),
    (("buy", "basket"), ("buy", "pay"), None),
    (("buy", None), ("buy", "ask"), None),
    (("buy", None), ("buy", "on-time"), "delivery"),
    (("buy", None), ("buy", "late"), "delivery"),
]
ALTERNATIVE_ORDER = {"on-time": 0, "late": 1}

seconds = st.one_of(
    st.integers(0, 10 * 86_400),
    st.integers(0, 80).map(lambda k: k * COHORT_BIN_SECONDS // 2),  # on bin edges and the window's end
)
event_rows = st.lists(
    st.tuples(
        st.sampled_from([f"c{i}" for i in range(6)]),
        seconds,
        st.sampled_from(PLACES),
        st.sampled_from([None, "saver", "spender"]),
    ),
    min_size=1,
    max_size=45,
    unique_by=lambda r: (r[0], r[1], r[2]),
)


def _prepare(engine: Engine) -> dict[str, Any]:
    """The shop map (imported once per database) with no facts; the ids the direct computation needs."""
    with session_scope(engine) as session:
        if session.scalar(select(Journey.id).where(Journey.slug == "shop")) is None:
            import_map(session, MAP)
    with engine.begin() as connection:
        connection.execute(delete(Event))
        connection.execute(delete(Feedback))
    refresh(engine)
    with engine.connect() as connection:
        stages = dict(connection.execute(select(Stage.slug, Stage.id)).tuples().all())
        steps = dict(connection.execute(select(Step.slug, Step.id)).tuples().all())
        personas = dict(connection.execute(select(Persona.slug, Persona.id)).tuples().all())
    return {"stages": stages, "steps": steps, "personas": personas}


def _import(engine: Engine, path: Path, rows: list[tuple[str, int, tuple[str, str | None], str | None]]) -> None:
    pl.DataFrame(
        {
            "customer": [r[0] for r in rows],
            "timestamp": [(START + dt.timedelta(seconds=r[1])).isoformat(sep=" ") for r in rows],
            "stage": [r[2][0] for r in rows],
            "step": [r[2][1] for r in rows],
            "persona": [r[3] for r in rows],
        },
        schema={
            "customer": pl.String,
            "timestamp": pl.String,
            "stage": pl.String,
            "step": pl.String,
            "persona": pl.String,
        },
    ).write_csv(path)
    import_events(engine, path=path, mapping=MAPPING)


def direct_cohorts(
    rows: list[tuple[str, int, tuple[str, str | None], str | None]], ids: dict[str, Any]
) -> pl.DataFrame:
    """The cohort rows computed from the raw events by the definition, keyed like the rollup."""
    events = pl.DataFrame(
        {
            "customer": [r[0] for r in rows],
            "at": [START + dt.timedelta(seconds=r[1]) for r in rows],
            "stage": [r[2][0] for r in rows],
            "step": [r[2][1] for r in rows],
            "persona": [ids["personas"].get(r[3]) if r[3] else None for r in rows],
        },
        schema={
            "customer": pl.String,
            "at": pl.Datetime("us"),
            "stage": pl.String,
            "step": pl.String,
            "persona": pl.Int64,
        },
    )
    # first entries into each stage (step null) and into each step; persona: the lowest id seen there
    entries = pl.concat(
        [
            events.group_by("customer", "stage").agg(
                pl.lit(None, pl.String).alias("step"), pl.col("at").min(), pl.col("persona").min()
            ),
            events.filter(pl.col("step").is_not_null())
            .group_by("customer", "stage", "step")
            .agg(pl.col("at").min(), pl.col("persona").min()),
        ]
    ).select("customer", "stage", "step", "at", "persona")
    frames = []
    for (from_stage, from_step), (to_stage, to_step), group in PAIRS:
        starts = entries.filter(
            (pl.col("stage") == from_stage)
            & (pl.col("step").is_null() if from_step is None else pl.col("step") == from_step)
        )
        if group is None:
            ends = entries.filter(
                (pl.col("stage") == to_stage)
                & (pl.col("step").is_null() if to_step is None else pl.col("step") == to_step)
            )
        else:
            # each customer counts for the first alternative of the group they reached
            ends = (
                entries.filter(pl.col("step").is_in(list(ALTERNATIVE_ORDER)))
                .sort("at", pl.col("step").replace_strict(ALTERNATIVE_ORDER))
                .group_by("customer", maintain_order=True)
                .first()
                .filter(pl.col("step") == to_step)
            )
        joined = starts.join(ends.select("customer", pl.col("at").alias("to_at")), on="customer")
        took = (pl.col("to_at") - pl.col("at")).dt.total_seconds()
        frames.append(
            joined.filter((took >= 0) & (took <= WINDOW_DAYS * 86_400)).select(
                pl.col("at").dt.date().alias("day"),
                pl.lit(ids["stages"][from_stage]).alias("stage_id"),
                pl.lit(ids["steps"].get(from_step), pl.Int64).alias("step_id"),
                pl.lit(ids["stages"][to_stage]).alias("next_stage_id"),
                pl.lit(ids["steps"].get(to_step), pl.Int64).alias("next_step_id"),
                pl.col("persona").alias("persona_id"),
                (took // COHORT_BIN_SECONDS).alias("duration_bin"),
                took.alias("seconds"),
            )
        )
    return pl.concat(frames)


def last_closed_day(rows: list[tuple[str, int, tuple[str, str | None], str | None]]) -> dt.date:
    """The maturity rule on the raw rows: a cohort counts when its window has closed by the last day any event
    was recorded, so its entry day is at most that day less the window."""
    last_day = max((START + dt.timedelta(seconds=r[1])).date() for r in rows)
    return last_day - dt.timedelta(days=WINDOW_DAYS)


KEYS = ["day", "stage_id", "step_id", "next_stage_id", "next_step_id", "persona_id", "duration_bin"]


def _as_counts(frame: pl.DataFrame) -> dict[tuple[Any, ...], int]:
    counted = frame.group_by(KEYS).agg(pl.len().alias("customers"))
    return {tuple(row[:-1]): row[-1] for row in counted.iter_rows()}


def stored_cohorts(engine: Engine) -> dict[tuple[Any, ...], int]:
    columns = [
        CohortRollup.day,
        CohortRollup.stage_id,
        CohortRollup.step_id,
        CohortRollup.next_stage_id,
        CohortRollup.next_step_id,
        CohortRollup.persona_id,
        CohortRollup.duration_bin,
    ]
    with engine.connect() as connection:
        rows = connection.execute(select(*columns, CohortRollup.customers)).tuples().all()
    counts: dict[tuple[Any, ...], int] = defaultdict(int)
    for *key, customers in rows:
        day = key[0] if isinstance(key[0], dt.date) else dt.date.fromisoformat(str(key[0]))
        counts[(day, *key[1:])] += customers
    return {key: count for key, count in counts.items() if count}


def entrants(engine: Engine) -> dict[tuple[Any, ...], int]:
    """Cohort sizes: first entries per day × stage × step × persona, from the entry rollup."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                EntryRollup.day,
                EntryRollup.stage_id,
                EntryRollup.step_id,
                EntryRollup.persona_id,
                EntryRollup.customers,
            )
        ).tuples()
        return {(str(day), stage, step, persona): customers for day, stage, step, persona, customers in rows}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=event_rows, cut=st.integers(0, 45), later_first=st.booleans())
def test_the_cohort_rollup_is_the_cohorts_of_the_raw_events(
    engine: Engine,
    tmp_path: Path,
    rows: list[tuple[str, int, tuple[str, str | None], str | None]],
    cut: int,
    later_first: bool,
) -> None:
    """Imported in one or two files, in either order, the rollup equals the direct cohort computation;
    `refresh` rebuilds the same rows."""
    ids = _prepare(engine)
    pieces = [rows[:cut], rows[cut:]]
    for number, piece in enumerate(reversed(pieces) if later_first else pieces):
        if piece:
            _import(engine, tmp_path / f"events-{number}.csv", piece)

    expected = _as_counts(direct_cohorts(rows, ids))
    assert stored_cohorts(engine) == expected
    refresh(engine)
    assert stored_cohorts(engine) == expected


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=event_rows)
def test_conversions_stay_within_0_and_100_percent_and_alternatives_split_their_entrants(
    engine: Engine, tmp_path: Path, rows: list[tuple[str, int, tuple[str, str | None], str | None]]
) -> None:
    """For every cohort (entry day, from, persona) the converted never exceed the entrants, and a group's
    alternatives together never exceed the stage's entrants; the histogram's median is within half a bin
    of the exact median of the durations."""
    ids = _prepare(engine)
    _import(engine, tmp_path / "events.csv", rows)
    sizes = entrants(engine)
    converted: dict[tuple[Any, ...], int] = defaultdict(int)
    split: dict[tuple[Any, ...], int] = defaultdict(int)
    alternatives = {ids["steps"]["on-time"], ids["steps"]["late"]}
    for (day, stage, step, next_stage, next_step, persona, _bin), customers in stored_cohorts(engine).items():
        converted[(str(day), stage, step, persona, next_stage, next_step)] += customers
        if next_step in alternatives:
            split[(str(day), stage, step, persona)] += customers
    for (day, stage, step, persona, *_), customers in converted.items():
        assert 0 < customers <= sizes[(day, stage, step, persona)]
    for key, customers in split.items():
        assert customers <= sizes[key]

    histograms: dict[tuple[Any, ...], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for (_day, stage, step, next_stage, next_step, _persona, duration_bin), customers in stored_cohorts(engine).items():
        histograms[(stage, step, next_stage, next_step)][duration_bin] += customers
    durations = direct_cohorts(rows, ids)
    for (stage, step, next_stage, next_step), pair in durations.group_by(
        "stage_id", "step_id", "next_stage_id", "next_step_id"
    ):
        exact = pair["seconds"].median()
        read = median_from_histogram(histograms[(stage, step, next_stage, next_step)], COHORT_BIN_SECONDS)
        assert isinstance(exact, float) and read is not None
        assert abs(read - exact) <= COHORT_BIN_SECONDS / 2, (stage, step, next_stage, next_step)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=event_rows, persona=st.sampled_from([None, "saver"]))
def test_the_journey_pages_funnel_never_shows_more_than_100_percent(
    engine: Engine,
    tmp_path: Path,
    rows: list[tuple[str, int, tuple[str, str | None], str | None]],
    persona: str | None,
) -> None:
    """The Buy stage's funnel over the whole data: conversions within 0–100 % and equal to the direct cohort
    computation over the closed cohorts (entered at least the window before the last day of events);
    optional and alternative steps carry no drop-off; the alternatives' shares add up to at most 100 %."""
    ids = _prepare(engine)
    _import(engine, tmp_path / "events.csv", rows)
    period = Period(START.date() - dt.timedelta(days=1), START.date() + dt.timedelta(days=12))
    with engine.connect() as connection:
        scope = resolve_scope(connection, journey_slug="shop", persona_slug=persona, period=period)
        assert scope is not None
        stage = resolve_stage(connection, scope, stage_slug="buy")
        assert stage is not None
        funnel = stage_funnel(connection, scope=stage)

    conversions = funnel["conversion"].drop_nulls()
    assert ((conversions >= 0) & (conversions <= 1)).all()
    assert funnel.filter(pl.col("step_kind").is_in(["optional", "alternative"]))["drop_off"].is_null().all()
    shares = funnel.filter(pl.col("step_kind") == "alternative")["share_of_entry"].drop_nulls()
    assert shares.sum() <= 1.0 + 1e-9

    persona_id = ids["personas"].get(persona) if persona else None
    direct = direct_cohorts(rows, ids).filter(pl.col("day") <= last_closed_day(rows))
    if persona_id is not None:
        direct = direct.filter(pl.col("persona_id") == persona_id)
    pay = direct.filter(pl.col("next_step_id") == ids["steps"]["pay"]).height
    assert funnel.filter(pl.col("label") == "Pays")["customers"].item() == pay
    onwards = direct.filter(pl.col("next_stage_id") == ids["stages"]["return"]).height
    assert funnel.filter(pl.col("kind") == "next_stage")["customers"].item() == onwards
    if persona is None:
        # the stage's closed cohort: customers whose first entry into Buy came by the last closed day
        firsts: dict[str, int] = {}
        for customer, second, (stage_slug, _step), _who in rows:
            if stage_slug == "buy":
                firsts[customer] = min(firsts.get(customer, second), second)
        closed = last_closed_day(rows)
        cohort = sum((START + dt.timedelta(seconds=second)).date() <= closed for second in firsts.values())
        assert funnel.filter(pl.col("kind") == "stage")["customers"].item() == cohort
        shown = funnel.filter(pl.col("kind") == "next_stage")["conversion"].item()
        if onwards:  # with nobody moving on the funnel draws no conversion for the step
            assert shown == pytest.approx(onwards / cohort)


def test_changing_a_steps_kind_on_the_map_recomputes_the_journeys_cohorts(engine: Engine, tmp_path: Path) -> None:
    """Making the optional step required (and the window longer) on a map import gives the rollup that
    `refresh` rebuilds under the new map."""
    _prepare(engine)
    rows = [
        ("c0", 0, ("buy", None), "saver"),
        ("c0", 3_600, ("buy", "basket"), "saver"),
        ("c0", 7_200, ("buy", "ask"), "saver"),
        ("c0", 5 * 86_400, ("buy", "pay"), "saver"),
        ("c1", 0, ("buy", None), None),
        ("c1", 600, ("buy", "ask"), None),
    ]
    _import(engine, tmp_path / "events.csv", rows)
    before = stored_cohorts(engine)
    changed = MAP.replace("\n            kind: optional", "").replace(
        f"conversion_window_days: {WINDOW_DAYS}", "conversion_window_days: 9"
    )
    with session_scope(engine) as session:
        import_map(session, changed)
    after = stored_cohorts(engine)
    refresh(engine)
    assert stored_cohorts(engine) == after != before
    with session_scope(engine) as session:
        import_map(session, MAP)
    assert stored_cohorts(engine) == before


def test_an_import_into_stored_customers_finds_each_customers_entries_by_index(tmp_path: Path) -> None:
    """The cohort rows of the customers an import touches come from scratch tables of their old and new first
    entries: every lookup of a customer's `to` entry or earlier alternative there goes through an index, not
    a scan of the table per entry, which grew with the square of the customers (SQLite's plan; PostgreSQL's
    choice depends on the statistics `rollups._index_by_customer` gives it, checked by
    benchmarks/incremental_import.py)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'atlas.db'}")
    upgrade_schema(engine)
    _prepare(engine)
    customers = [f"c{i}" for i in range(40)]
    first = [(c, 3600 * i, place, "saver") for i, c in enumerate(customers) for place in PLACES[:3]]
    _import(engine, tmp_path / "first.csv", first)
    plans: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def explain(connection: Any, cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        if "cohort_from" in statement and statement.startswith("INSERT INTO atlas_scratch") and not many:
            query = statement[statement.index("SELECT") :]
            plans.extend(row[3] for row in cursor.connection.execute(f"EXPLAIN QUERY PLAN {query}", parameters))

    # the same customers again, earlier and on to the steps: every one of them is touched
    later = [(c, 60 * i + k, place, "spender") for i, c in enumerate(customers) for k, place in enumerate(PLACES)]
    _import(engine, tmp_path / "later.csv", later)
    engine.dispose()

    lookups = [p for p in plans if any(f" {alias}" in p for alias in ("cohort_to", "alternative", "other_alternative"))]
    assert lookups, "the import recomputed no cohort rows from scratch tables"
    assert [p for p in lookups if not p.startswith("SEARCH")] == []

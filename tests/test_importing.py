"""The events and feedback importer against SQLite and PostgreSQL: metrics, idempotence, examples, real data."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter, defaultdict
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, func, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from data_access.db import session_scope
from data_access.importing import ImportValidationError, import_events, import_feedback, preview, refresh, tallies
from data_access.importing.mapping import parse_mapping
from data_access.mapfile import import_map
from data_access.metrics import SCALES
from data_access.models import (
    Channel,
    EntryRollup,
    Event,
    EventRollup,
    Feedback,
    FeedbackRollup,
    Measure,
    Persona,
    Stage,
    StageEntry,
    Touchpoint,
)
from tests.data_access.metric_oracles import measure_value
from tests.import_fixtures import SHOP_CHANNELS, SHOP_STAGES, add_shop_map, row_counts

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
AIRLINE_CSV = ROOT.parent / "shared" / "data" / "airline_passenger_satisfaction.csv"
AIRLINE_QUESTIONS = {
    "Ease of Online booking": "online-booking",
    "Departure/Arrival time convenient": "schedule",
    "Online boarding": "online-boarding",
    "Checkin service": "checkin-desk",
    "Gate location": "gate",
    "Inflight wifi service": "wifi",
    "Inflight entertainment": "entertainment",
    "Food and drink": "food-and-drink",
    "On-board service": "onboard-service",
    "Inflight service": "inflight-service",
    "Seat comfort": "seat-comfort",
    "Leg room service": "leg-room",
    "Cleanliness": "cleanliness",
    "Baggage handling": "baggage",
}

EVENTS_MAPPING = parse_mapping(
    """
kind: events
fixed: {journey: shop}
columns: {customer: customer, timestamp: timestamp, stage: stage, channel: channel}
"""
)
FEEDBACK_MAPPING = parse_mapping(
    """
kind: feedback
fixed: {journey: shop}
columns: {customer: customer, timestamp: timestamp, stage: stage, measure: measure, score: score}
"""
)


# --- what the database says -----------------------------------------------------------------------


def events_by_stage_channel(engine: Engine) -> dict[tuple[str, str], int]:
    query = (
        select(Stage.slug, Channel.slug, func.sum(EventRollup.events))
        .select_from(EventRollup)
        .join(Stage, Stage.id == EventRollup.stage_id)
        .join(Channel, Channel.id == EventRollup.channel_id)
        .group_by(Stage.slug, Channel.slug)
    )
    with engine.connect() as connection:
        return {(stage, channel): int(n) for stage, channel, n in connection.execute(query)}


def customers_by_stage(engine: Engine) -> dict[str, int]:
    query = (
        select(Stage.slug, func.count())
        .select_from(StageEntry)
        .join(Stage, Stage.id == StageEntry.stage_id)
        .where(StageEntry.step_id.is_(None))
        .group_by(Stage.slug)
    )
    with engine.connect() as connection:
        return {stage: int(n) for stage, n in connection.execute(query)}


def feedback_values(engine: Engine, *, by: str = "stage") -> dict[tuple[str, str], tuple[int, float | None]]:
    """(stage or touchpoint slug, measure) → (answers, headline value by the metric oracle)."""
    key = Stage.slug if by == "stage" else Touchpoint.slug
    query = (
        select(
            key,
            FeedbackRollup.measure,
            func.sum(FeedbackRollup.answers),
            func.sum(FeedbackRollup.score_sum),
            func.sum(FeedbackRollup.good),
            func.sum(FeedbackRollup.bad),
        )
        .select_from(FeedbackRollup)
        .group_by(key, FeedbackRollup.measure)
    )
    if by == "stage":
        query = query.join(Stage, Stage.id == FeedbackRollup.stage_id)
    else:
        query = query.join(Touchpoint, Touchpoint.id == FeedbackRollup.touchpoint_id)
    with engine.connect() as connection:
        return {
            (slug, measure): (
                int(answers),
                measure_value(
                    Measure(measure), answers=int(answers), score_sum=score_sum, good=int(good), bad=int(bad)
                ),
            )
            for slug, measure, answers, score_sum, good, bad in connection.execute(query)
        }


def rollup_rows(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every rollup row without its id, sorted, per table."""
    with engine.connect() as connection:
        return {
            model.__tablename__: sorted(
                (tuple(row[1:]) for row in connection.execute(select(model.__table__))), key=repr
            )
            for model in (EventRollup, FeedbackRollup, StageEntry, EntryRollup)
        }


def expected_value(measure: Measure, scores: list[float]) -> float:
    scale = SCALES[measure]
    if measure in (Measure.NPS, Measure.SENTIMENT):
        good = sum(s >= scale.good_from for s in scores)
        bad = sum(s <= scale.bad_to for s in scores)
        return 100.0 * (good - bad) / len(scores)
    if measure == Measure.CSAT:
        return 100.0 * sum(s >= scale.good_from for s in scores) / len(scores)
    return sum(scores) / len(scores)


# --- random valid data gives the metrics a direct computation gives ------------------------------

event_rows = st.lists(
    st.tuples(
        st.sampled_from([f"c{i}" for i in range(6)]),
        st.integers(0, 20),
        st.integers(0, 23 * 60),
        st.sampled_from(SHOP_STAGES),
        st.sampled_from(SHOP_CHANNELS),
    ),
    min_size=1,
    max_size=60,
    unique=True,
)
answer = st.sampled_from([Measure.NPS, Measure.CSAT, Measure.CES]).flatmap(
    lambda m: st.tuples(st.just(m), st.integers(int(SCALES[m].low), int(SCALES[m].high)))
)
feedback_rows = st.lists(
    st.tuples(
        st.one_of(st.none(), st.sampled_from([f"c{i}" for i in range(4)])),
        st.integers(0, 20),
        st.sampled_from(SHOP_STAGES),
        answer,
    ),
    min_size=1,
    max_size=60,
    unique=True,
)


def _empty_facts(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(delete(Event))
        connection.execute(delete(Feedback))
    refresh(engine)


def _moment(day: int, minute: int = 0) -> str:
    return (dt.datetime(2024, 1, 1) + dt.timedelta(days=day, minutes=minute)).isoformat(sep=" ")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=event_rows)
def test_random_events_give_the_directly_computed_metrics(
    engine: Engine, tmp_path: Path, rows: list[tuple[str, int, int, str, str]]
) -> None:
    """Events per stage × channel and customers reaching each stage match a count over the raw rows."""
    if not _has_shop(engine):
        add_shop_map(engine)
    _empty_facts(engine)
    path = tmp_path / "events.csv"
    pl.DataFrame(
        {
            "customer": [r[0] for r in rows],
            "timestamp": [_moment(r[1], r[2]) for r in rows],
            "stage": [r[3] for r in rows],
            "channel": [r[4] for r in rows],
        }
    ).write_csv(path)

    report = import_events(engine, path=path, mapping=EVENTS_MAPPING)

    assert report.inserted == len(rows)
    assert events_by_stage_channel(engine) == dict(Counter((r[3], r[4]) for r in rows))
    reached: dict[str, set[str]] = defaultdict(set)
    for customer, *_, stage, _channel in rows:
        reached[stage].add(customer)
    assert customers_by_stage(engine) == {stage: len(customers) for stage, customers in reached.items()}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=feedback_rows)
def test_random_feedback_gives_the_directly_computed_nps_csat_ces(
    engine: Engine, tmp_path: Path, rows: list[tuple[str | None, int, str, tuple[Measure, int]]]
) -> None:
    """NPS, CSAT and CES per stage from the rollups match DESIGN.md's formulas over the raw answers."""
    if not _has_shop(engine):
        add_shop_map(engine)
    _empty_facts(engine)
    path = tmp_path / "feedback.csv"
    pl.DataFrame(
        {
            "customer": [r[0] for r in rows],
            "timestamp": [_moment(r[1]) for r in rows],
            "stage": [r[2] for r in rows],
            "measure": [r[3][0].value for r in rows],
            "score": [r[3][1] for r in rows],
        },
        schema={
            "customer": pl.String,
            "timestamp": pl.String,
            "stage": pl.String,
            "measure": pl.String,
            "score": pl.Int64,
        },
    ).write_csv(path)

    report = import_feedback(engine, path=path, mapping=FEEDBACK_MAPPING)

    assert report.inserted == len(rows)
    scores: dict[tuple[str, str], list[float]] = defaultdict(list)
    for _customer, _day, stage, (measure, score) in rows:
        scores[(stage, measure.value)].append(float(score))
    found = feedback_values(engine)
    assert set(found) == set(scores)
    for key, answers in scores.items():
        count, value = found[key]
        assert count == len(answers)
        assert value == pytest.approx(expected_value(Measure(key[1]), answers))


def _has_shop(engine: Engine) -> bool:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(Stage)).scalar_one() > 0


# --- importing in pieces gives the rollups of one rebuild -------------------------------------------

PIECES_MAPPING = parse_mapping(
    """
kind: events
fixed: {journey: shop}
columns: {customer: customer, timestamp: timestamp, stage: stage, channel: channel, step: step, persona: persona,
          value: value}
"""
)
piece_rows = st.lists(
    st.tuples(
        st.sampled_from([f"c{i}" for i in range(5)]),
        st.integers(0, 6),
        st.integers(0, 23 * 60),
        st.sampled_from([("awareness", None), ("purchase", None), ("purchase", "pay"), ("delivery", None)]),
        st.sampled_from(SHOP_CHANNELS),
        st.sampled_from([None, "bargain-hunter", "loyal"]),
        st.integers(0, 40),
    ),
    min_size=1,
    max_size=40,
    unique_by=lambda r: (r[0], r[1], r[2], r[3], r[4]),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=piece_rows, cuts=st.lists(st.integers(0, 40), max_size=3), overlap=st.integers(0, 5))
def test_importing_in_overlapping_pieces_gives_the_rollups_of_a_full_rebuild(
    engine: Engine,
    tmp_path: Path,
    rows: list[tuple[str, int, int, tuple[str, str | None], str, str | None, int]],
    cuts: list[int],
    overlap: int,
) -> None:
    """Files imported one after another (repeating rows already stored, moving first entries earlier and
    changing their personas) leave every rollup and first entry exactly as `refresh` rebuilds them."""
    if not _has_shop(engine):
        add_shop_map(engine)
        with session_scope(engine) as session:
            session.add(Persona(slug="loyal", name="Loyal"))
    _empty_facts(engine)
    bounds = [0, *sorted(min(c, len(rows)) for c in cuts), len(rows)]
    # the last piece first: later files then bring earlier first entries and repeat rows already stored
    for i, (start, end) in reversed(list(enumerate(itertools.pairwise(bounds)))):
        piece = rows[start : end + overlap]
        if not piece:
            continue
        path = tmp_path / f"piece_{i}.csv"
        pl.DataFrame(
            {
                "customer": [r[0] for r in piece],
                "timestamp": [_moment(r[1], r[2]) for r in piece],
                "stage": [r[3][0] for r in piece],
                "step": [r[3][1] for r in piece],
                "channel": [r[4] for r in piece],
                "persona": [r[5] for r in piece],
                "value": [r[6] / 4 for r in piece],
            },
            schema={
                "customer": pl.String,
                "timestamp": pl.String,
                "stage": pl.String,
                "step": pl.String,
                "channel": pl.String,
                "persona": pl.String,
                "value": pl.Float64,
            },
        ).write_csv(path)
        import_events(engine, path=path, mapping=PIECES_MAPPING)

    imported = rollup_rows(engine)
    refresh(engine)
    assert imported == rollup_rows(engine)
    assert imported["stage_entries"]


def test_every_iso_8601_form_of_a_timestamp_is_read_as_utc(engine: Engine, tmp_path: Path) -> None:
    """Date only, minutes, seconds with fractions, "T" or a space, naive or with an offset or Z."""
    add_shop_map(engine)
    forms = {
        "a": ("2024-03-01", dt.datetime(2024, 3, 1)),
        "b": ("2024-03-01T09:05", dt.datetime(2024, 3, 1, 9, 5)),
        "c": ("2024-03-01 09:05", dt.datetime(2024, 3, 1, 9, 5)),
        "d": ("2024-03-01T09:05:07.25", dt.datetime(2024, 3, 1, 9, 5, 7, 250000)),
        "e": ("2024-03-01 09:05:07", dt.datetime(2024, 3, 1, 9, 5, 7)),
        "f": ("2024-03-01T09:05:07Z", dt.datetime(2024, 3, 1, 9, 5, 7)),
        "g": ("2024-03-01 09:05:07+01:00", dt.datetime(2024, 3, 1, 8, 5, 7)),
        "h": ("2024-03-01T09:05:07.5-0500", dt.datetime(2024, 3, 1, 14, 5, 7, 500000)),
    }
    path = tmp_path / "forms.csv"
    path.write_text(
        "customer,timestamp,stage,channel\n" + "".join(f"{c},{text},awareness,web\n" for c, (text, _) in forms.items())
    )

    import_events(engine, path=path, mapping=EVENTS_MAPPING)

    with engine.connect() as connection:
        stored = dict(connection.execute(select(Event.customer_id, Event.occurred_at)).tuples().all())
    assert stored == {customer: expected for customer, (_, expected) in forms.items()}


def test_typed_parquet_columns_are_stored_as_their_values(engine: Engine, tmp_path: Path) -> None:
    """Zoned datetimes land as UTC, dates as midnight, integer values as numbers: as their text would."""
    add_shop_map(engine)
    zoned, dated = tmp_path / "zoned.parquet", tmp_path / "dated.parquet"
    pl.DataFrame(
        {
            "customer": ["ada", "bob"],
            "timestamp": [dt.datetime(2024, 3, 1, 9, 30), dt.datetime(2024, 7, 1, 0, 15)],
            "stage": ["awareness", "purchase"],
            "channel": ["web", "store"],
            "value": [12, 7],
        }
    ).with_columns(pl.col("timestamp").dt.replace_time_zone("Europe/Paris")).write_parquet(zoned)
    pl.DataFrame(
        {"customer": ["cy"], "timestamp": [dt.date(2024, 3, 5)], "stage": ["delivery"], "channel": ["email"]}
    ).write_parquet(dated)
    with_value = parse_mapping(
        """
kind: events
fixed: {journey: shop}
columns: {customer: customer, timestamp: timestamp, stage: stage, channel: channel, value: value}
"""
    )

    import_events(engine, path=zoned, mapping=with_value)
    import_events(engine, path=dated, mapping=EVENTS_MAPPING)

    with engine.connect() as connection:
        stored = connection.execute(select(Event.customer_id, Event.occurred_at, Event.value).order_by(Event.id)).all()
    assert sorted(stored) == [
        ("ada", dt.datetime(2024, 3, 1, 8, 30), 12.0),  # CET is UTC+1
        ("bob", dt.datetime(2024, 6, 30, 22, 15), 7.0),  # CEST is UTC+2
        ("cy", dt.datetime(2024, 3, 5), None),
    ]


def test_first_entries_tallied_past_the_memory_cap_give_the_rollups_of_a_full_rebuild(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With tiny batches and a tiny cap, first-entry tallies spill to bucket files and are merged per bucket."""
    monkeypatch.setattr(tallies, "ENTRY_TALLY_ROWS", 4)
    monkeypatch.setattr(tallies, "ENTRY_BUCKETS", 3)
    add_shop_map(engine)
    path = tmp_path / "events.csv"
    pl.DataFrame(
        {
            "customer": [f"c{i % 7}" for i in range(60)],
            "timestamp": [_moment(20 - i % 13, i) for i in range(60)],
            "stage": [SHOP_STAGES[i % 4] for i in range(60)],
            "channel": [SHOP_CHANNELS[i % 3] for i in range(60)],
        }
    ).write_csv(path)

    report = import_events(engine, path=path, mapping=EVENTS_MAPPING, batch_rows=5)

    assert report.inserted == 60
    imported = rollup_rows(engine)
    assert len(imported["stage_entries"]) == 7 * 4
    refresh(engine)
    assert imported == rollup_rows(engine)


# --- idempotence, refresh, preview ----------------------------------------------------------------


def _shop_files(tmp_path: Path) -> tuple[Path, Path]:
    events = tmp_path / "events.csv"
    events.write_text(
        "customer,timestamp,stage,channel\n"
        "ada,2024-03-01 09:00:00,awareness,web\n"
        "ada,2024-03-02 10:00:00,purchase,web\n"
        "bob,2024-03-02 11:00:00,consideration,store\n"
        "bob,2024-03-03T12:00:00Z,purchase,store\n"
    )
    feedback = tmp_path / "feedback.csv"
    feedback.write_text(
        "customer,timestamp,stage,measure,score\nada,2024-03-02,purchase,nps,10\n,2024-03-03,purchase,csat,4\n"
    )
    return events, feedback


def _schema_of(engine: Engine, tables: tuple[str, ...]) -> dict[str, object]:
    with engine.connect() as connection:
        found = inspect(connection)
        return {
            table: (
                sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in found.get_indexes(table)),
                sorted((tuple(k["constrained_columns"]), k["referred_table"]) for k in found.get_foreign_keys(table)),
            )
            for table in tables
        }


def test_a_bulk_import_leaves_every_index_and_foreign_key_as_it_found_them(engine: Engine, tmp_path: Path) -> None:
    """A first import drops the fact and first-entry indexes (and foreign keys) for speed; all come back."""
    add_shop_map(engine)
    tables = ("events", "stage_entries")
    before = _schema_of(engine, tables)
    events, _ = _shop_files(tmp_path)

    report = import_events(engine, path=events, mapping=EVENTS_MAPPING)

    assert report.inserted == 4
    assert _schema_of(engine, tables) == before
    assert ("ux_events_source_key", ("source_key",), True) in before["events"][0]  # type: ignore[index]
    # and the rebuilt unique key refuses a stored event again
    names = [column.name for column in Event.__table__.columns if column.name != "id"]
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(Event).from_select(names, select(*(Event.__table__.c[n] for n in names)).limit(1)))


def test_reimporting_the_same_file_does_not_double_count(engine: Engine, tmp_path: Path) -> None:
    """The second import skips every row as already present; facts and rollups stay the same."""
    add_shop_map(engine)
    events, feedback = _shop_files(tmp_path)
    first = import_events(engine, path=events, mapping=EVENTS_MAPPING)
    import_feedback(engine, path=feedback, mapping=FEEDBACK_MAPPING)
    counts, rollups = row_counts(engine), rollup_rows(engine)

    again = import_events(engine, path=events, mapping=EVENTS_MAPPING)
    again_feedback = import_feedback(engine, path=feedback, mapping=FEEDBACK_MAPPING)

    assert (first.inserted, first.already_present) == (4, 0)
    assert (again.inserted, again.already_present) == (0, 4)
    assert (again_feedback.inserted, again_feedback.already_present) == (0, 2)
    assert row_counts(engine) == counts
    assert rollup_rows(engine) == rollups
    assert customers_by_stage(engine) == {"awareness": 1, "consideration": 1, "purchase": 2}


def test_a_file_with_one_new_row_adds_only_that_row(engine: Engine, tmp_path: Path) -> None:
    """Appending a row to an imported file and importing it again adds one event."""
    add_shop_map(engine)
    events, _ = _shop_files(tmp_path)
    import_events(engine, path=events, mapping=EVENTS_MAPPING)
    events.write_text(events.read_text() + "cy,2024-03-04 08:00:00,awareness,email\n")
    report = import_events(engine, path=events, mapping=EVENTS_MAPPING)
    assert (report.inserted, report.already_present) == (1, 4)
    assert row_counts(engine)["events"] == 5


def test_a_row_repeated_in_the_file_is_reported_even_when_it_is_already_stored(engine: Engine, tmp_path: Path) -> None:
    """Repeats within one file are a mistake in the file, whether or not an earlier import stored the row."""
    add_shop_map(engine)
    events, _ = _shop_files(tmp_path)
    import_events(engine, path=events, mapping=EVENTS_MAPPING)
    counts = row_counts(engine)
    lines = events.read_text().splitlines()
    repeated = tmp_path / "repeated.csv"
    repeated.write_text("\n".join([*lines, lines[1], "cy,2024-03-04 08:00:00,awareness,email"]) + "\n")

    with pytest.raises(ImportValidationError) as refused:
        import_events(engine, path=repeated, mapping=EVENTS_MAPPING)

    assert [p.check for p in refused.value.problems] == ["duplicate row"]
    assert refused.value.problems[0].rows == (5,)
    assert row_counts(engine) == counts


def _twelve_events(tmp_path: Path, *, row_11: str) -> Path:
    """Parquet, whose batches follow `batch_rows` exactly (CSV is read in blocks of at least 1 MiB)."""
    path = tmp_path / "events.parquet"
    lines = [f"c{i},2024-03-{1 + i:02d} 09:00:00,{SHOP_STAGES[i % 4]},{SHOP_CHANNELS[i % 3]}" for i in range(12)]
    lines[10] = row_11
    columns = ("customer", "timestamp", "stage", "channel")
    pl.DataFrame([line.split(",") for line in lines], schema=columns, orient="row").write_parquet(path)
    return path


@pytest.mark.parametrize("caller_commits", [False, True], ids=["own transaction", "caller's session commits"])
def test_a_first_import_failing_in_a_later_batch_leaves_the_database_as_it_was(
    engine: Engine, tmp_path: Path, caller_commits: bool
) -> None:
    """Into an empty map, earlier batches may already be loaded when row 11 fails: they are all taken back,
    also inside a caller's transaction that goes on and commits."""
    add_shop_map(engine)
    counts, schema = row_counts(engine), _schema_of(engine, ("events", "stage_entries"))
    path = _twelve_events(tmp_path, row_11="c10,2024-03-11 09:00:00,checkout,web")

    with pytest.raises(ImportValidationError) as refused:
        if caller_commits:
            with session_scope(engine) as session:
                try:
                    import_events(session, path=path, mapping=EVENTS_MAPPING, batch_rows=3)
                finally:
                    session.commit()
        else:
            import_events(engine, path=path, mapping=EVENTS_MAPPING, batch_rows=3)

    assert [(p.check, p.column, p.rows) for p in refused.value.problems] == [("unknown stage", "stage", (11,))]
    assert row_counts(engine) == counts
    assert _schema_of(engine, ("events", "stage_entries")) == schema
    # and the same map takes a clean file afterwards
    assert import_events(engine, path=_shop_files(tmp_path)[0], mapping=EVENTS_MAPPING).inserted == 4


def test_a_repeat_in_a_later_batch_of_a_first_import_is_reported_by_row(engine: Engine, tmp_path: Path) -> None:
    """A repeat that only the rebuilt unique key notices still names its rows, and nothing is written."""
    add_shop_map(engine)
    counts, schema = row_counts(engine), _schema_of(engine, ("events", "stage_entries"))
    path = _twelve_events(tmp_path, row_11="c1,2024-03-02 09:00:00,consideration,store")

    with pytest.raises(ImportValidationError) as refused:
        import_events(engine, path=path, mapping=EVENTS_MAPPING, batch_rows=3)

    [problem] = refused.value.problems
    assert (problem.check, problem.count, problem.rows, problem.examples) == (
        "duplicate row",
        1,
        (11,),
        ("row 11 repeats row 2",),
    )
    assert row_counts(engine) == counts
    assert _schema_of(engine, ("events", "stage_entries")) == schema


def test_refresh_rebuilds_the_rollups_written_at_import(engine: Engine, tmp_path: Path) -> None:
    """Rollups after `refresh` equal those the import wrote, even after they were emptied."""
    add_shop_map(engine)
    events, feedback = _shop_files(tmp_path)
    import_events(engine, path=events, mapping=EVENTS_MAPPING)
    import_feedback(engine, path=feedback, mapping=FEEDBACK_MAPPING)
    written = rollup_rows(engine)
    with engine.begin() as connection:
        for model in (EventRollup, FeedbackRollup, EntryRollup, StageEntry):
            connection.execute(delete(model))
    refresh(engine)
    assert rollup_rows(engine) == written
    assert all(written.values())


def test_preview_shows_stored_rows_and_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    """The preview's rows carry ids and slugs as stored; the database keeps no trace of it."""
    add_shop_map(engine)
    events, _ = _shop_files(tmp_path)
    shown = preview(engine, path=events, mapping=EVENTS_MAPPING, rows=3)
    assert shown.problems == []
    assert (shown.rows_read, shown.facts, shown.new) == (4, 4, 4)
    assert shown.rows.height == 3
    assert shown.rows["stage"].to_list() == ["awareness", "purchase", "consideration"]
    assert shown.rows["occurred_at"][0] == dt.datetime(2024, 3, 1, 9)
    assert shown.rows["stage_id"].null_count() == 0
    assert row_counts(engine)["events"] == 0
    # a timezone-qualified timestamp is stored in UTC without its zone
    import_events(engine, path=events, mapping=EVENTS_MAPPING)
    with engine.connect() as connection:
        latest = connection.execute(select(func.max(Event.occurred_at))).scalar_one()
    assert latest == dt.datetime(2024, 3, 3, 12)


def test_wide_survey_with_segments_and_not_applicable(engine: Engine, tmp_path: Path) -> None:
    """One answer per rating column, 0 dropped as not applicable, persona from the segment column."""
    add_shop_map(engine)
    survey = tmp_path / "survey.csv"
    survey.write_text(
        "respondent,answered_on,segment,checkout rating,till rating,delivery rating\n"
        "r1,2024-03-05,Bargain hunter,5,4,0\n"
        "r2,2024-03-05,Other,2,,4\n"
    )
    mapping = Path(__file__).parent / "data" / "bad" / "survey.yaml"
    text = mapping.read_text().replace("  - when: {segment: Big spender}\n    persona: big-spender\n", "")
    report = import_feedback(engine, path=survey, mapping=parse_mapping(text))
    assert (report.rows_read, report.facts, report.not_applicable, report.inserted) == (2, 4, 1, 4)
    with engine.connect() as connection:
        personas = connection.execute(
            select(Feedback.customer_id, Persona.slug).outerjoin(Persona, Persona.id == Feedback.persona_id)
        ).all()
    assert sorted(set(personas), key=repr) == sorted({("r1", "bargain-hunter"), ("r2", None)}, key=repr)
    by_touchpoint = feedback_values(engine, by="touchpoint")
    assert by_touchpoint[("checkout", "rating")] == (2, 3.5)
    assert by_touchpoint[("till", "rating")] == (1, 4.0)


# --- shipped examples ---------------------------------------------------------------------------


def test_the_orders_example_turns_each_stage_column_into_an_event(engine: Engine) -> None:
    """examples/data/orders.csv through its mapping: one event per filled timestamp, funnel per stage."""
    with session_scope(engine) as session:
        import_map(session, (EXAMPLES / "maps" / "orders.yaml").read_text(), source="orders.yaml")
    report = import_events(engine, path=EXAMPLES / "data" / "orders.csv", mapping=EXAMPLES / "mappings" / "orders.yaml")
    orders = pl.read_csv(EXAMPLES / "data" / "orders.csv")
    stage_columns = {"purchased_at": "purchase", "approved_at": "approval", "shipped_at": "shipping",
                     "delivered_at": "delivery"}  # fmt: skip
    filled = {stage: orders.filter(pl.col(c).is_not_null()) for c, stage in stage_columns.items()}
    assert report.rows_read == orders.height
    assert report.inserted == sum(frame.height for frame in filled.values())
    assert events_by_stage_channel(engine) == {(stage, "web"): frame.height for stage, frame in filled.items()}
    assert customers_by_stage(engine) == {stage: frame["customer_id"].n_unique() for stage, frame in filled.items()}
    with engine.connect() as connection:
        total = connection.execute(select(func.sum(EventRollup.value_sum))).scalar_one()
    assert total == pytest.approx(sum(frame["order_total"].sum() for frame in filled.values()))


@pytest.mark.skipif(not AIRLINE_CSV.is_file(), reason=f"the airline survey is not at {AIRLINE_CSV} (../shared/data)")
def test_the_airline_survey_imports_through_its_mapping(engine: Engine) -> None:
    """25,976 passengers; per-touchpoint answer counts and ratings, and CSAT, match polars on the CSV.

    The export has no NPS question, so NPS is covered by the random feedback test above.
    """
    with session_scope(engine) as session:
        import_map(session, (EXAMPLES / "maps" / "airline.yaml").read_text(), source="airline.yaml")
    report = import_feedback(
        engine, path=AIRLINE_CSV, mapping=EXAMPLES / "mappings" / "airline_passenger_satisfaction.yaml"
    )
    survey = pl.read_csv(AIRLINE_CSV)
    assert report.rows_read == survey.height == 25_976

    direct = survey.select(
        *(pl.col(c).filter(pl.col(c) != 0).len().alias(f"{c}|answers") for c in AIRLINE_QUESTIONS),
        *(pl.col(c).filter(pl.col(c) != 0).mean().alias(f"{c}|mean") for c in AIRLINE_QUESTIONS),
        (100.0 * (pl.col("satisfaction") == "satisfied").mean()).alias("csat"),
    ).row(0, named=True)
    found = feedback_values(engine, by="touchpoint")
    for column, touchpoint in AIRLINE_QUESTIONS.items():
        answers, rating = found[(touchpoint, "rating")]
        assert answers == direct[f"{column}|answers"], column
        assert rating == pytest.approx(direct[f"{column}|mean"]), column
    by_stage = feedback_values(engine)
    assert by_stage[("arrival", "csat")] == (survey.height, pytest.approx(direct["csat"]))
    zeros = survey.select(sum((pl.col(c) == 0).sum() for c in AIRLINE_QUESTIONS)).item()
    assert report.not_applicable == zeros
    assert report.inserted == survey.height * (len(AIRLINE_QUESTIONS) + 1) - zeros

    with engine.connect() as connection:
        personas = dict(
            connection.execute(
                select(Persona.slug, func.count())
                .select_from(Feedback)
                .join(Persona, Persona.id == Feedback.persona_id)
                .where(Feedback.measure == "csat")
                .group_by(Persona.slug)
            ).all()
        )
    business = pl.col("Type of Travel") == "Business travel"
    loyal = pl.col("Customer Type") == "Loyal Customer"
    expected = survey.select(
        (loyal & business & (pl.col("Class") == "Business")).sum().alias("frequent-business-flyer"),
        (business & ~(loyal & (pl.col("Class") == "Business"))).sum().alias("business-traveller"),
        (~business & loyal).sum().alias("loyal-leisure"),
        (~business & ~loyal).sum().alias("occasional-leisure"),
    ).row(0, named=True)
    assert personas == expected

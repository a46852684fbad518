"""Rollups from facts inside the database (SQLAlchemy Core `INSERT … SELECT … GROUP BY`).

The facts never leave the database: the same statements run on SQLite and on PostgreSQL, inside the
caller's transaction, so an import and its rollups land together or not at all.

Two ways in: `refresh_rollups` rebuilds whole journeys from the fact tables (after facts arrived by
other means, or to repair), and `add_to_rollups` folds in only new facts, touching only the days and
customers they concern, so an import into a big database costs what the import holds, not what the
database holds. Both give the same rollups; tests hold them to that. Both keep the view rollups
(`view_rollups`: the daily ones summed over persona, per day, week and 28-day block) in step.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext

from sqlalchemy import (
    Column,
    CompoundSelect,
    Connection,
    Index,
    Integer,
    MetaData,
    Select,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    text,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FromClause

from data_access.bulk import bulk_load
from data_access.cohort_rollup import (
    COHORT_KEYS,
    COHORT_SUMS,
    cohort_rows,
    pair_columns,
    pair_rows,
    read_pairs,
)
from data_access.metrics import SCALES
from data_access.models import (
    Base,
    CohortRollup,
    EntryRollup,
    Event,
    EventRollup,
    Feedback,
    FeedbackRollup,
    StageEntry,
)
from data_access.view_rollups import refresh_views, view_changes, view_keys, views_of

ROLLUP_TABLES = (EventRollup, FeedbackRollup, StageEntry, EntryRollup, CohortRollup)


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _band_count(facts: FromClause, *, good: bool, commented: bool = False) -> ColumnElement[int]:
    """1 when the answer falls in its measure's favourable (or unfavourable) band (and has a comment, with
    `commented`), else 0."""
    score = facts.c.score
    measure = facts.c.measure
    whens = [
        (and_(measure == m.value, score >= s.good_from if good else score <= s.bad_to), 1) for m, s in SCALES.items()
    ]
    if commented:
        return case((_has_comment(facts), case(*whens, else_=0)), else_=0)
    return case(*whens, else_=0)


def _has_comment(facts: FromClause) -> ColumnElement[bool]:
    """The answer has a comment: as `journey_map.comments` shows them (not null, not empty)."""
    return and_(facts.c.comment.is_not(None), facts.c.comment != "")


EVENT_KEYS = ["day", "journey_id", "stage_id", "channel_id", "step_id", "persona_id"]
EVENT_SUMS = ["events", "value_sum"]
FEEDBACK_KEYS = ["day", "journey_id", "stage_id", "channel_id", "touchpoint_id", "step_id", "persona_id", "measure"]
FEEDBACK_SUMS = ["answers", "score_sum", "good", "bad", "comments", "comments_good", "comments_bad"]
ENTRY_COLUMNS = ["journey_id", "customer_id", "stage_id", "step_id", "persona_id", "entered_at"]
ENTRY_KEYS = ["day", "journey_id", "stage_id", "step_id", "persona_id"]
ENTRY_SUMS = ["customers"]


def _event_rollup_rows(events: FromClause, where: ColumnElement[bool]) -> Select[tuple[object, ...]]:
    """Events per day and key, in EVENT_KEYS + EVENT_SUMS order."""
    day = func.date(events.c.occurred_at)
    keys = [day, *(events.c[k] for k in EVENT_KEYS[1:])]
    return select(*keys, func.count(), func.coalesce(func.sum(events.c.value), 0.0)).where(where).group_by(*keys)


def _feedback_rollup_rows(feedback: FromClause, where: ColumnElement[bool]) -> Select[tuple[object, ...]]:
    """Answers per day and key, in FEEDBACK_KEYS + FEEDBACK_SUMS order."""
    day = func.date(feedback.c.occurred_at)
    keys = [day, *(feedback.c[k] for k in FEEDBACK_KEYS[1:])]
    return (
        select(
            *keys,
            func.count(),
            func.sum(feedback.c.score),
            func.sum(_band_count(feedback, good=True)),
            func.sum(_band_count(feedback, good=False)),
            func.sum(case((_has_comment(feedback), 1), else_=0)),
            func.sum(_band_count(feedback, good=True, commented=True)),
            func.sum(_band_count(feedback, good=False, commented=True)),
        )
        .where(where)
        .group_by(*keys)
    )


def _first_entries(events: FromClause, where: ColumnElement[bool], *, by_step: bool) -> Select[tuple[object, ...]]:
    """First entry of each customer into each stage (step_id NULL) or each step, in ENTRY_COLUMNS order."""
    group = [events.c.journey_id, events.c.customer_id, events.c.stage_id]
    if by_step:
        group.append(events.c.step_id)
        where = and_(where, events.c.step_id.is_not(None))
    return (
        select(
            *group[:3],
            events.c.step_id if by_step else null(),
            func.min(events.c.persona_id),
            func.min(events.c.occurred_at),
        )
        .where(where)
        .group_by(*group)
    )


def _entry_rollup_rows(
    entries: FromClause, where: ColumnElement[bool], *, weight: int = 1
) -> Select[tuple[object, ...]]:
    """Entries per day and key, in ENTRY_KEYS + ENTRY_SUMS order, each counting `weight`."""
    day = func.date(entries.c.entered_at)
    keys = [day, *(entries.c[k] for k in ENTRY_KEYS[1:])]
    return select(*keys, func.count() * literal(weight, Integer)).where(where).group_by(*keys)


def refresh_rollups(connection: Connection, *, journey_ids: list[int] | None = None) -> None:
    """Rebuild every rollup of the given journeys (all journeys when None) from events and feedback."""
    events = _table(Event)
    feedback = _table(Feedback)
    entries = _table(StageEntry)

    def scope(column: ColumnElement[int]) -> ColumnElement[bool]:
        return column.in_(journey_ids) if journey_ids is not None else true()

    for model in ROLLUP_TABLES:
        table = _table(model)
        connection.execute(delete(table).where(scope(table.c.journey_id)))
    connection.execute(
        insert(_table(EventRollup)).from_select(
            EVENT_KEYS + EVENT_SUMS, _event_rollup_rows(events, scope(events.c.journey_id))
        )
    )
    connection.execute(
        insert(_table(FeedbackRollup)).from_select(
            FEEDBACK_KEYS + FEEDBACK_SUMS, _feedback_rollup_rows(feedback, scope(feedback.c.journey_id))
        )
    )
    # a rebuild writes every entry of the journeys again: cheaper with the indexes built once at the end
    with bulk_load(connection, [entries.name]):
        for by_step in (False, True):
            connection.execute(
                insert(entries).from_select(
                    ENTRY_COLUMNS, _first_entries(events, scope(events.c.journey_id), by_step=by_step)
                )
            )
    connection.execute(
        insert(_table(EntryRollup)).from_select(
            ENTRY_KEYS + ENTRY_SUMS, _entry_rollup_rows(entries, scope(entries.c.journey_id))
        )
    )
    _insert_cohorts(connection, journey_ids)
    refresh_views(connection, journey_ids=journey_ids)


def rebuild_feedback_rollup(connection: Connection, *, journey_ids: Sequence[int] | None = None) -> None:
    """Rebuild the daily feedback rollup of these journeys (all when None) from the answers, without its view
    rollup (for a migration that adds a sum; `view_rollups.refresh_views` follows)."""
    feedback, rollup = _table(Feedback), _table(FeedbackRollup)
    connection.execute(
        delete(rollup).where(rollup.c.journey_id.in_(journey_ids) if journey_ids is not None else true())
    )
    scope = feedback.c.journey_id.in_(journey_ids) if journey_ids is not None else true()
    connection.execute(
        insert(rollup).from_select(FEEDBACK_KEYS + FEEDBACK_SUMS, _feedback_rollup_rows(feedback, scope))
    )


def rebuild_cohorts(
    connection: Connection, *, journey_ids: Sequence[int] | None = None, with_views: bool = True
) -> None:
    """Rebuild the cohort rollup of these journeys (all when None) from the stored first entries, and its view
    rollup unless `with_views` is false (a schema from before migration 0011 has none).

    For when the map changes which pairs exist or the conversion window; imports keep it current.
    """
    cohorts = _table(CohortRollup)
    connection.execute(
        delete(cohorts).where(cohorts.c.journey_id.in_(journey_ids) if journey_ids is not None else true())
    )
    _insert_cohorts(connection, journey_ids)
    if with_views:
        refresh_views(connection, journey_ids=journey_ids, of=[CohortRollup])


def _insert_cohorts(connection: Connection, journey_ids: Sequence[int] | None) -> None:
    entries = _table(StageEntry)
    with _pairs(connection, journey_ids) as found:
        if found is None:
            return
        pairs, alternatives = found
        # the table itself, not a subquery, so both sides of the join use its indexes; the pairs hold only
        # the journeys in scope, so they scope the rows
        rows = cohort_rows(entries, pairs, dialect=connection.dialect.name, alternatives=alternatives)
        connection.execute(insert(_table(CohortRollup)).from_select(COHORT_KEYS + COHORT_SUMS, union_all(*rows)))


@contextmanager
def _pairs(connection: Connection, journey_ids: Sequence[int] | None) -> Iterator[tuple[Table, bool] | None]:
    """A scratch table of the cohort pairs the map defines for these journeys, and whether any leads to an
    alternative; None when there are no pairs."""
    pairs = read_pairs(connection, journey_ids=journey_ids)
    if not pairs:
        yield None
        return
    table = Table(f"atlas_scratch_{uuid.uuid4().hex[:12]}", MetaData(), *pair_columns(), prefixes=["TEMPORARY"])
    table.create(connection)
    connection.execute(insert(table), pair_rows(connection, pairs))
    yield table, any(pair.alternative_group is not None for pair in pairs)
    table.drop(connection)


def _add_cohorts_of(
    connection: Connection, weighted: Sequence[tuple[FromClause, int]], *, journey_ids: Sequence[int]
) -> None:
    """Add the cohort rows of each (entries, weight): entries hold all of a customer's first entries or none."""
    with _pairs(connection, journey_ids) as found:
        if found is not None:
            pairs, alternatives = found
            dialect = connection.dialect.name
            rows = [
                row
                for entries, w in weighted
                for row in cohort_rows(entries, pairs, dialect=dialect, weight=w, alternatives=alternatives)
            ]
            _merge_additive(connection, _table(CohortRollup), COHORT_KEYS, COHORT_SUMS, union_all(*rows))


def add_to_rollups(
    connection: Connection,
    *,
    events: FromClause | None = None,
    feedback: FromClause | None = None,
    bulk: bool = False,
) -> None:
    """Fold facts that no rollup counts yet into the rollups: `events` and `feedback` hold those facts only.

    Call it once per batch of new facts, before or after they are written to the fact tables; facts
    already counted would be counted twice. Only the (journey, day) rows and the customers' first
    entries the new facts concern are read and rewritten. `bulk` rebuilds the first-entry indexes once
    at the end instead of row by row (see `bulk_load`): for batches large next to the table.
    """
    if events is not None:
        add_event_tallies(
            connection,
            days=_event_rollup_rows(events, true()),
            first_entries=union_all(*(_first_entries(events, true(), by_step=s) for s in (False, True))),
            bulk=bulk,
        )
    if feedback is not None:
        _merge_additive(
            connection, _table(FeedbackRollup), FEEDBACK_KEYS, FEEDBACK_SUMS, _feedback_rollup_rows(feedback, true())
        )


def add_event_tallies(
    connection: Connection,
    *,
    days: Select[tuple[object, ...]] | CompoundSelect[tuple[object, ...]],
    first_entries: Select[tuple[object, ...]] | CompoundSelect[tuple[object, ...]],
    entry_days: Select[tuple[object, ...]] | None = None,
    journey_ids: Sequence[int] | None = None,
    bulk: bool = False,
) -> None:
    """Fold in new events already tallied elsewhere (the importer tallies them in polars as it reads).

    `days` gives daily rollup rows in EVENT_KEYS + EVENT_SUMS order; `first_entries` gives the new
    events' first entries in ENTRY_COLUMNS order, at most one row per journey, customer, stage and step.
    When the events' `journey_ids` have no first entries stored yet (a first import), there is nothing
    to merge with: the entries go in as they are, counted by `entry_days` (ENTRY_KEYS + ENTRY_SUMS
    order) when given.
    """
    if journey_ids is not None and not journeys_have_entries(connection, journey_ids):
        if entry_days is None:
            entry_days = _entry_rollup_rows(first_entries.subquery(), true())
        _insert_entries(connection, first_entries, bulk=bulk)
        add_first_import_tallies(connection, days=days, entry_days=entry_days, journey_ids=journey_ids)
        return
    _merge_additive(connection, _table(EventRollup), EVENT_KEYS, EVENT_SUMS, days)
    _merge_first_entries(connection, first_entries, bulk=bulk)


def journeys_have_entries(connection: Connection, journey_ids: Sequence[int]) -> bool:
    """Whether any customer's first entry is stored for these journeys (not so before their first import)."""
    entries = _table(StageEntry)
    return bool(connection.execute(select(exists().where(entries.c.journey_id.in_(journey_ids)))).scalar())


def add_first_import_tallies(
    connection: Connection,
    *,
    days: Select[tuple[object, ...]] | CompoundSelect[tuple[object, ...]],
    entry_days: Select[tuple[object, ...]] | CompoundSelect[tuple[object, ...]],
    journey_ids: Sequence[int],
) -> None:
    """Fold in the tallies of new events whose journeys had no first entries, once the caller has written
    the new first entries into `stage_entries` itself: only the daily rollups change.

    `days` and `entry_days` are as for `add_event_tallies`; `entry_days` counts exactly the entries written.
    The cohorts come from the `journey_ids`' entries now stored, which are exactly the new ones.
    """
    _merge_additive(connection, _table(EventRollup), EVENT_KEYS, EVENT_SUMS, days)
    _merge_additive(connection, _table(EntryRollup), ENTRY_KEYS, ENTRY_SUMS, entry_days)
    # the table itself, so the join uses its indexes; the pairs of `journey_ids` scope the rows
    _add_cohorts_of(connection, [(_table(StageEntry), 1)], journey_ids=journey_ids)


@contextmanager
def _scratch(connection: Connection, like: Table, columns: Sequence[str]) -> Iterator[Table]:
    """A temporary table with `like`'s columns of those names, dropped after use.

    On an error it is left to the transaction's rollback, which removes it on both databases.
    """
    table = Table(
        f"atlas_scratch_{uuid.uuid4().hex[:12]}",
        MetaData(),
        *(Column(name, like.c[name].type) for name in columns),
        prefixes=["TEMPORARY"],
    )
    table.create(connection)
    yield table
    table.drop(connection)


def _merge_additive(
    connection: Connection,
    rollup: Table,
    keys: list[str],
    sums: list[str],
    changes: Select[tuple[object, ...]] | CompoundSelect[tuple[object, ...]],
) -> None:
    """Add `changes` (rows of keys and sums, in that order; sums may be negative) into `rollup`.

    The rollup rows of every (journey, day) that `changes` touches are summed with the changes by key
    and written back; a key whose first sum comes to zero disappears. The view rollups of `rollup`, if it has
    any, take the same changes summed over persona (`view_rollups.view_changes`), merged the same way.
    """
    columns = keys + sums
    with _scratch(connection, rollup, columns) as change:
        connection.execute(insert(change).from_select(columns, changes))
        touched = tuple_(rollup.c.journey_id, rollup.c.day).in_(select(change.c.journey_id, change.c.day).distinct())
        both = union_all(
            select(*(change.c[c] for c in columns)), select(*(rollup.c[c] for c in columns)).where(touched)
        ).subquery()
        with _scratch(connection, rollup, columns) as merged:
            connection.execute(
                insert(merged).from_select(
                    columns,
                    select(*(both.c[k] for k in keys), *(func.sum(both.c[s]) for s in sums))
                    .group_by(*(both.c[k] for k in keys))
                    .having(func.sum(both.c[sums[0]]) != 0),
                )
            )
            connection.execute(delete(rollup).where(touched))
            connection.execute(insert(rollup).from_select(columns, select(*(merged.c[c] for c in columns))))
        for view in views_of(rollup):
            changed = view_changes(view, change, connection.dialect.name)
            _merge_additive(connection, view.table(daily=False), view_keys(view), list(view.sums), changed)


def _merge_first_entries(
    connection: Connection,
    first_entries: Select[tuple[object, ...]] | CompoundSelect[tuple[object, ...]],
    *,
    bulk: bool,
) -> None:
    """The customers' stored first entries merged with `first_entries` of new events: the earlier of the two.

    Every stored entry of those customers is replaced by the merged one, and the entry rollup moves by
    -1 for each replaced entry and +1 for each merged one, so its counts stay exact.
    """
    entries = _table(StageEntry)
    with _scratch(connection, entries, ENTRY_COLUMNS) as arriving:
        connection.execute(insert(arriving).from_select(ENTRY_COLUMNS, first_entries))
        customers = select(arriving.c.journey_id, arriving.c.customer_id).distinct()
        with _scratch(connection, entries, ["id", *ENTRY_COLUMNS]) as stored:
            connection.execute(
                insert(stored).from_select(
                    ["id", *ENTRY_COLUMNS],
                    select(entries.c.id, *(entries.c[c] for c in ENTRY_COLUMNS)).where(
                        tuple_(entries.c.journey_id, entries.c.customer_id).in_(customers)
                    ),
                )
            )
            if connection.execute(select(exists().select_from(stored))).scalar():
                with _scratch(connection, entries, ENTRY_COLUMNS) as merged:
                    both = union_all(
                        select(*(arriving.c[c] for c in ENTRY_COLUMNS)), select(*(stored.c[c] for c in ENTRY_COLUMNS))
                    ).subquery()
                    group = [both.c[c] for c in ("journey_id", "customer_id", "stage_id", "step_id")]
                    connection.execute(
                        insert(merged).from_select(
                            ENTRY_COLUMNS,
                            select(*group, func.min(both.c.persona_id), func.min(both.c.entered_at)).group_by(*group),
                        )
                    )
                    _replace_entries(connection, stored, merged, bulk=bulk)
            else:
                _replace_entries(connection, stored, arriving, bulk=bulk)


def _replace_entries(connection: Connection, stored: Table, merged: Table, *, bulk: bool) -> None:
    entries = _table(StageEntry)
    for scratch in (stored, merged):
        _index_by_customer(connection, scratch)
    changes = union_all(
        _entry_rollup_rows(stored, true(), weight=-1), _entry_rollup_rows(merged, true(), weight=1)
    ).subquery()
    _merge_additive(connection, _table(EntryRollup), ENTRY_KEYS, ENTRY_SUMS, select(*changes.c))
    # a customer's cohort rows follow from their first entries alone: take back the old, add the new
    journey_ids = list(connection.execute(select(merged.c.journey_id).distinct()).scalars())
    _add_cohorts_of(connection, [(stored, -1), (merged, 1)], journey_ids=journey_ids)
    connection.execute(delete(entries).where(entries.c.id.in_(select(stored.c.id))))
    _insert_entries(connection, select(*(merged.c[c] for c in ENTRY_COLUMNS)), bulk=bulk)


def _index_by_customer(connection: Connection, scratch: Table) -> None:
    """Index a scratch table of first entries as `stage_entries` is by customer, and give the planner its size.

    The cohort rows of the touched customers join the table to itself by customer, and look for an earlier
    alternative with a correlated NOT EXISTS: without an index SQLite scans the whole table for each
    alternative entry (it builds no automatic index for a correlated subquery), and PostgreSQL, with no
    statistics on a temporary table (autovacuum never sees one), guesses one row and nests loops over it.
    Either way the cost grew with the square of the customers an import touches (100k events into a
    200k-event demo: 75 s of a 89 s import on SQLite). The table is the import's own: no reader waits on
    this DDL.
    """
    Index(f"ix_{scratch.name}", *(scratch.c[c] for c in ("journey_id", "customer_id", "stage_id", "step_id"))).create(
        connection
    )
    connection.execute(text(f"ANALYZE {scratch.name}"))


def _insert_entries(
    connection: Connection, rows: Select[tuple[object, ...]] | CompoundSelect[tuple[object, ...]], *, bulk: bool
) -> None:
    """Write first entries (ENTRY_COLUMNS order); `bulk` rebuilds the table's indexes once, after."""
    entries = _table(StageEntry)
    with bulk_load(connection, [entries.name]) if bulk else nullcontext():
        connection.execute(insert(entries).from_select(ENTRY_COLUMNS, rows))

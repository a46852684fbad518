"""View rollups: the daily rollups summed over persona, per day, per 7-day week and per 28-day block.

The daily rollups are keyed by persona (and the feedback one by step and touchpoint, the cohort one by
duration bin), so at a large company their rows in a period grow almost with the data, and a view that reads
every row of its period pays for it. A view of all customers reads a view rollup instead: the same sums
without the persona, each held three times, per day (`span` 1), per week (7) and per block of four weeks
(28), weeks and blocks aligned on Monday 1970-01-05. A period is read as its whole blocks, the whole weeks
left at either end and the single days left at either end (`period_pieces`): a 90-day period reads about a
dozen rows per key instead of 90, and once the keys are filled the rows read stop growing with customers and
events. The pieces cover the period exactly once, so every sum equals the daily rollup's.

View rollups follow the daily rollups in the same transaction wherever those change: `refresh_views`
rebuilds whole journeys from them; an import's changes to a daily rollup are added to its views as they are
to it (`view_changes`). The conversions view also drops the cohorts' duration bin, for conversions per day.
A view of one persona reads the daily rollup (`rollup_for`), whose persona key keeps its rows few.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Integer,
    Subquery,
    Table,
    and_,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import CompoundSelect, FromClause, Select

from data_access.models import (
    Base,
    CohortRollup,
    CohortView,
    ConversionView,
    EntryRollup,
    EntryView,
    EventRollup,
    EventView,
    FeedbackRollup,
    FeedbackView,
    ViewRollup,
)
from data_access.scope import Period

SPANS = (1, 7, 28)  # each a whole number of the one before
WEEK_SPANS = SPANS[:2]  # days and the calendar weeks (Monday first) that hold them
EPOCH = dt.date(1970, 1, 5)  # a Monday: weeks and blocks start on days a whole number of spans from it
EPOCH_JULIAN_DAY = EPOCH.toordinal() + 1_721_424  # its julian day, less the half day


@dataclass(frozen=True)
class ViewOf:
    """A view rollup and the daily rollup it sums over persona: `keys` and `sums` are columns of both."""

    daily: type[Base]
    view: type[ViewRollup]
    keys: tuple[str, ...]
    sums: tuple[str, ...]

    def table(self, *, daily: bool) -> Table:
        model: Any = self.daily if daily else self.view
        table = model.__table__
        assert isinstance(table, Table)
        return table


VIEWS = (
    ViewOf(EventRollup, EventView, ("stage_id", "channel_id", "step_id"), ("events", "value_sum")),
    ViewOf(
        FeedbackRollup,
        FeedbackView,
        ("stage_id", "channel_id", "touchpoint_id", "step_id", "measure"),
        ("answers", "score_sum", "good", "bad", "comments", "comments_good", "comments_bad"),
    ),
    ViewOf(EntryRollup, EntryView, ("stage_id", "step_id"), ("customers",)),
    ViewOf(
        CohortRollup,
        CohortView,
        ("stage_id", "step_id", "next_stage_id", "next_step_id", "duration_bin"),
        ("customers",),
    ),
    ViewOf(CohortRollup, ConversionView, ("stage_id", "step_id", "next_stage_id", "next_step_id"), ("customers",)),
)


# --- reading ------------------------------------------------------------------------------------


def rollup_for(daily: type[Any], persona_id: int | None, columns: Sequence[str] = ()) -> type[Any]:
    """What a view of `persona_id` reads for this daily rollup: for every customer, the view rollup of it with
    the fewest keys that has every one of `columns` (a key or a sum); for one persona, the daily rollup itself
    (filtered by `of_persona`)."""
    if persona_id is not None:
        return daily
    fitting = [v for v in VIEWS if v.daily is daily and set(columns) <= {"day", *v.keys, *v.sums}]
    return min(fitting, key=lambda view: len(view.keys)).view


def of_persona(rollup: type[Any], persona_id: int | None) -> ColumnElement[bool]:
    """The rollup's rows of the persona; every row of a view rollup (which has none) or for every customer."""
    if persona_id is None or issubclass(rollup, ViewRollup):
        return true()
    column: ColumnElement[int | None] = rollup.persona_id
    return column == persona_id


def period_ranges(
    rollup: type[Any], period: Period, *, by_day: bool = False, by_week: bool = False
) -> list[ColumnElement[bool]]:
    """The rollup's rows that together cover the days of `period` once, as conditions that each select one
    range of an index (journey, span, day): a daily rollup's days, or a view rollup's pieces
    (`period_pieces`); with `by_day`, a view rollup's single days (for sums per day); with `by_week`, its
    whole weeks and single days (for sums per calendar week: no row spans two weeks)."""
    day: Any = rollup.day
    if not issubclass(rollup, ViewRollup):
        return [and_(day >= period.start, day <= period.end)]
    span: Any = rollup.span
    if by_day:
        return [and_(span == 1, day >= period.start, day <= period.end)]
    spans = WEEK_SPANS if by_week else SPANS
    return [
        and_(span == size, day >= first, day <= last)
        for size, first, last in period_pieces(period.start, period.end, spans=spans)
    ]


def period_rows(
    rollup: type[Any],
    periods: Sequence[Period],
    columns: Sequence[str],
    *where: ColumnElement[bool],
    by_day: bool = False,
    by_week: bool = False,
) -> Subquery:
    """The rollup's `columns` on the rows covering each of `periods` once, with the period's index in
    `period_index` (a row in two periods comes twice), filtered by `where`. One index range per piece, joined
    by UNION ALL: SQLite reads a condition OR-ing the pieces as a scan of the journey's rows. `by_day`,
    `by_week`: as `period_ranges`."""
    branches = [
        select(*(getattr(rollup, column) for column in columns), literal(index, Integer).label("period_index")).where(
            *where, piece
        )
        for index, period in enumerate(periods)
        for piece in period_ranges(rollup, period, by_day=by_day, by_week=by_week)
    ]
    return union_all(*branches).subquery("period_rows")


def _aligned(day: dt.date, span: int) -> bool:
    return (day - EPOCH).days % span == 0


def period_pieces(start: dt.date, end: dt.date, *, spans: Sequence[int] = SPANS) -> list[tuple[int, dt.date, dt.date]]:
    """Rows that cover `start`..`end` exactly once, as (span, first row's day, last row's day) runs of rows of
    one span: from `start`, each step takes the longest of `spans` that starts there (aligned) and ends by
    `end`."""
    pieces: list[tuple[int, dt.date]] = []
    day = start
    while day <= end:
        span = max(s for s in spans if _aligned(day, s) and day + dt.timedelta(days=s - 1) <= end)
        pieces.append((span, day))
        day += dt.timedelta(days=span)
    return [
        (span, run[0][1], run[-1][1])
        for span, run in ((span, list(run)) for span, run in groupby(pieces, key=lambda piece: piece[0]))
    ]


# --- building -----------------------------------------------------------------------------------


def span_start(day: ColumnElement[Any], span: int, dialect: str) -> ColumnElement[Any]:
    """The first day of the `span`-day row holding `day` (aligned on EPOCH), in the database."""
    if dialect == "sqlite":
        # SQLite's julian day of a date is N + 0.5, N a whole number of days
        since = cast(func.julianday(day), Integer) - EPOCH_JULIAN_DAY
        return func.date(day, func.printf("-%d days", (since % span + span) % span))
    since = day - literal(EPOCH, Date)
    return day - (since % span + span) % span


def _day_rows(view: ViewOf, where: ColumnElement[bool]) -> Select[Any]:
    """The view's single days from the daily rollup's rows matching `where`."""
    daily = view.table(daily=True)
    keys = [daily.c[k] for k in view.keys]
    return (
        select(daily.c.day, literal(1, Integer), daily.c.journey_id, *keys, *(func.sum(daily.c[s]) for s in view.sums))
        .where(where)
        .group_by(daily.c.day, daily.c.journey_id, *keys)
    )


def _span_rows(view: ViewOf, span: int, where: ColumnElement[bool], dialect: str) -> Select[Any]:
    """The view's `span`-day rows from its single days matching `where`."""
    table = view.table(daily=False)
    start = span_start(table.c.day, span, dialect)
    keys = [table.c[k] for k in view.keys]
    return (
        select(start, literal(span, Integer), table.c.journey_id, *keys, *(func.sum(table.c[s]) for s in view.sums))
        .where(table.c.span == 1, where)
        .group_by(start, table.c.journey_id, *keys)
    )


def _columns(view: ViewOf) -> list[str]:
    return ["day", "span", "journey_id", *view.keys, *view.sums]


def refresh_views(
    connection: Connection, *, journey_ids: Sequence[int] | None = None, of: Iterable[type[Base]] | None = None
) -> None:
    """Rebuild the view rollups of these journeys (all when None) from their daily rollups (`of` those only)."""
    dialect = connection.dialect.name
    chosen = VIEWS if of is None else [view for view in VIEWS if view.daily in set(of)]
    for view in chosen:
        daily, table = view.table(daily=True), view.table(daily=False)
        connection.execute(
            delete(table).where(table.c.journey_id.in_(journey_ids) if journey_ids is not None else true())
        )
        scope = daily.c.journey_id.in_(journey_ids) if journey_ids is not None else true()
        connection.execute(insert(table).from_select(_columns(view), _day_rows(view, scope)))
        for span in SPANS[1:]:
            in_scope = table.c.journey_id.in_(journey_ids) if journey_ids is not None else true()
            connection.execute(insert(table).from_select(_columns(view), _span_rows(view, span, in_scope, dialect)))


def views_of(daily: Table) -> list[ViewOf]:
    """The view rollups summing this daily rollup (none for a table that has none)."""
    return [view for view in VIEWS if view.table(daily=True).name == daily.name]


def view_keys(view: ViewOf) -> list[str]:
    """A view rollup's key columns, in the order of `view_changes`' rows (its sums follow)."""
    return ["day", "span", "journey_id", *view.keys]


def view_changes(view: ViewOf, changes: FromClause, dialect: str) -> CompoundSelect[Any]:
    """What rows of daily-rollup changes (`changes`: the daily rollup's columns, sums that may be negative)
    add to the view rollup: summed over persona into each day, week and block they fall in, in `view_keys`
    then `view.sums` order, so the view rollup takes them as additively as the daily rollup does."""
    keys = [changes.c[k] for k in view.keys]
    parts = []
    for span in SPANS:
        start = changes.c.day if span == 1 else span_start(changes.c.day, span, dialect)
        parts.append(
            select(
                start, literal(span, Integer), changes.c.journey_id, *keys, *(func.sum(changes.c[s]) for s in view.sums)
            ).group_by(start, changes.c.journey_id, *keys)
        )
    return union_all(*parts)

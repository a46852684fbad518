"""Reviews: labelled versions of a journey, and what changed on its map since one.

A review stores the date of a review meeting and a snapshot of the map as it stood. The snapshot is the
**whole map file** (`mapfile.export_map`), not the journey's part alone: the whole file is always a valid
map (its channels, personas and `improves` references resolve), so a snapshot can be re-imported as it
stands to restore or compare in a text diff; `map_changes` reads only the journey's part of it.

`map_changes` is pure: it compares two `MapFile`s for one journey, matching pain points and opportunities
by stage slug + step slug + lane + text (+ persona), so editing a card's text reads as one removed and
one added.
"""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from data_access.data_version import bump_data_version
from data_access.journey_map.content import CLOSED_OPPORTUNITY_STATUSES, DONE_STATUS
from data_access.mapfile import MapFile, export_map, parse_map, read_map
from data_access.mapfile.schema import JourneySpec, LaneItemSpec
from data_access.models import Journey, Lane, Review
from data_access.scope import as_date
from data_access.writers import DIRECT_WRITER, checked_writer, now_utc


class ReviewError(ValueError):
    """A review that cannot be created or found (unknown journey, empty label, unknown review)."""


# a review's day: from this day to a year ahead (so the period ending on it can always be worked out)
FIRST_REVIEW_DAY = dt.date(1990, 1, 1)
DAYS_AHEAD = 366


def check_review_day(reviewed_on: dt.date, *, today: dt.date | None = None) -> None:
    """Refuse a review day before FIRST_REVIEW_DAY or more than a year from today (`ReviewError`)."""
    last = (today or dt.date.today()) + dt.timedelta(days=DAYS_AHEAD)
    if not FIRST_REVIEW_DAY <= reviewed_on <= last:
        raise ReviewError(
            f"A review's date must be between {FIRST_REVIEW_DAY.isoformat()} and {last.isoformat()}, "
            f"not {reviewed_on.isoformat()}."
        )


def review_slug(label: str) -> str:
    """A URL-safe slug from a label: 'Q3 review (Sept)' → 'q3-review-sept'."""
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:70].strip("-")
    return slug or "review"


def _journey(session: Session, journey_slug: str) -> Journey:
    journey = session.scalars(select(Journey).where(Journey.slug == journey_slug)).one_or_none()
    if journey is None:
        raise ReviewError(f"Unknown journey '{journey_slug}'.")
    return journey


def create_review(
    session: Session, *, journey_slug: str, label: str, reviewed_on: dt.date, written_by: str = DIRECT_WRITER
) -> Review:
    """Label the journey's current map as a review held on `reviewed_on`, by `written_by`; the slug comes from
    the label.

    A label whose slug is taken for the journey gets a numbered slug ('q3-review-2'). The caller commits.
    """
    label = label.strip()
    if not label:
        raise ReviewError("A review needs a label.")
    check_review_day(reviewed_on)
    journey = _journey(session, journey_slug)
    taken = set(session.scalars(select(Review.slug).where(Review.journey_id == journey.id)))
    base = review_slug(label)
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    review = Review(
        journey_id=journey.id,
        slug=slug,
        label=label[:200],
        reviewed_on=reviewed_on,
        map_snapshot=export_map(session),
        created_at=now_utc(),
        written_by=checked_writer(written_by),
    )
    session.add(review)
    session.flush()
    bump_data_version(session)
    return review


REVIEW_LIST_SCHEMA: dict[str, pl.DataType | type] = {
    "slug": pl.String,
    "label": pl.String,
    "reviewed_on": pl.Date,
    "created_at": pl.Datetime("us"),
    "written_by": pl.String,
}


def list_reviews(connection: Connection, *, journey_slug: str) -> pl.DataFrame:
    """The journey's reviews, latest first: slug, label, reviewed_on, created_at, written_by (empty for an
    unknown journey)."""
    rows = connection.execute(
        select(Review.slug, Review.label, Review.reviewed_on, Review.created_at, Review.written_by)
        .join(Journey, Journey.id == Review.journey_id)
        .where(Journey.slug == journey_slug)
        .order_by(Review.reviewed_on.desc(), Review.created_at.desc(), Review.id.desc())
    ).all()
    return pl.DataFrame(
        [(slug, label, as_date(day), created, writer) for slug, label, day, created, writer in rows],
        schema=REVIEW_LIST_SCHEMA,
        orient="row",
    )


def review_snapshot(session: Session, *, journey_slug: str, review_slug: str) -> tuple[Review, MapFile]:
    """A review and its map snapshot, parsed."""
    journey = _journey(session, journey_slug)
    review = session.scalars(
        select(Review).where(Review.journey_id == journey.id, Review.slug == review_slug)
    ).one_or_none()
    if review is None:
        raise ReviewError(f"Journey '{journey_slug}' has no review '{review_slug}'.")
    return review, parse_map(review.map_snapshot, source=f"review {review_slug}")


# --- what changed on the map --------------------------------------------------------------------

MAP_CHANGE_SCHEMA: dict[str, pl.DataType | type] = {
    "change": pl.String,
    "stage_slug": pl.String,
    "stage": pl.String,
    "step_slug": pl.String,
    "step": pl.String,
    "lane": pl.String,
    "text": pl.String,
    "persona": pl.String,
    "severity": pl.Int64,
    "status_then": pl.String,
    "status_now": pl.String,
}
NEW_PAIN_POINT = "new pain point"
RESOLVED_PAIN_POINT = "resolved pain point"
NEW_OPPORTUNITY = "new opportunity"
RESOLVED_OPPORTUNITY = "resolved opportunity"
REMOVED_OPPORTUNITY = "removed opportunity"
STATUS_CHANGED = "opportunity status changed"
CHANGE_ORDER = (
    NEW_PAIN_POINT,
    RESOLVED_PAIN_POINT,
    NEW_OPPORTUNITY,
    RESOLVED_OPPORTUNITY,
    STATUS_CHANGED,
    REMOVED_OPPORTUNITY,
)

_CardKey = tuple[str, str, str, str, str | None]


def _cards(journey: JourneySpec | None) -> dict[_CardKey, tuple[str, str, LaneItemSpec]]:
    """Pain points and opportunities keyed by stage, step, lane, text and persona, with stage and step names."""
    cards: dict[_CardKey, tuple[str, str, LaneItemSpec]] = {}
    for stage in journey.stages if journey else []:
        for step in stage.steps:
            for lane in (Lane.PAIN_POINT, Lane.OPPORTUNITY):
                for item in getattr(step.lanes, lane.value):
                    cards[(stage.slug, step.slug, lane.value, item.text, item.persona)] = (stage.name, step.name, item)
    return cards


def _journey_spec(map_file: MapFile, journey_slug: str) -> JourneySpec | None:
    return next((j for j in map_file.journeys if j.slug == journey_slug), None)


def map_changes(before: MapFile, after: MapFile, *, journey_slug: str) -> pl.DataFrame:
    """Pain points and opportunities of one journey added, resolved or moved on between two maps.

    A pain point gone from the map is resolved. An opportunity that appears is new; one whose status
    became done is resolved; one whose status changed otherwise is listed with both statuses; one gone
    from the map is removed. Rows follow `CHANGE_ORDER`, then the map's order.
    """
    then, now = _cards(_journey_spec(before, journey_slug)), _cards(_journey_spec(after, journey_slug))
    rows: list[tuple[str, _CardKey, tuple[str, str, LaneItemSpec], str | None, str | None]] = []
    for key, card in now.items():
        status_now = card[2].status
        if key not in then:
            rows.append((NEW_PAIN_POINT if key[2] == Lane.PAIN_POINT else NEW_OPPORTUNITY, key, card, None, status_now))
            continue
        status_then = then[key][2].status
        if key[2] == Lane.OPPORTUNITY and status_then != status_now:
            closed_now = status_now == DONE_STATUS and status_then not in CLOSED_OPPORTUNITY_STATUSES
            rows.append((RESOLVED_OPPORTUNITY if closed_now else STATUS_CHANGED, key, card, status_then, status_now))
    for key, card in then.items():
        if key not in now:
            gone = RESOLVED_PAIN_POINT if key[2] == Lane.PAIN_POINT else REMOVED_OPPORTUNITY
            rows.append((gone, key, card, card[2].status, None))
    rows.sort(key=lambda row: CHANGE_ORDER.index(row[0]))  # stable: keeps the map's order within a kind
    return pl.DataFrame(
        [
            (change, key[0], stage, key[1], step, key[2], key[3], key[4], item.severity, status_then, status_now)
            for change, key, (stage, step, item), status_then, status_now in rows
        ],
        schema=MAP_CHANGE_SCHEMA,
        orient="row",
    )


def map_changes_since(session: Session, *, journey_slug: str, review_slug: str) -> pl.DataFrame:
    """Pain points and opportunities added or resolved on the journey's map since the review."""
    _, snapshot = review_snapshot(session, journey_slug=journey_slug, review_slug=review_slug)
    return map_changes(snapshot, read_map(session), journey_slug=journey_slug)

"""Reviews: create and list on both databases, the snapshot's round trip, the map diff, and the CLI."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select

from data_access.db import session_scope
from data_access.mapfile import export_map, import_map, parse_map
from data_access.models import Lane, LaneItem, Step
from data_access.reviews import (
    NEW_OPPORTUNITY,
    NEW_PAIN_POINT,
    RESOLVED_OPPORTUNITY,
    RESOLVED_PAIN_POINT,
    STATUS_CHANGED,
    ReviewError,
    create_review,
    list_reviews,
    map_changes,
    map_changes_since,
    review_slug,
    review_snapshot,
)

MAP = textwrap.dedent(
    """\
    version: 1
    channels:
      - slug: web
        name: Website
    journeys:
      - slug: shop
        name: Shop
        stages:
          - slug: buy
            name: Buy
            steps:
              - slug: pay
                name: Pay
                lanes:
                  pain_point:
                    - text: Card declined without a reason
                      severity: 4
                  opportunity:
                    - text: Explain declines
                      status: open
                    - text: Offer PayPal
                      status: open
      - slug: other
        name: Other
    """
)


@pytest.fixture
def shop(engine: Engine) -> Iterator[Engine]:
    with session_scope(engine) as session:
        import_map(session, MAP)
    yield engine


def test_review_slug_comes_from_the_label() -> None:
    assert review_slug("Q3 review (Sept)") == "q3-review-sept"
    assert review_slug("  ---  ") == "review"
    assert review_slug("Überblick 2026") == "berblick-2026"


def test_create_and_list_reviews_latest_first(shop: Engine) -> None:
    with session_scope(shop) as session:
        first = create_review(session, journey_slug="shop", label="Q2 review", reviewed_on=dt.date(2026, 6, 30))
        again = create_review(session, journey_slug="shop", label="Q2 review", reviewed_on=dt.date(2026, 7, 1))
        create_review(session, journey_slug="other", label="Q3 review", reviewed_on=dt.date(2026, 9, 30))
        assert (first.slug, again.slug) == ("q2-review", "q2-review-2")
    with shop.connect() as connection:
        listed = list_reviews(connection, journey_slug="shop")
        assert list_reviews(connection, journey_slug="nope").is_empty()
    assert listed.select("slug", "label", "reviewed_on").rows() == [
        ("q2-review-2", "Q2 review", dt.date(2026, 7, 1)),
        ("q2-review", "Q2 review", dt.date(2026, 6, 30)),
    ]


def test_a_review_needs_a_label_and_a_known_journey(shop: Engine) -> None:
    with session_scope(shop) as session:
        with pytest.raises(ReviewError, match="label"):
            create_review(session, journey_slug="shop", label="  ", reviewed_on=dt.date(2026, 6, 30))
        with pytest.raises(ReviewError, match="nope"):
            create_review(session, journey_slug="nope", label="Q2", reviewed_on=dt.date(2026, 6, 30))
        with pytest.raises(ReviewError, match="no review"):
            review_snapshot(session, journey_slug="shop", review_slug="q9")


def test_a_review_date_outside_the_calendar_we_can_compare_with_is_refused(shop: Engine) -> None:
    """Year 1 or 9999 would break every view that compares with the review: refused, nothing stored."""
    with session_scope(shop) as session:
        for day in (dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date.today() + dt.timedelta(days=400)):
            with pytest.raises(ReviewError, match="must be between"):
                create_review(session, journey_slug="shop", label="Q3", reviewed_on=day)
        create_review(session, journey_slug="shop", label="Q3", reviewed_on=dt.date.today())
    with shop.connect() as connection:
        assert list_reviews(connection, journey_slug="shop")["label"].to_list() == ["Q3"]


def test_the_snapshot_is_the_whole_map_file_and_parses_back(shop: Engine) -> None:
    with session_scope(shop) as session:
        create_review(session, journey_slug="shop", label="Q2", reviewed_on=dt.date(2026, 6, 30))
        exported = export_map(session)
    with session_scope(shop) as session:
        review, snapshot = review_snapshot(session, journey_slug="shop", review_slug="q2")
        assert review.map_snapshot == exported
        assert [j.slug for j in snapshot.journeys] == ["other", "shop"]
        assert map_changes_since(session, journey_slug="shop", review_slug="q2").is_empty()


def test_map_changes_since_a_review_list_new_and_resolved_findings(shop: Engine) -> None:
    """After the review: a pain point fixed, a new one found, one opportunity done, one under way."""
    with session_scope(shop) as session:
        create_review(session, journey_slug="shop", label="Q2", reviewed_on=dt.date(2026, 6, 30))
    with session_scope(shop) as session:
        pay = session.scalars(select(Step).where(Step.slug == "pay")).one()
        for item in list(pay.lane_items):
            if item.lane == Lane.PAIN_POINT:
                session.delete(item)
            elif item.text == "Explain declines":
                item.status = "done"
            else:
                item.status = "in progress"
        session.add(LaneItem(step=pay, lane=Lane.PAIN_POINT.value, text="3-D Secure times out", severity=3))
    with session_scope(shop) as session:
        changes = map_changes_since(session, journey_slug="shop", review_slug="q2")
    assert changes.select("change", "stage_slug", "step_slug", "text", "status_then", "status_now").rows() == [
        (NEW_PAIN_POINT, "buy", "pay", "3-D Secure times out", None, None),
        (RESOLVED_PAIN_POINT, "buy", "pay", "Card declined without a reason", None, None),
        (RESOLVED_OPPORTUNITY, "buy", "pay", "Explain declines", "open", "done"),
        (STATUS_CHANGED, "buy", "pay", "Offer PayPal", "open", "in progress"),
    ]
    assert changes["severity"].to_list()[:2] == [3, 4]


def test_map_changes_on_crafted_maps() -> None:
    """Matching is by stage, step, lane and text: other journeys and other lanes are ignored."""
    before = parse_map(MAP)
    after = parse_map(
        MAP.replace(" " * 16 + "- text: Offer PayPal\n" + " " * 18 + "status: open\n", "")
        .replace("      - slug: other\n        name: Other\n", "")
        .replace("status: open", "status: done")
    )
    changes = map_changes(before, after, journey_slug="shop")
    assert changes.select("change", "text").rows() == [
        (RESOLVED_OPPORTUNITY, "Explain declines"),
        ("removed opportunity", "Offer PayPal"),
    ]
    added = parse_map(MAP.replace("- text: Offer PayPal", "- text: Offer Apple Pay"))
    assert map_changes(before, added, journey_slug="shop").select("change", "text").rows() == [
        (NEW_OPPORTUNITY, "Offer Apple Pay"),
        ("removed opportunity", "Offer PayPal"),
    ]
    assert map_changes(before, before, journey_slug="shop").is_empty()
    assert map_changes(before, after, journey_slug="nope").is_empty()


def test_cli_creates_and_lists_reviews(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`review create` keeps the map under a label and a date; `review list` shows it; bad input exits 2."""
    from dashboard import cli
    from dashboard.settings import get_settings

    with session_scope(sqlite_engine) as session:
        import_map(session, MAP)
    monkeypatch.setenv("ATLAS_DATABASE_URL", sqlite_engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        assert cli.main(["review", "create", "--journey", "shop", "--label", "Q3 review", "--date", "2026-09-30"]) == 0
        assert "q3-review" in capsys.readouterr().out
        assert cli.main(["review", "list", "--journey", "shop"]) == 0
        assert capsys.readouterr().out.splitlines() == ["2026-09-30  q3-review  Q3 review  (by cli)"]
        assert cli.main(["review", "create", "--journey", "nope", "--label", "Q3"]) == 2
        assert "nope" in capsys.readouterr().err
        assert cli.main(["review", "create", "--journey", "shop", "--label", "Q3", "--date", "30/09"]) == 2
    finally:
        get_settings.cache_clear()
    with session_scope(sqlite_engine) as session:
        _, snapshot = review_snapshot(session, journey_slug="shop", review_slug="q3-review")
    assert [j.slug for j in snapshot.journeys] == ["other", "shop"]

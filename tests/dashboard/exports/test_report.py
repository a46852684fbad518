"""The PDF report on the demo, as the export menu loads it: its pages, and that it says what the view shows."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine

from dashboard import format
from dashboard.cache import load_experience_map, load_report_pdf
from dashboard.exports.report import MARGIN
from dashboard.settings import get_settings
from data_access.db import make_engine, session_scope
from data_access.journey_map.content import journey_stages
from data_access.scope import Period, journey_id
from data_access.stage_notes import add_note

JOURNEY = "northwind-current"
END = dt.date(2026, 10, 31)
PERIOD = Period(END - dt.timedelta(days=89), END)


@pytest.fixture
def demo(app_env: str) -> Iterator[Engine]:
    """The demo database the app reads, with empty caches."""
    db = make_engine(app_env)
    yield db
    db.dispose()


def _pages(pdf: bytes) -> list[str]:
    """Each page's text, whitespace collapsed (table cells wrap their lines)."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def _stage_names(demo: Engine) -> list[str]:
    with demo.connect() as connection:
        found = journey_id(connection, JOURNEY)
        assert found is not None
        return journey_stages(connection, journey_id=found)["stage_name"].to_list()


def test_overview_report_has_the_map_and_a_page_per_stage(demo: Engine) -> None:
    """From the overview: the experience map, its emotional curve and What changed, then each stage (on its
    own pages) with its lanes, metrics, funnel and detected pain points."""
    pdf = load_report_pdf(JOURNEY, None, PERIOD, PERIOD.previous(), "health", None)
    pages = _pages(pdf)
    stages = _stage_names(demo)
    assert pdf.startswith(b"%PDF")
    assert "Emotional curve and what changed" in pages[1] and "biggest movers first" in pages[1]
    assert len(pages) > 2 + len(stages)  # then the personas and the future state (test_report_pages)
    assert "Experience map" in pages[0] and "Moments of truth" in pages[0] and "NPS" in pages[0]
    assert "03 Aug 2026 – 31 Oct 2026" in pages[0]
    # each headline box says the status and target the page's tile says
    overview = load_experience_map(JOURNEY, None, PERIOD, PERIOD.previous(), "health")
    for headline in overview.headlines:
        formula = headline.formula or headline.key
        said = f"{format.status_text(headline.status)} · {format.target_text(headline.target, formula)}"
        assert said in pages[0], headline.label
    starts = [
        next(i for i, text in enumerate(pages) if f"Stage {n}: {name}" in text) for n, name in enumerate(stages, 1)
    ]
    assert starts == sorted(starts) and starts[0] == 2
    for start, end in zip(starts, [*starts[1:], len(pages)], strict=True):
        text = " ".join(pages[start:end])
        assert "What the numbers say" in text and "Customer actions" in text
        assert "Funnel through the steps" in text and "Detected from data" in text
        assert f"page {start + 1} of {len(pages)}" in pages[start]


def test_journey_report_has_the_stage_in_depth_with_its_notes(demo: Engine) -> None:
    """From a journey page: the map, then the stage's lanes, metrics, comments and notes, Unicode intact."""
    body = "Customers quote “20 € for 40 minutes on hold” ★ — and ask for a callback"
    with session_scope(demo) as session:
        add_note(session, journey_slug=JOURNEY, stage_slug="support", author="Zoë at the front desk", body=body)
    pdf = load_report_pdf(JOURNEY, "budget-family", PERIOD, PERIOD.previous(), "health", "support")
    pages = _pages(pdf)
    text = " ".join(pages[2:])
    assert "Experience map" in pages[0] and "Budget" in pages[0]
    assert pages[2].startswith("Support — journey map")
    for section in ("Thoughts", "Pain points", "Opportunities", "Backstage", "What the numbers say"):
        assert section in text
    assert "In the customers' words" in text and "Notes from the front line" in text
    assert "Zoë at the front desk" in text
    assert "“20 € for 40 minutes on hold” ★" in text
    assert "Onboarding — journey map" not in text


def test_notes_can_be_left_out(demo: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployment without stage notes gets a report without them."""
    monkeypatch.setenv("ATLAS_STAGE_NOTES", "false")
    get_settings.cache_clear()
    pdf = load_report_pdf(JOURNEY, None, PERIOD, PERIOD.previous(), "health", "onboarding")
    assert "Notes from the front line" not in "\n".join(_pages(pdf))


def test_unknown_journey_is_refused(demo: Engine) -> None:
    with pytest.raises(LookupError, match="atlantis"):
        load_report_pdf("atlantis", None, PERIOD, PERIOD.previous(), "health", None)


def test_report_names_the_compared_period(demo: Engine) -> None:
    """A report of a view compared with a chosen period says so on every page."""
    compared = Period(dt.date(2026, 2, 1), dt.date(2026, 4, 30))
    pdf = load_report_pdf(JOURNEY, None, PERIOD, compared, "health", "support")
    pages = _pages(pdf)
    assert all("compared with 01 Feb 2026 – 30 Apr 2026" in text for text in pages)


def _footer_lefts(pdf: bytes) -> list[float]:
    """Where each page's footer ("Journey Atlas · …") begins, in points from the page's left edge."""
    lefts: list[float] = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        found: list[float] = []

        def visit(text: str, _cm: list[float], tm: list[float], _font: object, _size: object) -> None:
            if text.startswith("Journey Atlas ·"):
                found.append(tm[4])  # noqa: B023 — read at once, within this page

        page.extract_text(visitor_text=visit)
        lefts.append(found[0] if found else -1.0)
    return lefts


@pytest.mark.parametrize("stage", [None, "onboarding"])
def test_each_stage_keeps_its_funnel_beside_its_findings_and_every_footer_in_place(
    demo: Engine, stage: str | None
) -> None:
    """The funnel and the detected pain points start on one page (never a funnel alone with its findings on
    the next), and every page's footer starts at the left margin, whatever the column it broke in."""
    whole_year = Period(END - dt.timedelta(days=364), END)
    pdf = load_report_pdf(JOURNEY, None, whole_year, whole_year.previous(), "health", stage)
    pages = _pages(pdf)
    for number, text in enumerate(pages, 1):
        if "Funnel through the steps" in text:
            assert "Detected from data" in text, f"page {number} holds a funnel without its findings"
        assert f"page {number} of {len(pages)}" in text
    margin_points = MARGIN * 72 / 25.4  # the cell's own padding (1 mm) comes after it
    assert all(margin_points <= left < margin_points + 4 for left in _footer_lefts(pdf)), _footer_lefts(pdf)

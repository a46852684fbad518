"""The overview report's appendix: the personas page and the current vs future page, as the pages show them."""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
from pypdf import PdfReader

from dashboard import format
from dashboard.cache import load_future_state, load_report_pdf
from data_access.scope import Period

JOURNEY, FUTURE = "northwind-current", "northwind-future"
END = dt.date(2026, 10, 31)
PERIOD = Period(END - dt.timedelta(days=89), END)


def _pages(pdf: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def test_overview_report_ends_with_personas_and_the_future_state(app_env: str) -> None:
    """After the stages: the personas with their empathy maps, then today against the future state."""
    pages = _pages(load_report_pdf(JOURNEY, None, PERIOD, PERIOD.previous(), "health", None))
    personas = next(i for i, text in enumerate(pages) if text.startswith("Personas"))
    compare = next(i for i, text in enumerate(pages) if text.startswith("Current vs future state"))
    assert personas < compare
    persona_text = " ".join(pages[personas:compare])
    for name in ("Budget-conscious family", "Digital native", "Remote worker", "Small business owner"):
        assert name in persona_text
    assert "If the line goes down I lose a day" in persona_text
    assert "Personas side by side" in persona_text
    compare_text = " ".join(pages[compare:])
    assert (
        "What the future state changes" in compare_text and "Today against the future state's targets" in compare_text
    )
    comparison = load_future_state(JOURNEY, FUTURE, None, PERIOD)
    measured = comparison.targets.filter(pl.col("value").is_not_null()).row(0, named=True)
    assert format.value_text(measured["value"], measured["formula"]) in compare_text


def test_journey_report_has_no_appendix(app_env: str) -> None:
    """A one-stage report stays about its stage."""
    pages = _pages(load_report_pdf(JOURNEY, None, PERIOD, PERIOD.previous(), "health", "onboarding"))
    assert not any(text.startswith(("Personas", "Current vs future state")) for text in pages)

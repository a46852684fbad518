"""Pure parts of the journey map's UI: lane text is escaped so it shows exactly as written."""

from __future__ import annotations

import polars as pl

from dashboard.journey_ui import band_label, escaped


def test_markdown_characters_are_escaped() -> None:
    """Stars, underscores, brackets and HTML-ish text come out literally."""
    frame = pl.DataFrame({"text": ["*bold* _x_ [link](http://a) <b>", None]})
    assert frame.select(escaped("text"))["text"].to_list() == [
        r"\*bold\* \_x\_ \[link\]\(http\://a\) \<b\>",
        "",
    ]


def test_band_labels() -> None:
    """NPS bands are named as NPS names them; other measures say low / middle / high."""
    assert band_label("low", "nps") == "detractors"
    assert band_label("high", "csat") == "high scores"

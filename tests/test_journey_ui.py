"""Pure parts of the journey map's UI: lane text is escaped so it shows exactly as written."""

from __future__ import annotations

import polars as pl

from dashboard.format import escaped
from dashboard.journey_ui import band_label, finding_quotes


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


def test_a_finding_quotes_the_same_words_once() -> None:
    """Under a finding, the step's first three distinct comments, in order, whoever said them."""
    evidence = pl.DataFrame(
        {
            "step_id": [7, 7, 7, 8, 7, 7],
            "comment": [
                "On hold for 45 minutes.",
                "On hold for 45 minutes.",
                "Cut off.",
                "Other step.",
                "Cut off.",
                "Late.",
            ],
        }
    )
    assert finding_quotes(evidence, 7)["comment"].to_list() == ["On hold for 45 minutes.", "Cut off.", "Late."]
    assert finding_quotes(evidence, None).is_empty()

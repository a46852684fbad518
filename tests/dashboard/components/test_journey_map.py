"""Pure parts of the journey map's UI: lane text is escaped so it shows exactly as written, in Markdown and in
the lane grid's HTML."""

from __future__ import annotations

import polars as pl

from dashboard.components.journey_map import LANES, band_label, finding_quotes, lane_grid_html
from dashboard.format import escaped
from tests.lane_grid import LaneMap, read_lane_grid


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


def test_a_finding_quotes_its_own_scope_and_the_same_words_once() -> None:
    """Under a finding, its own step's (or touchpoint's) first three distinct comments, in order; a step and a
    touchpoint with the same id are different places, and a place without comments quotes nothing."""
    evidence = pl.DataFrame(
        {
            "scope": ["step", "step", "step", "step", "touchpoint", "step", "step"],
            "scope_id": [7, 7, 7, 8, 7, 7, 7],
            "comment": [
                "On hold for 45 minutes.",
                "On hold for 45 minutes.",
                "Cut off.",
                "Other step.",
                "About the touchpoint.",
                "Cut off.",
                "Late.",
            ],
        }
    )
    assert finding_quotes(evidence, "step", 7)["comment"].to_list() == ["On hold for 45 minutes.", "Cut off.", "Late."]
    assert finding_quotes(evidence, "touchpoint", 7)["comment"].to_list() == ["About the touchpoint."]
    assert finding_quotes(evidence, "step", 9).is_empty()


HOSTILE = ["<img src=x onerror=alert(1)>", "**bold**", "[link](http://x)", "</div><script>alert(1)</script>"]


def _hostile_map() -> LaneMap:
    """Two steps whose names, touchpoint, channel, owner, persona and lane texts are all markup."""
    lanes = ["action", "thought", "pain_point", "opportunity", "backstage", "emotion"]
    items = pl.DataFrame(
        {
            "step_id": [1, 1, 2, 2, 1, 2],
            "lane": lanes,
            "text": [HOSTILE[0], HOSTILE[1], HOSTILE[2], HOSTILE[3], "a & b <i>", "Curious"],
            "position": [0, 0, 0, 0, 0, 0],
            "persona_slug": [None, "<b>p</b>", None, None, None, None],
            "emotion": [None, None, None, None, None, 1.0],
            "severity": [None, None, 5, None, None, None],
            "owner": [None, None, None, '"><img src=y>', None, None],
            "status": [None, None, None, "**done**", None, None],
            "impact": [None, None, None, 3, None, None],
            "effort": [None, None, None, None, None, None],
        },
        schema_overrides={"emotion": pl.Float64, "severity": pl.Int64, "impact": pl.Int64, "effort": pl.Int64},
    )
    steps = pl.DataFrame(
        {
            "step_id": [2, 1],
            "position": [1, 0],
            "step_name": ["<h1>Pays</h1>", "[Browses](http://x)"],
            "touchpoint_name": ["<u>Till</u>", None],
            "channel_name": ["_Store_", None],
            "moment_of_truth": [True, False],
        }
    )
    funnel = pl.DataFrame({"kind": ["step"], "step_id": [2], "customers": [1500]})
    emotions = pl.DataFrame({"step_id": [2], "measured_emotion": [0.4], "answers": [40]})
    return LaneMap(items, steps, funnel, emotions)


def test_the_lane_grid_shows_hostile_text_literally() -> None:
    """Markup, Markdown and links in step names and lane texts come out as the literal text typed; the only tags
    are the grid's own, with no link, image, script or event handler."""
    markup = lane_grid_html(_hostile_map())
    grid = read_lane_grid(markup)
    assert grid.tags <= {"style", "div", "span", "strong", "em", "br"}
    assert grid.attributes <= {"role", "class", "style", "aria-label", "data-lane"}
    assert grid.steps == ["[Browses](http://x)", "<h1>Pays</h1>"]
    cards = grid.lanes
    assert cards["Customer actions"] == [[HOSTILE[0]], []]
    assert cards["Thoughts"] == [["“**bold**”\npersona <b>p</b>"], []]
    reach = "1,500 customers reached this step in the period"
    assert cards["Pain points"] == [[], [f"Severity 5/5 · {HOSTILE[2]}\n{reach}"]]
    assert cards["Opportunities"] == [[], [f'{HOSTILE[3]}\n**done** · owner "><img src=y> · impact 3 · effort ?']]
    assert cards["Backstage"] == [["a & b <i>"], []]
    assert cards["Touchpoints & channels"] == [[], ["<u>Till</u> · _Store_\n★ moment of truth"]]
    # the marks around people's text are ours: a bold status, an italic thought, a severity badge
    assert "<strong>**done**</strong>" in markup and "<em>“**bold**”</em>" in markup
    assert '<span class="lane-badge lane-badge-red">Severity 5/5</span>' in markup


def test_the_lane_grid_has_a_row_per_lane_but_emotion_and_a_column_per_step() -> None:
    """Every lane but the emotion (a curve under the grid), in the page's order, each with one cell per step."""
    grid = read_lane_grid(lane_grid_html(_hostile_map()))
    assert list(grid.lanes) == [title for lane, title in LANES.items() if lane != "emotion"]
    assert all(len(cells) == len(grid.steps) == 2 for cells in grid.lanes.values())
    assert not any("Curious" in card for cells in grid.lanes.values() for cell in cells for card in cell)

"""What every metric, change, target and status prints, on every page, slide, PDF and CSV."""

from __future__ import annotations

import html
import unicodedata

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard import format
from data_access.metrics import Formula, Status
from tests.lane_grid import LaneMap

# formula, value, its text, a change, its text: the one text per metric the module docstring promises
TEXTS = [
    ("nps", 12.34, "+12", 4.2, "+4"),
    ("nps", -12.5, "-13", -0.6, "-1"),
    ("sentiment", 0.3, "0", 0.2, "±0"),
    ("csat", 81.25, "81.3%", 4.34, "+4.3 pts"),
    ("csat", 100.0, "100.0%", -2.0, "-2.0 pts"),
    ("conversion", 0.923, "92.3%", 0.043, "+4.3 pts"),
    ("drop_off", 0.0, "0.0%", -0.1, "-10.0 pts"),
    ("ces", 5.4249, "5.42", 0.125, "+0.13"),
    ("rating", 4.0, "4.00", 0.001, "±0"),
    ("time_to_next_stage", 4.45, "4.5 days", -1.7, "-1.7 days"),
    ("volume", 12345.0, "12,345", 1234.0, "+1,234"),
    ("volume", 1234567.0, "1,234,567", -0.2, "±0"),
    ("health", 2 / 3, "67%", 1 / 3, "+33 pts"),
]


@pytest.mark.parametrize(("formula", "value", "value_text", "change", "change_text"), TEXTS)
def test_each_metric_prints_one_way(
    formula: str, value: float, value_text: str, change: float, change_text: str
) -> None:
    """The scalar and the column version print the same text for the same number."""
    assert format.value_text(value, formula) == value_text
    assert format.change_text(change, formula) == change_text
    frame = pl.DataFrame({"formula": [formula], "value": [value], "change": [change]})
    shown = frame.select(
        format.value_expr(pl.col("value"), pl.col("formula")).alias("value"),
        format.change_expr(pl.col("change"), pl.col("formula")).alias("change"),
    )
    assert shown.row(0) == (value_text, change_text)


def test_every_formula_has_its_own_text() -> None:
    assert set(Formula) <= set(format.RULES)


def test_no_value_is_a_dash_everywhere() -> None:
    """A missing value, target or change reads "—", in a table too."""
    frame = pl.DataFrame({"formula": ["nps", "csat"], "value": [None, None]}, schema_overrides={"value": pl.Float64})
    for formula in format.RULES:
        assert format.value_text(None, formula) == format.change_text(None, formula) == "—"
        assert format.value_text(float("nan"), formula) == format.change_text(float("nan"), formula) == "—"
    assert frame.select(format.value_expr(pl.col("value"), pl.col("formula")).alias("v"))["v"].to_list() == ["—", "—"]
    assert format.target_text(None, "csat") == "no target"
    assert format.target_text(80.0, "csat") == "target 80.0%"


@given(
    amounts=st.lists(
        st.floats(min_value=-1e7, max_value=1e7) | st.sampled_from([0.005, -0.125, 81.25, 2.5, float("nan")]),
        min_size=1,
        max_size=20,
    )
)
def test_the_scalar_and_the_column_rules_agree_for_every_formula(amounts: list[float]) -> None:
    """One set of rules: whatever the number, a table cell reads like the card beside it."""
    formulas = list(format.RULES)
    frame = pl.DataFrame(
        {"formula": [str(f) for f in formulas for _ in amounts], "amount": amounts * len(formulas)},
        schema={"formula": pl.String, "amount": pl.Float64},
    )
    shown = frame.with_columns(
        format.value_expr(pl.col("amount"), pl.col("formula")).alias("value"),
        format.change_expr(pl.col("amount"), pl.col("formula")).alias("change"),
    )
    for formula, amount, value, change in shown.iter_rows():
        assert (value, change) == (format.value_text(amount, formula), format.change_text(amount, formula))


@pytest.mark.parametrize(
    ("formula", "formats"),
    [
        ("conversion", (".0%", ".1%")),
        ("nps", ("+.0f", "+.0f")),
        ("csat", (".0f", ".1f")),
        ("ces", (".2f", ".2f")),
        ("time_to_next_stage", (".0f", ".1f")),
        ("volume", (",.0f", ",.0f")),
    ],
)
def test_chart_axes_and_tooltips_read_like_the_cards(formula: str, formats: tuple[str, str]) -> None:
    assert format.chart_formats(formula) == formats


def test_status_words_and_badges() -> None:
    """One word per status, the same in the legend, the badge, the table and the PDF; unknown is no data."""
    assert [format.status_badge(s) for s in Status] == [
        ("on target", "green"),
        ("near target", "orange"),
        ("off target", "red"),
        ("not enough data", "gray"),
    ]
    assert format.status_badge(None) == format.status_badge("nonsense") == ("not enough data", "gray")
    frame = pl.DataFrame({"status": ["red", "no data", None]})
    assert frame.select(format.status_expr("status"))["status"].to_list() == [
        "off target",
        "not enough data",
        "not enough data",
    ]
    assert [format.status_text(s) for s in ("green", "amber", None)] == ["on target", "near target", "not enough data"]


def test_a_change_that_rounds_to_zero_is_neutral() -> None:
    assert format.delta_colour(format.change_text(0.02, "csat"), "higher") == "off"
    assert format.delta_arrow(format.change_text(0.02, "csat")) == "off"
    assert format.delta_colour(format.change_text(-2.0, "ces"), "lower") == "inverse"
    assert format.delta_arrow("-2.00") == "auto"


def test_grid_labels_from_the_grid_numbers() -> None:
    """The cell shows the chosen metric (★ on a moment of truth, "n=…" when too few answers)."""
    grid = pl.DataFrame(
        {
            "metric": ["csat", "csat", "volume", "health", "health"],
            "value": [81.25, None, 12345.0, None, None],
            "value_answers": [40, 3, 12345, 5, 1500],
            "answers": [3600, 9, 12345, 5, 1500],
            "moment_of_truth": [True, False, False, False, False],
            **{m: [20.0, None, None, None, None] for m in ("nps", "csat", "ces")},
            **{f"{m}_answers": [1200, 3, 0, 0, 0] for m in ("nps", "csat", "ces")},
            "metrics": [3, 3, 2, 1, 0],
            "measured": [3, 1, 0, 0, 0],
            "judged": [3, 1, 0, 0, 0],
            "on_target": [2, 1, 0, 0, 0],
        }
    )
    labels = grid.select(format.grid_labels())
    # health in words: unmeasured metrics are named, nothing measured is not enough data, and answers no
    # metric of the map reads are not mistaken for too few answers
    assert labels["health_label"].to_list() == [
        "2 of 3 metrics on target",
        "1 of 3 metrics measured · 1 of 1 on target",
        "not enough data (0 of 2 metrics measured)",
        "not enough data (0 of 1 metrics measured)",
        "no metric reads these 1,500 answers",
    ]
    assert labels["value_label"].to_list() == ["★ 81.3%", "n=3", "12,345", "n=5", "no metric"]
    assert labels["nps_label"].to_list() == [
        "+20 (1,200 answers)",
        "not enough data (3 answers)",
        "not enough data (0 answers)",
        "not enough data (0 answers)",
        "not enough data (0 answers)",
    ]
    assert labels["ces_label"][0] == "20.00 (1,200 answers)"


def test_finding_evidence_in_words() -> None:
    findings = pl.DataFrame(
        {
            "reason": ["misses target", "got worse", "drop-off stands out"],
            "metric": ["Till CSAT", "NPS", "Drop-off"],
            "formula": ["csat", "nps", "drop_off"],
            "value": [70.0, 30.0, 0.5],
            "target": [80.0, 20.0, 0.15],
            "previous_value": [None, 50.0, None],
            "change": [None, -20.0, 0.35],
            "base": [None, None, 1900],
        }
    )
    assert findings.select(format.finding_evidence())["evidence"].to_list() == [
        "Till CSAT is 70.0% against a target of 80.0%",
        "NPS went from +50 to +30 (-20)",
        "50.0% of the 1,900 customers who reached the step before did not reach this one; "
        "the stage's median step drop-off is 15.0%",
    ]


def _journey_map() -> LaneMap:
    items = pl.DataFrame(
        {
            "step_id": [2, 1, 1, 2],
            "lane": ["thought", "pain_point", "opportunity", "action"],
            "text": ['"Why *so* slow?"', "Long queue at the till", "Self-checkout for one to five items", "Pays"],
            "position": [0, 0, 0, 0],
            "persona_slug": [None, "saver", None, None],
            "emotion": [None, None, None, None],
            "severity": [None, 4, None, None],
            "owner": [None, None, "Store ops", None],
            "status": [None, None, "planned", None],
            "impact": [None, None, 3, None],
            "effort": [None, None, None, None],
        },
        schema_overrides={"emotion": pl.Float64, "severity": pl.Int64, "impact": pl.Int64, "effort": pl.Int64},
    )
    steps = pl.DataFrame(
        {
            "step_id": [1, 2],
            "position": [0, 1],
            "touchpoint_name": ["Till", None],
            "channel_name": ["Store", None],
            "moment_of_truth": [True, False],
        }
    )
    funnel = pl.DataFrame({"kind": ["step", "step"], "step_id": [1, 2], "customers": [1500, 900]})
    emotions = pl.DataFrame({"step_id": [1], "measured_emotion": [-0.84], "answers": [1200]})
    return LaneMap(items, steps, funnel, emotions)


def test_lane_texts_say_the_same_on_the_page_the_slide_and_the_pdf() -> None:
    """One wording; the page marks it up and adds the detail, a slide cuts it short, the PDF is plain."""
    data = _journey_map()
    lanes = ["action", "touchpoint", "thought", "emotion", "pain_point", "opportunity"]
    page = format.lane_texts(data, lanes=lanes, medium="markdown").rows()
    assert page == [
        (1, "pain_point", ":red-badge[Severity 4/5] · Long queue at the till  \n1,500 customers reached this step "
         "in the period  \npersona saver"),
        (1, "opportunity", "Self\\-checkout for one to five items  \n**planned** · owner Store ops · impact 3 · "
         "effort ?"),
        (1, "touchpoint", "Till · _Store_  \n★ moment of truth"),
        (1, "emotion", "measured -0.8 (n = 1,200)"),
        (2, "thought", "_“Why \\*so\\* slow?”_"),
        (2, "action", "Pays"),
    ]  # fmt: skip
    slide = format.lane_texts(data, lanes=["thought", "pain_point", "opportunity"], medium="markdown", detail=False,
                              words=3).rows()  # fmt: skip
    assert slide == [
        (1, "pain_point", ":red-badge[Severity 4/5] · Long queue at…"),
        (1, "opportunity", "Self\\-checkout for one… · **planned**"),
        (2, "thought", "_“Why \\*so\\* slow?”_"),
    ]
    pdf = dict(((step, lane), text) for step, lane, text in format.lane_texts(data, lanes=lanes, medium="plain").rows())
    assert pdf[(2, "thought")] == "“Why *so* slow?”"
    assert (
        pdf[(1, "opportunity")]
        == "Self-checkout for one to five items\nplanned · owner Store ops · impact 3 · effort ?"
    )
    assert pdf[(1, "touchpoint")] == "Till · Store\n★ moment of truth"
    grid = dict(((step, lane), text) for step, lane, text in format.lane_texts(data, lanes=lanes, medium="html").rows())
    assert grid[(2, "thought")] == "<em>“Why *so* slow?”</em>"  # Markdown means nothing in HTML: left as typed
    assert grid[(1, "pain_point")] == (
        '<span class="lane-badge lane-badge-red">Severity 4/5</span> · Long queue at the till<br>1,500 customers '
        "reached this step in the period<br>persona saver"
    )
    assert grid[(1, "opportunity")] == (
        "Self-checkout for one to five items<br><strong>planned</strong> · owner Store ops · impact 3 · effort ?"
    )
    assert grid[(1, "touchpoint")] == "Till · <em>Store</em><br>★ moment of truth"


@given(st.text(max_size=300))
def test_text_in_html_is_literal_whatever_comes_in(value: str) -> None:
    """Through the lane grid's escaping, any text reads back as itself (control characters as spaces,
    bidirectional overrides dropped): no tag, attribute or entity of its own survives."""
    shown = pl.DataFrame({"text": [value]}).select(format.html_escaped("text")).item()
    assert shown == format.html_text(value)
    assert "<" not in shown and ">" not in shown and '"' not in shown
    bidi = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    cleaned = "".join(" " if unicodedata.category(c) == "Cc" else c for c in value if c not in bidi)
    assert html.unescape(shown) == cleaned


@given(st.text(max_size=300))
def test_plain_text_is_one_line_with_every_markdown_special_escaped(value: str) -> None:
    """Whatever comes in, what goes out has no line break and no unescaped Markdown special character."""
    import re

    shown = format.verbatim(value, limit=None)
    assert "\n" not in shown and "\r" not in shown
    assert not re.search(r"(?<!\\)(?:\\\\)*[\[\]()!`*_$<>#:|~{}]", shown.replace("\\\\", ""))


def test_plain_text_cuts_long_values_and_drops_bidi_overrides() -> None:
    assert format.verbatim("A" * 10_000) == "A" * 119 + "…"
    assert format.verbatim("pay\u202egnp.exe") == "paygnp\\.exe"
    assert format.verbatim("[log in](http://x.example)") == "\\[log in\\]\\(http\u2060\\://x\\.example\\)"
    # bare addresses would be linked by GitHub-flavoured Markdown even when escaped: a word joiner breaks them
    assert format.verbatim("www.x.example a@b.example") == "www\u2060\\.x\\.example a@\u2060b\\.example"

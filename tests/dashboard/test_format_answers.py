"""Texts of a journey known from its answers: the period's caption and a finding in a sentence."""

from __future__ import annotations

import datetime as dt

from dashboard.format import answers as format_answers
from data_access.periods import DefaultPeriod
from data_access.scope import Period

FIRST, LAST = dt.date(2023, 1, 1), dt.date(2024, 12, 31)
HISTORY = Period(FIRST, LAST)
RECENT = Period(dt.date(2024, 10, 3), LAST)


def test_the_caption_says_why_the_whole_history_is_shown() -> None:
    sparse = DefaultPeriod(HISTORY, "sparse", 90, 30, short_metric="Late delivery rating", short_answers=19)
    caption = format_answers.period_caption(HISTORY, True, sparse, FIRST, LAST)
    assert caption.startswith("Whole history: 731 days.")
    assert "only 19 answers for Late delivery rating, fewer than the 30" in caption
    assert caption.endswith("fewer than the 30 a metric needs to be measured.")
    hidden = DefaultPeriod(
        HISTORY, "sparse", 90, 30, "Delivered *late*", 19, rule="step", short_measure="rating",
        short_value=1.9875, short_target=4.0, cell_value=4.1254,
    )  # fmt: skip
    assert format_answers.period_caption(HISTORY, True, hidden, FIRST, LAST).endswith(
        "only 19 answers for Delivered \\*late\\*, fewer than the 30 a metric needs to be measured: over the whole "
        "history this step reads 1.99 against target 4.00 while its cell is on target (4.13), which the last 90 "
        "days would hide."
    )
    short = DefaultPeriod(HISTORY, "short", 90, 30)
    assert "90 days or fewer" in format_answers.period_caption(HISTORY, True, short, FIRST, LAST)


def test_the_caption_names_the_default_recent_period_and_nothing_for_a_chosen_one() -> None:
    recent = DefaultPeriod(RECENT, "recent", 90, 30)
    assert format_answers.period_caption(RECENT, False, recent, FIRST, LAST).startswith(
        "The last 90 days with data (the default): every metric of the map has at least 30 answers"
    )
    chosen = Period(dt.date(2024, 6, 1), dt.date(2024, 6, 30))
    assert format_answers.period_caption(chosen, False, recent, FIRST, LAST).startswith("30 days.")


def test_a_finding_reads_as_a_sentence_with_its_numbers() -> None:
    finding = {
        "scope": "stage",
        "scope_name": "Customer *service*",
        "measure": "sentiment",
        "answers": 2310,
        "unfavourable": 2310,
        "share": 1.0,
        "journey_share": 0.42,
        "value": -100.0,
        "target": 0.0,
        "reasons": "most unfavourable answers; misses target",
    }
    assert format_answers.answer_finding_text(finding) == (
        "**Customer \\*service\\*** (stage): 2,310 of 2,310 sentiment answers were negative (100.0%), against 42.0% "
        "over the journey. Most unfavourable answers; misses target (-100 against target 0)."
    )
    # a touchpoint says the stage it is in: the reason of a complaint, where it sits on the map
    in_stage = finding | {"scope": "touchpoint", "stage_name": "Support [help]"}
    assert format_answers.answer_finding_text(in_stage).startswith(
        "**Customer \\*service\\*** (touchpoint in Support \\[help\\]): 2,310 of 2,310"
    )
    same_name = finding | {"scope": "touchpoint", "stage_name": "customer *service*"}
    assert format_answers.answer_finding_text(same_name).startswith("**Customer \\*service\\*** (touchpoint): ")


def test_a_ces_finding_says_once_what_the_answers_were() -> None:
    finding = {
        "scope": "stage",
        "scope_name": "Onboarding",
        "measure": "ces",
        "answers": 4020,
        "unfavourable": 1784,
        "share": 1784 / 4020,
        "journey_share": 0.32,
        "value": 3.7,
        "target": 4.5,
        "reasons": "most unfavourable answers",
    }
    text = format_answers.answer_finding_text(finding)
    assert text.startswith("**Onboarding** (stage): 1,784 of 4,020 CES answers were 1–3 (44.4%), against 32.0%")
    assert text.count("answers") == 2  # "CES answers" and "Most unfavourable answers", never "answers answers"


def test_a_one_day_history_says_one_day() -> None:
    """A survey exported in one day (the airline survey) reads "1 day", not "1 days"."""
    day = Period(LAST, LAST)
    short = DefaultPeriod(day, "short", 90, 30)
    assert format_answers.period_caption(day, True, short, LAST, LAST).startswith("Whole history: 1 day. ")
    assert format_answers.period_caption(day, False, None, LAST, LAST).startswith("1 day. ")

"""A journey known from its answers alone (a social-post export): tiles, volume, stage boxes, findings, period.

Posts carry a sentiment (−1, 0, +1) and a reason (here the stage: service, delivery, price; posts without a
reason are `other`). Every number is compared with a direct computation over the raw rows.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert

from data_access.detection import FEEDBACK_REASONS, feedback_findings
from data_access.experience_map import load_experience_map
from data_access.experience_map.queries import data_days
from data_access.metrics import DEFINITION_COLUMNS
from data_access.models import Channel, Feedback, Journey, MetricDefinition, Stage, Touchpoint
from data_access.period_sums import TOUCHPOINT_FEEDBACK_SCHEMA
from data_access.periods import ANSWER_SCHEMA, DEFINITION_SCHEMA, SCORE_SCHEMA, default_period, fitting_period
from data_access.rollups import refresh_rollups
from data_access.scope import Period, resolve_scope

MIN_ANSWERS = 30
REASONS = ("service", "delivery", "price", "other")
# (reason, sentiment) -> posts; service is the most common complaint
POSTS = {
    ("service", -1.0): 64,
    ("delivery", -1.0): 41,
    ("price", -1.0): 33,
    ("price", 0.0): 2,
    ("other", 1.0): 70,
    ("other", 0.0): 45,
    ("other", -1.0): 5,
}
FIRST = dt.date(2024, 1, 1)
HISTORY_DAYS = 200


def _rows() -> list[dict[str, Any]]:
    """The posts, spread evenly over the history: post i on day i mod HISTORY_DAYS."""
    rows = []
    for (reason, score), count in POSTS.items():
        for _ in range(count):
            rows.append({"reason": reason, "score": score})
    for index, row in enumerate(rows):
        row["occurred_at"] = dt.datetime.combine(FIRST + dt.timedelta(days=(index * 7) % HISTORY_DAYS), dt.time(9))
    return rows


RAW = _rows()


@pytest.fixture
def social(engine: Engine) -> Engine:
    with engine.begin() as connection:
        connection.execute(insert(Journey), [{"id": 1, "slug": "social", "name": "Social"}])
        connection.execute(
            insert(Stage),
            [
                {"id": i + 1, "journey_id": 1, "slug": r, "name": r.capitalize(), "position": i}
                for i, r in enumerate(REASONS)
            ],
        )
        connection.execute(insert(Channel), [{"id": 1, "slug": "twitter", "name": "Twitter", "position": 0}])
        connection.execute(
            insert(Touchpoint),
            [
                {"id": i + 1, "stage_id": i + 1, "channel_id": 1, "slug": f"post-{r}", "name": f"Posts on {r}"}
                | {"owner": "", "description": "", "moment_of_truth": False}
                for i, r in enumerate(REASONS)
            ],
        )
        connection.execute(
            insert(MetricDefinition),
            [
                {"journey_id": 1, "key": "sentiment", "label": "Sentiment", "formula": "sentiment", "unit": ""}
                | {"direction": "higher", "target": 0.0, "warning": 20.0, "stage_id": None, "touchpoint_id": None}
            ],
        )
        stage_ids = {r: i + 1 for i, r in enumerate(REASONS)}
        connection.execute(
            insert(Feedback),
            [
                {
                    "customer_id": None,
                    "occurred_at": row["occurred_at"],
                    "journey_id": 1,
                    "stage_id": stage_ids[row["reason"]],
                    "channel_id": 1,
                    "touchpoint_id": stage_ids[row["reason"]],
                    "measure": "sentiment",
                    "score": row["score"],
                }
                for row in RAW
            ],
        )
        refresh_rollups(connection)
    return engine


def _in(period: Period) -> list[dict[str, Any]]:
    return [r for r in RAW if period.start <= r["occurred_at"].date() <= period.end]


def test_the_overview_of_a_feedback_only_journey_names_the_worst_topic(social: Engine) -> None:
    with social.connect() as connection:
        history = data_days(connection, journey_id=1)
        assert history is not None
        scope = resolve_scope(connection, journey_slug="social", persona_slug=None, period=history)
        assert scope is not None
        overview = load_experience_map(connection, scope=scope, metric="volume", min_answers=MIN_ANSWERS)
    rows = _in(history)
    answers = Counter(r["reason"] for r in rows)
    negative = Counter(r["reason"] for r in rows if r["score"] < 0)
    journey_share = sum(negative.values()) / len(rows)

    # tiles: sentiment (the measure the journey defines) and no conversion without events
    assert [h.formula for h in overview.headlines] == ["sentiment"]
    positive = sum(r["score"] > 0 for r in rows)
    assert overview.headlines[0].value == pytest.approx(100 * (positive - sum(negative.values())) / len(rows))
    # stage boxes count answers where no customer reached the stage; volume counts answers
    boxes = dict(zip(overview.stages["stage_slug"], overview.stages.select("customers", "answers").rows(), strict=True))
    assert boxes == {r: (0, answers[r]) for r in REASONS}
    assert dict(zip(overview.grid["stage_slug"], overview.grid["value"], strict=True)) == {
        r: float(answers[r]) for r in REASONS
    }

    # each reason's one touchpoint holds all its stage's answers: the touchpoint (the topic) is named, once
    stage_findings = overview.findings
    assert set(stage_findings["scope"]) == {"touchpoint"}
    worst = stage_findings.row(0, named=True)
    assert worst["stage_slug"] == negative.most_common(1)[0][0] == "service"
    assert FEEDBACK_REASONS[0] in worst["reasons"]
    for finding in stage_findings.iter_rows(named=True):
        reason = finding["stage_slug"]
        assert (finding["answers"], finding["unfavourable"]) == (answers[reason], negative[reason])
        assert finding["journey_share"] == pytest.approx(journey_share)
    stands_out = {r for r in REASONS if negative[r] / answers[r] > journey_share + 0.10}
    flagged = {f["stage_slug"] for f in stage_findings.iter_rows(named=True) if FEEDBACK_REASONS[1] in f["reasons"]}
    assert flagged == stands_out == {"service", "delivery", "price"}
    assert (worst["scope_name"], worst["stage_name"]) == ("Posts on service", "Service")
    assert (worst["touchpoint_slug"], worst["channel_slug"]) == ("post-service", "twitter")


def test_the_default_period_is_the_whole_history_when_its_last_90_days_are_sparse(social: Engine) -> None:
    with social.connect() as connection:
        history = data_days(connection, journey_id=1)
        assert history is not None
        chosen = default_period(connection, journey_id=1, history=history, min_answers=MIN_ANSWERS)
        plenty = default_period(connection, journey_id=1, history=history, min_answers=10)
    recent = Period(history.end - dt.timedelta(days=89), history.end)
    in_recent = len(_in(recent))
    assert 10 <= in_recent < MIN_ANSWERS * 10
    # the journey-level sentiment reads every answer: the last 90 days hold enough for a minimum of 10 ...
    assert (plenty.reason, plenty.period) == ("recent", recent)
    # ... and the touchpoint-free map has one metric, so a minimum above its recent answers opens the history
    with social.connect() as connection:
        sparse = default_period(connection, journey_id=1, history=history, min_answers=in_recent + 1)
    assert (sparse.reason, sparse.period, sparse.short_answers) == ("sparse", history, in_recent)
    assert chosen.reason == ("recent" if in_recent >= MIN_ANSWERS else "sparse")


STEP_HISTORY = Period(dt.date(2023, 1, 1), dt.date(2024, 12, 31))
# the delivery touchpoint's rating, target 4 with a warning band of 0.3: what its two alternatives are judged by
RATED_CELL = pl.DataFrame(
    [("Delivery rating", "rating", 2, 9, 4.0, 0.3, "higher")], schema=DEFINITION_SCHEMA, orient="row"
)


def _step_answers(rows: list[tuple[int, str, int, int, int]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(step id, step, answers over the history, their score sum, answers in the last 90 days) of the
    delivery touchpoint's ratings, as the recent and the whole-history frames `fitting_period` reads."""
    cell = {"stage_id": 2, "touchpoint_id": 9, "measure": "rating"}
    everything = pl.DataFrame(
        [cell | {"step_id": i, "step": name, "answers": n, "score_sum": float(total), "good": 0, "bad": 0}
         for i, name, n, total, _ in rows],
        schema={**ANSWER_SCHEMA, **SCORE_SCHEMA},
    ).select(*ANSWER_SCHEMA, *SCORE_SCHEMA)  # fmt: skip
    recent = pl.DataFrame(
        [cell | {"step_id": i, "step": name, "answers": r} for i, name, _, _, r in rows], schema=ANSWER_SCHEMA
    ).select(*ANSWER_SCHEMA)
    return recent, everything


def test_a_step_that_misses_target_behind_a_green_cell_opens_the_whole_history() -> None:
    """The late-delivery case: 150 late reviews at 2 stars among 1,850 on time at 4.3 (the cell at 4.13, on
    target); 19 late ones in the last 90 days would show a green cell. A rare step that reads like its cell
    (or worse than a cell already off target) says "not enough data" instead."""
    recent, everything = _step_answers([(1, "On time", 1850, 7955, 400), (2, "Late", 150, 300, 19)])
    chosen = fitting_period(history=STEP_HISTORY, definitions=RATED_CELL, recent_answers=recent,
                            all_answers=everything, min_answers=30)  # fmt: skip
    assert (chosen.reason, chosen.rule, chosen.period, chosen.short_metric, chosen.short_answers) == (
        "sparse", "step", STEP_HISTORY, "Late", 19,
    )  # fmt: skip
    assert (chosen.short_measure, chosen.short_target) == ("rating", 4.0)
    assert chosen.short_value == pytest.approx(2.0) and chosen.cell_value == pytest.approx(8255 / 2000)
    recent_days = Period(dt.date(2024, 10, 3), dt.date(2024, 12, 31))
    # rescheduled visits rated like the rest: too few lately to measure, nothing hidden
    recent, everything = _step_answers([(1, "Visit on the day", 1850, 7955, 400), (2, "Rescheduled", 150, 640, 10)])
    alike = fitting_period(history=STEP_HISTORY, definitions=RATED_CELL, recent_answers=recent,
                           all_answers=everything, min_answers=30)  # fmt: skip
    assert (alike.reason, alike.period, alike.rule) == ("recent", recent_days, None)
    # both steps poor: the cell itself misses target, so the short window hides nothing the cell does not show
    recent, everything = _step_answers([(1, "On time", 1850, 6475, 400), (2, "Late", 150, 300, 19)])
    both = fitting_period(history=STEP_HISTORY, definitions=RATED_CELL, recent_answers=recent,
                          all_answers=everything, min_answers=30)  # fmt: skip
    assert both.reason == "recent"


# (answers, mean rating, share of them in the last 90 days): means near the target and its band often
MEANS = st.one_of(st.sampled_from([1.5, 2.0, 3.6, 3.7, 3.71, 4.0, 4.3, 4.8]), st.floats(1.0, 5.0))
STEP_ROWS = st.tuples(st.integers(0, 400), MEANS, st.one_of(st.floats(0.0, 0.25), st.floats(0.0, 1.0)))
# often a well-rated, often-answered main step beside them, as on-time deliveries beside the late ones
MAIN_STEP = st.tuples(st.integers(200, 3000), st.floats(4.0, 5.0), st.floats(0.1, 0.5))
STEPS = st.tuples(st.lists(MAIN_STEP, max_size=1), st.lists(STEP_ROWS, min_size=1, max_size=3)).map(
    lambda drawn: drawn[0] + drawn[1]
)


@settings(max_examples=200, deadline=None)
@given(STEPS)
def test_the_default_period_follows_its_rules_on_any_steps(drawn: list[tuple[int, float, float]]) -> None:
    """Any split of a rated touchpoint into steps: the chosen period is the one the module's rules give,
    worked out here answer by answer."""
    rows = [(i, f"step {i}", n, round(mean * n), round(share * n)) for i, (n, mean, share) in enumerate(drawn)]
    recent, everything = _step_answers(rows)
    chosen = fitting_period(history=STEP_HISTORY, definitions=RATED_CELL, recent_answers=recent,
                            all_answers=everything, min_answers=MIN_ANSWERS)  # fmt: skip
    answers, recent_answers = sum(r[2] for r in rows), sum(r[4] for r in rows)
    if answers >= MIN_ANSWERS and recent_answers < MIN_ANSWERS:
        assert (chosen.reason, chosen.rule, chosen.short_answers) == ("sparse", "metric", recent_answers)
        return
    cell_on_target = answers >= MIN_ANSWERS and 4.0 - sum(r[3] for r in rows) / answers <= 0
    hidden = sorted(
        (lately, name) for _, name, n, total, lately in rows
        if cell_on_target and n >= MIN_ANSWERS and 4.0 - total / n > 0.3 and lately < MIN_ANSWERS
    )  # fmt: skip
    if hidden:
        assert (chosen.reason, chosen.rule, chosen.short_answers, chosen.short_metric) == (
            "sparse", "step", hidden[0][0], hidden[0][1],
        )  # fmt: skip
    else:
        assert (chosen.reason, chosen.period.days) == ("recent", 90)


def _definitions(rows: list[tuple[str, str, int | None, int | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"label": pl.String, "formula": pl.String, "stage_id": pl.Int64, "touchpoint_id": pl.Int64},
        orient="row",
    )


def _answers(rows: list[tuple[int, int | None, str, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"stage_id": pl.Int64, "touchpoint_id": pl.Int64, "measure": pl.String, "answers": pl.Int64},
        orient="row",
    )


def test_a_touchpoint_metric_with_19_recent_answers_opens_the_whole_history() -> None:
    """The late-delivery case: plenty of ratings overall, 19 on the late touchpoint in the last 90 days."""
    history = Period(dt.date(2023, 1, 1), dt.date(2024, 12, 31))
    definitions = _definitions([("Rating", "rating", None, None), ("Late delivery rating", "rating", 2, 9)])
    everything = _answers([(1, None, "rating", 5000), (2, 9, "rating", 700)])
    recent = _answers([(1, None, "rating", 800), (2, 9, "rating", 19)])
    chosen = fitting_period(
        history=history, definitions=definitions, recent_answers=recent, all_answers=everything, min_answers=30
    )
    assert (chosen.reason, chosen.period, chosen.short_metric, chosen.short_answers) == (
        "sparse",
        history,
        "Late delivery rating",
        19,
    )
    short = fitting_period(
        history=Period(dt.date(2024, 11, 1), dt.date(2024, 12, 31)),
        definitions=definitions,
        recent_answers=recent,
        all_answers=everything,
        min_answers=30,
    )
    assert (short.reason, short.whole_history) == ("short", True)
    # a metric that never reaches the minimum does not hold the view back
    never = _answers([(1, None, "rating", 5000), (2, 9, "rating", 20)])
    assert (
        fitting_period(
            history=history, definitions=definitions, recent_answers=recent, all_answers=never, min_answers=30
        ).reason
        == "recent"
    )


def test_a_touchpoint_holding_all_its_stages_answers_is_named_instead_of_the_stage() -> None:
    """Complaint reasons as touchpoints: a stage with one reason is named by the reason, and the stage it
    replaces still outweighs the others for "most unfavourable answers" (no other stage takes its place)."""
    stages = pl.DataFrame({"stage_id": [0, 1, 2], "stage_slug": ["a", "b", "c"], "stage": ["A", "B", "Mentions"]})
    touchpoints = pl.DataFrame(
        {
            "touchpoint_id": [10, 11, 12],
            "stage_id": [0, 1, 1],
            "channel_id": [1, 1, 1],
            "touchpoint_slug": ["service", "price", "app"],
            "touchpoint": ["Customer service", "Price", "App"],
        }
    )
    # stage, touchpoint, answers, negative: A's one reason 60 of 60; B's two reasons 20 each; C 200 with none
    rows = [(0, 10, 60, 60), (1, 11, 20, 20), (1, 12, 20, 20), (2, None, 200, 0)]
    feedback = pl.DataFrame(
        [(stage, 1, tp, "sentiment", n, float(-bad), 0, bad) for stage, tp, n, bad in rows],
        schema=TOUCHPOINT_FEEDBACK_SCHEMA,
        orient="row",
    )
    found = feedback_findings(
        feedback=feedback,
        stages=stages,
        channels=pl.DataFrame({"channel_id": [1], "channel_slug": ["social"]}),
        touchpoints=touchpoints,
        definitions=pl.DataFrame(schema={**DEFINITION_COLUMNS, "stage_id": pl.Int64, "touchpoint_id": pl.Int64}),
        min_answers=MIN_ANSWERS,
    )
    said = {(f["scope"], f["scope_name"]): f for f in found.iter_rows(named=True)}
    assert list(said) == [("touchpoint", "Customer service"), ("stage", "B")]
    service = said["touchpoint", "Customer service"]
    assert (service["stage_name"], service["stage_slug"], service["touchpoint_slug"]) == ("A", "a", "service")
    assert service["reasons"].split("; ") == [FEEDBACK_REASONS[0], FEEDBACK_REASONS[1]]
    assert said["stage", "B"]["reasons"] == FEEDBACK_REASONS[1]  # 40 negatives: not the most, A's 60 are


STAGE_ROWS = st.lists(st.tuples(st.integers(0, 200), st.integers(0, 200)), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(STAGE_ROWS)
def test_feedback_findings_match_a_direct_count(counts: list[tuple[int, int]]) -> None:
    """Per stage (bad, other) answers of one measure: the rules read as the docstring says."""
    stages = pl.DataFrame(
        {
            "stage_id": list(range(len(counts))),
            "stage_slug": [f"s{i}" for i in range(len(counts))],
            "stage": [f"S{i}" for i in range(len(counts))],
        }
    )
    feedback = pl.DataFrame(
        [(i, None, None, "sentiment", bad + other, float(-bad), 0, bad) for i, (bad, other) in enumerate(counts)],
        schema=TOUCHPOINT_FEEDBACK_SCHEMA,
        orient="row",
    )
    empty_definitions = pl.DataFrame(
        schema={
            **DEFINITION_COLUMNS,
            "stage_id": pl.Int64,
            "touchpoint_id": pl.Int64,
        }
    )
    found = feedback_findings(
        feedback=feedback,
        stages=stages,
        channels=pl.DataFrame(schema={"channel_id": pl.Int64, "channel_slug": pl.String}),
        touchpoints=pl.DataFrame(
            schema={
                "touchpoint_id": pl.Int64,
                "stage_id": pl.Int64,
                "channel_id": pl.Int64,
                "touchpoint_slug": pl.String,
                "touchpoint": pl.String,
            }
        ),
        definitions=empty_definitions,
        min_answers=MIN_ANSWERS,
    )
    total = sum(b + o for b, o in counts)
    journey_share = sum(b for b, _ in counts) / total if total else 0.0
    measured = {i: (b, o) for i, (b, o) in enumerate(counts) if b + o >= MIN_ANSWERS}
    most = max((b for b, _ in measured.values()), default=0)
    expected: dict[str, list[str]] = {}
    for i, (bad, other) in measured.items():
        reasons = []
        if bad == most and bad >= MIN_ANSWERS and sum(b == most for b, _ in measured.values()) == 1:
            reasons.append(FEEDBACK_REASONS[0])
        if bad / (bad + other) > journey_share + 0.10:
            reasons.append(FEEDBACK_REASONS[1])
        if reasons:
            expected[f"s{i}"] = reasons
    assert {f["stage_slug"]: f["reasons"].split("; ") for f in found.iter_rows(named=True)} == expected
    assert found["unfavourable"].to_list() == sorted(found["unfavourable"].to_list(), reverse=True)

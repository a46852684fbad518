"""Pain-point detection on crafted frames whose right answer is known."""

from __future__ import annotations

import polars as pl
import pytest

from dashboard.format import finding_evidence
from data_access.detection import DetectionRules, detect_pain_points, drop_off_outliers
from data_access.journey_map.assembly import cohort_funnel
from data_access.journey_map.content import LANE_SCHEMA, STEP_SCHEMA

STEPS = pl.DataFrame(
    {
        "step_id": [1, 2, 3, 4],
        "step_slug": ["a", "b", "c", "d"],
        "step_name": ["A", "B", "C", "D"],
        "position": [0, 1, 2, 3],
        "touchpoint_id": [10, 10, 20, None],
    },
).with_columns(pl.lit(None).cast(STEP_SCHEMA[c]).alias(c) for c in STEP_SCHEMA if c not in {"step_id", "step_slug",
                "step_name", "position", "touchpoint_id"}).select(list(STEP_SCHEMA))  # fmt: skip


STAGE = 99


def funnel(customers: list[int], kinds: str = "") -> pl.DataFrame:
    """A stage entry (customers[0]) and one step per further count, as `stage_funnel` returns them.

    `kinds` gives each step's kind by letter (r required, o optional, a alternative of group "visit"),
    all required when empty. A required step's count is the cohort of the required step before (or the
    stage entry) that reached it; an optional or alternative step's, the stage's entrants who took it.
    """
    kinds = kinds or "r" * (len(customers) - 1)
    names = {"r": "required", "o": "optional", "a": "alternative"}
    steps = pl.DataFrame(
        {
            "step_id": list(range(1, len(customers))),
            "step_name": list("ABCDEFG"[: len(customers) - 1]),
            "position": list(range(len(customers) - 1)),
            "step_kind": [names[k] for k in kinds],
            "group": ["visit" if k == "a" else None for k in kinds],
        }
    )
    rows = []
    previous: tuple[int | None, int] = (None, customers[0])
    for step_id, (kind, count) in enumerate(zip(kinds, customers[1:], strict=True), start=1):
        start = previous if kind == "r" else (None, customers[0])
        rows.append((STAGE, start[0], STAGE, step_id, count, start[1], count / start[1]))
        if kind == "r":
            previous = (step_id, count)
    conversions = pl.DataFrame(
        rows,
        schema=["stage_id", "step_id", "next_stage_id", "next_step_id", "converted", "entrants", "conversion"],
        orient="row",
    )
    return cohort_funnel((STAGE, "Stage"), steps, None, conversions, customers[0], 30)


def step_metric(step_id: int, *, value: float | None, previous: float | None, target: float = 20.0,
                formula: str = "nps", status: str = "green") -> dict[str, object]:  # fmt: skip
    improvement = None if value is None or previous is None else value - previous
    return {
        "step_id": step_id,
        "label": f"{formula.upper()} at {step_id}",
        "formula": formula,
        "direction": "higher",
        "value": value,
        "target": target,
        "previous_value": previous,
        "change": improvement,
        "improvement": improvement,
        "status": status,
    }


NO_TOUCHPOINT_METRICS = pl.DataFrame(
    schema={
        "scope": pl.String,
        "touchpoint_id": pl.Int64,
        "touchpoint_name": pl.String,
        "label": pl.String,
        "formula": pl.String,
        "value": pl.Float64,
        "target": pl.Float64,
        "previous_value": pl.Float64,
        "change": pl.Float64,
        "improvement": pl.Float64,
        "status": pl.String,
    }
)
NO_ITEMS = pl.DataFrame(schema=LANE_SCHEMA)


def test_drop_off_stands_out_above_median_plus_margin() -> None:
    """Drop-offs 0, 0.1, 0.5, 0.2: median 0.15, so only C (0.5) is more than 10 points above it."""
    customers = funnel([1000, 1000, 900, 450, 360])
    outliers = drop_off_outliers(customers)
    assert outliers["label"].to_list() == ["C"]
    assert outliers["median_drop_off"][0] == pytest.approx(0.15)


def test_drop_off_needs_enough_customers_before() -> None:
    """The same shape with 20 customers at the start is too small to call."""
    assert drop_off_outliers(funnel([20, 20, 18, 9, 7])).is_empty()
    assert drop_off_outliers(funnel([20, 20, 18, 9, 7]), DetectionRules(min_base=5))["label"].to_list() == ["C"]


def test_optional_steps_and_alternatives_are_never_drop_off() -> None:
    """A chasing step taken by 30 % and a 'late' alternative taken by 8 % of the entrants sit among required
    steps losing 10 % each: neither is a finding, and they do not pull the required steps' median."""
    with_others = funnel([1000, 900, 300, 810, 920, 80, 729], kinds="roraar")
    assert with_others.filter(pl.col("step_kind") != "required")["drop_off"].is_null().all()
    assert with_others.filter(pl.col("label") == "B")["share_of_entry"].item() == pytest.approx(0.3)
    assert drop_off_outliers(with_others).is_empty()
    # a required step that loses half of its cohort still stands out beside them
    hurting = funnel([1000, 900, 300, 450, 920, 80, 405], kinds="roraar")
    outliers = drop_off_outliers(hurting)
    assert outliers["label"].to_list() == ["C"]
    assert outliers["median_drop_off"][0] == pytest.approx(0.1)


def test_a_late_alternative_is_a_split_not_a_finding() -> None:
    """Delivered on time 92 %, late 8 %: the shares add up to at most 100 % and nothing is detected."""
    split = funnel([500, 500, 460, 40], kinds="raa")
    shares = split.filter(pl.col("step_kind") == "alternative")["share_of_entry"]
    assert shares.to_list() == pytest.approx([0.92, 0.08]) and shares.sum() <= 1.0
    found = detect_pain_points(
        step_metrics=pl.DataFrame([step_metric(1, value=30.0, previous=30.0)]),
        touchpoint_metrics=NO_TOUCHPOINT_METRICS,
        funnel=split,
        steps=STEPS,
        lane_items=NO_ITEMS,
        rules=DetectionRules(min_base=5),
    )
    assert found.filter(pl.col("reason") == "drop-off stands out").is_empty()


def test_even_drop_off_finds_nothing() -> None:
    """Every step losing 10 % is a steady funnel, not a pain point."""
    assert drop_off_outliers(funnel([1000, 900, 810, 729, 656])).is_empty()


def test_metric_rules_and_on_map() -> None:
    """Step 1 misses target, step 2 got worse by 20 NPS points (> 10), step 3 fell only 5, step 4 is fine."""
    metrics = pl.DataFrame(
        [
            step_metric(1, value=5.0, previous=6.0, status="red"),
            step_metric(2, value=30.0, previous=50.0),
            step_metric(3, value=30.0, previous=35.0),
            step_metric(4, value=None, previous=50.0, status="no data"),
        ]
    )
    touchpoints = pl.concat(
        [
            NO_TOUCHPOINT_METRICS,
            pl.DataFrame(
                {
                    "scope": ["touchpoint", "stage"],
                    "touchpoint_id": [20, None],
                    "touchpoint_name": ["Till", None],
                    "label": ["Till CSAT", "Stage CSAT"],
                    "formula": ["csat", "csat"],
                    "value": [70.0, 10.0],
                    "target": [80.0, 80.0],
                    "previous_value": [None, None],
                    "change": [None, None],
                    "improvement": [None, None],
                    "status": ["amber", "red"],
                },
            ),
        ],
        how="vertical_relaxed",
    )
    items = pl.concat(
        [NO_ITEMS, pl.DataFrame({"item_id": [1], "step_id": [3], "lane": ["pain_point"], "text": ["Queue"]})],
        how="diagonal_relaxed",
    )
    found = detect_pain_points(
        step_metrics=metrics,
        touchpoint_metrics=touchpoints,
        funnel=funnel([1000, 1000, 900, 810, 729]),
        steps=STEPS,
        lane_items=items,
    )
    assert found.select("scope", "scope_name", "reason", "on_map").rows() == [
        ("step", "A", "misses target", False),
        ("touchpoint", "Till", "misses target", True),
        ("step", "B", "got worse", False),
    ]
    assert found.select("formula", "value", "target", "previous_value", "change").rows()[2] == (
        "nps",
        30.0,
        20.0,
        50.0,
        -20.0,
    )
    evidence = found.select(finding_evidence())["evidence"]
    assert evidence[2] == "NPS at 2 went from +50 to +30 (-20)"
    # values read as everywhere else: a CSAT in %, not 70.0 against 80.0
    assert evidence[1] == "Till CSAT is 70.0% against a target of 80.0%"


def test_drop_off_finding_carries_its_evidence() -> None:
    """A drop-off finding names the share lost, the base and the stage's median."""
    found = detect_pain_points(
        step_metrics=pl.DataFrame([step_metric(1, value=30.0, previous=30.0)]),
        touchpoint_metrics=NO_TOUCHPOINT_METRICS,
        funnel=funnel([1000, 1000, 900, 450, 360]),
        steps=STEPS,
        lane_items=NO_ITEMS,
    )
    assert found.select("scope_name", "reason").rows() == [("C", "drop-off stands out")]
    assert found.select("formula", "base").rows() == [("drop_off", 900)]
    assert found.select(finding_evidence())["evidence"][0].startswith("50.0% of the 900 customers")
    assert found["change"][0] == pytest.approx(0.35)

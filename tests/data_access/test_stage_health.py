"""A stage's health on the overview's strip: the health rule over every metric of the stage's cells."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from data_access import metrics
from data_access.experience_map.assembly import with_stage_health
from data_access.metrics import Reading

MIN_ANSWERS = 30

readings = st.builds(
    Reading,
    value=st.one_of(st.none(), st.floats(-100, 100, allow_nan=False)),
    answers=st.integers(0, 60),
    target=st.one_of(st.none(), st.floats(-100, 100, allow_nan=False)),
    warning=st.floats(0, 20, allow_nan=False),
    direction=st.sampled_from(["higher", "lower"]),
)
# stages of cells, each cell a list of its metrics' readings
stage_cells = st.lists(st.lists(st.lists(readings, max_size=4), min_size=1, max_size=4), min_size=1, max_size=4)


@settings(deadline=None)  # a loaded machine must not fail it on time
@given(stage_cells)
def test_stage_health_is_the_health_of_all_its_cells_metrics(stages: list[list[list[Reading]]]) -> None:
    """The strip's colour equals `health` computed directly over the union of the stage's readings."""
    grid = pl.DataFrame(
        {
            "stage_slug": [f"s{s}" for s, cells in enumerate(stages) for _ in cells],
            "health_status": [
                metrics.health(cell, min_answers=MIN_ANSWERS).status.value for cells in stages for cell in cells
            ],
        }
    )
    rows = pl.DataFrame({"stage_slug": [f"s{s}" for s in range(len(stages))] + ["empty"]})
    shown = dict(with_stage_health(rows, grid).iter_rows())
    for s, cells in enumerate(stages):
        union = [reading for cell in cells for reading in cell]
        assert shown[f"s{s}"] == metrics.health(union, min_answers=MIN_ANSWERS).status.value
    assert shown["empty"] == "no data"


def test_worst_metric_is_the_worst_status_then_the_most_warning_bands_short() -> None:
    """Off target before near target; among off-target ones, the furthest from target in warning bands,
    whatever the units (a CSAT 10 points short with a 2-point band beats a CES 1.0 short with a 0.5 band)."""
    judged = pl.DataFrame(
        {
            "label": ["ces", "csat", "near", "fine", "unmeasured"],
            "value": [4.0, 70.0, 79.0, 90.0, None],
            "target": [5.0, 80.0, 80.0, 80.0, 50.0],
            "warning": [0.5, 2.0, 5.0, 5.0, 5.0],
            "direction": ["higher", "higher", "higher", "higher", "higher"],
            "status": ["red", "red", "amber", "green", "no data"],
        }
    )
    assert metrics.worst_first(judged)["label"].to_list() == ["csat", "ces", "near", "fine", "unmeasured"]
    lower = judged.with_columns(pl.lit("lower").alias("direction"), pl.lit("red").alias("status")).head(2)
    # lower is better: CES 4.0 against 5.0 is 2 bands better, CSAT 70 against 80 is 5 bands better
    assert metrics.worst_first(lower)["label"].to_list() == ["ces", "csat"]

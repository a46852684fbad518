"""The personas side by side: each cell's label as the page writes it."""

from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from dashboard.charts.personas import value_label_expr


def _labels(values: list[float | None]) -> list[str]:
    frame = pl.DataFrame({"value": values}, schema={"value": pl.Float64})
    return frame.select(value_label_expr("emotion")).to_series(0).to_list()


def test_emotion_labels_carry_the_sign_of_the_value_shown() -> None:
    assert _labels([0.04, -0.04, 0.0, 0.26, -0.81, None]) == ["0.0", "0.0", "0.0", "+0.3", "-0.8", "n/a"]


@given(st.floats(min_value=-2, max_value=2, allow_nan=False))
def test_an_emotion_label_reads_back_as_the_value_to_one_decimal(value: float) -> None:
    (label,) = _labels([value])
    assert abs(float(label) - value) <= 0.05 + 1e-9
    assert label != "-0.0" and label != "+0.0"
    assert label.startswith("+") == (float(label) > 0)

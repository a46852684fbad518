"""The journey map's additions to the metric maths: conversion, status, improvement and value spans."""

from __future__ import annotations

import polars as pl
import pytest

from data_access.metrics import (
    Status,
    conversion_expr,
    improvement_expr,
    status,
    status_expr,
    value_span,
)
from data_access.models import Measure


def test_conversion_expression() -> None:
    """Conversion divides by the row before; no base gives null, not a division by zero."""
    frame = pl.DataFrame({"reached": [6, 3, 0], "previous": [8, 0, 4]})
    result = frame.select(conversion_expr("reached", "previous").alias("conversion"))
    assert result["conversion"].to_list() == [0.75, None, 0.0]


@pytest.mark.parametrize(
    ("value", "target", "warning", "direction"),
    [
        (25.0, 20.0, 5.0, "higher"),
        (17.0, 20.0, 5.0, "higher"),
        (10.0, 20.0, 5.0, "higher"),
        (1.5, 2.0, 1.0, "lower"),
        (2.5, 2.0, 1.0, "lower"),
        (3.5, 2.0, 1.0, "lower"),
        (None, 2.0, 1.0, "lower"),
        (3.0, None, 1.0, "higher"),
    ],
)
def test_status_expr_matches_status(value: float | None, target: float | None, warning: float, direction: str) -> None:
    """The expression and the scalar function agree on every band and on missing values."""
    frame = pl.DataFrame(
        {"value": [value], "target": [target], "warning": [warning], "direction": [direction]},
        schema={"value": pl.Float64, "target": pl.Float64, "warning": pl.Float64, "direction": pl.String},
    )
    expected = status(value, target=target, warning=warning, direction=direction)
    assert frame.select(status_expr())[0, 0] == expected.value
    assert expected in set(Status)


def test_improvement_is_signed_by_direction() -> None:
    """A fall is a worsening for higher-is-better metrics and an improvement for lower-is-better ones."""
    frame = pl.DataFrame({"value": [10.0, 10.0], "previous_value": [20.0, 20.0], "direction": ["higher", "lower"]})
    assert frame.select(improvement_expr())[:, 0].to_list() == [-10.0, 10.0]


def test_value_spans() -> None:
    """Net shares span 200 points, CSAT 100, mean scores their scale."""
    assert value_span(Measure.NPS) == 200.0
    assert value_span(Measure.CSAT) == 100.0
    assert value_span(Measure.CES) == 6.0

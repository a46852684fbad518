"""Metric targets in a map file are written in the unit the UI shows: 95 is 95 % for a conversion; a target off
its scale is refused with the file, the line and the scale expected."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from data_access.db import session_scope
from data_access.mapfile import MapFileError, export_map, import_map
from data_access.metrics import TARGET_SCALES, Formula
from data_access.models import MetricDefinition

MAP = """version: 1
journeys:
  - slug: orders
    name: Orders
    stages:
      - slug: buy
        name: Buy
    metrics:
      - key: the-metric
        label: The metric
        formula: {formula}
        target: {target}
        warning: {warning}
"""


def _stored(engine: Engine) -> tuple[float | None, float]:
    with engine.connect() as connection:
        target, warning = connection.execute(select(MetricDefinition.target, MetricDefinition.warning)).one()
    return target, warning


def test_a_conversion_target_of_95_means_95_percent(sqlite_engine: Engine) -> None:
    """Stored as the fraction the conversion is computed in, exported as written."""
    with session_scope(sqlite_engine) as session:
        summary = import_map(session, MAP.format(formula="conversion", target=95, warning=3), source="orders.yaml")
    assert summary.warnings == []
    target, warning = _stored(sqlite_engine)
    assert (target, warning) == pytest.approx((0.95, 0.03))
    with session_scope(sqlite_engine) as session:
        exported = export_map(session)
    assert "target: 95" in exported and "warning: 3" in exported


@pytest.mark.parametrize(
    ("formula", "target", "scale"),
    [("conversion", 9500, "0..100"), ("rating", 6, "1..5"), ("csat", 0.8 - 1, "0..100"), ("nps", 150, "−100..100")],
)
def test_a_target_off_its_scale_is_refused_with_file_line_and_scale(
    sqlite_engine: Engine, formula: str, target: float, scale: str
) -> None:
    """Nothing is written; the message names the file, the target's line and the expected scale."""
    with session_scope(sqlite_engine) as session, pytest.raises(MapFileError) as raised:
        import_map(session, MAP.format(formula=formula, target=target, warning=0), source="orders.yaml")
    message = str(raised.value)
    assert message.startswith("orders.yaml:12: journeys[0].metrics[0].target:"), message
    assert scale in message
    with sqlite_engine.connect() as connection:
        assert connection.execute(select(MetricDefinition)).first() is None


def test_a_share_target_written_as_a_fraction_is_imported_with_a_warning(sqlite_engine: Engine) -> None:
    """0.3 is a valid 0.3 %, but most likely meant 30 %: the import says so."""
    with session_scope(sqlite_engine) as session:
        summary = import_map(session, MAP.format(formula="conversion", target=0.3, warning=0), source="o.yaml")
    assert len(summary.warnings) == 1 and "write 30 for 30 %" in summary.warnings[0]
    assert summary.warnings[0].startswith("o.yaml:12:")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(formula=st.sampled_from(Formula), share=st.floats(0, 1))
def test_any_target_on_its_scale_is_stored_in_the_metric_unit(
    sqlite_engine: Engine, formula: Formula, share: float
) -> None:
    """Stored = written ÷ the scale's factor (100 for shares, 1 otherwise), for any target on the scale."""
    scale = TARGET_SCALES[formula]
    written = round(scale.low + share * (scale.span() or 1000), 3)
    with session_scope(sqlite_engine) as session:
        import_map(session, MAP.format(formula=formula.value, target=written, warning=0), source="m.yaml")
    target, _warning = _stored(sqlite_engine)
    expected = written / 100 if formula.value in ("conversion", "drop_off") else written
    assert target == pytest.approx(expected)

"""A chart is built once per distinct input: the page draws the cached Vega-Lite specification."""

from __future__ import annotations

from collections import Counter
from functools import partial

import altair as alt
import polars as pl
import pytest
import streamlit as st

from dashboard.cache import chart_spec

BUILT: Counter[str] = Counter()


def bars(rows: pl.DataFrame, *, title: str) -> alt.Chart:
    """A small bar chart of `rows`, counting its builds."""
    BUILT[title] += 1
    return alt.Chart(rows, title=title).mark_bar().encode(x="stage:N", y="customers:Q")


@pytest.fixture(autouse=True)
def empty_caches() -> None:
    st.cache_data.clear()
    BUILT.clear()


def _rows(values: dict[str, int]) -> pl.DataFrame:
    return pl.DataFrame({"stage": list(values), "customers": list(values.values())})


def _values(spec: dict[str, object]) -> list[dict[str, object]]:
    datasets = spec["datasets"]
    assert isinstance(datasets, dict) and len(datasets) == 1
    return list(next(iter(datasets.values())))


def test_the_same_data_draws_the_same_chart_without_building_it_again() -> None:
    first = chart_spec(bars, _rows({"Onboarding": 120, "Usage": 80}), title="Customers")
    again = chart_spec(bars, _rows({"Onboarding": 120, "Usage": 80}), title="Customers")  # an equal, new frame
    assert BUILT["Customers"] == 1
    assert first == again == bars(_rows({"Onboarding": 120, "Usage": 80}), title="Customers").to_dict()
    assert _values(first) == [{"stage": "Onboarding", "customers": 120}, {"stage": "Usage", "customers": 80}]


def test_other_data_or_other_arguments_build_another_chart() -> None:
    before = chart_spec(bars, _rows({"Onboarding": 120}), title="Customers")
    after = chart_spec(bars, _rows({"Onboarding": 121}), title="Customers")
    retitled = chart_spec(bars, _rows({"Onboarding": 121}), title="Customers reaching")
    assert dict(BUILT) == {"Customers": 2, "Customers reaching": 1}
    assert _values(before) == [{"stage": "Onboarding", "customers": 120}]
    assert _values(after) == [{"stage": "Onboarding", "customers": 121}]
    assert retitled["title"] == "Customers reaching"


def test_a_partial_builder_is_keyed_by_its_arguments_too() -> None:
    chart_spec(partial(bars, _rows({"Onboarding": 1}), title="A"))
    chart_spec(partial(bars, _rows({"Onboarding": 1}), title="A"))
    spec = chart_spec(partial(bars, _rows({"Onboarding": 2}), title="A"))
    assert BUILT["A"] == 2
    assert _values(spec) == [{"stage": "Onboarding", "customers": 2}]


def test_a_drawn_specification_changed_by_its_caller_leaves_the_cached_one_whole() -> None:
    spec = chart_spec(bars, _rows({"Onboarding": 120}), title="Customers")
    spec["height"] = 999  # as a slide enlarges a chart
    assert "height" not in chart_spec(bars, _rows({"Onboarding": 120}), title="Customers")

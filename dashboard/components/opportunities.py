"""Where to act first: the opportunity matrix with its sorted list, for one stage or the whole journey.

One call from a page draws it all; clicking a mark opens the journey map of the opportunity's stage.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import polars as pl
import streamlit as st

from dashboard import routes
from dashboard.cache import chart_spec, load_opportunity_matrix
from dashboard.charts import opportunities as charts
from dashboard.exports import files
from dashboard.view_state import ViewState

DEFINITION = (
    "Measured value = customers who first reached the opportunity's step in the period × the gap of its linked "
    "metric to target (shortfall ÷ target, at most 100%). The linked metric is, of the metrics of the step's "
    "touchpoint and of its stage (the numbers its journey map shows), the one furthest short of target. "
    "Size is the team's own impact score; colour the status. Click a circle to open its stage."
)


def open_stage(selection_event: object, state: ViewState) -> None:
    """Open the journey map of the stage whose opportunity was clicked."""
    points = (
        selection_event.get("selection", {}).get(charts.OPPORTUNITY_SELECTION)
        if isinstance(selection_event, dict)
        else None
    )
    if isinstance(points, list) and points and points[0].get("stage_slug"):
        st.switch_page(
            routes.JOURNEY_MAP, query_params=state.with_(stage=points[0]["stage_slug"]).query(page="journey")
        )


def where_to_act_first(state: ViewState, *, stage: str | None, page: str) -> None:
    """The matrix of the stage's opportunities (`stage`), or of the whole journey's when `stage` is None."""
    matrix = load_opportunity_matrix(state.journey, state.persona, state.period, state.compared, stage)
    st.header("Where to act first")
    scope = "this stage" if stage else "the whole journey"
    if matrix.is_empty():
        st.caption(f"No opportunity is written on the map for {scope} yet.")
        return
    placed = charts.plotted(matrix).height
    chart = partial(charts.opportunity_matrix, matrix)
    if placed:
        spec = chart_spec(chart)
        open_stage(st.vega_lite_chart(spec, on_select="rerun", key=f"{page}_opportunities", width="stretch"), state)
    unplaced = matrix.height - placed
    note = (
        f" {unplaced} of {matrix.height} opportunities have no measured value or no effort score yet: "
        "listed below, not placed."
        if unplaced
        else ""
    )
    st.caption(DEFINITION + note)
    table = charts.opportunity_list(matrix)
    st.dataframe(
        table.drop("stage_slug", "owner"),
        hide_index=True,
        width="stretch",
        column_config={
            "opportunity": "Opportunity",
            "stage": "Stage",
            "step": "Step",
            "measured_value": st.column_config.TextColumn("Measured value", help="Customers reached × gap"),
            "customers_reached": "Customers reached",
            "linked_metric": "Linked metric",
            "gap": st.column_config.TextColumn("Gap", help="Shortfall to target ÷ target"),
            "impact": st.column_config.NumberColumn("Impact", format="%d", help="The team's impact score, 1–5"),
            "effort": st.column_config.NumberColumn("Effort", format="%d", help="The team's effort score, 1–5"),
            "status": "Status",
        },
    )
    name = partial(
        files.file_name,
        journey=state.journey,
        scope=f"{stage or 'journey'}-opportunities",
        date_from=state.date_from,
        date_to=state.date_to,
    )
    table_csv = files.csv_bytes(_export_table(matrix))
    downloads: list[tuple[str, Any, str, str]] = [("Opportunities (CSV)", table_csv, "csv", "text/csv")]
    if placed:
        downloads += [
            ("Matrix (PNG)", lambda: files.chart_png(chart()), "png", "image/png"),
            ("Matrix (SVG)", lambda: files.chart_svg(chart()), "svg", "image/svg+xml"),
        ]
    for column, (label, data, extension, mime) in zip(st.columns(3), downloads, strict=False):
        column.download_button(
            label, data, file_name=name(extension=extension), mime=mime, on_click="ignore",
            key=f"{page}_opportunities_{extension}",
        )  # fmt: skip


def _export_table(matrix: pl.DataFrame) -> pl.DataFrame:
    """The numbers behind the matrix, unrounded, for a spreadsheet."""
    return matrix.select(
        "stage_slug", "step_name", "text", "owner", "status", "impact", "effort", "reach",
        "metric_key", "metric_value", "metric_target", "gap", pl.col("measured_value").round(2),
    )  # fmt: skip

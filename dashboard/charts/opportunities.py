"""Chart builder of "where to act first": the opportunity matrix, measured value against effort.

Pure: `opportunities.load_opportunity_matrix`'s frame in, `alt.Chart` out. One circle per opportunity whose
value is measured; its size is the team's own impact score, its colour the opportunity's status. Clicking a
circle selects its stage (`opportunity` selection), which the page opens.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboard import format
from dashboard.charts.palette import GOOD, MEASURED, MUTED_INK, NO_DATA, WARNING

OPPORTUNITY_SELECTION = "opportunity"
# status words as the map writes them (case and spaces ignored); anything else reads "other"
STATUS_ORDER = ["open", "in progress", "done", "dropped", "other"]
STATUS_COLOURS = {"open": MEASURED, "in progress": WARNING, "done": GOOD, "dropped": NO_DATA, "other": MUTED_INK}


def status_word_expr() -> pl.Expr:
    """An opportunity's status as the matrix groups it: one of `STATUS_ORDER`."""
    word = pl.col("status").str.strip_chars().str.to_lowercase()
    return pl.when(word.is_in(STATUS_ORDER[:-1])).then(word).otherwise(pl.lit("other")).alias("status_word")


def plotted(matrix: pl.DataFrame) -> pl.DataFrame:
    """The opportunities the matrix can place: a measured value and an effort score; with their labels."""
    return matrix.filter(pl.col("measured_value").is_not_null(), pl.col("effort").is_not_null()).with_columns(
        status_word_expr(),
        format.count_expr(pl.col("measured_value").round(0)).alias("value_label"),
        format.count_expr(pl.col("reach")).alias("reach_label"),
        format.value_expr(pl.col("gap"), pl.lit("conversion")).alias("gap_label"),
        pl.format(
            "{} {} against {}",
            "metric_label",
            format.value_expr(pl.col("metric_value"), pl.col("metric_formula")),
            format.value_expr(pl.col("metric_target"), pl.col("metric_formula")),
        ).alias("metric_text"),
        pl.col("impact").fill_null(0).alias("impact_size"),
        # opportunities of equal effort sit side by side around their effort, so none hides another
        (
            pl.col("effort")
            + (pl.int_range(pl.len()).over("effort") - (pl.len().over("effort") - 1) / 2)
            * pl.min_horizontal(pl.lit(0.12), 0.7 / pl.len().over("effort"))
        ).alias("effort_position"),
    )


def opportunity_matrix(matrix: pl.DataFrame, *, height: int = 380) -> alt.Chart:
    """Measured value (customers × gap to target) against the team's effort score, sized by its impact score."""
    points = plotted(matrix)
    selection = alt.selection_point(name=OPPORTUNITY_SELECTION, fields=["stage_slug"], on="click")
    tooltip = [
        alt.Tooltip("text:N", title="Opportunity"),
        alt.Tooltip("stage_name:N", title="Stage"),
        alt.Tooltip("step_name:N", title="Step"),
        alt.Tooltip("value_label:N", title="Measured value"),
        alt.Tooltip("reach_label:N", title="Customers reached"),
        alt.Tooltip("metric_text:N", title="Linked metric"),
        alt.Tooltip("gap_label:N", title="Gap to target"),
        alt.Tooltip("impact:Q", title="Team's impact (1–5)"),
        alt.Tooltip("effort:Q", title="Effort (1–5)"),
        alt.Tooltip("status_word:N", title="Status"),
        alt.Tooltip("owner:N", title="Owner"),
    ]
    return (
        alt.Chart(points)
        .mark_circle(opacity=0.85, stroke="white", strokeWidth=1, cursor="pointer")
        .encode(
            x=alt.X(
                "effort_position:Q",
                title="Effort (team's estimate, 1 low – 5 high)",
                scale=alt.Scale(domain=[0.5, 5.5]),
                axis=alt.Axis(values=[1, 2, 3, 4, 5], format="d"),
            ),
            y=alt.Y("measured_value:Q", title="Measured value (customers × gap)", axis=alt.Axis(format=",.0f")),
            size=alt.Size(
                "impact_size:Q",
                title="Team's impact (1–5)",
                scale=alt.Scale(domain=[0, 5], range=[40, 600]),
                legend=alt.Legend(orient="right", values=[1, 3, 5]),
            ),
            color=alt.Color(
                "status_word:N",
                title="Status",
                scale=alt.Scale(domain=STATUS_ORDER, range=[STATUS_COLOURS[s] for s in STATUS_ORDER]),
                legend=alt.Legend(orient="right"),
            ),
            tooltip=tooltip,
        )
        .add_params(selection)
        .properties(
            height=height, title=alt.Title("Measured value against effort, one circle per opportunity", anchor="start")
        )
    )


def opportunity_list(matrix: pl.DataFrame) -> pl.DataFrame:
    """The matrix as a table, biggest measured value first, every number written by `format`."""
    return matrix.with_columns(status_word_expr()).select(
        pl.col("text").alias("opportunity"),
        pl.col("stage_name").alias("stage"),
        pl.col("step_name").alias("step"),
        pl.when(pl.col("measured_value").is_null())
        .then(pl.lit("not enough data"))
        .otherwise(format.count_expr(pl.col("measured_value").round(0)))
        .alias("measured_value"),
        format.count_expr(pl.col("reach")).alias("customers_reached"),
        pl.when(pl.col("metric_key").is_null())
        .then(pl.lit("no measured metric with a target"))
        .otherwise(
            pl.format(
                "{} {} against {}",
                "metric_label",
                format.value_expr(pl.col("metric_value"), pl.col("metric_formula")),
                format.value_expr(pl.col("metric_target"), pl.col("metric_formula")),
            )
        )
        .alias("linked_metric"),
        format.value_expr(pl.col("gap"), pl.lit("conversion")).alias("gap"),
        "impact",
        "effort",
        pl.col("status_word").alias("status"),
        "owner",
        "stage_slug",
    )

"""What leaves the app for a review meeting: the link of a view, its numbers as CSV, its main chart as an image.

Pure (no streamlit): frames and charts in, strings and bytes out. CSV text cells that a spreadsheet would
read as a formula are neutralised; images are rendered offline with vl-convert, so no browser is needed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from urllib.parse import urlencode

import altair as alt
import polars as pl
import vl_convert

from dashboard import format
from dashboard.charts import journey as journey_charts

FORMULA_START = r"^[=+\-@\t\r]"
EXPORT_WIDTH = 960
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9-]+")


def view_link(page_url: str | None, *, page: str, query: Mapping[str, str]) -> str:
    """The full link of a view: the page's URL in the browser (or just its path when unknown) plus the query."""
    if not page_url:
        page_url = "/journey" if page == "journey" else "/"
    elif page == "overview" and not page_url.endswith("/"):
        page_url += "/"
    return f"{page_url}?{urlencode(query)}"


def file_name(*, journey: str, scope: str, date_from: dt.date, date_to: dt.date, extension: str) -> str:
    """`journey-atlas_<journey>_<stage or overview>_<from>_<to>.<extension>`, safe on any file system."""
    parts = ["journey-atlas", journey, scope, date_from.isoformat(), date_to.isoformat()]
    return "_".join(_UNSAFE_NAME.sub("-", part) for part in parts) + f".{extension}"


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells starting with = + - @ tab or carriage return get a leading quote; numbers stay numbers."""
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(FORMULA_START))
        .then(pl.concat_str(pl.lit("'"), pl.col(name)))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text_columns
    )


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """The frame as UTF-8 CSV with formula-like text neutralised, ready for a download button."""
    return neutralise_formulas(frame).write_csv().encode("utf-8")


def touchpoint_table(grid: pl.DataFrame) -> pl.DataFrame:
    """The touchpoint grid's cells as a table, in the grid's stage and channel order, labelled as on the map."""
    return (
        grid.sort("stage_position", "channel_position")
        .with_columns(format.grid_labels())
        .select(
            "stage",
            "channel",
            "touchpoints",
            "moment_of_truth",
            "value",
            "value_label",
            "status",
            "answers",
            "events",
            "health_label",
            "nps_label",
            "csat_label",
            "ces_label",
        )
    )


def stage_metric_table(metrics: pl.DataFrame) -> pl.DataFrame:
    """The stage's linked metrics as a table: value, target and change against the previous period."""
    return metrics.select(
        "label",
        "key",
        "formula",
        "unit",
        "direction",
        pl.coalesce("touchpoint_name", "scope").alias("linked_to"),
        "value",
        "sample",
        "target",
        "warning",
        "status",
        "previous_value",
        "previous_sample",
        "change",
    )


def stage_emotion_chart(emotions: pl.DataFrame, *, step_order: list[str], stage_name: str) -> alt.Chart:
    """The journey map's emotion curve on its own: steps named, scale labelled, titled with the stage."""
    curve = journey_charts.emotion_curve(emotions, step_order=step_order, height=260, standalone=True)
    return curve.properties(title=alt.Title(f"{stage_name}: emotion over the steps", anchor="start"))


def _sized_spec(chart: alt.TopLevelMixin, width: int) -> dict:
    return chart.properties(width=width).to_dict()


def chart_png(chart: alt.TopLevelMixin, *, width: int = EXPORT_WIDTH, scale: float = 2) -> bytes:
    """The chart as a PNG `width` pixels wide before scaling (so about `scale` × `width` in the file)."""
    return bytes(vl_convert.vegalite_to_png(_sized_spec(chart, width), scale=scale))


def chart_svg(chart: alt.TopLevelMixin, *, width: int = EXPORT_WIDTH) -> str:
    """The chart as a standalone SVG document."""
    return str(vl_convert.vegalite_to_svg(_sized_spec(chart, width)))

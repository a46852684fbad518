"""Chart builder of the personas page: the personas side by side, one row per persona, one column per stage.

Pure: `personas.comparison_matrix`'s frame in, `alt.Chart` out. A cell with too few answers is pale grey with
a dashed outline and reads "n/a": not enough data, never a colour on the scale.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboard import format
from dashboard.charts.palette import INK, NO_DATA
from data_access.metrics import Formula

# colour scale of each comparison metric: (scheme, domain); diverging around the neutral middle where one exists
SCALES: dict[str, tuple[str, list[float] | None]] = {
    "emotion": ("redblue", [-2.0, 2.0]),
    "nps": ("redblue", [-100.0, 100.0]),
    "sentiment": ("redblue", [-100.0, 100.0]),
    "csat": ("blues", [0.0, 100.0]),
    "ces": ("blues", [1.0, 7.0]),
    "customers": ("blues", None),
}


def value_label_expr(metric: str) -> pl.Expr:
    """A cell's value as the page writes it: the metric's own text rule; emotion with its sign, 1 decimal."""
    if metric == "emotion":
        shown = pl.col("value").round(1)  # the sign of what is shown: -0.04 reads 0.0, never -0.0 or +0.0
        text = (
            pl.when(shown > 0)
            .then(pl.format("+{}", shown))
            .when(shown < 0)
            .then(shown.cast(pl.String))
            .otherwise(pl.lit("0.0"))
        )
        return pl.when(shown.is_null()).then(pl.lit("n/a")).otherwise(text)
    formula = Formula.VOLUME.value if metric == "customers" else metric
    return (
        pl.when(pl.col("value").is_null())
        .then(pl.lit("n/a"))
        .otherwise(format.value_expr(pl.col("value"), pl.lit(formula)))
    )


def persona_comparison(matrix: pl.DataFrame, *, metric: str, metric_label: str) -> alt.LayerChart:
    """Persona × stage heatmap of `metric`; all customers on the first row for reference."""
    stage_order = matrix.sort("stage_position")["stage"].unique(maintain_order=True).to_list()
    persona_order = matrix.sort("persona_order")["persona_name"].unique(maintain_order=True).to_list()
    cells = matrix.with_columns(
        value_label_expr(metric).alias("value_label"),
        format.count_expr(pl.col("sample")).alias("sample_label"),
    )
    scheme, domain = SCALES.get(metric, ("blues", None))
    base = alt.Chart(cells).encode(
        x=alt.X(
            "stage:O",
            sort=stage_order,
            title=None,
            axis=alt.Axis(orient="top", labelAngle=0, labelFontSize=11, labelOverlap=False, labelLimit=100),
        ),
        y=alt.Y("persona_name:O", sort=persona_order, title=None, axis=alt.Axis(labelFontSize=12, labelLimit=200)),
    )
    no_data = alt.datum.value == None  # noqa: E711 (a Vega expression, not Python)
    measured = (
        base.transform_filter("datum.value != null")
        .mark_rect(cornerRadius=4, stroke="white")
        .encode(
            color=alt.Color(
                "value:Q",
                title=metric_label,
                scale=alt.Scale(scheme={"name": scheme}, domain=domain)
                if domain
                else alt.Scale(scheme={"name": scheme}),
                legend=alt.Legend(orient="bottom", gradientLength=240),
            ),
            tooltip=[
                alt.Tooltip("persona_name:N", title="Persona"),
                alt.Tooltip("stage:N", title="Stage"),
                alt.Tooltip("value_label:N", title=metric_label),
                alt.Tooltip("sample_label:N", title="Answers or customers"),
            ],
        )
    )
    unmeasured = base.transform_filter(no_data).mark_rect(
        cornerRadius=4, color=NO_DATA, stroke="#8A8A8A", strokeDash=[4, 3]
    )
    labels = base.mark_text(fontSize=12, color=INK).encode(text="value_label:N")
    return alt.layer(measured, unmeasured, labels).properties(  # type: ignore[return-value]
        height=alt.Step(40), title=alt.Title(f"Personas side by side: {metric_label}", anchor="start")
    )

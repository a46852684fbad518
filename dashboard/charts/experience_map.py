"""Chart builders of the experience map: the touchpoint grid, the stage strip and the emotional curve."""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboard import format, format_answers
from dashboard.charts.palette import ASSUMED, BAD, INK, MEASURED, MUTED_INK, STATUS_COLOURS, STATUS_ORDER

CELL_SELECTION = "cell"
STAGE_SELECTION = "stage"


def _stage_order(frame: pl.DataFrame) -> list[str]:
    return frame.sort("stage_position")["stage"].unique(maintain_order=True).to_list()


def touchpoint_heatmap(grid: pl.DataFrame, *, metric: str, metric_label: str, stage_order: list[str]) -> alt.LayerChart:
    """Stage × channel grid, one cell per touchpoint cell, coloured by status (or volume) and labelled.

    `grid` is `experience_map.touchpoint_grid`'s frame; its texts come from `format.grid_labels`.

    Cells with too little data are pale grey with a dashed outline, so they never read as bad cells.
    Clicking a cell selects its stage, channel and (when the cell holds one) touchpoint (`cell` selection).
    """
    channel_order = grid.sort("channel_position")["channel"].unique(maintain_order=True).to_list()
    grid = grid.with_columns(*format.grid_labels(), format.status_expr("status").alias("status_word"))
    selection = alt.selection_point(
        name=CELL_SELECTION, fields=["stage_slug", "channel_slug", "touchpoint_slug"], on="click"
    )
    base = alt.Chart(grid).encode(
        x=alt.X(
            "stage:O",
            sort=stage_order,
            title=None,
            axis=alt.Axis(orient="top", labelAngle=0, labelFontSize=11, labelOverlap=False, labelLimit=80),
        ),
        y=alt.Y("channel:O", sort=channel_order, title=None, axis=alt.Axis(labelFontSize=13)),
    )
    if metric == "volume":
        colour = alt.Color(
            "value:Q", title="Events and answers", scale=alt.Scale(scheme="blues"), legend=alt.Legend(orient="bottom")
        )
    else:
        colour = alt.Color(
            "status_word:N",
            title=metric_label,
            scale=alt.Scale(
                domain=[format.status_text(s) for s in STATUS_ORDER], range=[STATUS_COLOURS[s] for s in STATUS_ORDER]
            ),
            legend=alt.Legend(orient="bottom", labelFontSize=12),
        )
    tooltip = [
        alt.Tooltip("stage:N", title="Stage"),
        alt.Tooltip("channel:N", title="Channel"),
        alt.Tooltip("touchpoints:N", title="Touchpoints"),
        alt.Tooltip("value_label:N", title=metric_label),
        alt.Tooltip("status_word:N", title="Status"),
        alt.Tooltip("health_label:N", title="Metrics"),  # not "Health": a key the value may already use
        alt.Tooltip("nps_label:N", title="NPS"),
        alt.Tooltip("csat_label:N", title="CSAT"),
        alt.Tooltip("ces_label:N", title="CES"),
        alt.Tooltip("events:Q", title="Events", format=","),
        alt.Tooltip("answers:Q", title="Answers", format=","),
    ]
    no_data = alt.datum.status == "no data"
    cells = base.mark_rect(cornerRadius=4, strokeWidth=1.5, aria=False).encode(
        color=colour,
        stroke=alt.condition(no_data, alt.value("#8A8A8A"), alt.value("white")),
        strokeDash=alt.condition(no_data, alt.value([4, 3]), alt.value([1, 0])),
        opacity=alt.condition(selection, alt.value(1.0), alt.value(0.55)),
    )
    labels = base.mark_text(fontSize=13, fontWeight="bold", aria=False).encode(
        text="value_label:N",
        color=alt.condition(
            (alt.datum.status == "green") | (alt.datum.status == "red"), alt.value("white"), alt.value(INK)
        ),
    )
    return alt.layer(cells, labels, _click_target(base, tooltip, selection)).properties(  # type: ignore[return-value]
        height=alt.Step(46), title=alt.Title("Touchpoints by stage and channel", anchor="start")
    )


def _click_target(base: alt.Chart, tooltip: list[alt.Tooltip], selection: alt.Parameter) -> alt.Chart:
    """A transparent box over each mark that takes clicks and tooltips, so clicking a label works too."""
    return base.mark_rect(fill="transparent", cursor="pointer").encode(tooltip=tooltip).add_params(selection)


def stage_strip(stages: pl.DataFrame) -> alt.LayerChart:
    """One clickable box per stage with its customers (its answers where no customer reached it): the way
    into a journey map.

    Expects stage, stage_slug, stage_position, customers, answers, findings and findings_detail.
    """
    order = _stage_order(stages)
    stages = stages.with_columns(format_answers.stage_count_expr())
    selection = alt.selection_point(name=STAGE_SELECTION, fields=["stage_slug"], on="click")
    base = alt.Chart(stages).encode(x=alt.X("stage:O", sort=order, title=None, axis=None))
    tooltip = [
        alt.Tooltip("stage:N", title="Stage"),
        alt.Tooltip("summary:N", title="In the period"),
        alt.Tooltip("findings_detail:N", title="Findings"),
    ]
    boxes = base.mark_rect(cornerRadius=6, color="#e8eef7", stroke="#9fb3d1", aria=False).encode(
        opacity=alt.condition(selection, alt.value(1.0), alt.value(0.6))
    )
    names = base.mark_text(dy=-16, fontSize=13, fontWeight="bold", color=INK, aria=False).encode(text="stage:N")
    details = base.mark_text(dy=1, fontSize=11, color=MUTED_INK, aria=False).encode(text="summary:N")
    findings = base.mark_text(dy=16, fontSize=11, color=BAD, aria=False).encode(text="findings:N")
    layers = alt.layer(boxes, names, details, findings, _click_target(base, tooltip, selection))
    return layers.properties(height=64)  # type: ignore[return-value]


def emotional_curve(curve: pl.DataFrame, *, moments: list[str]) -> alt.LayerChart:
    """Measured and assumed emotion per stage on −2..+2, with moments of truth flagged above the curve."""
    order = _stage_order(curve)
    x = alt.X(
        "stage:O",
        sort=order,
        title=None,
        axis=alt.Axis(labelAngle=0, labelFontSize=12, labelOverlap=False, labelLimit=110),
    )
    y = alt.Y("emotion:Q", title="Emotion (−2 … +2)", scale=alt.Scale(domain=[-2, 2]))
    source_colour = alt.Color(
        "source:N",
        title=None,
        scale=alt.Scale(domain=["measured", "assumed"], range=[MEASURED, ASSUMED]),
        legend=alt.Legend(orient="top", labelFontSize=12),
    )
    base = alt.Chart(curve).encode(x=x, y=y, color=source_colour)
    lines = base.mark_line(strokeWidth=3).encode(
        strokeDash=alt.StrokeDash(
            "source:N", scale=alt.Scale(domain=["measured", "assumed"], range=[[1, 0], [6, 4]]), legend=None
        )
    )
    points = base.mark_point(filled=True, size=70).encode(
        tooltip=[
            alt.Tooltip("stage:N", title="Stage"),
            alt.Tooltip("source:N", title="Curve"),
            alt.Tooltip("emotion:Q", title="Emotion", format="+.2f"),
            alt.Tooltip("answers:Q", title="Answers", format=","),
        ]
    )
    zero = alt.Chart(pl.DataFrame({"zero": [0.0]})).mark_rule(color="#999", strokeDash=[2, 2]).encode(y="zero:Q")
    layers = zero + lines + points
    if moments:
        flags = pl.DataFrame({"stage": moments, "emotion": [1.85] * len(moments), "label": ["★"] * len(moments)})
        layers += (
            alt.Chart(flags)
            .mark_text(fontSize=16, color=MUTED_INK)
            .encode(x=alt.X("stage:O", sort=order), y=alt.Y("emotion:Q"), text="label:N")
        )
    return layers.properties(height=260, title=alt.Title("Emotional curve: measured vs assumed", anchor="start"))


def sparkline(weekly: pl.DataFrame, *, formula: str) -> alt.LayerChart:
    """A headline tile's small line of its metric per week of the period (columns week, value, answers).

    No axes: the tile states the value; weeks with too few answers are gaps, not zeros.
    """
    _axis, value_format = format.chart_formats(formula)
    base = alt.Chart(weekly.with_columns(pl.col("week").cast(pl.String))).encode(
        x=alt.X("week:T", axis=None),
        y=alt.Y("value:Q", axis=None, scale=alt.Scale(zero=False)),
    )
    line = base.mark_line(color=MEASURED, strokeWidth=2, interpolate="monotone")
    points = base.mark_point(color=MEASURED, filled=True, size=18).encode(
        tooltip=[
            alt.Tooltip("week:T", title="Week of", format="%d %b %Y"),
            alt.Tooltip("value:Q", title="Value", format=value_format),
            alt.Tooltip("answers:Q", title="Answers", format=","),
        ]
    )
    return alt.layer(line, points).properties(height=44)  # type: ignore[return-value]

"""Chart builders of the experience map: the touchpoint grid, the stage strip and the emotional curve."""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboard import format
from dashboard.charts.palette import (
    ASSUMED,
    INK,
    MEASURED,
    MUTED_INK,
    NO_DATA,
    NO_DATA_EDGE,
    NO_DATA_HATCH,
    QUIET_EDGE,
    STATUS_COLOURS,
    STATUS_ORDER,
    STATUS_TINTS,
    VOLUME_STEPS,
    WHITE,
    ink_on,
)

CELL_SELECTION = "cell"
STAGE_SELECTION = "stage"
# The strip, the grid and the curve share one x axis: the same band scale over the stages, and the same
# width left of it (row labels), so each stage's box, column and point sit on one vertical line.
ROW_LABEL_WIDTH = 96
ROW_LABEL_CHARS = 13
STAGE_PADDING = 0.06
HATCH_STRIPES = 7
STRIP_HEIGHT = 104  # the view is this less Vega's padding: five 16 px lines
ALARM_INK = "#9A3A00"  # open pain points: a dark vermillion that reads on every strip tint


def _stage_order(frame: pl.DataFrame) -> list[str]:
    return frame.sort("stage_position")["stage"].unique(maintain_order=True).to_list()


def stage_x(order: list[str], *, axis: alt.Axis | None = None) -> alt.X:
    """The stages' x encoding every experience-map chart uses, so that their columns line up."""
    scale = alt.Scale(type="band", domain=order, paddingInner=STAGE_PADDING, paddingOuter=STAGE_PADDING / 2)
    return alt.X("stage:N", sort=order, scale=scale, title=None, axis=axis)


def _row_axis(**options: object) -> alt.Axis:
    """The left axis of each chart, exactly ROW_LABEL_WIDTH wide whatever its labels."""
    settings: dict[str, object] = {"minExtent": ROW_LABEL_WIDTH, "maxExtent": ROW_LABEL_WIDTH, "ticks": False}
    settings |= {"labelLimit": ROW_LABEL_WIDTH - 4, "labelFontSize": 12, "domain": False, "title": None}
    return alt.Axis(**(settings | options))  # type: ignore[arg-type]


def _hatch() -> dict[str, object]:
    """A diagonal stripe fill for "not enough data" (Vega draws no dash on rect marks)."""
    stops: list[dict[str, object]] = []
    for stripe in range(HATCH_STRIPES):
        low, middle, high = (stripe / HATCH_STRIPES, (stripe + 0.5) / HATCH_STRIPES, (stripe + 1) / HATCH_STRIPES)
        stops += [
            {"offset": low, "color": NO_DATA},
            {"offset": middle, "color": NO_DATA},
            {"offset": middle, "color": NO_DATA_HATCH},
            {"offset": high, "color": NO_DATA_HATCH},
        ]
    return {"gradient": "linear", "x1": 0, "y1": 0, "x2": 1, "y2": 1, "stops": stops}


def touchpoint_heatmap(grid: pl.DataFrame, *, metric: str, metric_label: str, stage_order: list[str]) -> alt.LayerChart:
    """Stage × channel grid, one cell per touchpoint cell, coloured by status (or volume) and labelled.

    `grid` is `experience_map.touchpoint_grid`'s frame; its texts come from `format.grid_labels`.

    Cells with too little data are hatched grey, so they never read as bad cells. Volume is drawn in five
    steps, and every cell's text takes the ink that reads on its fill (`palette.ink_on`).
    Clicking a cell selects its stage, channel and (when the cell holds one) touchpoint (`cell` selection).
    """
    channel_order = grid.sort("channel_position")["channel"].unique(maintain_order=True).to_list()
    lines = {name: format.charts.wrapped(name, width=ROW_LABEL_CHARS) for name in channel_order}
    # volume: events and answers in the cell (the grid's value when coloured by volume)
    volume = pl.col("value").fill_null(0) if metric == "volume" else pl.col("events")
    largest = int(grid.select(volume.max()).item() or 0) if grid.height else 0
    band, band_labels = format.charts.volume_bands(volume, largest=largest, steps=len(VOLUME_STEPS))
    fills = dict(zip(band_labels, VOLUME_STEPS, strict=True)) | {
        format.status_text(s): STATUS_COLOURS[s] for s in STATUS_ORDER
    }
    grid = grid.with_columns(
        *format.grid_labels(),
        format.status_expr("status").alias("status_word"),
        pl.col("channel").replace_strict(lines, default=pl.col("channel")).alias("channel_line"),
        band.alias("volume_band"),
    )
    shade = "volume_band" if metric == "volume" else "status_word"
    grid = grid.with_columns(
        pl.col(shade).replace_strict({k: ink_on(v) for k, v in fills.items()}, default=INK).alias("ink")
    )
    selection = alt.selection_point(
        name=CELL_SELECTION, fields=["stage_slug", "channel_slug", "touchpoint_slug"], on="click"
    )
    base = alt.Chart(grid).encode(
        x=stage_x(stage_order, axis=alt.Axis(orient="top", labelAngle=0, labelFontSize=12, labelOverlap=False)),
        y=alt.Y(
            "channel_line:N",
            sort=[lines[name] for name in channel_order],
            axis=_row_axis(labelFontSize=13, labelExpr="split(datum.label, '\\n')"),
        ),
    )
    no_data_word = format.status_text("no data")
    if metric == "volume":
        domain = [*band_labels, no_data_word]
        colour = alt.Color(
            "volume_band:N",
            title="Events and answers",
            scale=alt.Scale(domain=domain, range=[fills[label] for label in domain]),
            legend=alt.Legend(orient="bottom", labelFontSize=12, titleFontSize=12),
        )
    else:
        colour = alt.Color(
            "status_word:N",
            title=metric_label,
            scale=alt.Scale(
                domain=[format.status_text(s) for s in STATUS_ORDER], range=[STATUS_COLOURS[s] for s in STATUS_ORDER]
            ),
            legend=alt.Legend(orient="bottom", labelFontSize=12, titleFontSize=12),
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
        stroke=alt.condition(no_data, alt.value(NO_DATA_EDGE), alt.value(WHITE)),
        opacity=alt.condition(selection, alt.value(1.0), alt.value(0.55)),
    )
    hatched = (
        base.transform_filter(no_data)
        .mark_rect(cornerRadius=4, stroke=NO_DATA_EDGE, strokeWidth=1.5, fill=_hatch(), aria=False)
        .encode(opacity=alt.condition(selection, alt.value(1.0), alt.value(0.55)))
    )
    labels = base.mark_text(fontSize=13, fontWeight="bold", aria=False).encode(
        text="value_label:N", color=alt.Color("ink:N", scale=None)
    )
    return alt.layer(cells, hatched, labels, _click_target(base, tooltip, selection)).properties(  # type: ignore[return-value]
        height=alt.Step(46), title=alt.Title("Touchpoints by stage and channel", anchor="start")
    )


def _click_target(base: alt.Chart, tooltip: list[alt.Tooltip], selection: alt.Parameter) -> alt.Chart:
    """A transparent box over each mark that takes clicks and tooltips, so clicking a label works too."""
    return base.mark_rect(fill="transparent", cursor="pointer").encode(tooltip=tooltip).add_params(selection)


def stage_strip(stages: pl.DataFrame) -> alt.LayerChart:
    """One clickable box per stage, tinted by the stage's health and saying it in words, with its customers
    (its answers where no customer reached it) and open findings: the way into a journey map. Zero findings
    are grey, open pain points dark vermillion.

    Expects stage, stage_slug, stage_position, customers, answers, open_pain_points, open_opportunities,
    findings_detail and health_status (`experience_map.with_stage_health`).
    """
    order = _stage_order(stages)
    stages = stages.with_columns(*format.charts.strip_texts(), pl.lit("Stage health").alias("row"))
    stages = stages.with_columns(
        pl.col("health_status").replace_strict(STATUS_TINTS, default=STATUS_TINTS["no data"]).alias("tint"),
        pl.col("health_status")
        .replace_strict(STATUS_COLOURS | {"no data": QUIET_EDGE}, default=QUIET_EDGE)
        .alias("edge"),
        pl.when(pl.col("open_pain_points") > 0).then(pl.lit(ALARM_INK)).otherwise(pl.lit(MUTED_INK)).alias("pain_ink"),
        pl.when(pl.col("open_opportunities") > 0).then(pl.lit(INK)).otherwise(pl.lit(MUTED_INK)).alias("opp_ink"),
    )
    selection = alt.selection_point(name=STAGE_SELECTION, fields=["stage_slug"], on="click")
    base = alt.Chart(stages).encode(
        x=stage_x(order),
        y=alt.Y(
            "row:N",
            scale=alt.Scale(paddingInner=0, paddingOuter=0),
            axis=_row_axis(labelFontSize=12, labelColor=MUTED_INK),
        ),
    )
    tooltip = [
        alt.Tooltip("stage:N", title="Stage"),
        alt.Tooltip("health_word:N", title="Health"),
        alt.Tooltip("customers_line:N", title="In the period"),
        alt.Tooltip("findings_detail:N", title="Findings"),
    ]
    boxes = base.mark_rect(cornerRadius=6, strokeWidth=2, aria=False).encode(
        fill=alt.Fill("tint:N", scale=None),
        stroke=alt.Stroke("edge:N", scale=None),
        opacity=alt.condition(selection, alt.value(1.0), alt.value(0.6)),
    )

    def line(dy: int, text: str, **style: object) -> alt.Chart:
        options: dict[str, object] = {"dy": dy, "fontSize": 12, "aria": False} | style
        return base.mark_text(**options).encode(text=f"{text}:N")  # type: ignore[arg-type]

    layers = alt.layer(
        boxes,
        line(-32, "stage", fontSize=13, fontWeight="bold", color=INK),
        line(-16, "health_word", color=INK),
        line(0, "customers_line", color=MUTED_INK),
        line(16, "pain_line").encode(color=alt.Color("pain_ink:N", scale=None)),
        line(32, "opportunity_line").encode(color=alt.Color("opp_ink:N", scale=None)),
        _click_target(base, tooltip, selection),
    )
    return layers.properties(height=STRIP_HEIGHT)  # type: ignore[return-value]


EMOTION_SCALE = "−2 very negative … 0 neutral … +2 very positive"
EMOTION_LABELS = "datum.value > 0 ? '+' + datum.value : datum.value < 0 ? '−' + abs(datum.value) : '0 neutral'"


def emotional_curve(curve: pl.DataFrame, *, moments: list[str], label_angle: int = 0) -> alt.LayerChart:
    """Measured and assumed emotion per stage on −2..+2, with moments of truth flagged above the curve.

    `label_angle` tilts the stage names where the curve is drawn narrower than the grid (a slide)."""
    order = _stage_order(curve)
    x = stage_x(order, axis=alt.Axis(labelAngle=label_angle, labelFontSize=12, labelOverlap=False))
    y = alt.Y(
        "emotion:Q",
        scale=alt.Scale(domain=[-2, 2]),
        axis=_row_axis(values=[-2, -1, 0, 1, 2], labelExpr=EMOTION_LABELS, labelColor=INK),
    )
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
    zero = alt.Chart(pl.DataFrame({"zero": [0.0]})).mark_rule(color=MUTED_INK, strokeDash=[2, 2]).encode(y="zero:Q")
    layers = zero + lines + points
    if moments:
        flags = pl.DataFrame({"stage": moments, "emotion": [1.85] * len(moments), "label": ["★"] * len(moments)})
        layers += (
            alt.Chart(flags).mark_text(fontSize=16, color=MUTED_INK).encode(x=x, y=alt.Y("emotion:Q"), text="label:N")
        )
    title = alt.Title(
        "Emotional curve: measured vs assumed", subtitle=EMOTION_SCALE, subtitleFontSize=12, anchor="start"
    )
    return layers.properties(height=260, title=title)

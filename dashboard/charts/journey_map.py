"""Chart builders of the journey map: the emotion curve over steps and the step funnel (the metric cards'
weekly trends are SVG sparklines, `charts.sparkline`).

Pure: polars frames in, `alt.Chart` out, colours from `palette` so the journey map and the experience
map speak the same language.
"""

from __future__ import annotations

import math

import altair as alt
import polars as pl

from dashboard import format
from dashboard.charts.palette import ASSUMED, BAD, INK, MEASURED, MUTED_INK
from data_access.metrics import Formula

EMOTION_SCALE_NOTE = "−2 very negative … +2 very positive; the dotted line is neutral (0)"
ASSUMED_LABEL = "assumed by the team"
STEP_LABEL_CHARS = 14
MEASURED_LABEL = "measured from feedback"


def emotion_curve(
    emotions: pl.DataFrame,
    *,
    step_order: list[str],
    height: int = 170,
    standalone: bool = False,
    label_angle: int = 0,
) -> alt.Chart:
    """Assumed and measured emotion (−2..+2) per step, with a rule showing the gap between the two.

    `emotions`: step_name, assumed_emotion, measured_emotion, answers. The x axis is hidden so the chart
    lines up under the lanes' step columns; a step without a measure simply has no measured point.
    `standalone` (an exported image, away from the lanes) names the steps and labels the −2..+2 scale: each
    name broken at spaces into short lines, or whole on a slant when `label_angle` is set (a slide, whose
    larger type leaves too little width under each step).
    """
    long = emotions.unpivot(
        index=["step_name", "answers"],
        on=["assumed_emotion", "measured_emotion"],
        variable_name="source",
        value_name="emotion",
    ).with_columns(
        pl.col("source").replace_strict({"assumed_emotion": ASSUMED_LABEL, "measured_emotion": MEASURED_LABEL})
    )
    # away from the lanes every step is named under its point, broken at spaces into short lines, so no name
    # is dropped for overlapping its neighbour (a stage slide has up to eight steps side by side)
    lines = {name: name if label_angle else format.charts.wrapped(name, width=STEP_LABEL_CHARS) for name in step_order}
    step_line = pl.col("step_name").replace_strict(lines, default=pl.col("step_name")).alias("step_line")
    long = long.with_columns(step_line)
    emotions = emotions.with_columns(step_line)
    step_axis = (
        alt.Axis(
            labelAngle=label_angle,
            labelAlign="right" if label_angle else "center",
            labelFontSize=12,
            labelLimit=0,
            labelOverlap=False,
            labelExpr="split(datum.label, '\\n')",
        )
        if standalone
        else None
    )
    x = alt.X(
        "step_line:O",
        sort=[lines[name] for name in step_order],
        title=None,
        axis=step_axis,
        scale=alt.Scale(paddingInner=0, paddingOuter=0),
    )
    y = alt.Y(
        "emotion:Q",
        title=None,
        scale=alt.Scale(domain=[-2, 2]),
        # the scale's numbers inside the plot on the page (no room taken left of it, so the points stay under
        # the lanes' step columns); beside it on an exported image
        axis=alt.Axis(
            values=[-2, -1, 0, 1, 2],
            labelExpr="datum.value > 0 ? '+' + datum.value : datum.value < 0 ? '−' + abs(datum.value) : '0'",
            labelFontSize=12,
            labelColor=MUTED_INK,
            ticks=False,
            domain=False,
            gridColor="#eeeeee",
            **({} if standalone else {"labelAlign": "left", "labelPadding": -4, "minExtent": 0, "maxExtent": 0}),  # type: ignore[arg-type]
        ),
    )
    colour = alt.Color(
        "source:N",
        title=None,
        scale=alt.Scale(domain=[ASSUMED_LABEL, MEASURED_LABEL], range=[ASSUMED, MEASURED]),
        legend=alt.Legend(orient="bottom", labelFontSize=12),
    )
    dash = alt.StrokeDash(
        "source:N",
        scale=alt.Scale(domain=[ASSUMED_LABEL, MEASURED_LABEL], range=[[6, 4], [1, 0]]),
        legend=None,
    )
    tooltip = [
        alt.Tooltip("step_name:N", title="Step"),
        alt.Tooltip("source:N", title="Emotion"),
        alt.Tooltip("emotion:Q", title="−2..+2", format="+.2f"),
        alt.Tooltip("answers:Q", title="Answers", format=","),
    ]
    base = alt.Chart(long).encode(x=x, y=y)
    gap = (
        alt.Chart(emotions.drop_nulls(["assumed_emotion", "measured_emotion"]))
        .mark_rule(color=MUTED_INK, strokeWidth=6, opacity=0.25)
        .encode(x=x, y=alt.Y("assumed_emotion:Q", scale=alt.Scale(domain=[-2, 2])), y2=alt.Y2("measured_emotion:Q"))
    )
    zero = alt.Chart(pl.DataFrame({"emotion": [0.0]})).mark_rule(color=MUTED_INK, strokeDash=[2, 2]).encode(y=y)
    lines = base.mark_line(strokeWidth=2.5).encode(color=colour, strokeDash=dash)
    points = base.mark_point(filled=True, size=90).encode(
        color=colour, shape=alt.Shape("source:N", legend=None), tooltip=tooltip
    )
    return (zero + gap + lines + points).properties(height=height, width="container")


# the funnel's x axis reaches this many times its longest bar, so that bar's label fits beside it
LABEL_ROOM = 1.8
# how a funnel row's drop-off compares with the stage's other steps, in the legend and the tooltip; the
# third word is for optional steps and alternatives, which are never drop-off
DROP_OFF_WORDS = ("in line with the other steps", "stands out", "optional or alternative: never drop-off")


def _percent(column: str) -> pl.Expr:
    return format.value_expr(pl.col(column), pl.lit(Formula.CONVERSION.value))


FUNNEL_COLOURS = f"Vermillion: drop-off {DROP_OFF_WORDS[1]}. Grey: {DROP_OFF_WORDS[2]}."


def axis_ticks(longest: int, *, most: int = 5) -> list[int]:
    """Round counts from 0 up to `longest` (at most `most` + 1 of them, steps of 1, 2 or 5 × 10^k), so an
    axis with room beyond its bars for their labels does not number the empty room."""
    rough = max(longest, 1) / most
    magnitude = 10 ** max(math.floor(math.log10(rough)), 0)
    step = next(factor * magnitude for factor in (1, 2, 5, 10) if factor * magnitude >= rough)
    return list(range(0, max(longest, 0) + 1, step))


def step_funnel(funnel: pl.DataFrame, *, outlier_steps: list[int], compact: bool = False) -> alt.Chart:
    """Customers at the stage entry, each step and the next stage, as bars labelled with their cohort share.

    `funnel`: `journey_map.stage_funnel`. A required step is labelled with its conversion from the required
    step before it; an optional step with the share of the stage's entrants who took it; an alternative
    with its share of the split; the next stage with the conversion from the stage; the axis names the
    journey's conversion window. Required steps whose drop-off stands out (`outlier_steps`) are drawn in the 'bad'
    colour and named in the tooltip; optional steps and alternatives in a muted colour, never as drop-off.
    `compact` (a slide) leaves out the axis title and the legend; the slide writes `FUNNEL_COLOURS` instead.
    """
    stands_out = pl.col("step_id").is_in(outlier_steps).fill_null(False)
    not_funnel = pl.col("step_kind").is_in(["optional", "alternative"]).fill_null(False)
    windows = funnel["window_days"].drop_nulls().to_list() if "window_days" in funnel.columns else []
    window_days: int | None = int(windows[0]) if windows else None
    shown = funnel.with_columns(
        stands_out.alias("stands_out"),
        pl.when(not_funnel)
        .then(pl.lit(DROP_OFF_WORDS[2]))
        .when(stands_out)
        .then(pl.lit(DROP_OFF_WORDS[1]))
        .otherwise(pl.lit(DROP_OFF_WORDS[0]))
        .alias("drop_off_is"),
        pl.when(pl.col("step_kind") == "optional")
        .then(pl.format("taken by {} of entrants", _percent("share_of_entry")))
        .when(pl.col("step_kind") == "alternative")
        .then(pl.format("{} of entrants · one of '{}'", _percent("share_of_entry"), "group"))
        .when(pl.col("conversion").is_null())
        .then(pl.lit(""))
        .when(pl.col("kind") == "next_stage")
        .then(pl.format("{} of entrants", _percent("conversion")))
        .otherwise(pl.format("{} of '{}'", _percent("conversion"), "from_label"))
        .alias("conversion_label"),
        pl.when(pl.col("kind") == "next_stage")
        .then(pl.format("→ {}", "label"))
        .when(pl.col("step_kind") == "optional")
        .then(pl.format("{} (optional)", "label"))
        .otherwise(pl.col("label"))
        .alias("row_label"),
    )
    order = shown.sort("order")["row_label"].to_list()
    longest = max(shown.select(pl.col("customers").fill_null(0).max()).item() or 0, 1)
    y = alt.Y("row_label:N", sort=order, title=None, axis=alt.Axis(labelFontSize=12, labelLimit=180))
    tooltip = [
        alt.Tooltip("row_label:N", title="Reached"),
        alt.Tooltip("customers:Q", title="Customers", format=","),
        alt.Tooltip("conversion:Q", title="Conversion", format=format.chart_formats(Formula.CONVERSION)[1]),
        alt.Tooltip(
            "share_of_entry:Q", title="Of the stage's entrants", format=format.chart_formats(Formula.CONVERSION)[1]
        ),
        alt.Tooltip("drop_off:Q", title="Drop-off", format=format.chart_formats(Formula.DROP_OFF)[1]),
        alt.Tooltip("drop_off_is:N", title="Drop-off"),
    ]
    base = alt.Chart(shown).encode(y=y)
    bars = base.mark_bar(cornerRadiusEnd=3).encode(
        # room right of the longest bar for its label ("92.3% of 'Books the installation'")
        x=alt.X(
            "customers:Q",
            title=None
            if compact
            else f"Customers of the period's cohorts who reached it within {window_days} days"
            if window_days is not None
            else "Customers who first reached it in the period",
            # a slide's larger type needs more room for the same labels
            scale=alt.Scale(domain=[0, (LABEL_ROOM + 0.5 if compact else LABEL_ROOM) * longest]),
            # the grid and its numbers stop at the longest bar: the room beyond it is for the labels
            axis=alt.Axis(values=axis_ticks(int(longest)), grid=True),
        ),
        color=alt.Color(
            "drop_off_is:N",
            title="Drop-off",
            scale=alt.Scale(domain=list(DROP_OFF_WORDS), range=[MEASURED, BAD, MUTED_INK]),
            # two columns: the three words fit at 1280 px
            legend=None if compact else alt.Legend(orient="bottom", labelLimit=0, columns=2),
        ),
        tooltip=tooltip,
    )
    labels = base.mark_text(align="left", dx=4, color=INK, fontSize=12).encode(
        x=alt.X("customers:Q"), text=alt.Text("conversion_label:N")
    )
    return (bars + labels).properties(height=alt.Step(30), width="container")

"""Chart builder of the current vs future state view: the team's assumed emotion per stage, both states.

Pure: `future_state.assumed_emotions`' frame in, `alt.Chart` out.
"""

from __future__ import annotations

import altair as alt
import polars as pl

from dashboard.charts.palette import GOOD, MUTED_INK

STATES = ["current", "future"]
STATE_LABELS = {"current": "current state (assumed)", "future": "future state (assumed)"}


def assumed_emotions(emotions: pl.DataFrame) -> alt.LayerChart:
    """Assumed emotion (−2..+2) per stage of the current and the future state, side by side."""
    order = emotions.sort("stage_position")["stage"].unique(maintain_order=True).to_list()
    frame = emotions.with_columns(
        pl.col("state").replace_strict(STATE_LABELS, return_dtype=pl.String).alias("state_label")
    )
    labels = [STATE_LABELS[s] for s in STATES]
    base = alt.Chart(frame).encode(
        x=alt.X(
            "stage:O",
            sort=order,
            title=None,
            axis=alt.Axis(labelAngle=0, labelFontSize=12, labelOverlap=False, labelLimit=110),
        ),
        y=alt.Y("emotion:Q", title="Assumed emotion (−2 … +2)", scale=alt.Scale(domain=[-2, 2])),
        color=alt.Color(
            "state_label:N",
            title=None,
            scale=alt.Scale(domain=labels, range=[MUTED_INK, GOOD]),
            legend=alt.Legend(orient="top", labelFontSize=12, labelLimit=300),
        ),
    )
    lines = base.mark_line(strokeWidth=3).encode(
        strokeDash=alt.StrokeDash("state_label:N", scale=alt.Scale(domain=labels, range=[[6, 4], [1, 0]]), legend=None)
    )
    points = base.mark_point(filled=True, size=80).encode(
        tooltip=[
            alt.Tooltip("stage:N", title="Stage"),
            alt.Tooltip("state_label:N", title="State"),
            alt.Tooltip("emotion:Q", title="Assumed emotion", format="+.2f"),
        ]
    )
    zero = alt.Chart(pl.DataFrame({"zero": [0.0]})).mark_rule(color="#999", strokeDash=[2, 2]).encode(y="zero:Q")
    return (zero + lines + points).properties(
        height=260, title=alt.Title("Assumed emotion per stage: today and the future state", anchor="start")
    )

"""UI pieces of the journey map: the swimlane grid, metric cards, findings, comments and front-line notes.

Lane text written by people goes through `st.markdown` with markdown characters escaped (never
`unsafe_allow_html`), so a card reads exactly as it was typed.
"""

from __future__ import annotations

import re
from typing import Literal

import polars as pl
import streamlit as st

from dashboard import exports
from dashboard.cache import add_stage_note, load_stage_notes
from dashboard.charts import journey as charts
from dashboard.settings import get_settings
from dashboard.view_state import ViewState
from data_access.journey_map import NPS_BAND_LABELS, JourneyMapData
from data_access.metrics import FORMULA_LABELS
from data_access.stage_notes import MAX_AUTHOR, MAX_BODY, NoteError

LANES = {
    "action": "Customer actions",
    "touchpoint": "Touchpoints & channels",
    "thought": "Thoughts",
    "emotion": "Emotion",
    "pain_point": "Pain points",
    "opportunity": "Opportunities",
    "backstage": "Backstage",
}
LABEL_WIDTH, STEP_WIDTH = 1.5, 2.0
BadgeColour = Literal["green", "orange", "red", "gray"]
STATUS_BADGES: dict[str, tuple[str, BadgeColour]] = {
    "green": ("on target", "green"),
    "amber": ("near target", "orange"),
    "red": ("off target", "red"),
}
NO_DATA_BADGE: tuple[str, BadgeColour] = ("not enough data", "gray")
MARKDOWN_SPECIALS = r"([\\`*_{}\[\]<>()#+\-.!|~$:])"


def escaped(column: str | pl.Expr) -> pl.Expr:
    """Text with markdown's special characters backslash-escaped, so it shows literally."""
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.fill_null("").str.replace_all(MARKDOWN_SPECIALS, r"\$1")


def lane_cards(data: JourneyMapData) -> pl.DataFrame:
    """One markdown card per lane item (plus each step's touchpoint), grouped per lane × step."""
    reach = data.funnel.filter(pl.col("kind") == "step").select("step_id", "customers")
    items = data.lane_items.join(reach, on="step_id", how="left").with_columns(
        pl.when(pl.col("lane") == "thought")
        .then(pl.format("_“{}”_", escaped(pl.col("text").str.strip_chars('"“” '))))
        .when(pl.col("lane") == "pain_point")
        .then(
            pl.format(
                "**Severity {}/5** · {}  \n{} customers reached this step in the period",
                pl.col("severity").fill_null(0),
                escaped("text"),
                pl.col("customers").fill_null(0),
            )
        )
        .when(pl.col("lane") == "opportunity")
        .then(
            pl.format(
                "{}  \n**{}** · owner {} · impact {} · effort {}",
                escaped("text"),
                escaped(pl.col("status").fill_null("idea")),
                escaped(pl.col("owner").fill_null("—")),
                pl.col("impact").cast(pl.String).fill_null("?"),
                pl.col("effort").cast(pl.String).fill_null("?"),
            )
        )
        .when(pl.col("lane") == "emotion")
        .then(pl.format("{} ({})", escaped("text"), pl.col("emotion").round(1).cast(pl.String).fill_null("?")))
        .otherwise(escaped("text"))
        .alias("card"),
        pl.when(pl.col("persona_slug").is_not_null())
        .then(pl.format("{}  \n:gray[persona {}]", pl.lit(""), escaped("persona_slug")))
        .otherwise(pl.lit(""))
        .alias("persona_note"),
    )
    touchpoints = data.steps.filter(pl.col("touchpoint_name").is_not_null()).select(
        "step_id",
        pl.lit("touchpoint").alias("lane"),
        pl.format(
            "{} · _{}_{}",
            escaped("touchpoint_name"),
            escaped("channel_name"),
            pl.when(pl.col("moment_of_truth")).then(pl.lit("  \n★ moment of truth")).otherwise(pl.lit("")),
        ).alias("card"),
    )
    return (
        pl.concat([items.select("step_id", "lane", pl.concat_str("card", "persona_note").alias("card")), touchpoints])
        .group_by("lane", "step_id", maintain_order=True)
        .agg("card")
    )


def lane_grid(data: JourneyMapData) -> None:
    """The swimlanes: one row per lane, one column per step, the emotion curve drawn across the steps."""
    steps = data.steps.sort("position")
    widths = [LABEL_WIDTH] + [STEP_WIDTH] * steps.height
    cards = {(lane, step): texts for lane, step, texts in lane_cards(data).iter_rows()}
    for column, name in zip(st.columns(widths)[1:], steps["step_name"], strict=True):
        column.markdown(f"**{name}**")
    for lane, title in LANES.items():
        if lane == "emotion":
            label, body = st.columns([LABEL_WIDTH, STEP_WIDTH * steps.height])
            label.markdown(f"**{title}**")
            chart = charts.emotion_curve(data.emotions, step_order=steps["step_name"].to_list())
            body.altair_chart(chart, width="stretch")
            continue
        columns = st.columns(widths)
        columns[0].markdown(f"**{title}**")
        for column, step_id in zip(columns[1:], steps["step_id"], strict=True):
            for card in cards.get((lane, step_id), []):
                column.container(border=True).markdown(card)


def _shown(value: float | None, formula: str, unit: str) -> str:
    return exports.metric_text(value, formula, unit)


def metric_cards(data: JourneyMapData, *, previous_label: str, per_row: int = 3) -> None:
    """Each linked metric: value, target, status, change against the previous period, weekly trend."""
    rows = data.metrics.to_dicts()
    for start in range(0, len(rows), per_row):
        for column, metric in zip(st.columns(per_row), rows[start : start + per_row], strict=False):
            with column.container(border=True):
                formula, unit = metric["formula"], metric["unit"] or ""
                change = metric["change"]
                delta = None
                if change is not None and metric["value"] is not None:
                    delta = f"{exports.metric_text(change, formula, unit, signed=True)} vs {previous_label}"
                target = (
                    "no target" if metric["target"] is None else f"target {_shown(metric['target'], formula, unit)}"
                )
                st.metric(
                    metric["label"],
                    _shown(metric["value"], formula, unit),
                    delta=delta,
                    delta_color="inverse" if metric["direction"] == "lower" else "normal",
                    help=f"{FORMULA_LABELS.get(formula, formula)}. Based on {metric['sample']:,} answers or customers.",
                )
                word, colour = STATUS_BADGES.get(metric["status"], NO_DATA_BADGE)
                scope = metric["touchpoint_name"] or metric["scope"]
                st.badge(f"{word} · {target}", color=colour)
                st.caption(f"Linked to: {scope}")
                trend = data.trend.filter(pl.col("metric_id") == metric["metric_id"])
                if trend["value"].drop_nulls().len() > 0:
                    chart = charts.metric_trend(trend, label="Weekly", formats=exports.metric_chart_formats(formula))
                    st.altair_chart(chart, width="stretch")


def findings(data: JourneyMapData) -> None:
    """The pain points the team wrote down beside those the data points at, each with its evidence."""
    written, detected = st.columns(2)
    with written:
        st.subheader("Written down by the team")
        pain_points = data.lane_items.filter(pl.col("lane") == "pain_point").join(
            data.steps.select("step_id", "step_name"), on="step_id"
        )
        for step, severity, text in pain_points.select("step_name", "severity", escaped("text")).iter_rows():
            st.markdown(f"**{step}** · severity {severity or '?'}/5 — {text}")
        if pain_points.is_empty():
            st.caption("None for this view.")
    with detected:
        st.subheader("Detected from data")
        by_scope = data.findings.group_by("scope", "scope_id", maintain_order=True).agg(
            pl.col("scope_name", "step_id", "on_map").first(), pl.format("{}: {}", "reason", "evidence").alias("lines")
        )
        for finding in by_scope.to_dicts():
            on_map = " · already on the map" if finding["on_map"] else " · not on the map yet"
            with st.container(border=True):
                st.markdown(f"**{finding['scope_name']}** ({finding['scope']}){on_map}")
                for line in finding["lines"]:
                    st.caption(line)
                for quote in finding_quotes(data.evidence, finding["step_id"]).select(escaped("comment"))["comment"]:
                    st.markdown(f"> {quote}")
        if data.findings.is_empty():
            st.caption("No step or touchpoint misses target, got worse, or loses customers out of line.")


def finding_quotes(evidence: pl.DataFrame, step_id: int | None, *, limit: int = 3) -> pl.DataFrame:
    """The customers' words shown under a finding: its step's first `limit` distinct comments (the same
    words from several customers are quoted once)."""
    return (
        evidence.filter(pl.col("step_id").eq_missing(step_id))
        .unique("comment", keep="first", maintain_order=True)
        .head(limit)
    )


def band_label(band: str, measure: str | None) -> str:
    """'detractors' etc. for NPS, 'low' / 'middle' / 'high' for other measures."""
    return NPS_BAND_LABELS[band] if measure == "nps" else f"{band} scores"


def stage_notes(state: ViewState, stage_slug: str) -> None:
    """Notes from the front line, newest first, and (outside presentation mode) a form to add one.

    Off when the deployment sets ATLAS_STAGE_NOTES=false. Note text is shown with `st.text`: plain text,
    never markdown or HTML.
    """
    if not get_settings().stage_notes:
        return
    st.header("Notes from the front line")
    shown = st.container()
    if not state.present:
        with st.form("journey_note_form", clear_on_submit=True):
            author = st.text_input("Your name", max_chars=MAX_AUTHOR, key="journey_note_author")
            body = st.text_area("Note", max_chars=MAX_BODY, key="journey_note_body",
                                placeholder="What do you hear from customers at this stage?")  # fmt: skip
            if st.form_submit_button("Add note"):
                try:
                    add_stage_note(state.journey, stage_slug, author=author, body=body)
                except NoteError as problem:
                    st.error(str(problem), icon="⚠️")
                else:
                    st.success("Note added.", icon="✅")
    notes = load_stage_notes(state.journey, stage_slug)
    with shown:
        if notes.is_empty():
            st.caption("No notes on this stage yet.")
        for author, body, created_at in notes.select("author", "body", "created_at").iter_rows():
            with st.container(border=True):
                st.caption(f"**{_plain(author)}** · {created_at:%d %b %Y, %H:%M} UTC")
                st.text(body)


def _plain(text: str) -> str:
    """One string with markdown's special characters escaped, as `escaped` does for a column."""
    return re.sub(MARKDOWN_SPECIALS, r"\\\1", text)


def comments_table(comments: pl.DataFrame) -> None:
    """One page of the customers' own words, newest first."""
    st.dataframe(
        comments.select("occurred_at", "measure", "score", "band", "channel_name", "step_name", "comment"),
        hide_index=True,
        column_config={
            "occurred_at": st.column_config.DatetimeColumn("When", format="D MMM YYYY", width="small"),
            "channel_name": st.column_config.TextColumn("Channel", width="small"),
            "step_name": st.column_config.TextColumn("Step", width="small"),
            "comment": st.column_config.TextColumn("Comment", width="large"),
        },
        width="stretch",
    )

"""UI pieces of the journey map: the swimlane grid, metric cards, findings, comments and front-line notes.

The lanes are one block of our own HTML (one element for the browser to draw instead of one per card): every
text in it written by people is HTML-escaped (`format.html_escaped`), so a card reads exactly as it was typed,
and only the marks around it (bold, italics, badges, line breaks) are ours. Other text written by people goes
through `st.markdown` with Markdown's characters escaped, never `unsafe_allow_html`.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from dashboard import format
from dashboard.cache import add_stage_note, chart_spec, load_stage_notes
from dashboard.charts import journey_map as charts
from dashboard.charts.sparkline import sparkline_svg, sparkline_words
from dashboard.components import editing, frame
from dashboard.editors import NotAnEditor
from dashboard.format import escaped
from dashboard.settings import get_settings
from dashboard.view_state import ViewState
from data_access.journey_map import NPS_BAND_LABELS, JourneyMapData
from data_access.metrics import FORMULA_LABELS, Status, worst_first
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
# the lanes of the HTML grid: all but the emotion, a curve drawn under it
GRID_LANES = {lane: title for lane, title in LANES.items() if lane != "emotion"}
LABEL_WIDTH, STEP_WIDTH = 1.5, 2.0
# On a narrow screen the lanes scroll sideways as a whole, with the lane names held at the left, instead of
# squeezing steps until words break between letters: the grid is at least this wide, and wider with many steps.
MIN_WIDTH, STEP_MIN_WIDTH = 1120, 180
# Constant CSS (no data in it; the grid's width is set beside it from the number of steps). The grid's columns
# touch (each cell keeps half a gap of room on either side), as do the emotion row's two `st.columns` under it,
# so the curve's step bands span the steps' columns exactly and each point sits under its step.
LANE_CSS = """
.st-key-journey_lanes { overflow-x: auto; padding-bottom: 0.5rem; }
.st-key-journey_lanes [data-testid="stHorizontalBlock"] { min-width: var(--lane-grid-width); flex-wrap: nowrap; }
.st-key-journey_lanes [data-testid="stHorizontalBlock"] > [data-testid="stColumn"]:first-child,
.lane-grid [role="rowheader"], .lane-grid .lane-corner {
  position: sticky; left: 0; z-index: 2; background: #FFFFFF; padding-right: 1rem; }
.lane-grid { display: grid; row-gap: 1rem; min-width: var(--lane-grid-width); line-height: 1.6; }
.lane-grid [role="row"] { display: contents; }
.lane-grid [role="columnheader"], .lane-grid [role="rowheader"] { font-weight: 600; }
.lane-grid [role="columnheader"], .lane-grid [role="cell"] { padding: 0 0.5rem; min-width: 0; }
.lane-grid [role="cell"] { display: flex; flex-direction: column; gap: 1rem; }
.lane-card { border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; padding: calc(1rem - 1px);
  word-break: normal; overflow-wrap: break-word; hyphens: auto; }
.lane-badge { display: inline-block; border-radius: 0.5rem; padding: 0 0.375rem; font-size: 0.875rem;
  line-height: 1.5; white-space: nowrap; }
.lane-badge-red { background: #FDE2E1; color: #9B1C1C; }
.lane-badge-orange { background: #FDEBD2; color: #8A4B00; }
.lane-badge-gray { background: #EEF0F2; color: #3F4752; }
"""


def lane_cards(data: format.LaneData) -> pl.DataFrame:
    """One card of our own HTML per lane item (plus each step's touchpoint), grouped per lane × step."""
    cards = format.lane_texts(data, lanes=GRID_LANES, medium="html")
    return cards.group_by("lane", "step_id", maintain_order=True).agg(pl.col("text").alias("card"))


def grid_width(steps: int) -> int:
    """The lane grid's least width in px: the lanes scroll sideways below it."""
    return max(MIN_WIDTH, round(STEP_MIN_WIDTH * (steps + LABEL_WIDTH / STEP_WIDTH)))


def lane_grid_html(data: format.LaneData) -> str:
    """The swimlanes but the emotion as one HTML grid: a row of step names, then one row per lane, its name in a
    column held at the left and its cards under each step. Step names and lane texts are escaped."""
    steps = data.steps.sort("position")
    cards = {(lane, step): texts for lane, step, texts in lane_cards(data).iter_rows()}
    columns = f"minmax(0, {LABEL_WIDTH:g}fr) repeat({steps.height}, minmax(0, {STEP_WIDTH:g}fr))"
    rows = [
        '<div role="row"><div role="columnheader" class="lane-corner"></div>'
        + "".join(f'<div role="columnheader">{format.html_text(name)}</div>' for name in steps["step_name"])
        + "</div>"
    ]
    for lane, title in GRID_LANES.items():
        cells = "".join(
            '<div role="cell">'
            + "".join(f'<div class="lane-card">{card}</div>' for card in cards.get((lane, step_id), []))
            + "</div>"
            for step_id in steps["step_id"]
        )
        name = f'<div role="rowheader">{format.html_text(title)}</div>'
        rows.append(f'<div role="row" data-lane="{lane}">{name}{cells}</div>')
    return (
        f"<style>{LANE_CSS}.st-key-journey_lanes {{ --lane-grid-width: {grid_width(steps.height)}px; }}</style>"
        f'<div class="lane-grid" role="table" aria-label="Lanes over the steps" '
        f'style="grid-template-columns: {columns}">{"".join(rows)}</div>'
    )


def lane_grid(data: JourneyMapData) -> None:
    """The swimlanes: one HTML grid of the lanes over the steps, the emotion curve under it across the steps."""
    steps = data.steps.sort("position")
    with st.container(key="journey_lanes"):
        st.html(lane_grid_html(data))
        label, body = st.columns([LABEL_WIDTH, STEP_WIDTH * steps.height], gap=None)
        label.markdown(f"**{LANES['emotion']}**")
        label.caption(charts.EMOTION_SCALE_NOTE)
        body.vega_lite_chart(
            chart_spec(charts.emotion_curve, data.emotions, step_order=steps["step_name"].to_list()), width="stretch"
        )


def stage_summary(data: JourneyMapData) -> None:
    """The first screen's answer: how the stage's metrics stand, its worst metric, and its top finding."""
    judged = data.metrics.filter(pl.col("status") != Status.NO_DATA.value)
    word, colour = format.status_badge(data.status)
    on_target = judged.filter(pl.col("status") == Status.GREEN.value).height
    status_line = f":{colour}-badge[{word}] {on_target} of {judged.height} measured metrics on target"
    worst = worst_first(judged).head(1).to_dicts()
    worst_line = (
        f"Worst: **{format.verbatim(worst[0]['label'])}** {format.value_text(worst[0]['value'], worst[0]['formula'])}"
        f" against a target of {format.value_text(worst[0]['target'], worst[0]['formula'])}"
        if worst and worst[0]["status"] != Status.GREEN.value
        else "No metric off target."
    )
    pains = data.lane_items.filter(pl.col("lane") == "pain_point").sort("severity", descending=True, nulls_last=True)
    top = pains.head(1).to_dicts()
    finding_line = (
        f"Top pain point: severity {top[0]['severity'] or '?'}/5 — {format.verbatim(top[0]['text'])}"
        if top
        else "No pain point written on the map."
    )
    with st.container(border=True, key="journey_summary"):
        st.markdown(f"{status_line}  \n{worst_line}  \n{finding_line}")


def metric_cards(data: JourneyMapData, *, previous_label: str, per_row: int = 3) -> None:
    """Each linked metric: value, target, status, change against the previous period, weekly trend.

    The trend is a small SVG image (not a chart of its own), its target a dashed line; its numbers are told
    in words in the image's alternative text and the value's help.
    """
    rows = data.metrics.to_dicts()
    for start in range(0, len(rows), per_row):
        for column, metric in zip(st.columns(per_row), rows[start : start + per_row], strict=False):
            formula, target = metric["formula"], metric["target"]
            weekly = data.trend.filter(pl.col("metric_id") == metric["metric_id"]).select(
                "week", "value", pl.col("sample").alias("answers")
            )
            drawn = weekly["value"].drop_nulls().len() > 0
            words = sparkline_words(weekly, formula=formula, target=target) if drawn else None
            with column.container(border=True, height="stretch"):  # the cards of a row as tall as each other
                change = format.change_text(metric["change"], formula)
                measured = metric["change"] is not None and metric["value"] is not None
                st.metric(
                    format.verbatim(metric["label"]),
                    format.value_text(metric["value"], formula),
                    delta=f"{change} vs {previous_label}" if measured else None,
                    delta_color=format.delta_colour(change, metric["direction"]),
                    delta_arrow=format.delta_arrow(change),
                    help=(
                        f"{FORMULA_LABELS.get(formula, formula)}. "
                        f"Based on {format.count_text(metric['sample'])} answers or customers."
                        + (f" {words}" if words else "")
                    ),
                )
                word, colour = format.metric_badge(metric, data.cohorts)
                scope = metric["touchpoint_name"] or metric["scope"]
                st.badge(f"{word} · {format.target_text(metric['target'], formula)}", color=colour)
                note = format.cohort_note(data.cohorts) if formula in format.COHORT_FORMULAS else None
                if note is not None:
                    st.caption(note)
                trend_line = ""
                if words is not None:
                    st.image(sparkline_svg(weekly, formula=formula, target=target), width="stretch", alt=words)
                    weeks: list[dt.date] = weekly["week"].sort().to_list()
                    dashed = "; dashed: the target" if target is not None else ""
                    trend_line = f"Weekly, {weeks[0]:%d %b} – {weeks[-1]:%d %b}{dashed}.  \n"
                st.caption(f"{trend_line}Linked to: {format.verbatim(scope)}")


def findings(data: JourneyMapData) -> None:
    """The pain points the team wrote down beside those the data points at, each with its evidence."""
    written, detected = st.columns(2)
    with written:
        st.subheader("Written down by the team")
        st.caption(format.open_findings_text(data.lane_items), help=OPEN_HELP)
        pain_points = data.lane_items.filter(pl.col("lane") == "pain_point").join(
            data.steps.select("step_id", "step_name"), on="step_id"
        )
        for step, severity, text in pain_points.select(escaped("step_name"), "severity", escaped("text")).iter_rows():
            st.markdown(f"**{step}** · severity {severity or '?'}/5 — {text}")
        if pain_points.is_empty():
            st.caption("None for this view.")
    with detected:
        st.subheader("Detected from data")
        by_scope = (
            data.findings.with_columns(format.finding_evidence())
            .group_by("scope", "scope_id", maintain_order=True)
            .agg(
                pl.col("scope_name", "step_id", "on_map").first(),
                pl.format("{}: {}", "reason", "evidence").alias("lines"),
            )
        )
        for finding in by_scope.to_dicts():
            on_map = " · already on the map" if finding["on_map"] else " · not on the map yet"
            with st.container(border=True):
                st.markdown(f"**{format.verbatim(finding['scope_name'])}** ({finding['scope']}){on_map}")
                for line in finding["lines"]:
                    st.caption(format.verbatim(line, limit=None))
                quotes = finding_quotes(data.evidence, finding["scope"], finding["scope_id"])
                for quote in quotes.select(escaped("comment"))["comment"]:
                    st.markdown(f"> {quote}")
                if quotes.is_empty():
                    st.caption(f"No comments with a low score on this {finding['scope']} in the period.")
        if data.findings.is_empty():
            st.caption("No step or touchpoint misses target, got worse, or loses customers out of line.")


OPEN_HELP = (
    "A pain point written on the map is open until the team takes it off the map; an opportunity is open "
    "unless its status is done or dropped. Pain points detected from the data are not counted. The overview's "
    "stage strip, the slides and the report count the same way."
)


def finding_quotes(evidence: pl.DataFrame, scope: str, scope_id: int, *, limit: int = 3) -> pl.DataFrame:
    """The customers' words shown under a finding: the first `limit` distinct comments of its own step or
    touchpoint (the same words from several customers are quoted once)."""
    return (
        evidence.filter(pl.col("scope") == scope, pl.col("scope_id") == scope_id)
        .unique("comment", keep="first", maintain_order=True)
        .head(limit)
    )


def band_label(band: str, measure: str | None) -> str:
    """'detractors' etc. for NPS, 'low' / 'middle' / 'high' for other measures."""
    return NPS_BAND_LABELS[band] if measure == "nps" else f"{band} scores"


def stage_notes(state: ViewState, stage_slug: str) -> None:
    """Notes from the front line, newest first, and (outside presentation mode) a form to add one for an editor,
    or the way to become one for a viewer.

    Off when the deployment sets ATLAS_STAGE_NOTES=false. Note text is shown with `st.text`: plain text,
    never markdown or HTML.
    """
    if not get_settings().stage_notes:
        return
    st.header("Notes from the front line")
    shown = st.container()
    if not state.present and editing.editor_or_sign_in("journey", action="add notes") is not None:
        with st.form("journey_note_form", clear_on_submit=True):
            author = st.text_input("Your name", max_chars=MAX_AUTHOR, key="journey_note_author")
            body = st.text_area("Note", max_chars=MAX_BODY, key="journey_note_body",
                                placeholder="What do you hear from customers at this stage?")  # fmt: skip
            if st.form_submit_button("Add note"):
                try:
                    add_stage_note(state.journey, stage_slug, author=author, body=body)
                except (NoteError, NotAnEditor) as problem:
                    st.error(format.verbatim(str(problem), limit=None), icon="⚠️")
                else:
                    st.success("Note added.", icon="✅")
    notes = load_stage_notes(state.journey, stage_slug)
    with shown:
        if notes.is_empty():
            st.caption("No notes on this stage yet.")
        for author, body, created_at, writer in notes.select("author", "body", "created_at", "written_by").iter_rows():
            with st.container(border=True):
                st.caption(
                    f"**{format.verbatim(author)}** · {created_at:%d %b %Y, %H:%M} UTC · "
                    f"saved by {format.verbatim(writer)}"
                )
                st.text(body)


def comments_table(comments: pl.DataFrame) -> None:
    """One page of the customers' own words, newest first."""
    st.dataframe(
        comments.select(
            "occurred_at",
            format.measure_expr("measure"),
            "score",
            "band",
            pl.col("channel_name").fill_null(format.NO_VALUE),
            pl.col("step_name").fill_null("the stage as a whole"),
            "comment",
        ),
        hide_index=True,
        column_config={
            "occurred_at": st.column_config.DatetimeColumn("When", format="D MMM YYYY", width="small"),
            "measure": st.column_config.TextColumn("Measure", width="small"),
            "score": st.column_config.NumberColumn("Score", width="small"),
            "band": st.column_config.TextColumn("Band", width="small"),
            "channel_name": st.column_config.TextColumn("Channel"),
            "step_name": st.column_config.TextColumn("Step"),
            "comment": st.column_config.TextColumn("Comment", width="large"),
        },
        width="stretch",
        height=frame.table_height(comments.height),
    )

"""Presentation mode (`&present=1`): the experience map and each stage's journey map as slides.

For walking a review meeting through the journey: no sidebar, filters, share or export; large type; one
slide at a time with previous / next buttons that also answer the arrow keys. The slides run experience
map → first stage → … → last stage, and every slide writes its full URL, so a pasted link opens it again.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import streamlit as st

from dashboard import journey_ui, routes, ui
from dashboard.charts import overview as overview_charts
from dashboard.loaders import Catalogue, load_journey_map, load_journey_stages, load_overview
from dashboard.state import ViewState
from data_access.experience_map import GRID_METRICS
from data_access.journey_map import JourneyMapData

# Constant CSS only: no user or data text is ever formatted into it.
LARGE_TYPE = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 2.5rem; max-width: 1600px; }
[data-testid="stMainBlockContainer"] h1 { font-size: 2.8rem; }
[data-testid="stMainBlockContainer"] h3 { font-size: 1.6rem; }
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] li { font-size: 1.3rem; line-height: 1.45; }
[data-testid="stMetricLabel"] p { font-size: 1.15rem !important; }
[data-testid="stMetricValue"] { font-size: 2.8rem; }
[data-testid="stMetricDelta"] { font-size: 1.1rem; }
</style>
"""
SLIDE_LANES = {
    "action": "Customers do",
    "thought": "Customers think",
    "pain_point": "Pain points",
    "opportunity": "Opportunities",
}
ITEMS_PER_LANE = 4
WORDS_PER_ITEM = 14
METRICS_PER_ROW = 4


def _large_type() -> None:
    st.html(LARGE_TYPE)


def _go(state: ViewState, position: int, stage_slugs: Sequence[str]) -> None:
    """Switch to slide `position`: 0 is the experience map, k the k-th stage."""
    if position == 0:
        st.switch_page(routes.OVERVIEW, query_params=state.query(page="overview"))
    stage = stage_slugs[position - 1]
    st.switch_page(routes.JOURNEY, query_params=state.with_(stage=stage).query(page="journey"))


def slide_controls(state: ViewState, *, position: int, stage_names: dict[str, str]) -> None:
    """Progress, previous / next (also ← / → keys) and the way out, on one row above the slide."""
    slugs = list(stage_names)
    progress = "Experience map" if position == 0 else f"Stage {position} of {len(slugs)}"
    where, previous, following, leave = st.columns([3, 1.3, 1.3, 1.4], vertical_alignment="center")
    where.markdown(f"**{progress}**")
    before = "Experience map" if position <= 1 else stage_names[slugs[position - 2]]
    if previous.button(
        f"{before}" if position > 0 else "Previous",
        icon=":material/arrow_back:",
        key="present_previous",
        shortcut="Left",
        disabled=position == 0,
        width="stretch",
    ):
        _go(state, position - 1, slugs)
    after = stage_names[slugs[position]] if position < len(slugs) else "Next"
    if following.button(
        after,
        icon=":material/arrow_forward:",
        icon_position="right",
        key="present_next",
        shortcut="Right",
        disabled=position >= len(slugs),
        type="primary",
        width="stretch",
    ):
        _go(state, position + 1, slugs)
    page = "overview" if position == 0 else "journey"
    leave.page_link(
        routes.OVERVIEW if position == 0 else routes.JOURNEY,
        label="Leave presentation",
        icon=":material/close:",
        query_params=state.with_(present=False).query(page=page),
    )


def overview_slide(state: ViewState, catalogue: Catalogue) -> None:
    """The first slide: headline metrics, the touchpoint grid and the emotional curve, without filters."""
    st.query_params.from_dict(state.query(page="overview"))
    _large_type()
    stages = load_journey_stages(state.journey)
    slide_controls(state, position=0, stage_names=dict(stages.select("stage_slug", "stage_name").iter_rows()))
    persona = catalogue.persona_name(state.persona, default=ui.ALL_PERSONAS)
    st.title(catalogue.journey_name(state.journey))
    st.caption(f"{persona} · {state.date_from:%d %b %Y} – {state.date_to:%d %b %Y}, against the period before")
    data = load_overview(state.journey, state.persona, state.date_from, state.date_to, state.metric)
    ui.headline_cards(data.headlines)
    metric_label = GRID_METRICS[state.metric].split(":")[0]
    grid = overview_charts.touchpoint_heatmap(
        data.grid, metric=state.metric, metric_label=metric_label, stage_order=data.stages["stage"].to_list()
    )
    st.altair_chart(grid, width="stretch")
    moments = data.moments_of_truth["stage"].unique().to_list()
    st.altair_chart(overview_charts.emotional_curve(data.curve, moments=moments), width="stretch")


def slide_lanes(data: JourneyMapData) -> pl.DataFrame:
    """Per slide lane, its items in step order as short markdown lines (escaped, cut to a few words)."""
    words = pl.col("text").str.strip_chars('"“” ').str.split(" ")
    short = (
        pl.when(words.list.len() > WORDS_PER_ITEM)
        .then(words.list.head(WORDS_PER_ITEM).list.join(" ") + "…")
        .otherwise(words.list.join(" "))
    )
    return (
        data.lane_items.filter(pl.col("lane").is_in(list(SLIDE_LANES)))
        .join(data.steps.select("step_id", pl.col("position").alias("step_position")), on="step_id")
        .sort("step_position", "position")
        .with_columns(
            pl.when(pl.col("lane") == "thought")
            .then(pl.format("_“{}”_", journey_ui.escaped(short)))
            .when(pl.col("lane") == "pain_point")
            .then(pl.format("**{}/5** · {}", pl.col("severity").fill_null(0), journey_ui.escaped(short)))
            .when(pl.col("lane") == "opportunity")
            .then(
                pl.format(
                    "{} · :gray[{}]", journey_ui.escaped(short), journey_ui.escaped(pl.col("status").fill_null("idea"))
                )
            )
            .otherwise(journey_ui.escaped(short))
            .alias("line")
        )
        .group_by("lane", maintain_order=True)
        .agg(pl.col("line"))
    )


def _metric_row(data: JourneyMapData) -> None:
    """Each linked metric with its value, change against the period before and status against target."""
    metrics = data.metrics.to_dicts()
    if not metrics:
        st.caption("No metric is linked to this stage.")
        return
    per_row = min(len(metrics), METRICS_PER_ROW)
    columns = [column for _ in range(0, len(metrics), per_row) for column in st.columns(per_row)]
    for column, metric in zip(columns, metrics, strict=False):
        formula, unit = metric["formula"], metric["unit"] or ""
        delta = None
        if metric["change"] is not None and metric["value"] is not None:
            delta = journey_ui._shown(metric["change"], formula, unit).replace("+-", "-")
        with column.container(border=True):
            st.metric(
                metric["label"],
                journey_ui._shown(metric["value"], formula, unit),
                delta=delta,
                delta_color="inverse" if metric["direction"] == "lower" else "normal",
            )
            word, colour = journey_ui.STATUS_BADGES.get(metric["status"], journey_ui.NO_DATA_BADGE)
            st.badge(word, color=colour)


def stage_slide(state: ViewState, catalogue: Catalogue) -> None:
    """One stage's slide: its name, its lanes in a few words, its key metrics and where it sits in the deck."""
    stages = load_journey_stages(state.journey)
    names = dict(stages.select("stage_slug", "stage_name").iter_rows())
    if not names:
        st.info("This journey has no stages yet.")
        return
    if state.stage not in names:
        if state.stage:
            st.warning(f"Stage '{state.stage}' is not in journey '{state.journey}'; showing its first stage.")
        state = state.with_(stage=next(iter(names)))
    stage_slug = str(state.stage)
    st.query_params.from_dict(state.query(page="journey"))
    _large_type()
    position = list(names).index(stage_slug) + 1
    slide_controls(state, position=position, stage_names=names)
    st.title(names[stage_slug])
    persona = catalogue.persona_name(state.persona, default=ui.ALL_PERSONAS)
    st.caption(
        f"{catalogue.journey_name(state.journey)} · {persona} · {state.date_from:%d %b %Y} – {state.date_to:%d %b %Y}"
    )
    data = load_journey_map(state.journey, stage_slug, state.persona, state.date_from, state.date_to)
    lines = dict(slide_lanes(data).iter_rows())
    for column, (lane, title) in zip(st.columns(len(SLIDE_LANES)), SLIDE_LANES.items(), strict=True):
        with column.container(border=True, height="stretch"):
            st.subheader(title)
            shown = lines.get(lane, [])
            for line in shown[:ITEMS_PER_LANE]:
                st.markdown(line)
            if len(shown) > ITEMS_PER_LANE:
                st.caption(f"and {len(shown) - ITEMS_PER_LANE} more on the journey map")
            if not shown:
                st.caption("None written down yet.")
    st.subheader("Key metrics, against the period before")
    _metric_row(data)

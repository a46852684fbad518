"""Presentation mode (`&present=1`): the experience map and each stage's journey map as slides.

For walking a review meeting through the journey: no sidebar, filters, share or export; large type; one
slide at a time with previous / next buttons that also answer the arrow keys. The slides run experience
map → first stage → … → last stage, and every slide writes its full URL, so a pasted link opens it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from dashboard import format, routes
from dashboard.cache import Catalogue, load_experience_map, load_journey_map, load_journey_stages
from dashboard.charts import experience_map as experience_map_charts
from dashboard.charts import journey_map as journey_map_charts
from dashboard.components import frame
from dashboard.view_state import ViewState
from data_access.experience_map import GRID_METRICS, ExperienceMapData
from data_access.journey_map import JourneyMapData
from data_access.metrics import Status

# Constant CSS only: no user or data text is ever formatted into it. Type grows with the screen's height
# (vh), so that a slide fits one 1280 × 800 laptop and one 1920 × 1080 room screen without scrolling.
LARGE_TYPE = """
<style>
[data-testid="stMainBlockContainer"] { padding: 3.9rem 2rem 0.5rem; max-width: 1800px; }
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] { gap: 0.55rem; }
[data-testid="stMainBlockContainer"] h1 { font-size: clamp(1.7rem, 4.2vh, 2.6rem); padding: 0; }
[data-testid="stMainBlockContainer"] h3 { font-size: clamp(1.05rem, 2.3vh, 1.45rem); padding: 0 0 0.3rem; }
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMainBlockContainer"] [data-testid="stMarkdownContainer"] li {
  font-size: clamp(0.95rem, 1.95vh, 1.3rem); line-height: 1.35; margin-bottom: 0.25rem; }
[data-testid="stMetricLabel"] p { font-size: clamp(0.95rem, 1.8vh, 1.15rem) !important; }
[data-testid="stMetricValue"] { font-size: clamp(1.6rem, 4vh, 2.6rem) !important; line-height: 1.15; }
[data-testid="stMetricValue"] p, [data-testid="stMetricValue"] div { font-size: inherit !important; }
[data-testid="stMetricDelta"] p,
[data-testid="stMetricDelta"] div { font-size: clamp(0.9rem, 1.7vh, 1.1rem) !important; }
.stMarkdownBadge { font-size: clamp(0.9rem, 1.8vh, 1.15rem) !important; padding: 0.1em 0.5em !important; }
[data-testid="stCaptionContainer"] p { font-size: clamp(0.8rem, 1.6vh, 1.05rem) !important; }
[data-testid="stPageLink"] p { font-size: 1rem !important; }
</style>
"""
# Font sizes in a chart's spec, scaled up for the room: axis and legend labels, titles and text marks.
FONT_KEYS = ("fontSize", "labelFontSize", "titleFontSize", "labelLimit")
CHART_SCALE = 1.15
SLIDE_LANES = {
    "action": "Customers do",
    "thought": "Customers think",
    "pain_point": "Pain points",
    "opportunity": "Opportunities",
}
ITEMS_PER_LANE = 2
WORDS_PER_ITEM = 10
METRICS_PER_ROW = 4
# the charts of a slide, in px of plot: the grid's row step, the curves' and the funnel rows' height
GRID_STEP = 34
CURVE_HEIGHT = 170
FUNNEL_STEP = 22


def _large_type() -> None:
    st.html(LARGE_TYPE)


def _enlarged(spec: Any) -> Any:
    """A chart spec (`chart.to_dict()`) with every font size and label limit scaled by CHART_SCALE."""
    if isinstance(spec, dict):
        return {
            key: round(value * CHART_SCALE) if key in FONT_KEYS and isinstance(value, int | float) else _enlarged(value)
            for key, value in spec.items()
        }
    if isinstance(spec, list):
        return [_enlarged(item) for item in spec]
    return spec


def _big_chart(chart: alt.TopLevelMixin, *, height: int | dict[str, int] | None = None) -> None:
    """Draw a chart from the usual builders with larger type, and a base size for labels that set none;
    `height` (px, or {"step": px}) replaces the chart's own so that the slide fits one screen."""
    spec = _enlarged(chart.to_dict())
    if height is not None:
        spec["height"] = height
    spec.setdefault("config", {}).setdefault("axis", {}).update(labelFontSize=16, titleFontSize=16)
    spec["config"].setdefault("legend", {}).update(labelFontSize=16, titleFontSize=16)
    spec["config"].setdefault("title", {}).update(fontSize=20)
    st.vega_lite_chart(spec, width="stretch")


def _go(state: ViewState, position: int, stage_slugs: Sequence[str]) -> None:
    """Switch to slide `position`: 0 is the experience map, k the k-th stage."""
    if position == 0:
        st.switch_page(routes.EXPERIENCE_MAP, query_params=state.query(page="overview"))
    stage = stage_slugs[position - 1]
    st.switch_page(routes.JOURNEY_MAP, query_params=state.with_(stage=stage).query(page="journey"))


def slide_controls(
    state: ViewState,
    *,
    position: int,
    stage_names: dict[str, str],
    title: str,
    catalogue: Catalogue,
    status: Status | None = None,
) -> None:
    """The slide's title and progress, previous / next (also the ← / → keys) and the way out, on one row; a
    stage's `status` as a badge beside its progress (on the line above the title, so the slide keeps its height)."""
    slugs = list(stage_names)
    progress = "Experience map" if position == 0 else f"Stage {position} of {len(slugs)}"
    persona = catalogue.persona_name(state.persona, default=frame.ALL_PERSONAS)
    period = f"{state.date_from:%d %b} – {state.date_to:%d %b %Y}"
    where, previous, following, leave = st.columns([4.4, 1.2, 1.2, 1.5], vertical_alignment="bottom")
    badge = ""
    if status is not None:
        word, colour = format.status_badge(status)
        badge = f" · :{colour}-badge[Stage status: {word}]"
    where.caption(f"{progress} · {format.verbatim(persona)} · {period}{badge}")
    where.title(format.verbatim(title, limit=None))
    before = "Experience map" if position <= 1 else stage_names[slugs[position - 2]]
    if previous.button(
        f"{before}" if position > 0 else "Previous",
        key="present_previous",
        shortcut="Left",
        disabled=position == 0,
        width="stretch",
    ):
        _go(state, position - 1, slugs)
    after = stage_names[slugs[position]] if position < len(slugs) else "Next"
    if following.button(
        after,
        key="present_next",
        shortcut="Right",
        disabled=position >= len(slugs),
        type="primary",
        width="stretch",
    ):
        _go(state, position + 1, slugs)
    page = "overview" if position == 0 else "journey"
    route = routes.EXPERIENCE_MAP if position == 0 else routes.JOURNEY_MAP
    frame.leave_presentation(route, state.with_(present=False).query(page=page), place=leave)


def overview_slide(state: ViewState, catalogue: Catalogue) -> None:
    """The first slide: headline metrics, the touchpoint grid and the emotional curve, without filters."""
    st.query_params.from_dict(state.query(page="overview"))
    _large_type()
    stages = load_journey_stages(state.journey)
    names = dict(stages.select("stage_slug", "stage_name").iter_rows())
    slide_controls(
        state, position=0, stage_names=names, title=catalogue.journey_name(state.journey), catalogue=catalogue
    )
    data = load_experience_map(state.journey, state.persona, state.period, state.compared, state.metric)
    _headline_row(data)
    metric_label = GRID_METRICS[state.metric].split(":")[0]
    grid = experience_map_charts.touchpoint_heatmap(
        data.grid, metric=state.metric, metric_label=metric_label, stage_order=data.stages["stage"].to_list()
    )
    grid_column, curve_column = st.columns([3, 2])
    with grid_column:
        _big_chart(grid, height={"step": GRID_STEP})
    with curve_column:
        moments = data.moments_of_truth["stage"].unique().to_list()
        curve = experience_map_charts.emotional_curve(data.curve, moments=moments, label_angle=-35)
        _big_chart(curve, height=CURVE_HEIGHT + 150)


def _headline_row(data: ExperienceMapData) -> None:
    """The headline metrics as compact tiles: value, change and status badge (no sparkline on a slide)."""
    for column, headline in zip(st.columns(len(data.headlines)), data.headlines, strict=True):
        with column.container(border=True):
            frame.headline_metric(headline)
            word, colour = format.status_badge(headline.status)
            if headline.cohorts is not None:
                word, colour = format.cohort_status_badge(
                    headline.status, value=headline.value, cohorts=headline.cohorts
                )
            st.markdown(f":{colour}-badge[{word}]")


def slide_lanes(data: JourneyMapData) -> pl.DataFrame:
    """Per slide lane, its items in step order as short markdown lines (escaped, cut to a few words)."""
    lines = format.lane_texts(data, lanes=SLIDE_LANES, medium="markdown", detail=False, words=WORDS_PER_ITEM)
    return lines.group_by("lane", maintain_order=True).agg(pl.col("text").alias("line"))


def _metric_row(data: JourneyMapData) -> None:
    """The first METRICS_PER_ROW linked metrics with value, change against the period before and status."""
    metrics = data.metrics.to_dicts()
    if not metrics:
        st.caption("No metric is linked to this stage.")
        return
    shown = metrics[:METRICS_PER_ROW]
    for column, metric in zip(st.columns(METRICS_PER_ROW), shown, strict=False):
        formula = metric["formula"]
        change = format.change_text(metric["change"], formula)
        measured = metric["change"] is not None and metric["value"] is not None
        with column.container(border=True):
            st.metric(
                format.verbatim(metric["label"]),
                format.value_text(metric["value"], formula),
                delta=change if measured else None,
                delta_color=format.delta_colour(change, metric["direction"]),
                delta_arrow=format.delta_arrow(change),
            )
            word, colour = format.metric_badge(metric, data.cohorts)
            st.markdown(f":{colour}-badge[{word}]")


def stage_slide(state: ViewState, catalogue: Catalogue) -> None:
    """One stage's slide: its name, its lanes in a few words, its key metrics and where it sits in the deck."""
    stages = load_journey_stages(state.journey)
    names = dict(stages.select("stage_slug", "stage_name").iter_rows())
    if not names:
        st.info("This journey has no stages yet.")
        return
    if state.stage not in names:
        if state.stage:
            st.warning(
                f"Stage '{format.verbatim(state.stage)}' is not in journey '{format.verbatim(state.journey)}'; "
                "showing its first stage."
            )
        state = state.with_(stage=next(iter(names)))
    stage_slug = str(state.stage)
    st.query_params.from_dict(state.query(page="journey"))
    _large_type()
    position = list(names).index(stage_slug) + 1
    data = load_journey_map(state.journey, stage_slug, state.persona, state.period, state.compared)
    slide_controls(
        state, position=position, stage_names=names, title=names[stage_slug], catalogue=catalogue, status=data.status
    )
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
    more = max(data.metrics.height - METRICS_PER_ROW, 0)
    more_metrics = f" · {more} more metrics on the journey map" if more else ""
    st.caption(f"On the map: {format.open_findings_text(data.lane_items)}{more_metrics}")
    _stage_charts(data)
    _metric_row(data)


def _stage_charts(data: JourneyMapData) -> None:
    """The stage's emotion curve over its steps beside its funnel, each a slide's third of a screen high."""
    steps = data.steps.sort("position")["step_name"].to_list()
    curve_column, funnel_column = st.columns(2)
    with curve_column:
        st.markdown("**Emotion** over the steps, assumed and measured (−2 … +2)")
        if steps:
            curve = journey_map_charts.emotion_curve(data.emotions, step_order=steps, standalone=True, label_angle=-30)
            _big_chart(curve, height=CURVE_HEIGHT + 140)  # the slanted step names take about 80 px
    with funnel_column:
        st.markdown("**Funnel** through the steps")
        outliers = data.findings.filter(pl.col("reason") == "drop-off stands out")["step_id"].to_list()
        funnel = journey_map_charts.step_funnel(data.funnel, outlier_steps=outliers, compact=True)
        _big_chart(funnel, height={"step": FUNNEL_STEP})
        st.caption(journey_map_charts.FUNNEL_COLOURS)

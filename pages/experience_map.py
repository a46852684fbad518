"""Experience map: every stage against every channel, the emotional curve, moments of truth, headlines."""

from functools import partial

import streamlit as st

from dashboard import format, routes
from dashboard.cache import chart_spec, load_experience_map
from dashboard.charts import experience_map as charts
from dashboard.components import changes, frame, future_state, opportunities, slides
from dashboard.exports import files
from dashboard.settings import get_settings
from data_access.experience_map import GRID_METRICS

state, catalogue = frame.current_view()
if state.present:
    slides.overview_slide(state, catalogue)
    st.stop()
actions = frame.filter_sidebar(state, catalogue, page="overview")
st.query_params.from_dict(state.query(page="overview"))

compared = state.compared
journey_name = catalogue.journey_name(state.journey)
persona_name = catalogue.persona_name(state.persona, default=frame.ALL_PERSONAS)
st.title("Experience map")
st.caption(
    f"**{format.verbatim(journey_name)}** · {format.verbatim(persona_name)} · "
    f"{state.date_from:%d %b %Y} – {state.date_to:%d %b %Y}. "
    "The whole lifecycle at a glance: click a stage or a cell to open its journey map. "
    f"Arrows compare with {compared.start:%d %b %Y} – {compared.end:%d %b %Y}."
)

frame.no_data_note(state, catalogue)
future_state.compare_link(state)
data = load_experience_map(state.journey, state.persona, state.period, compared, state.metric)
frame.headline_cards(data.headlines)


def open_stage(selection_event: object, name: str) -> None:
    """A click on a stage, or on a cell: its stage's journey map, with the cell's channel and touchpoint."""
    points = selection_event.get("selection", {}).get(name) if isinstance(selection_event, dict) else None
    if isinstance(points, list) and points:
        point = points[0]
        stage = state.without_comment_filters().with_(
            stage=point["stage_slug"], channel=point.get("channel_slug"), touchpoint=point.get("touchpoint_slug")
        )
        st.switch_page(routes.JOURNEY_MAP, query_params=stage.query(page="journey"))


stage_order = data.stages["stage"].to_list()
open_stage(
    st.vega_lite_chart(
        chart_spec(charts.stage_strip, data.stages), on_select="rerun", key="overview_stages", width="stretch"
    ),
    charts.STAGE_SELECTION,
)
if (cohort_note := format.cohort_note(data.cohorts)) is not None:
    st.caption(f"A stage's conversion (and its status) counts closed cohorts only. {cohort_note}")
metric_label = GRID_METRICS[state.metric].split(":")[0]
frame.share_link(state, page="overview", place=actions.share)
if data.grid.is_empty():
    st.info(
        f"**{journey_name}** has no touchpoints on its map yet, so there is no stage × channel grid. "
        "Add touchpoints under its stages in the map file and import it on the Import data page."
    )
    grid = None
else:
    grid = partial(
        charts.touchpoint_heatmap, data.grid, metric=state.metric, metric_label=metric_label, stage_order=stage_order
    )
    open_stage(
        st.vega_lite_chart(chart_spec(grid), on_select="rerun", key="overview_grid", width="stretch"),
        charts.CELL_SELECTION,
    )
frame.export_menu(
    state, page="overview", scope="overview", table=files.touchpoint_table(data.grid), chart=grid, place=actions.export
)
if grid is not None:
    st.caption(
        f"{GRID_METRICS[state.metric]}. ★ marks a moment of truth. Hatched grey cells have no metric with "
        f"{get_settings().min_responses} answers (n = answers): not enough data, not a bad score; 'no metric' "
        "cells hold answers that no metric of the map reads. A metric with fewer answers is unmeasured, never on "
        "target; the tooltip says how many of a cell's metrics are measured."
    )

frame.answer_findings(state, data.findings)


@st.fragment
def below_the_fold() -> None:
    """Drawn once the browser has drawn the map above; the review form and the tables rerun only this part."""
    if not frame.above_the_fold_drawn("overview_first_draw"):
        return
    moments = data.moments_of_truth["stage"].unique(maintain_order=True).to_list()
    st.vega_lite_chart(chart_spec(charts.emotional_curve, data.curve, moments=moments), width="stretch")
    st.caption(
        "Measured: 2 × (share of favourable answers − share of the rest), −2..+2: positive only when most "
        "answers are favourable (NPS 9–10, CSAT 4–5, CES 5–7, positive sentiment). Assumed: the team's emotion "
        "cards. ★ stages with a moment of truth."
    )
    frame.moments_of_truth_table(data.moments_of_truth)
    opportunities.where_to_act_first(state, stage=None, page="overview")
    changes.what_changed(state)
    changes.review_form(state)


below_the_fold()

"""Experience map: every stage against every channel, the emotional curve, moments of truth, headlines."""

import streamlit as st

from dashboard import changes_ui, exports, presentation, routes, ui
from dashboard.cache import load_experience_map
from dashboard.charts import overview as charts
from dashboard.settings import get_settings
from data_access.experience_map import GRID_METRICS

state, catalogue = ui.current_view()
if state.present:
    presentation.overview_slide(state, catalogue)
    st.stop()
ui.filter_sidebar(state, catalogue, page="overview")
st.query_params.from_dict(state.query(page="overview"))

compared = state.compared
journey_name = catalogue.journey_name(state.journey)
persona_name = catalogue.persona_name(state.persona, default=ui.ALL_PERSONAS)
st.title("Experience map")
st.caption(
    f"**{journey_name}** · {persona_name} · {state.date_from:%d %b %Y} – {state.date_to:%d %b %Y}. "
    "The whole lifecycle at a glance: click a stage or a cell to open its journey map. "
    f"Arrows compare with {compared.start:%d %b %Y} – {compared.end:%d %b %Y}."
)

ui.no_data_note(state, catalogue)
data = load_experience_map(state.journey, state.persona, state.period, compared, state.metric)
ui.headline_cards(data.headlines)


def open_stage(selection_event: object, name: str) -> None:
    points = selection_event.get("selection", {}).get(name) if isinstance(selection_event, dict) else None
    if isinstance(points, list) and points:
        stage = state.with_(stage=points[0]["stage_slug"])
        st.switch_page(routes.JOURNEY_MAP, query_params=stage.query(page="journey"))


stage_order = data.stages["stage"].to_list()
open_stage(
    st.altair_chart(charts.stage_strip(data.stages), on_select="rerun", key="overview_stages", width="stretch"),
    charts.STAGE_SELECTION,
)
metric_label = GRID_METRICS[state.metric].split(":")[0]
ui.share_link(state, page="overview")
if data.grid.is_empty():
    st.info(
        f"**{journey_name}** has no touchpoints on its map yet, so there is no stage × channel grid. "
        "Add touchpoints under its stages in the map file and import it on the Import data page."
    )
    ui.export_menu(state, page="overview", scope="overview", table=exports.touchpoint_table(data.grid), chart=None)
else:
    grid = charts.touchpoint_heatmap(data.grid, metric=state.metric, metric_label=metric_label, stage_order=stage_order)
    open_stage(st.altair_chart(grid, on_select="rerun", key="overview_grid", width="stretch"), charts.CELL_SELECTION)
    ui.export_menu(state, page="overview", scope="overview", table=exports.touchpoint_table(data.grid), chart=grid)
    st.caption(
        f"{GRID_METRICS[state.metric]}. ★ marks a moment of truth. Dashed grey cells have fewer than "
        f"{get_settings().min_responses} answers (n = answers): not enough data, not a bad score."
    )

moments = data.moments_of_truth["stage"].unique().to_list()
st.altair_chart(charts.emotional_curve(data.curve, moments=moments), width="stretch")
st.caption(
    "Measured: feedback answers placed on −2..+2 by their scale. Assumed: the team's emotion cards. "
    "★ stages with a moment of truth."
)
ui.moments_of_truth_table(data.moments_of_truth)
changes_ui.what_changed(state)
changes_ui.review_form(state)

"""Journey map of one stage (first slice: the stage and its metrics; the full lanes follow)."""

import streamlit as st

from dashboard import routes, ui
from dashboard.loaders import load_overview

state, catalogue = ui.current_view()
ui.filter_sidebar(state, catalogue, page="journey")
data = load_overview(state.journey, state.persona, state.date_from, state.date_to, "health")
stage_slugs = data.stages["stage_slug"].to_list()
if state.stage not in stage_slugs:
    st.warning(f"Stage '{state.stage}' is not in this journey. Pick one below.")
    for slug, name in data.stages.select("stage_slug", "stage").iter_rows():
        st.page_link(routes.JOURNEY, label=name, query_params=state.with_(stage=slug).query(page="journey"))
    st.stop()
st.query_params.from_dict(state.query(page="journey"))
stage = data.stages.filter(data.stages["stage_slug"] == state.stage).row(0, named=True)
st.title(f"Journey map: {stage['stage']}")
st.caption(stage["stage_description"])
st.page_link(routes.OVERVIEW, label="← Back to the experience map", query_params=state.query(page="overview"))
st.dataframe(
    data.grid.filter(data.grid["stage_slug"] == state.stage).select(
        "channel", "touchpoints", "value_label", "nps_label", "csat_label", "ces_label"
    ),
    hide_index=True,
)

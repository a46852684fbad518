"""Current vs future state: what the future state changes, the pain points it resolves, today against its targets."""

import streamlit as st

from dashboard import format, routes
from dashboard.cache import load_future_state
from dashboard.components import frame, future_state

state, catalogue = frame.current_view()
state, future = future_state.choose_pair(state, catalogue, st.query_params.get("with", ""))
if not state.present:
    frame.filter_sidebar(state, catalogue, page="compare")
st.title("Current vs future state")
if future is None:
    future_state.no_future_state(state, catalogue)
    st.stop()
st.query_params.from_dict(future_state.view_query(state, future))
if state.present:
    frame.leave_presentation(routes.COMPARE, future_state.view_query(state.with_(present=False), future))
persona = catalogue.persona_name(state.persona, default=frame.ALL_PERSONAS)
st.caption(
    f"**{format.verbatim(catalogue.journey_name(state.journey))}** today against its future state "
    f"**{format.verbatim(catalogue.journey_name(future))}** · {format.verbatim(persona)} · "
    f"today's numbers over {state.date_from:%d %b %Y} – {state.date_to:%d %b %Y}."
)
comparison = load_future_state(state.journey, future, state.persona, state.period)
future_state.changes_section(comparison)
chart = future_state.emotion_chart(comparison)
future_state.pain_points_section(comparison)
table = future_state.targets_section(comparison)
if not state.present:
    future_state.export(state, future, table, chart)

"""Personas: who each persona is (profile, empathy map) beside what the data says, and all of them side by side."""

import streamlit as st

from dashboard import format, routes
from dashboard.cache import load_personas
from dashboard.components import frame, personas

state, catalogue, metric = personas.current_view()
st.query_params.from_dict(personas.view_query(state, metric))
if state.present:
    frame.leave_presentation(routes.PERSONAS, personas.view_query(state.with_(present=False), metric))
else:
    frame.filter_sidebar(state, catalogue, page="personas")

st.title("Personas")
st.caption(
    f"**{format.verbatim(catalogue.journey_name(state.journey))}** · "
    f"{state.date_from:%d %b %Y} – {state.date_to:%d %b %Y}. "
    "Who each persona is, as the team wrote it, beside what the data says about them."
)
frame.no_data_note(state, catalogue)
data = load_personas(state.journey, state.period, metric)
if data.profiles.is_empty():
    st.info("This map has no personas yet. Add them to the map file and import it on the Import data page.")
    st.stop()
if state.persona is None:
    personas.persona_cards(state, data, metric)
else:
    personas.persona_detail(state, data)
chart = personas.comparison(state, data, metric)
if not state.present:
    personas.export(state, metric, data.comparison, chart)

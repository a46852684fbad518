"""Journey Atlas: the router. Page config and navigation; everything else lives in the pages."""

import streamlit as st

from dashboard import routes
from dashboard.components.frame import faults_said_plainly

# Presentation mode (`&present=1`) hides the navigation and the sidebar; the pages draw slides instead.
present = st.query_params.get("present") == "1"
st.set_page_config(
    page_title="Journey Atlas",
    page_icon=":material/map:",
    layout="wide",
    initial_sidebar_state="collapsed" if present else "auto",
)
pages = [routes.EXPERIENCE_MAP, routes.JOURNEY_MAP, routes.PERSONAS, routes.COMPARE, routes.IMPORT_DATA]
with faults_said_plainly():  # a fault of the database is one sentence on any page, never a traceback
    routes.run_timed(st.navigation(pages, position="hidden" if present else "sidebar"))

"""Journey Atlas: the router. Page config and navigation; everything else lives in the pages."""

import streamlit as st

from dashboard import routes

st.set_page_config(page_title="Journey Atlas", page_icon=":material/map:", layout="wide")
st.navigation([routes.OVERVIEW, routes.JOURNEY, routes.IMPORT]).run()

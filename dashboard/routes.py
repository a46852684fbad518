"""The app's pages as `st.Page` objects, shared by the router and by pages that link to each other."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).resolve().parent.parent / "pages"

EXPERIENCE_MAP = st.Page(PAGES / "experience_map.py", title="Experience map", icon=":material/map:", default=True)
JOURNEY_MAP = st.Page(PAGES / "journey_map.py", title="Journey map", icon=":material/route:", url_path="journey")
IMPORT_DATA = st.Page(PAGES / "import_data.py", title="Import data", icon=":material/upload_file:", url_path="import")
PERSONAS = st.Page(PAGES / "personas.py", title="Personas", icon=":material/groups:", url_path="personas")
COMPARE = st.Page(PAGES / "compare.py", title="Current vs future", icon=":material/compare_arrows:", url_path="compare")

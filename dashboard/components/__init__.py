"""Streamlit pieces of the pages: the shared frame (sidebar, share link, export menu) and each view's sections."""

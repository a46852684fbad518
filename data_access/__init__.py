"""Journey Atlas data access: models, sessions, queries, import, rollups and metric maths.

Nothing in this package imports streamlit; it serves the dashboard, the CLI, tests and notebooks alike.
"""

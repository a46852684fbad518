"""What changed, on screen: the "Compare with" control, the biggest movers table, map changes since a review.

The comparison lives in the URL: nothing (the period before), `compare_from`/`compare_to` (a chosen
period) or `review=<slug>` (the period of equal length ending on the review's date, plus the pain points
and opportunities added or resolved on the map since that review).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import polars as pl
import streamlit as st

from dashboard import cache, format
from dashboard.components import editing
from dashboard.editors import NotAnEditor
from dashboard.view_state import ViewState
from data_access.reviews import DAYS_AHEAD, FIRST_REVIEW_DAY

PREVIOUS = "previous"
CHOSEN = "period"


def review_days(journey: str) -> dict[str, dt.date]:
    """The journey's reviews: slug -> the review's day."""
    return dict(cache.load_reviews(journey).select("slug", "reviewed_on").iter_rows())


def _set_comparison(page: str) -> None:
    choice = st.session_state[f"{page}_compare"]
    for name in ("compare_from", "compare_to", "review"):
        st.query_params.pop(name, None)
    if choice == CHOSEN:
        start, end = st.session_state.get(f"{page}_compare_default", (None, None))
        if start and end:
            st.query_params["compare_from"], st.query_params["compare_to"] = start.isoformat(), end.isoformat()
    elif choice != PREVIOUS:
        st.query_params["review"] = choice


def _set_compared_dates(key: str) -> None:
    value = st.session_state[key]
    if isinstance(value, tuple | list) and len(value) == 2:
        st.query_params["compare_from"], st.query_params["compare_to"] = value[0].isoformat(), value[1].isoformat()


def compare_control(state: ViewState, *, page: str) -> None:
    """'Compare with': the period before, a chosen period, or one of the journey's reviews (call in the sidebar)."""
    reviews = cache.load_reviews(state.journey)
    labels = {PREVIOUS: "the previous period", CHOSEN: "a chosen period"} | {
        slug: f"review: {label} ({day:%d %b %Y})"
        for slug, label, day in reviews.select("slug", "label", "reviewed_on").iter_rows()
    }
    current = state.review or (CHOSEN if state.compare_from and state.compare_to else PREVIOUS)
    before = state.period.previous()  # where a newly chosen comparison starts
    st.session_state[f"{page}_compare_default"] = (before.start, before.end)
    st.selectbox(
        "Compare with",
        list(labels),
        index=list(labels).index(current),
        format_func=labels.__getitem__,
        key=f"{page}_compare",
        on_change=_set_comparison,
        args=(page,),
        help="Every number's change is against this period. A review compares with the period of equal "
        "length ending on the review's date, and lists the map's changes since.",
    )
    if current == CHOSEN:
        st.date_input(
            "Compared period",
            value=(state.compared.start, state.compared.end),
            key=f"{page}_compare_dates",
            on_change=_set_compared_dates,
            args=(f"{page}_compare_dates",),
        )


def _shown(column: str) -> pl.Expr:
    return format.value_expr(pl.col(column), pl.col("formula")).alias(column)


def what_changed(state: ViewState) -> None:
    """Every metric now and then, biggest movers first; since a review, the map's new and resolved findings."""
    st.subheader("What changed")
    compared = state.compared
    movers = cache.load_changes(state.journey, state.persona, state.period, compared)
    review = cache.load_reviews(state.journey).filter(pl.col("slug") == (state.review or ""))
    since = f" (the period ending on review '{format.verbatim(review['label'][0])}')" if len(review) else ""
    st.caption(
        f"Now: {state.date_from:%d %b %Y} – {state.date_to:%d %b %Y}; then: {compared.start:%d %b %Y} – "
        f"{compared.end:%d %b %Y}{since}. Biggest movers first: each change is divided by the width of its "
        "metric's scale (200 NPS or sentiment points, 100 CSAT points, 6 on CES, 1 for a share); time to "
        "next stage relative to its larger value. Status is against target, now."
    )
    maturity = cache.load_journey_sums(state.journey, state.persona, state.period, compared).cohorts
    notes = [
        f"{when}: {note[0].lower()}{note[1:]}"
        for when, period in (("Now", state.period), ("Then", compared))
        if (note := format.cohort_note(maturity.coverage(period))) is not None
    ]
    if notes:
        st.caption("Conversions, drop-off and time to next stage count closed cohorts only. " + " ".join(notes))
    shown = movers.select(
        "stage",
        "label",
        _shown("value"),
        _shown("compared_value"),
        format.change_expr(pl.col("change"), pl.col("formula")).alias("change"),
        format.status_expr("status"),
    )
    labels = {"stage": "Stage", "label": "Metric", "value": "Now", "compared_value": "Then", "change": "Change"}
    _table(shown, key="overview_changes", labels={**labels, "status": "Status"})
    if len(review):
        map_changes_since(state, label=str(review["label"][0]), written_by=str(review["written_by"][0]))


def map_changes_since(state: ViewState, *, label: str, written_by: str) -> None:
    st.markdown(f"**On the map since {format.verbatim(label)}**")
    st.caption(f"Review labelled by {format.verbatim(written_by)}.")
    found = cache.load_map_changes(state.journey, state.review or "")
    if found.is_empty():
        st.caption("No pain point or opportunity was added or resolved since this review.")
        return
    labels = {"change": "Change", "stage": "Stage", "step": "Step", "text": "Pain point or opportunity"}
    _table(
        found.select(*labels, "status_then", "status_now"),
        key="overview_map_changes",
        labels={**labels, "status_then": "Status then", "status_now": "Status now"},
    )


def _table(table: pl.DataFrame, *, key: str, labels: dict[str, str]) -> None:
    """A table with its columns' labels: whole up to 20 rows (no scrollbar inside it), scrolling beyond."""
    height: int | Literal["auto"] = (len(table) + 1) * 35 + 3 if len(table) <= 20 else "auto"
    st.dataframe(table, hide_index=True, width="stretch", height=height, key=key, column_config=labels)


def review_form(state: ViewState) -> None:
    """A small form to label the map as it stands as a review (not shown in presentation mode)."""
    if state.present:
        return
    with st.expander("Label this map as a review"):
        if editing.editor_or_sign_in("overview", action="label reviews") is not None:
            _review_fields(state)


def _review_fields(state: ViewState) -> None:
    with st.form("overview_review_form", border=False):
        label = st.text_input("Label", placeholder="Q3 review", key="overview_review_label")
        day = st.date_input(
            "Review date",
            value=dt.date.today(),
            min_value=FIRST_REVIEW_DAY,
            max_value=dt.date.today() + dt.timedelta(days=DAYS_AHEAD),
            key="overview_review_date",
        )
        if st.form_submit_button("Save review") and label.strip():
            try:
                slug = cache.save_review(state.journey, label, day if isinstance(day, dt.date) else dt.date.today())
            except NotAnEditor as refused:
                st.error(format.verbatim(str(refused), limit=None))
                return
            st.query_params["review"] = slug
            st.rerun()

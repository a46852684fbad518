"""The journey page's comments: filters by measure, channel, touchpoint and score band, and the page shown.

Every filter and the page number are held in the URL (`ViewState`): a widget's change only writes its
parameter; each run sets the widgets from the view, so a pasted link opens the same comments.
"""

from __future__ import annotations

import streamlit as st

from dashboard.cache import load_stage_comments
from dashboard.components import journey_map
from dashboard.view_state import ViewState
from data_access.journey_map import BANDS, JourneyMapData
from data_access.models import Measure

PAGE_SIZE = 20
ANY = ""  # the choice of no filter in a select box


def _write(name: str, key: str) -> None:
    """Callback: the widget's value into URL parameter `name` (a new filter starts on the first page)."""
    value = st.session_state[key]
    if value in (None, ANY):
        st.query_params.pop(name, None)
    else:
        st.query_params[name] = str(value)
    if name != "comment_page":
        st.query_params.pop("comment_page", None)


def _select(label: str, names: dict[str, str], current: str | None, *, name: str) -> None:
    """A select box over `names` (slug -> shown name, ANY first) set from the view and written to the URL."""
    key = f"journey_comment_{name}"
    st.session_state[key] = current if current in names else ANY
    st.selectbox(label, list(names), format_func=names.__getitem__, key=key, on_change=_write, args=(name, key))


def comments_section(state: ViewState, stage_slug: str, data: JourneyMapData) -> None:
    """The stage's comments in the period, filtered and paged as the URL says."""
    measure_column, channel_column, touchpoint_column = st.columns(3)
    measures = {ANY: "All measures"} | {m.value: m.value.upper() for m in Measure}
    channels = {ANY: "All channels"} | dict(data.channels.select("channel_slug", "channel_name").iter_rows())
    touchpoints = {ANY: "All touchpoints"} | dict(
        data.touchpoints.select("touchpoint_slug", "touchpoint_name").iter_rows()
    )
    # a touchpoint of another stage (a link edited by hand) filters nothing here
    touchpoint = state.touchpoint if state.touchpoint in touchpoints else None
    with measure_column:
        _select("Measure", measures, state.measure, name="measure")
    with channel_column:
        _select("Channel", channels, state.channel, name="channel")
    with touchpoint_column:
        _select("Touchpoint", touchpoints, touchpoint, name="touchpoint")
    counts, comments = load_stage_comments(
        state.journey,
        stage_slug,
        state.persona,
        state.period,
        state.compared,
        state.band,
        state.measure,
        state.channel,
        state.comment_page - 1,
        PAGE_SIZE,
        touchpoint,
    )
    per_band = dict(counts.iter_rows())
    st.session_state["journey_band"] = state.band
    st.segmented_control(
        "Score band",
        list(BANDS),
        format_func=lambda b: f"{journey_map.band_label(b, state.measure)} ({per_band.get(b, 0):,})",
        key="journey_band",
        on_change=_write,
        args=("band", "journey_band"),
        help="Detractors 0–6, passives 7–8, promoters 9–10 for NPS; low and high by each measure's scale.",
    )
    shown_total = per_band.get(state.band, 0) if state.band else sum(per_band.values())
    pages = max(1, -(-shown_total // PAGE_SIZE))
    st.session_state["journey_comment_page"] = min(state.comment_page, pages)
    st.number_input(
        "Page",
        min_value=1,
        max_value=max(pages, state.comment_page),
        key="journey_comment_page",
        on_change=_write,
        args=("comment_page", "journey_comment_page"),
        help=f"{PAGE_SIZE} comments a page, newest first.",
    )
    if comments.is_empty():
        st.caption("No comment matches these filters in the period.")
    else:
        journey_map.comments_table(comments)


@st.fragment
def customers_words(state: ViewState, stage_slug: str, data: JourneyMapData) -> None:
    """Below the fold: the stage's comments with their filters, then the notes from the front line.

    A fragment: changing a filter, turning a page or adding a note reruns only this part, not the lanes and
    numbers above it. Drawn inside the journey page's part below the fold.
    """
    st.header("In the customers' words")
    comments_section(state, stage_slug, data)
    journey_map.stage_notes(state, stage_slug)

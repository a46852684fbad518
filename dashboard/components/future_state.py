"""UI pieces of the current vs future state view, and the experience map's link to it.

The URL names the current journey (`journey`) and the future state (`with`); a future state must improve the
current journey, and a wrong pair gets a notice naming what the map says instead.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from dashboard import format, routes
from dashboard.cache import Catalogue, chart_spec, load_journey_links
from dashboard.charts import future_state as charts
from dashboard.components import frame
from dashboard.exports import files
from dashboard.view_state import ViewState
from data_access.future_state import ADDED, KEPT, LEFT_OPEN, REMOVED, RESOLVED, FutureComparison, improvements_of

PAGE = "compare"
CHANGE_WORDS = {KEPT: "kept", ADDED: "added by the future state", REMOVED: "removed by the future state"}


def view_query(state: ViewState, future: str) -> dict[str, str]:
    """Query parameters that reproduce the view: the current journey's view, and the future state."""
    return {"journey": state.journey, "with": future} | {
        key: value for key, value in state.query(page=PAGE).items() if key != "journey"
    }


def choose_pair(state: ViewState, catalogue: Catalogue, requested: str) -> tuple[ViewState, str | None]:
    """The current journey and the future state to compare, with a notice for a pair the map does not hold.

    A future-state journey named as `journey` without `with` is compared with the journey it improves. None
    when the journey has no future state (the page says so).
    """
    links = load_journey_links()
    improves = dict(links.select("slug", "improves").iter_rows())
    if improves.get(state.journey) and requested in ("", state.journey):
        current = str(improves[state.journey])
        st.info(
            f"'{format.verbatim(state.journey)}' is a future state: comparing it with the journey it improves, "
            f"'{format.verbatim(current)}'.",
            icon="ℹ️",
        )
        return state.with_(journey=current), state.journey
    futures = improvements_of(links, state.journey)
    if requested and requested not in futures:
        if requested not in improves:
            reason = "is not a journey on the map"
        elif improves[requested]:
            reason = f"is a future state of '{format.verbatim(improves[requested])}', not of this journey"
        else:
            reason = "is not a future state of any journey"
        known = ", ".join(futures) if futures else "none"
        st.warning(
            f"Parameter `with`: '{format.verbatim(requested)}' {reason} (future states of "
            f"'{format.verbatim(state.journey)}': {format.verbatim(known)}).",
            icon="⚠️",
        )
    if requested in futures:
        return state, requested
    return state, futures[0] if futures else None


def no_future_state(state: ViewState, catalogue: Catalogue) -> None:
    """The journey has no future state: say so, and offer the journeys that have one."""
    name = format.verbatim(catalogue.journey_name(state.journey))
    st.info(
        f"**{name}** has no future state: no journey on the map improves it. Add a journey of kind `future` with "
        "`improves:` naming it to the map file, and import it on the Import data page."
    )
    links = load_journey_links().filter(pl.col("improves").is_not_null())
    for future, current in links.select("slug", "improves").iter_rows():
        st.page_link(
            routes.COMPARE,
            label=f"Compare {format.verbatim(catalogue.journey_name(current))} with "
            f"{format.verbatim(catalogue.journey_name(future))}",
            query_params=view_query(state.with_(journey=current), future),
        )


def compare_link(state: ViewState) -> None:
    """On the experience map: a link to the current vs future view when the journey has one or is one."""
    links = load_journey_links()
    improves = dict(links.select("slug", "improves").iter_rows())
    if improves.get(state.journey):
        current = str(improves[state.journey])
        st.page_link(
            routes.COMPARE,
            label="This is a future state: compare it with the current state",
            icon=":material/compare_arrows:",
            query_params=view_query(state.with_(journey=current), state.journey),
        )
    elif futures := improvements_of(links, state.journey):
        st.page_link(
            routes.COMPARE,
            label="Compare with the future state",
            icon=":material/compare_arrows:",
            query_params=view_query(state, futures[0]),
        )


def changes_section(comparison: FutureComparison) -> None:
    """Stages and steps the future state adds, removes and keeps."""
    st.header("What the future state changes")
    stages = comparison.stages.select(
        pl.coalesce("future_name", "current_name").alias("stage"),
        pl.col("change").replace_strict(CHANGE_WORDS, return_dtype=pl.String),
        pl.col("matched_by").fill_null("—"),
        *(pl.col(f"steps_{c}").fill_null(0).cast(pl.Int64) for c in (ADDED, REMOVED, KEPT)),
    )
    st.dataframe(
        stages,
        hide_index=True,
        width="stretch",
        column_config={
            "stage": "Stage",
            "change": "Change",
            "matched_by": st.column_config.TextColumn("Matched by", help="Same slug, else same name"),
            "steps_added": "Steps added",
            "steps_removed": "Steps removed",
            "steps_kept": "Steps kept",
        },
    )
    with st.expander("Every step", expanded=False):
        st.dataframe(
            comparison.steps.select(
                "stage",
                pl.col("current_name").fill_null("—").alias("today"),
                pl.col("future_name").fill_null("—").alias("future"),
                pl.col("change").replace_strict(CHANGE_WORDS, return_dtype=pl.String),
            ),
            hide_index=True,
            width="stretch",
            column_config={
                "stage": "Stage",
                "today": "Step today",
                "future": "Step in the future state",
                "change": "Change",
            },
        )


def pain_points_section(comparison: FutureComparison) -> None:
    """Today's pain points the future state resolves, and those it leaves open."""
    st.header("Today's pain points")
    pains = comparison.pain_points
    resolved, still_open = st.columns(2)
    for column, outcome, title in ((resolved, RESOLVED, "Resolved"), (still_open, LEFT_OPEN, "Left open")):
        chosen = pains.filter(pl.col("outcome") == outcome)
        column.subheader(f"{title} ({chosen.height})")
        for row in frame.rows_or_note(chosen, note="None.", place=column):
            column.markdown(
                f"- {format.verbatim(row['text'])} — _{format.verbatim(row['stage'])}, "
                f"{format.verbatim(row['step'])}: {row['reason']}_"
            )
    st.caption(
        "A pain point is resolved when the future state removes its step (or its stage), or when the matching "
        "future step no longer carries a pain point with the same text; otherwise it is left open."
    )


def targets_table(comparison: FutureComparison) -> pl.DataFrame:
    """Today's metrics against the future state's targets, written by `format` (the page's table and CSV)."""
    return comparison.targets.select(
        "stage",
        pl.col("label").alias("metric"),
        pl.col("touchpoint_name").fill_null("—").alias("touchpoint"),
        format.value_expr(pl.col("value"), pl.col("formula")).alias("today"),
        format.value_expr(pl.col("target"), pl.col("formula")).alias("future_target"),
        format.change_expr(pl.col("gap"), pl.col("formula")).alias("gap"),
        format.status_expr("status"),
        format.count_expr(pl.col("sample")).alias("answers"),
    )


def targets_section(comparison: FutureComparison) -> pl.DataFrame:
    """For each stage in both states: today's metrics against the future state's targets, with the gap."""
    st.header("Today against the future state's targets")
    table = targets_table(comparison)
    if table.is_empty():
        st.caption("The future state sets no metric target on the stages both states share.")
        return table
    column_config: dict[str, Any] = {
        "stage": "Stage", "metric": "Metric", "touchpoint": "Touchpoint",
        "today": st.column_config.TextColumn("Today", help="The current journey's value in the period"),
        "future_target": "Future target",
        "gap": st.column_config.TextColumn("Gap", help="Shortfall to the future target: positive is short of it"),
        "status": "Against the future target", "answers": "Answers or customers",
    }  # fmt: skip
    st.dataframe(table, hide_index=True, width="stretch", column_config=column_config)
    st.caption(
        "Each target of the future state is evaluated on today's data for the same stage, exactly as the journey "
        "map evaluates a metric; with too few answers it reads '—' and 'not enough data', never met."
    )
    return table


def emotion_chart(comparison: FutureComparison) -> Callable[[], alt.TopLevelMixin]:
    """Draw the assumed emotions today and in the future state; returns the chart's builder (for its images)."""
    chart = partial(charts.assumed_emotions, comparison.emotions)
    st.vega_lite_chart(chart_spec(chart), width="stretch")
    return chart


def export(state: ViewState, future: str, table: pl.DataFrame, chart: Callable[[], alt.TopLevelMixin]) -> None:
    """The share link, the targets table (CSV) and the emotion chart (PNG, SVG), in the sidebar."""
    frame.show_link(files.view_link(st.context.url, page=PAGE, query=view_query(state, future)))
    frame.export_menu(state, page="compare", scope=f"compare-{future}", table=table, chart=chart, report=False)

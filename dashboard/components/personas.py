"""UI pieces of the personas page: the view from the URL, a persona's profile and empathy map beside its
numbers, persona cards, and the personas side by side.

Text written on the map goes through `format.verbatim` (Markdown escaped, never `unsafe_allow_html`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import altair as alt
import polars as pl
import streamlit as st

from dashboard import format, routes
from dashboard.cache import Catalogue, chart_spec, load_experience_map
from dashboard.charts import experience_map as experience_map_charts
from dashboard.charts import personas as charts
from dashboard.components import frame
from dashboard.exports import files
from dashboard.view_state import ViewState
from data_access.personas import (
    COMPARISON_DEFAULT,
    COMPARISON_METRICS,
    EMPATHY_QUADRANTS,
    PersonaData,
    headline_comparison,
    worst_cells,
    worst_stages,
)

PAGE = "personas"


def current_view() -> tuple[ViewState, Catalogue, str]:
    """The view named by the URL and the comparison metric (`metric`), with a notice for each bad parameter."""
    state, catalogue = frame.current_view(metrics=COMPARISON_METRICS)
    metric = state.metric if state.metric in COMPARISON_METRICS else COMPARISON_DEFAULT
    return state, catalogue, metric


def view_query(state: ViewState, metric: str) -> dict[str, str]:
    """Query parameters that reproduce the personas page: the view's, and the comparison metric."""
    return state.query(page=PAGE) | {"metric": metric}


def _set_metric() -> None:
    st.query_params["metric"] = st.session_state["personas_metric"]


def _text_block(title: str, text: str) -> None:
    st.markdown(f"**{title}**")
    st.markdown(format.verbatim(text, limit=None) if text.strip() else "_Not written on the map yet._")


def profile(person: dict[str, str], *, share: dict[str, object] | None) -> None:
    """Description, goals and frustrations beside the empathy map in four quadrants."""
    if share and share["share"] is not None:
        st.caption(
            f"{format.value_text(float(str(share['share'])), 'conversion')} of the journey's stage entries in the "
            f"period ({format.count_text(int(str(share['customers'])))} customers first entering a stage; "
            "a customer counts once per stage entered)."
        )
    else:
        st.caption("No customer of this persona entered a stage of the journey in the period.")
    about, empathy = st.columns([2, 3])
    with about:
        _text_block("Who they are", person["description"])
        _text_block("Goals", person["goals"])
        _text_block("Frustrations", person["frustrations"])
    with empathy:
        st.markdown("**Empathy map**")
        quadrants = list(EMPATHY_QUADRANTS.items())
        for row in (quadrants[:2], quadrants[2:]):
            for column, (field, title) in zip(st.columns(2), row, strict=True):
                with column.container(border=True):
                    _text_block(title, person[field])


def measured_section(state: ViewState) -> pl.DataFrame:
    """What the data says about the persona: headlines against everyone, the emotional curve, worst stages and
    touchpoints. Returns the headline comparison (the page's CSV)."""
    persona = load_experience_map(state.journey, state.persona, state.period, state.compared, "health")
    everyone = load_experience_map(state.journey, None, state.period, state.compared, "health")
    headlines = headline_comparison(persona.headlines, everyone.headlines)
    st.subheader("Headline metrics against the whole customer base")
    columns = st.columns(max(1, headlines.height))
    for column, row in zip(columns, headlines.iter_rows(named=True), strict=False):
        value = format.value_text(row["persona_value"], row["formula"])
        measured = row["persona_value"] is not None and row["difference"] is not None
        difference = format.change_text(row["difference"], row["formula"])
        column.metric(
            row["label"],
            value if row["persona_value"] is not None else "—",
            delta=difference if measured else "not enough data",
            delta_color="normal" if measured and difference != format.NO_CHANGE else "off",
            delta_arrow=format.delta_arrow(difference) if measured else "off",
            help=(
                f"All customers: {format.value_text(row['everyone_value'], row['formula'])} on "
                f"{format.count_text(row['everyone_answers'])} answers or customers; this persona on "
                f"{format.count_text(row['persona_answers'])}. The difference is signed so that green is better."
            ),
        )
    st.caption("Below each value: the persona minus all customers, green when the persona is better off.")
    st.vega_lite_chart(chart_spec(experience_map_charts.emotional_curve, persona.curve, moments=[]), width="stretch")
    worst_stage_column, worst_cell_column = st.columns(2)
    with worst_stage_column:
        st.markdown("**Three worst stages** (lowest measured emotion)")
        stages = worst_stages(persona.curve)
        for row in frame.rows_or_note(stages, note="No stage has enough answers from this persona in the period."):
            link_state = state.with_(stage=row["stage_slug"])
            st.page_link(
                routes.JOURNEY_MAP,
                label=(
                    f"{format.verbatim(row['stage'])}: {row['emotion']:+.1f} "
                    f"on {format.count_text(row['answers'])} answers"
                ),
                query_params=link_state.query(page="journey"),
            )
    with worst_cell_column:
        st.markdown("**Three worst touchpoints** (lowest health)")
        no_cell = "No touchpoint has a metric with enough answers from this persona in the period."
        for row in frame.rows_or_note(worst_cells(persona.grid), note=no_cell):
            st.markdown(
                f"{format.verbatim(row['touchpoints'])} ({format.verbatim(row['stage'])}, "
                f"{format.verbatim(row['channel'])}): {row['on_target']} of {row['judged']} metrics on target, "
                f"{format.status_text(row['health_status'])}"
            )
    st.caption(
        "Emotion, NPS, CSAT and CES as the Metrics table defines them, on this persona's answers only; "
        "a stage or metric under the minimum of answers reads 'not enough data'."
    )
    return headlines


def persona_cards(state: ViewState, data: PersonaData, metric: str) -> None:
    """One card per persona: name, description, share of customers, and a link to its page."""
    share_of = {row["persona_slug"]: row["share"] for row in data.shares.iter_rows(named=True)}
    rows = data.profiles.to_dicts()
    st.caption("Pick a persona to see its profile and empathy map beside its numbers.")
    for start in range(0, len(rows), 4):
        for column, person in zip(st.columns(4), rows[start : start + 4], strict=False):
            with column.container(border=True):
                st.markdown(f"**{format.verbatim(person['name'])}**")
                st.caption(format.verbatim(person["description"], limit=200))
                st.markdown(f"{format.value_text(share_of.get(person['slug']), 'conversion')} of stage entries")
                st.page_link(
                    routes.PERSONAS,
                    label="Open persona",
                    query_params=view_query(state.with_(persona=person["slug"]), metric),
                )


def persona_detail(state: ViewState, data: PersonaData) -> None:
    """One persona: its profile and empathy map, a link to the experience map filtered to it, and its numbers."""
    person = data.profiles.filter(pl.col("slug") == state.persona).row(0, named=True)
    shares = data.shares.filter(pl.col("persona_slug") == state.persona)
    st.header(format.verbatim(person["name"]))
    profile(person, share=shares.row(0, named=True) if shares.height else None)
    st.page_link(
        routes.EXPERIENCE_MAP,
        label=f"Open the experience map for {format.verbatim(person['name'])}",
        icon=":material/map:",
        query_params=state.query(page="overview"),
    )
    measured_section(state)


def comparison(state: ViewState, data: PersonaData, metric: str) -> Callable[[], alt.TopLevelMixin]:
    """The personas side by side, coloured by the metric chosen (held in the URL); returns the chart's builder."""
    st.header("Personas side by side")
    if not state.present:
        st.columns([1, 2])[0].selectbox(
            "Colour by",
            list(COMPARISON_METRICS),
            index=list(COMPARISON_METRICS).index(metric),
            format_func=COMPARISON_METRICS.__getitem__,
            key="personas_metric",
            on_change=_set_metric,
        )
    chart = partial(charts.persona_comparison, data.comparison, metric=metric, metric_label=COMPARISON_METRICS[metric])
    st.vega_lite_chart(chart_spec(chart), width="stretch")
    st.caption(
        "One row per persona, one column per stage; all customers first for reference. Grey dashed cells "
        "(n/a) have too few answers: not enough data, not a bad score."
    )
    return chart


def export(state: ViewState, metric: str, table: pl.DataFrame, chart: Callable[[], alt.TopLevelMixin]) -> None:
    """The share link, and the comparison's numbers (CSV) and heatmap (PNG, SVG), in the sidebar."""
    frame.show_link(files.view_link(st.context.url, page=PAGE, query=view_query(state, metric)))
    frame.export_menu(state, page="personas", scope=f"personas-{metric}", table=table, chart=chart, report=False)

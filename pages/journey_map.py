"""Journey map: one stage in depth — lanes over its steps, its metrics, funnel, findings and comments."""

from functools import partial

import polars as pl
import streamlit as st

from dashboard import format, routes
from dashboard.cache import chart_spec, load_journey_map, load_journey_stages
from dashboard.charts import journey_map as charts
from dashboard.components import comments, frame, journey_map, opportunities, slides
from dashboard.exports import files
from data_access.journey_map.assembly import funnel_absence

state, catalogue = frame.current_view()
if state.present:
    slides.stage_slide(state, catalogue)
    st.stop()
actions = frame.filter_sidebar(state, catalogue, page="journey")
stages = load_journey_stages(state.journey)
slugs = stages["stage_slug"].to_list()
if state.stage not in slugs:
    if state.stage:
        st.warning(
            f"Stage '{format.verbatim(state.stage)}' is not in journey '{format.verbatim(state.journey)}'. "
            "Pick one of its stages:",
            icon="⚠️",
        )
    else:
        st.info("Which stage? Pick one of the journey's stages:")
    for slug, name in zip(slugs, stages["stage_name"], strict=True):
        st.page_link(
            routes.JOURNEY_MAP,
            label=name,
            query_params=state.without_comment_filters().with_(stage=slug).query(page="journey"),
        )
    st.page_link(routes.EXPERIENCE_MAP, label="← Back to the experience map", query_params=state.query(page="overview"))
    st.stop()

st.query_params.from_dict(state.query(page="journey"))
index = slugs.index(state.stage)
stage_slug: str = slugs[index]
compared = state.compared
data = load_journey_map(state.journey, stage_slug, state.persona, state.period, compared)
stage = stages.row(index, named=True)
previous_label = f"{compared.start:%d %b} – {compared.end:%d %b %Y}"

st.title(f"{format.verbatim(stage['stage_name'], limit=None)} — journey map")
st.caption(format.verbatim(stage["description"], limit=None))
back, previous, following = st.columns([2, 1, 1])
back.page_link(routes.EXPERIENCE_MAP, label="← Experience map", query_params=state.query(page="overview"))
if index > 0:
    before = stages.row(index - 1, named=True)
    previous.page_link(
        routes.JOURNEY_MAP,
        label=f"← {before['stage_name']}",
        query_params=state.without_comment_filters().with_(stage=before["stage_slug"]).query(page="journey"),
    )
if index + 1 < len(slugs):
    after = stages.row(index + 1, named=True)
    following.page_link(
        routes.JOURNEY_MAP,
        label=f"{after['stage_name']} →",
        query_params=state.without_comment_filters().with_(stage=after["stage_slug"]).query(page="journey"),
    )
persona = catalogue.persona_name(state.persona, default="all customers")
st.caption(
    f"Persona: {format.verbatim(persona)}. {state.date_from:%d %b %Y} – {state.date_to:%d %b %Y}, "
    f"against {previous_label}."
)

frame.share_link(state, page="journey", place=actions.share)
frame.no_data_note(state, catalogue)
journey_map.stage_summary(data)
step_order = data.steps.sort("position")["step_name"].to_list()
emotion = partial(files.stage_emotion_chart, data.emotions, step_order=step_order, stage_name=stage["stage_name"])
frame.export_menu(
    state,
    page="journey",
    scope=stage_slug,
    table=files.stage_metric_table(data.metrics),
    chart=emotion,
    place=actions.export,
)

if data.steps.is_empty():
    st.info("This stage has no steps yet, so there are no lanes to draw. Add steps to its map.")
else:
    journey_map.lane_grid(data)

st.header("What the numbers say")
if data.metrics.is_empty():
    st.caption("No metric is linked to this stage or its touchpoints.")
journey_map.metric_cards(data, previous_label=previous_label)


@st.fragment
def below_the_fold() -> None:
    """The funnel, where it hurts and the customers' words, drawn once the browser has drawn the page's first
    chart (the emotion curve under the lanes); the comments' filters rerun only their own part."""
    if not frame.above_the_fold_drawn("journey_first_draw"):
        return
    st.header("Funnel through the steps")
    absence = funnel_absence(data.funnel)
    cohort_note = format.cohort_note(data.cohorts)
    if data.cohorts.not_yet_known:
        st.info(
            f"No funnel yet: {cohort_note} Its conversions are known once the window of the first cohorts has closed.",
            icon=":material/hourglass_top:",
        )
    elif absence == "no events":
        st.info(
            "No funnel for this view: no customer first reached this stage in the period. The funnel counts "
            "customers from their events, and this view holds none (a journey known from its answers alone has "
            "none at all); the answers are above and below.",
            icon=":material/info:",
        )
    else:
        funnel_column, timing_column = st.columns([3, 1])
        outliers = data.findings.filter(pl.col("reason") == "drop-off stands out")["step_id"].to_list()
        funnel_column.vega_lite_chart(
            chart_spec(charts.step_funnel, data.funnel, outlier_steps=outliers), width="stretch"
        )
        timing = data.time_to_next
        window = data.funnel["window_days"].drop_nulls().to_list()
        window_text = f"within {window[0]} days" if window else "within the journey's window"
        timing_column.metric(
            "Median time to next stage",
            "last stage"
            if timing.next_stage_slug is None
            else (f"{timing.median_days:.1f} days" if timing.median_days is not None else "no customer moved on"),
            help="Median time between first entering this stage in the period and first entering the next one, "
            f"over the customers who did so {window_text}; read from quarter-day bins, so within 3 hours.",
        )
        timing_column.caption(
            f"Over {timing.customers:,} customers who moved on {window_text}. Conversions follow the customers who "
            "first reached a stage or step in the period. Drop-off (required steps only) stands out when it is more "
            "than 10 points above the median of the stage's required steps."
            + (f" {cohort_note}" if cohort_note else "")
        )
        if absence == "no required steps":
            st.caption(
                "No step of this stage is required, so none is drop-off: optional steps show the share of the "
                "stage's entrants who took them, alternatives how they split."
            )

    st.header("Where it hurts")
    journey_map.findings(data)
    opportunities.where_to_act_first(state, stage=stage_slug, page="journey")
    comments.customers_words(state, stage_slug, data)


below_the_fold()

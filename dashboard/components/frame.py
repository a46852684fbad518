"""Reusable UI pieces: reading the view from the URL, the filter sidebar, headline cards, share and export.

Widgets write their value into the URL (callbacks only set state); the next run reads the view back
from the URL, so what is on screen and what a pasted link opens are always the same thing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, NamedTuple

import altair as alt
import polars as pl
import streamlit as st

from dashboard import format, routes
from dashboard.cache import (
    Catalogue,
    begin_run,
    load_catalogue,
    load_default_period,
    load_filter_slugs,
    load_report_pdf,
)
from dashboard.charts.sparkline import sparkline_coverage, sparkline_svg, sparkline_words
from dashboard.components import changes
from dashboard.exports import files
from dashboard.settings import DATABASE_URL_SETTING, get_settings
from dashboard.view_state import WHOLE_HISTORY, Choices, ViewState, read_view_state
from data_access.experience_map import GRID_METRICS, Headline
from data_access.faults import describe_fault
from data_access.journey_map import BANDS
from data_access.models import Measure
from data_access.scope import Period

ALL_PERSONAS = "All customers"

# Tells the server once the browser has drawn the page's first chart (or after two seconds, whatever comes
# first). Trusted code of our own: it reads the page's DOM and sends one true, nothing from the data. It sends
# nothing once the reader has asked for another page (a link into the app, the browser's back or forward) or the
# component has left the page: a late signal would arrive after the click's request and rerun the page the reader
# left, leaving the new page's main area empty.
_FIRST_DRAW_JS = """
export default function ({ setStateValue }) {
  const start = performance.now();
  let done = false;
  let timer;
  const leave = () => { done = true; clearTimeout(timer); };
  const onClick = (event) => {
    const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
    if (link && link.target !== "_blank" && new URL(link.href, location.href).origin === location.origin) leave();
  };
  document.addEventListener("click", onClick, true);
  window.addEventListener("popstate", leave);
  const drawn = () => document.querySelector(
    '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg.marks'
  );
  const wait = () => {
    if (done) return;
    if (drawn() || performance.now() - start > 2000) {
      requestAnimationFrame(() => { if (!done) { done = true; setStateValue("drawn", true); } });
      return;
    }
    timer = setTimeout(wait, 40);
  };
  wait();
  return () => {
    leave();
    document.removeEventListener("click", onClick, true);
    window.removeEventListener("popstate", leave);
  };
}
"""
DRAWING_REST = "Drawing the rest of the page…"  # what stands below the fold until it is drawn
_first_draw = st.components.v2.component("journey_atlas.first_draw", js=_FIRST_DRAW_JS)
LOG = logging.getLogger(__name__)


@contextmanager
def faults_said_plainly() -> Iterator[None]:
    """Around a page's run: a fault of the database or the disk is one sentence on the page, not a traceback.

    The sentence says what is wrong and which setting to check (`data_access.faults`); any other error is
    left to Streamlit. The server's log gets the sentence too, so whoever runs it sees what visitors see.
    """
    try:
        yield
    except Exception as error:
        fault = describe_fault(error, url=get_settings().database_url, setting=DATABASE_URL_SETTING)
        if fault is None:
            raise
        LOG.warning("a page could not be drawn: %s", fault)
        st.error(format.verbatim(fault, limit=None), icon=":material/database:")


def current_view(metrics: Iterable[str] = GRID_METRICS) -> tuple[ViewState, Catalogue]:
    """The view named by the URL, completed with defaults; notices for bad parameters are shown.

    Called first by every page's run, so it also reads the data version the run's loaders are keyed by.
    `metrics` are the page's choices for the `metric` parameter.
    """
    begin_run()
    catalogue = load_catalogue()
    if catalogue.journeys.is_empty():
        st.info("There is no journey yet. Run `journey-atlas demo` or import a map to start.")
        st.stop()
    params = {key: st.query_params.get(key, "") for key in st.query_params}
    state, notices = view_of(params, catalogue, metrics=metrics)
    for notice in notices:
        st.warning(notice, icon="⚠️")
    return state, catalogue


def view_of(
    params: Mapping[str, str], catalogue: Catalogue, *, metrics: Iterable[str] = GRID_METRICS
) -> tuple[ViewState, list[str]]:
    """The view that query parameters name, completed with defaults, and notices for bad parameters.

    The warm-up asks it for each journey's default view, so it computes exactly what a visitor will ask for.
    """
    with_data = [s for s in catalogue.journeys["slug"] if s in catalogue.days]
    journeys = with_data + [s for s in catalogue.journeys["slug"] if s not in catalogue.days]
    fallback = catalogue.days.get(journeys[0], Period(dt.date.today() - dt.timedelta(days=89), dt.date.today()))
    data_days = catalogue.days.get(params.get("journey", ""), fallback)
    journey = params["journey"] if params.get("journey") in journeys else journeys[0]
    # the comment filters are checked only where a link names one (the journey page's)
    named = {"channel", "touchpoint"} & params.keys()
    channel_slugs, touchpoint_slugs = load_filter_slugs(journey) if named else ([], [])
    choices = Choices(
        journeys=journeys,
        personas=catalogue.personas["slug"].to_list(),
        metrics=list(metrics),
        first_day=data_days.start,
        last_day=data_days.end,
        reviews=changes.review_days(journey),
        default=load_default_period(journey, data_days) if journey in catalogue.days else None,
        channels=channel_slugs,
        touchpoints=touchpoint_slugs,
        measures=[m.value for m in Measure],
        bands=list(BANDS),
    )
    return read_view_state(params, choices)


def _set_param(name: str, key: str) -> None:
    value = st.session_state[key]
    if name == "persona" and value == ALL_PERSONAS:
        st.query_params.pop("persona", None)
    elif name == "dates":
        if isinstance(value, tuple | list) and len(value) == 2:
            st.query_params.pop("period", None)
            st.query_params["from"], st.query_params["to"] = value[0].isoformat(), value[1].isoformat()
    elif name == "period":
        named = "from" in st.query_params and "to" in st.query_params
        if not value and named and st.query_params.get("period") != WHOLE_HISTORY:
            # The link already names its dates: nothing to change. (A click that leaves a page while its script
            # still runs can replay the switch as changed; keeping the URL's dates keeps the reader's view.)
            return
        st.query_params.pop("from", None)
        st.query_params.pop("to", None)
        st.query_params["period"] = WHOLE_HISTORY if value else "recent"
    else:
        st.query_params[name] = value


def _url_choice(
    label: str, names: dict[str, str], current: str, *, name: str, key: str, help: str | None = None
) -> None:
    """A select box over `names` (value -> shown name) whose choice is written into the URL parameter `name`."""
    st.selectbox(
        label,
        list(names),
        index=list(names).index(current),
        format_func=names.__getitem__,
        key=key,
        on_change=_set_param,
        args=(name, key),
        help=help,
    )


class SidebarActions(NamedTuple):
    """The row at the top of the sidebar that Share and Export go into, on the first screen of a laptop."""

    share: Any
    export: Any


def filter_sidebar(state: ViewState, catalogue: Catalogue, *, page: str) -> SidebarActions:
    """Journey, persona, period (and metric on the overview) in the sidebar, each held in the URL.

    Returns the row above the filters where `share_link` and `export_menu` go, so that both are reachable
    without scrolling at 1280 × 800.
    """
    journey_names = dict(catalogue.journeys.select("slug", "name").iter_rows())
    persona_names = {ALL_PERSONAS: ALL_PERSONAS} | dict(catalogue.personas.select("slug", "name").iter_rows())
    data_days = catalogue.days.get(state.journey, state.period)
    first, last = data_days.start, data_days.end
    with st.sidebar:
        share, export = st.columns(2)
        _url_choice("Journey", journey_names, state.journey, name="journey", key=f"{page}_journey")
        _url_choice("Persona", persona_names, state.persona or ALL_PERSONAS, name="persona", key=f"{page}_persona")
        st.session_state[f"{page}_whole_history"] = state.whole_history
        st.toggle(
            "Whole history",
            key=f"{page}_whole_history",
            on_change=_set_param,
            args=("period", f"{page}_whole_history"),
            help="Every day the journey holds data for; in the link as `period=all`.",
        )
        st.date_input(
            "Period",
            value=(state.date_from, state.date_to),
            min_value=min(first, state.date_from),
            max_value=max(last, state.date_to),
            key=f"{page}_dates",
            on_change=_set_param,
            args=("dates", f"{page}_dates"),
            disabled=state.whole_history,
        )
        if page == "overview":
            _url_choice(
                "Colour cells by",
                {key: label.split(":")[0] for key, label in GRID_METRICS.items()},
                state.metric,
                name="metric",
                key="overview_metric",
                help="Health is the share of a cell's metrics at or better than target.",
            )
        changes.compare_control(state, page=page)
        if state.journey in catalogue.days:
            default = load_default_period(state.journey, data_days)
            st.caption(format.answers.period_caption(state.period, state.whole_history, default, first, last))
        else:
            st.caption(f"{state.period.days} days. No data stored for this journey yet.")
    return SidebarActions(share.container(), export.container())


def no_data_note(state: ViewState, catalogue: Catalogue) -> None:
    """A note when the journey holds no facts yet, so that empty numbers read as "not yet", not as zero."""
    if state.journey not in catalogue.days:
        name = format.verbatim(catalogue.journey_name(state.journey))
        st.info(
            f"No events or feedback are stored for **{name}** yet: the map itself "
            "is shown, and its numbers fill in once data is imported on the Import data page."
        )


def headline_cards(headlines: Sequence[Headline]) -> None:
    """One tile per headline: value, target, status (word and colour), change and a weekly sparkline.

    The change's colour says whether the move is good in the metric's direction; "±0" is neutral.
    """
    if not headlines:
        st.caption("The map defines no metric for the whole journey, and no answer is stored in this period.")
        return
    for column, headline in zip(st.columns(len(headlines)), headlines, strict=True):
        formula = headline.formula or headline.key
        note = format.cohort_note(headline.cohorts)
        # too few answers: a dash, with the reason in grey below it (the words alone do not fit a card)
        measured = headline.value is not None
        word, colour = format.status_badge(headline.status)
        if headline.cohorts is not None:
            word, colour = format.cohort_status_badge(headline.status, value=headline.value, cohorts=headline.cohorts)
        if measured and headline.target is None:
            word, colour = "not judged", "gray"  # a measure the map gives no target: shown, never coloured
        weekly = headline.weekly
        drawn = weekly is not None and weekly["value"].drop_nulls().len() > 1
        # the sparkline is an image: its numbers are told in words in the tile's help
        weekly_words = f" {sparkline_words(weekly, formula=formula)}" if weekly is not None and drawn else ""
        with column.container(border=True, height="stretch"):  # the tiles of a row as tall as the tallest
            headline_metric(
                headline,
                help=(
                    f"{headline.definition}. {format.target_text(headline.target, formula).capitalize()}. "
                    f"Based on {format.count_text(headline.answers)} answers or customers. "
                    "The change compares with the previous period of equal length; green when the move is good."
                    + weekly_words
                    + (f" {note}" if note else "")
                ),
            )
            # the target kept on one line: it wraps as a whole below the badge in a narrow tile
            target = format.target_text(headline.target, formula).replace(" ", "\u00a0")
            st.markdown(f":{colour}-badge[{word}] {target}")
            if weekly is not None and drawn:
                st.image(sparkline_svg(weekly, formula=formula), width="stretch", alt=weekly_words.strip())
                if (coverage := sparkline_coverage(weekly)) is not None:
                    st.caption(coverage, help="A week with too few answers is a gap in the line, not a zero.")
            tag = format.cohort_tag(headline.cohorts)
            if tag is not None:
                st.caption(tag, help=note)


def headline_metric(headline: Headline, *, help: str | None = None) -> None:
    """One headline as a metric: its value and its change, coloured by whether the move is good in the
    metric's direction; "not enough data" in place of the change where too few answers measure it."""
    formula = headline.formula or headline.key
    measured = headline.value is not None
    change = format.change_text(headline.change, formula)
    pending = headline.cohorts is not None and headline.cohorts.not_yet_known
    st.metric(
        format.verbatim(headline.label),
        format.value_text(headline.value, formula),
        delta=(None if headline.change is None else change)
        if measured
        else (format.NOT_YET_KNOWN if pending else "not enough data"),
        delta_color=format.delta_colour(change, headline.direction) if measured else "off",
        delta_arrow=format.delta_arrow(change) if measured else "off",
        help=help,
    )


def share_link(state: ViewState, *, page: str, place: Any = None) -> None:
    """The full link of the current view in a Share popover (in `place`, else the sidebar), with a copy button."""
    link = files.view_link(st.context.url, page=page, query=state.query(page=page))
    with (place or st.sidebar).popover("Share", icon=":material/link:", width="stretch"):
        st.caption("Share this view: the link opens exactly what is on screen.")
        st.code(link, language=None, wrap_lines=True)


def show_link(link: str) -> None:
    """A link to copy, in the sidebar, with Streamlit's copy button."""
    with st.sidebar:
        st.caption("Share this view: the link opens exactly what is on screen.")
        st.code(link, language=None)


def export_menu(
    state: ViewState,
    *,
    page: str,
    scope: str,
    table: pl.DataFrame,
    chart: Callable[[], alt.TopLevelMixin] | None,
    place: Any = None,
    report: bool = True,
) -> None:
    """A popover (in `place`, else the sidebar) with the view's numbers as CSV, its main chart as PNG and SVG,
    and (with `report`) a PDF report. `page` keys the buttons; `scope` names the files.

    `chart` builds the view's main chart, called only when an image is asked for; None when the view has no main
    chart to show (a map without touchpoints): no image buttons then.

    Images and the report are rendered only when their button is clicked (vl-convert takes a second or two).
    """
    name = partial(
        files.file_name, journey=state.journey, scope=scope, date_from=state.date_from, date_to=state.date_to
    )

    def download(label: str, data: Any, extension: str, mime: str, help: str | None = None) -> None:
        st.download_button(
            label,
            data,
            file_name=name(extension=extension),
            mime=mime,
            on_click="ignore",
            key=f"{page}_export_{extension}",
            width="stretch",
            help=help,
        )

    with (place or st.sidebar).popover("Export", icon=":material/download:", width="stretch"):
        download("Numbers (CSV)", files.csv_bytes(table), "csv", "text/csv")
        if chart is not None:
            download("Chart (PNG)", lambda: files.chart_png(chart()), "png", "image/png")
            download("Chart (SVG)", lambda: files.chart_svg(chart()), "svg", "image/svg+xml")
        if not report:
            return
        stage = state.stage if page == "journey" else None
        pdf = partial(load_report_pdf, state.journey, state.persona, state.period, state.compared, state.metric, stage)
        scope_words = "this stage in depth" if page == "journey" else "one page per stage"
        download("Report (PDF)", pdf, "pdf", "application/pdf", help=f"The experience map and {scope_words}")


def leave_presentation(page: Any, query: Mapping[str, str], *, place: Any = None) -> None:
    """The link out of presentation mode (in `place`, else the main area): `page` with the view's `query`."""
    (place or st).page_link(page, label="Leave presentation", icon=":material/close:", query_params=query)


def rows_or_note(rows: pl.DataFrame, *, note: str, place: Any = None) -> Iterator[dict[str, Any]]:
    """The rows to write one by one; where there are none, `note` says so in a caption (in `place`, else
    the main area)."""
    if rows.is_empty():
        (place or st).caption(note)
    return rows.iter_rows(named=True)


ROW_PX, MOST_ROWS = 35, 20


def table_height(rows: int) -> int:
    """A table's height in px that shows up to MOST_ROWS rows whole, without a scrollbar inside the table."""
    return (min(rows, MOST_ROWS) + 1) * ROW_PX + 3


def moments_of_truth_table(moments: pl.DataFrame) -> None:
    """The touchpoints flagged as moments of truth, with their cell's health, in journey order."""
    st.subheader("Moments of truth")
    st.dataframe(
        moments.select(
            "stage",
            "touchpoint",
            "channel",
            pl.col("owner").fill_null(format.NO_VALUE),
            format.status_expr("status"),
            pl.format("{} of {}", "measured", "metrics").alias("measured"),
        ),
        hide_index=True,
        width="stretch",
        height=table_height(moments.height),
        column_config={
            "stage": "Stage",
            "touchpoint": "Touchpoint",
            "channel": "Channel",
            "owner": "Owner",
            "status": st.column_config.TextColumn(
                "Health", help="The cell's health against target; not enough data when no metric has enough answers"
            ),
            "measured": st.column_config.TextColumn("Metrics measured", help="Metrics with enough answers"),
        },
    )


def answer_findings(state: ViewState, findings: pl.DataFrame, *, shown: int = 3) -> None:
    """Where the answers hurt most: the stages and touchpoints with the most low or negative answers that
    stand out or miss target (`detection.feedback_findings`), each a link to its stage with it selected."""
    st.subheader("Where the answers hurt most")
    if findings.is_empty():
        st.caption(
            "No stage or touchpoint stands out: none holds the most low or negative answers alone, is more than "
            "10 points above the journey's share of them, or misses its target, on enough answers."
        )
        return
    for finding in findings.head(shown).iter_rows(named=True):
        target = state.without_comment_filters().with_(
            stage=finding["stage_slug"], channel=finding["channel_slug"], touchpoint=finding["touchpoint_slug"]
        )
        text, link = st.columns([5, 1], vertical_alignment="center")
        text.markdown(format.answers.answer_finding_text(finding))
        link.page_link(routes.JOURNEY_MAP, label="Open", query_params=target.query(page="journey"))
    if len(findings) > shown:
        st.caption(f"And {len(findings) - shown} more.")


def above_the_fold_drawn(key: str) -> bool:
    """Whether a section below the fold may draw now; call it first thing in that section's fragment.

    On a page's first run the browser gets what is above the fold alone, and this says False (the caller
    draws nothing more); once the browser has drawn the page's first chart it says so, which reruns only the
    calling fragment, and this says True from then on, for every later run of the page in this session.
    With `draw_above_the_fold_first` off (tests that read a whole page in one run) it always says True.
    One call per page: two such fragments told at once may see only one of them rerun.
    """
    if not get_settings().draw_above_the_fold_first:
        return True
    if _first_draw(key=key, on_drawn_change=lambda: None).drawn:
        return True
    st.caption(DRAWING_REST)
    return False

"""Warm-up: each journey's default views computed in the background, so the first visitor finds them cached.

`journey-atlas serve` starts one as soon as the server is up, and the Import page after an import. The views
are those a visitor opens without choosing anything: each journey's experience map and What changed for its
default period, and each of its stages' journey page with the first page of comments and the notes. They go
through the pages' own cached loaders with the pages' own arguments (`frame.view_of`), so they fill the very
entries the pages read. One warm-up runs at a time; a request while one runs makes it run once more after.
Errors are logged, never raised: a failed warm-up only means a slower first visit.
"""

from __future__ import annotations

import logging
import threading
import time

from dashboard import cache
from dashboard.components import comments, frame
from dashboard.settings import get_settings

LOG = logging.getLogger(__name__)
# bounds on the work, and on the cache room it takes: at most half of each loader's entries stay for visitors
MAX_JOURNEYS = 12  # the first journeys in the catalogue's order (those with data first)
MAX_STAGES = cache.ENTRIES // 2  # journey pages, over all journeys
THREAD_NAME = "journey-atlas-warm-up"


def warm_up(*, max_journeys: int = MAX_JOURNEYS) -> int:
    """Compute the default views of the first `max_journeys` journeys; returns how many loaders ran."""
    catalogue = cache.load_catalogue()
    if catalogue.journeys.is_empty():
        return 0
    with_data = [slug for slug in catalogue.journeys["slug"] if slug in catalogue.days]
    others = [slug for slug in catalogue.journeys["slug"] if slug not in catalogue.days]
    loaded, stages_left = 0, MAX_STAGES
    for journey in (with_data + others)[:max_journeys]:
        try:
            ran, stages = _warm_journey(journey, catalogue, max_stages=stages_left)
            loaded, stages_left = loaded + ran, stages_left - stages
        except Exception:
            LOG.exception("warm-up: the default views of journey '%s' could not be computed", journey)
    return loaded


def _warm_journey(journey: str, catalogue: cache.Catalogue, *, max_stages: int) -> tuple[int, int]:
    """The journey's default views: how many loaders ran, and how many stages' journey pages they hold."""
    state, _notices = frame.view_of({"journey": journey}, catalogue)
    period, compared = state.period, state.compared
    cache.load_experience_map(journey, state.persona, period, compared, state.metric)
    cache.load_changes(journey, state.persona, period, compared)
    cache.load_opportunity_matrix(journey, state.persona, period, compared, None)
    cache.load_journey_links()  # the overview's link to the future state
    stages = cache.load_journey_stages(journey)["stage_slug"].to_list()[: max(max_stages, 0)]
    notes = get_settings().stage_notes
    for stage in stages:
        cache.load_journey_map(journey, stage, state.persona, period, compared)
        cache.load_opportunity_matrix(journey, state.persona, period, compared, stage)
        # the journey page's first view of comments: no band, measure, channel or touchpoint chosen, first page
        # (the arguments exactly as the page passes them, so the cache key is the same)
        cache.load_stage_comments(
            journey, stage, state.persona, period, compared, None, None, None, 0, comments.PAGE_SIZE, None
        )
        if notes:
            cache.load_stage_notes(journey, stage)
    return 5 + len(stages) * (4 if notes else 3), len(stages)


class _NoContextNotice(logging.Filter):
    """Streamlit warns whenever a thread outside a page's run calls a loader with a spinner; here that is meant."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.threadName == THREAD_NAME and "missing ScriptRunContext" in record.getMessage())


logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_NoContextNotice())


class WarmUps:
    """Runs warm-ups in one background thread at a time; a request while one runs is served once it ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = False
        self._again = False

    def start(self) -> threading.Thread | None:
        """Start a warm-up in the background; None when one is already running (it will run once more)."""
        with self._lock:
            if self._running:
                self._again = True
                return None
            self._running = True
        thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        thread.start()
        return thread

    def _run(self) -> None:
        while True:
            try:
                started = time.perf_counter()
                loaded = warm_up()
                LOG.info("warm-up: %d views computed in %.1f s", loaded, time.perf_counter() - started)
            except Exception:
                LOG.exception("warm-up failed")
            with self._lock:
                if not self._again:
                    self._running = False
                    return
                self._again = False


WARM_UPS = WarmUps()


def start_warm_up() -> threading.Thread | None:
    """Compute the default views in the background (see the module's docstring)."""
    return WARM_UPS.start()

"""Time the journey page's data loads on the demo company at scale (default 1M events, SQLite).

    python -m benchmarks.journey_page --events 1000000 --runs 7

Fills a temporary SQLite file with `load_demo`, then times each query the page runs for one stage over
the last 90 days of data (median of `--runs`), and the whole `load_journey_map` call the page caches.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from benchmarks.common import demo_parser, repeat
from data_access.db import make_engine, upgrade_schema
from data_access.demo import load_demo
from data_access.experience_map.queries import journeys
from data_access.journey_map import comments, content, load_journey_map, numbers
from data_access.models import EntryRollup, Feedback
from data_access.scope import Period, StageScope, resolve_scope, resolve_stage


def stage_scope(connection: Connection, journey: str, stage: str, period: Period) -> StageScope:
    """The view's ids, resolved once as the page's cached loader does."""
    scope = resolve_scope(connection, journey_slug=journey, persona_slug=None, period=period)
    found = None if scope is None else resolve_stage(connection, scope, stage_slug=stage)
    if found is None:
        raise SystemExit(f"no stage {stage!r} in journey {journey!r}")
    return found


def page_queries(connection: Connection, scope: StageScope) -> dict[str, Any]:
    return {
        "journey_stages": lambda: content.journey_stages(connection, journey_id=scope.journey_id),
        "stage_steps": lambda: content.stage_steps(connection, scope=scope),
        "lane_items": lambda: content.lane_items(connection, scope=scope),
        "stage_funnel": lambda: numbers.stage_funnel(connection, scope=scope),
        "time_to_next_stage": lambda: numbers.time_to_next_stage(connection, scope=scope),
        "stage_metrics": lambda: numbers.stage_metrics(connection, scope=scope, min_answers=30),
        "stage_metric_trend": lambda: numbers.stage_metric_trend(connection, scope=scope, min_answers=30),
        "step_metrics": lambda: numbers.step_metrics(connection, scope=scope, min_answers=30),
        "stage_feedback_daily": lambda: numbers.stage_feedback_daily(connection, scope=scope),
        "comment_band_counts": lambda: comments.comment_band_counts(connection, scope=scope),
        "stage_comments (page 1)": lambda: comments.stage_comments(connection, scope=scope, limit=20),
        "stage_comments (page 1, low band)": lambda: comments.stage_comments(
            connection, scope=scope, band="low", limit=20
        ),
        "stage_comments (page 51)": lambda: comments.stage_comments(connection, scope=scope, limit=20, offset=1000),
        "open_findings_by_stage": lambda: content.open_findings_by_stage(
            connection, journey_id=scope.journey_id, persona_id=None
        ),
        "load_journey_map (all of the page but comments)": lambda: load_journey_map(
            connection, scope=scope, min_answers=30
        ),
    }


def main() -> None:
    parser = demo_parser(__doc__)
    parser.add_argument("--stage", default="support")
    args = parser.parse_args()

    path = Path(args.database) if args.database else Path(tempfile.mkdtemp()) / "atlas.db"
    engine = make_engine(f"sqlite:///{path}")
    if not args.database:
        upgrade_schema(engine)
        started = time.perf_counter()
        load_demo(engine, events=args.events, seed=args.seed)
        print(f"demo with {args.events:,} events loaded in {time.perf_counter() - started:.1f} s into {path}")
    with engine.connect() as connection:
        journey = journeys(connection)["slug"][0]  # current-state maps first
        last = connection.execute(select(func.max(EntryRollup.day))).scalar_one()
        end = last if isinstance(last, dt.date) else dt.date.fromisoformat(str(last))
        start = end - dt.timedelta(days=89)
        comments = connection.execute(select(func.count()).where(Feedback.comment.is_not(None))).scalar_one()
        print(f"journey {journey}, stage {args.stage}, {start} .. {end}; {comments:,} comments in the database")
        total = 0.0
        scope = stage_scope(connection, journey, args.stage, Period(start, end))
        for name, run in page_queries(connection, scope).items():
            seconds = repeat(run, args.runs).median
            if not name.startswith("load_journey_map"):
                total += seconds
            print(f"{name:<50} {1000 * seconds:8.1f} ms")
        print(f"{'sum of the individual queries':<50} {1000 * total:8.1f} ms")
    engine.dispose()


if __name__ == "__main__":
    main()

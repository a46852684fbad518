"""Time the journey page's data loads on the demo company at scale (default 1M events, SQLite).

    python benchmarks/journey_page.py --events 1000000 --runs 7

Fills a temporary SQLite file with `load_demo`, then times each query the page runs for one stage over
the last 90 days of data (median of `--runs`), and the whole `load_journey_map` call the page caches.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from data_access import journey_map as jm
from data_access.db import make_engine, upgrade_schema
from data_access.demo import load_demo
from data_access.models import EntryRollup, Feedback


def median_seconds(run: Callable[[], Any], runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def page_queries(connection: Connection, journey: str, stage: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    window = {"journey_slug": journey, "stage_slug": stage, "persona_slug": None, "start": start, "end": end}
    scope = {"journey_slug": journey, "stage_slug": stage}
    return {
        "journey_stages": lambda: jm.journey_stages(connection, journey_slug=journey),
        "stage_steps": lambda: jm.stage_steps(connection, **scope),
        "lane_items": lambda: jm.lane_items(connection, **scope, persona_slug=None),
        "stage_funnel": lambda: jm.stage_funnel(connection, **window),
        "time_to_next_stage": lambda: jm.time_to_next_stage(connection, **window),
        "stage_metrics": lambda: jm.stage_metrics(connection, **window, min_answers=30),
        "stage_metric_trend": lambda: jm.stage_metric_trend(connection, **window, min_answers=30),
        "step_metrics": lambda: jm.step_metrics(connection, **window, min_answers=30),
        "stage_feedback_daily": lambda: jm.stage_feedback_daily(connection, **window),
        "comment_band_counts": lambda: jm.comment_band_counts(connection, **window),
        "stage_comments (page 1)": lambda: jm.stage_comments(connection, **window, limit=20),
        "stage_comments (page 1, low band)": lambda: jm.stage_comments(connection, **window, band="low", limit=20),
        "stage_comments (page 51)": lambda: jm.stage_comments(connection, **window, limit=20, offset=1000),
        "open_findings_by_stage": lambda: jm.open_findings_by_stage(
            connection, journey_slug=journey, persona_slug=None
        ),
        "load_journey_map (all of the page but comments)": lambda: jm.load_journey_map(
            connection, **window, min_answers=30
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--stage", default="support")
    parser.add_argument("--database", help="reuse this SQLite file instead of building a new demo")
    args = parser.parse_args()

    path = Path(args.database) if args.database else Path(tempfile.mkdtemp()) / "atlas.db"
    engine = make_engine(f"sqlite:///{path}")
    if not args.database:
        upgrade_schema(engine)
        started = time.perf_counter()
        load_demo(engine, events=args.events, seed=args.seed)
        print(f"demo with {args.events:,} events loaded in {time.perf_counter() - started:.1f} s into {path}")
    with engine.connect() as connection:
        journey = jm.journey_list(connection).sort("kind")["journey_slug"][0]
        last = connection.execute(select(func.max(EntryRollup.day))).scalar_one()
        end = last if isinstance(last, dt.date) else dt.date.fromisoformat(str(last))
        start = end - dt.timedelta(days=89)
        comments = connection.execute(select(func.count()).where(Feedback.comment.is_not(None))).scalar_one()
        print(f"journey {journey}, stage {args.stage}, {start} .. {end}; {comments:,} comments in the database")
        total = 0.0
        for name, run in page_queries(connection, journey, args.stage, start, end).items():
            seconds = median_seconds(run, args.runs)
            if not name.startswith("load_journey_map"):
                total += seconds
            print(f"{name:<50} {1000 * seconds:8.1f} ms")
        print(f"{'sum of the individual queries':<50} {1000 * total:8.1f} ms")
    engine.dispose()


if __name__ == "__main__":
    main()

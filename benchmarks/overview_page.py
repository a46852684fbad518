"""Time the experience map's data loads on the demo company at scale (default 1M events, SQLite).

    python -m benchmarks.overview_page --events 1000000 --runs 7
    python -m benchmarks.overview_page --database /tmp/atlas-1m.db   # reuse a filled SQLite file

Times `load_overview` (everything the overview page draws: grid, emotional curve, headlines with the
previous period, moments of truth, stage strip with open findings) for several views, median of `--runs`,
and prints each against the one-second budget.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from functools import partial
from pathlib import Path

from sqlalchemy import func, select

from benchmarks.common import demo_parser, repeat
from data_access.db import make_engine, upgrade_schema
from data_access.demo import load_demo
from data_access.experience_map import load_experience_map
from data_access.experience_map.queries import data_days, journeys, personas
from data_access.models import Event
from data_access.scope import Period, Scope

BUDGET_SECONDS = 1.0


def main() -> None:
    parser = demo_parser(__doc__)
    args = parser.parse_args()

    path = Path(args.database) if args.database else Path(tempfile.mkdtemp()) / "atlas.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_schema(engine)
    if not args.database:
        started = time.perf_counter()
        load_demo(engine, events=args.events, seed=args.seed)
        print(f"demo with {args.events:,} events loaded in {time.perf_counter() - started:.1f} s into {path}")
    with engine.connect() as connection:
        events = connection.execute(select(func.count()).select_from(Event)).scalar_one()
        journey = journeys(connection).row(0, named=True)
        journey_id = int(journey["id"])
        days = data_days(connection, journey_id=journey_id) or Period(dt.date.today(), dt.date.today())
        first, last = days.start, days.end
        persona_id = int(personas(connection)["id"][0])
        views = {
            "last 90 days, all customers, health": (
                Period(last - dt.timedelta(days=89), last),
                None,
                "health",
            ),
            "last 90 days, one persona, CSAT": (
                Period(last - dt.timedelta(days=89), last),
                persona_id,
                "csat",
            ),
            "whole year, all customers, health": (Period(first, last), None, "health"),
        }
        print(f"{events:,} events in the database; data from {first} to {last}")
        for name, (period, persona, metric) in views.items():
            scope = Scope(
                journey_id=journey_id,
                journey_slug=journey["slug"],
                persona_id=persona,
                period=period,
                compared=period.previous(),
            )
            load = partial(load_experience_map, connection, scope=scope, metric=metric, min_answers=30)
            median = repeat(load, args.runs).median
            print(f"{name:<40} {1000 * median:8.1f} ms   {median / BUDGET_SECONDS:5.2f} of the 1 s budget")
    engine.dispose()


if __name__ == "__main__":
    main()

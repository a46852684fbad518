"""Loading the demo company: Northwind Telecom's map from `northwind.yaml`, then a year of generated facts.

`load_demo` replaces everything in the database with a broadband and mobile provider as its CX team
would map it — a current-state journey with its facts, a future-state journey that improves it —
and `ensure_demo` does so only for an empty database (the first run of the dashboard). The map goes in
through `import_map`, as any user's map file does, so `journey-atlas export map` gives the file back.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import numpy as np
import yaml
from sqlalchemy import Connection, Engine, delete, func, select, text
from sqlalchemy.orm import Session

from data_access.bulk import append_rows, bulk_load
from data_access.data_version import bump_data_version
from data_access.demo.generator import event_frame, fact_batches, feedback_frame
from data_access.demo.shape import Shape, ids_of, shape_of
from data_access.mapfile import import_map, parse_map
from data_access.models import Base, DataVersion, Event, Journey
from data_access.rollups import refresh_rollups
from data_access.writers import DEMO_WRITER

MAP_FILE = "northwind.yaml"
# the tables a map fills, counted in the demo's summary
MAP_TABLES = ("journeys", "stages", "channels", "touchpoints", "personas", "steps", "lane_items", "metric_definitions")
COMMENTS_FILE = "comments.yaml"


def _resource_text(name: str) -> str:
    return files("data_access.demo").joinpath(name).read_text(encoding="utf-8")


def map_text() -> str:
    """The demo company's map file, exactly as `journey-atlas export map` writes it for the demo."""
    return _resource_text(MAP_FILE)


def _shape(map_file_text: str) -> Shape:
    comments: dict[str, dict[str, dict[str, Any]]] = yaml.safe_load(_resource_text(COMMENTS_FILE))
    return shape_of(parse_map(map_file_text, source=MAP_FILE), comments)


@dataclass(frozen=True)
class DemoSummary:
    """What `load_demo` wrote; str() is a one-paragraph summary for people."""

    journeys: int
    stages: int
    channels: int
    touchpoints: int
    personas: int
    steps: int
    lane_items: int
    metrics: int
    customers: int
    events: int
    feedback: int
    first_day: dt.date | None
    last_day: dt.date | None
    seconds: float
    seed: int

    def __str__(self) -> str:
        span = f"from {self.first_day} to {self.last_day}" if self.first_day else "with no dates"
        the_map = (
            f"{self.journeys} journeys, {self.stages} stages, {self.channels} channels, {self.touchpoints} "
            f"touchpoints, {self.personas} personas, {self.steps} steps with {self.lane_items} lane items and "
            f"{self.metrics} metric definitions"
        )
        facts = f"{self.customers:,} customers with {self.events:,} events and {self.feedback:,} feedback answers"
        took = f"in {self.seconds:.1f} s"
        return f"Loaded the Northwind Telecom demo (seed {self.seed}): {the_map}; {facts} {span}, {took}."


def _empty_database(connection: Connection) -> None:
    # the data version stays: it only ever goes up, so no cached view of the old content looks current
    tables = [t for t in Base.metadata.sorted_tables if t.name != DataVersion.__tablename__]
    if connection.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return
    for table in reversed(tables):
        connection.execute(delete(table))


def load_demo(engine: Engine, *, events: int, seed: int) -> DemoSummary:
    """Replace all content of the database with the Northwind demo of about `events` events, then roll up."""
    if events < 1:
        raise ValueError("the demo needs at least one event")
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    text_of_map = map_text()
    shape = _shape(text_of_map)
    customers = event_count = feedback_count = 0
    with engine.begin() as connection:
        _empty_database(connection)
        with Session(bind=connection) as session:
            import_map(session, text_of_map, source=MAP_FILE, written_by=DEMO_WRITER)
        ids = ids_of(connection, shape)
        events_table, feedback_table = Base.metadata.tables["events"], Base.metadata.tables["feedback"]
        with bulk_load(connection, [events_table.name, feedback_table.name], unique=True):
            for event_batch, feedback_batch, batch_customers in fact_batches(rng, shape, events=events):
                append_rows(connection, events_table, event_frame(event_batch, shape, ids))
                append_rows(connection, feedback_table, feedback_frame(feedback_batch, shape, ids))
                customers += batch_customers
                event_count += len(event_batch.customer)
                feedback_count += len(feedback_batch.customer)
        refresh_rollups(connection)
        bump_data_version(connection)
        counts = {
            name: connection.scalar(select(func.count()).select_from(Base.metadata.tables[name])) for name in MAP_TABLES
        }
        first, last = connection.execute(select(func.min(Event.occurred_at), func.max(Event.occurred_at))).one()
    return DemoSummary(
        journeys=counts["journeys"] or 0,
        stages=counts["stages"] or 0,
        channels=counts["channels"] or 0,
        touchpoints=counts["touchpoints"] or 0,
        personas=counts["personas"] or 0,
        steps=counts["steps"] or 0,
        lane_items=counts["lane_items"] or 0,
        metrics=counts["metric_definitions"] or 0,
        customers=customers,
        events=event_count,
        feedback=feedback_count,
        first_day=_as_date(first),
        last_day=_as_date(last),
        seconds=time.perf_counter() - started,
        seed=seed,
    )


def _as_date(moment: dt.datetime | str | None) -> dt.date | None:
    if moment is None:
        return None
    if isinstance(moment, str):  # SQLite aggregates come back as text
        return dt.date.fromisoformat(moment[:10])
    return moment.date()


def ensure_demo(engine: Engine, *, events: int, seed: int) -> bool:
    """Load the demo only when the database holds no journey; return whether it was loaded."""
    with engine.connect() as connection:
        if connection.scalar(select(func.count()).select_from(Journey)):
            return False
    load_demo(engine, events=events, seed=seed)
    return True

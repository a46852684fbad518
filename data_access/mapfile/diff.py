"""What importing a map file would do to the stored map: what it adds, changes and removes, before it is written.

Importing upserts by slug: channels, personas and journeys not in the file stay; inside a journey the file
names, stages, touchpoints, steps and metrics the file leaves out are removed (`write.import_map`). The
preview follows the same rules, so what it lists is what the import does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from data_access.mapfile.checks import parse_located
from data_access.mapfile.read import read_map
from data_access.mapfile.schema import MapFile
from data_access.models import Journey

Change = Literal["added", "changed", "removed"]
# items listed by their parent journey; removed when the file names the journey but not them
_INSIDE_A_JOURNEY = ("stage", "touchpoint", "step", "metric")


@dataclass(frozen=True)
class MapChange:
    """One item of the map that an import adds, changes or removes: its kind and its path of slugs."""

    change: Change
    kind: str
    item: str


def _items(map_file: MapFile) -> dict[tuple[str, str], tuple[str | None, dict[str, Any]]]:
    """Every item of a map by (kind, path of slugs): its journey (None at the top) and its own fields."""
    items: dict[tuple[str, str], tuple[str | None, dict[str, Any]]] = {}
    for channel in map_file.channels:
        items[("channel", channel.slug)] = (None, channel.model_dump())
    for persona in map_file.personas:
        items[("persona", persona.slug)] = (None, persona.model_dump())
    for journey in map_file.journeys:
        items[("journey", journey.slug)] = (None, journey.model_dump(exclude={"stages", "metrics"}))
        for stage in journey.stages:
            at = f"{journey.slug} / {stage.slug}"
            items[("stage", at)] = (journey.slug, stage.model_dump(exclude={"touchpoints", "steps"}))
            for touchpoint in stage.touchpoints:
                items[("touchpoint", f"{at} / {touchpoint.slug}")] = (journey.slug, touchpoint.model_dump())
            for step in stage.steps:
                items[("step", f"{at} / {step.slug}")] = (journey.slug, step.model_dump())
        for metric in journey.metrics:
            items[("metric", f"{journey.slug} / {metric.key}")] = (journey.slug, metric.model_dump())
    return items


def map_changes(session: Session, text: str, *, source: str = "<map>") -> list[MapChange]:
    """What importing `text` would add, change and remove; raises `MapFileError` for a file that cannot be read.

    References to the database (a channel the file does not define) are checked by the import itself.
    """
    incoming, _locator = parse_located(text, source)
    after = _items(incoming)
    before = _items(read_map(session))
    journeys = {journey.slug for journey in incoming.journeys}
    changes = [
        MapChange("added" if key not in before else "changed", *key)
        for key, (_journey, fields) in after.items()
        if key not in before or before[key][1] != fields
    ]
    changes += [
        MapChange("removed", *key)
        for key, (journey, _fields) in before.items()
        if key not in after and key[0] in _INSIDE_A_JOURNEY and journey in journeys
    ]
    return changes


def journey_slugs(session: Session) -> list[str]:
    """The journeys stored, by slug: data can only be imported into one of them."""
    return list(session.scalars(select(Journey.slug).order_by(Journey.slug)))

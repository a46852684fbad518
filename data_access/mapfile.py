"""The map as a file: journeys, stages, steps, lanes, touchpoints, channels, personas and metric targets in YAML.

Teams keep their maps under version control and review changes as diffs, so the file is:

- **lossless**: export, import into an empty database, export again gives the same text;
- **stable**: things with a position (channels, stages, steps, lane items) are written in position order,
  the rest in a canonical order (touchpoints by channel then slug, metrics by key, personas and journeys by
  slug); references are slugs, never database ids;
- **minimal**: empty and default fields are left out, and a lane item with nothing but text is written
  as a plain string.

Import is all-or-nothing inside the caller's session: the whole file is parsed and checked, references
included, before anything is written, and every problem raises `MapFileError` naming the file, the
path inside the document and its line. Journeys, channels and personas are upserted by slug; inside a
journey, stages, steps and touchpoints that keep their slugs keep their ids (so facts stay linked) and
what the file no longer lists is removed. Journeys, channels and personas absent from the file are left
alone, so one file per journey works as well as one file for the whole company.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator
from pydantic_core import ErrorDetails
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from data_access.metrics import Formula
from data_access.models import (
    Channel,
    ChannelKind,
    Direction,
    Journey,
    JourneyKind,
    Lane,
    LaneItem,
    MetricDefinition,
    Persona,
    Stage,
    Step,
    Touchpoint,
)

MAP_FILE_VERSION: Literal[1] = 1

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
# closed ranges of the numeric lane fields, used by the schema and by its error messages
RANGES: dict[str, tuple[int, int]] = {"emotion": (-2, 2), "severity": (1, 5), "impact": (1, 5), "effort": (1, 5)}
# which optional lane-item fields belong to which lane; text and persona belong to every lane
LANE_FIELDS: dict[Lane, tuple[str, ...]] = {
    Lane.ACTION: (),
    Lane.THOUGHT: (),
    Lane.EMOTION: ("emotion",),
    Lane.PAIN_POINT: ("severity", "evidence"),
    Lane.OPPORTUNITY: ("owner", "status", "impact", "effort"),
    Lane.BACKSTAGE: (),
}
LANE_ORDER: dict[str, int] = {lane.value: index for index, lane in enumerate(Lane)}

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=80)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Owner = Annotated[str, StringConstraints(max_length=120)]


# --- errors --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapProblem:
    """One thing wrong with a map file: where (`path` in the document, `line` in the text) and what."""

    path: str
    message: str
    line: int | None = None

    def describe(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line is not None else source
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class MapFileError(ValueError):
    """A map file that cannot be imported; the message names the file, the path, the line and the problem."""

    def __init__(self, source: str, problems: Sequence[MapProblem]) -> None:
        self.source = source
        self.problems = list(problems)
        first = self.problems[0].describe(source)
        more = len(self.problems) - 1
        super().__init__(first if more == 0 else f"{first} (and {more} more problem{'s' if more > 1 else ''})")

    @property
    def details(self) -> str:
        """Every problem, one per line."""
        return "\n".join(problem.describe(self.source) for problem in self.problems)


# --- the file's schema ---------------------------------------------------------------------------


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, allow_inf_nan=False)


class ChannelSpec(_FileModel):
    slug: Slug
    name: Name
    kind: ChannelKind = ChannelKind.DIGITAL


class EmpathyMapSpec(_FileModel):
    thinks: str = ""
    feels: str = ""
    says: str = ""
    does: str = ""


class PersonaSpec(_FileModel):
    slug: Slug
    name: Name
    description: str = ""
    goals: str = ""
    frustrations: str = ""
    empathy_map: EmpathyMapSpec = EmpathyMapSpec()


class LaneItemSpec(_FileModel):
    """A card in a swimlane; written as a plain string when it has nothing but text."""

    text: Annotated[str, StringConstraints(min_length=1)]
    persona: Slug | None = None
    emotion: float | None = Field(default=None, ge=RANGES["emotion"][0], le=RANGES["emotion"][1])
    severity: int | None = Field(default=None, ge=RANGES["severity"][0], le=RANGES["severity"][1])
    evidence: str | None = None
    owner: Owner | None = None
    status: Annotated[str, StringConstraints(max_length=20)] | None = None
    impact: int | None = Field(default=None, ge=RANGES["impact"][0], le=RANGES["impact"][1])
    effort: int | None = Field(default=None, ge=RANGES["effort"][0], le=RANGES["effort"][1])

    @model_validator(mode="before")
    @classmethod
    def _text_only(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _empty_is_absent(self) -> LaneItemSpec:
        # "" and None mean the same in the database's optional text columns; keep one spelling
        for name in ("evidence", "owner", "status"):
            if getattr(self, name) == "":
                setattr(self, name, None)
        return self


class LanesSpec(_FileModel):
    """A step's lane items grouped by lane, lanes in the order the journey map draws them."""

    action: list[LaneItemSpec] = Field(default_factory=list)
    thought: list[LaneItemSpec] = Field(default_factory=list)
    emotion: list[LaneItemSpec] = Field(default_factory=list)
    pain_point: list[LaneItemSpec] = Field(default_factory=list)
    opportunity: list[LaneItemSpec] = Field(default_factory=list)
    backstage: list[LaneItemSpec] = Field(default_factory=list)

    def by_lane(self) -> list[tuple[Lane, list[LaneItemSpec]]]:
        return [(lane, getattr(self, lane.value)) for lane in Lane]


class StepSpec(_FileModel):
    slug: Slug
    name: Name
    touchpoint: Slug | None = None
    description: str = ""
    lanes: LanesSpec = LanesSpec()


class TouchpointSpec(_FileModel):
    slug: Slug
    name: Name
    channel: Slug
    owner: Owner = ""
    moment_of_truth: bool = False
    description: str = ""


class StageSpec(_FileModel):
    slug: Slug
    name: Name
    description: str = ""
    touchpoints: list[TouchpointSpec] = Field(default_factory=list)
    steps: list[StepSpec] = Field(default_factory=list)


class MetricSpec(_FileModel):
    """A metric definition with its target; on the whole journey, on a stage, or on a stage's touchpoint."""

    key: Slug
    label: Name
    formula: Formula
    unit: Annotated[str, StringConstraints(max_length=20)] = ""
    direction: Direction = Direction.HIGHER
    target: float | None = None
    warning: float = 0.0
    stage: Slug | None = None
    touchpoint: Slug | None = None


class JourneySpec(_FileModel):
    slug: Slug
    name: Name
    kind: JourneyKind = JourneyKind.CURRENT
    improves: Slug | None = None
    owner: Owner = ""
    description: str = ""
    stages: list[StageSpec] = Field(default_factory=list)
    metrics: list[MetricSpec] = Field(default_factory=list)


class MapFile(_FileModel):
    """The whole document."""

    version: Literal[1]
    channels: list[ChannelSpec] = Field(default_factory=list)
    personas: list[PersonaSpec] = Field(default_factory=list)
    journeys: list[JourneySpec] = Field(default_factory=list)


@dataclass(frozen=True)
class MapImportSummary:
    """What an import did."""

    channels: int
    personas: int
    journeys_created: list[str] = field(default_factory=list)
    journeys_updated: list[str] = field(default_factory=list)
    stages: int = 0
    touchpoints: int = 0
    steps: int = 0
    lane_items: int = 0
    metrics: int = 0

    def __str__(self) -> str:
        journeys = []
        if self.journeys_created:
            journeys.append(f"created {', '.join(self.journeys_created)}")
        if self.journeys_updated:
            journeys.append(f"updated {', '.join(self.journeys_updated)}")
        return (
            f"Map imported: journeys {'; '.join(journeys) or 'none'} — {self.stages} stages, {self.touchpoints} "
            f"touchpoints, {self.steps} steps, {self.lane_items} lane items, {self.metrics} metrics; "
            f"{self.channels} channels, {self.personas} personas"
        )


# --- YAML text ------------------------------------------------------------------------------------


class _MapDumper(yaml.SafeDumper):
    """Block style, lists indented under their key, multi-line text as literal blocks, 1.0 written as 1."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


def _represent_float(dumper: yaml.SafeDumper, value: float) -> yaml.ScalarNode:
    if value.is_integer() and abs(value) < 1e15:
        return dumper.represent_int(int(value))
    return dumper.represent_float(value)


_MapDumper.add_representer(str, _represent_str)
_MapDumper.add_representer(float, _represent_float)


def render_map(map_file: MapFile) -> str:
    """The YAML text of a map, minimal and in the order it was given."""
    document = map_file.model_dump(mode="json", exclude_defaults=True)
    for journey in document.get("journeys", []):
        for stage in journey.get("stages", []):
            for step in stage.get("steps", []):
                for lane, items in step.get("lanes", {}).items():
                    step["lanes"][lane] = [item["text"] if list(item) == ["text"] else item for item in items]
    return yaml.dump(document, Dumper=_MapDumper, sort_keys=False, allow_unicode=True, width=1_000_000)


class _Locator:
    """Line numbers of paths inside a parsed YAML document."""

    def __init__(self, root: yaml.Node) -> None:
        self.root = root

    def line(self, loc: Sequence[str | int]) -> int:
        """The line of the deepest node on `loc` that exists: a key's own line, a list item's first line."""
        node, line = self.root, self.root.start_mark.line
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                entry = next(((key, value) for key, value in node.value if key.value == part), None)
                if entry is None:
                    break
                line, node = entry[0].start_mark.line, entry[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line
            else:
                break
        return line + 1


def _format_path(loc: Sequence[str | int]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _duplicate_keys(node: yaml.Node, loc: tuple[str | int, ...] = ()) -> Iterable[MapProblem]:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.value in seen:
                message = f"key '{key.value}' appears twice in the same mapping"
                yield MapProblem(_format_path((*loc, key.value)), message, key.start_mark.line + 1)
            seen.add(key.value)
            yield from _duplicate_keys(value, (*loc, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*loc, index))


def _load_yaml(text: str, source: str) -> tuple[Any, _Locator]:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise MapFileError(source, [MapProblem("", "the file is empty: a map starts with 'version: 1'")])
        duplicates = list(_duplicate_keys(root))
        if duplicates:
            raise MapFileError(source, duplicates)
        return loader.construct_document(root), _Locator(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        column = f", column {mark.column + 1}" if mark is not None else ""
        raise MapFileError(source, [MapProblem("", f"bad YAML syntax{column}: {exc.problem}", line)]) from exc
    except yaml.YAMLError as exc:
        raise MapFileError(source, [MapProblem("", f"bad YAML: {exc}")]) from exc
    finally:
        loader.dispose()


def _schema_message(error: ErrorDetails) -> str:
    """Pydantic's message, rephrased where a map author would not recognise it."""
    name = str(error["loc"][-1]) if error["loc"] else "value"
    kind, given = error["type"], error.get("input")
    if kind == "extra_forbidden":
        if len(error["loc"]) >= 2 and error["loc"][-2] == "lanes":
            return f"unknown lane '{name}' — known: {', '.join(lane.value for lane in Lane)}"
        return f"unknown field '{name}'"
    if kind == "missing":
        return f"missing required field '{name}'"
    if kind in ("greater_than_equal", "less_than_equal") and name in RANGES:
        low, high = RANGES[name]
        return (
            f"{name} must be between {low:+d} and {high:+d}, got {given}"
            if low < 0
            else (f"{name} must be between {low} and {high}, got {given}")
        )
    if kind == "string_pattern_mismatch":
        return f"'{given}' is not a valid slug: use lowercase letters, digits, '-' and '_'"
    if kind == "literal_error" and name == "version":
        return f"unsupported map file version {given!r}: this release reads version {MAP_FILE_VERSION}"
    if kind == "model_type" and isinstance(given, list):
        return "expected a mapping (key: value), got a list"
    if kind == "list_type" and isinstance(given, dict):
        return "expected a list (lines starting with '- '), got a mapping"
    return f"{error['msg']}, got {given!r}" if not isinstance(given, dict | list) else error["msg"]


# --- checks beyond the schema ----------------------------------------------------------------------


def _known(slugs: Iterable[str]) -> str:
    listed = list(dict.fromkeys(slugs))
    return ", ".join(listed) if listed else "none defined"


def _duplicates(slugs: Sequence[str]) -> list[int]:
    seen: set[str] = set()
    repeated = []
    for index, slug in enumerate(slugs):
        if slug in seen:
            repeated.append(index)
        seen.add(slug)
    return repeated


def _check_map(
    map_file: MapFile,
    *,
    stored_channels: Sequence[str] = (),
    stored_personas: Sequence[str] = (),
    stored_journeys: Sequence[str] = (),
) -> list[tuple[tuple[str | int, ...], str]]:
    """Duplicate slugs, references that lead nowhere, fields in the wrong lane; returns (loc, message) pairs."""
    problems: list[tuple[tuple[str | int, ...], str]] = []

    def unique(loc: tuple[str | int, ...], what: str, slugs: Sequence[str], key: str = "slug") -> None:
        for index in _duplicates(slugs):
            problems.append(((*loc, index, key), f"duplicate {what} {key} '{slugs[index]}'"))

    unique(("channels",), "channel", [c.slug for c in map_file.channels])
    unique(("personas",), "persona", [p.slug for p in map_file.personas])
    unique(("journeys",), "journey", [j.slug for j in map_file.journeys])
    channels = [c.slug for c in map_file.channels] + list(stored_channels)
    personas = [p.slug for p in map_file.personas] + list(stored_personas)
    journeys = [j.slug for j in map_file.journeys] + list(stored_journeys)

    for j, journey in enumerate(map_file.journeys):
        at = ("journeys", j)
        if journey.improves is not None and journey.improves not in journeys:
            problems.append(((*at, "improves"), f"unknown journey '{journey.improves}' — known: {_known(journeys)}"))
        elif journey.improves == journey.slug:
            problems.append(((*at, "improves"), "a journey cannot improve itself"))
        unique((*at, "stages"), "stage", [s.slug for s in journey.stages])
        unique((*at, "metrics"), "metric", [m.key for m in journey.metrics], key="key")
        touchpoints_by_stage: dict[str, list[str]] = {}
        for s, stage in enumerate(journey.stages):
            stage_at = (*at, "stages", s)
            touchpoints = [t.slug for t in stage.touchpoints]
            touchpoints_by_stage.setdefault(stage.slug, touchpoints)
            unique((*stage_at, "touchpoints"), "touchpoint", touchpoints)
            unique((*stage_at, "steps"), "step", [step.slug for step in stage.steps])
            for t, touchpoint in enumerate(stage.touchpoints):
                if touchpoint.channel not in channels:
                    problems.append(
                        (
                            (*stage_at, "touchpoints", t, "channel"),
                            f"unknown channel slug '{touchpoint.channel}' — known: {_known(channels)}",
                        )
                    )
            for i, step in enumerate(stage.steps):
                step_at = (*stage_at, "steps", i)
                if step.touchpoint is not None and step.touchpoint not in touchpoints:
                    problems.append(
                        (
                            (*step_at, "touchpoint"),
                            f"unknown touchpoint '{step.touchpoint}' in stage '{stage.slug}' — known: "
                            f"{_known(touchpoints)}",
                        )
                    )
                for lane, items in step.lanes.by_lane():
                    for k, item in enumerate(items):
                        item_at = (*step_at, "lanes", lane.value, k)
                        if item.persona is not None and item.persona not in personas:
                            problems.append(
                                ((*item_at, "persona"), f"unknown persona '{item.persona}' — known: {_known(personas)}")
                            )
                        for name in ("emotion", "severity", "evidence", "owner", "status", "impact", "effort"):
                            if getattr(item, name) is not None and name not in LANE_FIELDS[lane]:
                                owner_lane = next(other for other, names in LANE_FIELDS.items() if name in names)
                                problems.append(
                                    (
                                        (*item_at, name),
                                        f"'{name}' belongs to the {owner_lane.value} lane, not {lane.value}",
                                    )
                                )
        for m, metric in enumerate(journey.metrics):
            metric_at = (*at, "metrics", m)
            if metric.stage is not None and metric.stage not in touchpoints_by_stage:
                problems.append(
                    ((*metric_at, "stage"), f"unknown stage '{metric.stage}' — known: {_known(touchpoints_by_stage)}")
                )
            elif metric.touchpoint is not None and metric.stage is None:
                problems.append(((*metric_at, "touchpoint"), "a touchpoint metric also names its stage"))
            elif metric.touchpoint is not None and metric.stage is not None:
                in_stage = touchpoints_by_stage[metric.stage]
                if metric.touchpoint not in in_stage:
                    problems.append(
                        (
                            (*metric_at, "touchpoint"),
                            f"unknown touchpoint '{metric.touchpoint}' in stage '{metric.stage}' — known: "
                            f"{_known(in_stage)}",
                        )
                    )
    problems.extend(_improvement_cycles(map_file))
    return problems


def _improvement_cycles(map_file: MapFile) -> list[tuple[tuple[str | int, ...], str]]:
    improves = {j.slug: j.improves for j in map_file.journeys}
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for j, journey in enumerate(map_file.journeys):
        seen = {journey.slug}
        target = journey.improves
        while target is not None and target in improves and target not in seen:
            seen.add(target)
            target = improves[target]
        if target == journey.slug and journey.improves != journey.slug:
            problems.append((("journeys", j, "improves"), f"journeys improve each other in a cycle through '{target}'"))
    return problems


def _parse(text: str, source: str) -> tuple[MapFile, _Locator]:
    document, locator = _load_yaml(text, source)
    try:
        map_file = MapFile.model_validate(document)
    except ValidationError as exc:
        problems = [
            MapProblem(_format_path(error["loc"]), _schema_message(error), locator.line(error["loc"]))
            for error in exc.errors(include_url=False)
        ]
        raise MapFileError(source, problems) from None
    return map_file, locator


def _raise_problems(source: str, locator: _Locator, problems: list[tuple[tuple[str | int, ...], str]]) -> None:
    if problems:
        raise MapFileError(
            source, [MapProblem(_format_path(loc), message, locator.line(loc)) for loc, message in problems]
        )


def parse_map(text: str, *, source: str = "<map>") -> MapFile:
    """A map file's text as a checked `MapFile`; references must resolve inside the file itself."""
    map_file, locator = _parse(text, source)
    _raise_problems(source, locator, _check_map(map_file))
    return map_file


# --- database → file ------------------------------------------------------------------------------


def _lane_item_spec(item: LaneItem) -> LaneItemSpec:
    lane = Lane(item.lane)
    lane_fields = {name: getattr(item, name) for name in LANE_FIELDS[lane]}
    persona = item.persona.slug if item.persona is not None else None
    return LaneItemSpec.model_validate({"text": item.text, "persona": persona, **lane_fields})


def read_map(session: Session) -> MapFile:
    """Everything the map holds, as a `MapFile` in the file's canonical order."""
    channels = sorted(session.scalars(select(Channel)), key=lambda c: (c.position, c.slug))
    channel_rank = {channel.id: rank for rank, channel in enumerate(channels)}
    personas = session.scalars(select(Persona).order_by(Persona.slug))
    journeys = session.scalars(
        select(Journey)
        .order_by(Journey.slug)
        .options(
            selectinload(Journey.improves),
            selectinload(Journey.stages).selectinload(Stage.touchpoints).selectinload(Touchpoint.channel),
            selectinload(Journey.stages).selectinload(Stage.steps).selectinload(Step.touchpoint),
            selectinload(Journey.stages)
            .selectinload(Stage.steps)
            .selectinload(Step.lane_items)
            .selectinload(LaneItem.persona),
        )
    ).all()
    metrics_by_journey: dict[int, list[MetricDefinition]] = {}
    for metric in session.scalars(select(MetricDefinition).order_by(MetricDefinition.key)):
        metrics_by_journey.setdefault(metric.journey_id, []).append(metric)
    stage_slugs = {stage.id: stage.slug for journey in journeys for stage in journey.stages}
    touchpoints = {t.id: t for journey in journeys for stage in journey.stages for t in stage.touchpoints}

    def stage_spec(stage: Stage) -> StageSpec:
        steps = []
        for step in sorted(stage.steps, key=lambda s: (s.position, s.slug)):
            lanes: dict[str, list[LaneItemSpec]] = {}
            for item in sorted(step.lane_items, key=lambda i: (LANE_ORDER.get(i.lane, 99), i.position, i.id)):
                lanes.setdefault(item.lane, []).append(_lane_item_spec(item))
            steps.append(
                StepSpec(
                    slug=step.slug,
                    name=step.name,
                    touchpoint=step.touchpoint.slug if step.touchpoint is not None else None,
                    description=step.description,
                    lanes=LanesSpec.model_validate(lanes),
                )
            )
        return StageSpec(
            slug=stage.slug,
            name=stage.name,
            description=stage.description,
            touchpoints=[
                TouchpointSpec(
                    slug=t.slug,
                    name=t.name,
                    channel=t.channel.slug,
                    owner=t.owner,
                    moment_of_truth=t.moment_of_truth,
                    description=t.description,
                )
                for t in sorted(stage.touchpoints, key=lambda t: (channel_rank[t.channel_id], t.slug))
            ],
            steps=steps,
        )

    def metric_spec(metric: MetricDefinition) -> MetricSpec:
        touchpoint = touchpoints.get(metric.touchpoint_id) if metric.touchpoint_id is not None else None
        stage_id = touchpoint.stage_id if touchpoint is not None else metric.stage_id
        return MetricSpec(
            key=metric.key,
            label=metric.label,
            formula=Formula(metric.formula),
            unit=metric.unit,
            direction=Direction(metric.direction),
            target=metric.target,
            warning=metric.warning,
            stage=stage_slugs[stage_id] if stage_id is not None else None,
            touchpoint=touchpoint.slug if touchpoint is not None else None,
        )

    return MapFile(
        version=MAP_FILE_VERSION,
        channels=[ChannelSpec(slug=c.slug, name=c.name, kind=ChannelKind(c.kind)) for c in channels],
        personas=[
            PersonaSpec(
                slug=p.slug,
                name=p.name,
                description=p.description,
                goals=p.goals,
                frustrations=p.frustrations,
                empathy_map=EmpathyMapSpec(thinks=p.thinks, feels=p.feels, says=p.says, does=p.does),
            )
            for p in personas
        ],
        journeys=[
            JourneySpec(
                slug=journey.slug,
                name=journey.name,
                kind=JourneyKind(journey.kind),
                improves=journey.improves.slug if journey.improves is not None else None,
                owner=journey.owner,
                description=journey.description,
                stages=[stage_spec(stage) for stage in sorted(journey.stages, key=lambda s: (s.position, s.slug))],
                metrics=[metric_spec(metric) for metric in metrics_by_journey.get(journey.id, [])],
            )
            for journey in journeys
        ],
    )


def canonical_map(map_file: MapFile) -> MapFile:
    """The same map in the order an export writes it, so two equal maps render to the same text."""
    channel_rank = {channel.slug: rank for rank, channel in enumerate(map_file.channels)}
    journeys = []
    for journey in sorted(map_file.journeys, key=lambda j: j.slug):
        stages = [
            stage.model_copy(
                update={
                    "touchpoints": sorted(
                        stage.touchpoints, key=lambda t: (channel_rank.get(t.channel, len(channel_rank)), t.slug)
                    )
                }
            )
            for stage in journey.stages
        ]
        journeys.append(
            journey.model_copy(update={"stages": stages, "metrics": sorted(journey.metrics, key=lambda m: m.key)})
        )
    return map_file.model_copy(
        update={"personas": sorted(map_file.personas, key=lambda p: p.slug), "journeys": journeys}
    )


def export_map(session: Session) -> str:
    """The whole map (channels, personas, journeys with everything in them) as YAML text."""
    return render_map(read_map(session))


# --- file → database ------------------------------------------------------------------------------


def import_map(session: Session, text: str, *, source: str = "<map>") -> MapImportSummary:
    """Upsert a map file's content by slug inside the caller's transaction; all or nothing.

    Everything is checked before the first write, so a `MapFileError` about the file leaves the session as it
    was. Should the database still refuse a write, that error is a `MapFileError` too, and the caller's
    transaction must be rolled back (`session_scope` does).
    """
    map_file, locator = _parse(text, source)
    stored_channels = {c.slug: c for c in session.scalars(select(Channel))}
    stored_personas = {p.slug: p for p in session.scalars(select(Persona))}
    stored_journeys = {
        j.slug: j
        for j in session.scalars(
            select(Journey).options(
                selectinload(Journey.stages).selectinload(Stage.touchpoints),
                selectinload(Journey.stages).selectinload(Stage.steps).selectinload(Step.lane_items),
            )
        )
    }
    problems = _check_map(
        map_file,
        stored_channels=list(stored_channels),
        stored_personas=list(stored_personas),
        stored_journeys=list(stored_journeys),
    )
    _raise_problems(source, locator, problems)
    try:
        with session.no_autoflush:
            summary = _write_map(session, map_file, stored_channels, stored_personas, stored_journeys)
        session.flush()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise MapFileError(source, [MapProblem("", f"the database refused the map: {reason}")]) from exc
    return summary


def _write_map(
    session: Session,
    map_file: MapFile,
    channels: dict[str, Channel],
    personas: dict[str, Persona],
    journeys: dict[str, Journey],
) -> MapImportSummary:
    for position, channel_spec in enumerate(map_file.channels):
        channel = channels.get(channel_spec.slug)
        if channel is None:
            channel = channels[channel_spec.slug] = Channel(slug=channel_spec.slug)
            session.add(channel)
        channel.name, channel.kind, channel.position = channel_spec.name, channel_spec.kind.value, position

    for persona_spec in map_file.personas:
        persona = personas.get(persona_spec.slug)
        if persona is None:
            persona = personas[persona_spec.slug] = Persona(slug=persona_spec.slug)
            session.add(persona)
        persona.name = persona_spec.name
        persona.description, persona.goals = persona_spec.description, persona_spec.goals
        persona.frustrations = persona_spec.frustrations
        empathy = persona_spec.empathy_map
        persona.thinks, persona.feels, persona.says, persona.does = (
            empathy.thinks,
            empathy.feels,
            empathy.says,
            empathy.does,
        )

    created: list[str] = []
    updated: list[str] = []
    counts = {"stages": 0, "touchpoints": 0, "steps": 0, "lane_items": 0, "metrics": 0}
    written: list[tuple[Journey, JourneySpec]] = []
    for journey_spec in map_file.journeys:
        journey = journeys.get(journey_spec.slug)
        if journey is None:
            journey = journeys[journey_spec.slug] = Journey(slug=journey_spec.slug)
            session.add(journey)
            created.append(journey_spec.slug)
        else:
            updated.append(journey_spec.slug)
        journey.name, journey.kind = journey_spec.name, journey_spec.kind.value
        journey.owner, journey.description = journey_spec.owner, journey_spec.description
        journey.stages = [_write_stage(journey, position, spec, channels, personas, counts)
                          for position, spec in enumerate(journey_spec.stages)]  # fmt: skip
        written.append((journey, journey_spec))
    for journey, journey_spec in written:
        journey.improves = journeys[journey_spec.improves] if journey_spec.improves is not None else None

    # metric definitions point at stages and touchpoints by id, so those need their ids first
    session.flush()
    for journey, journey_spec in written:
        counts["metrics"] += _write_metrics(session, journey, journey_spec)
    return MapImportSummary(
        channels=len(map_file.channels),
        personas=len(map_file.personas),
        journeys_created=created,
        journeys_updated=updated,
        **counts,
    )


def _write_stage(
    journey: Journey,
    position: int,
    spec: StageSpec,
    channels: dict[str, Channel],
    personas: dict[str, Persona],
    counts: dict[str, int],
) -> Stage:
    stage = next((s for s in journey.stages if s.slug == spec.slug), None) or Stage(slug=spec.slug)
    stage.name, stage.position, stage.description = spec.name, position, spec.description

    stored_touchpoints = {t.slug: t for t in stage.touchpoints}
    touchpoints = []
    for touchpoint_spec in spec.touchpoints:
        touchpoint = stored_touchpoints.get(touchpoint_spec.slug) or Touchpoint(slug=touchpoint_spec.slug)
        touchpoint.name, touchpoint.channel = touchpoint_spec.name, channels[touchpoint_spec.channel]
        touchpoint.owner, touchpoint.description = touchpoint_spec.owner, touchpoint_spec.description
        touchpoint.moment_of_truth = touchpoint_spec.moment_of_truth
        touchpoints.append(touchpoint)
    stage.touchpoints = touchpoints
    by_slug = {t.slug: t for t in touchpoints}

    stored_steps = {s.slug: s for s in stage.steps}
    steps = []
    for step_position, step_spec in enumerate(spec.steps):
        step = stored_steps.get(step_spec.slug) or Step(slug=step_spec.slug)
        step.name, step.position, step.description = step_spec.name, step_position, step_spec.description
        step.touchpoint = by_slug[step_spec.touchpoint] if step_spec.touchpoint is not None else None
        step.lane_items = [
            LaneItem(
                lane=lane.value,
                text=item.text,
                position=item_position,
                persona=personas[item.persona] if item.persona is not None else None,
                emotion=item.emotion,
                severity=item.severity,
                evidence=item.evidence,
                owner=item.owner,
                status=item.status,
                impact=item.impact,
                effort=item.effort,
            )
            for item_position, (lane, item) in enumerate(
                (lane, item) for lane, items in step_spec.lanes.by_lane() for item in items
            )
        ]
        counts["lane_items"] += len(step.lane_items)
        steps.append(step)
    stage.steps = steps
    counts["stages"] += 1
    counts["touchpoints"] += len(touchpoints)
    counts["steps"] += len(steps)
    return stage


def _write_metrics(session: Session, journey: Journey, spec: JourneySpec) -> int:
    stored = {
        m.key: m for m in session.scalars(select(MetricDefinition).where(MetricDefinition.journey_id == journey.id))
    }
    stages = {stage.slug: stage for stage in journey.stages}
    for metric_spec in spec.metrics:
        metric = stored.pop(metric_spec.key, None)
        if metric is None:
            metric = MetricDefinition(journey_id=journey.id, key=metric_spec.key)
            session.add(metric)
        stage = stages[metric_spec.stage] if metric_spec.stage is not None else None
        touchpoint = (
            next(t for t in stage.touchpoints if t.slug == metric_spec.touchpoint)
            if stage is not None and metric_spec.touchpoint is not None
            else None
        )
        metric.label, metric.formula, metric.unit = metric_spec.label, metric_spec.formula.value, metric_spec.unit
        metric.direction, metric.target, metric.warning = (
            metric_spec.direction.value,
            metric_spec.target,
            metric_spec.warning,
        )
        metric.stage_id = stage.id if stage is not None else None
        metric.touchpoint_id = touchpoint.id if touchpoint is not None else None
    for removed in stored.values():
        session.delete(removed)
    return len(spec.metrics)

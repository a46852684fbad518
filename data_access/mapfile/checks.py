"""Parsing a map file's text into a checked `MapFile`: the schema, then what the schema cannot say.

Every problem becomes a `MapProblem` with the path inside the document and its line, and all of them
are raised together in one `MapFileError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from data_access.mapfile.errors import MapFileError, MapProblem
from data_access.mapfile.schema import LANE_FIELDS, MAP_FILE_VERSION, RANGES, MapFile, MetricSpec, StepSpec
from data_access.mapfile.yaml_io import Locator, format_path, load_yaml
from data_access.metrics import TARGET_SCALES, TargetScale
from data_access.models import Lane, Measure, StepKind


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


def check_map(
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
            problems.extend(_step_kind_problems(stage_at, stage.steps))
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
    problems.extend(_target_problems(map_file))
    return problems


def _target_problems(map_file: MapFile) -> list[tuple[tuple[str | int, ...], str]]:
    """Targets and warning bands outside their metric's scale (metrics.TARGET_SCALES), with the scale expected."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for at, metric, scale in _metric_scales(map_file):
        if metric.target is not None and not scale.holds(metric.target):
            problems.append(
                ((*at, "target"), f"target {metric.target:g} is outside the {metric.formula.value} scale: "
                                  f"write it as {scale.text}")
            )  # fmt: skip
        span = scale.span()
        if metric.warning < 0 or (span is not None and metric.warning > span):
            bound = f"0..{span:g}" if span is not None else "0 or more"
            problems.append(
                ((*at, "warning"), f"warning {metric.warning:g} is outside {bound}, in the unit of the target "
                                   f"({scale.text})")
            )  # fmt: skip
    return problems


def _metric_scales(map_file: MapFile) -> Iterator[tuple[tuple[str | int, ...], MetricSpec, TargetScale]]:
    """Every metric of the file with where it stands in it and the scale its target is written in."""
    for j, journey in enumerate(map_file.journeys):
        for m, metric in enumerate(journey.metrics):
            yield ("journeys", j, "metrics", m), metric, TARGET_SCALES[metric.formula.value]


def unlikely_targets(map_file: MapFile) -> list[tuple[tuple[str | int, ...], str]]:
    """Share targets of 1 or less: valid (1 means 1 %), but most likely a fraction meant as a percent."""
    warnings: list[tuple[tuple[str | int, ...], str]] = []
    for at, metric, scale in _metric_scales(map_file):
        if scale.factor != 1 and metric.target is not None and 0 < metric.target <= 1:
            warnings.append(
                ((*at, "target"),
                 f"target {metric.target:g} means {metric.target:g} %: {metric.formula.value} targets are "
                 f"percents (write {metric.target * 100:g} for {metric.target * 100:g} %)")
            )  # fmt: skip
    return warnings


def _step_kind_problems(
    stage_at: tuple[str | int, ...], steps: Sequence[StepSpec]
) -> list[tuple[tuple[str | int, ...], str]]:
    """An alternative names its group, only an alternative does, and a group has two steps or more."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    groups: dict[str, list[int]] = {}
    for i, step in enumerate(steps):
        step_at = (*stage_at, "steps", i)
        if step.kind == StepKind.ALTERNATIVE and step.group is None:
            problems.append(
                ((*step_at, "kind"), f"alternative step '{step.slug}' names its group: add 'group: <name>'")
            )
        elif step.kind != StepKind.ALTERNATIVE and step.group is not None:
            problems.append(
                (
                    (*step_at, "group"),
                    f"group '{step.group}' on {step.kind.value} step '{step.slug}': only steps of "
                    "kind 'alternative' belong to a group",
                )
            )
        elif step.group is not None:
            groups.setdefault(step.group, []).append(i)
    for group, members in groups.items():
        if len(members) == 1:
            problems.append(
                (
                    (*stage_at, "steps", members[0], "group"),
                    f"alternative group '{group}' has only step '{steps[members[0]].slug}': a group splits "
                    "the stage's entrants between two or more steps",
                )
            )
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


FEEDBACK_FORMULAS = frozenset(m.value for m in Measure)


def repeated_metrics(map_file: MapFile) -> list[tuple[tuple[str | int, ...], str]]:
    """Metrics that show the same number as another of their journey: (loc of the repeat, message) pairs.

    A metric repeats another when both have the same formula, direction and target and evaluate the same
    answers: the same scope (the journey, one stage, or one touchpoint), or a stage's metric beside a
    journey-level feedback metric, which the stage's journey page evaluates on that stage's answers. The
    journey page shows such a metric once, keeping the more specific one; these are warnings, not errors.
    """
    warnings: list[tuple[tuple[str | int, ...], str]] = []
    for j, journey in enumerate(map_file.journeys):
        seen: dict[tuple[object, ...], str] = {}
        journey_level: dict[tuple[object, ...], str] = {}
        for m, metric in enumerate(journey.metrics):
            number = (metric.formula.value, metric.direction.value, metric.target)
            key = (*number, metric.stage, metric.touchpoint)
            at = ("journeys", j, "metrics", m)
            if key in seen:
                warnings.append(
                    (at, f"metric '{metric.key}' repeats '{seen[key]}': same formula, scope and target, so the "
                         "same number; the journey page shows it once")
                )  # fmt: skip
                continue
            seen[key] = metric.key
            if metric.stage is None and metric.touchpoint is None and metric.formula.value in FEEDBACK_FORMULAS:
                journey_level.setdefault(number, metric.key)
        for m, metric in enumerate(journey.metrics):
            number = (metric.formula.value, metric.direction.value, metric.target)
            if metric.stage is not None and metric.touchpoint is None and number in journey_level:
                warnings.append(
                    (
                        ("journeys", j, "metrics", m),
                        f"metric '{metric.key}' repeats '{journey_level[number]}' on stage '{metric.stage}': same "
                        "formula, answers and target, so the same number; the journey page shows "
                        f"'{metric.key}' only",
                    )
                )
    return warnings


def parse_located(text: str, source: str) -> tuple[MapFile, Locator]:
    document, locator = load_yaml(text, source)
    try:
        map_file = MapFile.model_validate(document)
    except ValidationError as exc:
        problems = [
            MapProblem(format_path(error["loc"]), _schema_message(error), locator.line(error["loc"]))
            for error in exc.errors(include_url=False)
        ]
        raise MapFileError(source, problems) from None
    return map_file, locator


def raise_problems(source: str, locator: Locator, problems: list[tuple[tuple[str | int, ...], str]]) -> None:
    if problems:
        raise MapFileError(
            source, [MapProblem(format_path(loc), message, locator.line(loc)) for loc, message in problems]
        )


def parse_map(text: str, *, source: str = "<map>") -> MapFile:
    """A map file's text as a checked `MapFile`; references must resolve inside the file itself."""
    map_file, locator = parse_located(text, source)
    raise_problems(source, locator, check_map(map_file))
    return map_file

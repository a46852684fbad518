"""The map file's schema: pydantic models of the document, with the ranges and lane rules they enforce."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from data_access.metrics import Formula
from data_access.models import DEFAULT_CONVERSION_WINDOW_DAYS, ChannelKind, Direction, JourneyKind, Lane, StepKind

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
    """A step; `kind: alternative` steps name their `group`, whose steps split the stage's entrants."""

    slug: Slug
    name: Name
    touchpoint: Slug | None = None
    kind: StepKind = StepKind.REQUIRED
    group: Slug | None = None
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
    # days within which reaching the next stage or step counts as converting
    conversion_window_days: int = Field(default=DEFAULT_CONVERSION_WINDOW_DAYS, ge=1, le=366)
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
    warnings: list[str] = field(default_factory=list)  # "file:line: path: message", imported all the same

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
        ) + "".join(f"\nwarning: {warning}" for warning in self.warnings)

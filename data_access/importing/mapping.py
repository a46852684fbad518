"""Mapping files: how the columns of a customer's CSV or Parquet export become Journey Atlas facts.

A mapping is a small YAML document, validated here with pydantic, that says which source column is
which fact field, how source values translate to the map's slugs, which fields take a fixed value,
which values mean "not applicable", how timestamps are written, and how wide exports (one timestamp
column per stage, one rating column per touchpoint) turn into one fact per cell. docs/import-format.md
describes the format for people; this module is its single definition for code.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from data_access.models import Measure
from data_access.yaml_safety import safe_load


class FactKind(StrEnum):
    EVENTS = "events"
    FEEDBACK = "feedback"


EVENT_FIELDS = (
    "customer",
    "timestamp",
    "journey",
    "stage",
    "channel",
    "step",
    "persona",
    "event_type",
    "value",
    "source_id",
)
FEEDBACK_FIELDS = (
    "source_id",
    "customer",
    "timestamp",
    "journey",
    "stage",
    "touchpoint",
    "channel",
    "step",
    "persona",
    "measure",
    "score",
    "comment",
)
FIELDS: dict[FactKind, tuple[str, ...]] = {FactKind.EVENTS: EVENT_FIELDS, FactKind.FEEDBACK: FEEDBACK_FIELDS}


class MappingError(ValueError):
    """A mapping file that cannot be used; `messages` holds one line per mistake."""

    def __init__(self, messages: list[str], *, source: str = "mapping") -> None:
        self.messages = messages
        self.source = source
        super().__init__(f"{source}: " + "; ".join(messages))


def _text(value: Any) -> str:
    """YAML turns `0`, `yes` and dates into numbers, booleans and dates; source values are compared as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _text_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {_text(k): _text(v) if not isinstance(v, dict | list) else v for k, v in value.items()}
    return value


def _text_list(value: Any) -> Any:
    if isinstance(value, list):
        return [_text(v) for v in value]
    return [_text(value)] if value is not None else value


ValueMap = Annotated[dict[str, str], BeforeValidator(_text_keys)]
TextList = Annotated[list[str], BeforeValidator(_text_list)]


class Question(BaseModel):
    """One column of a wide survey export: every non-empty cell is an answer about this touchpoint or stage."""

    model_config = ConfigDict(extra="forbid")

    column: str
    touchpoint: str | None = None
    stage: str | None = None
    channel: str | None = None
    measure: Measure | None = None

    @model_validator(mode="after")
    def _says_where(self) -> Question:
        if self.touchpoint is None and self.stage is None:
            raise ValueError(f"question {self.column!r} needs a touchpoint or a stage")
        return self


class StageColumn(BaseModel):
    """One timestamp column of a wide events export: the stage entered then, and its own channel and step."""

    model_config = ConfigDict(extra="forbid")

    stage: str
    channel: str | None = None
    step: str | None = None


def _stage_column(value: Any) -> Any:
    return {"stage": value} if isinstance(value, str) else value


def _sql_error(expression: str) -> str | None:
    """Why a SQL expression does not parse (polars SQL), or None when it does."""
    try:
        pl.sql_expr(expression)
    except (pl.exceptions.PolarsError, ValueError) as error:
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return None


class PersonaRule(BaseModel):
    """Rows whose segment columns hold one of the listed values belong to `persona`; no `when` matches all."""

    model_config = ConfigDict(extra="forbid")

    when: dict[str, TextList] = Field(default_factory=dict)
    persona: str


class Mapping(BaseModel):
    """How one export file becomes events or feedback."""

    model_config = ConfigDict(extra="forbid")

    kind: FactKind
    format: Literal["csv", "parquet"] | None = Field(default=None, description="from the file's suffix when absent")
    encoding: str = "utf-8"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    timestamp_format: str | None = Field(default=None, description="strftime pattern; ISO 8601 when absent")
    columns: dict[str, str] = Field(default_factory=dict, description="field -> source column")
    fixed: Annotated[dict[str, str], BeforeValidator(_text_keys)] = Field(default_factory=dict)
    values: dict[str, ValueMap] = Field(default_factory=dict, description="field -> {source value: slug}")
    not_applicable: dict[str, TextList] = Field(default_factory=dict, description="field -> values to drop")
    stage_columns: dict[str, Annotated[StageColumn, BeforeValidator(_stage_column)]] = Field(
        default_factory=dict, description="events: timestamp column -> stage (or {stage, channel, step})"
    )
    questions: list[Question] = Field(default_factory=list, description="feedback: one answer column each")
    personas: list[PersonaRule] = Field(default_factory=list, description="segment columns -> persona")
    tables: dict[str, str] = Field(default_factory=dict, description="query: table name -> file beside the import")
    query: str | None = Field(default=None, description="polars SQL over `source` and `tables`: the rows to map")
    derived: dict[str, str] = Field(default_factory=dict, description="new column -> SQL expression")
    on_duplicate: Literal["error", "skip"] = "error"

    _origin: str = PrivateAttr(default="mapping")

    @property
    def origin(self) -> str:
        """The mapping file this came from (what problems with its query or derived columns name)."""
        return self._origin

    @model_validator(mode="after")
    def _complete(self) -> Mapping:
        fields = FIELDS[self.kind]
        problems: list[str] = []
        for section in ("columns", "fixed", "values", "not_applicable"):
            for name in getattr(self, section):
                if name not in fields:
                    problems.append(f"{section}: {name!r} is not a {self.kind} field (fields: {', '.join(fields)})")
        for name in set(self.columns) & set(self.fixed):
            problems.append(f"{name!r} is both a column and a fixed value: keep one")
        if self.kind == FactKind.EVENTS and self.questions:
            problems.append("questions are for feedback; events use stage_columns")
        if self.kind == FactKind.FEEDBACK and self.stage_columns:
            problems.append("stage_columns are for events; feedback uses questions")
        if self.stage_columns:
            problems += [f"{name!r} comes from stage_columns; do not map it too" for name in ("stage", "timestamp")
                         if name in self.columns or name in self.fixed]  # fmt: skip
        if self.questions:
            problems += [f"{name!r} comes from questions; do not map it too" for name in ("score",)
                         if name in self.columns or name in self.fixed]  # fmt: skip
        if self.tables and self.query is None:
            problems.append("tables are read by a query: add `query:` (the imported file is the table `source`)")
        if "source" in self.tables:
            problems.append("tables: 'source' is the imported file itself; give this table another name")
        if self.query is not None and (error := _sql_error_query(self.query)) is not None:
            problems.append(f"query: {error}")
        for name, expression in self.derived.items():
            if (error := _sql_error(expression)) is not None:
                problems.append(f"derived: {name!r} ({expression}): {error}")
        if self.personas and ("persona" in self.columns or "persona" in self.fixed):
            problems.append("persona comes from the persona rules; do not map it too")
        if "timestamp" in self.fixed:
            try:
                parse_fixed_timestamp(self.fixed["timestamp"])
            except ValueError:
                problems.append(f"fixed timestamp {self.fixed['timestamp']!r} is not an ISO 8601 date or time")
        if "measure" in self.fixed and self.fixed["measure"] not in {m.value for m in Measure}:
            problems.append(f"fixed measure {self.fixed['measure']!r} is not one of {', '.join(Measure)}")
        for name in self.required_fields():
            if not self.provides(name):
                problems.append(f"{name!r} is required: map it to a column or give it a fixed value")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def required_fields(self) -> tuple[str, ...]:
        if self.kind == FactKind.EVENTS:
            return ("customer", "timestamp", "journey", "stage", "channel")
        return ("timestamp", "journey", "stage", "measure", "score")

    def provides(self, name: str) -> bool:
        """Whether the mapping gives the field a value (a column, a fixed value, or a reshape)."""
        if name in self.columns or name in self.fixed:
            return True
        if name in ("stage", "timestamp") and self.stage_columns:
            return True
        if name in ("channel", "step") and self.stage_columns:
            return all(getattr(column, name) is not None for column in self.stage_columns.values())
        if name == "persona" and self.personas:
            return True
        if self.questions:
            if name == "score":
                return True
            if name == "stage":
                return True  # each question names its stage or a touchpoint, which belongs to one stage
            if name == "measure":
                return all(q.measure is not None for q in self.questions)
        # a touchpoint column also gives the stage: the touchpoint's own
        return name == "stage" and "touchpoint" in self.columns

    def mapped_columns(self) -> list[str]:
        """Every column the mapping reads, derived ones included, in a stable order."""
        named = [*self.columns.values(), *self.stage_columns, *(q.column for q in self.questions)]
        named += [column for rule in self.personas for column in rule.when]
        return list(dict.fromkeys(named))

    def source_columns(self) -> list[str]:
        """Every column the mapping reads from the file (or the query) itself, in a stable order."""
        named = [column for column in self.mapped_columns() if column not in self.derived]
        return list(dict.fromkeys([*named, *(c for c in self.derived_inputs() if c not in self.derived)]))

    def derived_inputs(self) -> list[str]:
        """The columns that derived columns read (so they are kept through a reshape)."""
        return [name for expression in self.derived.values() for name in pl.sql_expr(expression).meta.root_names()]

    def file_format(self, path: Path) -> Literal["csv", "parquet"]:
        if self.format is not None:
            return self.format
        return "parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv"


def parse_fixed_timestamp(value: str) -> dt.datetime:
    """A fixed timestamp from a mapping: an ISO 8601 date or date-time (YAML may already have parsed it)."""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)


def _sql_error_query(query: str) -> str | None:
    """Why a query does not parse as polars SQL (table and column names are checked when it runs)."""
    try:
        pl.SQLContext().execute(query, eager=False)
    except (pl.exceptions.PolarsError, ValueError) as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        # unknown tables and columns are checked when the files are open; only the syntax is checked here
        return message if "parser error" in message or isinstance(error, pl.exceptions.SQLSyntaxError) else None
    return None


def _validation_messages(error: ValidationError) -> list[str]:
    messages = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        text = str(item["msg"]).removeprefix("Value error, ")
        messages.append(f"{where}: {text}" if where else text)
    return messages


def parse_mapping(text: str, *, source: str = "mapping") -> Mapping:
    """A validated mapping from YAML text; `MappingError` lists every mistake at once."""
    try:
        document = safe_load(text)
    except yaml.YAMLError as error:
        raise MappingError([f"not valid YAML: {error}"], source=source) from None
    if not isinstance(document, dict):
        raise MappingError(["expected a YAML mapping with at least `kind:`"], source=source)
    try:
        mapping = Mapping.model_validate(document)
    except ValidationError as error:
        raise MappingError(_validation_messages(error), source=source) from None
    mapping._origin = source
    return mapping


def load_mapping(path: str | Path) -> Mapping:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MappingError([f"cannot read: {error}"], source=str(path)) from None
    return parse_mapping(text, source=str(path))

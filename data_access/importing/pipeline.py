"""The mapping as one lazy polars chain: reshape a batch, map values, look up slugs, parse, and flag every check."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from data_access.importing.lookups import Lookups
from data_access.importing.mapping import FIELDS, FactKind, Mapping, parse_fixed_timestamp
from data_access.importing.sources import ROW
from data_access.metrics import SCALES
from data_access.models import Measure

WIDE_COLUMN = "__wide_column"
WIDE_VALUE = "__wide_value"
NOT_APPLICABLE = "__not_applicable"
DEFAULT_EVENT_TYPE = "visit"
# tried in turn on the text with its date-time separator made a space (see _parse_timestamp)
ISO_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%d")
ISO_ZONED_FORMATS = ("%Y-%m-%d %H:%M:%S%.f%#z",)
# Longest text each column takes (models.py); longer values are problems, not database errors mid-import.
TEXT_LIMITS = {"customer": 120, "event_type": 80}


def raw_column(name: str) -> str:
    """The column holding a field's text after value maps: what look-ups and checks read."""
    return f"__raw_{name}"


def _src(name: str) -> str:
    return f"__src_{name}"


def label_column(name: str) -> str:
    """The column naming where a field came from (a source column, a fixed value, a rule): what problems name."""
    return f"__label_{name}"


def _parse_timestamp(text: pl.Expr, timestamp_format: str | None) -> pl.Expr:
    """Text to a naive UTC datetime: the mapping's strftime format, or any common ISO 8601 form."""
    if timestamp_format is not None:
        if "%z" in timestamp_format or "%#z" in timestamp_format or "%:z" in timestamp_format:
            parsed = text.str.to_datetime(timestamp_format, strict=False, time_zone="UTC", time_unit="us")
            return parsed.dt.replace_time_zone(None)
        return text.str.to_datetime(timestamp_format, strict=False, time_unit="us")
    # ISO 8601 allows "T" or a space between date and time: one separator halves the forms to try
    spaced = text.str.replace("T", " ", literal=True, n=1)
    naive: list[pl.Expr] = [spaced.str.to_datetime(f, strict=False, time_unit="us") for f in ISO_FORMATS]
    zoned: list[pl.Expr] = [
        spaced.str.to_datetime(f, strict=False, time_zone="UTC", time_unit="us").dt.replace_time_zone(None)
        for f in ISO_ZONED_FORMATS
    ]
    return pl.coalesce(*naive, *zoned)


def _in_scale() -> pl.Expr:
    """Whether each answer's score lies on its measure's scale (metrics.SCALES)."""
    expr = pl.lit(False)
    for measure, scale in SCALES.items():
        expr = (
            pl.when(pl.col("measure") == measure.value)
            .then(pl.col("score").is_between(scale.low, scale.high))
            .otherwise(expr)
        )
    return expr


def _shown(name: str) -> pl.Expr:
    """The value to quote in a problem: the source value, and what the value map made of it when that differs."""
    source, mapped = pl.col(_src(name)), pl.col(raw_column(name))
    return (
        pl.when(source.is_null())
        .then(pl.lit("(empty)"))
        .when(source != mapped)
        .then(pl.format("{} → {}", source, mapped))
        .otherwise(source)
    )


@dataclass(frozen=True)
class Check:
    check: str
    message: str
    column: str  # the field whose label column names the source column
    condition: pl.Expr
    shown: pl.Expr


class Pipeline:
    """Builds the lazy chain from a scanned source to mapped, looked-up, checked rows."""

    def __init__(self, mapping: Mapping, lookups: Lookups, schema: pl.Schema) -> None:
        self.mapping = mapping
        self.lookups = lookups
        self.schema = schema
        self.kind = mapping.kind

    # reshape ------------------------------------------------------------------------------------

    def _wide_columns(self) -> list[str]:
        if self.mapping.stage_columns:
            return list(self.mapping.stage_columns)
        return [question.column for question in self.mapping.questions]

    def derive(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """The mapping's derived columns, each a SQL expression over the file's columns (in order: a later
        one may read an earlier one)."""
        for name, expression in self.mapping.derived.items():
            frame = frame.with_columns(pl.sql_expr(expression).alias(name))
        return frame

    def reshape(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """One row per cell of the wide columns (blank cells are a stage not reached, a question not answered)."""
        wide = self._wide_columns()
        if not wide:
            return frame
        index = [ROW, *(c for c in self.mapping.mapped_columns() if c not in wide)]
        return (
            frame.with_columns(pl.col(wide).cast(pl.String))
            .unpivot(on=wide, index=index, variable_name=WIDE_COLUMN, value_name=WIDE_VALUE)
            .filter(pl.col(WIDE_VALUE).is_not_null() & (pl.col(WIDE_VALUE).str.strip_chars() != ""))
        )

    # raw field text -----------------------------------------------------------------------------

    def _question_attribute(self, attribute: str) -> pl.Expr | None:
        values = {q.column: getattr(q, attribute) for q in self.mapping.questions if getattr(q, attribute) is not None}
        if not values:
            return None
        return pl.col(WIDE_COLUMN).replace_strict(
            {column: str(value) for column, value in values.items()}, default=None, return_dtype=pl.String
        )

    def _column_text(self, column: str) -> pl.Expr:
        dtype = self.schema.get(column)
        if dtype is not None and dtype.is_temporal():
            return pl.col(column).cast(pl.Datetime("us")).dt.strftime("%Y-%m-%dT%H:%M:%S%.f")
        return pl.col(column).cast(pl.String).str.strip_chars()

    def source_text(self, name: str) -> tuple[pl.Expr, pl.Expr]:
        """The field's text before value maps, and the label of the column it came from."""
        mapping = self.mapping
        generic: pl.Expr = pl.lit(None, dtype=pl.String)
        label: pl.Expr = pl.lit(name)
        if name in mapping.fixed:
            generic, label = pl.lit(mapping.fixed[name]), pl.lit(f"{name} (fixed)")
        elif name in mapping.columns:
            generic, label = self._column_text(mapping.columns[name]), pl.lit(mapping.columns[name])
        if mapping.stage_columns and name == "stage":
            stages = {column: entry.stage for column, entry in mapping.stage_columns.items()}
            return pl.col(WIDE_COLUMN).replace_strict(stages, return_dtype=pl.String), pl.col(WIDE_COLUMN)
        if mapping.stage_columns and name in ("channel", "step"):
            named = {c: getattr(e, name) for c, e in mapping.stage_columns.items() if getattr(e, name) is not None}
            if named:
                from_column = pl.col(WIDE_COLUMN).replace_strict(named, default=None, return_dtype=pl.String)
                return (
                    pl.coalesce(from_column, generic),
                    pl.when(from_column.is_not_null()).then(pl.col(WIDE_COLUMN)).otherwise(label),
                )
        if mapping.stage_columns and name == "timestamp":
            return pl.col(WIDE_VALUE).str.strip_chars(), pl.col(WIDE_COLUMN)
        if mapping.questions and name == "score":
            return pl.col(WIDE_VALUE).str.strip_chars(), pl.col(WIDE_COLUMN)
        if mapping.questions and name in ("touchpoint", "stage", "channel", "measure"):
            from_question = self._question_attribute(name)
            if from_question is not None:
                return (
                    pl.coalesce(from_question, generic),
                    pl.when(from_question.is_not_null()).then(pl.col(WIDE_COLUMN)).otherwise(label),
                )
        return generic, label

    def _persona_rules(self, fallback: pl.Expr) -> pl.Expr:
        expr = fallback
        for rule in reversed(self.mapping.personas):
            matches = pl.all_horizontal(
                pl.lit(True), *(self._column_text(column).is_in(values) for column, values in rule.when.items())
            )
            expr = pl.when(matches).then(pl.lit(rule.persona)).otherwise(expr)
        return expr

    def _not_applicable(self, name: str, text: pl.Expr) -> pl.Expr:
        values = self.mapping.not_applicable.get(name, [])
        if not values:
            return pl.lit(False)
        numbers = []
        for value in values:
            try:
                numbers.append(float(value))
            except ValueError:
                continue
        expr = text.is_in(values).fill_null(False)
        if numbers and name in ("score", "value"):
            expr = expr | text.cast(pl.Float64, strict=False).is_in(numbers).fill_null(False)
        return expr

    def fields(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        names = [n for n in ("customer", "timestamp", "journey", "stage", "channel", "step", "persona",
                             "touchpoint", "event_type", "value", "measure", "score", "comment", "source_id")
                 if n in FIELDS[self.kind]]  # fmt: skip
        texts = {name: self.source_text(name) for name in names}
        if self.mapping.personas:
            texts["persona"] = (self._persona_rules(texts["persona"][0]), pl.lit("persona (rules)"))
        not_applicable = pl.any_horizontal(pl.lit(False), *(self._not_applicable(n, t) for n, (t, _) in texts.items()))
        frame = frame.with_columns(
            *(text.alias(_src(name)) for name, (text, _) in texts.items()),
            *(label.alias(label_column(name)) for name, (_, label) in texts.items()),
            not_applicable.alias(NOT_APPLICABLE),
        )
        return frame.with_columns(self._value_map(name).alias(raw_column(name)) for name in names)

    def _value_map(self, name: str) -> pl.Expr:
        """The field's text through its value map; a `""` entry also maps empty cells."""
        values = self.mapping.values.get(name, {})
        mapped = pl.col(_src(name)).replace(values)
        if "" in values:
            mapped = pl.when(pl.col(_src(name)).is_null()).then(pl.lit(values[""])).otherwise(mapped)
        return mapped

    # look-ups and parsing -----------------------------------------------------------------------

    def resolve(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        lookups = self.lookups
        key = {
            name: pl.col(raw_column(name)).str.to_lowercase()
            for name in ("journey", "stage", "channel", "step", "persona")
        }
        frame = (
            frame.with_columns(
                key["journey"].alias("journey_key"),
                key["stage"].alias("stage_key"),
                key["channel"].alias("channel_key"),
                key["persona"].alias("persona_key"),
                key["step"].alias("step_key"),
            )
            .join(lookups.journeys, on="journey_key", how="left", maintain_order="left")
            .join(lookups.stages, on=["journey_id", "stage_key"], how="left", maintain_order="left")
            .join(lookups.channels, on="channel_key", how="left", maintain_order="left")
            .join(lookups.personas, on="persona_key", how="left", maintain_order="left")
        )
        if self.kind == FactKind.FEEDBACK:
            frame = (
                frame.with_columns(pl.col(raw_column("touchpoint")).str.to_lowercase().alias("touchpoint_key"))
                .join(
                    lookups.touchpoints_in_journey,
                    on=["journey_id", "touchpoint_key"],
                    how="left",
                    maintain_order="left",
                )
                .with_columns(
                    pl.when(pl.col(raw_column("stage")).is_null())
                    .then(pl.col("touchpoint_stage_id"))
                    .otherwise(pl.col("stage_id"))
                    .alias("stage_id")
                )
                .join(lookups.touchpoints, on=["stage_id", "touchpoint_key"], how="left", maintain_order="left")
                .with_columns(pl.coalesce("channel_id", "touchpoint_channel_id").alias("channel_id"))
            )
        frame = frame.join(lookups.steps, on=["stage_id", "step_key"], how="left", maintain_order="left")
        return frame.with_columns(*self._typed())

    def _typed(self) -> list[pl.Expr]:
        mapping = self.mapping
        if "timestamp" in mapping.fixed:
            occurred_at = pl.lit(parse_fixed_timestamp(mapping.fixed["timestamp"]), dtype=pl.Datetime("us"))
        elif (column := self._native_column("timestamp", (pl.Datetime, pl.Date))) is not None:
            occurred_at = pl.col(column)
            dtype = self.schema[column]
            if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
                occurred_at = occurred_at.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            occurred_at = occurred_at.cast(pl.Datetime("us"))
        else:
            occurred_at = _parse_timestamp(pl.col(raw_column("timestamp")), mapping.timestamp_format)
        typed = [
            occurred_at.alias("occurred_at"),
            pl.col(raw_column("customer")).alias("customer_id"),
            pl.col(raw_column("source_id")).alias("source_id"),
        ]
        if self.kind == FactKind.EVENTS:
            typed += [
                pl.col(raw_column("event_type")).fill_null(DEFAULT_EVENT_TYPE).alias("event_type"),
                self._number("value").alias("value"),
            ]
        else:
            typed += [
                pl.col(raw_column("measure")).str.to_lowercase().alias("measure"),
                self._number("score").alias("score"),
                pl.col(raw_column("comment")).alias("comment"),
            ]
        return typed

    def _number(self, name: str) -> pl.Expr:
        column = self._native_column(name, (pl.Float64, pl.Float32, pl.Int64, pl.Int32, pl.Int16, pl.Int8))
        if column is not None:
            return pl.col(column).cast(pl.Float64)
        return pl.col(raw_column(name)).cast(pl.Float64, strict=False)

    def _native_column(self, name: str, dtypes: tuple[type[pl.DataType], ...]) -> str | None:
        """The source column of a field that is already typed (Parquet), taken as is: parsing its text is slow.

        Only a plain one-to-one column qualifies: no value map, no fixed value, no reshaping.
        """
        mapping = self.mapping
        column = mapping.columns.get(name)
        if column is None or name in mapping.values or mapping.stage_columns or mapping.questions:
            return None
        dtype = self.schema.get(column)
        return column if dtype is not None and isinstance(dtype, dtypes) else None

    # checks -------------------------------------------------------------------------------------

    def checks(self) -> list[Check]:
        def raw(name: str) -> pl.Expr:
            return pl.col(raw_column(name))

        def missing(name: str, what: str) -> Check:
            return Check("missing value", f"no {what}", name, raw(name).is_null(), _shown(name))

        def unknown(name: str, id_column: str, message: str) -> Check:
            # a stage is only unknown within a known journey, a step or touchpoint within a known stage
            within = {"journey": None, "channel": None, "persona": None, "step": "stage_id"}.get(name, "journey_id")
            condition = raw(name).is_not_null() & pl.col(id_column).is_null()
            if within is not None:
                condition = condition & pl.col(within).is_not_null()
            return Check(f"unknown {name}", message, name, condition, _shown(name))

        def unparsable(check: str, name: str, typed: str, message: str) -> Check:
            return Check(check, message, name, raw(name).is_not_null() & pl.col(typed).is_null(), _shown(name))

        def too_long(name: str, what: str) -> Check:
            limit = TEXT_LIMITS[name]
            condition = raw(name).str.len_chars() > limit
            return Check(
                "value too long", f"{what} are at most {limit} characters", name, condition, raw(name).str.slice(0, 40)
            )

        lookups = self.lookups
        checks = [
            missing("timestamp", "timestamp"),
            missing("journey", "journey"),
            unknown("journey", "journey_id", "not a journey slug of the map (after value maps)"),
            unknown(
                "stage",
                "stage_id",
                "not a stage slug of the journey (after value maps); known stages: "
                + ", ".join(lookups.stage_slugs[:20]),
            ),
            unknown(
                "channel",
                "channel_id",
                "not a channel slug of the map (after value maps); known channels: "
                + ", ".join(lookups.channel_slugs[:20]),
            ),
            unknown("persona", "persona_id", "not a persona slug of the map (after value maps)"),
            unknown("step", "step_id", "not a step slug of the row's stage (after value maps)"),
            unparsable(
                "unparsable timestamp",
                "timestamp",
                "occurred_at",
                f"not a date or time in {self.mapping.timestamp_format or 'ISO 8601 (YYYY-MM-DD[ HH:MM[:SS]])'}",
            ),
            too_long("customer", "customer ids"),
        ]
        if self.kind == FactKind.EVENTS:
            checks += [
                missing("customer", "customer id"),
                missing("stage", "stage"),
                missing("channel", "channel"),
                unparsable("not a number", "value", "value", "event values must be numbers"),
                too_long("event_type", "event types"),
            ]
        else:
            measures = [m.value for m in Measure]
            checks += [
                Check(
                    "missing value",
                    "no stage and no touchpoint to take it from",
                    "stage",
                    raw("stage").is_null() & raw("touchpoint").is_null(),
                    _shown("stage"),
                ),
                unknown("touchpoint", "touchpoint_id", "not a touchpoint slug of the row's stage (after value maps)"),
                missing("measure", "measure"),
                Check(
                    "unknown measure",
                    f"measures are {', '.join(measures)}",
                    "measure",
                    raw("measure").is_not_null() & ~pl.col("measure").is_in(measures),
                    _shown("measure"),
                ),
                missing("score", "score"),
                unparsable(
                    "not a number",
                    "score",
                    "score",
                    "scores must be numbers (map labels to numbers under values: score:)",
                ),
                Check(
                    "score out of scale",
                    "outside its measure's scale ("
                    + "; ".join(f"{m.value} {s.low:g}..{s.high:g}" for m, s in SCALES.items())
                    + "); map 'not applicable' codes under not_applicable: score:",
                    "score",
                    pl.col("score").is_not_null() & pl.col("measure").is_in(measures) & ~_in_scale(),
                    pl.format("{} ({})", _shown("score"), pl.col("measure")),
                ),
            ]
        return checks

    def build(self, frame: pl.LazyFrame) -> tuple[pl.LazyFrame, list[Check]]:
        checks = self.checks()
        applicable = ~pl.col(NOT_APPLICABLE)
        mapped = self.resolve(self.fields(self.reshape(self.derive(frame))))
        flagged = mapped.with_columns(
            (applicable & check.condition.fill_null(False)).alias(f"__check_{i}") for i, check in enumerate(checks)
        )
        return flagged, checks

"""What an import reports: the problems found in a file, its progress, and the report or preview at the end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from data_access.importing.mapping import FactKind

# how many rows and values a problem quotes as examples
EXAMPLES = 5

ProgressCallback = Callable[["Progress"], object]


@dataclass(frozen=True)
class Problem:
    """One kind of mistake in one column of a file, with how often it occurs and where first."""

    check: str
    message: str
    file: str
    column: str | None = None
    count: int = 0
    rows: tuple[int, ...] = ()
    examples: tuple[str, ...] = ()

    def describe(self) -> str:
        where = f"{self.file}"
        if self.column is not None:
            where += f", column {self.column!r}"
        text = f"{where}: {self.check}: {self.message}"
        if self.count:
            text += f" ({self.count} row{'s' if self.count != 1 else ''}"
            if self.rows:
                text += "; rows " + ", ".join(str(r) for r in self.rows)
            text += ")"
        if self.examples:
            text += "; e.g. " + ", ".join(repr(e) for e in self.examples)
        return text


class ImportValidationError(Exception):
    """The file did not pass the checks; nothing was written. `problems` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(problem.describe() for problem in problems))


@dataclass(frozen=True)
class Progress:
    """How far an import is: source rows done out of the total (None when the total is unknown)."""

    rows_done: int
    rows_total: int | None

    @property
    def fraction(self) -> float | None:
        if not self.rows_total:
            return None
        return min(1.0, self.rows_done / self.rows_total)


@dataclass(frozen=True)
class ImportReport:
    file: str
    kind: FactKind
    rows_read: int  # data rows in the file
    facts: int  # facts the rows became (more than rows for wide files)
    not_applicable: int  # facts dropped because a value meant "not applicable"
    inserted: int
    already_present: int  # facts with a source_key already in the database: skipped
    journeys: tuple[str, ...]
    seconds: float
    duplicates_skipped: int = 0  # repeated facts left out (`on_duplicate: skip`)

    def describe(self) -> str:
        skipped = f", {self.duplicates_skipped} repeated rows skipped" if self.duplicates_skipped else ""
        return (
            f"{self.file}: {self.rows_read} rows → {self.facts} {self.kind} "
            f"({self.not_applicable} not applicable dropped{skipped}); {self.inserted} inserted, "
            f"{self.already_present} already present; rollups updated for {', '.join(self.journeys) or 'none'} "
            f"in {self.seconds:.1f} s"
        )


@dataclass(frozen=True)
class ImportPreview:
    """The first rows exactly as they would be stored (ids and the slugs they stand for), and every problem."""

    rows: pl.DataFrame
    problems: list[Problem]
    rows_read: int
    facts: int
    not_applicable: int
    new: int
    already_present: int
    duplicates_skipped: int = 0


def first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__

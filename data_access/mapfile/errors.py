"""Problems with a map file, each naming where it is: the path inside the document and the line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


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

"""The dashboard's server (`journey-atlas serve`'s own process) with every page's script run logged to a file.

    python -m benchmarks.script_run_log RUNS.log APP [streamlit options]

`dashboard.routes` logs each run's wall-clock and CPU seconds on the `dashboard.script_runs` logger at DEBUG,
which is off by default; this turns it on, into `RUNS.log` only, then starts the server as `serve` does.
"""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from dashboard import server

LINE = re.compile(r"script run: page=(?P<page>\S*) wall=(?P<wall>[\d.]+) cpu=(?P<cpu>[\d.]+)")


@dataclass(frozen=True)
class ScriptRun:
    """One page's script run in the server: its URL path, wall-clock and CPU seconds."""

    page: str
    wall: float
    cpu: float


def read_runs(log: Path, *, start: int = 0, end: int | None = None) -> list[ScriptRun]:
    """The script runs logged in `log` between two byte offsets (the file's size at two moments)."""
    with log.open("rb") as file:
        file.seek(start)
        text = file.read(None if end is None else end - start).decode("utf-8", errors="replace")
    return [ScriptRun(found["page"], float(found["wall"]), float(found["cpu"])) for found in LINE.finditer(text)]


def main(argv: list[str]) -> None:
    handler = logging.FileHandler(argv[0], encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(created).3f %(threadName)s %(message)s"))
    runs = logging.getLogger("dashboard.script_runs")
    runs.setLevel(logging.DEBUG)
    runs.addHandler(handler)
    runs.propagate = False  # into the file only, not beside the server's own lines
    server.main(argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])

"""A mapping's SQL: its query over the imported file and the other files it names, and its derived columns.

The query runs in polars SQL (`pl.SQLContext`) over lazy scans of the files, and its result streams into
a Parquet file in the import's scratch folder, which the import then reads in bounded batches like any
file; so a join of large exports never holds them whole in memory. Every error names the mapping file,
the query (or the derived column) and, when polars says which, the column: one line, no traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from data_access.importing.mapping import Mapping
from data_access.importing.problems import EXAMPLES, Problem, first_line
from data_access.importing.sources import _check_text, not_valid_text

SOURCE_TABLE = "source"
_COLUMN = re.compile(r"""(?:column|field)\s+["'`]?([^"'`\s;,]+)["'`]?""", re.IGNORECASE)


@dataclass(frozen=True)
class QueryResult:
    """The query's rows as a Parquet file (None when it failed), and the problems found on the way."""

    path: Path | None
    problems: list[Problem]


def _named_column(message: str) -> str | None:
    match = _COLUMN.search(message)
    return match.group(1) if match else None


def _scan(path: Path, mapping: Mapping, workdir: Path) -> tuple[pl.LazyFrame | None, list[Problem]]:
    """A lazy scan of one file of the query: CSV as text (as every import reads it), Parquet as typed."""
    if not path.is_file():
        message = f"the file does not exist (a table of the query in {mapping.origin})"
        return None, [Problem("unreadable file", message, str(path))]
    if path.suffix.lower() in (".parquet", ".pq"):
        return pl.scan_parquet(path), []
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        readable, _lines, bad_rows, encoding = _check_text(path, mapping.encoding, workdir)
    except (LookupError, OSError) as error:
        return None, [Problem("unreadable file", str(error), str(path))]
    if bad_rows:
        message = not_valid_text(encoding, mapping)
        return None, [Problem("encoding", message, str(path), count=len(bad_rows), rows=tuple(bad_rows[:EXAMPLES]))]
    return pl.scan_csv(readable, infer_schema=False, separator=mapping.delimiter), []


def run_query(path: Path, mapping: Mapping, workdir: Path) -> QueryResult:
    """The mapping's query over the imported file (table `source`) and its `tables`, written to Parquet."""
    assert mapping.query is not None
    files = {SOURCE_TABLE: path, **{name: path.parent / file for name, file in mapping.tables.items()}}
    frames: dict[str, pl.LazyFrame] = {}
    problems: list[Problem] = []
    for name, file in files.items():
        frame, found = _scan(file, mapping, workdir / f"table-{name}")
        problems += found
        if frame is not None:
            frames[name] = frame
    if problems:
        return QueryResult(None, problems)
    target = workdir / "query.parquet"
    try:
        pl.SQLContext(frames).execute(mapping.query, eager=False).sink_parquet(target)
    except (pl.exceptions.PolarsError, OSError) as error:
        message = first_line(error)
        where = f"{mapping.origin}, query"
        return QueryResult(None, [Problem("query", message, where, column=_named_column(message))])
    return QueryResult(target, [])


def derived_schema(mapping: Mapping, schema: pl.Schema) -> tuple[pl.Schema, list[Problem]]:
    """The file's columns and the derived ones with their types, or the problem with each that fails."""
    frame = pl.DataFrame(schema=schema).lazy()
    problems: list[Problem] = []
    for name, expression in mapping.derived.items():
        attempt = frame.with_columns(pl.sql_expr(expression).alias(name))
        try:
            attempt.collect_schema()
        except (pl.exceptions.PolarsError, ValueError) as error:
            message = f"{expression}: {first_line(error)}"
            problems.append(Problem("derived column", message, f"{mapping.origin}, derived", column=name))
            continue
        frame = attempt
    return pl.Schema(frame.collect_schema()), problems

"""One run of an import over one file: read, map and check it, stage it, and move it into the facts when clean."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, nullcontext, suppress
from pathlib import Path

import polars as pl
import pyarrow as pa
from sqlalchemy import Connection, Table, delete, distinct, exists, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.expression import Exists

from data_access.bulk import bulk_load, larger_sqlite_cache
from data_access.importing.keys import FACT_TABLES, STORED_COLUMNS, source_keys
from data_access.importing.lookups import Lookups
from data_access.importing.mapping import FIELDS, FactKind, Mapping
from data_access.importing.pipeline import NOT_APPLICABLE, Check, Pipeline, label_column, raw_column
from data_access.importing.problems import (
    EXAMPLES,
    ImportValidationError,
    Problem,
    Progress,
    ProgressCallback,
    first_line,
)
from data_access.importing.query import derived_schema, run_query
from data_access.importing.sources import ROW, Source, open_source
from data_access.importing.staging import Staging, open_staging
from data_access.importing.tallies import EventTally
from data_access.importing.workdir import work_folder
from data_access.models import Journey
from data_access.rollups import add_to_rollups

POSTGRES_WORK_MEM = "256MB"
UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE for a repeated unique key
# an import at least this share of the facts already stored rebuilds the fact indexes once instead of row by row
BULK_SHARE = 0.25


class ImportRun:
    """Reads, maps and checks one file; stages it; moves it into the facts when it is clean."""

    def __init__(
        self,
        path: Path,
        mapping: Mapping,
        *,
        progress: ProgressCallback | None,
        batch_rows: int,
        preview_rows: int = 0,
        direct: bool = True,
    ) -> None:
        self.path = path
        self.direct = direct
        self.mapping = mapping
        self.kind = mapping.kind
        self.progress = progress
        self.batch_rows = batch_rows
        self.preview_rows = preview_rows
        self.problems: list[Problem] = []
        self.rows_read = 0
        self.facts = 0
        self.not_applicable = 0
        self.inserted = 0
        self.already_present = 0
        self.duplicates_skipped = 0
        self.journey_slugs: tuple[str, ...] = ()
        self.preview = pl.DataFrame()
        self.tally: EventTally | None = None
        self.journey_ids: set[int] = set()
        self._found: dict[tuple[str, str, str], tuple[int, list[int], list[str]]] = {}
        # columns the mapping reads and the file lacks: reported once, their cells read as empty meanwhile
        self._absent: set[str] = set()
        # what problems name: the file, or the rows of the mapping's query over it
        self.name = str(path) if mapping.query is None else f"{path} (rows of the query in {mapping.origin})"

    def execute(self, connection: Connection, *, write: bool, after: ExitStack | None) -> None:
        with ExitStack() as local:
            stack = after if after is not None else local
            workdir = stack.enter_context(work_folder())
            if self.mapping.query is not None:
                result = run_query(self.path, self.mapping, workdir)
                source = (
                    open_source(result.path, self.mapping, workdir, file_format="parquet")
                    if result.path is not None
                    else Source(pl.Schema(), 0, problems=result.problems)
                )
            else:
                source = open_source(self.path, self.mapping, workdir)
            self.problems = list(source.problems)
            if not self.problems:
                self._run(connection, source, write=write, workdir=workdir, after=after)
        if self.problems and write:
            raise ImportValidationError(self.problems)

    def _run(
        self, connection: Connection, source: Source, *, write: bool, workdir: Path, after: ExitStack | None
    ) -> None:
        name = self.name
        missing = [c for c in self.mapping.source_columns() if c not in source.schema]
        if missing:
            columns = ", ".join(c for c in source.schema if c != ROW)
            self.problems += [
                Problem("missing column", f"the file has no column {c!r} (its columns: {columns})", name, column=c)
                for c in missing
            ]
            # the rows are still checked, in this same run, on the columns the file has
            self._absent = set(missing)
            source = _with_empty_columns(source, missing)
        schema, derived_problems = derived_schema(self.mapping, source.schema)
        if derived_problems:
            self.problems += derived_problems
            return
        pipeline = Pipeline(self.mapping, Lookups.load(connection), schema)
        staging = open_staging(connection, self.kind, workdir, after)
        self.tally = EventTally(staging, workdir) if write and self.kind == FactKind.EVENTS else None
        if connection.dialect.name == "postgresql":
            # room to hash and sort the staged rows in memory, for this transaction only
            connection.execute(text(f"SET LOCAL work_mem = '{POSTGRES_WORK_MEM}'"))
        restore_cache = larger_sqlite_cache(connection)
        after_staging = after if after is not None else ExitStack()
        after_staging.callback(staging.close)
        fact_table = FACT_TABLES[self.kind]
        direct = (
            write
            and not self._absent
            and self.direct
            and self.mapping.on_duplicate == "error"
            and _loads_directly(connection, fact_table)
        )
        try:
            with self._loading_directly(connection, staging) if direct else nullcontext():
                self._stream(source, pipeline, staging, fact_table if direct else staging.table)
                if not self.problems and self.rows_read == 0:
                    self.problems.append(Problem("empty file", "the file has a header but no data rows", name))
                if self.problems and direct:
                    # to report repeated rows with the other problems, in one pass: read again through staging
                    raise DirectLoadRefused
                if self.problems and not direct and self.rows_read and not self._absent:
                    staging.finish_writing()
                    self._repeated_rows(connection, staging.table)
                if not self.problems:
                    staging.finish_writing()
                    if direct:
                        self._finish_direct(connection)
                    else:
                        self._finish_staged(connection, staging.table, write=write, owns_transaction=after is not None)
        except DirectLoadRefused:
            # the savepoint is rolled back and the transaction sound: clean up, for the import to run again
            restore_cache()
            staging.drop()
            raise
        except BaseException:
            # a failed statement may have aborted the transaction (PostgreSQL): the caller's rollback
            # removes the staging table then, and a clean-up attempt here would hide the real error
            restore_cache()  # a no-op but on SQLite, where it cannot fail
            with suppress(Exception):
                staging.wait()  # a write still running must end before the transaction does
            raise
        else:
            staging.drop()
            restore_cache()
        finally:
            if after is None:
                after_staging.close()

    @contextmanager
    def _loading_directly(self, connection: Connection, staging: Staging) -> Iterator[None]:
        """Rows go straight into the empty fact table (PostgreSQL's COPY, through its indexes), under a savepoint.

        Problems found on the way roll the savepoint back (they are reported by `execute`). A fact that
        repeats within the file makes the unique key refuse the load: the savepoint is rolled back and
        `DirectLoadRefused` asks for the file to be imported through staging, which names the rows.
        """
        savepoint = connection.begin_nested()
        try:
            with bulk_load(connection, [FACT_TABLES[self.kind].name], unique=True):
                yield
                if self.problems:
                    raise _TakeBack
        except BaseException as error:
            with suppress(Exception):
                staging.wait()  # a write still running must end before the savepoint does
            savepoint.rollback()
            # the unique key refuses a repeated fact during the COPY itself (the driver's error, SQLSTATE 23505)
            if isinstance(error, IntegrityError) or getattr(error, "sqlstate", None) == UNIQUE_VIOLATION:
                raise DirectLoadRefused from error
            if not isinstance(error, _TakeBack):
                raise
        else:
            savepoint.commit()

    def _finish_direct(self, connection: Connection) -> None:
        """Rollups for a file loaded straight into the empty fact table: every row in it is new."""
        self.inserted = self.facts
        self.journey_slugs = self._journey_slugs(connection)
        self._add_to_rollups(connection, FACT_TABLES[self.kind], bulk=True)

    def _add_to_rollups(self, connection: Connection, new_facts: Table, *, bulk: bool) -> None:
        if self.tally is not None and not self.already_present and not self.duplicates_skipped:
            self.tally.fold_in(connection, journey_ids=sorted(self.journey_ids), bulk=bulk)
        elif self.kind == FactKind.EVENTS:
            add_to_rollups(connection, events=new_facts, bulk=bulk)
        else:
            add_to_rollups(connection, feedback=new_facts, bulk=bulk)

    def _journey_slugs(self, connection: Connection) -> tuple[str, ...]:
        return tuple(
            connection.execute(
                select(Journey.slug).where(Journey.id.in_(sorted(self.journey_ids))).order_by(Journey.slug)
            ).scalars()
        )

    def _stream(self, source: Source, pipeline: Pipeline, staging: Staging, target: Table) -> None:
        stored = list(STORED_COLUMNS[self.kind])
        checks = pipeline.checks()
        flags = [f"__check_{i}" for i in range(len(checks))]
        try:
            for raw in source.read(self.batch_rows):
                if raw.height == 0:
                    continue
                # the batch is in memory already: the in-memory engine is 3× faster here than streaming
                batch = pipeline.build(raw.lazy())[0].collect(engine="in-memory")
                self.rows_read = max(self.rows_read, int(raw[ROW].max()))  # type: ignore[arg-type]
                applicable = batch.filter(~pl.col(NOT_APPLICABLE))
                self.not_applicable += batch.height - applicable.height
                self.facts += applicable.height
                failing = applicable.select(pl.any_horizontal(flags).sum()).item() if flags else 0
                if failing:
                    self._collect_problems(applicable, checks)
                    # the clean rows are still staged, so the repeated ones are reported in this same pass
                    applicable = applicable.filter(~pl.any_horizontal(flags))
                if not self.problems or target is staging.table:
                    with_source_id = "source_id" in self.mapping.columns
                    keys = source_keys(self.kind, applicable, with_source_id=with_source_id)
                    rows = applicable.select(ROW, *stored).with_columns(keys)
                    staging.write(rows.rename({ROW: "row"}), target)
                    self.journey_ids.update(rows["journey_id"].unique().to_list())
                    if self.tally is not None:
                        self.tally.add(rows)
                    if self.preview.height < self.preview_rows and not self.problems:
                        self._keep_preview(applicable)
                if self.progress is not None:
                    total = source.rows_total
                    self.progress(Progress(min(self.rows_read, total or self.rows_read), total))
        except (pl.exceptions.PolarsError, pa.ArrowException) as error:
            self.problems.append(Problem("unreadable file", first_line(error), self.name))
        self.problems += self._found_problems(checks)

    def _keep_preview(self, applicable: pl.DataFrame) -> None:
        slugs = [c for c in ("journey", "stage", "channel", "touchpoint", "step", "persona") if c in FIELDS[self.kind]]
        self.preview = pl.concat(
            [
                self.preview,
                applicable.head(self.preview_rows - self.preview.height).select(
                    pl.col(ROW).alias("row"),
                    *STORED_COLUMNS[self.kind],
                    *(pl.col(raw_column(s)).alias(s) for s in slugs),
                ),
            ],
            how="diagonal_relaxed",
        )

    def _collect_problems(self, batch: pl.DataFrame, checks: list[Check]) -> None:
        for i, check in enumerate(checks):
            failing = batch.filter(pl.col(f"__check_{i}"))
            if failing.height == 0:
                continue
            grouped = (
                failing.select(
                    pl.col(label_column(check.column)).alias("column"), pl.col(ROW), check.shown.alias("shown")
                )
                .group_by("column", maintain_order=True)
                .agg(
                    pl.col(ROW).n_unique().alias("count"),
                    pl.col(ROW).unique(maintain_order=True).head(EXAMPLES).alias("rows"),
                    pl.col("shown").unique(maintain_order=True).head(EXAMPLES).alias("shown"),
                )
            )
            for column, count, rows, shown in grouped.iter_rows():
                key = (check.check, check.message, column)
                before_count, before_rows, before_shown = self._found.get(key, (0, [], []))
                self._found[key] = (
                    before_count + count,
                    (before_rows + rows)[:EXAMPLES],
                    list(dict.fromkeys(before_shown + shown))[:EXAMPLES],
                )

    def _found_problems(self, checks: list[Check]) -> list[Problem]:
        """The rows' problems, but those of a missing column (already reported once, as missing)."""
        return [
            Problem(check, message, self.name, column=column, count=count, rows=tuple(rows), examples=tuple(shown))
            for (check, message, column), (count, rows, shown) in self._found.items()
            if column not in self._absent
        ]

    def _repeated_rows(self, connection: Connection, staging: Table) -> None:
        """Repeated facts: reported as a problem, or (`on_duplicate: skip`) dropped from staging and counted."""
        if self.mapping.on_duplicate == "skip":
            self._skip_duplicates(connection, staging)
        else:
            self._check_duplicates(connection, staging)

    def _skip_duplicates(self, connection: Connection, staging: Table) -> None:
        repeated = connection.execute(select(func.count() - func.count(distinct(staging.c.source_key)))).scalar_one()
        if not repeated:
            return
        earlier = staging.alias("earlier")
        first = exists().where((earlier.c.source_key == staging.c.source_key) & (earlier.c.row < staging.c.row))
        connection.execute(delete(staging).where(first))
        self.duplicates_skipped = int(repeated)
        self.facts -= self.duplicates_skipped

    def _check_duplicates(self, connection: Connection, staging: Table) -> None:
        repeated = connection.execute(select(func.count() - func.count(distinct(staging.c.source_key)))).scalar_one()
        if not repeated:
            return
        later, earlier = staging.alias("later"), staging.alias("earlier")
        pairs = connection.execute(
            select(later.c.row, func.min(earlier.c.row))
            .join(earlier, (earlier.c.source_key == later.c.source_key) & (earlier.c.row < later.c.row))
            .group_by(later.c.row)
            .order_by(later.c.row)
            .limit(EXAMPLES)
        ).all()
        self.problems.append(
            Problem(
                "duplicate row",
                "the same fact appears more than once in the file (same identifying fields): name the export's "
                "own row id as `source_id` under columns: if the rows are distinct, or set `on_duplicate: skip`",
                self.name,
                count=int(repeated),
                rows=tuple(row for row, _ in pairs),
                examples=tuple(f"row {row} repeats row {first}" for row, first in pairs),
            )
        )

    def _finish_staged(self, connection: Connection, staging: Table, *, write: bool, owns_transaction: bool) -> None:
        if self.mapping.on_duplicate == "skip":
            self._skip_duplicates(connection, staging)
        late_check = write and _unique_keys_catch_duplicates(connection, owns_transaction=owns_transaction)
        if not late_check:
            self._check_duplicates(connection, staging)
        if not self.problems:
            self._finish(connection, staging, write=write, late_check=late_check)

    def _finish(self, connection: Connection, staging: Table, *, write: bool, late_check: bool) -> None:
        fact_table = FACT_TABLES[self.kind]
        present = exists().where(fact_table.c.source_key == staging.c.source_key)
        if connection.execute(select(exists().select_from(fact_table))).scalar():
            self.already_present = connection.execute(
                select(func.count()).select_from(staging).where(present)
            ).scalar_one()
        # else: nothing is stored, so nothing can be present (the count takes 2 s for 10M staged rows)
        self.journey_slugs = self._journey_slugs(connection)
        if not write:
            return
        if late_check and self.already_present:
            # a repeated row that is also stored would be skipped, not reported, once stored rows go
            self._check_duplicates(connection, staging)
            if self.problems:
                return
        try:
            with connection.begin_nested() if late_check else nullcontext():
                self._write(connection, staging, present)
        except IntegrityError:
            if not late_check:
                raise
            self._check_duplicates(connection, staging)
            if not self.problems:
                raise

    def _write(self, connection: Connection, staging: Table, present: Exists) -> None:
        fact_table = FACT_TABLES[self.kind]
        if self.already_present:
            connection.execute(delete(staging).where(present))
        # the staging rows are all distinct here (or the unique source_key refuses them), and now all new
        self.inserted = self.facts - self.already_present
        stored = connection.execute(select(func.count()).select_from(fact_table)).scalar_one()
        bulk = self.inserted >= BULK_SHARE * stored
        self._add_to_rollups(connection, staging, bulk=bulk)
        columns = [*STORED_COLUMNS[self.kind], "source_key"]
        new_rows = select(*(staging.c[c] for c in columns))
        with bulk_load(connection, [fact_table.name], unique=True) if bulk else nullcontext():
            connection.execute(insert(fact_table).from_select(columns, new_rows))


class _TakeBack(Exception):
    """Raised inside `_loading_directly` to roll back rows already loaded when the file has problems."""


class DirectLoadRefused(Exception):
    """The fact table's unique key refused a direct load: the file repeats a fact (see `_loading_directly`)."""


def _loads_directly(connection: Connection, fact_table: Table) -> bool:
    """Whether an import COPYs its rows straight into the fact table instead of into staging first.

    Only on PostgreSQL, where COPY runs on the import's own connection, and only into an empty fact
    table (a first import): then no row can be present already, every row is new, and copying 10M rows
    from staging into the table a second time (24 s) is saved. SQLite's fast writer is a second
    connection, which can only write to the scratch file (see `staging._ScratchFileStaging`).
    """
    return (
        connection.dialect.name == "postgresql"
        and not connection.execute(select(exists().select_from(fact_table))).scalar()
    )


def _unique_keys_catch_duplicates(connection: Connection, *, owns_transaction: bool) -> bool:
    """Whether an import leaves repeated rows to the unique source key to catch, and looks for them only then.

    Looking first means counting distinct keys over every staged row: a sort of the whole file (8 s of a
    10M-row import on PostgreSQL). A savepoint lets the import go back and report the rows when the key
    refuses them. Python's sqlite3 begins a transaction only at the first INSERT, so there a SAVEPOINT
    may open the transaction itself and its RELEASE commit it: used only when the import owns it.
    """
    return connection.dialect.name == "postgresql" or (connection.dialect.name == "sqlite" and owns_transaction)


def _with_empty_columns(source: Source, columns: list[str]) -> Source:
    """`source` with `columns` added, every cell empty: a file missing them still has its rows checked."""
    empty = [pl.lit(None, dtype=pl.String).alias(c) for c in columns]
    schema = pl.Schema({**dict(source.schema), **{c: pl.String() for c in columns}})

    def read(rows: int) -> Iterator[pl.DataFrame]:
        return (batch.with_columns(empty) for batch in source.read(rows))

    return Source(schema, source.rows_total, read, list(source.problems))

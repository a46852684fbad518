"""Import events and feedback from CSV or Parquet exports, through a mapping, into facts and rollups.

The file is read in bounded batches (pyarrow's streaming CSV and Parquet readers), and each batch goes
through one lazy polars pipeline (reshape, value maps, slug look-ups, parsing, checks). Clean rows go to
a staging table; when the whole file has passed every check, rows already stored are dropped from
staging, the new facts are folded into the rollups (from tallies kept as the batches passed, or in SQL)
and one `INSERT … SELECT` moves them into the fact table, all in one transaction. On PostgreSQL a
first import into an empty fact table skips staging and COPYs straight into it, under a savepoint.
Any problem anywhere raises `ImportValidationError` listing every problem found, and nothing is written.

Row numbers in problems are 1-based data rows: row 1 is the first row below the header (in a
spreadsheet that shows the header on line 1, data row N is on line N + 1).

The modules, in the order a file goes through them: `mapping` (the mapping file), `sources` (opening the
file, batches), `lookups` and `pipeline` (mapping, parsing and checking a batch), `keys` (what is
stored, source keys), `staging` and `tallies` (rows and rollup tallies waiting for the file to pass),
`run` (one run over one file), `api` (the entry points and their transaction), `problems` (what an
import reports).
"""

from data_access.importing.api import import_events, import_feedback, preview, refresh
from data_access.importing.problems import (
    ImportPreview,
    ImportReport,
    ImportValidationError,
    Problem,
    Progress,
    ProgressCallback,
)

__all__ = [
    "ImportPreview",
    "ImportReport",
    "ImportValidationError",
    "Problem",
    "Progress",
    "ProgressCallback",
    "import_events",
    "import_feedback",
    "preview",
    "refresh",
]

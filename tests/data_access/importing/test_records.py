"""Problems name the CSV record (the data row a spreadsheet shows), also after a value that holds a newline."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from data_access.importing import ImportValidationError, Problem, import_events
from data_access.importing.mapping import load_mapping
from tests.import_fixtures import add_shop_map, row_counts
from tests.paths import BAD_FILES

MAPPING = load_mapping(BAD_FILES / "events.yaml")
HEADER = b"customer,timestamp,stage,channel,step,persona,event_type,value\n"


def _record(customer: str, *, stage: str = "awareness", event_type: bytes = b"visit") -> bytes:
    return b"%s,2024-03-01 10:00:00,%s,web,,,%s,\n" % (customer.encode(), stage.encode(), event_type)


def _problems(engine: Engine, path: Path, **options: int) -> list[Problem]:
    add_shop_map(engine)
    with pytest.raises(ImportValidationError) as raised:
        import_events(engine, path=path, mapping=MAPPING, **options)
    assert row_counts(engine)["events"] == 0
    return raised.value.problems


def _only(problems: list[Problem], check: str) -> Problem:
    assert [p.check for p in problems] == [check], [p.describe() for p in problems]
    return problems[0]


def test_a_bad_byte_after_a_quoted_newline_names_its_record(engine: Engine, tmp_path: Path) -> None:
    """Record 1 spans two lines and a blank line is no record: the bad byte on line 6 is in record 3.

    A record with bad bytes on two of its lines is counted once.
    """
    path = tmp_path / "events.csv"
    path.write_bytes(
        HEADER
        + _record("c1", event_type=b'"called\nback"')
        + _record("c2")
        + b"\n"
        + _record("c3", event_type=b"caf\xe9")
        + _record("c4", event_type=b'"caf\xe9\ncaf\xe9"')
    )
    problem = _only(_problems(engine, path), "encoding")
    assert problem.rows == (3, 4)
    assert problem.count == 2
    assert "(2 rows; rows 3, 4)" in problem.describe()


def test_a_bad_value_after_quoted_newlines_names_its_record(engine: Engine, tmp_path: Path) -> None:
    """A checkout stage two records after a quoted newline (and a blank line) is reported as row 3."""
    path = tmp_path / "events.csv"
    path.write_bytes(
        HEADER + _record("c1", event_type=b'"called\nback"') + _record("c2") + b"\n" + _record("c3", stage="checkout")
    )
    problem = _only(_problems(engine, path), "unknown stage")
    assert problem.rows == (3,)
    assert problem.count == 1


def test_values_with_newlines_across_read_blocks_keep_their_records(engine: Engine, tmp_path: Path) -> None:
    """A file of several read blocks whose every record holds a newline: the bad value is still row 40,000."""
    records = 40_000
    # the newline sits near the start of a long quoted value, so a block edge mostly falls inside quotes
    spanning = b'"a\n' + b"b" * 70 + b'"'
    path = tmp_path / "events.csv"
    path.write_bytes(
        HEADER
        + b"".join(_record(f"c{i}", event_type=spanning) for i in range(1, records))
        + _record(f"c{records}", stage="checkout", event_type=spanning)
    )
    assert path.stat().st_size > 4 << 20  # several of the 1 MiB blocks read with 1,000-row batches
    problem = _only(_problems(engine, path, batch_rows=1_000), "unknown stage")
    assert problem.rows == (records,)

"""The corpus of bad files in tests/data/bad: each must raise its problem and leave the database unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from data_access.importing import ImportValidationError, import_events, import_feedback
from data_access.importing.mapping import FactKind, load_mapping
from tests.import_fixtures import add_shop_map, row_counts
from tests.paths import BAD_FILES

BAD = BAD_FILES
GOOD_EVENTS = (
    "customer,timestamp,stage,channel\nc9,2024-02-01 08:00:00,awareness,web\nc9,2024-02-02 09:00:00,purchase,web\n"
)
GOOD_FEEDBACK = "customer,timestamp,stage,measure,score\nc9,2024-02-03,purchase,nps,10\n"

# file, mapping, expected check, column (None: the whole file), first row (None: no row), message fragment
CORPUS: list[tuple[str, str, str, str | None, int | None, str]] = [
    ("events_unknown_stage.csv", "events.yaml", "unknown stage", "stage", 2, "checkout"),
    ("events_unknown_channel.csv", "events.yaml", "unknown channel", "channel", 3, "fax"),
    ("events_bad_timestamp.csv", "events.yaml", "unparsable timestamp", "timestamp", 2, "2024-13-45"),
    ("events_missing_column.csv", "events.yaml", "missing column", "channel", None, "no column 'channel'"),
    ("events_latin1.csv", "events.yaml", "encoding", None, 2, "not valid utf-8"),
    ("events_duplicate.csv", "events.yaml", "duplicate row", None, 3, "repeats row 1"),
    ("events_missing_customer.csv", "events.yaml", "missing value", "customer", 3, "no customer id"),
    ("events_missing_stage_value.csv", "events.yaml", "missing value", "stage", 2, "no stage"),
    ("events_unknown_persona.csv", "events.yaml", "unknown persona", "persona", 2, "big-spender"),
    ("events_unknown_step.csv", "events.yaml", "unknown step", "step", 2, "wrap"),
    ("events_value_not_number.csv", "events.yaml", "not a number", "value", 2, "49,50 EUR"),
    ("events_customer_too_long.csv", "events.yaml", "value too long", "customer", 2, "at most 120"),
    ("events_empty.csv", "events.yaml", "empty file", None, None, "empty"),
    ("events_header_only.csv", "events.yaml", "empty file", None, None, "no data rows"),
    ("events_ragged.csv", "events.yaml", "unreadable file", None, None, "Expected 8 columns, got 10"),
    ("events_format_mismatch.csv", "events_dayfirst.yaml", "unparsable timestamp", "timestamp", 2, "%d/%m/%Y"),
    ("events_unknown_journey.csv", "events_journey_column.yaml", "unknown journey", "journey", 2, "shpo"),
    ("events_value_map_typo.csv", "events_values.yaml", "unknown stage", "stage", 2, "Purchsed"),
    ("events_unknown_stage.parquet", "events_minimal.yaml", "unknown stage", "stage", 2, "browsing"),
    ("events_bad_timestamp.parquet", "events_minimal.yaml", "unparsable timestamp", "timestamp", 3, "yesterday"),
    ("events_missing_column.parquet", "events_minimal.yaml", "missing column", "channel", None, "no column"),
    ("events_corrupt.parquet", "events_minimal.yaml", "unreadable file", None, None, "Parquet"),
    ("events_duplicate.parquet", "events_minimal.yaml", "duplicate row", None, 4, "repeats row 1"),
    ("orders_bad_timestamp.csv", "orders.yaml", "unparsable timestamp", "shipped_at", 2, "next week"),
    ("orders_missing_column.csv", "orders.yaml", "missing column", "delivered_at", None, "delivered_at"),
    ("feedback_out_of_scale_nps.csv", "feedback.yaml", "score out of scale", "score", 3, "11 (nps)"),
    ("feedback_out_of_scale_csat.csv", "feedback.yaml", "score out of scale", "score", 2, "0 (csat)"),
    ("feedback_unknown_measure.csv", "feedback.yaml", "unknown measure", "measure", 2, "ces2"),
    ("feedback_score_not_number.csv", "feedback.yaml", "not a number", "score", 2, "great"),
    ("feedback_unknown_touchpoint.csv", "feedback.yaml", "unknown touchpoint", "touchpoint", 2, "hotline"),
    ("feedback_missing_score.csv", "feedback.yaml", "missing value", "score", 3, "no score"),
    ("feedback_missing_measure.csv", "feedback.yaml", "missing value", "measure", 2, "no measure"),
    ("feedback_unknown_stage.csv", "feedback.yaml", "unknown stage", "stage", 2, "returns"),
    ("feedback_duplicate.csv", "feedback.yaml", "duplicate row", None, 3, "repeats row 1"),
    ("feedback_latin1.csv", "feedback.yaml", "encoding", None, 2, "encoding:"),
    ("feedback_out_of_scale.parquet", "feedback_parquet.yaml", "score out of scale", "score", 2, "10.5 (nps)"),
    ("survey_out_of_scale.csv", "survey.yaml", "score out of scale", "checkout rating", 2, "6 (rating)"),
    ("survey_not_number.csv", "survey.yaml", "not a number", "till rating", 1, "n/a"),
    ("survey_unknown_segment.csv", "survey.yaml", "unknown persona", "persona (rules)", 2, "big-spender"),
]


def test_the_corpus_has_every_file_and_at_least_thirty() -> None:
    """Every corpus file exists, every data file in the folder is in the table."""
    assert len(CORPUS) >= 30
    listed = {name for name, *_ in CORPUS}
    on_disk = {p.name for p in BAD.iterdir() if p.suffix in (".csv", ".parquet")}
    assert listed == on_disk


@pytest.mark.parametrize(("name", "mapping", "check", "column", "row", "fragment"), CORPUS, ids=[c[0] for c in CORPUS])
def test_bad_file_is_refused_and_changes_nothing(
    engine: Engine,
    tmp_path: Path,
    name: str,
    mapping: str,
    check: str,
    column: str | None,
    row: int | None,
    fragment: str,
) -> None:
    """The file raises its problem (check, column, row, message or example) and no table changes."""
    add_shop_map(engine)
    (tmp_path / "good_events.csv").write_text(GOOD_EVENTS)
    (tmp_path / "good_feedback.csv").write_text(GOOD_FEEDBACK)
    import_events(engine, path=tmp_path / "good_events.csv", mapping=BAD / "events_minimal.yaml")
    import_feedback(engine, path=tmp_path / "good_feedback.csv", mapping=BAD / "feedback_parquet.yaml")
    before = row_counts(engine)
    assert before["events"] == 2 and before["feedback"] == 1

    resolved = load_mapping(BAD / mapping)
    importer = import_events if resolved.kind == FactKind.EVENTS else import_feedback
    with pytest.raises(ImportValidationError) as raised:
        importer(engine, path=BAD / name, mapping=resolved)

    problems = raised.value.problems
    matching = [p for p in problems if p.check == check and p.column == column]
    assert matching, [p.describe() for p in problems]
    problem = matching[0]
    assert problem.file.endswith(name)
    if row is not None:
        assert problem.rows[0] == row
        assert problem.count >= 1
    assert fragment in problem.describe()
    assert row_counts(engine) == before

"""The Import page's logic for a mapping that reads several files: uploads matched to its tables by file name,
then checked and imported all or nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

import polars as pl
import pytest
from sqlalchemy import Engine, func, select

from dashboard.components.import_data import Upload, check_upload, import_upload, match_uploads, tables_wanted
from data_access.db import session_scope
from data_access.importing import ImportValidationError
from data_access.importing.mapping import parse_mapping
from data_access.mapfile import import_map
from data_access.models import Event, Feedback
from tests.paths import EXAMPLES

MARKETPLACE = EXAMPLES / "data" / "marketplace"
ORDERS_MAPPING = (MARKETPLACE / "orders.mapping.yaml").read_text()
REVIEWS_MAPPING = (MARKETPLACE / "reviews.mapping.yaml").read_text()


def _upload(name: str, as_named: str | None = None) -> Upload:
    return Upload(as_named or name, (MARKETPLACE / name).read_bytes())


def _rows(engine: Engine, table: type[Event] | type[Feedback]) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def marketplace_map(engine: Engine) -> Engine:
    with session_scope(engine) as session:
        import_map(session, (EXAMPLES / "maps" / "marketplace.yaml").read_text(), source="marketplace.yaml")
    return engine


def test_uploads_are_told_apart_by_file_name_whatever_their_order_or_case() -> None:
    mapping = parse_mapping(ORDERS_MAPPING)
    assert tables_wanted(ORDERS_MAPPING) == {"payments": "payments.csv"}
    payments, orders = _upload("payments.csv", "Payments.CSV"), _upload("orders.csv")
    matched = match_uploads(mapping, [payments, orders])
    assert matched.complete
    assert matched.source == orders
    assert matched.tables == {"payments": payments}


def test_a_table_not_uploaded_yet_is_named_with_its_file() -> None:
    matched = match_uploads(parse_mapping(REVIEWS_MAPPING), [_upload("reviews.csv")])
    assert not matched.complete
    assert matched.source is not None and matched.source.name == "reviews.csv"
    assert matched.missing == ["orders.csv (table orders)"]
    only_the_table = match_uploads(parse_mapping(REVIEWS_MAPPING), [_upload("orders.csv")])
    assert only_the_table.source is None
    assert only_the_table.missing == ["the file to import (the table `source` of the query)"]


def test_uploads_that_cannot_be_told_apart_are_refused_by_name() -> None:
    mapping = parse_mapping(ORDERS_MAPPING)
    two_left = match_uploads(mapping, [_upload("orders.csv"), _upload("reviews.csv"), _upload("payments.csv")])
    assert not two_left.complete and two_left.source is None
    assert two_left.errors == [
        "'orders.csv', 'reviews.csv' are not tables of the mapping (payments.csv): "
        "upload one file to import and its tables only"
    ]
    twice = match_uploads(mapping, [_upload("orders.csv"), _upload("payments.csv"), _upload("payments.csv")])
    assert twice.complete  # the same file dropped twice counts once
    other = Upload("payments.csv", b"order_id,payment_sequential,payment_type\n")
    clash = match_uploads(mapping, [_upload("orders.csv"), _upload("payments.csv"), other])
    assert clash.errors == ["two different files are named 'payments.csv': remove the one not meant"]
    one_file = parse_mapping(
        "kind: events\nfixed: {journey: j, channel: web}\ncolumns: {customer: c, timestamp: t, stage: s}\n"
    )
    assert match_uploads(one_file, [_upload("orders.csv"), _upload("payments.csv")]).errors == [
        "'orders.csv', 'payments.csv': this mapping reads one file; upload one at a time"
    ]


def test_the_marketplace_is_checked_then_imported_from_its_uploads(marketplace_map: Engine) -> None:
    """Orders with their payments, then reviews with their orders: the rows the CLI would import, no more."""
    engine = marketplace_map
    uploads = [_upload("payments.csv"), _upload("orders.csv")]
    checked = check_upload(engine, uploads=uploads, mapping_text=ORDERS_MAPPING)
    assert checked.importable and checked.preview is not None
    orders = pl.read_csv(MARKETPLACE / "orders.csv", infer_schema=False)
    assert checked.preview.rows_read == orders.height
    # the persona comes from the joined payments table: no row of the preview lacks one
    assert checked.preview.rows["persona"].null_count() == 0
    assert _rows(engine, Event) == 0

    report = import_upload(engine, uploads=uploads, mapping=parse_mapping(ORDERS_MAPPING))
    assert report.file == "orders.csv"
    stamps = ["purchased_at", "approved_at", "handed_to_carrier_at", "delivered_at"]
    assert _rows(engine, Event) == sum(orders[c].is_not_null().sum() for c in stamps)

    reviews = [_upload("reviews.csv"), _upload("orders.csv")]
    import_upload(engine, uploads=reviews, mapping=parse_mapping(REVIEWS_MAPPING))
    assert _rows(engine, Feedback) == pl.read_csv(MARKETPLACE / "reviews.csv", infer_schema=False).height


def test_a_missing_table_or_a_bad_one_writes_nothing(marketplace_map: Engine) -> None:
    engine = marketplace_map
    with pytest.raises(ImportValidationError) as missing:
        import_upload(engine, uploads=[_upload("orders.csv")], mapping=parse_mapping(ORDERS_MAPPING))
    assert [p.message for p in missing.value.problems] == ["not uploaded yet: payments.csv (table payments)"]

    renamed = (MARKETPLACE / "payments.csv").read_bytes().replace(b"payment_sequential", b"sequence", 1)
    uploads = [_upload("orders.csv"), Upload("payments.csv", renamed)]
    checked = check_upload(engine, uploads=uploads, mapping_text=ORDERS_MAPPING)
    assert not checked.importable and checked.preview is not None
    [problem] = checked.preview.problems
    assert (problem.check, problem.file, problem.column) == ("query", "mapping, query", "payment_sequential")
    with pytest.raises(ImportValidationError):
        import_upload(engine, uploads=uploads, mapping=parse_mapping(ORDERS_MAPPING))
    assert _rows(engine, Event) == 0

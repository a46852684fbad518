"""What an import stores for each kind of fact, and the source key that lets a re-import find a row again."""

from __future__ import annotations

import hashlib

import polars as pl
import polars_hash as plh
from sqlalchemy import Table

from data_access.importing.mapping import FactKind
from data_access.importing.sources import ROW
from data_access.models import Event, Feedback

EVENT_COLUMNS = (
    "customer_id",
    "occurred_at",
    "journey_id",
    "stage_id",
    "channel_id",
    "step_id",
    "persona_id",
    "event_type",
    "value",
)
FEEDBACK_COLUMNS = (
    "customer_id",
    "occurred_at",
    "journey_id",
    "stage_id",
    "channel_id",
    "touchpoint_id",
    "step_id",
    "persona_id",
    "measure",
    "score",
    "comment",
)
STORED_COLUMNS: dict[FactKind, tuple[str, ...]] = {FactKind.EVENTS: EVENT_COLUMNS, FactKind.FEEDBACK: FEEDBACK_COLUMNS}
FACT_TABLES: dict[FactKind, Table] = {
    FactKind.EVENTS: Event.__table__,  # type: ignore[dict-item]
    FactKind.FEEDBACK: Feedback.__table__,  # type: ignore[dict-item]
}


def _identity(kind: FactKind, *, with_source_id: bool) -> pl.Expr:
    """The fields that make a fact the same fact again; anonymous feedback also counts its row.

    A mapping's `source_id` (the export's own id of the row) joins them, so two rows alike in every stored
    field stay two facts; without one, the identity is what it always was, so stored keys still match.
    """
    parts = [pl.lit(kind.value), *(pl.col(c).cast(pl.String) for c in STORED_COLUMNS[kind])]
    if kind == FactKind.FEEDBACK:
        parts.append(pl.when(pl.col("customer_id").is_null()).then(pl.col(ROW).cast(pl.String)))
    if with_source_id:
        parts.append(pl.format("id:{}", pl.col("source_id")))
    return pl.concat_str([part.fill_null("") for part in parts], separator="\x1f")


def source_keys(kind: FactKind, rows: pl.DataFrame, *, with_source_id: bool = False) -> pl.Series:
    """A 128-bit hash of each row's identity, as 32 hex digits: what makes a re-import find the row again.

    The keys are stored, so they must not change between polars versions, which rules out `Expr.hash`.
    Events use BLAKE3 from polars-hash, vectorised (0.2 µs a row against 0.9 µs for hashlib in a Python
    loop: 7 s of a 10M-row import). Feedback keeps hashlib's BLAKE2b: an anonymous answer's identity
    includes its file row, which is not stored, so its stored keys could not be recomputed in a new form.
    """
    identity = _identity(kind, with_source_id=with_source_id)
    if kind == FactKind.EVENTS:
        return rows.select(event_source_keys(identity).alias("source_key")).to_series()
    return pl.Series(
        "source_key",
        [hashlib.blake2b(text.encode(), digest_size=16).hexdigest() for text in rows.select(identity).to_series()],
        dtype=pl.String,
    )


def event_source_keys(identity: pl.Expr) -> pl.Expr:
    """BLAKE3 of each identity, its first 128 bits in hex (migration 0006 re-keyed stored events to this)."""
    return plh.CryptographicHashingNameSpace(identity).blake3().str.slice(0, 32)

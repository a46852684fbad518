"""Texts drawn inside the experience map's charts (the stage strip, the volume legend, wrapped axis labels).

Part of `dashboard.format` (`format.charts`): the numbers come from its rules, so a count or a status reads
here as it reads on the tiles, the tables and the report.
"""

from __future__ import annotations

import itertools
import textwrap

import polars as pl

from dashboard import format
from dashboard.format import answers
from data_access.metrics import Status


def wrapped(text: str, *, width: int) -> str:
    """A label broken at spaces into lines of at most `width` characters ("\\n" between them); a word longer
    than `width` stays whole."""
    return "\n".join(textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False)) or text


def _counted(count: str, one: str, many: str, none: str) -> pl.Expr:
    column = pl.col(count)
    return (
        pl.when(column == 0)
        .then(pl.lit(none))
        .when(column == 1)
        .then(pl.lit(f"1 {one}"))
        .otherwise(pl.format(f"{{}} {many}", format.count_expr(column)))
    )


def strip_texts() -> list[pl.Expr]:
    """The stage strip's lines from `stages` (customers, answers, open_pain_points, open_opportunities,
    health_status): `health_word` ("off target"), `customers_line` ("2,464 customers", or "14,500 answers"
    where no customer reached the stage), `pain_line` ("2 pain points open", "no pain point open") and
    `opportunity_line`."""
    return [
        format.status_expr("health_status").alias("health_word"),
        answers.stage_count_expr().alias("customers_line"),
        _counted("open_pain_points", "pain point", "pain points", "no open pain").alias("pain_line"),
        _counted("open_opportunities", "opportunity", "opportunities", "no open opp.").alias("opportunity_line"),
    ]


def volume_bands(events: pl.Expr, *, largest: int, steps: int) -> tuple[pl.Expr, list[str]]:
    """Events in `steps` equal bands from 0 to `largest`: each cell's band label, and the labels in order
    ("0–1,200", "1,200–2,400", …); a cell without events is 'not enough data', not a band."""
    top = max(largest, steps)
    edges = [round(top * k / steps) for k in range(steps + 1)]
    labels = [f"{format.count_text(low)}–{format.count_text(high)}" for low, high in itertools.pairwise(edges)]
    index = (events * steps // top).clip(0, steps - 1).cast(pl.Int64)
    band = pl.lit(labels[-1])
    for position, label in reversed(list(enumerate(labels[:-1]))):
        band = pl.when(index == position).then(pl.lit(label)).otherwise(band)
    return pl.when(events <= 0).then(pl.lit(format.status_text(Status.NO_DATA))).otherwise(band), labels

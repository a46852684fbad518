"""The report's appendix pages: the personas, and the current state against its future state.

Each function returns a page writer for `report.build_report(appendix=…)`, built from the same loaded data
the personas and compare pages draw, so the PDF shows the numbers on screen.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from dashboard import format
from dashboard.charts import personas as persona_charts
from dashboard.exports import files
from dashboard.exports.report import MARGIN, PAGE_HEIGHT, _fit_image, _Report, _table
from data_access.future_state import LEFT_OPEN, RESOLVED, FutureComparison
from data_access.personas import COMPARISON_METRICS, PersonaData

PageWriter = Callable[[_Report], None]


def personas_pages(data: PersonaData, *, metric: str) -> PageWriter:
    """Who each persona is (share, goals, frustrations, empathy map), then the personas side by side."""

    def write(pdf: _Report) -> None:
        pdf.add_page()
        pdf.heading("Personas")
        pdf.line_of_text(
            "Share: the persona's share of the journey's stage entries in the period (a customer counts once "
            "per stage entered).",
            size=8,
            muted=True,
        )
        share_of = {row["persona_slug"]: row["share"] for row in data.shares.iter_rows(named=True)}
        _table(
            pdf,
            ["Persona", "Share", "Goals", "Frustrations", "Thinks", "Feels", "Says", "Does"],
            [
                [
                    person["name"],
                    format.value_text(share_of.get(person["slug"]), "conversion"),
                    *(person[field] or "—" for field in ("goals", "frustrations", "thinks", "feels", "says", "does")),
                ]
                for person in data.profiles.iter_rows(named=True)
            ],
            (1.1, 0.6, 1.4, 1.4, 1.2, 1.2, 1.2, 1.4),
            size=7,
        )
        label = COMPARISON_METRICS[metric]
        chart = persona_charts.persona_comparison(data.comparison, metric=metric, metric_label=label)
        if pdf.get_y() > PAGE_HEIGHT - MARGIN - 70:
            pdf.add_page()
        pdf.section(f"Personas side by side: {label}")
        room = PAGE_HEIGHT - MARGIN - 10 - pdf.get_y()
        _fit_image(pdf, files.chart_png(chart, width=files.EXPORT_WIDTH, scale=1.5), max_height=max(room, 50))
        pdf.line_of_text("n/a: too few answers, not enough data.", size=7, muted=True)

    return write


def comparison_pages(comparison: FutureComparison, *, current: str, future: str) -> PageWriter:
    """What the future state changes, the pain points it resolves, and today against its targets."""

    def write(pdf: _Report) -> None:
        pdf.add_page()
        pdf.heading("Current vs future state")
        pdf.line_of_text(f"{current} today, against its future state {future}.", size=10, muted=True)
        pdf.section("What the future state changes")
        _table(
            pdf,
            ["Stage", "Change", "Steps added", "Steps removed", "Steps kept"],
            [
                [
                    str(row["future_name"] or row["current_name"]),
                    str(row["change"]),
                    *(str(row[f"steps_{c}"] or 0) for c in ("added", "removed", "kept")),
                ]
                for row in comparison.stages.iter_rows(named=True)
            ],
            (1.6, 1, 1, 1, 1),
        )
        pains = comparison.pain_points
        resolved = pains.filter(pl.col("outcome") == RESOLVED).height
        pdf.section(f"Today's pain points: {resolved} resolved, {pains.height - resolved} left open")
        _table(
            pdf,
            ["Stage", "Step", "Pain point", "Outcome"],
            [
                [row["stage"], row["step"], row["text"], f"{row['outcome']}: {row['reason']}"]
                for row in pains.sort(pl.col("outcome") == LEFT_OPEN, descending=True).iter_rows(named=True)
            ],
            (1, 1.4, 2.6, 1.8),
            size=7,
        )
        pdf.section("Today against the future state's targets")
        targets = comparison.targets
        if targets.is_empty():
            pdf.line_of_text("The future state sets no metric target on the stages both states share.", muted=True)
            return
        _table(
            pdf,
            ["Stage", "Metric", "Today", "Future target", "Gap", "Against the target"],
            [
                [
                    row["stage"],
                    row["label"],
                    format.value_text(row["value"], row["formula"]),
                    format.value_text(row["target"], row["formula"]),
                    format.change_text(row["gap"], row["formula"]),
                    f"● {format.status_text(row['status'])}",
                ]
                for row in targets.iter_rows(named=True)
            ],
            (1, 2, 0.8, 0.9, 0.8, 1.1),
            size=7,
        )

    return write

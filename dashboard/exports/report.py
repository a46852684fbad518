"""The PDF report of a view, for a review meeting's minutes: one file, readable on paper.

Page 1 is the experience map (headlines with their change, the touchpoint grid as an image rendered offline
by `files.chart_png`, the moments of truth); page 2 its emotional curve and What changed. Each stage page
carries its funnel and the pain points detected from its data. A journey-page view then adds its stage in depth: every
lane per step, the linked metrics, a handful of comments and the notes from the front line. An overview
view adds one page per stage with its key lanes and metrics instead.

Pure of streamlit and of the database: the view's loaded data in (the same `ExperienceMapData` and
`JourneyMapData` the pages draw, with the comments and notes it quotes), PDF bytes out. Text is set in
DejaVu Sans (Debian's fonts-dejavu-core) so quotes, dashes, ★, € and the minus sign print as typed.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from fpdf import FPDF
from fpdf.fonts import FontFace
from PIL import Image

from dashboard import format
from dashboard.charts import experience_map as experience_map_charts
from dashboard.charts import journey_map as journey_map_charts
from dashboard.charts.palette import STATUS_COLOURS
from dashboard.exports import files
from data_access.experience_map import GRID_METRICS, ExperienceMapData, Headline
from data_access.journey_map import JourneyMapData

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
FONT = "DejaVu"
INK = (31, 41, 51)
MUTED = (82, 96, 109)
HEADING_FILL = (236, 239, 243)
# landscape A4 in millimetres, margins included
PAGE_WIDTH, PAGE_HEIGHT, MARGIN = 297.0, 210.0, 12.0
MAX_STEP_COLUMNS = 6  # beyond this, lanes are listed per step instead of drawn as columns

DETAIL_LANES = {
    "action": "Customer actions",
    "touchpoint": "Touchpoint",
    "thought": "Thoughts",
    "emotion": "Emotion (assumed / measured)",
    "pain_point": "Pain points",
    "opportunity": "Opportunities",
    "backstage": "Backstage",
}
KEY_LANES = ("action", "touchpoint", "pain_point", "opportunity")


def font_dir() -> Path:
    """Where DejaVu Sans lives; a clear error when the font package is missing."""
    for folder in FONT_DIRS:
        if all((folder / name).is_file() for name in FONT_FILES.values()):
            return folder
    raise FileNotFoundError(
        "The PDF report needs the DejaVu Sans font: install it with `apt-get install -y fonts-dejavu-core`."
    )


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


@dataclass(frozen=True)
class ReportTitle:
    journey: str
    persona: str
    start: dt.date
    end: dt.date
    compared: tuple[dt.date, dt.date]

    @property
    def subtitle(self) -> str:
        return (
            f"{self.journey} · {self.persona} · {self.start:%d %b %Y} – {self.end:%d %b %Y}, "
            f"compared with {self.compared[0]:%d %b %Y} – {self.compared[1]:%d %b %Y}"
        )


class _Report(FPDF):
    def __init__(self, title: ReportTitle) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.report_title = title
        folder = font_dir()
        for style, name in FONT_FILES.items():
            self.add_font(FONT, style, str(folder / name))
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=MARGIN + 4)
        self.set_text_color(*INK)
        self.set_title(f"Journey Atlas — {title.journey}")
        self.set_creator("Journey Atlas")

    def footer(self) -> None:
        self.set_y(-MARGIN)
        self.set_x(MARGIN)  # a page may break while a half-page column has moved the left margin
        self.set_font(FONT, "", 7)
        self.set_text_color(*MUTED)
        self.cell(0, 5, f"Journey Atlas · {self.report_title.subtitle}", align="L")
        self.set_x(MARGIN)
        self.cell(0, 5, f"page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(*INK)

    def heading(self, text: str, *, size: float = 18) -> None:
        self.set_font(FONT, "B", size)
        self.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def section(self, text: str) -> None:
        if self.get_y() > PAGE_HEIGHT - MARGIN - 30:
            self.add_page()
        self.ln(2)
        self.set_font(FONT, "B", 12)
        self.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")

    def line_of_text(self, text: str, *, size: float = 9, style: str = "", muted: bool = False) -> None:
        self.set_font(FONT, style, size)
        if muted:
            self.set_text_color(*MUTED)
        self.multi_cell(0, size * 0.45, text, new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(*INK)

    @property
    def body_width(self) -> float:
        return PAGE_WIDTH - 2 * MARGIN


# --- page 1: the experience map --------------------------------------------------------------------


def _headline_boxes(pdf: _Report, headlines: list[Headline]) -> None:
    if not headlines:
        return
    gap = 3.0
    width = (pdf.body_width - gap * (len(headlines) - 1)) / len(headlines)
    top = pdf.get_y()
    for index, headline in enumerate(headlines):
        x = MARGIN + index * (width + gap)
        pdf.set_draw_color(*_rgb(STATUS_COLOURS.get(headline.status.value, STATUS_COLOURS["no data"])))
        pdf.set_line_width(0.6)
        pdf.rect(x, top, width, 19)
        pdf.set_xy(x + 2, top + 1.5)
        pdf.set_font(FONT, "", 8)
        pdf.set_text_color(*MUTED)
        pdf.cell(width - 4, 4, headline.label)
        pdf.set_xy(x + 2, top + 5.5)
        pdf.set_text_color(*INK)
        pdf.set_font(FONT, "B", 14)
        formula = headline.formula or headline.key
        measured = headline.value is not None
        pdf.cell(width - 4, 7, format.value_text(headline.value, formula) if measured else "not enough data")
        pdf.set_xy(x + 2, top + 12)
        pdf.set_font(FONT, "", 6.5)
        judged = f"{format.status_text(headline.status)} · {format.target_text(headline.target, formula)}"
        pdf.cell(width - 4, 3.5, judged)
        change = format.change_text(headline.change, formula)
        pdf.set_xy(x + 2, top + 15.2)
        pdf.cell(width - 4, 3.5, "no change to show" if headline.change is None else f"{change} vs before")
    pdf.set_line_width(0.2)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_xy(MARGIN, top + 22)


def _marker_style(cell: str) -> FontFace | None:
    """Status words led by ● print in their status colour (the word stays, so colour is never the only cue)."""
    if not cell.startswith("● "):
        return None
    status = {word: key for key, word in format.STATUS_WORDS.items()}.get(cell[2:])
    return FontFace(color=_rgb(STATUS_COLOURS[status])) if status in ("green", "amber", "red") else None


def _table(
    pdf: _Report, header: list[str], rows: list[list[str]], widths: tuple[float, ...], *, size: float = 8
) -> None:
    pdf.set_font(FONT, "", size)
    with pdf.table(
        col_widths=widths,
        width=pdf.body_width,
        text_align="LEFT",
        line_height=size * 0.5,
        padding=1,
        headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL),
        repeat_headings=1,
    ) as table:
        for cells in [header, *rows]:
            row = table.row()
            for cell in cells:
                row.cell(cell, style=_marker_style(cell))


def _experience_map_page(pdf: _Report, data: ExperienceMapData, *, metric: str) -> None:
    pdf.add_page()
    pdf.heading("Experience map")
    pdf.line_of_text(pdf.report_title.subtitle, size=10, muted=True)
    pdf.ln(3)
    _headline_boxes(pdf, data.headlines)
    metric_label = GRID_METRICS[metric].split(":")[0]
    grid = experience_map_charts.touchpoint_heatmap(
        data.grid, metric=metric, metric_label=metric_label, stage_order=data.stages["stage"].to_list()
    )
    png = files.chart_png(grid, width=files.EXPORT_WIDTH, scale=1.5)
    moments = data.moments_of_truth
    reserved = 14 + 6 * (moments.height + 1) if moments.height else 8
    room = PAGE_HEIGHT - MARGIN - 6 - pdf.get_y() - reserved
    _fit_image(pdf, png, max_height=max(room, 60))
    pdf.line_of_text(
        f"{GRID_METRICS[metric]}. ★ marks a moment of truth. Hatched grey cells have too few answers: "
        "not enough data, not a bad score; 'no metric' cells have answers that no metric of the map reads.",
        size=7,
        muted=True,
    )
    if moments.height:
        pdf.section("Moments of truth")
        _table(
            pdf,
            ["Stage", "Touchpoint", "Channel", "Owner", "Health"],
            [
                [stage, touchpoint, channel, owner or "—", f"● {format.status_text(status)}"]
                for stage, touchpoint, channel, owner, status in moments.select(
                    "stage", "touchpoint", "channel", "owner", "status"
                ).iter_rows()
            ],
            (1, 1.6, 1.2, 1.2, 1),
        )


CHANGES_SHOWN = 12
# the funnel image's height in mm: a stage in depth, and a stage page of the overview's report (which
# keeps each stage on one page)
FUNNEL_TALL, FUNNEL_SHORT = 90.0, 36.0


def _curve_and_changes_page(pdf: _Report, data: ExperienceMapData, changes: pl.DataFrame | None) -> None:
    """The overview's second page: the emotional curve across the stages, and What changed (biggest movers)."""
    pdf.add_page()
    pdf.heading("Emotional curve and what changed")
    moments = data.moments_of_truth["stage"].unique().to_list()
    curve = experience_map_charts.emotional_curve(data.curve, moments=moments)
    _fit_image(pdf, files.chart_png(curve, width=files.EXPORT_WIDTH, scale=1.5), max_height=70)
    pdf.section("What changed: biggest movers first")
    if changes is None or changes.is_empty():
        pdf.line_of_text("No metric to compare in these periods.", muted=True)
        return
    rows = changes.head(CHANGES_SHOWN).select(
        "stage",
        "label",
        format.value_expr(pl.col("value"), pl.col("formula")).alias("value"),
        format.value_expr(pl.col("compared_value"), pl.col("formula")).alias("compared_value"),
        format.change_expr(pl.col("change"), pl.col("formula")).alias("change"),
        pl.format("● {}", format.status_expr("status")).alias("status"),
    )
    _table(
        pdf,
        ["Stage", "Metric", "Now", "Then", "Change", "Status"],
        [[str(value or format.NO_VALUE) for value in row] for row in rows.iter_rows()],
        (1.1, 2.2, 0.8, 0.8, 0.8, 1.1),
    )
    if changes.height > CHANGES_SHOWN:
        pdf.line_of_text(f"and {changes.height - CHANGES_SHOWN} more on the experience map", size=7, muted=True)


FUNNEL_LEAST = 30  # mm: a funnel is never drawn smaller


def _funnel_and_findings(pdf: _Report, data: JourneyMapData, *, max_height: float) -> None:
    """The stage's funnel through its steps beside the pain points detected from its data, with evidence."""
    outliers = data.findings.filter(pl.col("reason") == "drop-off stands out")["step_id"].to_list()
    # both halves start on the same page: a new one now if the funnel would not begin on this one
    if pdf.get_y() > PAGE_HEIGHT - MARGIN - 8 - FUNNEL_LEAST - 12:  # 12 mm: the section's heading
        pdf.add_page()
    top = pdf.get_y()
    half = (pdf.body_width - 6) / 2
    pdf.section("Funnel through the steps")
    if not data.funnel.is_empty():
        funnel = journey_map_charts.step_funnel(data.funnel, outlier_steps=outliers)
        png = files.chart_png(funnel, width=560, scale=1.5)
        with Image.open(io.BytesIO(png)) as image:
            ratio = image.height / image.width
        room = min(max(PAGE_HEIGHT - MARGIN - 8 - pdf.get_y(), FUNNEL_LEAST), max_height)
        width = min(half, room / ratio)
        pdf.image(io.BytesIO(png), x=MARGIN, w=width, h=width * ratio)
    bottom = pdf.get_y()
    pdf.set_xy(MARGIN + half + 6, top)
    pdf.set_left_margin(MARGIN + half + 6)
    pdf.section("Detected from data")
    found = data.findings.with_columns(format.finding_evidence()).select("scope_name", "scope", "reason", "evidence")
    for name, scope, reason, evidence in found.head(6 if max_height > FUNNEL_SHORT else 3).iter_rows():
        pdf.line_of_text(f"{name} ({scope}) — {reason}: {evidence}", size=7)
    if found.is_empty():
        pdf.line_of_text("No step or touchpoint misses target, got worse, or loses customers out of line.", size=7)
    pdf.set_left_margin(MARGIN)
    pdf.set_xy(MARGIN, max(bottom, pdf.get_y()))


def _fit_image(pdf: _Report, png: bytes, *, max_height: float) -> None:
    """The image as wide as the page allows, but no taller than `max_height`, centred."""
    with Image.open(io.BytesIO(png)) as image:
        ratio = image.height / image.width
    width = min(pdf.body_width, max_height / ratio)
    pdf.image(io.BytesIO(png), x=MARGIN + (pdf.body_width - width) / 2, w=width, h=width * ratio)


# --- a stage in depth ----------------------------------------------------------------------------


def _lanes(pdf: _Report, data: JourneyMapData, lanes: dict[str, str], *, size: float) -> None:
    steps = data.steps.sort("position")
    if steps.is_empty():
        pdf.line_of_text("This stage has no steps yet, so there are no lanes.", muted=True)
        return
    texts = format.lane_texts(data, lanes=lanes, medium="plain").group_by("lane", "step_id", maintain_order=True)
    cards = {(lane, step): lines for lane, step, lines in texts.agg("text").iter_rows()}
    step_ids, step_names = steps["step_id"].to_list(), steps["step_name"].to_list()
    if len(step_ids) <= MAX_STEP_COLUMNS:
        size -= 0.5 * max(len(step_ids) - 5, 0)  # a sixth, narrower column: a smaller type keeps it on the page
        rows = [
            [title, *("\n".join(f"• {line}" for line in cards.get((lane, step), [])) for step in step_ids)]
            for lane, title in lanes.items()
        ]
        _table(pdf, ["", *step_names], rows, (1.0, *([2.0] * len(step_ids))), size=size)
        return
    for step_id, name in zip(step_ids, step_names, strict=True):
        pdf.line_of_text(name, size=size + 1, style="B")
        for lane, title in lanes.items():
            for line in cards.get((lane, step_id), []):
                pdf.line_of_text(f"{title}: {line}", size=size)


def _metric_rows(metrics: pl.DataFrame) -> list[list[str]]:
    rows = []
    for metric in metrics.to_dicts():
        formula = metric["formula"]
        rows.append(
            [
                metric["label"],
                format.value_text(metric["value"], formula),
                format.value_text(metric["target"], formula),
                f"● {format.status_text(metric['status'])}",
                format.change_text(metric["change"], formula),
                format.count_text(metric["sample"]),
                metric["touchpoint_name"] or metric["scope"],
            ]
        )
    return rows


def _metrics(pdf: _Report, metrics: pl.DataFrame) -> None:
    if metrics.is_empty():
        pdf.line_of_text("No metric is linked to this stage or its touchpoints.", muted=True)
        return
    _table(
        pdf,
        ["Metric", "Value", "Target", "Status", "Change vs before", "Base", "Linked to"],
        _metric_rows(metrics),
        (2.4, 0.9, 0.9, 1.1, 1.1, 0.7, 1.5),
    )


def _comments(pdf: _Report, comments: pl.DataFrame, *, title: str) -> None:
    if comments.is_empty():
        return
    pdf.section(title)
    _table(
        pdf,
        ["When", "Measure", "Score", "Step", "Comment"],
        [
            [f"{when:%d %b %Y}", measure.upper(), f"{score:g}", step or "—", comment]
            for when, measure, score, step, comment in comments.select(
                "occurred_at", "measure", "score", "step_name", "comment"
            ).iter_rows()
        ],
        (0.9, 0.7, 0.5, 1.3, 6.0),
    )


def _notes(pdf: _Report, notes: pl.DataFrame) -> None:
    pdf.section("Notes from the front line")
    if notes.is_empty():
        pdf.line_of_text("No notes on this stage yet.", muted=True)
        return
    _table(
        pdf,
        ["Who", "When (UTC)", "Note"],
        [
            [author, f"{created_at:%d %b %Y %H:%M}", body]
            for author, body, created_at in notes.select("author", "body", "created_at").iter_rows()
        ],
        (1.2, 1.1, 7.0),
    )


def _stage_heading(pdf: _Report, stage: dict[str, Any], *, detail: bool, cohort_note: str | None = None) -> None:
    pdf.add_page()
    pdf.heading(f"{stage['stage']} — journey map" if detail else f"Stage {stage['number']}: {stage['stage']}")
    share = stage["conversion"]
    conversion = "" if share is None else f" · {format.value_text(share, 'conversion')} of the stage before"
    customers = format.count_text(stage["customers"])
    reached = f"{customers} customers first reached this stage in the period{conversion}"
    if not stage["customers"] and stage.get("answers"):
        reached = f"{format.count_text(stage['answers'])} answers about this stage in the period (no events)"
    status = format.status_text(stage.get("health_status"))
    pdf.line_of_text(
        f"Status: {status} · {reached} · {stage['findings_detail']}",
        size=9,
        muted=True,
    )
    if cohort_note is not None and share is not None:
        pdf.line_of_text(cohort_note, size=8, muted=True)
    if stage["stage_description"]:
        pdf.line_of_text(stage["stage_description"], size=9, style="I")
    pdf.ln(2)


@dataclass(frozen=True)
class StageReport:
    """What the report prints of one stage: its journey map, and the comments and notes it quotes.

    The comments are only for the stage in depth (None otherwise); `notes` is None when notes are left out.
    """

    journey_map: JourneyMapData
    low_comments: pl.DataFrame | None = None  # the newest low scores
    newest_comments: pl.DataFrame | None = None
    notes: pl.DataFrame | None = None


def _stage_pages(
    pdf: _Report, stage: dict[str, Any], evidence: StageReport, *, detail: bool, cohort_note: str | None = None
) -> None:
    """The stage in depth (`detail`, from the journey page) or its key lanes and metrics (from the overview)."""
    data = evidence.journey_map
    _stage_heading(pdf, stage, detail=detail, cohort_note=cohort_note)
    _lanes(pdf, data, DETAIL_LANES if detail else {k: DETAIL_LANES[k] for k in KEY_LANES}, size=7.5)
    pdf.section("What the numbers say")
    _metrics(pdf, data.metrics)
    _funnel_and_findings(pdf, data, max_height=FUNNEL_TALL if detail else FUNNEL_SHORT)
    low, newest = evidence.low_comments, evidence.newest_comments
    if detail and low is not None and newest is not None:
        _comments(pdf, low, title="In the customers' words: newest low scores")
        seen = low["feedback_id"].implode()
        _comments(
            pdf, newest.filter(~pl.col("feedback_id").is_in(seen)).head(4), title="In the customers' words: newest"
        )
    if evidence.notes is not None:
        _notes(pdf, evidence.notes)


# --- the whole report ----------------------------------------------------------------------------


def build_report(
    *,
    title: ReportTitle,
    experience_map: ExperienceMapData,
    stages: Mapping[str, StageReport],
    metric: str = "health",
    stage: str | None = None,
    appendix: Sequence[Callable[[_Report], None]] = (),
    changes: pl.DataFrame | None = None,
) -> bytes:
    """The PDF of a view: the experience map, then `stage` in depth (journey page) or every stage (overview).

    `stages` holds the stages to print by slug, in any order; they print in the journey's order. `appendix`
    writes pages after them (`report_pages`: the personas, the future state).
    """
    pdf = _Report(title)
    _experience_map_page(pdf, experience_map, metric=metric)
    _curve_and_changes_page(pdf, experience_map, changes)
    for number, row in enumerate(experience_map.stages.to_dicts(), start=1):
        row["number"] = number
        if row["stage_slug"] in stages and (stage is None or row["stage_slug"] == stage):
            _stage_pages(
                pdf,
                row,
                stages[row["stage_slug"]],
                detail=stage is not None,
                cohort_note=format.cohort_note(experience_map.cohorts),
            )
    for write in appendix:
        write(pdf)
    return bytes(pdf.output())

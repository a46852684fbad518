"""Lane cards: the text of each lane item on the journey page, the slides and the PDF report.

Part of `dashboard.format` (re-exported there as `format.lane_texts`), written from its rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, Protocol

import polars as pl

from dashboard.format import NO_VALUE, count_expr, escaped, html_escaped

# where the text is shown: Markdown (the slides), our own HTML (the journey page's lane grid), plain (the PDF)
Medium = Literal["markdown", "html", "plain"]
# the marks each medium writes around already escaped text: strong, emphasis, a line break
_STRONG = {"markdown": "**{}**", "html": "<strong>{}</strong>", "plain": "{}"}
_EMPHASIS = {"markdown": "_{}_", "html": "<em>{}</em>", "plain": "{}"}
_LINE_BREAK = {"markdown": "  \n", "html": "<br>", "plain": "\n"}
# a pain point's severity: on the page and the slides a badge coloured by severity (4–5 red, 3 orange, 1–2
# grey; the HTML's classes are styled by the lane grid), plain in the PDF
_SEVERITY = {
    "markdown": ":{}-badge[Severity {}/5]",
    "html": '<span class="lane-badge lane-badge-{}">Severity {}/5</span>',
    "plain": "Severity {}/5",
}


class LaneData(Protocol):
    """The frames of a journey map that its lanes are written from (`journey_map.JourneyMapData`)."""

    @property
    def lane_items(self) -> pl.DataFrame: ...
    @property
    def steps(self) -> pl.DataFrame: ...
    @property
    def funnel(self) -> pl.DataFrame: ...
    @property
    def emotions(self) -> pl.DataFrame: ...


def lane_texts(
    data: LaneData,
    *,
    lanes: Iterable[str],
    medium: Medium,
    detail: bool = True,
    words: int | None = None,
) -> pl.DataFrame:
    """The text of each lane item, in step and item order: columns step_id, lane, text.

    The same words everywhere; what differs is the medium and the room:
    - `medium`: "markdown" (the slides) and "html" (the journey page's lane grid) escape people's text for
      that medium and mark emphasis and badges around it; "plain" (the PDF) leaves the text as it is.
    - `detail`: the reach of a pain point's step, an opportunity's owner, impact and effort, the persona
      an item is for, each step's touchpoint and the measured emotion (the journey page and the PDF).
    - `words`: each text cut to that many words with "…" (a slide).
    """
    shown = list(lanes)

    def text(column: str | pl.Expr) -> pl.Expr:
        expr = pl.col(column) if isinstance(column, str) else column
        if medium == "markdown":
            return escaped(expr)
        return html_escaped(expr) if medium == "html" else expr.fill_null("")

    def strong(expr: pl.Expr) -> pl.Expr:
        return pl.format(_STRONG[medium], expr)

    def emphasis(expr: pl.Expr) -> pl.Expr:
        return pl.format(_EMPHASIS[medium], expr)

    words_of = pl.col("text").str.strip_chars('"“” ').str.split(" ")
    short = words_of.list.join(" ")
    if words is not None:
        short = (
            pl.when(words_of.list.len() > words).then(words_of.list.head(words).list.join(" ") + "…").otherwise(short)
        )
    said = text(short)
    level = pl.col("severity").fill_null(0)
    badge = pl.when(level >= 4).then(pl.lit("red")).when(level == 3).then(pl.lit("orange")).otherwise(pl.lit("gray"))
    severity = pl.format(_SEVERITY[medium], *([badge, level] if medium != "plain" else [level]))
    line_break = pl.lit(_LINE_BREAK[medium])
    gap = line_break if detail else pl.lit(" · ")
    status = strong(text(pl.col("status").fill_null("idea")))
    opportunity_detail = (
        pl.format(
            "{} · owner {} · impact {} · effort {}",
            status,
            text(pl.col("owner").fill_null(NO_VALUE)),
            pl.col("impact").cast(pl.String).fill_null("?"),
            pl.col("effort").cast(pl.String).fill_null("?"),
        )
        if detail
        else status
    )
    reach = data.funnel.filter(pl.col("kind") == "step").select("step_id", pl.col("customers").alias("reached"))
    pain_reach = (
        pl.format(
            "{}{} customers reached this step in the period", line_break, count_expr(pl.col("reached").fill_null(0))
        )
        if detail
        else pl.lit("")
    )
    persona = (
        pl.when(pl.col("persona_slug").is_not_null())
        .then(pl.format("{}persona {}", line_break, text("persona_slug")))
        .otherwise(pl.lit(""))
        if detail
        else pl.lit("")
    )
    step_positions = data.steps.select("step_id", pl.col("position").alias("step_position"))
    items = (
        data.lane_items.filter(pl.col("lane").is_in(shown))
        .join(reach, on="step_id", how="left")
        .select(
            "step_id",
            "lane",
            "position",
            pl.concat_str(
                pl.when(pl.col("lane") == "thought")
                .then(emphasis(pl.format("“{}”", said)))
                .when(pl.col("lane") == "pain_point")
                .then(pl.format("{} · {}{}", severity, said, pain_reach))
                .when(pl.col("lane") == "opportunity")
                .then(pl.format("{}{}{}", said, gap, opportunity_detail))
                .when(pl.col("lane") == "emotion")
                .then(pl.format("{} ({})", said, pl.col("emotion").round(1).cast(pl.String).fill_null("?")))
                .otherwise(said),
                persona,
            ).alias("text"),
        )
    )
    parts = [items]
    if detail and "touchpoint" in shown:
        moment = pl.when(pl.col("moment_of_truth")).then(pl.format("{}★ moment of truth", gap)).otherwise(pl.lit(""))
        channel = emphasis(text("channel_name"))
        parts.append(
            data.steps.filter(pl.col("touchpoint_name").is_not_null()).select(
                "step_id",
                pl.lit("touchpoint").alias("lane"),
                pl.lit(0, dtype=pl.Int64).alias("position"),
                pl.format("{} · {}{}", text("touchpoint_name"), channel, moment).alias("text"),
            )
        )
    if detail and "emotion" in shown:
        parts.append(
            data.emotions.filter(pl.col("measured_emotion").is_not_null()).select(
                "step_id",
                pl.lit("emotion").alias("lane"),
                pl.lit(None, dtype=pl.Int64).alias("position"),
                pl.format(
                    "measured {} (n = {})", pl.col("measured_emotion").round(1), count_expr(pl.col("answers"))
                ).alias("text"),
            )
        )
    return (
        pl.concat(parts, how="vertical_relaxed")
        .join(step_positions, on="step_id", how="left")
        .sort("step_position", "position", nulls_last=True, maintain_order=True)
        .select("step_id", "lane", "text")
    )

"""Reads the journey page's lane grid (our own HTML) back as a person sees it: step names, and per lane the
cards under each step as text, with every tag and attribute met on the way."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import polars as pl


@dataclass(frozen=True)
class LaneMap:
    """A stage's lane items, steps, funnel and emotions: what the lane texts and the grid read of a journey map."""

    lane_items: pl.DataFrame
    steps: pl.DataFrame
    funnel: pl.DataFrame
    emotions: pl.DataFrame


@dataclass
class LaneGrid:
    steps: list[str] = field(default_factory=list)
    # lane title → one list of card texts per step, in step order
    lanes: dict[str, list[list[str]]] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)
    attributes: set[str] = field(default_factory=set)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.grid = LaneGrid()
        self.role: str | None = None  # the cell being read: columnheader, rowheader or cell
        self.lane: str | None = None
        self.text: list[str] = []
        self.card_depth: int | None = None
        self.depth = 0
        self.in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.grid.tags.add(tag)
        self.grid.attributes.update(name for name, _ in attrs)
        values = dict(attrs)
        if tag == "br":
            self.text.append("\n")
            return
        self.depth += 1
        self.in_style = tag == "style"
        role, css = values.get("role"), values.get("class") or ""
        if role == "columnheader" and "lane-corner" in css.split():
            self.role = "corner"
        elif role in ("columnheader", "rowheader"):
            self.role, self.text = role, []
        elif role == "cell":
            self.role = "cell"
            assert self.lane is not None
            self.grid.lanes[self.lane].append([])
        elif "lane-card" in css.split():
            self.card_depth, self.text = self.depth, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "br":
            return
        if tag == "style":
            self.in_style = False
        if self.card_depth == self.depth:
            assert self.lane is not None
            self.grid.lanes[self.lane][-1].append("".join(self.text))
            self.card_depth = None
        elif self.role == "corner":
            self.role = None
        elif self.role == "columnheader":
            self.grid.steps.append("".join(self.text))
            self.role = None
        elif self.role == "rowheader":
            self.lane = "".join(self.text)
            self.grid.lanes[self.lane] = []
            self.role = None
        self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.in_style:
            self.text.append(data)


def read_lane_grid(markup: str) -> LaneGrid:
    reader = _Reader()
    reader.feed(markup)
    reader.close()
    return reader.grid

"""benchmarks/RESULTS.md: the machine, the versions, each measurement's median (min–max), the ratios, the targets."""

from __future__ import annotations

import datetime as dt
import os
import platform
import sqlite3
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from benchmarks.browser import BrowserTimings
from benchmarks.common import Timing, seconds_text
from benchmarks.imports import ImportTimings
from benchmarks.page_data import PageDataTimings, View

TEN_MILLION = 10_000_000
# a demo asked for 10M events stores a few identical rows once (9,999,992 at seed 7): that is the 10M size
AT_TEN_MILLION = int(TEN_MILLION * 0.999)
ONE_MILLION = 1_000_000
SECTIONS = ("## Machine", "## Import", "## Page data", "## Browser", "## Memory", "## Targets")


@dataclass
class SizeResult:
    """Everything measured for one database at one size."""

    database: str
    events: int
    demo_seconds: float | None  # None: the database already held the demo (`--existing`)
    imports: list[ImportTimings]
    view: View
    checked: list[str]
    page_data: PageDataTimings
    browser: BrowserTimings | None = None
    browser_error: str | None = None


@dataclass(frozen=True)
class Verdict:
    target: str
    database: str
    events: int
    measured: float
    limit: float
    higher_is_better: bool
    applies: bool  # the target is set for this size

    @property
    def met(self) -> bool:
        return self.measured >= self.limit if self.higher_is_better else self.measured <= self.limit

    def describe(self) -> str:
        if not self.applies:
            return "context (the target is set at 10M events)"
        return "**met**" if self.met else "**missed**"


@dataclass
class Report:
    command: str
    results: list[SizeResult] = field(default_factory=list)
    postgres_version: str | None = None
    notes: str = ""
    load_before: tuple[float, float, float] = field(default_factory=os.getloadavg)
    load_after: tuple[float, float, float] | None = None


def machine() -> list[str]:
    cpu = "unknown"
    memory = "unknown"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        kib = next(
            line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
        )
        memory = f"{int(kib) / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    return [f"{os.cpu_count()} cores, {memory} RAM, {cpu}", f"{platform.system()} {platform.release()}"]


def versions(report: Report) -> str:
    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "not installed"

    found = [
        f"Python {platform.python_version()}",
        f"streamlit {version('streamlit')}",
        f"polars {version('polars')}",
        f"SQLAlchemy {version('sqlalchemy')}",
        f"altair {version('altair')}",
        f"SQLite {sqlite3.sqlite_version}",
        f"PostgreSQL {report.postgres_version or 'not run'}",
    ]
    chromium = next((r.browser.chromium for r in report.results if r.browser and r.browser.chromium), None)
    found.append(f"Chromium {chromium}" if chromium else "Chromium not run")
    found.append(f"playwright {version('playwright')}")
    return ", ".join(found)


def _load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{value:.1f}" for value in load)


def _cell(timing: Timing) -> str:
    return f"{seconds_text(timing.median)} | {seconds_text(timing.low)} | {seconds_text(timing.high)}"


def _size(events: int) -> str:
    return f"{events / 1_000_000:g}M" if events >= 1_000_000 else f"{events / 1000:g}k"


def verdicts(results: list[SizeResult]) -> list[Verdict]:
    found: list[Verdict] = []

    def judge(r: SizeResult, target: str, measured: float, limit: float, *, at_10m: bool, higher: bool = False) -> None:
        applies = r.events >= AT_TEN_MILLION or not at_10m
        found.append(Verdict(target, r.database, r.events, measured, limit, higher, applies))

    for r in results:
        p = r.page_data
        for name, timing in (("overview", p.overview_cold), ("journey page", p.journey_cold)):
            target = f"{name} data, cold, × faster than the GROUP BY (≥ 20×)"
            judge(r, target, p.group_by.median / timing.median, 20, at_10m=True, higher=True)
        if r.browser is None:
            continue
        t = {name: timing.median for name, timing in r.browser.timings().items()}
        chart, journey_warm = t["one small Altair chart"], t["journey page, warm: first chart"]
        judge(
            r,
            "overview, warm: first chart ÷ one-small-chart page (≤ 1.2)",
            t["overview, warm: first chart"] / chart,
            1.2,
            at_10m=False,
        )
        judge(
            r,
            "overview, warm: settled ÷ one-small-chart page (≤ 1.4)",
            t["overview, warm: settled"] / chart,
            1.4,
            at_10m=False,
        )
        judge(r, "journey page, warm ÷ one-small-chart page (≤ 1.5)", journey_warm / chart, 1.5, at_10m=False)
        judge(
            r,
            "overview, cold ÷ warm, settled (≤ 2)",
            t["overview, cold: settled"] / t["overview, warm: settled"],
            2,
            at_10m=True,
        )
        judge(r, "journey page, cold ÷ warm (≤ 2)", t["journey page, cold: first chart"] / journey_warm, 2, at_10m=True)
        judge(r, "click on a cell → journey page ÷ warm journey page (≤ 1.5)",
              t["click on a grid cell → journey page"] / journey_warm, 1.5, at_10m=False)  # fmt: skip
        if r.browser.peak_memory_mib is not None:
            judge(r, "app peak memory, MiB (< 400 at 10M)", r.browser.peak_memory_mib, 400, at_10m=True)
    # the 1M run of the same database: a demo asked for 1M events stores a few identical rows once (999,998)
    base_of = {r.database: r for r in results if int(ONE_MILLION * 0.999) <= r.events <= ONE_MILLION}
    for r in results:
        base = base_of.get(r.database)
        if r.events <= ONE_MILLION or base is None:
            continue
        for name, attribute in (("overview", "overview_cold"), ("journey page", "journey_cold")):
            now: Timing = getattr(r.page_data, attribute)
            before: Timing = getattr(base.page_data, attribute)
            judge(r, f"{name} data, cold, at {_size(r.events)} ÷ at 1M (≤ 1.5)", now.median / before.median, 1.5,
                  at_10m=True)  # fmt: skip
    return found


def render(report: Report) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Measured {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} with `{report.command}`. "
        "Every figure is a median of the runs, with the fastest and the slowest; all ratios come from this one "
        "run, on this machine, which other work may share (absolute times are context, ratios are the point).",
        "",
        "## Machine",
        "",
        *(f"- {line}" for line in machine()),
        f"- {versions(report)}",
        f"- load average (1, 5, 15 min) at the start: {_load(report.load_before)}; at the end: "
        f"{_load(report.load_after or os.getloadavg())} (above the core count, other work shared the machine)",
        "",
        "## Import",
        "",
        "The demo's events exported with slugs (as a customer's file would be), imported into an empty database "
        "holding the demo's map (`import_events`: checks, look-ups, facts and rollups, one transaction), against "
        "reading the file with polars and writing its rows bare (ADBC ingest on SQLite, COPY on PostgreSQL). "
        "Rows stored: identical rows in the file are stored once.",
        "",
        "| database | rows stored | file | import median | min | max | read + write median | import ÷ (read + write) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    if not any(r.imports for r in report.results):
        lines[-2:] = ["Not measured (`--no-imports`)."]
    for r in report.results:
        for i in r.imports:
            lines.append(
                f"| {r.database} | {i.rows:,} | {i.file_format} | {_cell(i.import_)} | {seconds_text(i.peer.median)} "
                f"(read {seconds_text(i.read.median)}, write {seconds_text(i.write.median)}) | "
                f"{i.import_.median / i.peer.median:.1f}× |"
            )
    lines += [
        "",
        "## Page data",
        "",
        "What the pages load (the same loaders as `dashboard/cache.py`, without streamlit) for the default view: the "
        "first journey, all customers, the last 90 days with data; the journey page of the stage named below. Cold: "
        "the first load on a new engine; warm: again on the same connection. Peers: (a) a stage × channel GROUP BY "
        "with COUNT(DISTINCT customer) over the period's raw events in the same database; (b) the same numbers in "
        "polars over the journey's raw events and answers read from the database.",
        "",
        "| database | events | what | median | min | max | GROUP BY ÷ this |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in report.results:
        p = r.page_data
        rows = (
            ("overview data, cold", p.overview_cold),
            ("overview data, warm", p.overview_warm),
            (f"journey page data ({r.view.stage_slug}), cold", p.journey_cold),
            (f"journey page data ({r.view.stage_slug}), warm", p.journey_warm),
            ("peer (a): GROUP BY with COUNT(DISTINCT customer)", p.group_by),
            ("peer (b): polars over the raw rows", p.polars_peer),
        )
        for name, timing in rows:
            lines.append(
                f"| {r.database} | {r.events:,} | {name} | {_cell(timing)} | {p.group_by.median / timing.median:.2f}× |"
            )
    lines += ["", "Checked equal before timing (pages vs polars peer vs GROUP BY), at every size:", ""]
    checked = sorted({c for r in report.results for c in r.checked})
    lines += [f"- {c}" for c in checked] + [""]
    lines += [
        "## Browser",
        "",
        "Debian's Chromium through Playwright, a fresh browser context per load at 1280 × 800, from `goto` to the "
        "first chart drawn (or the page settled: Streamlit's script run finished). Cold: the first visitor after a "
        "server start (a new server per run). The click: on a grid cell of a settled overview, until the journey page "
        "shows its first chart.",
        "",
    ]
    measured = [r for r in report.results if r.browser is not None]
    if not measured and not any(r.browser_error for r in report.results):
        lines += ["Not run (no Chromium at /usr/bin/chromium, or `--no-browser`).", ""]
    else:
        lines += [
            "| database | events | page | median | min | max | ÷ trivial page | ÷ one small chart |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in measured:
            assert r.browser is not None
            t = r.browser.timings()
            trivial, chart = t["trivial page"].median, t["one small Altair chart"].median
            for name, timing in t.items():
                lines.append(
                    f"| {r.database} | {r.events:,} | {name} | {_cell(timing)} | {timing.median / trivial:.2f}× | "
                    f"{timing.median / chart:.2f}× |"
                )
        lines.append("")
    for r in report.results:
        if r.browser_error:
            lines += [f"Failed on {r.database} at {r.events:,} events: {r.browser_error}", ""]
    lines += ["## Memory", "", "Peak resident memory (VmHWM) of the app's server process over the browser runs.", ""]
    if measured:
        lines += ["| database | events | peak MiB |", "| --- | --- | --- |"]
        for r in measured:
            assert r.browser is not None
            peak = r.browser.peak_memory_mib
            lines.append(f"| {r.database} | {r.events:,} | {'unknown' if peak is None else f'{peak:.0f}'} |")
    else:
        lines.append("Not measured (the browser part did not run).")
    lines += [
        "",
        "## Targets",
        "",
        "The project's speed targets: page data, browser, memory. Targets set at 10M events are shown at smaller "
        "sizes as context.",
        "",
        "| target | database | events | measured | verdict |",
        "| --- | --- | --- | --- | --- |",
    ]
    for v in verdicts(report.results):
        unit = "" if "MiB" in v.target else "×"
        lines.append(f"| {v.target} | {v.database} | {v.events:,} | {v.measured:.2f}{unit} | {v.describe()} |")
    if not any(r.events >= AT_TEN_MILLION for r in report.results):
        lines += ["", "10M events were not run (`--ten-million`): the targets set at 10M are not judged here."]
    lines += ["", "Demo load (context): " + ", ".join(
        f"{r.database} {_size(r.events)} "
        + ("not timed (loaded beforehand)" if r.demo_seconds is None else seconds_text(r.demo_seconds))
        for r in report.results
    ) + "."]  # fmt: skip
    if report.notes.strip():
        lines += ["", report.notes.strip()]
    return "\n".join(lines) + "\n"

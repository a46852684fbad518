"""Where the time of a page load goes in Chromium: the server's script run, the websocket, the browser's work.

    python -m benchmarks.page_profile http://127.0.0.1:8501 "/?journey=northwind-current" --runs 3

Against a running Journey Atlas server (warm it first: the first load is not counted), each load opens a
fresh browser context at 1280 × 800 and reports, as medians over the runs: when the page's websocket sent
its first message and received its first and last delta (the script run, as the browser sees it), when the
first Vega chart was drawn and the page settled (as `benchmarks.browser` times them), the number of
messages, Vega charts and elements, and Chromium's own counters of main-thread time (scripts, tasks,
layout). With `--cpu`, one more load is sampled by the JavaScript profiler and its time is summed per
bundle (vega-embed, react-dom, the data grid...), the heaviest first.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from benchmarks.browser import CHROMIUM, CHROMIUM_FLAGS, FIRST_CHART, VIEWPORT, first_chart, settled

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ELEMENTS = '[data-testid="stMain"] [data-testid="stElementContainer"]'
VEGA = '[data-testid="stMain"] [data-testid="stVegaLiteChart"]'


def load_timeline(browser: Browser, url: str) -> dict[str, float]:
    """One fresh-context load of `url`: seconds from `goto` to each mark, counts, and main-thread seconds."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(180_000)
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    frames: list[tuple[str, float]] = []

    def watch(socket: Any) -> None:
        socket.on("framereceived", lambda _payload: frames.append(("in", time.perf_counter())))
        socket.on("framesent", lambda _payload: frames.append(("out", time.perf_counter())))

    page.on("websocket", watch)
    try:
        started = time.perf_counter()
        page.goto(url)
        first_chart(page)
        chart = time.perf_counter() - started
        settled(page)
        done = time.perf_counter() - started
        counters = {m["name"]: float(m["value"]) for m in cdp.send("Performance.getMetrics")["metrics"]}
        received = [at - started for kind, at in frames if kind == "in"]
        sent = [at - started for kind, at in frames if kind == "out"]
        return {
            "first message sent": sent[0] if sent else float("nan"),
            "first delta received": received[0] if received else float("nan"),
            "last delta received": received[-1] if received else float("nan"),
            "first chart drawn": chart,
            "settled": done,
            "messages received": float(len(received)),
            "Vega charts": float(page.locator(VEGA).count()),
            "elements": float(page.locator(ELEMENTS).count()),
            "main thread: scripts (s)": counters.get("ScriptDuration", float("nan")),
            "main thread: all tasks (s)": counters.get("TaskDuration", float("nan")),
            "main thread: layout and style (s)": counters.get("LayoutDuration", 0.0)
            + counters.get("RecalcStyleDuration", 0.0),
        }
    finally:
        context.close()


def cpu_by_bundle(browser: Browser, url: str) -> Counter[str]:
    """Milliseconds of sampled JavaScript time per bundle (file name) over one load, callees included."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(180_000)
    cdp = context.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 1000})
    cdp.send("Profiler.start")
    try:
        page.goto(url)
        page.locator(FIRST_CHART).first.wait_for(state="visible")
        settled(page)
        profile = cdp.send("Profiler.stop")["profile"]
    finally:
        context.close()
    nodes = {node["id"]: node for node in profile["nodes"]}
    parent = {child: node["id"] for node in profile["nodes"] for child in node.get("children", [])}
    spent: Counter[str] = Counter()
    for sample, micros in zip(profile["samples"], profile["timeDeltas"], strict=True):
        seen: set[str] = set()
        node: int | None = sample
        while node is not None:  # each bundle on the stack counts once per sample
            frame = nodes[node]["callFrame"]
            bundle = frame["url"].rsplit("/", 1)[-1] or frame["functionName"]
            if bundle and bundle != "(root)" and bundle not in seen:
                seen.add(bundle)
                spent[bundle] += micros / 1000
            node = parent.get(node)
    return spent


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", help="the server's base URL, e.g. http://127.0.0.1:8501")
    parser.add_argument("paths", nargs="+", help="pages to load, e.g. '/?journey=northwind-current'")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cpu", action="store_true", help="also sum a sampled JavaScript profile per bundle")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        for path in args.paths:
            url = args.base.rstrip("/") + path
            load_timeline(browser, url)  # the server's first page of this kind is not counted
            loads = [load_timeline(browser, url) for _ in range(args.runs)]
            print(f"{path} (medians of {args.runs} loads)")
            for name in loads[0]:
                print(f"  {name}: {statistics.median(load[name] for load in loads):.2f}")
            if args.cpu:
                print("  JavaScript time per bundle, callees included (ms):")
                for bundle, millis in cpu_by_bundle(browser, url).most_common(12):
                    print(f"    {millis:8.0f}  {bundle}")
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

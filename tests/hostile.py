"""A hostile corpus: what an attacker or an unlucky export puts in URL parameters, form fields and files.

Strings for every URL parameter and form field (markup, Markdown links and images, script, SQL fragments,
10k-character text, control characters, zero-width and right-to-left marks, calendar-edge dates), and
files (YAML bombs and deep nesting, wide CSVs, binary garbage, NUL bytes, UTF-16). Tests sample it to
keep their run time small; `SAMPLE` is the sample every page test drives through every parameter.
"""

from __future__ import annotations

from pathlib import Path

LINK = "x'. Your session expired: [log in again](http://attacker.example/login) '"
IMAGE = "![i](http://attacker.example/track.png)"
STRINGS: dict[str, str] = {
    "markdown link": LINK,
    "markdown image": IMAGE,
    "html": "<img src=x onerror=alert(1)><b>bold</b>",
    "script": "<script>alert(document.cookie)</script>",
    "katex": "$$\\href{http://attacker.example}{\\text{click}}$$",
    "directive": ":red[alert] :material/warning: **bold** _it_ `code`",
    "autolink": "see www.attacker.example or http://attacker.example/x",
    "heading": "x\n# Heading\n---\n> quote",
    "sql": "' OR 1=1; DROP TABLE events; --",
    "control": "a\x00b\x07c\x1b[31md\re",
    "zero width and rtl": "pay\u200bpal\u202egnp.exe\u200f\u2066x\u2069",
    "long": "A" * 10_000,
    "unicode": "Ünïcødé 😀 ＝1+1",
}
# the dates at the edges of the calendar, for `from`, `to`, `compare_from`, `compare_to`
EDGE_DATES = ("0001-01-01", "9999-12-31", "1900-02-29", "2024-02-30")

# a sample for the page tests: one of each kind that could render as markup, plus the long one
SAMPLE = ("markdown link", "markdown image", "katex", "directive", "autolink", "heading", "long", "zero width and rtl")

# YAML that costs nothing to write and everything to expand or recurse into
YAML_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)
YAML_DEEP_FLOW = "version: " + "[" * 10_000 + "]" * 10_000 + "\n"
YAML_DEEP_BLOCK = "".join(" " * i + f"k{i}:\n" for i in range(10_000))
YAML_RECURSIVE = "a: &a [*a]\n"


def wide_csv(path: Path, columns: int = 1_000_000) -> Path:
    """A CSV with `columns` columns in its header and one data row (about 8 MB for a million)."""
    header = ",".join(f"c{i}" for i in range(columns))
    path.write_text(header + "\n" + ",".join("1" for _ in range(columns)) + "\n", encoding="utf-8")
    return path


def garbage_file(path: Path, size: int = 64 << 10) -> Path:
    """Binary noise (a fixed pattern, so every run sees the same bytes), NUL bytes included."""
    path.write_bytes(bytes((i * 7919 + 13) % 256 for i in range(size)))
    return path


# Not a speed target (benchmarks measure speed): a bound far above any honest refusal on a loaded machine,
# that only expanding an alias bomb or reading a hostile file in full would reach.
HANG_GUARD_SECONDS = 60.0

"""Colours shared by every chart: colour-blind safe (Okabe–Ito), and never the only cue."""

from __future__ import annotations

GOOD = "#009E73"  # bluish green
WARNING = "#E69F00"  # orange
BAD = "#D55E00"  # vermillion
NO_DATA = "#E4E4E4"  # pale grey: drawn dashed, so "too few answers" never reads as "bad"
MEASURED = "#0072B2"  # blue
ASSUMED = "#CC79A7"  # reddish purple
INK = "#1F2933"
MUTED_INK = "#52606D"

STATUS_ORDER = ["green", "amber", "red", "no data"]
STATUS_COLOURS = {"green": GOOD, "amber": WARNING, "red": BAD, "no data": NO_DATA}

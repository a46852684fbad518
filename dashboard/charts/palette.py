"""Colours shared by every chart: colour-blind safe (Okabe–Ito hues), and never the only cue.

Every colour that carries text is dark or pale enough for that text to reach 4.5:1 (WCAG AA): the
status fills are Okabe–Ito's green and vermillion darkened until white reads on them, and text on a
fill of varying colour takes `ink_on(fill)`.
"""

from __future__ import annotations

GOOD = "#007A5A"  # bluish green, darkened: white text 5.3:1
WARNING = "#E69F00"  # orange: dark text 6.5:1
BAD = "#B34700"  # vermillion, darkened: white text 5.4:1, and 5.4:1 as text on white
NO_DATA = "#E4E4E4"  # pale grey, hatched: "too few answers" never reads as "bad"
NO_DATA_HATCH = "#C4C4C4"  # the hatching's darker stripes
NO_DATA_EDGE = "#6B6B6B"
MEASURED = "#0072B2"  # blue
ASSUMED = "#CC79A7"  # reddish purple
INK = "#1F2933"
MUTED_INK = "#52606D"  # secondary text: 6.4:1 on white, 4.9:1 on the pale status tints
WHITE = "#FFFFFF"
QUIET_EDGE = "#9AA5B1"

STATUS_ORDER = ["green", "amber", "red", "no data"]
STATUS_COLOURS = {"green": GOOD, "amber": WARNING, "red": BAD, "no data": NO_DATA}
# pale tints of the status colours for large areas that carry dark text (the stage strip's boxes)
STATUS_TINTS = {"green": "#D3EDE4", "amber": "#FBEACB", "red": "#F6DCCB", "no data": "#EEF0F2"}

# volume in five steps; the middle of a continuous blue ramp is too dark for dark text and too pale for
# white, so the steps skip it
VOLUME_STEPS = ["#EFF5FB", "#C6DBEF", "#9ECAE1", "#2171B5", "#08306B"]


def _channel(value: int) -> float:
    share = value / 255
    return share / 12.92 if share <= 0.03928 else float(((share + 0.055) / 1.055) ** 2.4)


def luminance(colour: str) -> float:
    """WCAG relative luminance of a `#RRGGBB` colour."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two `#RRGGBB` colours, 1..21."""
    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def ink_on(fill: str) -> str:
    """The text colour that reads best on `fill`: dark ink on pale fills, white on dark ones."""
    return WHITE if contrast(WHITE, fill) > contrast(INK, fill) else INK

"""The overview's headline tiles through Streamlit's AppTest: target, status, a coloured change, ±0 neutral."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from tests.paths import APP


def _tiles() -> None:
    import datetime as dt

    import polars as pl

    from dashboard.components import frame
    from data_access.experience_map import Headline
    from data_access.metrics import Status

    weekly = pl.DataFrame(
        {"week": [dt.date(2026, 10, 5), dt.date(2026, 10, 12)], "value": [4.9, 4.6], "answers": [80, 90]}
    )
    frame.headline_cards(
        [
            # CSAT 66 % against 80: off target, up 2.5 points (good: green)
            Headline("csat", "CSAT", "Customer satisfaction", 66.0, 63.5, Status.RED, 80.0, 300, "csat", "higher"),
            # CES lower-is-better (as a map may define it): a fall is good news, green
            Headline("ces", "CES", "Effort", 4.6, 4.9, Status.GREEN, 5.0, 170, "ces", "lower", weekly),
            # NPS unchanged: "±0", no arrow, no colour
            Headline("nps", "NPS", "Net Promoter Score", 31.0, 31.2, Status.GREEN, 30.0, 500, "nps", "higher"),
            # too few answers: no value, not enough data, never on target
            Headline("sentiment", "Sentiment", "Sentiment", None, None, Status.NO_DATA, 20.0, 4, "sentiment"),
        ]
    )


@pytest.fixture
def tiles() -> AppTest:
    return AppTest.from_function(_tiles, default_timeout=30).run()


def _tile_texts(app: AppTest) -> list[str]:
    return [str(m.value).replace("\u00a0", " ") for m in app.markdown]


def test_each_tile_shows_value_target_and_status_in_words(tiles: AppTest) -> None:
    assert not tiles.exception
    assert [(m.label, m.value) for m in tiles.metric] == [
        ("CSAT", "66.0%"),
        ("CES", "4.60"),
        ("NPS", "+31"),
        ("Sentiment", "—"),
    ]
    assert _tile_texts(tiles) == [
        ":red-badge[off target] target 80.0%",
        ":green-badge[on target] target 5.00",
        ":green-badge[on target] target +30",
        ":gray-badge[not enough data] target +20",
    ]


def test_a_change_is_coloured_by_whether_it_is_good_and_no_change_is_neutral(tiles: AppTest) -> None:
    csat, ces, nps, sentiment = tiles.metric
    assert (csat.delta, csat.proto.color, csat.proto.direction) == (
        "+2.5 pts",
        MetricProto.MetricColor.GREEN,
        MetricProto.MetricDirection.UP,
    )
    # a fall of a lower-is-better metric: down arrow, green
    assert (ces.delta, ces.proto.color, ces.proto.direction) == (
        "-0.30",
        MetricProto.MetricColor.GREEN,
        MetricProto.MetricDirection.DOWN,
    )
    # -0.2 rounds to no change: "±0", grey, no arrow (never a red "↓ -0")
    assert (nps.delta, nps.proto.color, nps.proto.direction) == (
        "±0",
        MetricProto.MetricColor.GRAY,
        MetricProto.MetricDirection.NONE,
    )
    assert sentiment.delta == "not enough data"
    assert sentiment.proto.color == MetricProto.MetricColor.GRAY


def test_a_tile_with_weekly_values_draws_its_sparkline(tiles: AppTest) -> None:
    images = [image for element in tiles.get("image") for image in element.proto.imgs]
    assert len(images) == 1  # only CES has a weekly series
    svg = base64.b64decode(images[0].url.removeprefix("data:image/svg+xml;base64,")).decode()
    assert "Week of 05 Oct 2026: 4.90 (80 answers)" in svg
    assert "Week of 12 Oct 2026: 4.60 (90 answers)" in svg
    assert not tiles.get("vega_lite_chart")  # drawn with the page, not as a chart of its own
    # an image: its numbers are told in words, in its alternative text and the tile's help
    words = "lowest 4.60 (week of 12 Oct), highest 4.90 (week of 05 Oct), latest 4.60 (week of 12 Oct)"
    assert words in images[0].alt
    assert words in tiles.metric[1].proto.help


def _run_overview(**params: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    for name, value in params.items():
        app.query_params[name] = value
    return app.run()


@pytest.fixture
def run_overview(app_env: str) -> Callable[..., AppTest]:
    return _run_overview


def test_the_demo_overview_tiles_are_the_journeys_metrics_with_target_and_status(
    run_overview: Callable[..., AppTest],
) -> None:
    app = run_overview()
    assert not app.exception
    labels = [m.label for m in app.metric]
    assert labels[:4] == ["NPS", "CSAT", "CES", "Sentiment"]
    assert labels[4].startswith("Conversion to")
    badges = [t for t in _tile_texts(app) if "-badge[" in t]
    assert len(badges) == 5
    assert all(" target " in b for b in badges)
    words = ("on target", "near target", "off target", "not enough data")
    assert all(any(f"[{w}]" in b for w in words) for b in badges)


def _tile_with_gaps() -> None:
    import datetime as dt

    import polars as pl

    from dashboard.components import frame
    from data_access.experience_map import Headline
    from data_access.metrics import Status

    weeks = [dt.date(2026, 10, 5) + dt.timedelta(weeks=i) for i in range(4)]
    weekly = pl.DataFrame(
        {"week": weeks, "value": [30.0, None, None, 26.0], "answers": [40, 3, 5, 45]},
        schema_overrides={"value": pl.Float64},
    )
    frame.headline_cards([Headline("nps", "NPS", "Net Promoter Score", 27.0, 30.0, Status.AMBER, 30.0, 93, "nps",
                                   "higher", weekly)])  # fmt: skip


def test_a_sparkline_with_gaps_says_how_many_weeks_it_draws(tiles: AppTest) -> None:
    """Two dots of thirteen weeks read as a broken chart unless the tile says the rest had too few answers."""
    gaps = AppTest.from_function(_tile_with_gaps, default_timeout=30).run()
    assert "2 of 4 weeks measured" in [caption.value for caption in gaps.caption]
    assert not [caption.value for caption in tiles.caption if "weeks measured" in caption.value]  # CES: no gap

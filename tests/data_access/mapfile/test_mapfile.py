"""The map as a file: lossless round trips, update in place, errors that say where, and the CLI."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from dashboard import cli
from dashboard.settings import get_settings
from data_access.db import make_engine, session_scope, upgrade_schema
from data_access.mapfile import MapFile, MapFileError, canonical_map, export_map, import_map, parse_map, render_map
from data_access.mapfile.schema import (
    ChannelSpec,
    JourneySpec,
    LaneItemSpec,
    LanesSpec,
    MetricSpec,
    PersonaSpec,
    StageSpec,
    StepSpec,
    TouchpointSpec,
)
from data_access.metrics import TARGET_SCALES, Formula
from data_access.models import (
    Base,
    Channel,
    ChannelKind,
    DataVersion,
    Direction,
    Event,
    Journey,
    JourneyKind,
    MetricDefinition,
    Stage,
    Step,
    StepKind,
    Touchpoint,
)
from tests.paths import EXAMPLES

RICH_MAP = textwrap.dedent(
    """\
    version: 1
    channels:
      - slug: web
        name: Website
      - slug: email
        name: Email
      - slug: store
        name: Store
        kind: physical
      - slug: call-centre
        name: Call centre
        kind: human
    personas:
      - slug: bargain-hunter
        name: Bargain hunter
        description: Compares every price before buying.
        goals: Pay less than anyone else.
        frustrations: Hidden fees.
        empathy_map:
          thinks: Is there a cheaper shop?
          feels: Suspicious
          says: Do you price-match?
          does: Opens five tabs
      - slug: busy-parent
        name: Busy parent
        description: |-
          Shops in the evening,
          on a phone, in a hurry.
    journeys:
      - slug: retail
        name: Retail, today
        owner: CX team
        description: How customers buy from us today.
        stages:
          - slug: awareness
            name: Awareness
            description: They first hear of us.
            touchpoints:
              - slug: newsletter
                name: Newsletter
                channel: email
          - slug: purchase
            name: Purchase
            touchpoints:
              - slug: checkout
                name: Online checkout
                channel: web
                owner: E-commerce
                moment_of_truth: true
                description: Basket, delivery, payment.
              - slug: till
                name: Till
                channel: store
            steps:
              - slug: basket
                name: Review basket
                touchpoint: checkout
                lanes:
                  action:
                    - Opens the basket
                  thought:
                    - text: Why is delivery so expensive?
                      persona: bargain-hunter
                  emotion:
                    - text: Doubtful
                      emotion: -1.5
                    - text: Rushed
                      persona: busy-parent
                      emotion: -1
                  pain_point:
                    - text: Delivery fee appears late
                      severity: 4
                      evidence: 38% abandon at this step (analytics, March)
                  opportunity:
                    - text: Show the delivery fee on the product page
                      owner: E-commerce
                      status: planned
                      impact: 4
                      effort: 2
                  backstage:
                    - Stock check against the warehouse
              - slug: pay
                name: Pay
                touchpoint: checkout
          - slug: support
            name: Support
            touchpoints:
              - slug: hotline
                name: Hotline
                channel: call-centre
                moment_of_truth: true
        metrics:
          - key: checkout-csat
            label: Checkout satisfaction
            formula: csat
            unit: '%'
            target: 80
            warning: 5
            stage: purchase
            touchpoint: checkout
          - key: nps
            label: Relationship NPS
            formula: nps
            target: 30
            warning: 10
          - key: purchase-conversion
            label: Purchase conversion
            formula: conversion
            unit: '%'
            target: 0.42
            stage: purchase
          - key: support-effort
            label: Support effort
            formula: ces
            direction: lower
            stage: support
      - slug: retail-next
        name: Retail, next year
        kind: future
        improves: retail
        stages:
          - slug: purchase
            name: Purchase
            steps:
              - slug: one-click
                name: One-click checkout
                lanes:
                  emotion:
                    - text: Relieved
                      emotion: 2
    """
)


def _export(engine: Engine) -> str:
    with session_scope(engine) as session:
        return export_map(session)


def _import(engine: Engine, text: str, source: str = "retail.yaml") -> None:
    with session_scope(engine) as session:
        import_map(session, text, source=source)


def _empty(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


def _row_counts(engine: Engine) -> dict[str, int]:
    """Rows in every table of content (the data version's one row is bookkeeping, there from the start)."""
    with engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
            if table.name != DataVersion.__tablename__
        }


def test_rich_map_round_trips_to_identical_text(engine: Engine) -> None:
    _import(engine, RICH_MAP)
    exported = _export(engine)
    assert exported == RICH_MAP
    _empty(engine)
    _import(engine, exported)
    assert _export(engine) == exported


def test_import_links_the_map_together(engine: Engine) -> None:
    _import(engine, RICH_MAP)
    with session_scope(engine) as session:
        future = session.scalars(select(Journey).where(Journey.slug == "retail-next")).one()
        assert future.improves is not None and future.improves.slug == "retail"
        basket = session.scalars(select(Step).where(Step.slug == "basket")).one()
        assert basket.touchpoint is not None and basket.touchpoint.slug == "checkout"
        lanes = [(item.lane, item.position, item.persona.slug if item.persona else None) for item in basket.lane_items]
        assert lanes[:3] == [("action", 0, None), ("thought", 1, "bargain-hunter"), ("emotion", 2, None)]
        checkout = session.scalars(select(Touchpoint).where(Touchpoint.slug == "checkout")).one()
        assert checkout.moment_of_truth and checkout.channel.slug == "web"
        levels = {
            metric.key: (metric.stage_id is not None, metric.touchpoint_id is not None)
            for metric in session.scalars(select(MetricDefinition))
        }
        assert levels == {
            "nps": (False, False),
            "purchase-conversion": (True, False),
            "support-effort": (True, False),
            "checkout-csat": (True, True),
        }


def test_a_hand_written_file_is_written_back_in_canonical_order() -> None:
    shuffled = parse_map(RICH_MAP)
    shuffled = shuffled.model_copy(update={"journeys": list(reversed(shuffled.journeys))})
    assert render_map(canonical_map(shuffled)) == RICH_MAP


def test_update_in_place_keeps_ids_and_removes_what_the_file_dropped(engine: Engine) -> None:
    _import(engine, RICH_MAP)
    with session_scope(engine) as session:
        ids_before = {(s.journey.slug, s.slug): s.id for s in session.scalars(select(Stage))}
        checkout_before = session.scalars(select(Touchpoint.id).where(Touchpoint.slug == "checkout")).one()
        basket_before = session.scalars(select(Step.id).where(Step.slug == "basket")).one()
        purchase = session.scalars(
            select(Stage).where(Stage.slug == "purchase", Stage.journey.has(slug="retail"))
        ).one()
        session.add(
            Event(
                customer_id="c1",
                occurred_at=dt.datetime(2025, 3, 1, 12),
                journey_id=purchase.journey_id,
                stage_id=purchase.id,
                channel_id=session.scalars(select(Channel.id).where(Channel.slug == "web")).one(),
                step_id=basket_before,
            )
        )
    edited = _without_item(RICH_MAP, "- slug: till")
    edited = _without_item(edited, "- slug: support")
    edited = _without_item(edited, "- key: support-effort")
    edited = edited.replace("name: Awareness", "name: Discovery").replace("Retail, today", "Retail, this year")
    assert edited.count("support") == 0
    _import(engine, edited)
    assert _export(engine) == edited
    with session_scope(engine) as session:
        ids_after = {(s.journey.slug, s.slug): s.id for s in session.scalars(select(Stage))}
        assert ids_after == {key: value for key, value in ids_before.items() if key[1] != "support"}
        assert session.scalars(select(Touchpoint.id).where(Touchpoint.slug == "checkout")).one() == checkout_before
        assert session.scalars(select(Step.id).where(Step.slug == "basket")).one() == basket_before
        assert session.scalar(select(func.count()).select_from(Touchpoint).where(Touchpoint.slug == "till")) == 0
        assert session.scalars(select(Stage.name).where(Stage.slug == "awareness")).all() == ["Discovery"]
        event = session.scalars(select(Event)).one()
        assert (event.stage_id, event.step_id) == (purchase.id, basket_before)


def test_channels_and_personas_are_upserted_and_others_kept(engine: Engine) -> None:
    _import(engine, RICH_MAP)
    other = "version: 1\nchannels:\n  - slug: web\n    name: Web shop\n  - slug: chat\n    name: Chat\n"
    _import(engine, other)
    with session_scope(engine) as session:
        channels = {c.slug: c.name for c in session.scalars(select(Channel))}
        assert channels["web"] == "Web shop" and channels["chat"] == "Chat" and "store" in channels
        assert session.scalar(select(func.count()).select_from(Journey)) == 2


def test_a_map_may_reference_what_the_database_already_holds(engine: Engine) -> None:
    _import(engine, RICH_MAP)
    journey_only = textwrap.dedent(
        """\
        version: 1
        journeys:
          - slug: returns
            name: Returns
            improves: retail
            stages:
              - slug: return
                name: Return
                touchpoints:
                  - slug: desk
                    name: Returns desk
                    channel: store
                steps:
                  - slug: hand-in
                    name: Hand in
                    lanes:
                      thought:
                        - text: Will I get my money back?
                          persona: busy-parent
        """
    )
    _import(engine, journey_only)
    assert "slug: returns" in _export(engine)


# --- errors ---------------------------------------------------------------------------------------


def _without_item(text: str, first_line: str) -> str:
    """The text without the YAML list item that starts with `first_line`."""
    lines = text.splitlines(keepends=True)
    start = next(index for index, line in enumerate(lines) if line.strip() == first_line)
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines) and len(lines[end]) - len(lines[end].lstrip()) > indent:
        end += 1
    return "".join(lines[:start] + lines[end:])


def _break(old: str, new: str) -> str:
    assert old in RICH_MAP, old
    return RICH_MAP.replace(old, new, 1)


def _line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


ERROR_CASES: dict[str, tuple[str, str, str]] = {
    # name: (broken text, expected path in the message, expected words)
    "unknown channel": (
        _break("channel: store", "channel: fax"),
        "journeys[0].stages[1].touchpoints[1].channel",
        "unknown channel slug 'fax' — known: web, email, store, call-centre",
    ),
    "duplicate stage": (
        _break("- slug: support\n", "- slug: purchase\n"),
        "journeys[0].stages[2].slug",
        "duplicate stage slug 'purchase'",
    ),
    "severity out of range": (
        _break("severity: 4", "severity: 7"),
        "journeys[0].stages[1].steps[0].lanes.pain_point[0].severity",
        "severity must be between 1 and 5, got 7",
    ),
    "emotion out of range": (
        _break("emotion: -1.5", "emotion: -3"),
        "journeys[0].stages[1].steps[0].lanes.emotion[0].emotion",
        "emotion must be between -2 and +2, got -3",
    ),
    "unknown persona": (
        _break("persona: busy-parent", "persona: night-owl"),
        "journeys[0].stages[1].steps[0].lanes.emotion[1].persona",
        "unknown persona 'night-owl' — known: bargain-hunter, busy-parent",
    ),
    "unknown lane": (
        _break("backstage:", "frontstage:"),
        "journeys[0].stages[1].steps[0].lanes.frontstage",
        "unknown lane 'frontstage' — known: action, thought, emotion, pain_point, opportunity, backstage",
    ),
    "field in the wrong lane": (
        _break("- Opens the basket", "- text: Opens the basket\n                  severity: 2"),
        "journeys[0].stages[1].steps[0].lanes.action[0].severity",
        "'severity' belongs to the pain_point lane, not action",
    ),
    "unknown step touchpoint": (
        _break("touchpoint: checkout\n            lanes", "touchpoint: kiosk\n            lanes"),
        "journeys[0].stages[1].steps[0].touchpoint",
        "unknown touchpoint 'kiosk' in stage 'purchase' — known: checkout, till",
    ),
    "unknown metric stage": (
        _break("stage: support", "stage: loyalty"),
        "journeys[0].metrics[3].stage",
        "unknown stage 'loyalty'",
    ),
    "unknown improves": (
        _break("improves: retail", "improves: wholesale"),
        "journeys[1].improves",
        "unknown journey 'wholesale' — known: retail, retail-next",
    ),
    "unknown formula": (
        _break("formula: ces", "formula: happiness"),
        "journeys[0].metrics[3].formula",
        "'happiness'",
    ),
    "missing name": (
        _break("    name: Retail, next year\n", ""),
        "journeys[1].name",
        "missing required field 'name'",
    ),
    "duplicate key": (
        _break("    name: Retail, next year\n", "    name: Retail, next year\n    name: Again\n"),
        "journeys[1].name",
        "key 'name' appears twice",
    ),
    "alternative without a group": (
        _break(
            "- slug: pay\n            name: Pay\n",
            "- slug: pay\n            name: Pay\n            kind: alternative\n",
        ),
        "journeys[0].stages[1].steps[1].kind",
        "alternative step 'pay' names its group: add 'group: <name>'",
    ),
    "group on an optional step": (
        _break(
            "- slug: pay\n            name: Pay\n",
            "- slug: pay\n            name: Pay\n            kind: optional\n            group: paying\n",
        ),
        "journeys[0].stages[1].steps[1].group",
        "group 'paying' on optional step 'pay': only steps of kind 'alternative' belong to a group",
    ),
    "a group of one step": (
        _break(
            "- slug: pay\n            name: Pay\n",
            "- slug: pay\n            name: Pay\n            kind: alternative\n            group: paying\n",
        ),
        "journeys[0].stages[1].steps[1].group",
        "alternative group 'paying' has only step 'pay': a group splits the stage's entrants between two",
    ),
    "unknown step kind": (
        _break(
            "- slug: pay\n            name: Pay\n",
            "- slug: pay\n            name: Pay\n            kind: sometimes\n",
        ),
        "journeys[0].stages[1].steps[1].kind",
        "'sometimes'",
    ),
    "bad YAML syntax": (_break("name: Till\n", "name: [Till\n"), "", "bad YAML syntax, column"),
    "wrong version": (_break("version: 1", "version: 2"), "version", "unsupported map file version 2"),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_errors_name_file_path_and_line_and_write_nothing(engine: Engine, case: str) -> None:
    text, path, words = ERROR_CASES[case]
    _import(engine, RICH_MAP)
    before, counts_before = _export(engine), _row_counts(engine)
    with pytest.raises(MapFileError) as caught, session_scope(engine) as session:
        import_map(session, text.replace("Retail, today", "Retail, renamed"), source="maps/retail.yaml")
    message = str(caught.value)
    assert message.startswith("maps/retail.yaml:"), message
    assert path in message and words in message, message
    assert caught.value.problems[0].line is not None, message
    assert _export(engine) == before and _row_counts(engine) == counts_before


def test_error_lines_point_at_the_offending_line() -> None:
    text, _path, _words = ERROR_CASES["severity out of range"]
    with pytest.raises(MapFileError) as caught:
        parse_map(text, source="retail.yaml")
    assert caught.value.problems[0].line == _line_of(text, "severity: 7")
    assert str(caught.value).startswith(f"retail.yaml:{_line_of(text, 'severity: 7')}: journeys[0]")


def test_a_repeated_key_is_reported_where_it_repeats() -> None:
    text, _path, _words = ERROR_CASES["duplicate key"]
    with pytest.raises(MapFileError) as caught:
        parse_map(text)
    assert caught.value.problems[0].line == _line_of(text, "name: Again")


def test_error_in_an_empty_database_leaves_it_empty(engine: Engine) -> None:
    text, _path, _words = ERROR_CASES["unknown persona"]
    with pytest.raises(MapFileError), session_scope(engine) as session:
        import_map(session, text)
    assert sum(_row_counts(engine).values()) == 0


def test_the_example_map_imports(engine: Engine) -> None:
    example = EXAMPLES / "maps" / "minimal.yaml"
    _import(engine, example.read_text(encoding="utf-8"), source=str(example))
    exported = _export(engine)
    _empty(engine)
    _import(engine, exported)
    assert _export(engine) == exported


# --- property: any valid small map round-trips ------------------------------------------------------

slugs = st.from_regex(r"[a-z][a-z0-9-]{0,6}", fullmatch=True)
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12) | st.sampled_from(
    ["", "two\nlines", "trailing space ", "yes", "null", "1.5", "- dash", "#hash", "a: b", "'quoted'", "ünïcödé"]
)
names = texts.filter(lambda value: value.strip() != "") | st.just("Name")


def _unique_by_slug(draw: st.DrawFn, strategy: st.SearchStrategy[str], max_size: int) -> list[str]:
    return draw(st.lists(strategy, max_size=max_size, unique=True))


@st.composite
def lane_items(draw: st.DrawFn, lane: str, personas: list[str]) -> LaneItemSpec:
    persona = draw(st.none() | st.sampled_from(personas)) if personas else None
    fields: dict[str, object] = {"text": draw(names), "persona": persona}
    if lane == "emotion":
        fields["emotion"] = draw(st.none() | st.sampled_from([-2.0, -1.5, -0.25, 0.0, 1.0, 2.0]))
    if lane == "pain_point":
        fields["severity"] = draw(st.none() | st.integers(1, 5))
        fields["evidence"] = draw(st.none() | names)
    if lane == "opportunity":
        fields["owner"] = draw(st.none() | st.sampled_from(["CX", "Ops"]))
        fields["status"] = draw(st.none() | st.sampled_from(["idea", "planned", "done"]))
        fields["impact"] = draw(st.none() | st.integers(1, 5))
        fields["effort"] = draw(st.none() | st.integers(1, 5))
    return LaneItemSpec.model_validate(fields)


@st.composite
def maps(draw: st.DrawFn) -> MapFile:
    channels = [
        ChannelSpec(slug=slug, name=draw(names), kind=draw(st.sampled_from(ChannelKind)))
        for slug in _unique_by_slug(draw, slugs, 3)
    ]
    personas = [PersonaSpec(slug=slug, name=draw(names), goals=draw(texts)) for slug in _unique_by_slug(draw, slugs, 2)]
    persona_slugs = [p.slug for p in personas]
    journey_slugs = _unique_by_slug(draw, slugs, 2)
    journeys = []
    for index, journey_slug in enumerate(journey_slugs):
        stages = []
        for stage_slug in _unique_by_slug(draw, slugs, 3):
            touchpoints = (
                [
                    TouchpointSpec(
                        slug=slug,
                        name=draw(names),
                        channel=draw(st.sampled_from([c.slug for c in channels])),
                        moment_of_truth=draw(st.booleans()),
                        owner=draw(texts.filter(lambda value: len(value) <= 120)),
                    )
                    for slug in _unique_by_slug(draw, slugs, 2)
                ]
                if channels
                else []
            )
            steps = []
            for step_slug in _unique_by_slug(draw, slugs, 2):
                lanes = {
                    lane: draw(st.lists(lane_items(lane, persona_slugs), max_size=2))
                    for lane in draw(st.sets(st.sampled_from(list(LanesSpec.model_fields)), max_size=3))
                }
                touchpoint = draw(st.none() | st.sampled_from([t.slug for t in touchpoints])) if touchpoints else None
                kind = draw(st.sampled_from(StepKind))
                steps.append(
                    StepSpec(
                        slug=step_slug,
                        name=draw(names),
                        touchpoint=touchpoint,
                        kind=kind,
                        group="choice" if kind == StepKind.ALTERNATIVE else None,
                        lanes=LanesSpec.model_validate(lanes),
                    )
                )
            # a group needs two alternatives: a lone one becomes optional
            alternatives = [step for step in steps if step.kind == StepKind.ALTERNATIVE]
            if len(alternatives) == 1:
                steps[steps.index(alternatives[0])] = alternatives[0].model_copy(
                    update={"kind": StepKind.OPTIONAL, "group": None}
                )
            stages.append(
                StageSpec(
                    slug=stage_slug, name=draw(names), description=draw(texts), touchpoints=touchpoints, steps=steps
                )
            )
        metrics = []
        for key in _unique_by_slug(draw, slugs, 3):
            metric_stage = draw(st.none() | st.sampled_from(stages)) if stages else None
            metric_touchpoint = (
                draw(st.none() | st.sampled_from(metric_stage.touchpoints))
                if metric_stage and metric_stage.touchpoints
                else None
            )
            formula = draw(st.sampled_from(Formula))
            scale = TARGET_SCALES[formula]
            # a target on its formula's scale, written with the few decimals a person writes
            on_scale = st.floats(scale.low, scale.high if scale.high is not None else 1000, allow_nan=False)
            metrics.append(
                MetricSpec(
                    key=key,
                    label=draw(names),
                    formula=formula,
                    direction=draw(st.sampled_from(Direction)),
                    target=draw(st.none() | on_scale.map(lambda value: round(value, 4))),
                    warning=draw(st.sampled_from([0.0, 0.5, 2.5])),
                    stage=metric_stage.slug if metric_stage else None,
                    touchpoint=metric_touchpoint.slug if metric_touchpoint else None,
                )
            )
        improves = draw(st.none() | st.sampled_from(journey_slugs[:index])) if index else None
        journeys.append(
            JourneySpec(
                slug=journey_slug,
                name=draw(names),
                kind=draw(st.sampled_from(JourneyKind)),
                improves=improves,
                conversion_window_days=draw(st.sampled_from([30, 7, 90])),
                stages=stages,
                metrics=metrics,
            )
        )
    return MapFile(version=1, channels=channels, personas=personas, journeys=journeys)


def _in_rolled_back_session(engine: Engine, work: Callable[[Session], str]) -> str:
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            return work(Session(bind=connection, join_transaction_mode="create_savepoint"))
        finally:
            transaction.rollback()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(map_file=maps())
def test_any_valid_map_round_trips(engine: Engine, map_file: MapFile) -> None:
    text = render_map(map_file)
    assert parse_map(text) == map_file

    def import_then_export(source: str) -> Callable[[Session], str]:
        def work(session: Session) -> str:
            import_map(session, source)
            return export_map(session)

        return work

    exported = _in_rolled_back_session(engine, import_then_export(text))
    assert exported == render_map(canonical_map(map_file))
    assert _in_rolled_back_session(engine, import_then_export(exported)) == exported
    assert sum(_row_counts(engine).values()) == 0


# --- CLI ------------------------------------------------------------------------------------------


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("ATLAS_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_cli_round_trip(cli_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "retail.yaml"
    source.write_text(RICH_MAP, encoding="utf-8")
    assert cli.main(["import", "map", str(source)]) == 0
    assert "retail" in capsys.readouterr().out
    exported = tmp_path / "exported.yaml"
    assert cli.main(["export", "map", "--output", str(exported)]) == 0
    assert exported.read_text(encoding="utf-8") == RICH_MAP
    capsys.readouterr()
    assert cli.main(["export", "map"]) == 0
    assert capsys.readouterr().out == RICH_MAP


def test_cli_reports_a_bad_map_in_one_line(
    cli_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(ERROR_CASES["unknown channel"][0], encoding="utf-8")
    assert cli.main(["import", "map", str(broken)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "broken.yaml:" in error and "unknown channel slug 'fax'" in error
    engine = make_engine(cli_database)
    upgrade_schema(engine)
    assert _row_counts(engine)["channels"] == 0
    engine.dispose()


def test_cli_reports_a_missing_file(cli_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["import", "map", str(tmp_path / "nowhere.yaml")]) == 2
    assert "nowhere.yaml" in capsys.readouterr().err

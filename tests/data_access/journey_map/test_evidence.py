"""Evidence that belongs and each number once: a finding quotes its own step's or touchpoint's comments of the
period, a metric that repeats another shows once (and the map import says so), and "open" pain points and
opportunities count the same on the overview's stage strip and on the journey page."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select

from data_access.db import session_scope
from data_access.demo import CURRENT_SLUG, load_demo, map_text
from data_access.experience_map import load_experience_map
from data_access.experience_map.queries import data_days
from data_access.journey_map import comments, load_journey_map, numbers
from data_access.journey_map.content import open_counts
from data_access.mapfile import import_map
from data_access.metrics import SCALES
from data_access.models import Channel, Feedback, LaneItem, Measure, MetricDefinition, Persona, Stage, Step, Touchpoint
from data_access.scope import Period, Scope, resolve_scope, stage_scopes
from tests.journey_fixtures import END, START, build_shop, stage_scope

DEMO_EVENTS = 10_000
MIN_ANSWERS = 5


def demo_scope(engine: Engine, persona: str | None = None) -> Scope:
    """The current-state journey of the demo over its whole year of data."""
    with engine.connect() as connection:
        scope = resolve_scope(connection, journey_slug=CURRENT_SLUG, persona_slug=None, period=Period(START, END))
        assert scope is not None
        days = data_days(connection, journey_id=scope.journey_id)
        assert days is not None
        found = resolve_scope(connection, journey_slug=CURRENT_SLUG, persona_slug=persona, period=days)
    assert found is not None
    return found


# --- evidence that belongs ----------------------------------------------------------------------------


def test_demo_findings_quote_their_own_step_and_period(engine: Engine) -> None:
    """On the demo, every comment behind a finding is a low score on the finding's own step (or touchpoint, at
    one of its steps) in the period, read back from its feedback row; and findings have some to quote."""
    load_demo(engine, events=DEMO_EVENTS, seed=7)
    scope = demo_scope(engine)
    quoted = 0
    with engine.connect() as connection:
        step_touchpoint = dict(connection.execute(select(Step.id, Step.touchpoint_id)).tuples().all())
        for stage in stage_scopes(connection, scope):
            data = load_journey_map(connection, scope=stage, min_answers=MIN_ANSWERS)
            if data.evidence.is_empty():
                continue
            rows = pl.DataFrame(
                connection.execute(
                    select(
                        Feedback.id, Feedback.stage_id, Feedback.step_id, Feedback.touchpoint_id,
                        Feedback.occurred_at, Feedback.measure, Feedback.score, Feedback.comment,
                    ).where(Feedback.id.in_(data.evidence["feedback_id"].to_list()))
                ).all(),
                schema=["feedback_id", "stage_id", "step_id", "touchpoint_id", "occurred_at", "measure", "score",
                        "comment"],
                orient="row",
            )  # fmt: skip
            shown = data.evidence.select("scope", "scope_id", "feedback_id", "comment").join(
                rows, on="feedback_id", suffix="_stored"
            )
            assert shown.height == data.evidence.height
            findings = set(data.findings.select("scope", "scope_id").iter_rows())
            for row in shown.iter_rows(named=True):
                assert (row["scope"], row["scope_id"]) in findings
                own = row["step_id"] if row["scope"] == "step" else row["touchpoint_id"]
                assert own == row["scope_id"], row
                if row["scope"] == "touchpoint" and row["step_id"] is not None:
                    assert step_touchpoint[row["step_id"]] == row["scope_id"], row
                assert row["stage_id"] == stage.stage_id
                assert scope.period.start <= row["occurred_at"].date() <= scope.period.end
                assert row["score"] <= SCALES[Measure(row["measure"])].bad_to
                assert row["comment"] == row["comment_stored"]
                quoted += 1
    assert quoted > 0


def test_booking_quotes_speak_of_booking(engine: Engine) -> None:
    """The issue's example: the comments of 'Books the installation' never speak of SIM activation, call
    transfers or an engineer being on time (those belong to other steps)."""
    load_demo(engine, events=DEMO_EVENTS, seed=7)
    scope = demo_scope(engine)
    with engine.connect() as connection:
        onboarding = next(s for s in stage_scopes(connection, scope) if s.stage_slug == "onboarding")
        booking = connection.execute(
            select(Step.id).where(Step.stage_id == onboarding.stage_id, Step.slug == "book-installation")
        ).scalar_one()
        said = comments.stage_comments(connection, scope=onboarding, step_id=booking, limit=10_000)
    assert said.height > 0
    assert set(said["step_id"]) == {booking}
    for text in said["comment"]:
        assert not any(word in text for word in ("SIM", "Transferred", "Engineer was on time")), text


# Random feedback rows on the crafted journey's `buy` stage (steps browse, cart, pay; touchpoints buy-web and
# buy-store; channels web and store), some in another stage or outside the period, some without a comment.
feedback_rows = st.lists(
    st.fixed_dictionaries(
        {
            "stage": st.sampled_from(["buy", "buy", "buy", "aware"]),
            "step": st.sampled_from(["browse", "cart", "pay", None]),
            "touchpoint": st.sampled_from(["buy-web", "buy-store", None]),
            "channel": st.sampled_from(["web", "store", None]),
            "day": st.integers(-5, 18),
            "minute": st.integers(0, 24 * 60 - 1),
            "measure": st.sampled_from(["nps", "csat", "ces"]),
            "score": st.integers(0, 10),
            "comment": st.sampled_from(["Slow.", "Great.", "", None]),
        }
    ),
    max_size=30,
)


@pytest.fixture
def shop(engine: Engine) -> Iterator[tuple[Engine, dict[str, int]]]:
    ids = build_shop(engine)
    yield engine, ids


RAW_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(), "stage": pl.String(), "step_id": pl.Int64(), "touchpoint_id": pl.Int64(),
    "channel": pl.String(), "occurred_at": pl.Datetime("us"), "measure": pl.String(), "score": pl.Float64(),
    "comment": pl.String(),
}  # fmt: skip


def _insert(engine: Engine, shop_id: int, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Replace the crafted journey's feedback with `rows`; returns them with ids and what they resolve to."""
    with session_scope(engine) as session:
        session.execute(delete(Feedback))
        stages = dict(session.execute(select(Stage.slug, Stage.id).where(Stage.journey_id == shop_id)).tuples().all())
        steps = dict(session.execute(select(Step.slug, Step.id).where(Step.stage_id == stages["buy"])).tuples().all())
        channels = dict(session.execute(select(Channel.slug, Channel.id)).tuples().all())
        touchpoints = dict(session.execute(select(Touchpoint.slug, Touchpoint.id)).tuples().all())
        persona = session.execute(select(Persona.id).where(Persona.slug == "pro")).scalar_one()
        midnight = dt.datetime.combine(START, dt.time())
        stored = []
        for row in rows:
            scale = SCALES[Measure(row["measure"])]
            score = min(max(float(row["score"]), scale.low), scale.high)
            answer = Feedback(
                customer_id="h",
                occurred_at=midnight + dt.timedelta(days=row["day"], minutes=row["minute"]),
                journey_id=shop_id,
                stage_id=stages[row["stage"]],
                step_id=steps[row["step"]] if row["step"] else None,
                touchpoint_id=touchpoints[row["touchpoint"]] if row["touchpoint"] else None,
                channel_id=channels[row["channel"]] if row["channel"] else None,
                persona_id=persona,
                measure=row["measure"],
                score=score,
                comment=row["comment"],
            )
            session.add(answer)
            session.flush()
            stored.append(
                {**row, "id": answer.id, "score": score, "occurred_at": answer.occurred_at,
                 "step_id": answer.step_id, "touchpoint_id": answer.touchpoint_id}
            )  # fmt: skip
    return pl.DataFrame([{k: r[k] for k in RAW_SCHEMA} for r in stored], schema=RAW_SCHEMA)


def _expected(
    raw: pl.DataFrame,
    step_touchpoints: dict[int, int],
    *,
    step: int | None,
    touchpoint: int | None,
    channel: str | None,
) -> list[int]:
    """Directly over the raw rows: ids of the buy stage's comments of the period on that step, channel and
    touchpoint (a touchpoint's answers at its own steps, in `step_touchpoints`, or at no step)."""
    low = dt.datetime.combine(START, dt.time())
    high = dt.datetime.combine(END + dt.timedelta(days=1), dt.time())
    kept = raw.filter(
        pl.col("stage") == "buy",
        pl.col("occurred_at") >= low,
        pl.col("occurred_at") < high,
        pl.col("comment").is_not_null() & (pl.col("comment") != ""),
    )
    if step is not None:
        kept = kept.filter(pl.col("step_id") == step)
    if touchpoint is not None:
        own_steps = [step for step, on in step_touchpoints.items() if on == touchpoint]
        kept = kept.filter(
            pl.col("touchpoint_id") == touchpoint, pl.col("step_id").is_null() | pl.col("step_id").is_in(own_steps)
        )
    if channel is not None:
        kept = kept.filter(pl.col("channel") == channel)
    return kept.sort("occurred_at", "id", descending=True)["id"].to_list()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=feedback_rows, where=st.data())
def test_evidence_reads_exactly_its_step_touchpoint_channel_and_period(
    shop: tuple[Engine, dict[str, int]], rows: list[dict[str, Any]], where: st.DataObject
) -> None:
    """For random feedback rows, the comments query narrowed to a step, a touchpoint and a channel returns
    exactly the rows of that stage, step, touchpoint (at its own steps), channel and period, newest first; and
    a finding's evidence is the newest low scores of its own step or touchpoint."""
    engine, ids = shop
    raw = _insert(engine, ids["shop"], rows)
    step = where.draw(st.sampled_from([None, ids["browse"], ids["cart"], ids["pay"]]))
    touchpoint = where.draw(st.sampled_from([None, ids["buy_web"], ids["buy_store"]]))
    channel = where.draw(st.sampled_from([None, "web", "store"]))
    findings = pl.DataFrame({"scope": ["step", "touchpoint"], "scope_id": [ids["cart"], ids["buy_store"]]})
    with engine.connect() as connection:
        scope = stage_scope(connection)
        page = comments.stage_comments(
            connection, scope=scope, step_id=step, touchpoint_id=touchpoint, channel_slug=channel, limit=1_000
        )
        evidence = comments.evidence_comments(connection, scope=scope, findings=findings, per_scope=4)
    own = {ids["browse"]: ids["buy_web"], ids["cart"]: ids["buy_web"], ids["pay"]: ids["buy_store"]}
    expected = _expected(raw, own, step=step, touchpoint=touchpoint, channel=channel)
    assert page["feedback_id"].to_list() == expected
    low_scores = raw.filter(
        pl.struct("measure", "score").map_elements(
            lambda r: r["score"] <= SCALES[Measure(r["measure"])].bad_to, return_dtype=pl.Boolean
        )
    ) if raw.height else raw  # fmt: skip
    for kind, scope_id, column in (("step", ids["cart"], "step"), ("touchpoint", ids["buy_store"], "touchpoint")):
        narrowed = {"step": None, "touchpoint": None, column: scope_id}
        expected = _expected(low_scores, own, step=narrowed["step"], touchpoint=narrowed["touchpoint"], channel=None)
        shown = evidence.filter(pl.col("scope") == kind, pl.col("scope_id") == scope_id)
        assert shown["feedback_id"].to_list() == expected[:4]


# --- each number once ---------------------------------------------------------------------------------


def test_a_metric_repeating_another_is_shown_once(engine: Engine) -> None:
    """A journey-level feedback metric with the formula and target of a stage's own metric is left out on that
    stage (the stage's one stays) and kept where the targets differ; two metrics of one scope with the same
    formula and target show once; a touchpoint's metric is never a repeat of the stage's."""
    ids = build_shop(engine)
    with session_scope(engine) as session:
        session.add_all(
            [
                MetricDefinition(journey_id=ids["shop"], key="buy_nps_again", label="Buy NPS again", formula="nps",
                                 target=20, warning=10, stage_id=ids["buy"]),
                MetricDefinition(journey_id=ids["shop"], key="shop_csat", label="Journey CSAT", formula="csat",
                                 target=80),
            ]
        )  # fmt: skip
    with engine.connect() as connection:
        buy_keys = numbers.stage_metric_definitions(connection, scope=stage_scope(connection))["key"].to_list()
        aware_keys = numbers.stage_metric_definitions(connection, scope=stage_scope(connection, stage="aware"))[
            "key"
        ].to_list()
        step_keys = set(numbers.step_metrics(connection, scope=stage_scope(connection), min_answers=1)["key"].to_list())
    # buy: buy_nps (target 20) stays, its repeat goes; shop_nps (target 0) is another number; the touchpoint
    # CSATs (target 80) evaluate other answers than the journey's CSAT on the stage, which stays too
    assert sorted(buy_keys) == sorted(
        ["buy_nps", "buy_conversion", "buy_ttn", "web_csat", "store_csat", "shop_nps", "shop_csat"]
    )
    # aware: its own NPS (target 0) repeats the journey's NPS (target 0): only the stage's shows
    assert sorted(aware_keys) == ["aware_nps", "shop_csat"]
    assert "buy_nps_again" not in step_keys and "buy_nps" in step_keys


def test_demo_onboarding_shows_effort_and_satisfaction_once(engine: Engine) -> None:
    """The issue's example: on Onboarding, 'Customer effort' and 'Customer satisfaction' are the stage's own
    'Onboarding effort' and 'Onboarding satisfaction'; the page and its findings show the stage's ones only."""
    load_demo(engine, events=DEMO_EVENTS, seed=7)
    scope = demo_scope(engine)
    with engine.connect() as connection:
        onboarding = next(s for s in stage_scopes(connection, scope) if s.stage_slug == "onboarding")
        data = load_journey_map(connection, scope=onboarding, min_answers=MIN_ANSWERS)
    keys = data.metrics["key"].to_list()
    assert "ces_onboarding" in keys and "csat_onboarding" in keys
    assert "ces" not in keys and "csat" not in keys
    labels = set(data.findings["metric"])
    assert not labels & {"Customer effort (7 = very easy)", "Customer satisfaction"}
    repeated = data.metrics.group_by("formula", "direction", "target", "touchpoint_id").len()
    assert repeated["len"].max() == 1


def test_map_import_warns_about_a_repeated_metric(engine: Engine) -> None:
    """The import names both metrics, the file and the path (and line) of the repeat, and imports all the same."""
    text = textwrap.dedent(
        """\
        version: 1
        channels:
          - {slug: web, name: Web}
        journeys:
          - slug: shop
            name: Shop
            stages:
              - slug: buy
                name: Buy
            metrics:
              - {key: csat, label: Satisfaction, formula: csat, target: 80}
              - {key: csat_buy, label: Buying satisfaction, formula: csat, target: 80, stage: buy}
              - {key: csat_buy_2, label: Buying satisfaction again, formula: csat, target: 80, stage: buy}
              - {key: nps, label: NPS, formula: nps, target: 20}
              - {key: nps_buy, label: Buying NPS, formula: nps, target: 30, stage: buy}
        """
    )
    with session_scope(engine) as session:
        summary = import_map(session, text, source="maps/shop.yaml")
        stored = session.execute(select(MetricDefinition.key)).scalars().all()
    assert sorted(stored) == ["csat", "csat_buy", "csat_buy_2", "nps", "nps_buy"]
    assert len(summary.warnings) == 3, summary.warnings
    repeat, on_stage, _ = sorted(summary.warnings, key=lambda w: ("repeats 'csat_buy'" not in w, w))
    assert repeat.startswith("maps/shop.yaml:13: journeys[0].metrics[2]:")
    assert "'csat_buy_2'" in repeat and "'csat_buy'" in repeat
    assert any(
        w.startswith("maps/shop.yaml:12: journeys[0].metrics[1]:") and "'csat_buy'" in w and "'csat'" in w
        for w in summary.warnings
    )
    assert "'nps_buy'" not in " ".join(summary.warnings)
    assert "warning: maps/shop.yaml:13" in str(summary)
    assert on_stage


def test_demo_map_import_names_its_repeats(engine: Engine) -> None:
    """The demo's map: Onboarding's effort and satisfaction, and Support's effort, repeat the journey's."""
    with session_scope(engine) as session:
        summary = import_map(session, map_text(), source="northwind.yaml")
    named = {(w.split("metric '")[1].split("'")[0], w.split("repeats '")[1].split("'")[0]) for w in summary.warnings}
    assert named == {("ces_onboarding", "ces"), ("csat_onboarding", "csat"), ("ces_support", "ces")}


# --- "open" means the same everywhere -----------------------------------------------------------------


@pytest.mark.parametrize("persona", [None, "small-business"])
def test_demo_strip_counts_equal_the_journey_pages(engine: Engine, persona: str | None) -> None:
    """For every stage of the demo, the stage strip's open pain points and opportunities are the journey
    page's, and both are a direct count over the map's lane items; Usage's severity-4 pain point is open."""
    load_demo(engine, events=DEMO_EVENTS, seed=7)
    scope = demo_scope(engine, persona)
    with engine.connect() as connection:
        strip = load_experience_map(connection, scope=scope, metric="health", min_answers=MIN_ANSWERS).stages
        pages = {
            stage.stage_slug: open_counts(load_journey_map(connection, scope=stage, min_answers=MIN_ANSWERS).lane_items)
            for stage in stage_scopes(connection, scope)
        }
        items = connection.execute(
            select(Stage.slug, LaneItem.lane, LaneItem.status, Persona.slug)
            .join(Step, Step.id == LaneItem.step_id)
            .join(Stage, Stage.id == Step.stage_id)
            .outerjoin(Persona, Persona.id == LaneItem.persona_id)
            .where(Stage.journey_id == scope.journey_id)
        ).all()
    assert strip.height == len(pages) == 8
    for stage_slug, pain, opportunities in strip.select("stage_slug", "open_pain_points", "open_opportunities").rows():
        assert pages[stage_slug].row(0) == (pain, opportunities), stage_slug
        shown = [(lane, status) for slug, lane, status, who in items if slug == stage_slug and who in (None, persona)]
        direct_pain = sum(lane == "pain_point" for lane, _ in shown)
        direct_opportunities = sum(
            lane == "opportunity" and (status or "").strip().lower() not in ("done", "dropped")
            for lane, status in shown
        )
        assert (pain, opportunities) == (direct_pain, direct_opportunities), stage_slug
    usage = strip.filter(pl.col("stage_slug") == "usage").row(0, named=True)
    assert usage["open_pain_points"] >= 1

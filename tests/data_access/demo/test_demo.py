"""The Northwind demo: deterministic, realistic in shape, with its problem spots visible in the rollups."""

from __future__ import annotations

import datetime as dt
from importlib.resources import files

import polars as pl
import pytest
import yaml
from sqlalchemy import Engine, select

from data_access.db import session_scope
from data_access.demo import CURRENT_SLUG, FUTURE_SLUG, ensure_demo, load_demo, map_text
from data_access.demo.shape import shape_of
from data_access.mapfile import export_map, parse_map
from data_access.models import (
    Channel,
    Event,
    EventRollup,
    Feedback,
    FeedbackRollup,
    Journey,
    JourneyKind,
    LaneItem,
    Persona,
    Stage,
    StageEntry,
    Step,
    Touchpoint,
)

EVENTS = 10_000

STAGE_SLUGS = ["awareness", "consideration", "purchase", "onboarding", "usage", "support", "retention", "advocacy"]


def _facts(engine: Engine) -> tuple[pl.DataFrame, pl.DataFrame]:
    """All events and feedback answers, sorted, without the surrogate ids."""
    event_columns = [c for c in Event.__table__.c if c.name != "id"]
    feedback_columns = [c for c in Feedback.__table__.c if c.name != "id"]
    with engine.connect() as connection:
        events = pl.read_database(select(*event_columns), connection)
        feedback = pl.read_database(select(*feedback_columns), connection)
    return events.sort(events.columns), feedback.sort(feedback.columns, nulls_last=True)


def _feedback_by(engine: Engine, column: str, measure: str) -> pl.DataFrame:
    """Answers, favourable share and mean score per value of `column` for one measure, from the rollup."""
    rollup = FeedbackRollup.__table__
    with engine.connect() as connection:
        frame = pl.read_database(
            select(rollup.c[column], rollup.c.answers, rollup.c.good, rollup.c.score_sum).where(
                rollup.c.measure == measure
            ),
            connection,
        )
    return (
        frame.drop_nulls(column)
        .group_by(column)
        .agg(pl.sum("answers"), pl.sum("good"), pl.sum("score_sum"))
        .with_columns(
            (100.0 * pl.col("good") / pl.col("answers")).alias("top_box"),
            (pl.col("score_sum") / pl.col("answers")).alias("mean"),
        )
    )


def _ids_by_slug(engine: Engine, model: type[Stage] | type[Channel]) -> dict[str, int]:
    with session_scope(engine) as session:
        query = select(model.slug, model.id)
        if model is Stage:
            query = query.join(Journey).where(Journey.slug == CURRENT_SLUG)
        return {slug: id_ for slug, id_ in session.execute(query)}


def test_same_seed_gives_identical_facts_and_another_seed_different_ones(engine: Engine) -> None:
    """Loading twice with one seed reproduces every row; a different seed does not."""
    load_demo(engine, events=EVENTS, seed=11)
    first_events, first_feedback = _facts(engine)
    load_demo(engine, events=EVENTS, seed=11)
    again_events, again_feedback = _facts(engine)
    load_demo(engine, events=EVENTS, seed=12)
    other_events, other_feedback = _facts(engine)

    assert first_events.height > 0 and first_feedback.height > 0
    assert first_events.equals(again_events)
    assert first_feedback.equals(again_feedback)
    assert not first_events.equals(other_events)
    assert not first_feedback.equals(other_feedback)


def test_demo_has_the_whole_map(engine: Engine) -> None:
    """Both journeys, 8 ordered stages each, 7 channels, 4 personas, touchpoints, steps and lane items."""
    summary = load_demo(engine, events=EVENTS, seed=7)
    with session_scope(engine) as session:
        journeys = {j.slug: j for j in session.scalars(select(Journey))}
        current, future = journeys[CURRENT_SLUG], journeys[FUTURE_SLUG]
        assert (current.kind, future.kind) == (JourneyKind.CURRENT.value, JourneyKind.FUTURE.value)
        assert future.improves_id == current.id
        for journey in (current, future):
            assert [s.slug for s in journey.stages] == STAGE_SLUGS
            assert all(3 <= len(s.steps) <= 6 for s in journey.stages if journey is current)
        channels = {c.slug: c.kind for c in session.scalars(select(Channel))}
        assert channels == {
            "web": "digital",
            "mobile-app": "digital",
            "email": "digital",
            "social": "digital",
            "chat": "digital",
            "call-centre": "human",
            "store": "physical",
        }
        personas = list(session.scalars(select(Persona)))
        assert len(personas) == 4 and all(p.goals and p.thinks and p.feels and p.says and p.does for p in personas)
        current_touchpoints = [tp for stage in current.stages for tp in stage.touchpoints]
        assert 25 <= len(current_touchpoints) <= 32
        assert 4 <= sum(tp.moment_of_truth for tp in current_touchpoints) <= 5
        lanes = list(session.scalars(select(LaneItem).join(Step).join(Stage).where(Stage.journey_id == current.id)))
        assert {item.lane for item in lanes} == {
            "action",
            "thought",
            "emotion",
            "pain_point",
            "opportunity",
            "backstage",
        }
        assert any(item.persona_id is not None for item in lanes)
        assert all(-2 <= item.emotion <= 2 for item in lanes if item.lane == "emotion" and item.emotion is not None)
        future_facts = session.scalar(select(Event.id).where(Event.journey_id == future.id).limit(1))
        assert future_facts is None
    assert f"{summary.events:,} events" in str(summary)


def test_export_gives_the_demo_map_file_back(engine: Engine) -> None:
    """`journey-atlas export map` on a fresh demo database writes northwind.yaml byte for byte."""
    load_demo(engine, events=2_000, seed=1)
    with session_scope(engine) as session:
        exported = export_map(session)
    assert exported == files("data_access.demo").joinpath("northwind.yaml").read_text(encoding="utf-8")


def comment_places() -> dict[str, tuple[str, str, str | None]]:
    """Each text of comments.yaml and where it is written: (stage, step, channel or None for any channel)."""
    comments = yaml.safe_load(files("data_access.demo").joinpath("comments.yaml").read_text(encoding="utf-8"))
    places: dict[str, tuple[str, str, str | None]] = {}
    for stage, steps in comments.items():
        for step, groups in steps.items():
            for key, texts in groups.items():
                by_channel = texts if isinstance(texts, dict) else {None: texts}
                for channel, channel_texts in by_channel.items():
                    for text in channel_texts:
                        assert text not in places, f"{text!r} is written at two places"
                        places[text] = (stage, step, key if channel is not None else None)
    return places


def test_every_comment_belongs_to_the_step_it_is_attached_to(engine: Engine) -> None:
    """A comment's text is one comments.yaml writes for the stage and step of its answer (and for its channel
    where the text is about that channel); every stage has comments, and channel texts occur (they are
    written for two call-centre steps only, so the demo is five times the other tests' size to be sure to draw them)."""
    load_demo(engine, events=5 * EVENTS, seed=7)
    places = comment_places()
    with engine.connect() as connection:
        rows = connection.execute(
            select(Stage.slug, Step.slug, Channel.slug, Feedback.comment)
            .join(Stage, Stage.id == Feedback.stage_id)
            .join(Step, Step.id == Feedback.step_id)
            .outerjoin(Channel, Channel.id == Feedback.channel_id)
            .where(Feedback.comment.is_not(None))
        ).all()
    assert len(rows) > 100
    for stage, step, channel, comment in rows:
        assert comment in places, comment
        written_stage, written_step, written_channel = places[comment]
        assert (written_stage, written_step) == (stage, step), comment
        assert written_channel in (None, channel), comment
    assert {stage for stage, *_ in rows} == set(STAGE_SLUGS)
    assert any(comment is not None and places[comment][2] is not None for *_, comment in rows)


def test_steps_of_every_kind_and_each_customer_takes_one_alternative(engine: Engine) -> None:
    """Onboarding has the optional chasing step and the installation visit's two alternatives; whoever
    reaches the group takes exactly one of them, and only some customers chase."""
    load_demo(engine, events=EVENTS, seed=7)
    with engine.connect() as connection:
        kinds = dict(
            connection.execute(
                select(Step.slug, Step.kind).join(Stage).join(Journey).where(Journey.slug == CURRENT_SLUG)
            )
            .tuples()
            .all()
        )
        groups = dict(
            connection.execute(select(Step.slug, Step.alternative_group).where(Step.kind == "alternative"))
            .tuples()
            .all()
        )
        entries = pl.read_database(
            select(StageEntry.customer_id, Step.slug.label("step"))
            .join(Step, Step.id == StageEntry.step_id)
            .join(Stage, Stage.id == Step.stage_id)
            .where(Stage.slug == "onboarding"),
            connection,
        )
    assert {kinds["chase-installation"], kinds["installation-visit"], kinds["book-installation"]} == {
        "optional",
        "alternative",
        "required",
    }
    assert groups == {"installation-visit": "installation", "visit-rescheduled": "installation"}
    onboarded = entries["customer_id"].n_unique()
    per_customer = entries.filter(pl.col("step").is_in(list(groups))).group_by("customer_id").len()
    assert per_customer["len"].max() == 1
    rescheduled = entries.filter(pl.col("step") == "visit-rescheduled").height
    assert 0.05 < rescheduled / per_customer.height < 0.2
    chasing = entries.filter(pl.col("step") == "chase-installation").height
    assert 0.2 < chasing / onboarded < 0.8


def test_the_generator_refuses_a_map_it_has_no_numbers_for() -> None:
    """A step the generator's parameters do not know stops the load before anything is written."""
    text = map_text().replace("slug: notice-ad", "slug: notice-billboard", 1)
    with pytest.raises(ValueError, match="steps"):
        shape_of(parse_map(text), {})


def test_event_count_span_and_customers(engine: Engine) -> None:
    """The requested size is honoured, the facts cover a year, and customers number events / 10–15."""
    summary = load_demo(engine, events=EVENTS, seed=3)
    events, feedback = _facts(engine)
    assert abs(events.height - EVENTS) <= 0.03 * EVENTS
    assert summary.events == events.height and summary.feedback == feedback.height
    assert EVENTS / 15 <= events["customer_id"].n_unique() <= EVENTS / 10
    assert EVENTS / 10 <= feedback.height <= EVENTS / 6
    first, last = events["occurred_at"].min(), events["occurred_at"].max()
    assert isinstance(first, dt.datetime) and isinstance(last, dt.datetime)
    assert last - first >= dt.timedelta(days=360)
    assert last <= dt.datetime(2026, 11, 1)
    assert 0.2 <= feedback["comment"].is_not_null().mean() <= 0.4  # type: ignore[operator]


def test_funnel_narrows(engine: Engine) -> None:
    """Fewer customers reach purchase than awareness, and fewer still reach advocacy."""
    load_demo(engine, events=EVENTS, seed=5)
    stage_ids = _ids_by_slug(engine, Stage)
    entries = StageEntry.__table__
    with engine.connect() as connection:
        frame = pl.read_database(select(entries.c.stage_id).where(entries.c.step_id.is_(None)), connection)
    reached = frame["stage_id"].value_counts()
    count = {slug: reached.filter(pl.col("stage_id") == stage_ids[slug])["count"].sum() for slug in STAGE_SLUGS}
    assert count["awareness"] > count["consideration"] > count["purchase"]
    assert count["purchase"] < 0.5 * count["awareness"]
    assert 0 < count["advocacy"] < 0.5 * count["purchase"]


def test_problem_spots_show_in_the_rollups(engine: Engine) -> None:
    """Onboarding CSAT and CES, and call-centre answers, are clearly worse than the rest."""
    load_demo(engine, events=EVENTS, seed=7)
    stage_ids = _ids_by_slug(engine, Stage)
    channel_ids = _ids_by_slug(engine, Channel)
    onboarding, call_centre = stage_ids["onboarding"], channel_ids["call-centre"]

    csat = _feedback_by(engine, "stage_id", "csat")
    onboarding_csat = csat.filter(pl.col("stage_id") == onboarding)["top_box"].item()
    others_csat = csat.filter(pl.col("stage_id") != onboarding)
    assert onboarding_csat < others_csat["top_box"].min() - 5  # type: ignore[operator]

    ces = _feedback_by(engine, "stage_id", "ces")
    onboarding_ces = ces.filter(pl.col("stage_id") == onboarding)["mean"].item()
    assert onboarding_ces < ces.filter(pl.col("stage_id") != onboarding)["mean"].min() - 0.3  # type: ignore[operator]

    for measure in ("csat", "ces"):
        by_channel = _feedback_by(engine, "channel_id", measure)
        call_centre_mean = by_channel.filter(pl.col("channel_id") == call_centre)["mean"].item()
        assert call_centre_mean < by_channel.filter(pl.col("channel_id") != call_centre)["mean"].min()  # type: ignore[operator]


def test_rollups_are_built_and_scores_change_over_the_year(engine: Engine) -> None:
    """Event rollups add up to the events, and the second half of the year scores differently."""
    summary = load_demo(engine, events=EVENTS, seed=7)
    with engine.connect() as connection:
        events = pl.read_database(select(EventRollup.__table__.c.events), connection)
        feedback = pl.read_database(
            select(FeedbackRollup.__table__.c.day, FeedbackRollup.__table__.c.score_sum, FeedbackRollup.answers).where(
                FeedbackRollup.measure == "nps"
            ),
            connection,
        )
    assert events["events"].sum() == summary.events
    halves = (
        feedback.with_columns(pl.col("day").cast(pl.String).str.slice(0, 10).str.to_date().alias("day"))
        .group_by(pl.col("day") >= dt.date(2026, 5, 1))
        .agg((pl.sum("score_sum") / pl.sum("answers")).alias("mean"))
    )
    assert halves.height == 2
    assert halves["mean"].max() - halves["mean"].min() > 0.05  # type: ignore[operator]


def test_ensure_demo_loads_only_an_empty_database(engine: Engine) -> None:
    """The first call fills the database; later calls leave it alone, even with other arguments."""
    assert ensure_demo(engine, events=2_000, seed=1) is True
    before, _ = _facts(engine)
    assert ensure_demo(engine, events=5_000, seed=2) is False
    after, _ = _facts(engine)
    assert before.equals(after)


def test_ensure_demo_keeps_a_users_own_journey(engine: Engine) -> None:
    """A database holding someone's own map is never replaced by the demo."""
    with session_scope(engine) as session:
        session.add(Journey(slug="our-journey", name="Our journey"))
    assert ensure_demo(engine, events=2_000, seed=1) is False
    with session_scope(engine) as session:
        assert list(session.scalars(select(Journey.slug))) == ["our-journey"]
        assert session.scalar(select(Event.id).limit(1)) is None


def test_touchpoint_csat_is_attached(engine: Engine) -> None:
    """CSAT answers name a touchpoint of their stage; NPS answers are about the relationship."""
    load_demo(engine, events=EVENTS, seed=7)
    with engine.connect() as connection:
        frame = pl.read_database(
            select(
                Feedback.measure, Feedback.touchpoint_id, Touchpoint.stage_id, Feedback.stage_id.label("asked_at")
            ).outerjoin(Touchpoint, Touchpoint.id == Feedback.touchpoint_id),
            connection,
        )
    csat = frame.filter(pl.col("measure") == "csat")
    assert csat["touchpoint_id"].null_count() == 0
    assert (csat["stage_id"] == csat["asked_at"]).all()
    assert (
        frame.filter(pl.col("measure") == "nps")["touchpoint_id"].null_count()
        == frame.filter(pl.col("measure") == "nps").height
    )


@pytest.mark.parametrize("events", [0, -5])
def test_load_demo_refuses_an_empty_demo(sqlite_engine: Engine, events: int) -> None:
    with pytest.raises(ValueError, match="at least one event"):
        load_demo(sqlite_engine, events=events, seed=1)

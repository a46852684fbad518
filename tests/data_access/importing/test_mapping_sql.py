"""Mappings with SQL (a query over several files, derived columns), per-column stages, source ids, duplicates,
empty cells in value maps, and every problem of a file in one run; the example exports imported through
their mappings alone, checked against direct computations over their raw rows."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from data_access.db import session_scope
from data_access.importing import ImportValidationError, import_events, import_feedback, preview
from data_access.importing.mapping import MappingError, parse_mapping
from data_access.mapfile import import_map
from data_access.models import Channel, Event, Feedback, Stage, Step, Touchpoint
from tests.import_fixtures import add_shop_map, row_counts
from tests.paths import ROOT

MARKETPLACE = ROOT / "examples" / "data" / "marketplace"
SOCIAL = ROOT / "examples" / "data" / "social"


def _import_example_map(engine: Engine, name: str) -> None:
    with session_scope(engine) as session:
        import_map(session, (ROOT / "examples" / "maps" / f"{name}.yaml").read_text(), source=name)


def _raw(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def test_the_marketplace_export_imports_through_its_mappings_alone(engine: Engine) -> None:
    """Orders (joined to payments) and reviews (joined to orders): every number as in the raw files."""
    _import_example_map(engine, "marketplace")
    events = import_events(engine, path=MARKETPLACE / "orders.csv", mapping=MARKETPLACE / "orders.mapping.yaml")
    reviews = import_feedback(engine, path=MARKETPLACE / "reviews.csv", mapping=MARKETPLACE / "reviews.mapping.yaml")

    orders = _raw(MARKETPLACE / "orders.csv")
    raw_reviews = _raw(MARKETPLACE / "reviews.csv")
    stage_cells = ["purchased_at", "approved_at", "handed_to_carrier_at", "delivered_at"]
    assert events.facts == sum(orders[c].is_not_null().sum() for c in stage_cells)
    assert reviews.facts == raw_reviews.height  # two reviews of one order on one day stay two answers

    late = orders.filter(pl.col("delivered_at") > pl.col("promised_delivery_at"))
    judged = raw_reviews.join(orders, on="order_id").with_columns(
        late=pl.col("delivered_at") > pl.col("promised_delivery_at"), score=pl.col("review_score").cast(pl.Float64)
    )
    with engine.connect() as connection:
        steps = dict(connection.execute(select(Step.slug, Step.id)).tuples().all())
        late_events = connection.execute(
            select(func.count()).select_from(Event).where(Event.step_id == steps["delivered-late"])
        ).scalar_one()
        mean_score: dict[int | None, float] = dict(
            connection.execute(select(Feedback.step_id, func.avg(Feedback.score)).group_by(Feedback.step_id))
            .tuples()
            .all()
        )
        personas = connection.execute(select(func.count()).where(Event.persona_id.is_not(None))).scalar_one()
    assert late_events == late.height
    late_mean = judged.filter("late")["score"].mean()
    on_time_mean = judged.filter(~pl.col("late"))["score"].mean()
    assert mean_score[steps["delivered-late"]] == pytest.approx(late_mean)
    assert mean_score[steps["delivered-on-time"]] == pytest.approx(on_time_mean)
    # the example's truth: about 7 % late, rated about 2 stars against about 4.3
    assert 0.05 < late.height / orders["delivered_at"].is_not_null().sum() < 0.09
    assert isinstance(late_mean, float) and isinstance(on_time_mean, float)
    assert late_mean < 2.5 < 4.0 < on_time_mean
    assert personas == events.facts  # every order has a payment, so every event a persona


def test_the_social_export_imports_through_its_mapping_alone(engine: Engine) -> None:
    """Empty reasons map to brand mentions; repeated posts are skipped and counted; customer service leads."""
    _import_example_map(engine, "social")
    report = import_feedback(engine, path=SOCIAL / "posts.csv", mapping=SOCIAL / "posts.mapping.yaml")
    posts = _raw(SOCIAL / "posts.csv")
    distinct = posts.unique()
    assert report.duplicates_skipped == posts.height - distinct.height > 0
    assert report.inserted == distinct.height
    expected = distinct.group_by("reason").len().with_columns(pl.col("reason").fill_null(""))
    with engine.connect() as connection:
        stored = dict(
            connection.execute(
                select(Touchpoint.slug, func.count())
                .join(Feedback, Feedback.touchpoint_id == Touchpoint.id)
                .group_by(Touchpoint.slug)
            )
            .tuples()
            .all()
        )
    slugs = {"": "brand-mentions", "customer service": "customer-service", "product quality": "product-quality"}
    assert stored == {slugs.get(reason, reason): count for reason, count in expected.iter_rows()}
    complaints = {slug: count for slug, count in stored.items() if slug != "brand-mentions"}
    assert max(complaints, key=lambda slug: complaints[slug]) == "customer-service"
    again = import_feedback(engine, path=SOCIAL / "posts.csv", mapping=SOCIAL / "posts.mapping.yaml")
    assert (again.inserted, again.already_present) == (0, distinct.height)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_query_errors_name_the_mapping_the_query_and_the_column(sqlite_engine: Engine, tmp_path: Path) -> None:
    """An unknown column in the query, a missing table file, a failing derived column: one clear line each."""
    add_shop_map(sqlite_engine)
    data = _write(tmp_path, "visits.csv", "who,at\nada,2024-03-01\n")
    mapping = _write(
        tmp_path,
        "visits.yaml",
        "kind: events\nquery: SELECT who, at, plaec FROM source\n"
        "columns: {customer: who, timestamp: at}\nfixed: {journey: shop, stage: purchase, channel: web}\n",
    )
    with pytest.raises(ImportValidationError) as raised:
        import_events(sqlite_engine, path=data, mapping=mapping)
    (problem,) = raised.value.problems
    assert (problem.check, problem.column) == ("query", "plaec")
    assert str(mapping) in problem.file and "query" in problem.file
    assert "\n" not in problem.describe()

    mapping.write_text(mapping.read_text().replace("plaec FROM source", "1 AS x FROM source, nowhere") +
                       "tables: {nowhere: nowhere.csv}\n")  # fmt: skip
    with pytest.raises(ImportValidationError) as raised:
        import_events(sqlite_engine, path=data, mapping=mapping)
    assert [(p.check, Path(p.file).name) for p in raised.value.problems] == [("unreadable file", "nowhere.csv")]

    derived = _write(
        tmp_path,
        "derived.yaml",
        "kind: events\nderived: {late: 'arrived > promised'}\n"
        "columns: {customer: who, timestamp: at}\nfixed: {journey: shop, stage: purchase, channel: web}\n",
    )
    with pytest.raises(ImportValidationError) as raised:
        import_events(sqlite_engine, path=data, mapping=derived)
    problem = raised.value.problems[0]
    assert problem.column in ("arrived", "promised")  # a column the expression reads and the file lacks
    assert row_counts(sqlite_engine)["events"] == 0


def test_bad_sql_is_refused_with_the_mapping() -> None:
    """A query or a derived column that does not parse is a mapping mistake, before any file is read."""
    with pytest.raises(MappingError) as raised:
        parse_mapping(
            "kind: events\nquery: SELEC * FROM source\nderived: {x: 'a >>> b'}\n"
            "columns: {customer: c, timestamp: t}\nfixed: {journey: shop, stage: purchase, channel: web}\n",
            source="bad.yaml",
        )
    text = str(raised.value)
    assert text.startswith("bad.yaml:") and "query:" in text and "derived: 'x'" in text


def test_every_problem_of_a_file_in_one_run(engine: Engine, tmp_path: Path) -> None:
    """An unknown stage, a bad date and a repeated row are all reported by the first run; nothing is written."""
    add_shop_map(engine)
    data = _write(
        tmp_path,
        "visits.csv",
        "who,at,where\nada,2024-03-01,purchase\nada,2024-03-01,purchase\nbob,yesterday,purchase\neve,2024-03-02,moon\n",
    )
    mapping = _write(
        tmp_path,
        "visits.yaml",
        "kind: events\ncolumns: {customer: who, timestamp: at, stage: where}\nfixed: {journey: shop, channel: web}\n",
    )
    with pytest.raises(ImportValidationError) as raised:
        import_events(engine, path=data, mapping=mapping)
    found = {(p.check, p.rows) for p in raised.value.problems}
    assert found == {("unknown stage", (4,)), ("unparsable timestamp", (3,)), ("duplicate row", (2,))}
    assert row_counts(engine)["events"] == 0
    shown = preview(engine, path=data, mapping=mapping)
    assert {p.check for p in shown.problems} == {"unknown stage", "unparsable timestamp", "duplicate row"}


def test_a_missing_column_is_reported_with_the_rows_problems(engine: Engine, tmp_path: Path) -> None:
    """A mapped column the file lacks is one problem, reported with the rows' own problems in the same run;
    the rows are not also blamed for its empty cells; nothing is written, import or preview."""
    add_shop_map(engine)
    data = _write(
        tmp_path,
        "visits.csv",
        "who,at,where\nada,2024-03-01,purchase\nbob,yesterday,purchase\neve,2024-03-02,moon\n",
    )
    mapping = _write(
        tmp_path,
        "visits.yaml",
        "kind: events\ncolumns: {customer: who, timestamp: at, stage: where, channel: via}\nfixed: {journey: shop}\n",
    )
    with pytest.raises(ImportValidationError) as raised:
        import_events(engine, path=data, mapping=mapping)
    found = {(p.check, p.column, p.rows) for p in raised.value.problems}
    assert found == {
        ("missing column", "via", ()),
        ("unknown stage", "where", (3,)),
        ("unparsable timestamp", "at", (2,)),
    }
    (missing,) = (p for p in raised.value.problems if p.check == "missing column")
    assert "'via'" in missing.describe() and "who, at, where" in missing.describe()
    assert row_counts(engine)["events"] == 0
    shown = preview(engine, path=data, mapping=mapping)
    assert {(p.check, p.column) for p in shown.problems} == {(c, col) for c, col, _rows in found}


def test_one_mapping_gives_each_timestamp_column_its_stage_channel_and_step(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """Four timestamp columns, each its own stage and channel; one of them also a step; derived by SQL."""
    add_shop_map(sqlite_engine)
    data = _write(
        tmp_path,
        "orders.csv",
        "who,viewed,paid_at,due,posted\nada,2024-03-01,2024-03-02,2024-03-03,2024-03-05\nbob,2024-03-01,,2024-03-03,\n",
    )
    mapping = _write(
        tmp_path,
        "orders.yaml",
        """
kind: events
derived: {paid_on_time: "CASE WHEN paid_at <= due THEN paid_at END"}
columns: {customer: who}
fixed: {journey: shop}
stage_columns:
  viewed: {stage: consideration, channel: store}
  paid_on_time: {stage: purchase, channel: web, step: pay}
  posted: {stage: delivery, channel: email}
""",
    )
    report = import_events(sqlite_engine, path=data, mapping=mapping)
    assert report.facts == 4
    with sqlite_engine.connect() as connection:
        stored = connection.execute(
            select(Event.customer_id, Stage.slug, Channel.slug, Event.step_id)
            .join(Stage, Stage.id == Event.stage_id)
            .join(Channel, Channel.id == Event.channel_id)
            .order_by(Event.customer_id, Event.occurred_at)
        ).all()
    assert [(c, s, ch, step is not None) for c, s, ch, step in stored] == [
        ("ada", "consideration", "store", False),
        ("ada", "purchase", "web", True),
        ("ada", "delivery", "email", False),
        ("bob", "consideration", "store", False),
    ]


def test_source_id_keeps_alike_rows_apart_and_skip_counts_repeats(engine: Engine, tmp_path: Path) -> None:
    """Two alike answers with their own ids are two facts; the same id twice is a repeat, skipped when asked."""
    add_shop_map(engine)
    data = _write(
        tmp_path,
        "answers.csv",
        "id,who,at,score,why\nr1,ada,2024-03-01,4,\nr2,ada,2024-03-01,4,\nr2,ada,2024-03-01,4,\nr3,bob,2024-03-01,2,\n",
    )
    text = (
        "kind: feedback\ncolumns: {source_id: id, customer: who, timestamp: at, score: score, touchpoint: why}\n"
        "fixed: {journey: shop, measure: csat}\nvalues: {touchpoint: {'': checkout}}\n"
    )
    mapping = _write(tmp_path, "answers.yaml", text)
    with pytest.raises(ImportValidationError) as raised:
        import_feedback(engine, path=data, mapping=mapping)
    assert [(p.check, p.rows) for p in raised.value.problems] == [("duplicate row", (3,))]
    mapping.write_text(text + "on_duplicate: skip\n")
    report = import_feedback(engine, path=data, mapping=mapping)
    assert (report.inserted, report.duplicates_skipped) == (3, 1)
    assert "1 repeated rows skipped" in report.describe()
    with engine.connect() as connection:
        touchpoints = connection.execute(select(Touchpoint.slug).join(Feedback)).scalars().all()
    assert touchpoints == ["checkout"] * 3  # the empty cells matched the value map's ""


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=1, max_size=12))
def test_skipped_repeats_are_the_rows_less_the_distinct_ids(
    sqlite_engine: Engine, tmp_path_factory: pytest.TempPathFactory, ids: list[str]
) -> None:
    """With `on_duplicate: skip`, what is stored is one fact per distinct source id, however they repeat."""
    folder = tmp_path_factory.mktemp("skip")
    if not _has_map(sqlite_engine):
        add_shop_map(sqlite_engine)
    rows = "".join(f"{i},ada,2024-03-01,5\n" for i in ids)
    data = _write(folder, "answers.csv", "id,who,at,score\n" + rows)
    mapping = _write(
        folder,
        "answers.yaml",
        "kind: feedback\ncolumns: {source_id: id, customer: who, timestamp: at, score: score}\n"
        "fixed: {journey: shop, stage: purchase, measure: csat}\non_duplicate: skip\n",
    )
    before = row_counts(sqlite_engine)["feedback"]
    report = import_feedback(sqlite_engine, path=data, mapping=mapping)
    assert report.duplicates_skipped == len(ids) - len(set(ids))
    assert report.inserted + report.already_present == len(set(ids))
    assert row_counts(sqlite_engine)["feedback"] - before == report.inserted


def _has_map(engine: Engine) -> bool:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(Stage)).scalar_one() > 0

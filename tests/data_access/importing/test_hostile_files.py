"""Hostile files through the import functions: a clear problem, bounded work and an unchanged database."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from data_access.importing import ImportValidationError, import_events, preview
from data_access.importing.mapping import MappingError
from data_access.importing.sources import MAX_COLUMNS
from tests import hostile
from tests.import_fixtures import add_shop_map, row_counts
from tests.paths import BAD_FILES

MAPPING = BAD_FILES / "events_minimal.yaml"
EVENTS = "customer,timestamp,stage,channel\nc9,2024-02-01 08:00:00,awareness,web\nc9,2024-02-02 09:00:00,purchase,web\n"


@pytest.fixture
def shop(engine: Engine) -> Engine:
    add_shop_map(engine)
    return engine


def _refused(engine: Engine, path: Path) -> list[str]:
    before = row_counts(engine)
    with pytest.raises(ImportValidationError) as raised:
        import_events(engine, path=path, mapping=MAPPING)
    assert row_counts(engine) == before
    return [problem.describe() for problem in raised.value.problems]


def test_a_million_columns_are_refused_from_the_header_alone(shop: Engine, tmp_path: Path) -> None:
    wide = hostile.wide_csv(tmp_path / "wide.csv")
    started = time.perf_counter()
    problems = _refused(shop, wide)
    assert time.perf_counter() - started < hostile.HANG_GUARD_SECONDS
    assert any(f"1,000,000 columns; at most {MAX_COLUMNS:,}" in p for p in problems), problems


def test_binary_garbage_and_nul_bytes_give_a_problem_not_a_crash(shop: Engine, tmp_path: Path) -> None:
    assert _refused(shop, hostile.garbage_file(tmp_path / "garbage.csv"))
    nul = tmp_path / "nul.csv"
    nul.write_bytes(EVENTS.encode().replace(b"c9,", b"c\x009,"))
    assert any("NUL bytes" in p and "rows 1, 2" in p for p in _refused(shop, nul))
    unmarked = tmp_path / "utf16_without_bom.csv"
    unmarked.write_bytes(EVENTS.encode("utf-16-le"))
    assert any("encoding: utf-16-le" in p for p in _refused(shop, unmarked))
    assert _refused(shop, hostile.garbage_file(tmp_path / "garbage.parquet"))


@pytest.mark.parametrize(
    ("encoding", "declared"), [("utf-16", "utf-16"), ("utf-16-le", "utf-16-le"), ("utf-32", "utf-32")]
)
def test_a_broken_utf16_or_utf32_file_is_refused_naming_its_encoding(
    shop: Engine, tmp_path: Path, encoding: str, declared: str
) -> None:
    """A lone surrogate in row 2 of a file whose byte-order mark (or mapping) says UTF-16: not "not valid utf-8"."""
    mapping = MAPPING.read_text(encoding="utf-8") + (f"encoding: {encoding}\n" if encoding.endswith("-le") else "")
    (tmp_path / "mapping.yaml").write_text(mapping, encoding="utf-8")
    codec = "utf-16-le" if encoding.startswith("utf-16") else "utf-32-le"
    good, bad = EVENTS.split("\n")[:2], EVENTS.split("\n")[2]
    lone_surrogate = b"\x00\xd8" if codec == "utf-16-le" else b"\x00\xd8\x00\x00"
    body = ("\n".join(good) + "\n").encode(codec) + bad.encode(codec) + lone_surrogate + "\n".encode(codec)
    bom = b"" if encoding.endswith("-le") else (b"\xff\xfe" if codec == "utf-16-le" else b"\xff\xfe\x00\x00")
    (tmp_path / "events.csv").write_bytes(bom + body)
    before = row_counts(shop)
    with pytest.raises(ImportValidationError) as raised:
        import_events(shop, path=tmp_path / "events.csv", mapping=tmp_path / "mapping.yaml")
    assert row_counts(shop) == before
    (problem,) = [p.describe() for p in raised.value.problems]
    assert f"not valid {encoding}" in problem and "utf-8" not in problem and "rows 2)" in problem, problem


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_a_declared_utf16_or_utf32_file_imports_like_its_utf8_twin(shop: Engine, tmp_path: Path, encoding: str) -> None:
    """UTF-16 and UTF-32 declared by a byte-order mark, or by the mapping's `encoding:` when there is none."""
    mapping = MAPPING.read_text(encoding="utf-8")
    if not encoding.endswith(("-le", "-be")):
        (tmp_path / "mapping.yaml").write_text(mapping, encoding="utf-8")
    else:
        (tmp_path / "mapping.yaml").write_text(mapping + f"encoding: {encoding}\n", encoding="utf-8")
    (tmp_path / "events.csv").write_bytes(EVENTS.encode(encoding))
    report = import_events(shop, path=tmp_path / "events.csv", mapping=tmp_path / "mapping.yaml")
    assert row_counts(shop)["events"] == 2, report.describe()


@pytest.mark.parametrize(
    "text",
    [hostile.YAML_BOMB, hostile.YAML_DEEP_FLOW, hostile.YAML_DEEP_BLOCK],
    ids=["billion laughs", "deep flow", "deep block"],
)
def test_a_hostile_mapping_is_refused_unexpanded_and_nothing_is_written(
    shop: Engine, tmp_path: Path, text: str
) -> None:
    (tmp_path / "events.csv").write_text(EVENTS, encoding="utf-8")
    (tmp_path / "mapping.yaml").write_text("kind: events\n" + text, encoding="utf-8")
    before = row_counts(shop)
    started = time.perf_counter()
    with pytest.raises(MappingError) as raised:
        preview(shop, path=tmp_path / "events.csv", mapping=tmp_path / "mapping.yaml")
    assert time.perf_counter() - started < hostile.HANG_GUARD_SECONDS
    assert "refused" in " ".join(raised.value.messages) and "line " in " ".join(raised.value.messages)
    assert row_counts(shop) == before

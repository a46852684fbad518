"""YAML from outside is read with bounded work: bombs and deep nesting give one clear message quickly."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from data_access.importing.mapping import MappingError, parse_mapping
from data_access.mapfile import MapFileError, parse_map
from data_access.yaml_safety import MAX_DEPTH, YamlLimitError, safe_load
from tests import hostile

CASES = {
    "billion laughs": (hostile.YAML_BOMB, 6, "aliases expand to more than"),
    "10,000-deep flow nesting": (hostile.YAML_DEEP_FLOW, 1, f"nested deeper than {MAX_DEPTH} levels"),
    "10,000-deep block nesting": (hostile.YAML_DEEP_BLOCK, MAX_DEPTH, f"nested deeper than {MAX_DEPTH} levels"),
    "recursive alias": (hostile.YAML_RECURSIVE, 1, "refers to a value that contains it"),
}


def _parse_mapping(text: str) -> Any:
    return parse_mapping(text, source="hostile.yaml")


def _parse_map(text: str) -> Any:
    return parse_map(text, source="hostile.yaml")


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize(
    ("parse", "error"), [(_parse_mapping, MappingError), (_parse_map, MapFileError)], ids=["mapping", "map"]
)
def test_hostile_yaml_is_refused_without_expanding_it_with_file_and_line(
    case: str, parse: Callable[[str], Any], error: type[Exception]
) -> None:
    text, line, fragment = CASES[case]
    started = time.perf_counter()
    with pytest.raises(error) as raised:
        parse(text)
    assert time.perf_counter() - started < hostile.HANG_GUARD_SECONDS
    tracemalloc.start()
    with pytest.raises(error):
        parse(text)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 100 << 20, f"{peak / 2**20:.0f} MB"
    message = str(raised.value)
    assert fragment in message and "\n" not in message
    assert f"hostile.yaml:{line}" in message or f"line {line}:" in message


def test_ordinary_anchors_and_aliases_still_load() -> None:
    """Aliases within the budget are fine: a shared block of settings used twice."""
    text = "base: &base {delimiter: ';', encoding: latin-1}\nfirst: *base\nsecond: *base\n"
    assert safe_load(text) == {
        "base": {"delimiter": ";", "encoding": "latin-1"},
        "first": {"delimiter": ";", "encoding": "latin-1"},
        "second": {"delimiter": ";", "encoding": "latin-1"},
    }
    nested = "a:" + "".join(f"\n{'  ' * (i + 1)}k{i}:" for i in range(MAX_DEPTH - 2)) + " end\n"
    assert safe_load(nested) is not None
    with pytest.raises(YamlLimitError):
        safe_load("a:" + "".join(f"\n{'  ' * (i + 1)}k{i}:" for i in range(MAX_DEPTH)) + " end\n")

"""YAML from outside, read with bounded work: a safe loader with a budget for aliases and nesting.

PyYAML's safe loader builds no objects from tags, but an alias is a reference: nine anchors of ten
aliases each (a "billion laughs" file) stand for a billion values once anything walks the document, and
a mapping nested ten thousand deep ends in a `RecursionError`. `BoundedLoader` counts, while composing,
how many values each node stands for with its aliases expanded, and how deep it sits, and stops at the
first node past either budget with `YamlLimitError`, which names the line. Mapping files (import) and
map files both load through here.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_DEPTH = 64
MAX_VALUES = 200_000


class YamlLimitError(yaml.YAMLError):
    """A YAML text past the loader's budget; `line` is 1-based, the message one line."""

    def __init__(self, message: str, line: int) -> None:
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}")


class BoundedLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that refuses nesting deeper than `max_depth` and more than `max_values` values."""

    def __init__(self, stream: str, *, max_depth: int = MAX_DEPTH, max_values: int = MAX_VALUES) -> None:
        super().__init__(stream)
        self.max_depth = max_depth
        self.max_values = max_values
        self._depth = 0
        self._values: dict[int, int] = {}  # id(node) -> values it stands for, aliases expanded

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line + 1
        if self._depth >= self.max_depth:
            raise YamlLimitError(f"nested deeper than {self.max_depth} levels; refused", line)
        alias = isinstance(event, yaml.AliasEvent)
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if alias:
            if id(node) not in self._values:
                raise YamlLimitError(f"alias *{event.anchor} refers to a value that contains it; refused", line)
            values = self._values[id(node)]
        elif isinstance(node, yaml.MappingNode):
            values = 1 + sum(self._values.get(id(key), 1) + self._values.get(id(value), 1) for key, value in node.value)
        elif isinstance(node, yaml.SequenceNode):
            values = 1 + sum(self._values.get(id(item), 1) for item in node.value)
        else:
            values = 1
        if values > self.max_values:
            raise YamlLimitError(
                f"aliases expand to more than {self.max_values:,} values (an alias bomb?); refused", line
            )
        self._values[id(node)] = values
        return node


def bounded_loader(text: str) -> BoundedLoader:
    """A loader over `text`; the caller disposes of it."""
    return BoundedLoader(text)


def safe_load(text: str) -> Any:
    """The document in `text`, like `yaml.safe_load`, within the budget (`YamlLimitError` past it)."""
    loader = BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()

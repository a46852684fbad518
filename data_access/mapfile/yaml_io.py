"""YAML text of a map: minimal, stable dumping, and loading that keeps the line of every node for errors."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from data_access.mapfile.errors import MapFileError, MapProblem
from data_access.mapfile.schema import MapFile
from data_access.yaml_safety import BoundedLoader, YamlLimitError


class _MapDumper(yaml.SafeDumper):
    """Block style, lists indented under their key, multi-line text as literal blocks, 1.0 written as 1."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


def _represent_float(dumper: yaml.SafeDumper, value: float) -> yaml.ScalarNode:
    if value.is_integer() and abs(value) < 1e15:
        return dumper.represent_int(int(value))
    return dumper.represent_float(value)


_MapDumper.add_representer(str, _represent_str)
_MapDumper.add_representer(float, _represent_float)


def render_map(map_file: MapFile) -> str:
    """The YAML text of a map, minimal and in the order it was given."""
    document = map_file.model_dump(mode="json", exclude_defaults=True)
    for journey in document.get("journeys", []):
        for stage in journey.get("stages", []):
            for step in stage.get("steps", []):
                for lane, items in step.get("lanes", {}).items():
                    step["lanes"][lane] = [item["text"] if list(item) == ["text"] else item for item in items]
    return yaml.dump(document, Dumper=_MapDumper, sort_keys=False, allow_unicode=True, width=1_000_000)


class Locator:
    """Line numbers of paths inside a parsed YAML document."""

    def __init__(self, root: yaml.Node) -> None:
        self.root = root

    def line(self, loc: Sequence[str | int]) -> int:
        """The line of the deepest node on `loc` that exists: a key's own line, a list item's first line."""
        node, line = self.root, self.root.start_mark.line
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                entry = next(((key, value) for key, value in node.value if key.value == part), None)
                if entry is None:
                    break
                line, node = entry[0].start_mark.line, entry[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line
            else:
                break
        return line + 1


def format_path(loc: Sequence[str | int]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _duplicate_keys(node: yaml.Node, loc: tuple[str | int, ...] = ()) -> Iterable[MapProblem]:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.value in seen:
                message = f"key '{key.value}' appears twice in the same mapping"
                yield MapProblem(format_path((*loc, key.value)), message, key.start_mark.line + 1)
            seen.add(key.value)
            yield from _duplicate_keys(value, (*loc, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*loc, index))


def load_yaml(text: str, source: str) -> tuple[Any, Locator]:
    loader = BoundedLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise MapFileError(source, [MapProblem("", "the file is empty: a map starts with 'version: 1'")])
        duplicates = list(_duplicate_keys(root))
        if duplicates:
            raise MapFileError(source, duplicates)
        return loader.construct_document(root), Locator(root)
    except YamlLimitError as exc:
        raise MapFileError(source, [MapProblem("", exc.message, exc.line)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        column = f", column {mark.column + 1}" if mark is not None else ""
        raise MapFileError(source, [MapProblem("", f"bad YAML syntax{column}: {exc.problem}", line)]) from exc
    except yaml.YAMLError as exc:
        raise MapFileError(source, [MapProblem("", f"bad YAML: {exc}")]) from exc
    finally:
        loader.dispose()

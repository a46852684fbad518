"""The map as a file: journeys, stages, steps, lanes, touchpoints, channels, personas and metric targets in YAML.

Teams keep their maps under version control and review changes as diffs, so the file is:

- **lossless**: export, import into an empty database, export again gives the same text;
- **stable**: things with a position (channels, stages, steps, lane items) are written in position order,
  the rest in a canonical order (touchpoints by channel then slug, metrics by key, personas and journeys by
  slug); references are slugs, never database ids;
- **minimal**: empty and default fields are left out, and a lane item with nothing but text is written
  as a plain string.

Import is all-or-nothing inside the caller's session: the whole file is parsed and checked, references
included, before anything is written, and every problem raises `MapFileError` naming the file, the
path inside the document and its line. Journeys, channels and personas are upserted by slug; inside a
journey, stages, steps and touchpoints that keep their slugs keep their ids (so facts stay linked) and
what the file no longer lists is removed. Journeys, channels and personas absent from the file are left
alone, so one file per journey works as well as one file for the whole company.

The package: `schema` (the document's pydantic model), `yaml_io` (text in and out, with line numbers),
`checks` (parsing and everything the schema cannot check), `read` (database → file) and `write`
(file → database).
"""

from data_access.mapfile.checks import parse_map
from data_access.mapfile.errors import MapFileError, MapProblem
from data_access.mapfile.read import canonical_map, export_map, read_map
from data_access.mapfile.schema import MAP_FILE_VERSION, MapFile, MapImportSummary
from data_access.mapfile.write import import_map
from data_access.mapfile.yaml_io import render_map

__all__ = [
    "MAP_FILE_VERSION",
    "MapFile",
    "MapFileError",
    "MapImportSummary",
    "MapProblem",
    "canonical_map",
    "export_map",
    "import_map",
    "parse_map",
    "read_map",
    "render_map",
]

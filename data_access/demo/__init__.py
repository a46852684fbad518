"""The demo company: Northwind Telecom's experience map, journey maps and a year of generated facts.

- `northwind.yaml`: the map (two journeys, stages, steps, lanes, channels, touchpoints, personas,
  metrics) in the map file format, imported with `import_map` like any user's map;
- `comments.yaml`: what customers write with their answers;
- `parameters`: the generator's own numbers (which step fires which event, continue rates, channel
  mixes, the deliberate problem spots: onboarding and the call centre score clearly worse);
- `generator`: the facts, generated from a seed with numpy, the same seed and size giving the same rows;
- `loader`: `load_demo` and `ensure_demo`.
"""

from data_access.demo.loader import DemoSummary, ensure_demo, load_demo, map_text
from data_access.demo.parameters import CURRENT_SLUG, DATA_DAYS, DATA_END, DATA_START, FUTURE_SLUG

__all__ = [
    "CURRENT_SLUG",
    "DATA_DAYS",
    "DATA_END",
    "DATA_START",
    "FUTURE_SLUG",
    "DemoSummary",
    "ensure_demo",
    "load_demo",
    "map_text",
]

"""The journey map (`/journey`): one stage in depth, its content, numbers and comments, and its load function.

`content` reads the map (stages, steps, lane items, open findings), `numbers` the rollups behind the
stage's funnel and metrics, `comments` the customers' own words; `assembly` is the pure part and `load`
puts a view together.
"""

from data_access.journey_map.comments import BANDS, NPS_BAND_LABELS
from data_access.journey_map.load import JourneyMapData, load_journey_map

__all__ = ["BANDS", "NPS_BAND_LABELS", "JourneyMapData", "load_journey_map"]

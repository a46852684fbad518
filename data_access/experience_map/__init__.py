"""The experience map (`/`): queries over rollups, their pure assembly, and the load function of the view."""

from data_access.experience_map.assembly import GRID_METRICS, Headline
from data_access.experience_map.load import ExperienceMapData, load_experience_map

__all__ = ["GRID_METRICS", "ExperienceMapData", "Headline", "load_experience_map"]

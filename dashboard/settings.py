"""Typed configuration, read from ATLAS_* environment variables and a `.env` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATLAS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{Path('journey_atlas.db').resolve()}",
        description="SQLAlchemy URL of the database; a SQLite file in the working directory by default.",
    )
    min_responses: int = Field(default=30, ge=1, description="Fewer answers than this show 'not enough data'.")
    demo_events: int = Field(default=200_000, ge=1_000, description="Size of the demo filled in on first start.")
    demo_seed: int = Field(default=7, description="Seed of the demo data set.")
    cache_ttl_seconds: int = Field(
        default=86_400,
        ge=1,
        description="The longest a cached view is kept; any write to the data makes views recompute at once.",
    )
    port: int = Field(default=8501, ge=1, le=65_535)
    host: str = Field(
        default="127.0.0.1",
        description="Address `journey-atlas serve` listens on: this machine only unless set (e.g. 0.0.0.0).",
    )
    stage_notes: bool = Field(
        default=True, description="Show notes from the front line on each stage, and let people add them."
    )


# where a user sets the database: named in every message about a fault of it
DATABASE_URL_SETTING = f"{Settings.model_config.get('env_prefix', '')}DATABASE_URL"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

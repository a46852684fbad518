"""Typed configuration, read from ATLAS_* environment variables and a `.env` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# addresses that only this machine can reach: with no editor login or passphrase, writes need one of them
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
MIN_PASSPHRASE = 12


def is_local_host(host: str) -> bool:
    """Whether a listening address is reachable from this machine only."""
    return host.strip().lower().strip("[]") in LOCAL_HOSTS


class Settings(BaseSettings):
    # a setting refused at start-up is named without its value: the value may be a password or the passphrase
    model_config = SettingsConfigDict(env_prefix="ATLAS_", env_file=".env", extra="ignore", hide_input_in_errors=True)

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
    draw_above_the_fold_first: bool = Field(
        default=True,
        description="Draw a page's sections below the fold (What changed, moments of truth, comments) only once "
        "the browser has drawn the page's first chart; false draws the whole page in one run.",
    )
    port: int = Field(default=8501, ge=1, le=65_535)
    host: str = Field(
        default="127.0.0.1",
        description="Address `journey-atlas serve` listens on: this machine only unless set (e.g. 0.0.0.0).",
    )
    stage_notes: bool = Field(
        default=True, description="Show notes from the front line on each stage, and let editors add them."
    )
    editor_emails: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="With a login configured ([auth] in .streamlit/secrets.toml): the e-mails that may write, "
        "comma-separated; everyone else who logs in only views.",
    )
    editor_passphrase: SecretStr | None = Field(
        default=None,
        description=f"Without a login: the passphrase that unlocks writing for a browser session "
        f"(at least {MIN_PASSPHRASE} characters).",
    )

    @field_validator("editor_emails", mode="before")
    @classmethod
    def _emails_from_text(cls, value: object) -> object:
        """`a@example.com, b@example.com` from the environment; e-mails compare without case."""
        items = value.split(",") if isinstance(value, str) else value
        if isinstance(items, list | tuple):
            return [str(item).strip().lower() for item in items if str(item).strip()]
        return value

    @field_validator("editor_passphrase", mode="before")
    @classmethod
    def _passphrase_long_enough(cls, value: object) -> object:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if text is None or text == "":
            return None  # `ATLAS_EDITOR_PASSPHRASE=` is no passphrase
        if isinstance(text, str) and len(text) < MIN_PASSPHRASE:
            raise ValueError(f"the editor passphrase needs at least {MIN_PASSPHRASE} characters")
        return value


# where a user sets the database: named in every message about a fault of it
DATABASE_URL_SETTING = f"{Settings.model_config.get('env_prefix', '')}DATABASE_URL"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

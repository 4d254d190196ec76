"""Configuration in one typed place: ``forecasts.toml`` plus ``FORECASTS_*`` variables.

Precedence, highest first: command-line options (``--db``), environment variables,
the TOML file, built-in defaults. The file is ``--config PATH``, else ``$FORECASTS_CONFIG``,
else ``./forecasts.toml`` when it exists. Loading is lazy: nothing is read until a
command needs it.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from forecasts.errors import BadInput
from forecasts.mail.settings import MailSettings
from forecasts.news.settings import NewsSettings
from forecasts.review.settings import ReviewSettings
from forecasts.scheduler.settings import ScheduleSettings
from forecasts.validate import error_line

DEFAULT_DATABASE_URL = "sqlite:///forecasts.db"
DEFAULT_CONFIG_FILE = "forecasts.toml"


class DatabaseSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = DEFAULT_DATABASE_URL
    #: How long a writer waits for a SQLite lock before giving up, in seconds.
    busy_timeout: float = Field(default=30.0, gt=0)


class Settings(BaseModel):
    """Everything configurable. Sections mirror the TOML tables."""

    model_config = ConfigDict(extra="forbid")

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    news: NewsSettings = Field(default_factory=NewsSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    config_file: Path | None = None


# Environment variables that map to settings, besides FORECASTS_CONFIG.
ENV_MAP: dict[str, tuple[str, str]] = {
    "FORECASTS_DATABASE_URL": ("database", "url"),
}


def config_path(explicit: str | Path | None = None) -> Path | None:
    """The config file in force, or None when there is none."""
    if explicit:
        p = Path(explicit)
        if not p.is_file():
            raise BadInput(f"config file {p} not found", field="config")
        return p
    env = os.environ.get("FORECASTS_CONFIG")
    if env:
        p = Path(env)
        if not p.is_file():
            raise BadInput(f"config file {p} (from FORECASTS_CONFIG) not found")
        return p
    p = Path(DEFAULT_CONFIG_FILE)
    return p if p.is_file() else None


def load_settings(*, config: str | Path | None = None, database_url: str | None = None) -> Settings:
    """Read the TOML file and environment; apply explicit overrides."""
    path = config_path(config)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise BadInput(f"{path}: invalid TOML: {e}") from None
        except OSError as e:
            raise BadInput(f"{path}: cannot read: {e}") from None
    for var, (section, key) in ENV_MAP.items():
        value = os.environ.get(var)
        if value:
            data.setdefault(section, {})[key] = value
    if database_url:
        data.setdefault("database", {})["url"] = database_url
    try:
        settings = Settings.model_validate({**data, "config_file": path})
    except ValidationError as e:
        where = str(path) if path else "configuration"
        raise BadInput(f"{where}: {error_line(e)}") from None
    return settings

"""Configuration in one typed place: ``forecasts.toml`` plus ``FORECASTS_*`` variables.

Precedence, highest first: command-line options (``--db``), environment variables,
the TOML file, built-in defaults. The file is ``--config PATH``, else ``$FORECASTS_CONFIG``,
else ``./forecasts.toml`` when it exists. Loading is lazy: nothing is read until a
command needs it.

Settings remember where each value came from (``Settings.origin``), and
``effective_config`` lists every value with its origin and secrets masked: what
`forecasts config` shows.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

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


Source = Literal["default", "file", "environment", "option"]


@dataclass(frozen=True)
class Origin:
    """Where a value came from: the built-in default, the config file (``where``: its
    path), an environment variable (its name) or an explicit option (``where``: the
    setting it overrides, e.g. ``database_url``; each caller names it its own way)."""

    source: Source
    where: str | None = None


DEFAULT = Origin("default")


class Settings(BaseModel):
    """Everything configurable. Sections mirror the TOML tables."""

    model_config = ConfigDict(extra="forbid")

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    news: NewsSettings = Field(default_factory=NewsSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    config_file: Path | None = None
    #: Dotted key (``database.url``, ``mail.smtp.host``) -> where it came from, for the
    #: keys that are not defaults (``load_settings`` records them).
    _origins: dict[str, Origin] = PrivateAttr(default_factory=dict)

    def origin(self, key: str) -> Origin:
        """Where the value of dotted ``key`` came from: its own origin, or that of the
        table or list it is part of, else the default."""
        parts = key.split(".")
        for n in range(len(parts), 0, -1):
            found = self._origins.get(".".join(parts[:n]))
            if found is not None:
                return found
        return DEFAULT


# Environment variables that map to settings, besides FORECASTS_CONFIG.
ENV_MAP: dict[str, tuple[str, str]] = {
    "FORECASTS_DATABASE_URL": ("database", "url"),
}


def config_path(explicit: str | Path | None = None) -> Path | None:
    """The config file in force, or None when there is none."""
    return _config_file(explicit)[0]


def _config_file(explicit: str | Path | None) -> tuple[Path | None, Origin]:
    """The config file in force and where its name came from."""
    if explicit:
        p = Path(explicit)
        if not p.is_file():
            raise BadInput(f"config file {p} not found", field="config")
        return p, Origin("option", "config")
    env = os.environ.get("FORECASTS_CONFIG")
    if env:
        p = Path(env)
        if not p.is_file():
            raise BadInput(f"config file {p} (from FORECASTS_CONFIG) not found")
        return p, Origin("environment", "FORECASTS_CONFIG")
    p = Path(DEFAULT_CONFIG_FILE)
    return (p if p.is_file() else None), DEFAULT


def load_settings(*, config: str | Path | None = None, database_url: str | None = None) -> Settings:
    """Read the TOML file and environment; apply explicit overrides. The settings
    remember where each value came from."""
    path, path_origin = _config_file(config)
    origins: dict[str, Origin] = {"config_file": path_origin}
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise BadInput(f"{path}: invalid TOML: {e}") from None
        except OSError as e:
            raise BadInput(f"{path}: cannot read: {e}") from None
        origins.update(dict.fromkeys(_keys(data), Origin("file", str(path))))
    for var, (section, key) in ENV_MAP.items():
        value = os.environ.get(var)
        if value:
            data.setdefault(section, {})[key] = value
            origins[f"{section}.{key}"] = Origin("environment", var)
    if database_url:
        data.setdefault("database", {})["url"] = database_url
        origins["database.url"] = Origin("option", "database_url")
    try:
        settings = Settings.model_validate({**data, "config_file": path})
    except ValidationError as e:
        where = str(path) if path else "configuration"
        raise BadInput(f"{where}: {error_line(e)}") from None
    settings._origins = origins
    return settings


def _keys(data: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    """The dotted keys of a TOML document's values (a list, even of tables, is one
    value)."""
    for key, value in data.items():
        if isinstance(value, Mapping):
            yield from _keys(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


# --------------------------------------------------------------------------------------
# The effective configuration, for people


@dataclass(frozen=True)
class ConfigEntry:
    """One setting as it is in force: ``value`` JSON-ready with any secret masked, where
    it came from, and a ``note`` where the value alone would mislead (whether the
    variable holding the SMTP password is set)."""

    key: str
    value: Any
    origin: Origin
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "source": self.origin.source,
            "where": self.origin.where,
            "note": self.note,
        }


#: What replaces a password in a URL.
MASK = "***"
#: A URL's ``user:password@``; greedy up to the last ``@`` before the path, so a password
#: that holds an ``@`` is masked whole.
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^/@:\s]*:)[^/\s]*(?=@)", re.I)


def mask_secrets(text: str) -> str:
    """``text`` with the password of any URL in it (``scheme://user:password@host``)
    replaced by ``***``."""
    return _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)


def effective_config(settings: Settings) -> list[ConfigEntry]:
    """Every setting in force, in the order of the TOML tables, with where it came from.

    No secret is shown: passwords in URLs are masked, and the SMTP password, which only
    ever lives in the environment, appears as the name of its variable and whether that
    is set."""
    entries = []
    dumped = settings.model_dump(mode="json")
    for key, value in _leaves(dumped):
        note = None
        if key == "mail.smtp.password_env":
            note = "set" if os.environ.get(value) else "not set"
        entries.append(ConfigEntry(key, _masked(value), settings.origin(key), note))
    return entries


def _leaves(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        if isinstance(value, Mapping):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _masked(v) for k, v in value.items()}
    return value

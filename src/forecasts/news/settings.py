"""The ``[news]`` section of ``forecasts.toml``.

Every key has a default; a key given in the file replaces its default whole (so
``feeds = []`` means no feeds at all). See docs/news.md.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from forecasts.validate import http_url

DEFAULT_GDELT_URL = "https://api.gdeltproject.org/api/v2/doc/doc"
DEFAULT_MAX_BYTES = 5_000_000
DEFAULT_CONCURRENCY = 32
DEFAULT_GDELT_MIN_INTERVAL = 6.0

SourceName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\s:]"),
]


class FeedSettings(BaseModel):
    """One RSS or Atom feed: ``{name = "...", url = "..."}``, and optionally the time
    zone of dates the feed gives without one: ``timezone = "Asia/Shanghai"`` (UTC if not
    given)."""

    model_config = ConfigDict(extra="forbid")

    name: SourceName
    url: str
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str | None) -> str | None:
        from forecasts.news.dates import time_zone

        if v is None:
            return None
        time_zone(v.strip())
        return v.strip()

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return http_url(v)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if v.lower() == "gdelt" or v.lower().startswith("search:"):
            raise ValueError(f"feed name {v!r} is reserved")
        return v


#: Real defence and Asia news feeds. Only configured here; tests never fetch them.
DEFAULT_FEEDS: tuple[tuple[str, str], ...] = (
    ("defense-news", "https://www.defensenews.com/arc/outboundfeeds/rss/?outputType=xml"),
    ("breaking-defense", "https://breakingdefense.com/feed/"),
    ("the-diplomat", "https://thediplomat.com/feed/"),
    ("scmp-china", "https://www.scmp.com/rss/4/feed"),
    ("tass", "https://tass.com/rss/v2.xml"),
)


def _default_feeds() -> list[FeedSettings]:
    return [FeedSettings(name=name, url=url) for name, url in DEFAULT_FEEDS]


class NewsSettings(BaseModel):
    """Where news comes from and how politely it is fetched."""

    model_config = ConfigDict(extra="forbid")

    #: Query the GDELT DOC 2.0 API once per question with a news query.
    gdelt: bool = True
    #: The GDELT DOC 2.0 endpoint.
    gdelt_url: str = DEFAULT_GDELT_URL
    #: Seconds between two GDELT requests (GDELT refuses faster clients).
    gdelt_min_interval: float = Field(default=DEFAULT_GDELT_MIN_INTERVAL, ge=0, le=3600)
    #: RSS/Atom feeds read on every pull.
    feeds: list[FeedSettings] = Field(default_factory=_default_feeds)
    #: RSS search URL templates; ``{query}`` is replaced by each question's URL-encoded query.
    search_feeds: list[str] = Field(default_factory=list)
    #: Largest body accepted from any source, in bytes (enforced while streaming).
    max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1024, le=1_000_000_000)
    #: Requests in flight at once.
    concurrency: int = Field(default=DEFAULT_CONCURRENCY, ge=1, le=256)

    @field_validator("gdelt_url")
    @classmethod
    def _gdelt_url(cls, v: str) -> str:
        return http_url(v)

    @field_validator("search_feeds")
    @classmethod
    def _templates(cls, v: list[str]) -> list[str]:
        out = []
        for t in v:
            t = t.strip()
            if "{query}" not in t:
                raise ValueError(f"search feed {t!r} has no {{query}} placeholder")
            http_url(t.replace("{query}", "q"))
            out.append(t)
        return out

    @field_validator("feeds")
    @classmethod
    def _unique(cls, v: list[FeedSettings]) -> list[FeedSettings]:
        seen: set[str] = set()
        for f in v:
            if f.name.lower() in seen:
                raise ValueError(f"feed name {f.name!r} is used twice")
            seen.add(f.name.lower())
        return v

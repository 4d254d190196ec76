"""Checks shared by every way input arrives (command line, questions.yaml, forecasts.toml,
feeds): one rule for an acceptable link, one way to say what pydantic refused."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from pydantic import ValidationError


def http_url(url: str) -> str:
    """``url`` stripped, if it is an absolute http(s) URL with a host; else ValueError.

    The only kind of link stored, shown or mailed: never ``javascript:``, ``data:`` or a
    relative path."""
    url = url.strip()
    bad = ValueError(f"{url!r} is not an http(s) URL")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise bad
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise bad from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise bad
    return url


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_day(text: str) -> dt.date:
    """A UTC day written YYYY-MM-DD; ValueError saying whether the form or the day is wrong
    (``2027-02-30`` has the form but is no real day)."""
    text = text.strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError as e:
        if _ISO_DAY.fullmatch(text):
            raise ValueError(f"{text!r} is not a real date ({e})") from None
        raise ValueError(f"{text!r} is not an ISO date; use YYYY-MM-DD") from None


def is_http_url(url: str | None) -> bool:
    try:
        return url is not None and bool(http_url(url))
    except ValueError:
        return False


def error_field(err: ValidationError) -> str | None:
    """The top-level field of pydantic's first complaint, or None for a whole-model one."""
    loc = err.errors()[0].get("loc", ())
    return str(loc[0]) if loc and isinstance(loc[0], str) else None


def error_line(err: ValidationError, *, with_location: bool = True) -> str:
    """Pydantic's first complaint as one line: ``sources.0.url: 'x' is not an http(s) URL``.

    ``with_location=False`` leaves the location off, for callers that name the field
    themselves (the CLI names its option instead)."""
    first = err.errors()[0]
    msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    loc = ".".join(str(p) for p in first.get("loc", ()) if p != "__root__")
    return f"{loc}: {msg}" if loc and with_location else msg

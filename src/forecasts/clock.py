"""The one clock. Every "now" in forecasts comes from here, so tests can freeze time."""

from __future__ import annotations

import datetime as dt
from typing import overload

UTC = dt.UTC


def now() -> dt.datetime:
    """The current instant as an aware UTC datetime."""
    return dt.datetime.now(UTC)


def today() -> dt.date:
    """The current UTC day."""
    return now().date()


def start_of_day(day: dt.date) -> dt.datetime:
    """00:00 UTC of ``day``."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


def end_of_day(day: dt.date) -> dt.datetime:
    """24:00 UTC of ``day`` (that is, 00:00 of the next day): an exclusive upper bound."""
    return start_of_day(day) + dt.timedelta(days=1)


def as_utc(value: dt.datetime) -> dt.datetime:
    """Treat a naive datetime as UTC; convert an aware one to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@overload
def iso(value: dt.datetime) -> str: ...
@overload
def iso(value: None) -> None: ...
def iso(value: dt.datetime | None) -> str | None:
    """The one timestamp format of every JSON output: ISO 8601 in UTC with a ``Z``
    (``2027-03-01T12:00:00Z``; microseconds only when there are any)."""
    if value is None:
        return None
    return as_utc(value).isoformat().replace("+00:00", "Z")

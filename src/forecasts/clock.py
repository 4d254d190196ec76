"""The one clock. Every "now" in forecasts comes from here, so tests can freeze time."""

from __future__ import annotations

import datetime as dt

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

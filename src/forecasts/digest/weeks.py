"""ISO weeks read in a time zone: pure arithmetic, no clock and no database.

A digest covers one ISO week (Monday to Sunday) as the team's ``[schedule] timezone``
sees it: from Monday 00:00 to the next Monday 00:00 there. Instants (when a forecast was
made, when an article was published) are compared with those two instants, in UTC; the
week's seven days are its dates there.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_WEEK = re.compile(r"(\d{4})-W(\d{2})")


@dataclass(frozen=True, order=True)
class IsoWeek:
    """An ISO 8601 week, such as ``2026-W48``."""

    year: int
    week: int

    def __post_init__(self) -> None:
        # Raises ValueError for a week the year does not have (W53 in most years).
        dt.date.fromisocalendar(self.year, self.week, 1)

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """``YYYY-Www`` (``2026-W48``); ValueError saying what is wrong."""
        m = _WEEK.fullmatch(text.strip())
        if m is None:
            raise ValueError(f"{text.strip()!r} is not an ISO week; use YYYY-Www, e.g. 2026-W48")
        year, week = int(m[1]), int(m[2])
        try:
            return cls(year, week)
        except ValueError:
            raise ValueError(f"{year} has no week {week:02d}") from None

    @classmethod
    def of(cls, day: dt.date) -> IsoWeek:
        """The week ``day`` falls in."""
        year, week, _ = day.isocalendar()
        return cls(year, week)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def monday(self) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> dt.date:
        return self.monday + dt.timedelta(days=6)

    def shift(self, weeks: int) -> IsoWeek:
        """The week ``weeks`` later (earlier when negative)."""
        return IsoWeek.of(self.monday + dt.timedelta(weeks=weeks))

    def bounds(self, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
        """[start, end): Monday 00:00 and the next Monday 00:00 in ``zone``, as aware UTC
        datetimes. Midnight exists in every zone's Monday (clocks change at night), so
        the week is 7 x 24 hours give or take one hour at a change of clocks."""
        return _midnight(self.monday, zone), _midnight(self.shift(1).monday, zone)


def _midnight(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)


def last_full_week(now: dt.datetime, zone: dt.tzinfo) -> IsoWeek:
    """The ISO week that ended most recently at instant ``now`` (aware), in ``zone``: on
    any day of week 49 there, week 48."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return IsoWeek.of(now.astimezone(zone).date()).shift(-1)

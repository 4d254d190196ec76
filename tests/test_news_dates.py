"""Reading feed dates strictly: every part read, never filled in from today."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from forecasts.news.dates import month_number, parse_date


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thu, 26 Nov 2026 10:00:00 GMT", utc(2026, 11, 26, 10)),
        ("26 Nov 2026 10:00 +0300", utc(2026, 11, 26, 7)),
        ("Thu, 26 Nov 26 10:00:00 -0000", utc(2026, 11, 26, 10)),  # -0000: no zone given
        ("Wed, 25 Nov 2026 10:00:00 EST", utc(2026, 11, 25, 15)),
        ("Thu, 26 Nov 2026", utc(2026, 11, 26)),
        ("Seg, 24 Set 2018 19:42:40 -0300", utc(2018, 9, 24, 22, 42, 40)),
        ("Пн, 24 сен 2018 19:42:40 +0300", utc(2018, 9, 24, 16, 42, 40)),
        ("24 сентября 2018 19:42 +0300", utc(2018, 9, 24, 16, 42)),
        ("вт, 13 лис 2018 10:00:00 +0200", utc(2018, 11, 13, 8)),  # Ukrainian
        ("Di, 4. Dez. 2018 10:00:00 +0100", utc(2018, 12, 4, 9)),  # German, with dots
        ("ma, 3 dec 2018 10:00:00 CET", utc(2018, 12, 3, 9)),  # Dutch, a named zone
        ("2026-11-27T08:30:00Z", utc(2026, 11, 27, 8, 30)),
        ("2026-11-27T08:30:00.250+03:00", utc(2026, 11, 27, 5, 30, 0, 250000)),
        ("2026-11-27 08:30", utc(2026, 11, 27, 8, 30)),
        ("2026-11-27", utc(2026, 11, 27)),
        ("2020/1/10 14:33:00", utc(2020, 1, 10, 14, 33)),
        ("2020/01/10", utc(2020, 1, 10)),
        ("Sun Jan  4 16:29:06 2004", utc(2004, 1, 4, 16, 29, 6)),  # asctime
        # not readable in full: unknown
        ("2020", None),
        ("2020-01", None),
        ("2026-W48", None),
        ("Nov 2026", None),
        ("26 Nov", None),
        ("Tue, 31 Feb 2026 10:00:00 GMT", None),
        ("2020/13/10 10:00", None),
        ("26 Foo 2026 10:00:00 GMT", None),
        ("26 Nov 2026 10:00:00 XYZ", None),
        ("", None),
        (None, None),
        ("yesterday", None),
    ],
)
def test_parse_date(text: str | None, expected: dt.datetime | None) -> None:
    assert parse_date(text) == expected


@freeze_time("2026-12-01 12:00:00")
def test_a_partial_date_is_not_completed_from_today() -> None:
    for text in ("2020", "2020-01", "Jan 2020", "10 Jan", "14:33"):
        assert parse_date(text) is None, text


def test_dates_without_a_zone_take_the_default() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    assert parse_date("2020/1/10 14:33:00", default_tz=shanghai) == utc(2020, 1, 10, 6, 33)
    assert parse_date("2026-11-27T08:30:00", default_tz=shanghai) == utc(2026, 11, 27, 0, 30)
    # a date that gives its zone keeps it
    assert parse_date("2026-11-27T08:30:00Z", default_tz=shanghai) == utc(2026, 11, 27, 8, 30)


@pytest.mark.parametrize(
    ("name", "month"),
    [
        ("Set", 9),  # Portuguese
        ("Сен", 9),  # Russian, not a CLDR abbreviation: read by its first letters
        ("ноября", 11),
        ("Listopad", 11),  # Czech and Polish
        ("Mai", 5),
        ("Dez.", 12),
        ("ιουν", 6),  # Greek
        ("Март", 3),
        ("čer", None),  # Czech červen (June) or červenec (July)
        ("ma", None),  # too short to read by prefix
        ("Xyz", None),
    ],
)
def test_month_names(name: str, month: int | None) -> None:
    assert month_number(name) == month

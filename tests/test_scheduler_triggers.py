"""Schedules are cron strings read in the `[schedule]` time zone: across a daylight-saving
change they keep their wall-clock time and fire once per wall-clock time; a cron string
APScheduler refuses is a one-line error naming its key, and nothing runs."""

from __future__ import annotations

import datetime as dt

import pytest

from forecasts.errors import BadInput
from forecasts.scheduler.settings import ScheduleSettings
from forecasts.scheduler.triggers import trigger
from schedhelp import count

UTC = dt.UTC


def fires(cron: str, start: dt.datetime, n: int, zone: str = "Europe/Berlin") -> list[str]:
    """The next ``n`` fire times after ``start``, in UTC, as the scheduler walks them."""
    t = trigger(ScheduleSettings(timezone=zone, news=cron), "news")
    out, previous, now = [], None, start
    for _ in range(n):
        fire = t.get_next_fire_time(previous, now)
        assert fire is not None
        out.append(fire.astimezone(UTC).strftime("%Y-%m-%d %H:%M"))
        previous = now = fire
    return out


def test_the_weekly_digest_keeps_monday_0800_in_berlin_across_both_changes():
    # 2026: summer time starts on 29 March, ends on 25 October.
    assert fires("0 8 * * mon", dt.datetime(2026, 3, 20, tzinfo=UTC), 3) == [
        "2026-03-23 07:00",  # 08:00 CET
        "2026-03-30 06:00",  # 08:00 CEST
        "2026-04-06 06:00",
    ]
    assert fires("0 8 * * mon", dt.datetime(2026, 10, 16, tzinfo=UTC), 3) == [
        "2026-10-19 06:00",
        "2026-10-26 07:00",
        "2026-11-02 07:00",
    ]


def test_a_time_the_spring_change_skips_fires_once_just_after_the_jump():
    # 02:30 does not exist in Berlin on 29 March 2026: it runs at 03:30 CEST (01:30 UTC).
    assert fires("30 2 * * *", dt.datetime(2026, 3, 27, 12, tzinfo=UTC), 4) == [
        "2026-03-28 01:30",
        "2026-03-29 01:30",
        "2026-03-30 00:30",
        "2026-03-31 00:30",
    ]


def test_a_time_the_autumn_change_repeats_fires_once():
    # 02:30 happens twice in Berlin on 25 October 2026 (00:30 and 01:30 UTC): once only.
    assert fires("30 2 * * *", dt.datetime(2026, 10, 23, 12, tzinfo=UTC), 3) == [
        "2026-10-24 00:30",
        "2026-10-25 00:30",
        "2026-10-26 01:30",
    ]


def test_hourly_news_skips_the_repeated_hour_of_the_autumn_night():
    assert fires("0 * * * *", dt.datetime(2026, 10, 24, 22, 30, tzinfo=UTC), 4) == [
        "2026-10-24 23:00",  # 01:00 CEST
        "2026-10-25 00:00",  # 02:00 CEST
        # 02:00 CET (01:00 UTC) is 02:00 again: skipped
        "2026-10-25 02:00",  # 03:00 CET
        "2026-10-25 03:00",
    ]


def test_in_utc_nothing_moves():
    assert fires("0 8 * * mon", dt.datetime(2026, 3, 20, tzinfo=UTC), 2, zone="UTC") == [
        "2026-03-23 08:00",
        "2026-03-30 08:00",
    ]


@pytest.mark.parametrize(
    ("key", "cron", "words"),
    [
        ("digest", "0 8 * * funday", "schedule.digest: '0 8 * * funday' is not a valid cron"),
        ("news", "61 * * * *", "schedule.news: '61 * * * *' is not a valid cron schedule (the"),
    ],
)
def test_a_cron_string_apscheduler_refuses_names_its_key(key, cron, words):
    with pytest.raises(BadInput) as info:
        trigger(ScheduleSettings(**{key: cron}), key)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_run_refuses_a_bad_schedule_with_one_line_and_runs_nothing(cli, db_url, tmp_path):
    config = tmp_path / "forecasts.toml"
    config.write_text('[schedule]\ndigest = "0 25 * * mon"\n', encoding="utf-8")
    for args in (("run", "--once"), ("run",)):
        r = cli("--config", config, *args)
        assert r.exit_code == 2
        assert r.stdout == ""
        [line] = r.stderr.splitlines()
        assert line.startswith("Error: schedule.digest: '0 25 * * mon' is not a valid cron")
    assert (count(db_url, "job_run"), count(db_url, "scheduler_lease")) == (0, 0)

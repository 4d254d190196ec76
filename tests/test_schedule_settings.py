"""`[schedule]` in forecasts.toml: a real time zone and five-field cron schedules, refused
with a one-line error naming the key."""

from __future__ import annotations

import pytest

from forecasts.config import load_settings
from forecasts.errors import BadInput


def settings_from(tmp_path, text: str):
    path = tmp_path / "forecasts.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(config=path)


def test_defaults_run_in_utc(tmp_path):
    schedule = load_settings().schedule
    assert (schedule.timezone, schedule.digest, schedule.prompts) == (
        "UTC",
        "0 8 * * mon",
        "0 9 * * *",
    )
    assert str(schedule.zone) == "UTC"


def test_a_time_zone_and_schedules_from_the_file(tmp_path):
    s = settings_from(
        tmp_path, '[schedule]\ntimezone = "Asia/Shanghai"\ndigest = "0  7 * *   sun"\n'
    ).schedule
    assert (str(s.zone), s.digest) == ("Asia/Shanghai", "0 7 * * sun")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('timezone = "Mars/Olympus"', "schedule.timezone: 'Mars/Olympus' is not a time zone"),
        ('digest = "every monday"', "schedule.digest: 'every monday' is not a cron schedule"),
        ('news = "0 * * *"', "schedule.news: '0 * * *' is not a cron schedule"),
        ('reports = "x"', "schedule.reports"),
    ],
)
def test_a_bad_schedule_is_a_one_line_error_naming_the_key(tmp_path, text, words):
    with pytest.raises(BadInput) as info:
        settings_from(tmp_path, f"[schedule]\n{text}\n")
    assert words in str(info.value)
    assert "\n" not in str(info.value)

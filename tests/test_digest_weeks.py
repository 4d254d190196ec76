"""The digest's week: ISO weeks read in the schedule's time zone, the default week (the
last full one there), and which instants fall in it, down to the minute either side of
Monday 00:00 in Asia/Shanghai (UTC+8) and America/Los_Angeles (UTC-8, or -7 in summer)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import pytest
from freezegun import freeze_time

from forecasts.digest import IsoWeek, last_full_week

UTC = dt.UTC
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
LOS_ANGELES = zoneinfo.ZoneInfo("America/Los_Angeles")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


# ----------------------------------------------------------------------- pure arithmetic


def test_parse_and_print():
    w = IsoWeek.parse("2026-W48")
    assert (w.year, w.week, str(w)) == (2026, 48, "2026-W48")
    assert (w.monday, w.sunday) == (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    assert IsoWeek.parse("2026-W53") == IsoWeek(2026, 53)  # 2026 has 53 weeks
    assert IsoWeek.of(dt.date(2027, 1, 3)) == IsoWeek(2026, 53)  # Sunday of 2026-W53
    assert IsoWeek(2026, 53).shift(1) == IsoWeek(2027, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2027-W53", "2027 has no week 53"),
        ("2026-W00", "2026 has no week 00"),
        ("2026-48", "'2026-48' is not an ISO week; use YYYY-Www, e.g. 2026-W48"),
        ("last week", "'last week' is not an ISO week; use YYYY-Www, e.g. 2026-W48"),
    ],
)
def test_bad_weeks_say_what_is_wrong(text, message):
    with pytest.raises(ValueError) as e:
        IsoWeek.parse(text)
    assert str(e.value) == message


@pytest.mark.parametrize(
    ("zone", "start", "end"),
    [
        (UTC, "2026-11-23 00:00", "2026-11-30 00:00"),
        (SHANGHAI, "2026-11-22 16:00", "2026-11-29 16:00"),
        (LOS_ANGELES, "2026-11-23 08:00", "2026-11-30 08:00"),
    ],
)
def test_bounds_are_monday_midnight_in_the_zone(zone, start, end):
    assert IsoWeek(2026, 48).bounds(zone) == (at(start), at(end))


def test_a_week_with_a_change_of_clocks_is_an_hour_short():
    start, end = IsoWeek.parse("2027-W10").bounds(LOS_ANGELES)  # DST starts Sunday 14 March
    assert (start, end) == (at("2027-03-08 08:00"), at("2027-03-15 07:00"))
    assert end - start == dt.timedelta(hours=7 * 24 - 1)


@pytest.mark.parametrize(
    ("zone", "now", "week"),
    [
        # Sunday 29 November 23:59 in Shanghai is still in week 48 there: 47 has ended.
        (SHANGHAI, "2026-11-29 15:59", "2026-W47"),
        # Monday 30 November 00:00 there: week 48 has just ended (in UTC it is Sunday).
        (SHANGHAI, "2026-11-29 16:00", "2026-W48"),
        # In Los Angeles it is still Sunday 29 November at 07:59 UTC on the Monday.
        (LOS_ANGELES, "2026-11-30 07:59", "2026-W47"),
        (LOS_ANGELES, "2026-11-30 08:00", "2026-W48"),
        (UTC, "2026-11-30 00:00", "2026-W48"),
        (UTC, "2026-11-29 23:59", "2026-W47"),
        (UTC, "2027-01-04 00:00", "2026-W53"),  # across the new year
    ],
)
def test_last_full_week(zone, now, week):
    assert str(last_full_week(at(now), zone)) == week


def test_last_full_week_needs_an_aware_instant():
    with pytest.raises(ValueError, match="aware"):
        last_full_week(dt.datetime(2026, 11, 30), UTC)


# ---------------------------------------------------- the digest's week, end to end

# Articles published a minute either side of the week's bounds in the zone.
EDGES = {
    "Asia/Shanghai": {
        "before": "2026-11-22 15:59",  # Sunday 22 Nov 23:59 there: the week before
        "first": "2026-11-22 16:00",  # Monday 23 Nov 00:00 there
        "last": "2026-11-29 15:59",  # Sunday 29 Nov 23:59 there
        "after": "2026-11-29 16:00",  # Monday 30 Nov 00:00 there: the next week
    },
    "America/Los_Angeles": {
        "before": "2026-11-23 07:59",
        "first": "2026-11-23 08:00",
        "last": "2026-11-30 07:59",
        "after": "2026-11-30 08:00",
    },
}


def _world(cli, db_url: str, tmp_path: Path, zone: str) -> None:
    from forecasts.news.store import NewArticle, NewMatch, insert_matches, upsert_articles
    from forecasts.runtime import Runtime

    (tmp_path / "forecasts.toml").write_text(f'[schedule]\ntimezone = "{zone}"\n')
    with freeze_time("2026-11-01 12:00"):
        assert cli("people", "add", "ann", "--email", "ann@example.org").exit_code == 0
        r = cli("add", "--id", "wq", "--title", "Will the week end?", "--criteria", "Yes if so.",
                "--opens", "2026-11-01", "--closes", "2027-06-30", "--resolve-by", "2027-07-31")  # fmt: skip
        assert r.exit_code == 0, r.output
        assert cli("predict", "wq", "0.6", "--by", "ann").exit_code == 0
    with freeze_time("2026-11-30 09:00"), Runtime(database_url=db_url).session(write=True) as s:
        for name, when in EDGES[zone].items():
            published = at(when)
            [(aid, _)] = upsert_articles(
                s,
                articles=[
                    NewArticle(f"https://example.org/{name}", f"Article {name}", None, "wire",
                               published)
                ],
            )  # fmt: skip
            insert_matches(s, matches=[NewMatch(aid, "wq", 1.0, ["week"], [], False)])


@pytest.mark.parametrize("zone", sorted(EDGES))
def test_the_default_week_and_its_news_follow_the_zone(cli, db_url, tmp_path, zone):
    """Monday 00:30 in the zone: the week just ended is 2026-W48 there, and its news is
    what was published from its Monday 00:00 to its Sunday 23:59 there, dated there."""
    _world(cli, db_url, tmp_path, zone)
    local = zoneinfo.ZoneInfo(zone)
    monday = dt.datetime(2026, 11, 30, 0, 30, tzinfo=local).astimezone(UTC)
    with freeze_time(monday):
        r = cli("digest", "--preview", "ann.html")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith(f"Digest for 2026-W48: 2026-11-23 to 2026-11-29 ({zone}).\n")
    text = (tmp_path / "ann.txt").read_text()
    news = text.split("NEWS THIS WEEK", 1)[1]
    assert "Article first" in news and "Article last" in news
    assert "Article before" not in news and "Article after" not in news
    # Dated in the zone: the last article is Sunday the 29th there, whatever UTC says.
    assert "wire, 2026-11-29\n" in news and "wire, 2026-11-23\n" in news
    assert "wire, 2026-11-30" not in news and "wire, 2026-11-22" not in news

    # A minute before Monday 00:00 there, the week just ended is still 47, in which only
    # "before" was published.
    sunday = dt.datetime(2026, 11, 29, 23, 59, tzinfo=local).astimezone(UTC)
    with freeze_time(sunday):
        r = cli("digest", "--preview", "ann47.html")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith(f"Digest for 2026-W47: 2026-11-16 to 2026-11-22 ({zone}).\n")
    news47 = (tmp_path / "ann47.txt").read_text().split("NEWS THIS WEEK", 1)[1]
    assert "Article before" in news47
    assert "Article first" not in news47 and "Article last" not in news47


def test_a_week_that_has_not_ended_is_refused(cli, db_url, tmp_path):
    _world(cli, db_url, tmp_path, "Asia/Shanghai")
    with freeze_time("2026-11-29 15:59"):  # Sunday 23:59 in Shanghai
        r = cli("digest", "--week", "2026-W48")
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: --week: week 2026-W48 has not ended yet: it ends 2026-11-30 00:00 "
        "Asia/Shanghai; the last full week is 2026-W47\n"
    )
    with freeze_time("2026-11-29 16:00"):
        assert cli("digest", "--week", "2026-W48").exit_code == 0

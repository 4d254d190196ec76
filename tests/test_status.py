"""Derived status at every boundary instant, resolutions, and `--as-of`."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from freezegun import freeze_time

from forecasts.domain.questions import as_of_instant, status_of
from forecasts.store.models import Question, Resolution

UTC = dt.UTC

# opens 2027-03-01 (from 00:00 UTC), closes 2027-03-31 and resolve_by 2027-04-30 (to 24:00 UTC)
BOUNDARIES = [
    ("2027-02-28 00:00:00", "upcoming"),
    ("2027-02-28 23:59:59", "upcoming"),
    ("2027-02-28 23:59:59.999999", "upcoming"),
    ("2027-03-01 00:00:00", "open"),
    ("2027-03-15 12:00:00", "open"),
    ("2027-03-31 00:00:00", "open"),
    ("2027-03-31 23:59:59.999999", "open"),
    ("2027-04-01 00:00:00", "closed"),
    ("2027-04-30 00:00:00", "closed"),
    ("2027-04-30 23:59:59.999999", "closed"),
    ("2027-05-01 00:00:00", "overdue"),
    ("2030-01-01 00:00:00", "overdue"),
]


def _question() -> Question:
    return Question(
        id="q",
        title="Q?",
        type="binary",
        criteria="c",
        opens=dt.date(2027, 3, 1),
        closes=dt.date(2027, 3, 31),
        resolve_by=dt.date(2027, 4, 30),
    )


def _add(cli, qid="status-q", opens="2027-03-01", closes="2027-03-31", resolve_by="2027-04-30"):
    r = cli(
        "add", "--id", qid, "--title", f"{qid}?", "--criteria", "Yes if so.",
        "--opens", opens, "--closes", closes, "--resolve-by", resolve_by,
    )  # fmt: skip
    assert r.exit_code == 0, r.output


def _status(cli, qid="status-q", *extra):
    rows = {r["id"]: r for r in json.loads(cli("list", "--json", *extra).stdout)}
    return rows[qid]["status"]


@pytest.mark.parametrize(("instant", "expected"), BOUNDARIES)
def test_status_of_at_each_boundary(instant, expected):
    at = dt.datetime.fromisoformat(instant).replace(tzinfo=UTC)
    assert status_of(_question(), None, at) == expected


@pytest.mark.parametrize(("instant", "expected"), BOUNDARIES)
def test_list_and_show_report_the_status_at_each_boundary(cli, instant, expected):
    _add(cli)
    with freeze_time(instant):
        assert _status(cli) == expected
        assert json.loads(cli("show", "status-q", "--json").stdout)["status"] == expected


def test_status_is_derived_not_stored(cli):
    """The same row reads differently as time passes, with nothing written in between."""
    _add(cli)
    seen = []
    for instant in ("2027-02-01", "2027-03-01", "2027-04-01", "2027-05-01"):
        with freeze_time(instant):
            seen.append(_status(cli))
    assert seen == ["upcoming", "open", "closed", "overdue"]


def test_resolved_and_annulled_whatever_the_dates():
    q = _question()
    yes = Resolution(question_id="q", outcome="yes", resolved_on=dt.date(2027, 3, 10), by="r")
    annul = Resolution(
        question_id="q", outcome="annulled", resolved_on=dt.date(2027, 3, 10), by="r"
    )
    for instant in ("2027-03-10", "2027-04-10", "2028-01-01"):
        at = dt.datetime.fromisoformat(instant).replace(tzinfo=UTC)
        assert status_of(q, yes, at) == "resolved"
        assert status_of(q, annul, at) == "annulled"


def test_resolving_and_annulling_through_the_cli(cli):
    _add(cli, "res-q")
    _add(cli, "annul-q")
    assert cli("people", "add", "rev", "--reviewer").exit_code == 0
    with freeze_time("2027-04-02 09:00:00"):
        assert _status(cli, "res-q") == "closed"
        assert cli("resolve", "res-q", "no", "--by", "rev").exit_code == 0
        assert cli("resolve", "annul-q", "annul", "--by", "rev").exit_code == 0
        assert _status(cli, "res-q") == "resolved"
        assert _status(cli, "annul-q") == "annulled"
    with freeze_time("2028-01-01"):  # past resolve_by: still resolved, not overdue
        assert _status(cli, "res-q") == "resolved"
        assert _status(cli, "annul-q") == "annulled"
        annulled = json.loads(cli("list", "--json", "--status", "annulled").stdout)
        assert [r["id"] for r in annulled] == ["annul-q"]
        assert annulled[0]["resolution"]["outcome"] == "annulled"


# ---------------------------------------------------------------- --as-of


def test_as_of_instant_is_the_last_microsecond_of_the_day():
    assert as_of_instant(dt.date(2027, 3, 31)) == dt.datetime(
        2027, 3, 31, 23, 59, 59, 999999, tzinfo=UTC
    )
    with freeze_time("2027-01-02 03:04:05"):
        assert as_of_instant(None) == dt.datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2027-02-28", "upcoming"),
        ("2027-03-01", "open"),
        ("2027-03-31", "open"),
        ("2027-04-01", "closed"),
        ("2027-04-30", "closed"),
        ("2027-05-01", "overdue"),
    ],
)
@freeze_time("2027-06-15 12:00:00")
def test_list_as_of_gives_the_status_at_the_end_of_that_day(cli, as_of, expected):
    _add(cli)
    assert _status(cli, "status-q", "--as-of", as_of) == expected


@freeze_time("2027-06-15 12:00:00")
def test_as_of_ignores_later_resolutions_and_forecasts(cli):
    _add(cli)
    assert cli("people", "add", "rev", "--reviewer").exit_code == 0
    assert cli("people", "add", "ann").exit_code == 0
    r = cli("predict", "status-q", "0.3", "--by", "ann", "--at", "2027-03-10T08:00:00")
    assert r.exit_code == 0, r.output
    r = cli("predict", "status-q", "0.6", "--by", "ann", "--at", "2027-03-20T08:00:00")
    assert r.exit_code == 0, r.output
    assert cli("resolve", "status-q", "yes", "--by", "rev", "--on", "2027-05-03").exit_code == 0

    rows = json.loads(cli("list", "--json", "--as-of", "2027-03-15").stdout)
    assert (rows[0]["status"], rows[0]["crowd"], rows[0]["resolution"]) == ("open", 0.3, None)
    rows = json.loads(cli("list", "--json", "--as-of", "2027-05-02").stdout)
    assert (rows[0]["status"], rows[0]["crowd"], rows[0]["resolution"]) == ("overdue", 0.6, None)
    rows = json.loads(cli("list", "--json", "--as-of", "2027-05-03").stdout)
    assert (rows[0]["status"], rows[0]["resolution"]["outcome"]) == ("resolved", "yes")
    assert _status(cli) == "resolved"


@freeze_time("2027-06-15 12:00:00")
def test_as_of_between_a_resolution_and_its_later_dated_correction_shows_the_first(cli):
    """A correction dated after --as-of must not hide the resolution that was in force."""
    _add(cli)
    assert cli("people", "add", "rev", "--reviewer").exit_code == 0
    assert cli("resolve", "status-q", "yes", "--by", "rev", "--on", "2027-04-05").exit_code == 0
    r = cli(
        "resolve", "status-q", "no", "--by", "rev", "--on", "2027-04-10",
        "--correct", "--reason", "misread the report",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = json.loads(cli("list", "--json", "--as-of", "2027-04-07").stdout)
    assert rows[0]["status"] == "resolved"
    assert rows[0]["resolution"]["outcome"] == "yes"
    assert json.loads(cli("due", "--json", "--as-of", "2027-04-07").stdout) == []
    rows = json.loads(cli("list", "--json", "--as-of", "2027-04-10").stdout)
    assert rows[0]["resolution"]["outcome"] == "no"


@freeze_time("2027-03-15 12:00:00")
def test_status_filter(cli):
    _add(cli, "open-q")
    _add(cli, "later-q", opens="2027-04-01", closes="2027-04-30", resolve_by="2027-05-31")
    _add(cli, "closed-q", opens="2027-01-01", closes="2027-02-28", resolve_by="2027-03-31")
    _add(cli, "overdue-q", opens="2027-01-01", closes="2027-01-31", resolve_by="2027-02-28")
    got = {
        s: [r["id"] for r in json.loads(cli("list", "--json", "--status", s).stdout)]
        for s in ("upcoming", "open", "closed", "overdue", "resolved", "annulled")
    }
    assert got == {
        "upcoming": ["later-q"],
        "open": ["open-q"],
        "closed": ["closed-q"],
        "overdue": ["overdue-q"],
        "resolved": [],
        "annulled": [],
    }

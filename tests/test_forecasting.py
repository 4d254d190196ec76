"""Recording forecasts: the open window, backdating with --at, and append-only history."""

from __future__ import annotations

import json

import pytest
from freezegun import freeze_time

QID = "fq"


@pytest.fixture
def q(cli):
    """A binary question open 2027-03-01 .. 2027-03-31, a forecaster and a reviewer."""
    r = cli(
        "add", "--id", QID, "--title", "Forecast me?", "--criteria", "Yes if so.",
        "--opens", "2027-03-01", "--closes", "2027-03-31", "--resolve-by", "2027-04-30",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert cli("people", "add", "ann").exit_code == 0
    assert cli("people", "add", "rev", "--reviewer").exit_code == 0
    return cli


def forecasts(cli, qid=QID):
    """Every forecast on record (read long after, so none is hidden as "not yet made")."""
    with freeze_time("2030-01-01"):
        return json.loads(cli("show", qid, "--json").stdout)["forecasts"]


def test_forecasting_on_the_closing_day_is_allowed(q):
    with freeze_time("2027-03-31 23:59:59.999999"):
        r = q("predict", QID, "0.7", "--by", "ann")
        assert (r.exit_code, r.stdout) == (0, "Recorded ann's forecast on fq: 70%.\n")
        assert forecasts(q)[0]["made_at"] == "2027-03-31T23:59:59.999999Z"


def test_forecasting_on_the_opening_day_is_allowed(q):
    with freeze_time("2027-03-01 00:00:00"):
        assert q("predict", QID, "0.7", "--by", "ann").exit_code == 0


def test_forecasting_before_opens_is_refused(q):
    with freeze_time("2027-02-28 23:59:59.999999"):
        r = q("predict", QID, "0.7", "--by", "ann")
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: question 'fq' is upcoming; forecasts are accepted from 2027-03-01 to "
        "2027-03-31 (UTC)\n"
    )
    assert forecasts(q) == []


@pytest.mark.parametrize(
    ("instant", "status"),
    [("2027-04-01 00:00:00", "closed"), ("2027-05-01 00:00:00", "overdue")],
)
def test_forecasting_after_close_is_refused(q, instant, status):
    with freeze_time(instant):
        r = q("predict", QID, "0.7", "--by", "ann")
    assert r.exit_code == 2
    assert r.stderr == (
        f"Error: question 'fq' is {status}; forecasts are accepted from 2027-03-01 to "
        "2027-03-31 (UTC)\n"
    )
    assert forecasts(q) == []


@freeze_time("2027-06-01 10:00:00.123456")
def test_at_backdates_inside_the_window_and_recorded_at_keeps_the_truth(q):
    r = q("predict", QID, "7:3", "--by", "ann", "--at", "2027-03-10T08:30:00.5", "--note", "old")
    assert r.exit_code == 0, r.output
    (f,) = forecasts(q)
    assert f == {
        "by": "ann",
        "value": 0.7,
        "made_at": "2027-03-10T08:30:00.500000Z",
        "recorded_at": "2027-06-01T10:00:00.123456Z",
        "note": "old",
    }


@freeze_time("2027-06-01 10:00:00")
@pytest.mark.parametrize(
    "at",
    [
        "2027-03-01",  # a bare date is 00:00 UTC: the first instant of the window
        "2027-03-01T00:00:00Z",
        "2027-03-31T23:59:59.999999",
        "2027-03-31T23:59:59.999999+00:00",
        "2027-04-01T01:00:00+02:00",  # 2027-03-31 23:00 UTC
    ],
)
def test_at_inside_the_window(q, at):
    r = q("predict", QID, "0.4", "--by", "ann", "--at", at)
    assert r.exit_code == 0, r.output


@freeze_time("2027-06-01 10:00:00")
@pytest.mark.parametrize(
    ("at", "shown"),
    [
        ("2027-02-28T23:59:59.999999", "2027-02-28T23:59:59.999999Z"),
        ("2027-04-01T00:00:00", "2027-04-01T00:00:00Z"),
        ("2027-03-01T00:30:00+01:00", "2027-02-28T23:30:00Z"),
        ("2027-05-01", "2027-05-01T00:00:00Z"),
    ],
)
def test_at_outside_the_window_is_refused(q, at, shown):
    r = q("predict", QID, "0.4", "--by", "ann", "--at", at)
    assert r.exit_code == 2
    assert r.stderr == (
        f"Error: --at: {shown} is outside the question's open window 2027-03-01 to "
        "2027-03-31 (UTC)\n"
    )
    assert forecasts(q) == []


@freeze_time("2027-03-10 12:00:00")
def test_at_in_the_future_is_refused(q):
    r = q("predict", QID, "0.4", "--by", "ann", "--at", "2027-03-10T12:00:00.000001")
    assert r.exit_code == 2
    assert r.stderr == "Error: --at: 2027-03-10T12:00:00.000001Z is in the future\n"
    assert q("predict", QID, "0.4", "--by", "ann", "--at", "2027-03-10T12:00:00").exit_code == 0


@freeze_time("2027-03-10 12:00:00")
def test_at_must_be_a_datetime(q):
    r = q("predict", QID, "0.4", "--by", "ann", "--at", "last tuesday")
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: --at: 'last tuesday' is not an ISO datetime; use e.g. 2027-03-01T12:00:00Z\n"
    )


def test_forecasting_after_resolution_is_refused(q):
    with freeze_time("2027-03-20 12:00:00"):
        assert q("resolve", QID, "yes", "--by", "rev", "--on", "2027-03-15").exit_code == 0
        r = q("predict", QID, "0.9", "--by", "ann")
        assert r.exit_code == 2
        assert r.stderr == "Error: question 'fq' is resolved; forecasts are closed\n"
        # Backdating to the day the outcome became known (or later) is refused too ...
        r = q("predict", QID, "0.9", "--by", "ann", "--at", "2027-03-15T00:00:00")
        assert r.exit_code == 2
        assert r.stderr == "Error: question 'fq' is resolved; forecasts are closed\n"
        # ... but history from before that day may still be imported.
        r = q("predict", QID, "0.6", "--by", "ann", "--at", "2027-03-14T23:59:59.999999")
        assert r.exit_code == 0, r.output
        assert [f["value"] for f in forecasts(q)] == [0.6]


@freeze_time("2027-03-20 12:00:00")
def test_forecasting_after_annulment_is_refused(q):
    assert q("resolve", QID, "annul", "--by", "rev").exit_code == 0
    r = q("predict", QID, "0.9", "--by", "ann")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: question 'fq' is annulled; forecasts are closed\n",
    )


@freeze_time("2027-03-10 12:00:00")
def test_the_paper_cannot_be_forecast_by_hand(q):
    r = q("predict", QID, "0.5", "--by", "paper")
    assert r.exit_code == 2
    assert r.stderr == "Error: the paper's forecast comes from paper_forecast in questions.yaml\n"
    assert forecasts(q) == []


@freeze_time("2027-03-10 12:00:00")
def test_unknown_forecaster_and_question(q):
    r = q("predict", QID, "0.5", "--by", "zed")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: no person with handle 'zed'; add them with `forecasts people add zed`\n",
    )
    r = q("predict", "nope", "0.5", "--by", "ann")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: no question with id 'nope'; see `forecasts list`\n",
    )


def test_forecasts_are_append_only(q):
    with freeze_time("2027-03-05 09:00:00"):
        assert q("predict", QID, "0.2", "--by", "ann", "--note", "first").exit_code == 0
    with freeze_time("2027-03-06 09:00:00"):
        assert q("predict", QID, "80%", "--by", "ann").exit_code == 0
    with freeze_time("2027-03-07 09:00:00"):
        # A backdated forecast is added too, between the other two, without touching them.
        r = q("predict", QID, "0.5", "--by", "ann", "--at", "2027-03-05T12:00:00")
        assert r.exit_code == 0
        d = json.loads(q("show", QID, "--json").stdout)
    assert [(f["value"], f["made_at"], f["note"]) for f in d["forecasts"]] == [
        (0.2, "2027-03-05T09:00:00Z", "first"),
        (0.5, "2027-03-05T12:00:00Z", None),
        (0.8, "2027-03-06T09:00:00Z", None),
    ]
    # Only the latest made counts for the crowd.
    assert d["crowd"] == 0.8
    assert d["forecasters"] == 1


@freeze_time("2027-03-10 12:00:00")
def test_choice_and_numeric_values_are_stored_normalised(cli):
    for args in (
        ("--id", "cq", "--type", "choice", "--option", "Red", "--option", "Blue"),
        ("--id", "nq", "--type", "numeric", "--min", "0", "--max", "100", "--unit", "km"),
    ):
        r = cli(
            "add", *args, "--title", "T?", "--criteria", "c",
            "--opens", "2027-03-01", "--closes", "2027-03-31", "--resolve-by", "2027-04-30",
        )  # fmt: skip
        assert r.exit_code == 0, r.output
    assert cli("people", "add", "ann").exit_code == 0
    r = cli("predict", "cq", "blue=30%,red=70%", "--by", "ann")
    assert (r.exit_code, r.stdout) == (0, "Recorded ann's forecast on cq: Red=70% Blue=30%.\n")
    r = cli("predict", "nq", "p90=70,p10=20,p50=45.5", "--by", "ann")
    assert (r.exit_code, r.stdout) == (
        0,
        "Recorded ann's forecast on nq: p10=20 p50=45.5 p90=70.\n",
    )
    assert forecasts(cli, "cq")[0]["value"] == {"Red": 0.7, "Blue": 0.3}
    assert forecasts(cli, "nq")[0]["value"] == {"p10": 20.0, "p50": 45.5, "p90": 70.0}

"""Resolving: reviewers only, after opening, never in the future; corrections keep history."""

from __future__ import annotations

import json

import pytest
from freezegun import freeze_time

QID = "rq"


@pytest.fixture
def q(cli):
    r = cli(
        "add", "--id", QID, "--title", "Resolve me?", "--criteria", "Yes if so.",
        "--opens", "2027-03-01", "--closes", "2027-03-31", "--resolve-by", "2027-04-30",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert cli("people", "add", "ann").exit_code == 0
    assert cli("people", "add", "rev", "--reviewer").exit_code == 0
    assert cli("people", "add", "rita", "--reviewer").exit_code == 0
    return cli


def detail(cli, qid=QID):
    with freeze_time("2030-01-01"):
        return json.loads(cli("show", qid, "--json").stdout)


@freeze_time("2027-04-02 10:00:00")
def test_a_reviewer_resolves_with_evidence_and_a_note(q):
    r = q(
        "resolve", QID, "Yes", "--by", "rev", "--note", "reported",
        "--evidence", "https://example.org/a", "--evidence", "http://example.org/b?x=1",
    )  # fmt: skip
    assert (r.exit_code, r.stdout) == (0, "Resolved rq: yes (on 2027-04-02, by rev).\n")
    d = detail(q)
    assert d["status"] == "resolved"
    assert d["resolutions"] == [
        {
            "outcome": "yes",
            "by": "rev",
            "reviewers": ["rev"],
            "resolved_on": "2027-04-02",
            "evidence": ["https://example.org/a", "http://example.org/b?x=1"],
            "note": "reported",
            "recorded_at": "2027-04-02T10:00:00Z",
            "superseded": False,
            "correction_reason": None,
        }
    ]
    assert d["resolution"]["outcome"] == "yes"


@freeze_time("2027-04-02 10:00:00")
def test_only_reviewers_resolve(q):
    r = q("resolve", QID, "yes", "--by", "ann")
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: --by: 'ann' is not a reviewer; only reviewers resolve "
        "(make them one with `forecasts people set ann --reviewer`)\n"
    )
    r = q("resolve", QID, "yes", "--by", "paper")
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: --by: 'paper' is not a reviewer")
    r = q("resolve", QID, "yes", "--by", "nobody")
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: no person with handle 'nobody'; add them with `forecasts people add nobody`\n"
    )
    assert detail(q)["resolutions"] == []


def test_resolving_before_the_question_opens_is_refused(q):
    with freeze_time("2027-02-28 23:59:59.999999"):
        r = q("resolve", QID, "no", "--by", "rev")
    assert r.exit_code == 2
    assert r.stderr == "Error: question 'rq' opens on 2027-03-01; it cannot be resolved before\n"
    assert detail(q)["resolutions"] == []


def test_resolving_on_the_opening_day_is_allowed(q):
    # Something can settle a question early (e.g. it becomes impossible); reviewers may
    # resolve it from the moment it opens.
    with freeze_time("2027-03-01 00:00:00"):
        r = q("resolve", QID, "no", "--by", "rev")
    assert (r.exit_code, r.stdout) == (0, "Resolved rq: no (on 2027-03-01, by rev).\n")


@freeze_time("2027-04-02 23:59:59")
def test_on_in_the_future_is_refused(q):
    r = q("resolve", QID, "yes", "--by", "rev", "--on", "2027-04-03")
    assert (r.exit_code, r.stderr) == (2, "Error: --on: 2027-04-03 is in the future\n")
    assert detail(q)["resolutions"] == []
    r = q("resolve", QID, "yes", "--by", "rev", "--on", "2027-04-02")
    assert r.exit_code == 0, r.output


@freeze_time("2027-04-02 10:00:00")
def test_on_before_the_question_opened_is_refused(q):
    r = q("resolve", QID, "yes", "--by", "rev", "--on", "2027-02-28")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: --on: 2027-02-28 is before the question opened (2027-03-01)\n",
    )


@freeze_time("2027-04-02 10:00:00")
def test_on_must_be_a_date(q):
    r = q("resolve", QID, "yes", "--by", "rev", "--on", "2027-02-30")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: --on: '2027-02-30' is not a real date (day is out of range for month)\n",
    )


@freeze_time("2027-04-02 10:00:00")
def test_on_backdates_the_resolution(q):
    r = q("resolve", QID, "no", "--by", "rev", "--on", "2027-03-20")
    assert (r.exit_code, r.stdout) == (0, "Resolved rq: no (on 2027-03-20, by rev).\n")
    assert detail(q)["resolutions"][0]["resolved_on"] == "2027-03-20"


@freeze_time("2027-04-02 10:00:00")
def test_a_second_resolution_needs_correct_and_reason(q):
    assert q("resolve", QID, "yes", "--by", "rev", "--on", "2027-03-30").exit_code == 0

    r = q("resolve", QID, "no", "--by", "rita")
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: --correct: question 'rq' is already resolved (yes on 2027-03-30); "
        "only a correction, with a reason, can change it\n"
    )
    r = q("resolve", QID, "no", "--by", "rita", "--correct")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: --reason: a correction needs a reason saying why\n",
    )
    r = q("resolve", QID, "no", "--by", "rita", "--correct", "--reason", "  ")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: --reason: a correction needs a reason saying why\n",
    )
    r = q("resolve", QID, "no", "--by", "rita", "--reason", "oops")
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: --correct: question 'rq' is already resolved (yes on 2027-03-30); "
        "only a correction, with a reason, can change it\n"
    )
    assert len(detail(q)["resolutions"]) == 1

    r = q(
        "resolve", QID, "no", "--by", "rita", "--correct", "--reason", "the report was retracted",
        "--evidence", "https://example.org/retraction",
    )  # fmt: skip
    # A correction keeps the day the outcome became known unless --on says otherwise.
    assert (r.exit_code, r.stdout) == (0, "Corrected rq: no (on 2027-03-30, by rita).\n")
    r = q(
        "resolve", QID, "no", "--by", "rita", "--correct", "--reason", "date", "--on", "2027-04-01"
    )
    assert (r.exit_code, r.stdout) == (0, "Corrected rq: no (on 2027-04-01, by rita).\n")


@freeze_time("2027-04-02 10:00:00")
def test_history_keeps_superseded_resolutions(q):
    assert q("resolve", QID, "yes", "--by", "rev", "--on", "2027-03-30").exit_code == 0
    r = q("resolve", QID, "no", "--by", "rita", "--correct", "--reason", "retracted")
    assert r.exit_code == 0
    r = q("resolve", QID, "annul", "--by", "rev", "--correct", "--reason", "ambiguous")
    assert r.exit_code == 0
    d = detail(q)
    assert [
        (x["outcome"], x["by"], x["superseded"], x["correction_reason"]) for x in d["resolutions"]
    ] == [
        ("yes", "rev", True, None),
        ("no", "rita", True, "retracted"),
        ("annulled", "rev", False, "ambiguous"),
    ]
    assert d["status"] == "annulled"
    assert d["resolution"]["outcome"] == "annulled"


@freeze_time("2027-04-02 10:00:00")
def test_correct_without_a_resolution_is_refused(q):
    r = q("resolve", QID, "yes", "--by", "rev", "--correct", "--reason", "x")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: --correct: question 'rq' has no resolution to correct\n",
    )


@freeze_time("2027-04-02 10:00:00")
def test_reason_without_correct_is_refused(q):
    r = q("resolve", QID, "yes", "--by", "rev", "--reason", "x")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: --reason: a reason is only for corrections\n",
    )
    assert detail(q)["resolutions"] == []


@freeze_time("2027-03-15 10:00:00")
@pytest.mark.parametrize("word", ["annul", "ANNUL", "annulled"])
def test_annul(q, word):
    r = q("resolve", QID, word, "--by", "rev", "--note", "the premise failed")
    assert (r.exit_code, r.stdout) == (0, "Resolved rq: annulled (on 2027-03-15, by rev).\n")
    d = detail(q)
    assert d["status"] == "annulled"
    assert d["resolutions"][0]["outcome"] == "annulled"


@freeze_time("2027-04-02 10:00:00")
def test_bad_evidence_url_is_refused(q):
    r = q("resolve", QID, "yes", "--by", "rev", "--evidence", "example.org/a")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: --evidence: 'example.org/a' is not an http(s) URL\n",
    )
    assert detail(q)["resolutions"] == []


@freeze_time("2027-04-02 10:00:00")
def test_outcomes_must_fit_the_type(cli):
    for args in (
        ("--id", "cq", "--type", "choice", "--option", "Red", "--option", "Blue"),
        ("--id", "nq", "--type", "numeric", "--min", "0", "--max", "100"),
    ):
        r = cli(
            "add", *args, "--title", "T?", "--criteria", "c",
            "--opens", "2027-03-01", "--closes", "2027-03-31", "--resolve-by", "2027-04-30",
        )  # fmt: skip
        assert r.exit_code == 0, r.output
    assert cli("people", "add", "rev", "--reviewer").exit_code == 0
    r = cli("resolve", "cq", "Green", "--by", "rev")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: outcome 'Green' is not an option; use one of Red, Blue or annul\n",
    )
    r = cli("resolve", "nq", "101", "--by", "rev")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: outcome 101 is outside the question's range [0, 100]\n",
    )
    r = cli("resolve", "cq", "blue", "--by", "rev")
    assert (r.exit_code, r.stdout) == (0, "Resolved cq: Blue (on 2027-04-02, by rev).\n")
    r = cli("resolve", "nq", "42.50", "--by", "rev")
    assert (r.exit_code, r.stdout) == (0, "Resolved nq: 42.5 (on 2027-04-02, by rev).\n")

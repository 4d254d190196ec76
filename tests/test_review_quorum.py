"""A review quorum at the command line: proposals, pending and disputed questions,
withdrawing and changing a proposal, required evidence, corrections, and the whole
audit in `show --json`."""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
from pathlib import Path

import pytest
from freezegun import freeze_time

QID = "rq"


def config(quorum: int = 2, require_evidence: bool = False) -> None:
    # The tests run in their own tmp folder: ./forecasts.toml is this test's config.
    Path("forecasts.toml").write_text(
        f"[review]\nquorum = {quorum}\nrequire_evidence = {str(require_evidence).lower()}\n",
        encoding="utf-8",
    )


@pytest.fixture
def q(cli):
    config()
    r = cli(
        "add", "--id", QID, "--title", "Will it be signed?", "--criteria", "Yes if signed.",
        "--opens", "2027-03-01", "--closes", "2027-03-31", "--resolve-by", "2027-04-30",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    for handle in ("ann", "bob", "cy"):
        r = cli("people", "add", handle, "--reviewer", "--email", f"{handle}@example.org")
        assert r.exit_code == 0, r.output
    return cli


def at(cli, when: str, *args: str):
    with freeze_time(when):
        return cli(*args)


def show(cli) -> dict:
    with freeze_time("2030-01-01"):
        r = cli("show", QID, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def status_list(cli, status: str) -> list[str]:
    with freeze_time("2027-04-10"):
        r = cli("list", "--status", status, "--json")
    assert r.exit_code == 0, r.output
    return [row["id"] for row in json.loads(r.stdout)]


def test_two_reviewers_agreeing_resolve_it(q):
    r = at(q, "2027-04-02 10:00", "resolve", QID, "Yes", "--by", "ann",
           "--evidence", "https://example.org/a", "--note", "seen it")  # fmt: skip
    assert (r.exit_code, r.stdout) == (
        0,
        "Proposed yes for rq (on 2027-04-02, by ann): 1 of 2 reviewers agree; "
        "pending until 2 do.\n",
    )
    d = show(q)
    assert (d["status"], d["resolution"], d["resolutions"]) == ("pending", None, [])
    assert d["proposals"] == [
        {
            "by": "ann",
            "outcome": "yes",
            "resolved_on": "2027-04-02",
            "evidence": ["https://example.org/a"],
            "note": "seen it",
            "correction": False,
            "correction_reason": None,
            "proposed_at": "2027-04-02T10:00:00Z",
            "state": "open",
            "withdrawn": False,
            "closed_at": None,
        }
    ]
    assert status_list(q, "pending") == [QID]
    with freeze_time("2027-04-10"):
        assert [row["id"] for row in json.loads(q("due", "--json").stdout)] == [QID]

    r = at(q, "2027-04-03 09:00", "resolve", QID, "yes", "--by", "bob",
           "--evidence", "https://example.org/b", "--evidence", "https://example.org/a")  # fmt: skip
    assert (r.exit_code, r.stdout) == (0, "Resolved rq: yes (on 2027-04-02, by ann and bob).\n")
    d = show(q)
    assert d["status"] == "resolved"
    assert d["resolution"] == {
        "outcome": "yes",
        "by": "ann",
        "reviewers": ["ann", "bob"],
        "resolved_on": "2027-04-02",  # the earliest day a reviewer gave
        "evidence": ["https://example.org/a", "https://example.org/b"],
        "note": "ann: seen it",
        "recorded_at": "2027-04-03T09:00:00Z",
    }
    assert [(p["by"], p["state"], p["closed_at"]) for p in d["proposals"]] == [
        ("ann", "accepted", "2027-04-03T09:00:00Z"),
        ("bob", "accepted", "2027-04-03T09:00:00Z"),
    ]
    assert status_list(q, "pending") == []
    with freeze_time("2030-01-01"):
        text = q("show", QID).stdout
    assert "  2027-04-02  yes by ann and bob\n" in text


def test_different_outcomes_dispute_it_and_every_reviewer_is_prompted(q, tmp_path):
    assert at(q, "2027-04-02 10:00", "resolve", QID, "yes", "--by", "ann").exit_code == 0
    r = at(q, "2027-04-02 11:00", "resolve", QID, "no", "--by", "bob")
    assert (r.exit_code, r.stdout) == (
        0,
        "Proposed no for rq (on 2027-04-02, by bob): 1 of 2 reviewers agree. "
        "Disputed: ann proposed yes; every reviewer will be prompted.\n",
    )
    assert status_list(q, "disputed") == [QID]
    assert show(q)["status"] == "disputed"
    # As of the day before the dispute, it was only pending.
    with freeze_time("2030-01-01"):
        d = json.loads(q("list", "--as-of", "2027-04-01", "--json").stdout)
    assert d[0]["status"] == "closed"

    r = at(q, "2027-04-03 06:00", "prompts", "--json")
    assert r.exit_code == 0, r.output
    run = json.loads(r.stdout)
    assert {
        p["handle"]: [(x["id"], x["reason"]) for x in p["questions"]] for p in run["prompts"]
    } == {h: [(QID, "disputed")] for h in ("ann", "bob", "cy")}
    texts = {}
    for m in mailbox.Maildir(tmp_path / "outbox", create=False):
        msg = email.message_from_bytes(m.as_bytes(), policy=email.policy.default)
        texts[msg["To"].addresses[0].username] = msg.get_body(("plain",)).get_content()
    assert (
        "Why: disputed: ann proposed yes, bob proposed no; settle an outcome by agreeing"
        in texts["cy"]
    )
    assert "forecasts resolve rq yes --by cy --evidence URL" in texts["cy"]
    assert "forecasts resolve rq no --by cy --evidence URL" in texts["cy"]
    assert "--withdraw" not in texts["cy"]
    assert "forecasts resolve rq --withdraw --by ann" in texts["ann"]

    # bob takes his back: pending again, on ann's proposal.
    r = at(q, "2027-04-03 08:00", "resolve", QID, "--withdraw", "--by", "bob")
    assert (r.exit_code, r.stdout) == (0, "Withdrew bob's proposal on rq (no).\n")
    assert status_list(q, "pending") == [QID]
    r = at(q, "2027-04-03 08:01", "resolve", QID, "--withdraw", "--by", "bob")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: --by: 'bob' has no open proposal on 'rq' to withdraw\n",
    )
    r = at(q, "2027-04-03 08:02", "resolve", QID, "no", "--withdraw", "--by", "bob")
    assert (r.exit_code, r.stderr) == (2, "Error: --withdraw takes only the question id and --by\n")

    # ann changes her mind; her second proposal replaces the first and cannot count twice.
    r = at(q, "2027-04-04 09:00", "resolve", QID, "no", "--by", "ann")
    assert r.stdout == (
        "Changed ann's proposal for rq to no (on 2027-04-04, by ann): 1 of 2 reviewers agree; "
        "pending until 2 do.\n"
    )
    r = at(q, "2027-04-04 09:30", "resolve", QID, "no", "--by", "ann")
    assert show(q)["status"] == "pending"
    r = at(q, "2027-04-05 09:00", "resolve", QID, "no", "--by", "cy")
    assert r.stdout == "Resolved rq: no (on 2027-04-04, by ann and cy).\n"

    d = show(q)
    assert d["resolution"]["reviewers"] == ["ann", "cy"]
    assert [(p["by"], p["outcome"], p["state"], p["withdrawn"]) for p in d["proposals"]] == [
        ("ann", "yes", "replaced", False),
        ("bob", "no", "withdrawn", True),
        ("ann", "no", "replaced", False),
        ("ann", "no", "accepted", False),
        ("cy", "no", "accepted", False),
    ]


def test_a_second_reviewer_is_prompted_for_a_pending_question(q, tmp_path):
    assert at(q, "2027-04-02 10:00", "resolve", QID, "yes", "--by", "ann").exit_code == 0
    run = json.loads(at(q, "2027-04-03 06:00", "prompts", "--json").stdout)
    (prompt,) = run["prompts"]
    assert prompt["handle"] in ("bob", "cy")
    assert prompt["questions"] == [{"id": QID, "title": "Will it be signed?", "reason": "pending"}]
    (m,) = mailbox.Maildir(tmp_path / "outbox", create=False)
    text = (
        email.message_from_bytes(m.as_bytes(), policy=email.policy.default)
        .get_body(("plain",))
        .get_content()
    )
    assert (
        "Why: pending a second reviewer: ann proposed yes (an outcome); 1 more reviewer must agree"
        in text
    )
    assert f"forecasts resolve rq yes --by {prompt['handle']} --evidence URL" in text
    assert "forecasts resolve rq no" not in text


def test_required_evidence(q):
    config(quorum=1, require_evidence=True)
    r = at(q, "2027-04-02 10:00", "resolve", QID, "yes", "--by", "ann")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == (
        "Error: --evidence: evidence is required ([review] require_evidence): give a link to "
        "a source that shows the outcome\n"
    )
    d = show(q)
    assert (d["resolutions"], d["proposals"]) == ([], [])
    r = at(
        q, "2027-04-02 10:00", "resolve", QID, "yes", "--by", "ann", "--evidence", "https://e.org/1"
    )
    assert (r.exit_code, r.stdout) == (0, "Resolved rq: yes (on 2027-04-02, by ann).\n")


def test_a_correction_under_a_quorum_needs_the_quorum_too(q):
    at(q, "2027-04-02 10:00", "resolve", QID, "yes", "--by", "ann")
    at(q, "2027-04-02 11:00", "resolve", QID, "yes", "--by", "bob")
    r = at(q, "2027-04-05 10:00", "resolve", QID, "no", "--by", "ann")
    assert r.exit_code == 2 and "only a correction, with a reason, can change it" in r.stderr
    r = at(q, "2027-04-05 10:00", "resolve", QID, "no", "--by", "cy", "--correct",
           "--reason", "the deal was retracted", "--evidence", "https://e.org/retracted")  # fmt: skip
    assert (r.exit_code, r.stdout) == (
        0,
        "Proposed correcting rq to no (on 2027-04-02, by cy): 1 of 2 reviewers agree; "
        "the current resolution stands until 2 do.\n",
    )
    d = show(q)
    assert (d["status"], d["resolution"]["outcome"]) == ("resolved", "yes")
    assert d["proposals"][-1]["correction"] is True
    assert d["proposals"][-1]["correction_reason"] == "the deal was retracted"
    assert d["proposals"][-1]["state"] == "open"
    # The other reviewers are asked to confirm it.
    run = json.loads(at(q, "2027-04-06 06:00", "prompts", "--json").stdout)
    assert sorted(p["handle"] for p in run["prompts"]) in (["ann"], ["bob"])
    assert run["prompts"][0]["questions"][0]["reason"] == "pending"

    r = at(q, "2027-04-06 10:00", "resolve", QID, "no", "--by", "bob", "--correct",
           "--reason", "confirmed")  # fmt: skip
    assert (r.exit_code, r.stdout) == (0, "Corrected rq: no (on 2027-04-02, by cy and bob).\n")
    d = show(q)
    assert [(x["outcome"], x["superseded"], x["reviewers"]) for x in d["resolutions"]] == [
        ("yes", True, ["ann", "bob"]),
        ("no", False, ["cy", "bob"]),
    ]
    assert d["resolutions"][-1]["correction_reason"] == "cy: the deal was retracted; bob: confirmed"
    assert d["resolutions"][-1]["evidence"] == ["https://e.org/retracted"]


def test_without_an_outcome_resolve_asks_for_one(q):
    r = at(q, "2027-04-02 10:00", "resolve", QID, "--by", "ann")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: give the OUTCOME (yes/no, an option, a number or annul), or --withdraw\n",
    )


@freeze_time("2027-04-02 10:00")
def test_a_final_resolution_bypasses_the_quorum_and_closes_open_proposals(q, db_url):
    from forecasts.domain.resolution import resolve
    from forecasts.runtime import Runtime

    assert q("resolve", QID, "no", "--by", "ann").exit_code == 0
    assert q("resolve", QID, "yes", "--by", "bob").exit_code == 0
    assert q("people", "add", "curator", "--reviewer").exit_code == 0
    rt = Runtime(database_url=db_url)
    with rt.session(write=True) as s:
        result = resolve(
            s, question_id=QID, outcome="yes", by="curator", evidence=["https://e.org/f"],
            quorum=2, final=True,
        )  # fmt: skip
        assert result.resolution is not None and result.proposal is None
    rt.close()
    d = show(q)
    assert (d["status"], d["resolution"]["reviewers"]) == ("resolved", ["curator"])
    assert [(p["by"], p["state"]) for p in d["proposals"]] == [
        ("ann", "rejected"),
        ("bob", "accepted"),
    ]


def test_resolutions_written_in_questions_yaml_are_final_under_a_quorum(cli):
    config(quorum=2)
    Path("q.yaml").write_text(
        "questions:\n"
        "  - id: done-q\n"
        "    title: Was it done?\n"
        "    criteria: Yes if done.\n"
        "    opens: 2022-01-01\n"
        "    closes: 2022-06-30\n"
        "    resolve_by: 2022-12-31\n"
        "    resolution:\n"
        "      outcome: no\n"
        "      resolved_on: 2022-07-01\n"
        "      evidence: [https://example.org/report]\n"
        "      note: The report says it was not.\n",
        encoding="utf-8",
    )
    with freeze_time("2026-12-01 12:00"):
        r = cli("sync", "q.yaml")
        assert r.exit_code == 0, r.output
        d = json.loads(cli("show", "done-q", "--json").stdout)
        run = json.loads(cli("prompts", "--json").stdout)
    assert (d["status"], d["resolution"]["reviewers"], d["proposals"]) == (
        "resolved",
        ["curator"],
        [],
    )
    assert run["prompts"] == []  # the curator has no email, and nothing is due anyway

"""`forecasts people set`: become a reviewer after being added, change an email, a name,
the digest."""

from __future__ import annotations

import json

import pytest


def people(cli) -> dict[str, dict]:
    return {p["handle"]: p for p in json.loads(cli("people", "list", "--json").stdout)}


def test_a_forecaster_becomes_a_reviewer_and_back(cli):
    assert cli("people", "add", "ann").exit_code == 0
    r = cli("people", "set", "ann", "--reviewer", "--email", "ann@example.org", "--name", "Ann")
    assert (r.exit_code, r.stdout) == (0, "Updated ann: name, email, roles.\n")
    ann = people(cli)["ann"]
    assert (ann["roles"], ann["email"], ann["name"], ann["digest"]) == (
        ["forecaster", "reviewer"],
        "ann@example.org",
        "Ann",
        True,
    )
    r = cli("people", "set", "ann", "--reviewer")
    assert (r.exit_code, r.stdout) == (0, "No change to ann.\n")
    r = cli("people", "set", "ann", "--no-reviewer", "--no-digest", "--email", "")
    assert (r.exit_code, r.stdout) == (0, "Updated ann: email, roles, digest.\n")
    ann = people(cli)["ann"]
    assert (ann["roles"], ann["email"], ann["digest"]) == (["forecaster"], None, False)


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (
            ("nobody", "--reviewer"),
            "Error: no person with handle 'nobody'; add them with `forecasts people add nobody`\n",
        ),
        (
            ("ann", "--email", "not-an-address"),
            "Error: --email: 'not-an-address' is not an email address\n",
        ),
        (("paper", "--reviewer"), "Error: HANDLE: the paper's forecaster cannot be changed\n"),
    ],
)
def test_bad_changes_are_refused_and_change_nothing(cli, args, stderr):
    assert cli("people", "add", "ann").exit_code == 0
    before = people(cli)
    r = cli("people", "set", *args)
    assert (r.exit_code, r.stderr) == (2, stderr)
    assert people(cli) == before

"""Resolutions written in questions.yaml: `sync` (and `init`) apply each once, as the
`curator` reviewer, through the same path as `forecasts resolve`; a later edit of the file
becomes a correction with a reason; bad resolutions are refused with file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from freezegun import freeze_time

TODAY = "2026-12-01 12:00:00"
EVIDENCE = "https://example.org/vostok-2022"
QUESTION = """\
  - id: r1
    title: Will it happen in 2022?
    criteria: Yes if it happens between 2022-06-10 and 2022-12-31.
    opens: 2022-06-10
    closes: 2022-12-31
    resolve_by: 2023-03-31
    tags: [retrospective]
    paper_forecast: 0.3
"""
RESOLUTION = """\
    resolution:
      outcome: yes
      resolved_on: 2022-08-31
      evidence: ["{evidence}"]
      note: 'The ministry said: "troops have been sent".'
"""


def write(path: Path, resolution: str | None = RESOLUTION, **fields: str) -> Path:
    text = "questions:\n" + QUESTION
    if resolution is not None:
        text += resolution.format(evidence=fields.pop("evidence", EVIDENCE))
    for old, new in fields.items():
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


def detail(cli, qid: str = "r1") -> dict:
    r = cli("show", qid, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@pytest.fixture
def qfile(tmp_path: Path) -> Path:
    return tmp_path / "questions.yaml"


@freeze_time(TODAY)
def test_sync_applies_a_file_resolution_once_as_the_curator(cli, qfile):
    write(qfile)
    assert "curator" not in cli("people", "list").stdout
    r = cli("sync")
    assert (r.exit_code, r.stderr) == (0, "")
    assert r.stdout == (
        "Synced questions.yaml: 1 added, 0 updated, 0 unchanged, "
        "1 resolution from the file applied.\n"
        "  added: r1\n"
        "  resolved: r1\n"
    )
    d = detail(cli)
    assert d["status"] == "resolved"
    assert d["resolutions"] == [
        {
            "outcome": "yes",  # a bare YAML `yes` is a boolean; it is read as the outcome
            "by": "curator",
            "reviewers": ["curator"],
            "resolved_on": "2022-08-31",
            "evidence": [EVIDENCE],
            "note": 'The ministry said: "troops have been sent".',
            "recorded_at": "2026-12-01T12:00:00Z",
            "superseded": False,
            "correction_reason": None,
        }
    ]
    # The paper's forecast is recorded at the opening, as for every question.
    assert [(f["by"], f["value"], f["made_at"]) for f in d["forecasts"]] == [
        ("paper", 0.3, "2022-06-10T00:00:00Z")
    ]
    people = {p["handle"]: p for p in json.loads(cli("people", "list", "--json").stdout)}
    assert people["curator"]["roles"] == ["reviewer"]
    assert people["curator"]["email"] is None and people["curator"]["digest"] is False

    r = cli("sync")
    assert r.stdout == "Synced questions.yaml: 0 added, 0 updated, 1 unchanged.\n"
    assert len(detail(cli)["resolutions"]) == 1


@freeze_time(TODAY)
def test_an_edited_file_resolution_becomes_a_correction_with_a_reason(cli, qfile):
    write(qfile)
    assert cli("sync").exit_code == 0
    write(qfile, **{"outcome: yes": "outcome: no", "troops have been sent": "none were sent"})
    r = cli("sync")
    assert (r.exit_code, r.stderr) == (0, "")
    assert r.stdout == (
        "Synced questions.yaml: 0 added, 0 updated, 1 unchanged, "
        "1 resolution corrected (the file changed).\n"
        "  corrected: r1\n"
    )
    history = detail(cli)["resolutions"]
    assert [(h["outcome"], h["by"], h["superseded"]) for h in history] == [
        ("yes", "curator", True),
        ("no", "curator", False),
    ]
    assert history[1]["correction_reason"] == "questions.yaml changed: outcome yes -> no, note"
    assert history[1]["resolved_on"] == "2022-08-31"
    assert detail(cli)["resolution"]["outcome"] == "no"

    write(qfile, **{"outcome: yes": "outcome: no", "troops have been sent": "none were sent"})
    assert cli("sync").stdout == "Synced questions.yaml: 0 added, 0 updated, 1 unchanged.\n"
    assert len(detail(cli)["resolutions"]) == 2

    # A new day and a new source are a correction too, and the reason says which fields.
    write(
        qfile,
        evidence="https://example.org/other",
        **{
            "outcome: yes": "outcome: no",
            "troops have been sent": "none were sent",
            "2022-08-31": "2022-09-07",
        },
    )
    assert cli("sync").exit_code == 0
    last = detail(cli)["resolutions"][-1]
    assert last["correction_reason"] == (
        "questions.yaml changed: resolved_on 2022-08-31 -> 2022-09-07, evidence"
    )
    assert (last["resolved_on"], last["evidence"]) == ("2022-09-07", ["https://example.org/other"])


@freeze_time(TODAY)
def test_dry_run_reports_resolutions_it_would_apply_and_writes_nothing(cli, qfile):
    write(qfile)
    r = cli("sync", "--dry-run")
    assert r.stdout == (
        "Would sync questions.yaml: 1 added, 0 updated, 0 unchanged, "
        "1 resolution from the file applied.\n"
        "  added: r1\n"
        "  resolved: r1\n"
    )
    assert json.loads(cli("list", "--json").stdout) == []
    assert "curator" not in cli("people", "list").stdout

    assert cli("sync").exit_code == 0
    write(qfile, **{"outcome: yes": "outcome: annul"})
    r = cli("sync", "--dry-run")
    assert r.stdout == (
        "Would sync questions.yaml: 0 added, 0 updated, 1 unchanged, "
        "1 resolution corrected (the file changed).\n"
        "  corrected: r1\n"
    )
    assert [h["outcome"] for h in detail(cli)["resolutions"]] == ["yes"]


@freeze_time(TODAY)
def test_a_reviewers_correction_stands_until_the_file_changes(cli, qfile):
    write(qfile)
    assert cli("sync").exit_code == 0
    assert cli("people", "add", "rev", "--reviewer").exit_code == 0
    r = cli("resolve", "r1", "annul", "--by", "rev", "--correct", "--reason", "source retracted")
    assert r.exit_code == 0, r.output
    # The file still says what sync last applied from it: nothing to do.
    assert cli("sync").stdout == "Synced questions.yaml: 0 added, 0 updated, 1 unchanged.\n"
    assert detail(cli)["resolution"]["outcome"] == "annulled"
    # Editing the file's resolution applies the edit over the reviewer's correction.
    write(qfile, **{"outcome: yes": "outcome: no"})
    assert "1 resolution corrected" in cli("sync").stdout
    current = detail(cli)["resolution"]
    assert (current["outcome"], current["by"]) == ("no", "curator")
    assert [h["by"] for h in detail(cli)["resolutions"]] == ["curator", "rev", "curator"]


@freeze_time(TODAY)
def test_a_question_a_reviewer_resolved_gets_the_files_resolution_as_a_correction(cli, qfile):
    write(qfile, resolution=None)
    assert cli("sync").exit_code == 0
    assert cli("people", "add", "rev", "--reviewer").exit_code == 0
    r = cli(
        "resolve", "r1", "yes", "--by", "rev", "--on", "2022-08-31", "--evidence", EVIDENCE,
        "--note", 'The ministry said: "troops have been sent".',
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    # The same resolution written into the file changes nothing.
    write(qfile)
    assert cli("sync").stdout == "Synced questions.yaml: 0 added, 0 updated, 1 unchanged.\n"
    assert [h["by"] for h in detail(cli)["resolutions"]] == ["rev"]
    # A different one is recorded as a correction that says so.
    write(qfile, **{"outcome: yes": "outcome: no"})
    assert "1 resolution corrected" in cli("sync").stdout
    last = detail(cli)["resolutions"][-1]
    assert (last["by"], last["correction_reason"]) == (
        "curator",
        "questions.yaml resolves it: outcome yes -> no",
    )


@freeze_time(TODAY)
def test_init_applies_the_files_resolutions(empty_db_url, qfile):
    from conftest import make_cli

    cli = make_cli(empty_db_url)
    write(qfile)
    r = cli("init")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[1] == (
        "Synced questions.yaml: 1 added, 0 updated, 0 unchanged, "
        "1 resolution from the file applied."
    )
    assert detail(cli)["resolution"]["by"] == "curator"


@freeze_time(TODAY)
def test_numeric_and_choice_outcomes_are_stored_in_their_normal_form(cli, qfile):
    qfile.write_text(
        """\
questions:
  - id: n1
    title: How much in 2023?
    type: numeric
    min: 0
    max: 500
    unit: billion US dollars
    criteria: The customs figure for 2023.
    opens: 2022-06-10
    closes: 2023-06-30
    resolve_by: 2024-03-31
    resolution: {outcome: 240.0, resolved_on: 2024-01-12, evidence: ["https://example.org/t"],
                 note: "“$240 billion in 2023”"}
  - id: c1
    title: How many?
    type: choice
    options: [None, One, Two or more]
    criteria: Count them.
    opens: 2022-06-10
    closes: 2023-06-30
    resolve_by: 2024-03-31
    resolution: {outcome: two or more, resolved_on: 2024-01-12,
                 evidence: ["https://example.org/c"], note: "“two”"}
""",
        encoding="utf-8",
    )
    assert cli("sync").exit_code == 0
    assert detail(cli, "n1")["resolution"]["outcome"] == "240"
    assert detail(cli, "c1")["resolution"]["outcome"] == "Two or more"
    # Stored forms compare equal to the file's: the next sync has nothing to do.
    assert cli("sync").stdout == "Synced questions.yaml: 0 added, 0 updated, 2 unchanged.\n"


RESOLUTION_LINE = 10  # the `resolution:` key in write()'s file


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            {"outcome: yes": "outcome: maybe"},
            "resolution: outcome 'maybe' does not fit a binary question; use yes, no or annul",
        ),
        (
            {"2022-08-31": "2022-06-09"},
            "resolution: resolved_on 2022-06-09 is before the question opens (2022-06-10)",
        ),
        ({"2022-08-31": "2026-12-02"}, "resolution: resolved_on 2026-12-02 is in the future"),
        ({"2022-08-31": "2022-13-01"}, "resolution.resolved_on: '2022-13-01' is not a real date"),
        (
            {"evidence": "javascript:alert(1)"},
            "resolution.evidence.0: 'javascript:alert(1)' is not an http(s) URL",
        ),
        (
            {'["{evidence}"]': "[]"},
            "resolution.evidence: give at least one evidence URL (a source you read)",
        ),
        ({"      note:": "      by:"}, "resolution.note: Field required"),
        (
            {"    resolution:\n": "    resolution:\n      by: rev\n"},
            "resolution.by: Extra inputs are not permitted",
        ),
    ],
)
@freeze_time(TODAY)
def test_a_bad_file_resolution_is_refused_with_file_and_line(cli, qfile, edit, message):
    edit = dict(edit)
    evidence = edit.pop("evidence", EVIDENCE)
    resolution = RESOLUTION
    for old, new in list(edit.items()):
        if old in resolution:
            resolution = resolution.replace(old, new)
            del edit[old]
    write(qfile, resolution=resolution, evidence=evidence, **edit)
    r = cli("sync")
    assert r.exit_code == 2
    assert r.stderr.startswith(f"Error: {qfile.name}:{RESOLUTION_LINE}: question 'r1': {message}")
    assert "\n" not in r.stderr.rstrip("\n")
    assert json.loads(cli("list", "--json").stdout) == []

"""`forecasts sync`: upsert by id, dry runs, protected fields, file:line errors, the paper."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from freezegun import freeze_time

ONE = """\
  - id: q-one
    title: Will one happen?
    criteria: Yes if one happens.
    opens: 2027-03-01
    closes: 2027-03-31
    resolve_by: 2027-04-30
"""
TWO = """\
  - id: q-two
    title: Which colour?
    type: choice
    options: [Red, Blue]
    criteria: The colour reported.
    opens: 2027-03-01
    closes: 2027-03-31
    resolve_by: 2027-04-30
    tags: [Colour, misc]
"""


def write(path: Path, *items: str, header: str = "questions:\n") -> Path:
    path.write_text(header + "".join(items), encoding="utf-8")
    return path


def export(cli) -> dict:
    r = cli("export")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    data.pop("exported_at")
    return data


def detail(cli, qid):
    with freeze_time("2030-01-01"):
        return json.loads(cli("show", qid, "--json").stdout)


@pytest.fixture
def qfile(tmp_path: Path) -> Path:
    return tmp_path / "questions.yaml"


@freeze_time("2027-03-10 12:00:00")
def test_added_updated_unchanged_counts_and_exact_output(cli, qfile):
    write(qfile, ONE, TWO)
    r = cli("sync")
    assert (r.exit_code, r.stderr) == (0, "")
    assert r.stdout == (
        "Synced questions.yaml: 2 added, 0 updated, 0 unchanged.\n  added: q-one, q-two\n"
    )
    r = cli("sync")
    assert r.stdout == "Synced questions.yaml: 0 added, 0 updated, 2 unchanged.\n"

    write(qfile, ONE.replace("Will one happen?", "Will one ever happen?"), TWO)
    r = cli("sync", str(qfile))
    assert r.stdout == f"Synced {qfile}: 0 added, 1 updated, 1 unchanged.\n  updated: q-one\n"
    d = detail(cli, "q-one")
    assert d["title"] == "Will one ever happen?"
    assert d["updated_at"] == "2027-03-10T12:00:00Z"
    assert d["revisions"] == []  # the title is not a protected field
    assert detail(cli, "q-two")["tags"] == ["colour", "misc"]


@freeze_time("2027-03-10 12:00:00")
def test_questions_no_longer_in_the_file_are_reported_and_left_alone(cli, qfile):
    write(qfile, ONE, TWO)
    assert cli("sync").exit_code == 0
    write(qfile, TWO)
    r = cli("sync")
    assert r.stdout == (
        "Synced questions.yaml: 0 added, 0 updated, 1 unchanged, "
        "1 in the database but not in the file (left alone).\n"
    )
    assert detail(cli, "q-one")["title"] == "Will one happen?"


@freeze_time("2027-03-10 12:00:00")
def test_dry_run_reports_and_writes_nothing(cli, qfile):
    write(qfile, ONE)
    assert cli("sync").exit_code == 0
    assert cli("people", "add", "ann").exit_code == 0
    before = export(cli)
    with_paper = TWO.replace("criteria:", "paper_forecast: {Red: 0.6, Blue: 0.4}\n    criteria:")
    write(qfile, ONE.replace("Will one happen?", "Changed?"), with_paper)
    r = cli("sync", "--dry-run")
    assert (r.exit_code, r.stderr) == (0, "")
    assert r.stdout == (
        "Would sync questions.yaml: 1 added, 1 updated, 0 unchanged.\n"
        "  added: q-two\n  updated: q-one\n"
    )
    assert export(cli) == before


@freeze_time("2027-03-10 12:00:00")
@pytest.mark.parametrize(
    ("old", "new", "fields"),
    [
        ("criteria: Yes if one happens.", "criteria: Yes if one happens twice.", "criteria"),
        (
            "    opens:",
            "    type: numeric\n    min: 0\n    max: 5\n    opens:",
            "type, range_min, range_max",
        ),
    ],
)
def test_protected_changes_on_questions_with_forecasts_are_refused(cli, qfile, old, new, fields):
    write(qfile, ONE, TWO)
    assert cli("sync").exit_code == 0
    assert cli("people", "add", "ann").exit_code == 0
    assert cli("predict", "q-one", "0.4", "--by", "ann").exit_code == 0
    before = export(cli)
    # q-two has no forecasts: its protected change alone would be fine, but the refusal
    # is for the whole file.
    write(qfile, ONE.replace(old, new), TWO.replace("The colour reported.", "The colour."))
    r = cli("sync")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == (
        f"Error: --force: refusing to change questions that already have forecasts: q-one ({fields}); "
        "forcing the sync applies the changes and records a revision\n"
    )
    assert export(cli) == before
    # A dry run gives the same answer.
    r = cli("sync", "--dry-run")
    assert r.exit_code == 2
    assert r.stderr.startswith(
        "Error: --force: refusing to change questions that already have forecasts"
    )


@freeze_time("2027-03-10 12:00:00")
def test_only_human_forecasts_protect_a_question(cli, qfile):
    """The paper's own forecast does not lock the criteria."""
    write(qfile, ONE.replace("criteria:", "paper_forecast: 0.8\n    criteria:"))
    assert cli("sync").exit_code == 0
    write(qfile, ONE.replace("criteria:", "paper_forecast: 0.8\n    criteria:").replace("s.", "s!"))
    r = cli("sync")
    assert r.exit_code == 0, r.output
    assert detail(cli, "q-one")["criteria"] == "Yes if one happens!"


@freeze_time("2027-03-10 12:00:00")
def test_force_applies_and_records_a_revision(cli, qfile):
    write(qfile, ONE, TWO)
    assert cli("sync").exit_code == 0
    assert cli("people", "add", "ann").exit_code == 0
    assert cli("predict", "q-two", "Red=0.5,Blue=0.5", "--by", "ann").exit_code == 0
    write(qfile, ONE, TWO.replace("[Red, Blue]", "[Red, Blue, Green]"))
    before = export(cli)
    r = cli("sync")  # a new option changes what every forecast means: not without --force
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr.startswith("Error: --force: refusing to change questions that already")
    assert "q-two (options)" in r.stderr
    assert export(cli) == before
    with freeze_time("2027-03-11 08:00:00.5"):
        r = cli("sync", "--force")
    assert (r.exit_code, r.stderr) == (0, "")
    assert r.stdout == (
        "Synced questions.yaml: 0 added, 1 updated, 1 unchanged, "
        "1 changed with --force (revisions recorded).\n  updated: q-two\n"
    )
    d = detail(cli, "q-two")
    assert d["options"] == ["Red", "Blue", "Green"]
    assert d["revisions"] == [
        {
            "changed_at": "2027-03-11T08:00:00.500000Z",
            "changes": {"options": [["Red", "Blue"], ["Red", "Blue", "Green"]]},
            "reason": "sync --force",
            "forced": True,
        }
    ]
    # The old forecast is kept, but no longer fits the options, so it leaves the crowd.
    assert [f["value"] for f in d["forecasts"]] == [{"Red": 0.5, "Blue": 0.5}]
    assert d["crowd"] is None
    r = cli("sync", "--force")
    assert r.stdout == "Synced questions.yaml: 0 added, 0 updated, 2 unchanged.\n"
    assert len(detail(cli, "q-two")["revisions"]) == 1


@freeze_time("2027-03-10 12:00:00")
def test_protected_changes_without_forecasts_are_recorded_unforced(cli, qfile):
    write(qfile, ONE)
    assert cli("sync").exit_code == 0
    write(qfile, ONE.replace("happens.", "happens twice."))
    assert cli("sync").exit_code == 0
    assert detail(cli, "q-one")["revisions"] == [
        {
            "changed_at": "2027-03-10T12:00:00Z",
            "changes": {"criteria": ["Yes if one happens.", "Yes if one happens twice."]},
            "reason": "sync",
            "forced": False,
        }
    ]


# ---------------------------------------------------------------- errors name file:line


@pytest.mark.parametrize(
    ("text", "line", "rest"),
    [
        (
            "questions:\n  - id: q-one\n    title: [unclosed\n    criteria: x\n",
            4,
            "invalid YAML: ",
        ),
        ("questions:\n  - id: q-one\n   title: bad indent\n", 3, "invalid YAML: "),
        ("questions:\n\t- id: q-one\n", 2, "invalid YAML: "),
        ("questions:\n  - id: q-one\n    title: 'a\n", 4, "invalid YAML: "),
    ],
)
def test_invalid_yaml_reports_file_and_line(cli, qfile, text, line, rest):
    qfile.write_text(text, encoding="utf-8")
    r = cli("sync")
    assert r.exit_code == 2
    assert r.stderr.startswith(f"Error: questions.yaml:{line}: {rest}")
    assert r.stderr.count("\n") == 1
    assert "Traceback" not in r.output


@pytest.mark.parametrize(
    ("item", "line", "message"),
    [
        # line 1 is "questions:"; the item's keys start on line 2
        (
            ONE.replace("    opens:", "    colour: red\n    opens:"),
            5,
            "question 'q-one': colour: Extra inputs are not permitted",
        ),
        (ONE.replace("closes:", "closs:"), 2, "question 'q-one': closes: Field required"),
        (
            ONE.replace("2027-03-01", "2027-13-01"),
            5,
            "question 'q-one': opens: '2027-13-01' is not a real date (month must be in 1..12)",
        ),
        (
            ONE.replace("2027-03-01", "2027-02-30"),
            5,
            "question 'q-one': opens: '2027-02-30' is not a real date (day is out of range for month)",
        ),
        (ONE.replace("2027-03-01", "2027-03-01T10:00:00"), 5, "question 'q-one': opens: "),
        (
            ONE.replace("2027-03-01", "soon"),
            5,
            "question 'q-one': opens: 'soon' is not an ISO date; use YYYY-MM-DD",
        ),
        (
            ONE.replace("id: q-one", "id: Q One"),
            2,
            "question 'Q One': id: 'Q One' is not a valid id; use 2 to 64 lower-case letters, "
            "digits and hyphens, starting and ending with a letter or digit (e.g. engines-2027)",
        ),
        (
            ONE.replace("    title: Will one happen?\n", ""),
            2,
            "question 'q-one': title: Field required",
        ),
        (
            ONE.replace("2027-03-31", "2027-02-01"),
            2,
            "question 'q-one': dates must satisfy opens <= closes <= resolve_by (got 2027-03-01, 2027-02-01, 2027-04-30)",
        ),
        (
            ONE.replace("    opens:", "    type: yesno\n    opens:"),
            5,
            "question 'q-one': type: Input should be 'binary', 'choice' or 'numeric'",
        ),
        (
            ONE.replace("    opens:", "    paper_forecast: 1.5\n    opens:"),
            2,
            "question 'q-one': paper_forecast: probability 1.5 is out of range",
        ),
        (
            ONE.replace("    opens:", "    sources: [{url: 'ftp://x'}]\n    opens:"),
            5,
            "question 'q-one': sources.0.url: 'ftp://x' is not an http(s) URL",
        ),
    ],
)
def test_schema_errors_report_file_line_and_key(cli, qfile, item, line, message):
    write(qfile, TWO, item)  # the bad question is the second item, from line 11
    line += 9
    r = cli("sync")
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith(f"Error: questions.yaml:{line}: {message}"), r.stderr
    assert r.stderr.count("\n") == 1
    assert "Traceback" not in r.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n- b\n", "questions.yaml:1: expected a mapping with a 'questions' list"),
        ("questions: 3\n", "questions.yaml:1: 'questions' must be a list"),
        ("version: 2\nquestions: []\n", "questions.yaml:1: unsupported version 2; expected 1"),
        ("question: []\n", "questions.yaml:1: expected a mapping with a 'questions' list"),
        (
            "questions: []\nextra: 1\n",
            "questions.yaml:1: unknown top-level key 'extra'; expected 'questions'",
        ),
        ("questions:\n  - just a string\n", "questions.yaml:2: question #1: expected a mapping"),
        (
            "questions:\n" + ONE + ONE,
            "questions.yaml:8: duplicate question id 'q-one' (first at line 2)",
        ),
    ],
)
def test_file_structure_errors(cli, qfile, text, message):
    qfile.write_text(text, encoding="utf-8")
    r = cli("sync")
    assert (r.exit_code, r.stderr) == (2, f"Error: {message}\n")


def test_missing_file(cli):
    r = cli("sync", "nope.yaml")
    assert (r.exit_code, r.stderr) == (2, "Error: nope.yaml: file not found\n")


# ---------------------------------------------------------------- the paper's forecast


@freeze_time("2027-03-10 12:00:00")
def test_paper_forecast_is_recorded_as_the_paper_at_opening(cli, qfile):
    write(
        qfile,
        ONE.replace("criteria:", "paper_forecast: 0.8\n    criteria:"),
        TWO.replace("criteria:", "paper_forecast: {red: 0.25, Blue: 0.75}\n    criteria:"),
    )
    assert cli("sync").exit_code == 0
    d = detail(cli, "q-one")
    assert d["forecasts"] == [
        {
            "by": "paper",
            "value": 0.8,
            "made_at": "2027-03-01T00:00:00Z",
            "recorded_at": "2027-03-10T12:00:00Z",
            "note": "implied by the paper's wording (questions.yaml paper_forecast)",
        }
    ]
    assert (d["paper"], d["crowd"], d["forecasters"]) == (0.8, None, 0)
    assert detail(cli, "q-two")["paper"] == {"Red": 0.25, "Blue": 0.75}

    # Syncing the same file again records nothing new.
    r = cli("sync")
    assert r.stdout == "Synced questions.yaml: 0 added, 0 updated, 2 unchanged.\n"
    assert len(detail(cli, "q-one")["forecasts"]) == 1

    # A new paper_forecast is recorded, again at the opening; the latest counts.
    write(qfile, ONE.replace("criteria:", "paper_forecast: 0.7\n    criteria:"), TWO)
    r = cli("sync")
    assert r.stdout == "Synced questions.yaml: 0 added, 1 updated, 1 unchanged.\n  updated: q-one\n"
    d = detail(cli, "q-one")
    assert [(f["by"], f["value"], f["made_at"]) for f in d["forecasts"]] == [
        ("paper", 0.8, "2027-03-01T00:00:00Z"),
        ("paper", 0.7, "2027-03-01T00:00:00Z"),
    ]
    assert d["paper"] == 0.7


@freeze_time("2027-03-10 12:00:00")
def test_paper_forecast_must_fit_the_question(cli, qfile):
    write(qfile, TWO.replace("criteria:", "paper_forecast: 0.5\n    criteria:"))
    r = cli("sync")
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: questions.yaml:2: question 'q-two': paper_forecast: a choice forecast is "
        "OPTION=P pairs, e.g. Red=0.5,Blue=0.5\n"
    )


@freeze_time("2027-03-10 12:00:00")
def test_sync_from_a_multiline_file_keeps_text_and_metadata(cli, qfile):
    qfile.write_text(
        textwrap.dedent(
            """\
            version: 1
            questions:
              - id: engines-2027
                title: Will China buy engines?
                criteria: |
                  Yes if a contract is reported.
                  By a major outlet.
                fine_print: Leases count.
                sources:
                  - https://example.org/a
                  - Jane's
                  - {name: SIPRI, url: "https://sipri.org"}
                claim: {section: "Engines", quote: "China will buy engines."}
                opens: 2027-03-01
                closes: 2027-06-30
                resolve_by: 2027-09-30
                tags: [engines, Russia, engines]
                news: engine AND China
            """
        ),
        encoding="utf-8",
    )
    assert cli("sync").exit_code == 0
    d = detail(cli, "engines-2027")
    assert d["criteria"] == "Yes if a contract is reported.\nBy a major outlet."
    assert d["fine_print"] == "Leases count."
    assert d["sources"] == [
        {"url": "https://example.org/a"},
        {"name": "Jane's"},
        {"name": "SIPRI", "url": "https://sipri.org"},
    ]
    assert d["claim"] == {"section": "Engines", "quote": "China will buy engines."}
    assert d["tags"] == ["engines", "russia"]
    assert d["news"] == "engine AND China"

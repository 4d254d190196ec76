"""`forecasts add | list | show | due`: exact text where it is deterministic, JSON keys."""

from __future__ import annotations

import json
import types

import pytest
from freezegun import freeze_time

from termhelp import as_pipe, as_terminal, plain

LIST_KEYS = {
    "id", "title", "type", "status", "opens", "closes", "resolve_by", "tags", "crowd", "paper",
    "resolution",
}  # fmt: skip
SHOW_KEYS = LIST_KEYS | {
    "criteria", "fine_print", "sources", "claim", "forecasts", "resolutions", "revisions",
}  # fmt: skip
FORECAST_KEYS = {"by", "value", "made_at", "note"}
RESOLUTION_KEYS = {"outcome", "by", "resolved_on", "evidence", "note", "superseded"}

DATES = ("--closes", "2027-06-30", "--resolve-by", "2027-09-30")


@pytest.fixture
def terminal(monkeypatch):
    as_terminal(monkeypatch, 100)


@pytest.fixture
def piped(monkeypatch):
    as_pipe(monkeypatch)


@pytest.fixture
def populated(cli):
    """Three questions of each type, two people, a forecast and a resolution."""
    with freeze_time("2027-03-10 12:00:00"):
        r = cli(
            "add", "--id", "engines-2027", "--title", "Will China buy engines?",
            "--opens", "2027-03-01", *DATES, "--criteria", "Yes if a contract.\nSecond line.",
            "--tag", "Engines", "--tag", "russia", "--source", "https://example.org/x",
            "--query", "engine AND china",
        )  # fmt: skip
        assert r.exit_code == 0, r.output
        r = cli(
            "add", "--id", "colour", "--type", "choice", "--option", "Red", "--option", "Blue",
            "--title", "Which colour?", "--opens", "2027-01-01", "--closes", "2027-02-28",
            "--resolve-by", "2027-03-31", "--criteria", "The colour.",
        )  # fmt: skip
        assert r.exit_code == 0, r.output
        r = cli(
            "add", "--id", "size", "--type", "numeric", "--min", "0", "--max", "100",
            "--unit", "km", "--title", "How far?", "--closes", "2027-03-31",
            "--resolve-by", "2027-04-30", "--criteria", "The distance.",
        )  # fmt: skip
        assert r.exit_code == 0, r.output
        assert cli("people", "add", "ann").exit_code == 0
        assert cli("people", "add", "rev", "--reviewer").exit_code == 0
        r = cli("predict", "engines-2027", "0.7", "--by", "ann", "--note", "gut feeling")
        assert r.exit_code == 0
        r = cli("resolve", "colour", "Red", "--by", "rev", "--evidence", "https://e.org/1")
        assert r.exit_code == 0
    return cli


# ---------------------------------------------------------------- add


@freeze_time("2027-03-10 12:00:00")
def test_add_prints_one_line_and_defaults_opens_to_today(cli):
    r = cli("add", "--id", "q1", "--title", "Q one?", "--criteria", "c", *DATES)
    assert (r.exit_code, r.stdout, r.stderr) == (
        0,
        "Added q1: Q one? (opens 2027-03-10, closes 2027-06-30).\n",
        "",
    )
    d = json.loads(cli("show", "q1", "--json").stdout)
    assert (d["type"], d["opens"], d["status"], d["created_at"]) == (
        "binary",
        "2027-03-10",
        "open",
        "2027-03-10T12:00:00Z",
    )


@freeze_time("2027-03-10 12:00:00")
def test_add_refuses_a_taken_id(cli):
    assert cli("add", "--id", "q1", "--title", "Q?", "--criteria", "c", *DATES).exit_code == 0
    r = cli("add", "--id", "q1", "--title", "Again?", "--criteria", "c", *DATES)
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: question 'q1' already exists; edit questions.yaml and run `forecasts sync`\n",
    )


@freeze_time("2027-03-10 12:00:00")
@pytest.mark.parametrize(
    ("extra", "error"),
    [
        (
            ("--id", "Bad Id"),
            "--id: 'Bad Id' is not a valid id; use 2 to 64 lower-case letters, digits and "
            "hyphens, starting and ending with a letter or digit (e.g. engines-2027)\n",
        ),
        (("--id", "x"), "--id: 'x' is not a valid id; use 2 to 64 lower-case letters"),
        (
            ("--id", "q1", "--closes", "2027-13-01"),
            "--closes: '2027-13-01' is not a real date (month must be in 1..12)",
        ),
        (("--id", "q1", "--option", "A"), "options are only for choice questions, not binary"),
        (
            ("--id", "q1", "--type", "choice", "--option", "A"),
            "a choice question needs at least two options",
        ),
        (("--id", "q1", "--type", "numeric"), "a numeric question needs min and max"),
        (
            ("--id", "q1", "--type", "numeric", "--min", "5", "--max", "5"),
            "numeric range needs finite min < max",
        ),
        (("--id", "q1", "--type", "bogus"), "--type: Input should be 'binary', 'choice' or"),
        (("--id", "q1", "--min", "1"), "min, max and unit are only for numeric questions"),
        (("--id", "q1", "--source", "example.org"), "--source: 'example.org' is not an http(s)"),
        (("--id", "q1", "--opens", "2027-07-01"), "dates must satisfy opens <= closes"),
    ],
)
def test_add_bad_input(cli, extra, error):
    r = cli("add", "--title", "Q?", "--criteria", "c", *DATES, *extra)
    assert r.exit_code == 2
    assert r.stderr.startswith(f"Error: {error}")
    assert r.stderr.count("\n") == 1
    assert json.loads(cli("list", "--json").stdout) == []


def test_without_a_terminal_a_missing_value_is_an_error_not_a_prompt(cli):
    r = cli("add", "--id", "q1", "--title", "Q?", "--criteria", "c", "--resolve-by", "2027-09-30")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == "Error: missing --closes; give it on the command line\n"
    assert json.loads(cli("list", "--json").stdout) == []


@freeze_time("2027-03-10 12:00:00")
def test_at_a_terminal_missing_values_are_prompted_for(cli, monkeypatch):
    from forecasts.cli import questions as cli_questions

    # The runner's stdin is a pipe; make `add` believe a person is typing.
    fake_sys = types.SimpleNamespace(stdin=types.SimpleNamespace(isatty=lambda: True))
    monkeypatch.setattr(cli_questions, "sys", fake_sys)
    r = cli("add", "--id", "q1", "--criteria", "c", input="Prompted?\n2027-06-30\n2027-09-30\n")
    assert r.exit_code == 0, r.output
    assert r.stdout == (
        "Title: Prompted?\n"
        "Closes (YYYY-MM-DD): 2027-06-30\n"
        "Resolve by (YYYY-MM-DD): 2027-09-30\n"
        "Added q1: Prompted? (opens 2027-03-10, closes 2027-06-30).\n"
    )


# ---------------------------------------------------------------- list


@freeze_time("2027-03-20 12:00:00")
def test_list_json_has_the_contract_keys_ordered_by_closing_date(populated):
    rows = json.loads(populated("list", "--json").stdout)
    assert [r["id"] for r in rows] == ["colour", "size", "engines-2027"]
    for r in rows:
        assert set(r) >= LIST_KEYS
    by_id = {r["id"]: r for r in rows}
    e = by_id["engines-2027"]
    assert {k: e[k] for k in LIST_KEYS} == {
        "id": "engines-2027",
        "title": "Will China buy engines?",
        "type": "binary",
        "status": "open",
        "opens": "2027-03-01",
        "closes": "2027-06-30",
        "resolve_by": "2027-09-30",
        "tags": ["engines", "russia"],
        "crowd": 0.7,
        "paper": None,
        "resolution": None,
    }
    c = by_id["colour"]
    assert (c["status"], c["crowd"], c["resolution"]["outcome"]) == ("resolved", None, "Red")
    assert c["resolution"]["evidence"] == ["https://e.org/1"]


@freeze_time("2027-03-20 12:00:00")
def test_list_filters_by_tag_and_status(populated):
    def ids(*args):
        return [r["id"] for r in json.loads(populated("list", "--json", *args).stdout)]

    assert ids("--tag", "RUSSIA") == ["engines-2027"]
    assert ids("--tag", "none") == []
    assert ids("--status", "open") == ["size", "engines-2027"]
    assert ids("--status", "resolved", "--tag", "engines") == []


@freeze_time("2027-03-20 12:00:00")
def test_list_text_table(populated, terminal):
    r = populated("list")
    assert r.exit_code == 0
    assert plain(r.stdout) == (
        "id            status    closes      crowd  outcome  title\n"
        "colour        resolved  2027-02-28  -      Red      Which colour?\n"
        "size          open      2027-03-31  -               How far?\n"
        "engines-2027  open      2027-06-30  70%             Will China buy engines?\n"
    )  # no paper forecasts: the column is left out


@freeze_time("2027-03-20 12:00:00")
def test_list_piped_is_the_same_table_without_colour(populated, piped):
    r = populated("list")
    assert r.exit_code == 0
    assert r.stdout == (
        "id            status    closes      crowd  outcome  title\n"
        "colour        resolved  2027-02-28  -      Red      Which colour?\n"
        "size          open      2027-03-31  -               How far?\n"
        "engines-2027  open      2027-06-30  70%             Will China buy engines?\n"
    )


@freeze_time("2027-03-20 12:00:00")
def test_list_tsv_has_every_column_and_full_values(populated, terminal):
    r = populated("list", "--tsv")
    assert r.exit_code == 0
    assert r.stdout.splitlines() == [
        "id\tstatus\ttype\topens\tcloses\tresolve_by\tforecasters\tcrowd\tpaper\toutcome\ttags\ttitle",
        "colour\tresolved\tchoice\t2027-01-01\t2027-02-28\t2027-03-31\t0\t-\t-\tRed\t\tWhich colour?",
        "size\topen\tnumeric\t2027-03-10\t2027-03-31\t2027-04-30\t0\t-\t-\t\t\tHow far?",
        "engines-2027\topen\tbinary\t2027-03-01\t2027-06-30\t2027-09-30\t1\t70%\t-\t\t"
        "engines,russia\tWill China buy engines?",
    ]
    assert "\x1b" not in r.stdout  # even at a terminal


def test_list_with_nothing_to_show(cli):
    r = cli("list")
    assert (r.exit_code, r.stdout) == (0, "No questions match.\n")
    assert json.loads(cli("list", "--json").stdout) == []


# ---------------------------------------------------------------- show


@freeze_time("2027-03-20 12:00:00")
def test_show_json_adds_text_history_and_revisions(populated):
    d = json.loads(populated("show", "engines-2027", "--json").stdout)
    assert set(d) >= SHOW_KEYS
    assert d["criteria"] == "Yes if a contract.\nSecond line."
    assert d["fine_print"] is None
    assert d["sources"] == [{"url": "https://example.org/x"}]
    assert d["claim"] is None
    assert d["news"] == "engine AND china"
    assert d["forecasts"] == [
        {
            "by": "ann",
            "value": 0.7,
            "made_at": "2027-03-10T12:00:00Z",
            "recorded_at": "2027-03-10T12:00:00Z",
            "note": "gut feeling",
        }
    ]
    assert d["resolutions"] == []
    assert d["revisions"] == []
    c = json.loads(populated("show", "colour", "--json").stdout)
    (res,) = c["resolutions"]
    assert set(res) >= RESOLUTION_KEYS
    assert {k: res[k] for k in RESOLUTION_KEYS} == {
        "outcome": "Red",
        "by": "rev",
        "resolved_on": "2027-03-10",
        "evidence": ["https://e.org/1"],
        "note": None,
        "superseded": False,
    }
    for f in d["forecasts"]:
        assert set(f) >= FORECAST_KEYS


@freeze_time("2027-03-20 12:00:00")
def test_show_text(populated):
    r = populated("show", "engines-2027")
    assert r.exit_code == 0
    assert r.stdout == (
        "engines-2027  (binary)\n"
        "Will China buy engines?\n"
        "\n"
        "Status  open: closes in 3 months (2027-06-30)\n"
        "Dates   opens 2027-03-01 · closes 2027-06-30 · resolve by 2027-09-30\n"
        "Tags    engines, russia\n"
        "Crowd   70% from 1 forecaster   Paper  -\n"
        "\n"
        "Criteria\n"
        "  Yes if a contract. Second line.\n"
        "\n"
        "Sources\n"
        "  <https://example.org/x>\n"
        "\n"
        "Forecast history\n"
        "  crowd ▆  70%\n"
        "  made              by   value  note\n"
        "  2027-03-10 12:00  ann  70%    gut feeling\n"
    )
    assert populated("show", "colour").stdout == (
        "colour  (choice: Red, Blue)\n"
        "Which colour?\n"
        "\n"
        "Status  resolved: Red on 2027-03-10\n"
        "Dates   opens 2027-01-01 · closes 2027-02-28 · resolve by 2027-03-31\n"
        "Crowd   no forecasts yet   Paper  -\n"
        "\n"
        "Criteria\n"
        "  The colour.\n"
        "\n"
        "Resolution history\n"
        "  2027-03-10  Red by rev\n"
        "    evidence: https://e.org/1\n"
    )
    assert populated("show", "size").stdout.splitlines()[:5] == [
        "size  (numeric, 0 to 100 km)",
        "How far?",
        "",
        "Status  open: closes in 11 days (2027-03-31)",
        "Dates   opens 2027-03-10 · closes 2027-03-31 · resolve by 2027-04-30",
    ]


def test_show_unknown_id(cli):
    r = cli("show", "nope", "--json")
    assert (r.exit_code, r.stdout, r.stderr) == (
        2,
        "",
        "Error: no question with id 'nope'; see `forecasts list`\n",
    )


# ---------------------------------------------------------------- due


def test_due_lists_closed_and_overdue_most_overdue_first(populated, terminal):
    with freeze_time("2027-04-15 12:00:00"):
        rows = json.loads(populated("due", "--json").stdout)
        assert [(r["id"], r["status"]) for r in rows] == [("size", "closed")]
        assert set(rows[0]) >= LIST_KEYS
    with freeze_time("2027-10-01 00:00:00"):
        rows = json.loads(populated("due", "--json").stdout)
        assert [(r["id"], r["status"]) for r in rows] == [
            ("size", "overdue"),
            ("engines-2027", "overdue"),
        ]
        r = populated("due")
        assert plain(r.stdout).splitlines() == [
            "id            status   resolve by  crowd  title",
            "size          overdue  2027-04-30  -      How far?",
            "engines-2027  overdue  2027-09-30  70%    Will China buy engines?",
        ]
        # ... and as they stood at the end of an earlier day:
        rows = json.loads(populated("due", "--json", "--as-of", "2027-04-01").stdout)
        assert [(r["id"], r["status"]) for r in rows] == [("size", "closed")]
        rows = json.loads(populated("due", "--json", "--as-of", "2027-03-31").stdout)
        assert rows == []


@freeze_time("2027-03-20 12:00:00")
def test_due_with_nothing_due(populated):
    r = populated("due")
    assert (r.exit_code, r.stdout) == (0, "Nothing is awaiting resolution.\n")


def test_bad_status_and_dates_in_read_commands(cli):
    r = cli("list", "--status", "waiting")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: --status: 'waiting' is not a status; use one of upcoming, open, closed, "
        "overdue, pending, disputed, resolved, annulled\n",
    )
    r = cli("due", "--as-of", "soon")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: --as-of: 'soon' is not an ISO date; use YYYY-MM-DD\n",
    )


# ---------------------------------------------------------------- people


@freeze_time("2027-03-10 12:00:00.25")
def test_people_add_and_list(cli, terminal):
    r = cli("people", "add", "ann", "--name", "Ann Lee", "--email", "ann@example.org")
    assert (r.exit_code, r.stdout) == (0, "Added ann (forecaster).\n")
    r = cli("people", "add", "rev", "--reviewer", "--no-digest")
    assert (r.exit_code, r.stdout) == (0, "Added rev (forecaster, reviewer).\n")
    people = json.loads(cli("people", "list", "--json").stdout)
    assert [p["handle"] for p in people] == ["ann", "paper", "rev"]
    assert people[0] == {
        "handle": "ann",
        "name": "Ann Lee",
        "email": "ann@example.org",
        "roles": ["forecaster"],
        "digest": True,
        "created_at": "2027-03-10T12:00:00.250000Z",
    }
    assert (people[1]["roles"], people[1]["digest"]) == (["forecaster"], False)
    assert (people[2]["roles"], people[2]["digest"]) == (["forecaster", "reviewer"], False)
    lines = plain(cli("people", "list").stdout).splitlines()
    assert lines == [
        "handle  roles                 digest  email            name",
        "ann     forecaster            yes     ann@example.org  Ann Lee",
        "paper   forecaster            no                       The paper (implied by its wording)",
        "rev     forecaster, reviewer  no",
    ]


@freeze_time("2027-03-20 12:00:00")
def test_show_text_includes_the_reviewers_note(cli):
    assert cli("people", "add", "rev", "--reviewer").exit_code == 0
    r = cli(
        "add", "--id", "noted", "--title", "Noted?", "--criteria", "c",
        "--opens", "2027-03-01", "--closes", "2027-03-10", "--resolve-by", "2027-03-31",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    r = cli(
        "resolve", "noted", "yes", "--by", "rev",
        "--evidence", "https://e.org/1", "--note", "TASS confirmed it",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    out = cli("show", "noted").stdout
    assert out.endswith(
        "Resolution history\n"
        "  2027-03-20  yes by rev\n"
        "    evidence: https://e.org/1\n"
        "    note:\n"
        "      TASS confirmed it\n"
    )

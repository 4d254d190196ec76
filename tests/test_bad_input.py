"""Bad input anywhere: exit code 2, exactly one line `Error: ...` on stderr, no traceback,
and the database exactly as it was (compared as a full `forecasts export`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from freezegun import freeze_time

from conftest import PG_URL, CliResult, _pg_schema, make_cli

NOW = "2027-03-20 12:00:00"

WORLD = """\
questions:
  - id: bq
    title: Binary?
    criteria: Yes if so.
    opens: 2027-03-01
    closes: 2027-03-31
    resolve_by: 2027-04-30
    paper_forecast: 0.8
  - id: cq
    title: Which?
    type: choice
    options: [A, B, C]
    criteria: The one reported.
    opens: 2027-03-01
    closes: 2027-03-31
    resolve_by: 2027-04-30
  - id: nq
    title: How many?
    type: numeric
    min: 0
    max: 100
    criteria: The number reported.
    opens: 2027-03-01
    closes: 2027-03-31
    resolve_by: 2027-04-30
  - id: done
    title: Done?
    criteria: Yes if done.
    opens: 2027-02-01
    closes: 2027-02-28
    resolve_by: 2027-03-31
  - id: later
    title: Later?
    criteria: Yes if later.
    opens: 2027-04-01
    closes: 2027-04-30
    resolve_by: 2027-05-31
"""

ADD = ("add", "--title", "T", "--criteria", "c", "--id", "new")  # a later --id wins

# (case id, argv, files to write first)
# (case id, argv, files to write first, words the message must contain)
CASES: list[tuple[str, tuple[str, ...], dict[str, str], str]] = [
    # unknown ids and people
    ("show-unknown-id", ("show", "nope"), {}, "no question with id 'nope'"),
    (
        "predict-unknown-id",
        ("predict", "nope", "0.5", "--by", "ann"),
        {},
        "no question with id 'nope'",
    ),
    (
        "predict-unknown-person",
        ("predict", "bq", "0.5", "--by", "zed"),
        {},
        "no person with handle 'zed'",
    ),
    (
        "resolve-unknown-id",
        ("resolve", "nope", "yes", "--by", "rev"),
        {},
        "no question with id 'nope'",
    ),
    (
        "resolve-unknown-person",
        ("resolve", "bq", "yes", "--by", "zed"),
        {},
        "no person with handle 'zed'",
    ),
    # malformed values
    ("value-not-a-number", ("predict", "bq", "abc", "--by", "ann"), {}, "'abc' is not a number"),
    ("value-empty", ("predict", "bq", "", "--by", "ann"), {}, "'' is not a number"),
    ("value-odds-zero", ("predict", "bq", "0:0", "--by", "ann"), {}, "odds '0:0'"),
    ("value-nan", ("predict", "bq", "nan", "--by", "ann"), {}, "'nan' is not a finite number"),
    ("choice-sum", ("predict", "cq", "A=0.5,B=0.5,C=0.5", "--by", "ann"), {}, "sum to 1.5"),
    (
        "choice-unknown-option",
        ("predict", "cq", "A=0.5,D=0.5", "--by", "ann"),
        {},
        "'D' is not an option",
    ),
    (
        "choice-missing-option",
        ("predict", "cq", "A=0.5,B=0.5", "--by", "ann"),
        {},
        "missing probabilities for C",
    ),
    (
        "choice-bare-number",
        ("predict", "cq", "0.5", "--by", "ann"),
        {},
        "a choice forecast is OPTION=P pairs",
    ),
    ("numeric-no-p50", ("predict", "nq", "p10=1,p90=9", "--by", "ann"), {}, "needs at least p50"),
    (
        "numeric-decreasing",
        ("predict", "nq", "p10=5,p50=1", "--by", "ann"),
        {},
        "must be non-decreasing",
    ),
    (
        "numeric-out-of-range",
        ("predict", "nq", "p50=101", "--by", "ann"),
        {},
        "p50=101 is outside the question's range",
    ),
    (
        "numeric-bare-number",
        ("predict", "nq", "50", "--by", "ann"),
        {},
        "a numeric forecast is quantiles",
    ),
    # out-of-range probabilities
    (
        "prob-above-one",
        ("predict", "bq", "1.5", "--by", "ann"),
        {},
        "probability 1.5 is out of range",
    ),
    ("prob-one", ("predict", "bq", "1", "--by", "ann"), {}, "probability 1 is out of range"),
    ("prob-zero", ("predict", "bq", "0", "--by", "ann"), {}, "probability 0 is out of range"),
    (
        "prob-too-small",
        ("predict", "bq", "0.0005", "--by", "ann"),
        {},
        "probability 0.0005 is out of range",
    ),
    ("prob-percent", ("predict", "bq", "100%", "--by", "ann"), {}, "probability 1 is out of range"),
    (
        "prob-odds",
        ("predict", "bq", "1000:1", "--by", "ann"),
        {},
        "probability 0.999001 is out of range",
    ),
    (
        "choice-prob-zero",
        ("predict", "cq", "A=0,B=0.5,C=0.5", "--by", "ann"),
        {},
        "probability of 'A' 0 is out of range",
    ),
    # the forecasting window and who may forecast
    (
        "at-malformed",
        ("predict", "bq", "0.5", "--by", "ann", "--at", "yesterday"),
        {},
        "--at: 'yesterday' is not an ISO datetime",
    ),
    (
        "at-future",
        ("predict", "bq", "0.5", "--by", "ann", "--at", "2027-03-20T12:00:01"),
        {},
        "--at: 2027-03-20T12:00:01Z is in the future",
    ),
    (
        "at-before-opens",
        ("predict", "bq", "0.5", "--by", "ann", "--at", "2027-02-28"),
        {},
        "--at: 2027-02-28T00:00:00Z is outside the question's open window",
    ),
    (
        "by-paper",
        ("predict", "bq", "0.5", "--by", "paper"),
        {},
        "the paper's forecast comes from paper_forecast",
    ),
    (
        "predict-resolved",
        ("predict", "done", "0.5", "--by", "ann"),
        {},
        "question 'done' is resolved; forecasts are closed",
    ),
    (
        "predict-closed",
        ("predict", "done", "0.5", "--by", "ann", "--at", "2027-03-01"),
        {},
        "--at: 2027-03-01T00:00:00Z is outside the question's open window",
    ),
    (
        "predict-upcoming",
        ("predict", "later", "0.5", "--by", "ann"),
        {},
        "question 'later' is upcoming",
    ),
    # resolutions
    (
        "resolve-not-reviewer",
        ("resolve", "bq", "yes", "--by", "ann"),
        {},
        "'ann' is not a reviewer",
    ),
    (
        "outcome-binary",
        ("resolve", "bq", "maybe", "--by", "rev"),
        {},
        "outcome 'maybe' does not fit a binary question",
    ),
    ("outcome-choice", ("resolve", "cq", "D", "--by", "rev"), {}, "outcome 'D' is not an option"),
    (
        "outcome-numeric-word",
        ("resolve", "nq", "many", "--by", "rev"),
        {},
        "outcome 'many' is not a number",
    ),
    (
        "outcome-numeric-range",
        ("resolve", "nq", "150", "--by", "rev"),
        {},
        "outcome 150 is outside the question's range",
    ),
    (
        "on-malformed",
        ("resolve", "bq", "yes", "--by", "rev", "--on", "2027-02-30"),
        {},
        "--on: '2027-02-30' is not a real date",
    ),
    (
        "on-future",
        ("resolve", "bq", "yes", "--by", "rev", "--on", "2027-03-21"),
        {},
        "--on: 2027-03-21 is in the future",
    ),
    (
        "on-before-opens",
        ("resolve", "bq", "yes", "--by", "rev", "--on", "2027-02-28"),
        {},
        "--on: 2027-02-28 is before the question opened",
    ),
    (
        "resolve-upcoming",
        ("resolve", "later", "yes", "--by", "rev"),
        {},
        "question 'later' opens on 2027-04-01",
    ),
    (
        "resolve-twice",
        ("resolve", "done", "no", "--by", "rev"),
        {},
        "--correct: question 'done' is already resolved",
    ),
    (
        "correct-no-reason",
        ("resolve", "done", "no", "--by", "rev", "--correct"),
        {},
        "--reason: a correction needs a reason",
    ),
    (
        "correct-nothing",
        ("resolve", "bq", "no", "--by", "rev", "--correct", "--reason", "x"),
        {},
        "--correct: question 'bq' has no resolution to correct",
    ),
    (
        "reason-no-correct",
        ("resolve", "bq", "no", "--by", "rev", "--reason", "x"),
        {},
        "--reason: a reason is only for corrections",
    ),
    (
        "evidence-not-url",
        ("resolve", "bq", "yes", "--by", "rev", "--evidence", "nope"),
        {},
        "--evidence: 'nope' is not an http(s) URL",
    ),
    # adding questions
    (
        "add-bad-date",
        (*ADD, "--closes", "2027-13-01", "--resolve-by", "2027-12-31"),
        {},
        "--closes: '2027-13-01' is not a real date",
    ),
    ("add-missing-closes", (*ADD, "--resolve-by", "2027-12-31"), {}, "missing --closes"),
    (
        "add-bad-id",
        (*ADD, "--id", "New Q", "--closes", "2027-12-01", "--resolve-by", "2027-12-31"),
        {},
        "--id: 'New Q' is not a valid id",
    ),
    (
        "add-taken-id",
        (*ADD, "--id", "bq", "--closes", "2027-12-01", "--resolve-by", "2027-12-31"),
        {},
        "question 'bq' already exists",
    ),
    (
        "add-dates-out-of-order",
        (*ADD, "--closes", "2027-12-01", "--resolve-by", "2027-11-30"),
        {},
        "opens <= closes <= resolve_by",
    ),
    (
        "add-bad-type",
        (*ADD, "--closes", "2027-12-01", "--resolve-by", "2027-12-31", "--type", "date"),
        {},
        "--type: Input should be 'binary', 'choice' or 'numeric'",
    ),
    # read commands
    ("list-bad-status", ("list", "--status", "waiting"), {}, "'waiting' is not a status"),
    (
        "list-bad-as-of",
        ("list", "--as-of", "2027/03/01"),
        {},
        "--as-of: '2027/03/01' is not an ISO date",
    ),
    ("due-bad-as-of", ("due", "--as-of", "tomorrow"), {}, "--as-of: 'tomorrow' is not an ISO date"),
    # people
    (
        "people-bad-handle",
        ("people", "add", "Ann Smith"),
        {},
        "HANDLE: 'Ann Smith' is not a valid handle",
    ),
    ("people-taken-handle", ("people", "add", "ann"), {}, "handle 'ann' already exists"),
    ("people-paper-handle", ("people", "add", "paper"), {}, "handle 'paper' already exists"),
    (
        "people-bad-email",
        ("people", "add", "bea", "--email", "bea-at-example"),
        {},
        "--email: 'bea-at-example' is not an email address",
    ),
    # questions.yaml
    ("sync-missing-file", ("sync", "missing.yaml"), {}, "missing.yaml: file not found"),
    (
        "sync-invalid-yaml",
        ("sync", "bad.yaml"),
        {"bad.yaml": "questions:\n  - id: [x\n"},
        "bad.yaml:3: invalid YAML",
    ),
    (
        "sync-bad-date",
        ("sync", "bad.yaml"),
        {"bad.yaml": WORLD.replace("opens: 2027-04-01", "opens: 2027-04-31")},
        "bad.yaml:35: question 'later': opens: '2027-04-31' is not a real date",
    ),
    (
        "sync-schema",
        ("sync", "bad.yaml"),
        {"bad.yaml": WORLD.replace("    type: numeric\n", "    type: number\n")},
        "bad.yaml:19: question 'nq': type:",
    ),
    (
        "sync-protected",
        ("sync", "bad.yaml"),
        {"bad.yaml": WORLD.replace("Yes if so.", "Yes if so, twice.").replace("0.8", "0.6")},
        "refusing to change questions that already have forecasts: bq (criteria)",
    ),
    (
        "init-invalid-questions",
        ("init", "--questions", "bad.yaml"),
        {"bad.yaml": WORLD.replace("Later?", "[Later?")},
        "bad.yaml:33: invalid YAML",
    ),
    # transfer
    ("import-missing", ("import", "missing.json"), {}, "missing.json: file not found"),
    (
        "import-invalid-json",
        ("import", "x.json"),
        {"x.json": '{"format": '},
        "x.json:1: invalid JSON",
    ),
    (
        "import-not-an-export",
        ("import", "x.json"),
        {"x.json": '{"hello": 1}'},
        "not a forecasts export",
    ),
    (
        "import-into-non-empty",
        ("import", "x.json"),
        {"x.json": "EXPORT"},
        "the database is not empty",
    ),
    ("export-bad-format", ("export", "--format", "xml"), {}, "--format 'xml' is not supported"),
    # configuration
    ("config-missing", ("--config", "nope.toml", "list"), {}, "config file nope.toml not found"),
]


@pytest.fixture(scope="module")
def world_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One populated database for the whole table: every case must leave it unchanged, and
    each checks that it did, so sharing it is safe (and keeps this file fast)."""
    if PG_URL:
        yield from _pg_schema(migrate=True)
        return
    yield f"sqlite:///{tmp_path_factory.mktemp('world') / 'world.db'}"


@pytest.fixture(scope="module")
def world_snapshot(world_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    cli = make_cli(world_url)
    qfile = tmp_path_factory.mktemp("world-files") / "questions.yaml"
    qfile.write_text(WORLD, encoding="utf-8")
    with freeze_time("2027-03-10 09:00:00"):
        # --questions: never ./questions.yaml (the working directory is not yet a tmp one)
        assert cli("init", "--questions", str(qfile)).exit_code == 0
        assert cli("people", "add", "ann", "--email", "ann@example.org").exit_code == 0
        assert cli("people", "add", "rev", "--reviewer").exit_code == 0
        for args in (
            ("bq", "0.6"),
            ("cq", "A=0.2,B=0.3,C=0.5"),
            ("nq", "p10=10,p50=20,p90=40"),
        ):
            assert cli("predict", *args, "--by", "ann").exit_code == 0
        assert cli("predict", "done", "0.3", "--by", "ann", "--at", "2027-02-10").exit_code == 0
        assert cli("resolve", "done", "yes", "--by", "rev", "--on", "2027-03-05").exit_code == 0
    snap = snapshot(cli)
    assert [q["id"] for q in snap["tables"]["question"]] == ["bq", "cq", "done", "later", "nq"]
    return snap


@pytest.fixture
def world(world_url: str, world_snapshot: dict, tmp_path: Path) -> Callable[..., CliResult]:
    (tmp_path / "questions.yaml").write_text(WORLD, encoding="utf-8")
    return make_cli(world_url)


def snapshot(cli) -> dict:
    r = cli("export")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    data.pop("exported_at")
    return data


@pytest.mark.parametrize(
    ("args", "files", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
@freeze_time(NOW)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    world, world_snapshot, tmp_path, args, files, words
):
    for name, text in files.items():
        if text == "EXPORT":
            text = world("export").stdout
        (tmp_path / name).write_text(text, encoding="utf-8")
    r = world(*args)
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert r.stderr.startswith("Error: ")
    assert r.stderr.endswith("\n")
    assert r.stderr.count("\n") == 1, r.stderr
    assert words in r.stderr, r.stderr
    assert snapshot(world) == world_snapshot


def test_the_table_covers_every_case_once():
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names))


@freeze_time(NOW)
def test_the_world_accepts_good_input(cli, tmp_path):
    """The same commands with good input succeed, so the refusals above are about the input.
    (On a database of its own: this one changes it.)"""
    (tmp_path / "questions.yaml").write_text(WORLD, encoding="utf-8")
    world = cli
    with freeze_time("2027-03-10 09:00:00"):
        assert world("sync").exit_code == 0
        assert world("people", "add", "ann").exit_code == 0
        assert world("people", "add", "rev", "--reviewer").exit_code == 0
        assert world("resolve", "done", "yes", "--by", "rev", "--on", "2027-03-05").exit_code == 0
    assert world("predict", "bq", "0.5", "--by", "ann").exit_code == 0
    assert world("predict", "cq", "A=0.5,B=0.25,C=0.25", "--by", "ann").exit_code == 0
    assert world("predict", "nq", "p50=50", "--by", "ann").exit_code == 0
    assert world("resolve", "bq", "yes", "--by", "rev").exit_code == 0
    assert (
        world("resolve", "done", "no", "--by", "rev", "--correct", "--reason", "x").exit_code == 0
    )
    assert world("people", "add", "bea", "--email", "bea@example.org").exit_code == 0
    assert world("sync").exit_code == 0

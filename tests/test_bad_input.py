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
CASES: list[tuple[str, tuple[str, ...], dict[str, str]]] = [
    # unknown ids and people
    ("show-unknown-id", ("show", "nope"), {}),
    ("predict-unknown-id", ("predict", "nope", "0.5", "--by", "ann"), {}),
    ("predict-unknown-person", ("predict", "bq", "0.5", "--by", "zed"), {}),
    ("resolve-unknown-id", ("resolve", "nope", "yes", "--by", "rev"), {}),
    ("resolve-unknown-person", ("resolve", "bq", "yes", "--by", "zed"), {}),
    # malformed values
    ("value-not-a-number", ("predict", "bq", "abc", "--by", "ann"), {}),
    ("value-empty", ("predict", "bq", "", "--by", "ann"), {}),
    ("value-odds-zero", ("predict", "bq", "0:0", "--by", "ann"), {}),
    ("value-nan", ("predict", "bq", "nan", "--by", "ann"), {}),
    ("choice-sum", ("predict", "cq", "A=0.5,B=0.5,C=0.5", "--by", "ann"), {}),
    ("choice-unknown-option", ("predict", "cq", "A=0.5,D=0.5", "--by", "ann"), {}),
    ("choice-missing-option", ("predict", "cq", "A=0.5,B=0.5", "--by", "ann"), {}),
    ("choice-bare-number", ("predict", "cq", "0.5", "--by", "ann"), {}),
    ("numeric-no-p50", ("predict", "nq", "p10=1,p90=9", "--by", "ann"), {}),
    ("numeric-decreasing", ("predict", "nq", "p10=5,p50=1", "--by", "ann"), {}),
    ("numeric-out-of-range", ("predict", "nq", "p50=101", "--by", "ann"), {}),
    ("numeric-bare-number", ("predict", "nq", "50", "--by", "ann"), {}),
    # out-of-range probabilities
    ("prob-above-one", ("predict", "bq", "1.5", "--by", "ann"), {}),
    ("prob-one", ("predict", "bq", "1", "--by", "ann"), {}),
    ("prob-zero", ("predict", "bq", "0", "--by", "ann"), {}),
    ("prob-too-small", ("predict", "bq", "0.0005", "--by", "ann"), {}),
    ("prob-percent", ("predict", "bq", "100%", "--by", "ann"), {}),
    ("prob-odds", ("predict", "bq", "1000:1", "--by", "ann"), {}),
    ("choice-prob-zero", ("predict", "cq", "A=0,B=0.5,C=0.5", "--by", "ann"), {}),
    # the forecasting window and who may forecast
    ("at-malformed", ("predict", "bq", "0.5", "--by", "ann", "--at", "yesterday"), {}),
    ("at-future", ("predict", "bq", "0.5", "--by", "ann", "--at", "2027-03-20T12:00:01"), {}),
    ("at-before-opens", ("predict", "bq", "0.5", "--by", "ann", "--at", "2027-02-28"), {}),
    ("by-paper", ("predict", "bq", "0.5", "--by", "paper"), {}),
    ("predict-resolved", ("predict", "done", "0.5", "--by", "ann"), {}),
    ("predict-closed", ("predict", "done", "0.5", "--by", "ann", "--at", "2027-03-01"), {}),
    ("predict-upcoming", ("predict", "later", "0.5", "--by", "ann"), {}),
    # resolutions
    ("resolve-not-reviewer", ("resolve", "bq", "yes", "--by", "ann"), {}),
    ("outcome-binary", ("resolve", "bq", "maybe", "--by", "rev"), {}),
    ("outcome-choice", ("resolve", "cq", "D", "--by", "rev"), {}),
    ("outcome-numeric-word", ("resolve", "nq", "many", "--by", "rev"), {}),
    ("outcome-numeric-range", ("resolve", "nq", "150", "--by", "rev"), {}),
    ("on-malformed", ("resolve", "bq", "yes", "--by", "rev", "--on", "2027-02-30"), {}),
    ("on-future", ("resolve", "bq", "yes", "--by", "rev", "--on", "2027-03-21"), {}),
    ("on-before-opens", ("resolve", "bq", "yes", "--by", "rev", "--on", "2027-02-28"), {}),
    ("resolve-upcoming", ("resolve", "later", "yes", "--by", "rev"), {}),
    ("resolve-twice", ("resolve", "done", "no", "--by", "rev"), {}),
    ("correct-no-reason", ("resolve", "done", "no", "--by", "rev", "--correct"), {}),
    ("correct-nothing", ("resolve", "bq", "no", "--by", "rev", "--correct", "--reason", "x"), {}),
    ("reason-no-correct", ("resolve", "bq", "no", "--by", "rev", "--reason", "x"), {}),
    ("evidence-not-url", ("resolve", "bq", "yes", "--by", "rev", "--evidence", "nope"), {}),
    # adding questions
    ("add-bad-date", (*ADD, "--closes", "2027-13-01", "--resolve-by", "2027-12-31"), {}),
    ("add-missing-closes", (*ADD, "--resolve-by", "2027-12-31"), {}),
    (
        "add-bad-id",
        (*ADD, "--id", "New Q", "--closes", "2027-12-01", "--resolve-by", "2027-12-31"),
        {},
    ),
    (
        "add-taken-id",
        (*ADD, "--id", "bq", "--closes", "2027-12-01", "--resolve-by", "2027-12-31"),
        {},
    ),
    ("add-dates-out-of-order", (*ADD, "--closes", "2027-12-01", "--resolve-by", "2027-11-30"), {}),
    (
        "add-bad-type",
        (*ADD, "--closes", "2027-12-01", "--resolve-by", "2027-12-31", "--type", "date"),
        {},
    ),
    # read commands
    ("list-bad-status", ("list", "--status", "pending"), {}),
    ("list-bad-as-of", ("list", "--as-of", "2027/03/01"), {}),
    ("due-bad-as-of", ("due", "--as-of", "tomorrow"), {}),
    # people
    ("people-bad-handle", ("people", "add", "Ann Smith"), {}),
    ("people-taken-handle", ("people", "add", "ann"), {}),
    ("people-paper-handle", ("people", "add", "paper"), {}),
    ("people-bad-email", ("people", "add", "bea", "--email", "bea-at-example"), {}),
    # questions.yaml
    ("sync-missing-file", ("sync", "missing.yaml"), {}),
    ("sync-invalid-yaml", ("sync", "bad.yaml"), {"bad.yaml": "questions:\n  - id: [x\n"}),
    (
        "sync-bad-date",
        ("sync", "bad.yaml"),
        {"bad.yaml": WORLD.replace("opens: 2027-04-01", "opens: 2027-04-31")},
    ),
    (
        "sync-schema",
        ("sync", "bad.yaml"),
        {"bad.yaml": WORLD.replace("    type: numeric\n", "    type: number\n")},
    ),
    (
        "sync-protected",
        ("sync", "bad.yaml"),
        {"bad.yaml": WORLD.replace("Yes if so.", "Yes if so, twice.").replace("0.8", "0.6")},
    ),
    (
        "init-invalid-questions",
        ("init", "--questions", "bad.yaml"),
        {"bad.yaml": WORLD.replace("Later?", "[Later?")},
    ),
    # transfer
    ("import-missing", ("import", "missing.json"), {}),
    ("import-invalid-json", ("import", "x.json"), {"x.json": '{"format": '}),
    ("import-not-an-export", ("import", "x.json"), {"x.json": '{"hello": 1}'}),
    ("import-into-non-empty", ("import", "x.json"), {"x.json": "EXPORT"}),
    ("export-bad-format", ("export", "--format", "xml"), {}),
    # configuration
    ("config-missing", ("--config", "nope.toml", "list"), {}),
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


@pytest.mark.parametrize(("args", "files"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
@freeze_time(NOW)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    world, world_snapshot, tmp_path, args, files
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

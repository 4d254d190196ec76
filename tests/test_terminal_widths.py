"""Every table a person reads fits an 80- and a 120-column terminal: on every row the id,
the status and the title (cut with an ellipsis when it must be) are there; and piped
output is plain."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from freezegun import freeze_time

from conftest import REPO, CliResult, isolated, make_cli
from termhelp import COLOUR, as_pipe, as_terminal, plain

WIDTHS = (80, 120)
NOW = "2026-12-15 12:00:00"
#: Questions that are due on NOW (the shipped ones are open or resolved), with long ids
#: and titles, and a handle as long as handles go.
DUE = (
    ("chinese-engine-maker-buys-a-russian-design-bureau-2026", "2026-06-30", "2026-09-30"),
    ("russian-helicopters-in-a-chinese-parade-2026", "2026-10-31", "2027-03-31"),
    ("joint-exercise-overdue-2026", "2026-07-31", "2026-11-30"),
)
LONG_HANDLE = "a-forecaster-with-a-handle-forty-chars-x"


@pytest.fixture(scope="module")
def shipped(
    module_db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., CliResult]:
    """The shipped questions, three more (closed, overdue, and resolved with forecasts),
    three people, forecasts of each type and a resolution by a reviewer. Built once: the
    tests only read it."""
    cli = make_cli(module_db_url)
    with isolated(tmp_path_factory.mktemp("shipped")):
        _populate(cli)
    return cli


def _populate(cli: Callable[..., CliResult]) -> None:
    people = (
        ("people", "add", "alice", "--name", "Alice Liddell-Hargreaves of Westminster",
         "--email", "alice.liddell-hargreaves@analysis.example.org", "--reviewer"),
        ("people", "add", LONG_HANDLE, "--name", "Long Handle"),
        ("people", "add", "bob"),
    )  # fmt: skip
    with freeze_time("2026-01-10 12:00:00"):
        for args in people:
            assert cli(*args).exit_code == 0
        for qid, closes, resolve_by in DUE:
            title = f"Will {qid.replace('-', ' ')} happen, as reported by at least two of the sources named?"
            r = cli("add", "--id", qid, "--title", title, "--criteria", "c", "--opens", "2026-01-01",
                    "--closes", closes, "--resolve-by", resolve_by)  # fmt: skip
            assert r.exit_code == 0, r.output
        for who, p in (("alice", "0.8"), (LONG_HANDLE, "0.3"), ("bob", "0.55")):
            assert cli("predict", DUE[0][0], p, "--by", who).exit_code == 0
    with freeze_time("2026-12-01 12:00:00"):
        assert cli("init", "--questions", str(REPO / "questions.yaml")).exit_code == 0
    with freeze_time(NOW):
        for who in ("alice", LONG_HANDLE, "bob"):
            for qid, value in (
                ("engines-new-contract-2028", "0.62"),
                ("china-russia-trade-2027", "p10=201.5,p25=221,p50=244.25,p75=262,p90=281.75"),
                ("joint-air-patrols-count-2027", "Zero=0.1,One=0.2,Two=0.3,Three or more=0.4"),
            ):
                r = cli("predict", qid, value, "--by", who, "--note", "a fairly long note " * 4)
                assert r.exit_code == 0, r.output
        r = cli("resolve", DUE[0][0], "yes", "--by", "alice", "--evidence", "https://e.org/1")
        assert r.exit_code == 0, r.output


def _rows(cli: Callable[..., CliResult], *args: str) -> list[dict[str, Any]]:
    return json.loads(cli(*args, "--json").stdout)


def _line_for(lines: list[str], key: str) -> str:
    found = [line for line in lines if line.startswith(key + " ")]
    assert len(found) == 1, f"{key} is not on exactly one row:\n" + "\n".join(lines)
    return found[0]


def _has_title(line: str, title: str) -> bool:
    """The whole title, or its start cut with an ellipsis (at least 12 characters)."""
    if line.endswith(title):
        return True
    cut = line.rsplit("  ", 1)[-1]
    return cut.endswith("…") and len(cut) >= 13 and title.startswith(cut[:-1])


def _fits(lines: list[str], width: int) -> None:
    too_wide = [line for line in lines if len(line) > width and "://" not in line]
    assert too_wide == [], f"wider than {width}: {too_wide}"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("command", ["list", "due"])
def test_question_tables_keep_id_status_and_title(shipped, monkeypatch, command, width):
    with freeze_time(NOW):
        rows = _rows(shipped, command)
        as_terminal(monkeypatch, width)
        out = shipped(command)
    assert out.exit_code == 0, out.output
    lines = plain(out.stdout).splitlines()
    assert len(lines) == len(rows) + 1  # a header, then one line per question
    assert lines[0].split()[:2] == ["id", "status"]
    assert len(rows) >= (3 if command == "list" else 2)
    _fits(lines, width)
    for r in rows:
        line = _line_for(lines, r["id"])
        assert line.split()[1] == r["status"], line
        assert _has_title(line, r["title"]), (line, r["title"])


@pytest.mark.parametrize("width", WIDTHS)
def test_numeric_forecasts_show_as_a_median_and_interval(shipped, monkeypatch, width):
    with freeze_time(NOW):
        as_terminal(monkeypatch, width)
        lines = plain(shipped("list", "--status", "open").stdout).splitlines()
    line = _line_for(lines, "china-russia-trade-2027")
    header = lines[0].split()
    if "crowd" in header:
        assert "244 (202–282)" in line  # the crowd: median (p10–p90)
    if "paper" in header:
        assert "261 (222–299)" in line  # the paper
    assert width < 120 or "crowd" in header
    assert "p10=" not in line


def test_wide_shows_every_column_and_full_values(shipped, monkeypatch):
    with freeze_time(NOW):
        as_terminal(monkeypatch, 80)
        lines = plain(shipped("list", "--wide").stdout).splitlines()
    assert lines[0].split() == [
        "id", "status", "type", "opens", "closes", "resolve", "by", "n", "crowd", "paper",
        "outcome", "tags", "title",
    ]  # fmt: skip
    line = _line_for(lines, "china-russia-trade-2027")
    assert "p10=201.5 p25=221 p50=244.25 p75=262 p90=281.75" in line
    assert line.endswith(
        "What will the value of China–Russia trade be in 2027, according to China's customs?"
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_people_list_keeps_handle_roles_and_name(shipped, monkeypatch, width):
    people = _rows(shipped, "people", "list")
    as_terminal(monkeypatch, width)
    lines = plain(shipped("people", "list").stdout).splitlines()
    _fits(lines, width)
    for p in people:
        line = _line_for(lines, p["handle"])
        assert ", ".join(p["roles"]).split(",")[0] in line
        if p["name"]:
            assert _has_title(line, p["name"]), (line, p["name"])


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(
    "qid",
    [
        "engines-new-contract-2028",
        "china-russia-trade-2027",
        "joint-air-patrols-count-2027",
        DUE[0][0],
    ],
)
def test_show_keeps_id_status_and_title(shipped, monkeypatch, width, qid):
    with freeze_time(NOW):
        d = json.loads(shipped("show", qid, "--json").stdout)
        as_terminal(monkeypatch, width)
        lines = plain(shipped("show", qid).stdout).splitlines()
    _fits(lines, width)
    assert lines[0].startswith(f"{qid}  (")
    title_lines = lines[1 : lines.index("")]
    assert " ".join(title_lines) == d["title"]
    status = next(line for line in lines if line.startswith("Status  "))
    assert status.startswith(f"Status  {d['status']}: ")
    history = lines.index("Forecast history")
    for who in ("alice", "bob", LONG_HANDLE):
        assert any(line.split()[2:3] == [who] for line in lines[history:]), who
    if d["resolutions"]:
        assert "Resolution history" in lines


@pytest.mark.parametrize("width", WIDTHS)
def test_report_keeps_every_forecaster_on_the_leaderboard_and_calibration(
    shipped, monkeypatch, width
):
    with freeze_time(NOW):
        data = json.loads(shipped("report", "--json").stdout)
        as_terminal(monkeypatch, width)
        out = plain(shipped("report").stdout)
    lines = out.splitlines()
    _fits(lines, width)
    board = lines[lines.index("Leaderboard (lower Brier is better)") + 1 :]
    assert board[0].split()[:4] == ["#", "Forecaster", "Questions", "Brier"] or board[0].split()[
        :3
    ] == ["#", "Forecaster", "Brier"]
    for e in data["forecasters"]:
        row = next(line for line in board if line.split()[1:2] == [e["forecaster"]])
        assert row.split()[0] == str(e["rank"] or "-")
    assert "The paper's record: retrospective and live questions" in lines
    calibration = lines[lines.index("Calibration (binary questions)") :]
    for name in [e["forecaster"] for e in data["forecasters"]] + ["paper", "crowd"]:
        assert any(line.startswith(name + " ") for line in calibration), name


def test_colour_only_at_a_terminal_and_never_with_no_color(shipped, monkeypatch):
    with freeze_time(NOW):
        as_terminal(monkeypatch, 100, colour=True)
        coloured = shipped("list").stdout
        as_terminal(monkeypatch, 100, colour=False)
        no_color = shipped("list").stdout
        as_pipe(monkeypatch)
        piped = shipped("list").stdout
    assert COLOUR.search(coloured), "statuses are coloured at a terminal"
    assert not COLOUR.search(no_color), "NO_COLOR is set: no colour"
    assert "\x1b" not in piped
    assert piped.splitlines()[0].split()[:2] == ["id", "status"]
    assert max(len(line) for line in piped.splitlines()) <= 80  # piped: 80 columns


def test_a_label_and_its_text_wrap_under_the_text_only_at_a_terminal() -> None:
    import io

    from rich.console import Console

    from forecasts.tables import print_hanging

    text = "cannot connect: [Errno -2] Name or service not known (next try after 12:38 UTC)"
    for terminal, expected in (
        (True, [
            "tass    failed  cannot connect: [Errno -2] Name or",
            "                service not known (next try after",
            "                12:38 UTC)",
        ]),
        (False, ["tass    failed  " + text]),
    ):  # fmt: skip
        buf = io.StringIO()
        con = Console(file=buf, width=50, force_terminal=terminal, color_system=None)
        print_hanging(con, "tass    failed  ", text)
        assert buf.getvalue().splitlines() == expected

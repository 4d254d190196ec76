"""`forecasts` with no command: a dashboard, or one line saying how to start. Also
`--version` and shell completion."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from freezegun import freeze_time

from conftest import REPO, make_cli
from termhelp import as_terminal, plain


def test_no_database_yet_gives_one_line_and_creates_nothing(tmp_path: Path) -> None:
    cli = make_cli(None)
    r = cli()
    assert (r.exit_code, r.stderr) == (0, "")
    assert r.stdout == (
        "No database yet at sqlite:///forecasts.db: run `forecasts init` to create it.\n"
    )
    assert not (tmp_path / "forecasts.db").exists()
    (tmp_path / "questions.yaml").write_text("questions: []\n")
    assert cli().stdout == (
        "No database yet at sqlite:///forecasts.db: run `forecasts init` to create it "
        "and load ./questions.yaml.\n"
    )


def test_a_database_behind_this_version_says_to_upgrade(empty_db_url: str) -> None:
    from forecasts.store import db

    db.upgrade(db.get_engine(empty_db_url), "0003")
    r = make_cli(empty_db_url)()
    assert r.exit_code == 0
    assert r.stdout.endswith(
        f"is at schema 0003; this version needs {db.head_revision()}: run `forecasts db upgrade`.\n"
    )


def test_version() -> None:
    from forecasts import __version__

    r = make_cli(None)("--version")
    assert (r.exit_code, r.stdout) == (0, f"forecasts {__version__}\n")


@pytest.fixture
def tracker(cli):
    """Two open questions, one closed, one overdue; two forecasters; a news source that
    was last fetched at 10:00 and failed (its last success at 09:00)."""
    with freeze_time("2027-03-01 12:00:00"):
        for qid, closes, resolve_by in (
            ("open-one", "2027-12-31", "2028-01-31"),
            ("open-two", "2027-12-31", "2028-01-31"),
            ("closed-one", "2027-03-10", "2027-06-30"),
            ("overdue-one", "2027-03-05", "2027-03-15"),
        ):
            r = cli("add", "--id", qid, "--title", f"Will {qid} happen?", "--criteria", "c",
                    "--opens", "2027-03-01", "--closes", closes, "--resolve-by", resolve_by)  # fmt: skip
            assert r.exit_code == 0, r.output
        for handle in ("ann", "bob"):
            assert cli("people", "add", handle).exit_code == 0
        assert cli("predict", "open-one", "0.4", "--by", "ann").exit_code == 0
    return cli


def _record_pull(db_url: str) -> None:
    from forecasts.news.store import ensure_source, record_failure, record_success
    from forecasts.store import db

    with db.session_scope(db.get_engine(db_url), write=True) as session:
        src = ensure_source(session, name="wire", kind="feed", url="https://example.org/rss")
        record_success(
            session, source=src, etag=None, last_modified=None, items=5, new=5,
            now=dt.datetime(2027, 3, 20, 9, 0, tzinfo=dt.UTC),
        )  # fmt: skip
        record_failure(
            session,
            source=src,
            error="timed out",
            now=dt.datetime(2027, 3, 20, 10, 0, tzinfo=dt.UTC),
        )


def _skip_database(lines: list[str]) -> list[str]:
    """The dashboard's lines with the Database line (and its wrapped rest: a PostgreSQL
    test URL is long) taken out, so the others have fixed places."""
    start = next(n for n, line in enumerate(lines) if line.startswith("Database   "))
    end = next(n for n in range(start + 1, len(lines)) if not lines[n].startswith(" " * 11))
    return lines[:start] + lines[end:]


@freeze_time("2027-03-20 12:30:00")
def test_dashboard_counts_due_people_and_news(tracker, db_url, monkeypatch) -> None:
    as_terminal(monkeypatch, 100)
    r = tracker()
    assert r.exit_code == 0, r.output
    lines = _skip_database(plain(r.stdout).splitlines())
    assert lines[0].startswith("forecasts ") and lines[0].endswith(" · today 2027-03-20")
    assert lines[1] == "Questions  4: 2 open · 1 closed · 1 overdue"
    assert lines[2] == "Due        2 awaiting resolution"
    assert lines[3].split() == [
        "overdue-one",
        "overdue",
        "2027-03-15",
        "Will",
        "overdue-one",
        "happen?",
    ]
    assert lines[4].split()[:3] == ["closed-one", "closed", "2027-06-30"]
    assert lines[5] == "People     2 forecasters, 1 forecast"
    assert lines[6] == "News       never pulled (forecasts news pull)"
    _record_pull(db_url)
    lines = _skip_database(plain(tracker().stdout).splitlines())
    assert lines[7].startswith(" " * 11)  # wrapped at a word, under the label
    end = next(n for n in range(7, len(lines)) if not lines[n].startswith(" "))
    news = " ".join(line.strip() for line in lines[6:end]).replace("News       ", "News ")
    assert news == (
        "News last pulled 2 hours ago (last success: 3 hours ago; see forecasts news "
        "sources); 0 articles stored"
    )


def test_dashboard_of_the_shipped_questions(empty_db_url: str) -> None:
    cli = make_cli(empty_db_url)
    with freeze_time("2026-12-01 12:00:00"):
        assert cli("init", "--questions", str(REPO / "questions.yaml")).exit_code == 0
        out = cli().stdout
    assert "Questions  39: 28 open · 11 resolved\n" in out
    assert "Due        nothing awaits resolution\n" in out


def test_shell_completion_script_and_question_ids(db_url, cli, monkeypatch) -> None:
    from typer.testing import CliRunner

    from forecasts.cli import app

    for qid in ("engines-2027", "engines-2028", "trade-2027"):
        r = cli("add", "--id", qid, "--title", "Q?", "--criteria", "c",
                "--opens", "2020-01-01", "--closes", "2040-01-01", "--resolve-by", "2040-02-01")  # fmt: skip
        assert r.exit_code == 0
    assert cli("people", "add", "alice").exit_code == 0
    runner = CliRunner()
    script = runner.invoke(app, ["--show-completion", "bash"], prog_name="forecasts")
    assert "_FORECASTS_COMPLETE=complete_bash" in script.stdout
    monkeypatch.setenv("FORECASTS_DATABASE_URL", db_url)

    def complete(words: str) -> list[str]:
        env = {
            "_FORECASTS_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
        }
        r = runner.invoke(app, [], prog_name="forecasts", env=env)
        return r.stdout.split()

    assert complete("forecasts li") == ["list"]
    assert complete("forecasts show eng") == ["engines-2027", "engines-2028"]
    assert complete("forecasts predict trade-2027 0.5 --by al") == ["alice"]
    assert complete("forecasts predict trade-2027 0.5 --by ") == ["alice"]  # not the paper
    monkeypatch.setenv("FORECASTS_DATABASE_URL", "sqlite:///nowhere/none.db")
    assert complete("forecasts show eng") == []  # no database: nothing, and no error
    assert complete(f"forecasts --db {db_url} show eng") == ["engines-2027", "engines-2028"]


def test_a_first_init_at_a_terminal_says_where_to_go_next(empty_db_url: str, monkeypatch) -> None:
    import sys

    from forecasts.cli.db import invoked_as, next_steps

    cli = make_cli(empty_db_url)
    as_terminal(monkeypatch, 200)
    first = plain(cli("init").stdout)
    assert first.splitlines()[-1] == next_steps("forecasts")
    assert "Next:" not in plain(cli("init").stdout)  # only the first time
    monkeypatch.setattr(sys, "argv", [".venv/bin/forecasts", "init"])
    monkeypatch.setenv("PATH", "/nowhere")
    assert invoked_as() == ".venv/bin/forecasts"  # not on the PATH yet: say it as typed
    assert next_steps(".venv/bin/forecasts").startswith("Next: `.venv/bin/forecasts` for a summary")


def test_dashboard_shows_the_scheduler_and_next_jobs(cli, db_url, tmp_path, monkeypatch) -> None:
    from forecasts.runtime import Runtime
    from forecasts.scheduler import lease, runs
    from schedhelp import write_config

    config = write_config(tmp_path)
    as_terminal(monkeypatch, 200)
    with freeze_time("2027-03-01 12:20:00"):
        lines = plain(cli("--config", config).stdout).splitlines()
        assert "Scheduler  not running (start it with `forecasts run`; see docs/deploy.md)" in lines
        assert "Jobs       none scheduled yet (`forecasts jobs` shows their schedules)" in lines
        assert cli("--config", config, "run", "--once").exit_code == 0
        rt = Runtime(config=config, database_url=db_url)
        run_id = runs.start(rt, "digest", process="test")
        runs.finish(rt, run_id, status="failed", summary=None, error="SMTP refused")
        held = lease.acquire(rt)
        try:
            lines = plain(cli("--config", config).stdout).splitlines()
        finally:
            lease.release(rt, held)
    scheduler = next(line for line in lines if line.startswith("Scheduler  "))
    assert scheduler.startswith("Scheduler  running on ") and "last heartbeat just now" in scheduler
    assert "Last runs  digest failed just now: SMTP refused (see forecasts jobs)" in lines


@freeze_time("2027-03-01 12:20:00")  # a Monday
def test_dashboard_next_jobs_in_words_in_the_schedule_s_time_zone(
    cli, db_url, tmp_path, monkeypatch
):
    import datetime as dt

    import sqlalchemy as sa

    from forecasts.scheduler.models import apscheduler_jobs
    from forecasts.store import db
    from schedhelp import write_config

    config = write_config(tmp_path, extra='[schedule]\ntimezone = "Asia/Shanghai"\n')
    at = {  # what a running scheduler leaves in its job store
        "news": dt.datetime(2027, 3, 1, 13, 0, tzinfo=dt.UTC),
        "prompts": dt.datetime(2027, 3, 2, 1, 0, tzinfo=dt.UTC),
        "report": dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC),  # past: due when one starts
    }
    with db.get_engine(db_url).begin() as conn:
        conn.execute(
            sa.insert(apscheduler_jobs),
            [
                {"id": job, "next_run_time": t.timestamp(), "job_state": b""}
                for job, t in at.items()
            ],
        )
    as_terminal(monkeypatch, 200)
    lines = plain(cli("--config", config).stdout).splitlines()
    assert (
        "Next jobs  news in 40 minutes (Mon 21:00) · prompts in 12 hours (Tue 09:00) · "
        "report due now (Mon 20:00)"
    ) in lines

"""The jobs live in APScheduler's SQLAlchemyJobStore in the forecasts database. A job
whose time came while no scheduler ran (the machine was down) runs exactly once when the
scheduler starts again, however many of its times it missed; an interrupted job runs
again at start; a changed schedule applies at the next start.

Time is frozen and the scheduler driven round by round (``ManualScheduler``), against
the real job store and the real jobs."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import sqlalchemy as sa
from freezegun import freeze_time

from forecasts.scheduler.jobs import JOBS
from forecasts.scheduler.models import apscheduler_jobs
from forecasts.store import db
from schedhelp import job_runs, outbox_rows, start_manual, write_config

UTC = dt.UTC
EVERY = sorted(job.id for job in JOBS)


def next_runs(scheduler) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        j.id: j.next_run_time.astimezone(UTC).strftime("%a %Y-%m-%d %H:%M")
        for j in scheduler.get_jobs()
    }


def test_jobs_missed_while_the_machine_was_down_run_once_at_restart(cli, db_url, tmp_path):
    # Ann reads the digest; a question closing soon gives her week 2027-W09 something.
    assert cli("people", "add", "ann", "--email", "ann@example.org").exit_code == 0
    r = cli(
        "add", "--id", "soon", "--title", "Soon?", "--criteria", "c",
        "--opens", "2027-01-01", "--closes", "2027-03-15", "--resolve-by", "2027-04-30",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    config = write_config(tmp_path)
    with freeze_time("2027-03-07 20:00:30") as frozen:  # a Sunday evening
        scheduler = start_manual(db_url, config)
        scheduler.run_due()
        assert job_runs(db_url) == []
        assert next_runs(scheduler) == {
            "news": "Sun 2027-03-07 21:00",
            "prompts": "Mon 2027-03-08 09:00",
            "digest": "Mon 2027-03-08 08:00",
            "report": "Mon 2027-03-08 08:30",
            "outbox": "Sun 2027-03-07 20:10",
        }
        scheduler.shutdown()

        # Down until Wednesday morning: 37 news pulls, 2 prompt runs, Monday's digest and
        # report, and 367 outbox runs missed.
        frozen.move_to("2027-03-10 10:15:00")
        scheduler = start_manual(db_url, config)
        scheduler.run_due()
        assert Counter(job for job, _ in job_runs(db_url)) == Counter(EVERY)
        assert {status for _, status in job_runs(db_url)} == {"ok"}
        scheduler.run_due()  # nothing is left over for a second round
        assert len(job_runs(db_url)) == len(EVERY)
        assert next_runs(scheduler) == {
            "news": "Wed 2027-03-10 11:00",
            "prompts": "Thu 2027-03-11 09:00",
            "digest": "Mon 2027-03-15 08:00",
            "report": "Mon 2027-03-15 08:30",
            "outbox": "Wed 2027-03-10 10:20",
        }
        scheduler.shutdown()
    # The digest missed on Monday was sent once, on Wednesday, for the week that ended.
    assert [row["key"] for row in outbox_rows(db_url)] == ["digest:2027-W09:ann"]
    assert outbox_rows(db_url)[0]["status"] == "sent"
    assert len(list((tmp_path / "outbox" / "new").iterdir())) == 1
    assert (tmp_path / "reports" / "report.html").is_file()


def test_a_restart_before_the_next_run_runs_nothing_early(db_url, tmp_path):
    config = write_config(tmp_path)
    with freeze_time("2027-03-07 20:00:30") as frozen:
        start_manual(db_url, config).shutdown()
        frozen.move_to("2027-03-07 20:05:00")
        scheduler = start_manual(db_url, config)
        scheduler.run_due()
        assert job_runs(db_url) == []
        assert next_runs(scheduler)["outbox"] == "Sun 2027-03-07 20:10"
        scheduler.shutdown()


def test_an_interrupted_job_runs_again_at_start(db_url, tmp_path):
    config = write_config(tmp_path)
    with freeze_time("2027-03-07 20:00:30"):
        start_manual(db_url, config).shutdown()
        scheduler = start_manual(db_url, config, resume=("report",))
        scheduler.run_due()
        assert job_runs(db_url) == [("report", "ok")]
        assert next_runs(scheduler)["report"] == "Mon 2027-03-08 08:30"
        scheduler.shutdown()


def test_a_changed_schedule_applies_at_the_next_start(db_url, tmp_path):
    config = write_config(tmp_path)
    with freeze_time("2027-03-07 20:00:30"):
        start_manual(db_url, config).shutdown()
        config = write_config(tmp_path, extra='[schedule]\nreport = "0 7 * * *"\n')
        scheduler = start_manual(db_url, config)
        assert next_runs(scheduler)["report"] == "Mon 2027-03-08 07:00"
        scheduler.shutdown()


def test_the_migration_creates_the_table_the_job_store_declares(db_url):
    from forecasts.runtime import Runtime
    from forecasts.scheduler.service import job_store

    store = job_store(Runtime(database_url=db_url))
    theirs = store.jobs_t
    assert theirs.name == apscheduler_jobs.name
    assert [(c.name, type(c.type), c.primary_key, c.nullable) for c in theirs.columns] == [
        (c.name, type(c.type), c.primary_key, c.nullable) for c in apscheduler_jobs.columns
    ]
    assert [str(c.type) for c in theirs.columns] == [str(c.type) for c in apscheduler_jobs.columns]
    assert {tuple(c.name for c in i.columns) for i in theirs.indexes} == {
        tuple(c.name for c in i.columns) for i in apscheduler_jobs.indexes
    }
    # Its own check-first create finds the table the migration made.
    engine = db.get_engine(db_url)
    with engine.connect() as conn:
        assert sa.inspect(conn).has_table(theirs.name)
    theirs.create(engine, checkfirst=True)


def test_an_export_leaves_the_schedulers_own_state_behind(db_url, empty_db_url, tmp_path):
    """The job store holds pickled jobs (bytes), the lease and the run record belong to
    the scheduler that ran here: `export` carries none of them, and the export imports."""
    from conftest import make_cli

    config = write_config(tmp_path)
    with freeze_time("2027-03-07 20:00:30") as frozen:
        start_manual(db_url, config).shutdown()
        frozen.move_to("2027-03-07 21:00:00")
        scheduler = start_manual(db_url, config)
        scheduler.run_due()
        scheduler.shutdown()
    assert job_runs(db_url)
    cli = make_cli(db_url)
    r = cli("export", "--out", str(tmp_path / "export.json"))
    assert r.exit_code == 0, r.output
    tables = json.loads((tmp_path / "export.json").read_text())["tables"]
    assert {"apscheduler_jobs", "scheduler_lease", "job_run"}.isdisjoint(tables)
    assert "mail_outbox" in tables and "question" in tables
    target = make_cli(empty_db_url)
    assert target("db", "upgrade").exit_code == 0
    r = target("import", str(tmp_path / "export.json"))
    assert r.exit_code == 0, r.output

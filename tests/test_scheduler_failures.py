"""A job that raises is logged and recorded and stops neither the scheduler nor the other
jobs: `run --once` runs the rest and exits 1 naming it; the daemon runs it again at its
next time. A domain error is one line; a bug's traceback goes to the JSON log."""

from __future__ import annotations

import json

from freezegun import freeze_time

from forecasts.scheduler import jobs
from schedhelp import job_runs, start_manual, write_config


def test_run_once_runs_every_other_job_when_one_fails_and_exits_1(cli, db_url, tmp_path):
    (tmp_path / "taken").write_text("a file where the report folder should be")
    config = write_config(tmp_path, extra='[schedule]\nreport_dir = "taken/reports"\n')
    r = cli("--config", config, "run", "--once", "--log-format", "json")
    assert r.exit_code == 1
    assert r.stdout == ""
    error = r.stderr.splitlines()[-1]
    assert error == ("Error: 1 job failed (report); see the log above and `forecasts jobs`")
    events = [json.loads(line) for line in r.stderr.splitlines()[:-1]]
    [failed] = [e for e in events if e["event"] == "job.failed"]
    assert failed["job"] == "report"
    assert failed["error"].startswith("schedule.report_dir: cannot create taken/reports: ")
    assert "traceback" not in failed  # a domain error: its line says it all
    assert job_runs(db_url) == [
        ("news", "ok"),
        ("prompts", "ok"),
        ("digest", "ok"),
        ("report", "failed"),
        ("outbox", "ok"),
    ]
    r = cli("--config", config, "jobs", "--json")
    report = json.loads(r.stdout)["jobs"][3]
    assert report["last_run"]["status"] == "failed"
    assert report["last_run"]["error"] == failed["error"]


def broken(runtime):  # type: ignore[no-untyped-def]
    raise RuntimeError("a bug in the news job")


def test_a_job_that_raises_is_recorded_and_the_scheduler_keeps_going(
    db_url, tmp_path, monkeypatch, caplog
):
    monkeypatch.setitem(jobs.BY_ID, "news", jobs.Job("news", "pull news", broken))
    config = write_config(tmp_path)
    with freeze_time("2027-03-08 08:59:30") as frozen:  # before news, prompts and outbox
        scheduler = start_manual(db_url, config)
        frozen.move_to("2027-03-08 09:00:00")
        scheduler.run_due()
        assert sorted(job_runs(db_url)) == [
            ("news", "failed"),
            ("outbox", "ok"),
            ("prompts", "ok"),
        ]
        frozen.move_to("2027-03-08 10:00:00")
        scheduler.run_due()  # the next hour: news runs again, and so does the outbox
        assert [s for j, s in job_runs(db_url) if j == "news"] == ["failed", "failed"]
        scheduler.shutdown()
    [record, *_] = [r for r in caplog.records if getattr(r, "event", "") == "job.failed"]
    assert record.getMessage().startswith("news failed after ")
    assert record.getMessage().endswith("s: RuntimeError: a bug in the news job")
    from forecasts.scheduler.logs import JsonFormatter, TextFormatter

    line = json.loads(JsonFormatter().format(record))
    assert line["error"] == "RuntimeError: a bug in the news job"
    assert 'raise RuntimeError("a bug in the news job")' in line["traceback"]
    assert "\n" not in TextFormatter().format(record)

"""`forecasts run --once` end to end: news from a local feed server, prompts and the
digest through a local SMTP server, the report into report_dir, every run recorded and logged one line
per event; running it again sends and stores nothing twice. `forecasts jobs` shows it."""

from __future__ import annotations

import json

import pytest

from conftest import make_cli, requires_postgres
from mailhelp import Recorder, Server
from schedhelp import (
    FEED_ITEMS,
    closed_question,
    count,
    engines_question,
    job_runs,
    rss,
    write_config,
)

ORDER = ["news", "prompts", "digest", "report", "outbox"]


@pytest.fixture
def smtp():
    handler = Recorder()
    server = Server(handler).start()
    handler.port = server.port  # type: ignore[attr-defined]
    yield handler
    server.stop()


@pytest.fixture
def world(cli, httpserver, smtp, tmp_path):
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss(FEED_ITEMS), content_type="application/rss+xml"
    )
    engines_question(cli)
    closed_question(cli)
    assert cli("people", "add", "ann", "--reviewer", "--email", "ann@example.org").exit_code == 0
    return write_config(tmp_path, feed_url=httpserver.url_for("/feed.xml"), smtp_port=smtp.port)


def log_lines(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines()]


def test_run_once_runs_every_job_in_order_against_real_servers(cli, db_url, world, smtp, tmp_path):
    r = cli("--config", world, "run", "--once", "--log-format", "json")
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
    lines = log_lines(r.stderr)  # every line is one JSON event
    assert [e["job"] for e in lines if e["event"] == "job.started"] == ORDER
    finished = {e["job"]: e for e in lines if e["event"] == "job.finished"}
    assert {job: e["status"] for job, e in finished.items()} == dict.fromkeys(ORDER, "ok")
    assert all(e["time"].endswith("Z") for e in lines)

    # News: the feed's three articles, two matched to the engines question.
    assert finished["news"]["summary"] == (
        "sources 1 ok, 0 failed; articles 3 new, 0 seen; matches 2 new"
    )
    assert count(db_url, "article") == 3
    # Prompts: ann is asked about the closed question; then her digest of last week,
    # which lists it to resolve. Both through the SMTP server.
    assert [m.rcpt_tos for m in smtp.received] == [["ann@example.org"]] * 2
    prompt, digest = (m.message for m in smtp.received)
    assert "closed-q" in prompt["Subject"]
    assert "1 to resolve" in digest["Subject"]
    assert "(1 queued now); outbox: 1 sent" in finished["prompts"]["summary"]
    assert (
        ": 1 queued, 0 already queued, 0 with nothing this week; outbox: 1 sent"
        in (finished["digest"]["summary"])
    )
    # The report.
    assert (
        (tmp_path / "reports" / "report.html")
        .read_text(encoding="utf-8")
        .startswith("<!doctype html>")
    )
    assert (tmp_path / "reports" / "report.png").read_bytes().startswith(b"\x89PNG")
    assert not list((tmp_path / "reports").glob(".*"))  # no partial file left behind
    assert job_runs(db_url) == [(job, "ok") for job in ORDER]
    assert count(db_url, "scheduler_lease") == 0

    # Again: nothing new stored or sent, every run recorded.
    again = cli("--config", world, "run", "--once")
    assert again.exit_code == 0, again.output
    assert count(db_url, "article") == 3
    assert len(smtp.received) == 2
    assert len(job_runs(db_url)) == 2 * len(ORDER)
    assert "prompts finished in " in again.stderr  # text lines: time level message
    assert all(line[:20].endswith("Z") for line in again.stderr.splitlines())

    r = cli("--config", world, "jobs", "--json")
    assert r.exit_code == 0, r.output
    status = json.loads(r.stdout)
    assert status["scheduler"]["running"] is False
    assert [j["id"] for j in status["jobs"]] == ORDER
    news = status["jobs"][0]
    assert news["schedule"] == "0 * * * *"
    assert news["next_run"] is None  # no daemon has scheduled it yet
    assert news["last_run"]["status"] == "ok"
    assert news["last_run"]["summary"].startswith("sources 1 ok")
    assert news["last_run"]["finished_at"].endswith("Z")


def test_every_news_source_failing_is_a_warning_and_run_once_still_exits_0(
    cli, db_url, httpserver, tmp_path
):
    # The only source answers 404 (failing as an unreachable one does, without the
    # retries a connection error gets): the pull fails, everything else runs.
    httpserver.expect_request("/feed.xml").respond_with_data("gone", status=404)
    config = write_config(tmp_path, feed_url=httpserver.url_for("/feed.xml"))
    r = cli("--config", config, "run", "--once")
    assert r.exit_code == 0, r.output
    assert "WARNING news: source local failed: HTTP 404" in r.stderr
    assert "WARNING news finished with warnings in " in r.stderr
    assert [s for _, s in job_runs(db_url)] == ["warning", "ok", "ok", "ok", "ok"]


def test_jobs_lists_every_job_with_its_schedule_and_last_run(cli, db_url, tmp_path):
    config = write_config(tmp_path, extra='[schedule]\ntimezone = "Europe/Berlin"\n')
    r = cli("--config", config, "jobs")
    assert r.exit_code == 0, r.output
    assert "schedule (Europe/Berlin)" in r.stdout
    assert "never" in r.stdout
    assert "write report.html and report.png to [schedule] report_dir" in r.stdout
    assert r.stdout.rstrip().endswith(
        "No scheduler is running on this database; start one with `forecasts run`."
    )
    assert cli("--config", config, "run", "--once").exit_code == 0
    r = cli("--config", config, "jobs")
    assert "no mail due" in r.stdout and "never" not in r.stdout


@requires_postgres
def test_the_log_never_shows_the_database_password(db_url, tmp_path):
    from sqlalchemy.engine import make_url

    url = make_url(db_url).set(password="s3cret-pw").render_as_string(hide_password=False)
    config = write_config(tmp_path)
    r = make_cli(url)("--config", config, "run", "--once", "--log-format", "json")
    assert r.exit_code == 0, r.output
    assert "s3cret-pw" not in r.output
    assert "***" in r.stderr  # the URL is logged, masked

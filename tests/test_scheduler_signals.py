"""`forecasts run` as a real process: SIGTERM lets the running job finish and exits 0; a
second scheduler is refused, naming the first; SIGKILL in the middle of a news pull or
of sending the digest loses nothing, and the restarted scheduler finishes the work with no
duplicate article and no lost or doubled message.

The slow points are held, not slept through: the news feed answers only when the test
releases it, and the SMTP server stops a message at RCPT until the test lets it go.
"""

from __future__ import annotations

import signal
import subprocess

import pytest

from conftest import PG_URL
from mailhelp import Server
from schedhelp import (
    FORECASTS,
    WAIT,
    HeldFeed,
    HeldSmtp,
    closing_soon_question,
    count,
    engines_question,
    env,
    job_runs,
    make_overdue,
    outbox_rows,
    running,
    statuses,
    wait_for,
    write_config,
)

# Process behaviour, the same on both databases; what differs (the lease's atomic SQL,
# the job store, the outbox claims) is tested on both in test_scheduler_lease,
# test_scheduler_job_store and test_mail_orphan_claims. Run once, on SQLite, to keep the
# suite fast.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(PG_URL), reason="process behaviour: run on SQLite only"),
]


@pytest.fixture
def feed(httpserver):
    held = HeldFeed()
    httpserver.expect_request("/feed.xml").respond_with_handler(held)
    held.url = httpserver.url_for("/feed.xml")  # type: ignore[attr-defined]
    yield held
    held.let_go()  # never leave the server's thread waiting


@pytest.fixture
def smtp():
    handler = HeldSmtp()
    server = Server(handler).start()
    handler.port = server.port  # type: ignore[attr-defined]
    yield handler
    handler.release.set()
    server.stop()


def test_sigterm_lets_the_running_pull_finish_then_exits_0(cli, db_url, feed, tmp_path):
    engines_question(cli)
    config = write_config(tmp_path, feed_url=feed.url)
    make_overdue(db_url, config, "news", "outbox")  # due: they run at once
    feed.hold_next()
    with running(tmp_path, db_url, config) as run:
        assert feed.arrived.wait(WAIT), run.raw()

        # A second scheduler on the same database is refused, naming the first.
        second = subprocess.run(
            [FORECASTS, "--db", db_url, "--config", str(config), "run", "--once"],
            cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=WAIT,
        )  # fmt: skip
        assert second.returncode == 1, second.stderr
        error = second.stderr.strip().splitlines()[-1]
        assert error.startswith("Error: another scheduler is running on this database (host ")
        assert f", pid {run.proc.pid}, since " in error

        run.signal(signal.SIGTERM)
        wait_for("the scheduler to say it is stopping", lambda: run.events("scheduler.stopping"))
        assert run.proc.poll() is None  # waiting for the pull it is running
        assert statuses(db_url, "news") == ["running"]
        feed.let_go()
        assert run.wait() == 0, run.raw()

    assert statuses(db_url, "news") == ["ok"]
    assert count(db_url, "article") == 3
    assert count(db_url, "scheduler_lease") == 0  # released on the way out
    said = [(e["event"], e.get("job")) for e in run.lines()]
    assert said.index(("job.finished", "news")) < said.index(("scheduler.stopped", None))
    # What was due ran once; nothing started after SIGTERM.
    assert sorted(j["job"] for j in run.events("job.started")) == ["news", "outbox"]


def test_sigterm_during_run_once_finishes_that_job_and_skips_the_rest(cli, db_url, feed, tmp_path):
    engines_question(cli)
    config = write_config(tmp_path, feed_url=feed.url)
    feed.hold_next()
    with running(tmp_path, db_url, config, "--once") as run:
        assert feed.arrived.wait(WAIT), run.raw()
        run.signal(signal.SIGTERM)
        wait_for("the scheduler to say it is stopping", lambda: run.events("scheduler.stopping"))
        feed.let_go()
        assert run.wait() == 0, run.raw()
    assert [j for j, _ in job_runs(db_url)] == ["news"]
    assert statuses(db_url, "news") == ["ok"]
    assert count(db_url, "article") == 3


def test_sigkill_during_a_news_pull_and_the_restart_completes_it_once(cli, db_url, feed, tmp_path):
    engines_question(cli)
    config = write_config(tmp_path, feed_url=feed.url)
    make_overdue(db_url, config, "news")

    feed.hold_next()
    with running(tmp_path, db_url, config) as first:
        assert feed.arrived.wait(WAIT), first.raw()
        first.kill()
    assert statuses(db_url, "news") == ["running"]
    assert count(db_url, "article") == 0

    # Restarted, it takes the lease over from the dead process at once, marks the run
    # interrupted and pulls again straight away.
    feed.let_go()
    with running(tmp_path, db_url, config) as second:
        wait_for(
            "the news pull to complete",
            lambda: statuses(db_url, "news") == ["interrupted", "ok"],
        )
        second.signal(signal.SIGTERM)
        assert second.wait() == 0, second.raw()
    assert second.events("lease.replaced")
    assert [e["job"] for e in second.events("job.resumed")] == ["news"]
    assert count(db_url, "article") == 3  # the feed's three items, each stored once
    assert count(db_url, "article_match") == 2


def test_sigkill_while_sending_the_digest_and_the_restart_sends_it_exactly_once(
    cli, db_url, smtp, tmp_path
):
    closing_soon_question(cli)  # so the digest of last week has something for ann
    assert cli("people", "add", "ann", "--email", "ann@example.org").exit_code == 0
    config = write_config(tmp_path, smtp_port=smtp.port)
    make_overdue(db_url, config, "digest")

    smtp.hold = True
    with running(tmp_path, db_url, config) as first:
        assert smtp.arrived.wait(WAIT), first.raw()  # mid-send: RCPT sent, no answer yet
        [row] = outbox_rows(db_url)
        assert row["key"].startswith("digest:") and row["key"].endswith(":ann")
        assert (row["status"], row["attempts"]) == ("sending", 1)
        first.kill()
    smtp.hold = False
    smtp.release.set()
    assert smtp.received == []

    with running(tmp_path, db_url, config) as second:
        # Not after the claim's seven minutes: the claimant is known dead, so at once.
        wait_for("the digest to be sent", lambda: outbox_rows(db_url)[0]["status"] == "sent")
        second.signal(signal.SIGTERM)
        assert second.wait() == 0, second.raw()
    [row] = outbox_rows(db_url)  # queued once, sent once: the second attempt
    assert row["attempts"] == 2
    assert [m.rcpt_tos for m in smtp.received] == [["ann@example.org"]]
    assert smtp.received[0].message["Message-ID"] == row["message_id"]
    assert statuses(db_url, "digest") == ["interrupted", "ok"]

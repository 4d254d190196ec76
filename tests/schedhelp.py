"""Helpers for the scheduler tests: the installed `forecasts` as a subprocess, a news feed
that holds its answer until the test lets it go, an SMTP server that holds a message
mid-send, a scheduler the test drives round by round, and readers of what got stored.

Slow points are made deterministic: the test waits for an event the server sets when the
request arrives, never for a guessed number of seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.base import BaseScheduler
from werkzeug import Request, Response

from mailhelp import Recorder

#: The console script pip installed beside this interpreter.
FORECASTS = str(Path(sys.executable).with_name("forecasts"))
#: Longest any single wait in these tests may take before it fails.
WAIT = 30.0


def wait_for(what: str, check: Callable[[], Any], timeout: float = WAIT) -> Any:
    """Poll ``check`` until it returns something true; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


# ------------------------------------------------------------------------------ news


def rss(items: list[tuple[str, str]]) -> bytes:
    body = "".join(
        f"<item><title>{title}</title><link>{link}</link>"
        "<pubDate>Mon, 30 Nov 2026 10:00:00 GMT</pubDate></item>"
        for title, link in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{body}</channel></rss>'
    ).encode()


#: What the local feed carries: two items match the question ENGINES' query.
FEED_ITEMS = [
    ("China signs a new AL-31F engine contract with Russia", "https://news.example.org/a/1"),
    ("Russia delivers more AL-31F engines to China", "https://news.example.org/a/2"),
    ("Weather in Moscow", "https://news.example.org/a/3"),
]


@dataclass
class HeldFeed:
    """A feed handler for pytest-httpserver: while ``hold`` is set, each request waits,
    after setting ``arrived``, until ``release`` is set."""

    items: list[tuple[str, str]] = field(default_factory=lambda: list(FEED_ITEMS))
    hold: bool = False
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    requests: int = 0

    def __call__(self, request: Request) -> Response:
        self.requests += 1
        self.arrived.set()
        if self.hold:
            self.release.wait(WAIT)
        return Response(rss(self.items), content_type="application/rss+xml")

    def hold_next(self) -> None:
        self.hold = True
        self.arrived.clear()
        self.release.clear()

    def let_go(self) -> None:
        self.hold = False
        self.release.set()


# ------------------------------------------------------------------------------ mail


class HeldSmtp(Recorder):
    """An aiosmtpd handler that, while ``hold`` is set, stops each message at RCPT (the
    client is mid-send, nothing accepted) until ``release``; then answers 451, as a server
    does when its client vanished. Messages that get through are recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = False
        self.arrived = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if self.hold:
            self.arrived.set()
            import asyncio

            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, WAIT)
            return "451 4.3.0 try again later"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


# ------------------------------------------------------------------------------ config


def write_config(
    folder: Path,
    *,
    feed_url: str | None = None,
    smtp_port: int | None = None,
    extra: str = "",
) -> Path:
    """A forecasts.toml: one local feed (or none) and no GDELT; mail to the local SMTP
    server (or the Maildir ./outbox); the report into ./reports."""
    feeds = f'[{{ name = "local", url = "{feed_url}" }}]' if feed_url else "[]"
    text = f"[news]\ngdelt = false\nfeeds = {feeds}\n"
    if smtp_port is not None:
        text += (
            '[mail]\ntransport = "smtp"\nsender = "forecasts <forecasts@example.org>"\n'
            f'timeout = 5\n[mail.smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\n'
            'security = "none"\n'
        )
    text += extra
    path = folder / "forecasts.toml"
    path.write_text(text, encoding="utf-8")
    return path


def closed_question(cli: Callable[..., Any], qid: str = "closed-q") -> None:
    """A question that closed ten days ago (real time): a prompt is due for it."""
    today = dt.datetime.now(dt.UTC).date()
    r = cli(
        "add", "--id", qid, "--title", f"Will {qid} happen?", "--criteria", "Yes if it does.",
        "--opens", str(today - dt.timedelta(days=60)), "--closes", str(today - dt.timedelta(days=10)),
        "--resolve-by", str(today + dt.timedelta(days=30)),
    )  # fmt: skip
    assert r.exit_code == 0, r.output


def closing_soon_question(cli: Callable[..., Any], qid: str = "soon-q") -> None:
    """An open question closing within a week of the end of the last full week (real
    time, UTC): its digest has something for every reader, and no prompt is due."""
    today = dt.datetime.now(dt.UTC).date()
    week_end = today - dt.timedelta(days=today.isoweekday())  # the last full week's Sunday
    r = cli(
        "add", "--id", qid, "--title", f"Will {qid} happen?", "--criteria", "Yes if it does.",
        "--opens", str(week_end - dt.timedelta(days=30)),
        "--closes", str(week_end + dt.timedelta(days=7)),
        "--resolve-by", str(week_end + dt.timedelta(days=60)),
    )  # fmt: skip
    assert r.exit_code == 0, r.output


def engines_question(cli: Callable[..., Any]) -> None:
    """An open question whose news query matches two of FEED_ITEMS."""
    r = cli(
        "add", "--id", "engines", "--title", "New engine contract?", "--criteria", "Yes if signed.",
        "--opens", "2020-01-01", "--closes", "2099-12-31", "--resolve-by", "2099-12-31",
        "--query", '"AL-31F"',
    )  # fmt: skip
    assert r.exit_code == 0, r.output


# ------------------------------------------------------------------------------ processes


@dataclass
class Run:
    """A `forecasts run` subprocess logging JSON to a file."""

    proc: subprocess.Popen[bytes]
    log: Path

    def lines(self) -> list[dict[str, Any]]:
        text = self.log.read_text(encoding="utf-8") if self.log.exists() else ""
        out = []
        for line in text.splitlines():
            if line.startswith("{"):
                out.append(json.loads(line))
        return out

    def events(self, event: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("event") == event]

    def raw(self) -> str:
        return self.log.read_text(encoding="utf-8") if self.log.exists() else ""

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(WAIT)

    def wait(self, timeout: float = WAIT) -> int:
        return self.proc.wait(timeout)


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("FORECASTS_")}
    out["NO_PROXY"] = out["no_proxy"] = "127.0.0.1,localhost"
    return out


def start_run(folder: Path, db_url: str, config: Path, *args: str, name: str = "run") -> Run:
    """Start the installed `forecasts run` in ``folder`` (so ./reports and ./outbox are
    there)."""
    n = len(list(folder.glob(f"{name}-*.log")))
    log = folder / f"{name}-{n}.log"
    handle = log.open("wb")
    proc = subprocess.Popen(
        [FORECASTS, "--db", db_url, "--config", str(config), "run", "--log-format", "json", *args],
        cwd=folder,
        env=env(),
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    handle.close()
    return Run(proc, log)


@contextmanager
def running(folder: Path, db_url: str, config: Path, *args: str) -> Iterator[Run]:
    """A `forecasts run` that is killed on the way out if the test left it running."""
    run = start_run(folder, db_url, config, *args)
    try:
        yield run
    finally:
        if run.proc.poll() is None:
            run.kill()


# ------------------------------------------------------------------------------ database


def job_runs(db_url: str) -> list[tuple[str, str]]:
    """(job, status) of every recorded run, oldest first."""
    import sqlalchemy as sa

    from forecasts.scheduler.models import JobRun
    from forecasts.store import db

    with db.session_scope(db.get_engine(db_url)) as s:
        return [
            (r.job, r.status) for r in s.execute(sa.select(JobRun).order_by(JobRun.id)).scalars()
        ]


def statuses(db_url: str, job: str) -> list[str]:
    return [status for j, status in job_runs(db_url) if j == job]


def count(db_url: str, table: str) -> int:
    import sqlalchemy as sa

    from forecasts.store import db

    with db.session_scope(db.get_engine(db_url)) as s:
        return int(s.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def outbox_rows(db_url: str) -> list[dict[str, Any]]:
    import sqlalchemy as sa

    from forecasts.mail.models import OutboxMessage
    from forecasts.store import db

    with db.session_scope(db.get_engine(db_url)) as s:
        return [
            {"key": m.key, "status": m.status, "attempts": m.attempts, "message_id": m.message_id}
            for m in s.execute(sa.select(OutboxMessage).order_by(OutboxMessage.id)).scalars()
        ]


# ------------------------------------------------------------------------------ in-process


class ManualScheduler(BaseScheduler):
    """An APScheduler scheduler that runs the due jobs only when the test calls
    ``run_due`` (with ``DebugExecutor``: in this thread, before it returns)."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("executors", {"default": DebugExecutor()})
        super().__init__(**options)

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def wakeup(self) -> None:
        pass

    def run_due(self) -> None:
        self._process_jobs()


def start_manual(db_url: str, config: Path, *, resume: tuple[str, ...] = ()) -> ManualScheduler:
    """A started ManualScheduler with the real jobs, installed as `forecasts run` does."""
    from forecasts.runtime import Runtime
    from forecasts.scheduler.jobs import JOBS
    from forecasts.scheduler.service import JOB_DEFAULTS, install_jobs, job_store
    from forecasts.scheduler.triggers import triggers

    runtime = Runtime(config=config, database_url=db_url)
    schedule = runtime.settings.schedule
    store = job_store(runtime)
    scheduler = ManualScheduler(
        timezone=schedule.zone, jobstores={"default": store}, job_defaults=JOB_DEFAULTS
    )
    install_jobs(
        scheduler,
        store,
        JOBS,
        triggers(schedule, tuple(j.id for j in JOBS)),
        {"config": str(config), "database_url": db_url},
        resume=resume,
    )
    scheduler.start()
    return scheduler


def make_overdue(db_url: str, config: Path, *jobs: str) -> None:
    """The job store as a scheduler leaves it when the machine then goes down: ``jobs``
    due two hours ago (so they run as soon as `forecasts run` starts), the others at
    their next times."""
    scheduler = start_manual(db_url, config)
    due = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    for job in jobs:
        scheduler.modify_job(job, next_run_time=due)
    scheduler.shutdown()

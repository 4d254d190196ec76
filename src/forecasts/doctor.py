"""`forecasts doctor`: is everything this installation needs in working order?

Each check is a function returning ``Check`` values: what was looked at, ``ok``, ``warn``
(works, but not as it should) or ``fail``, what was found, and for anything short of ok
what to do about it. ``diagnose`` runs them all; nothing is written, except a temporary
file to prove the Maildir folder writable (removed at once). Network checks (SMTP, news
sources) give up after ``timeout`` seconds; the news sources are tried concurrently.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from forecasts.errors import BadInput, DatabaseError, ForecastsError

if TYPE_CHECKING:
    from forecasts.mail.settings import MailSettings
    from forecasts.news.fetch import FetchResult
    from forecasts.news.settings import NewsSettings
    from forecasts.runtime import Runtime

Status = Literal["ok", "warn", "fail"]
#: Seconds a network check may take.
DEFAULT_TIMEOUT = 5.0
#: The word searched for when checking GDELT and search feeds.
PROBE_QUERY = "china"
#: Where a URL or a setting is shown and where it came from.
SEE_CONFIG = "`forecasts config` shows the settings in force and where each came from"


@dataclass(frozen=True)
class Check:
    """One check's result; ``remedy`` says what to do when it is not ok."""

    name: str
    status: Status
    detail: str
    remedy: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "status": self.status,
            "detail": self.detail,
            "remedy": self.remedy,
        }


@dataclass(frozen=True)
class Diagnosis:
    checks: list[Check]

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [c.to_dict() for c in self.checks]}


def diagnose(
    runtime: Runtime,
    *,
    questions: Path = Path("questions.yaml"),
    timeout: float = DEFAULT_TIMEOUT,
) -> Diagnosis:
    """Every check, in the order a problem is best fixed in: configuration, database,
    questions file, mail, news sources, the scheduler and its jobs' last runs."""
    config = check_config(runtime)
    if config.status == "fail":
        return Diagnosis([config])  # nothing else can be read without the settings
    checks = [config, *check_database(runtime, timeout=timeout)]
    db_ready = all(c.status == "ok" for c in checks)
    checks.append(check_questions_file(runtime, questions, db_ready=db_ready))
    settings = runtime.settings
    checks.append(check_mail(settings.mail, timeout=timeout))
    checks.extend(check_news(settings.news, timeout=timeout))
    if db_ready:
        checks.extend(check_scheduler(runtime))
    return Diagnosis(checks)


# --------------------------------------------------------------------------------------
# Configuration and database


def check_config(runtime: Runtime) -> Check:
    """The settings load: the file is valid TOML with known keys and good values."""
    try:
        settings = runtime.settings
    except BadInput as e:
        return Check("config", "fail", str(e), "fix the setting named (see docs/configuration.md)")
    if settings.config_file is None:
        return Check("config", "ok", "no config file: defaults, environment and options")
    return Check("config", "ok", f"{settings.config_file} is valid")


def check_database(runtime: Runtime, *, timeout: float = DEFAULT_TIMEOUT) -> list[Check]:
    """The database answers (within ``timeout`` for a server), and its schema is this
    version's."""
    from forecasts.store import db

    label = runtime.database_label
    try:
        engine = db.get_engine(_with_connect_timeout(runtime.settings.database.url, timeout))
        revision = db.current_revision(engine)
    except DatabaseError as e:
        return [
            Check(
                "database",
                "fail",
                e.message,
                "check the database URL and that its server is running; " + SEE_CONFIG,
            )
        ]
    if revision is None:
        return [Check("database", "fail", f"no database at {label} yet", "run `forecasts init`")]
    head = db.head_revision()
    checks = [Check("database", "ok", f"{label} answers")]
    if revision == head:
        checks.append(Check("schema", "ok", f"revision {revision}, this version's"))
    elif _known_revision(revision):
        checks.append(
            Check(
                "schema",
                "fail",
                f"revision {revision}; this version needs {head}",
                "run `forecasts db upgrade`",
            )
        )
    else:
        checks.append(
            Check(
                "schema",
                "fail",
                f"revision {revision} is newer than this version knows ({head})",
                "upgrade forecasts to the version that made this database",
            )
        )
    return checks


def _with_connect_timeout(url: str, timeout: float) -> str:
    """A PostgreSQL URL that gives up connecting after ``timeout`` seconds (libpq waits
    as long as the network does)."""
    from sqlalchemy.engine import make_url

    from forecasts.store.db import normalize_url

    url = normalize_url(url)
    if not url.startswith("postgresql"):
        return url
    parsed = make_url(url)
    if "connect_timeout" in parsed.query:
        return url
    seconds = str(max(1, round(timeout)))
    return parsed.update_query_dict({"connect_timeout": seconds}).render_as_string(
        hide_password=False
    )


def _known_revision(revision: str) -> bool:
    """Whether this version ships the migration ``revision`` (an older schema)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from forecasts.store.db import alembic_config

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


# --------------------------------------------------------------------------------------
# The questions file


def check_questions_file(runtime: Runtime, path: Path, *, db_ready: bool) -> Check:
    """The questions file is valid, and (with a database) synced: what `sync` would
    change is nothing."""
    from forecasts.domain.questions_file import load_questions_file
    from forecasts.domain.setup import sync_file

    name = "questions file"
    if not path.is_file():
        return Check(
            name,
            "warn",
            f"no {path} in the working folder",
            "run forecasts where questions.yaml is, or load one with `forecasts sync PATH`",
        )
    try:
        specs = load_questions_file(path)
    except BadInput as e:
        return Check(name, "fail", e.message, f"fix {path} where the message says")
    n = f"{len(specs)} question{'' if len(specs) == 1 else 's'}"
    if not db_ready:
        return Check(name, "ok", f"{path}: {n}, valid")
    try:
        report = sync_file(runtime, path, dry_run=True)
    except ForecastsError as e:
        return Check(name, "warn", f"{path}: {e.message}", "see `forecasts sync --dry-run`")
    pending = {
        "to add": report.added,
        "to update": report.updated,
        "resolutions to apply": report.resolved + report.corrected,
    }
    waiting = [f"{len(ids)} {what}" for what, ids in pending.items() if ids]
    if waiting:
        return Check(
            name,
            "warn",
            f"{path}: {n}; the database is behind it ({', '.join(waiting)})",
            "run `forecasts sync` (`--dry-run` first to see the changes)",
        )
    return Check(name, "ok", f"{path}: {n}, the database in step with it")


# --------------------------------------------------------------------------------------
# Mail


def check_mail(settings: MailSettings, *, timeout: float = DEFAULT_TIMEOUT) -> Check:
    """Mail can go out: the Maildir folder is writable, or the SMTP server answers,
    secures the connection and accepts the login."""
    if settings.transport == "maildir":
        return _check_maildir(settings.maildir_path())
    from forecasts.mail.transport import SendError, SmtpTransport

    quick = settings.model_copy(update={"timeout": min(timeout, settings.timeout)})
    transport = SmtpTransport(quick)
    smtp = settings.smtp
    try:
        transport.verify()
    except SendError as e:
        return Check(
            "mail",
            "fail",
            str(e),
            "check [mail.smtp] host, port, security, user and the password variable; " + SEE_CONFIG,
        )
    login = f"login accepted as {smtp.user}" if smtp.user else "no login (no user set)"
    return Check("mail", "ok", f"{transport.label} ({smtp.security}) answers; {login}")


def _check_maildir(path: Path) -> Check:
    if path.exists() and not path.is_dir():
        return Check(
            "mail", "fail", f"Maildir {path} is a file, not a folder", "set [mail] maildir"
        )
    existing = path
    while not existing.exists():
        existing = existing.parent
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".forecasts-doctor-"):
            pass
    except OSError as e:
        return Check(
            "mail",
            "fail",
            f"Maildir {path}: cannot write in {existing} ({e.strerror})",
            "make the folder writable, or set [mail] maildir to one that is",
        )
    later = "" if path.exists() else " (created with the first message)"
    return Check("mail", "ok", f"Maildir {path} writable{later}")


# --------------------------------------------------------------------------------------
# The scheduler


def check_scheduler(runtime: Runtime) -> list[Check]:
    """Whether a scheduler holds the database's lease (``forecasts run``), and how each
    job's last run ended (``scheduler.status.scheduler_status``, what `forecasts jobs`
    shows). No scheduler is a warning: jobs may run from cron with ``run --once``."""
    from forecasts import clock
    from forecasts.report.text import run_outcome, time_ago
    from forecasts.scheduler.status import scheduler_status

    status = scheduler_status(runtime)
    now = clock.now()
    h = status.holder
    if h is None:
        lease = Check(
            "scheduler",
            "warn",
            "no scheduler is running on this database",
            "start one with `forecasts run`, or run `forecasts run --once` from cron "
            "(docs/deploy.md)",
        )
    else:
        lease = Check(
            "scheduler",
            "ok",
            f"running on {h.host} (pid {h.pid}), last heartbeat {time_ago(h.heartbeat, now)}",
        )
    ran = [j for j in status.jobs if j.last_run is not None]
    failed = [j for j in ran if j.last_run and j.last_run.status == "failed"]
    uneasy = [j for j in ran if j.last_run and j.last_run.status in ("warning", "interrupted")]

    def said(jobs: list[Any]) -> str:
        return "; ".join(
            f"{j.id} {run_outcome(j.last_run.status)} {time_ago(j.last_run.started_at, now)}"
            + (
                f": {j.last_run.error or j.last_run.summary}"
                if j.last_run.error or j.last_run.summary
                else ""
            )
            for j in jobs
        )

    if failed:
        jobs = Check("jobs", "fail", said(failed), "see `forecasts jobs` and the scheduler's log")
    elif uneasy:
        jobs = Check("jobs", "warn", said(uneasy), "see `forecasts jobs` and the scheduler's log")
    elif not ran:
        jobs = Check("jobs", "warn", "no job has run yet", "run `forecasts run --once`")
    else:
        latest = max(j.last_run.started_at for j in ran if j.last_run)
        jobs = Check(
            "jobs",
            "ok",
            f"the last run of each of {len(ran)} jobs went well (latest {time_ago(latest, now)})",
        )
    return [lease, jobs]


# --------------------------------------------------------------------------------------
# News sources


def check_news(settings: NewsSettings, *, timeout: float = DEFAULT_TIMEOUT) -> list[Check]:
    """Each news source answers, as `news pull` asks it (GDELT and search feeds with a
    one-word query), all at once."""
    from forecasts.news.plan import source_specs

    specs = source_specs(settings)
    if not specs:
        return [
            Check(
                "news",
                "warn",
                "no news sources configured",
                "add feeds to [news] (see docs/news.md)",
            )
        ]
    urls = [_probe_url(s.kind, s.url) for s in specs]
    results = asyncio.run(_fetch_all(urls, settings, timeout))
    checks = []
    for spec, url, result in zip(specs, urls, results, strict=True):
        name = f"news {spec.name}"
        if result.ok:
            checks.append(
                Check(
                    name,
                    "ok",
                    f"{_host(url)} answered HTTP {result.status} in {result.elapsed:.1f} s",
                )
            )
        else:
            checks.append(
                Check(
                    name,
                    "fail",
                    f"{_host(url)}: {result.error}",
                    "check the network, or the source's URL in [news]",
                )
            )
    return checks


def _probe_url(kind: str, url: str) -> str:
    from urllib.parse import quote

    from forecasts import clock
    from forecasts.news.sources import gdelt_url

    if kind == "gdelt":
        now = clock.now()
        return gdelt_url(url, PROBE_QUERY, last_success=now, now=now)
    if kind == "search":
        return url.replace("{query}", quote(PROBE_QUERY))
    return url


async def _fetch_all(urls: list[str], settings: NewsSettings, timeout: float) -> list[FetchResult]:
    from forecasts.news.fetch import Fetcher, FetchPolicy

    policy = FetchPolicy(
        max_bytes=settings.max_bytes,
        concurrency=settings.concurrency,
        connect_timeout=timeout,
        read_timeout=timeout,
        deadline=timeout,
        retries=0,
    )
    async with Fetcher(policy) as fetcher:
        return list(await asyncio.gather(*(fetcher.get(u) for u in urls)))


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url

"""The scheduled jobs: each calls the same core function as its command, and says in
one line what it did.

``JOBS`` lists them in the order ``forecasts run --once`` runs them; a job's ``id`` is
its key in ``[schedule]``, its id in the job store and its name in the ``job_run``
record, so it never changes. ``execute`` runs one job, records the run and logs it; it
never raises, so a failing job stops neither the scheduler nor the other jobs.
``scheduled`` is what the job store holds: a module-level function whose arguments are
plain strings, so APScheduler can pickle the job and find the function again.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from forecasts import process
from forecasts.errors import BadInput, ForecastsError
from forecasts.scheduler import runs

if TYPE_CHECKING:
    from forecasts.runtime import Runtime

log = logging.getLogger("forecasts.scheduler")

#: The files the report job writes into ``[schedule] report_dir``.
REPORT_HTML = "report.html"
REPORT_PNG = "report.png"


@dataclass
class Outcome:
    """How a run ended. ``status``: ok, warning (it ran, with a problem to look at:
    ``details`` say which) or failed (``error`` says why)."""

    status: str
    summary: str | None = None
    details: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class Job:
    id: str
    #: What it does, for ``forecasts jobs``.
    does: str
    work: Callable[[Runtime], Outcome]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# ------------------------------------------------------------------------------ the jobs


def news(runtime: Runtime) -> Outcome:
    """Pull news for every question (``forecasts news pull``)."""
    from forecasts.news.pull import pull

    summary = pull(runtime.session, settings=runtime.settings.news)
    details = [
        f"source {s.name} failed: {s.error or 'no reason given'}"
        for s in summary.sources
        if s.status == "failed"
    ] + [f"news: {w}" for w in summary.warnings]
    return Outcome("warning" if summary.all_failed else "ok", summary.line(), details)


def prompts(runtime: Runtime) -> Outcome:
    """Send the resolution prompts due today (``forecasts prompts``)."""
    from forecasts.review.prompts import send_prompts

    run = send_prompts(runtime)
    queued = sum(1 for p in run.prompts if p.queued)
    if run.prompts:
        head = f"{_plural(len(run.prompts), 'prompt')} due on {run.day} ({queued} queued now)"
    else:
        head = f"no prompts due on {run.day}"
    details = list(run.warnings)
    delivery = run.delivery
    if delivery is not None:
        head += f"; outbox: {delivery.line()}"
        details += [f"mail {key}: {error}" for key, error in delivery.deferred + delivery.failed]
    return Outcome("warning" if details else "ok", head, details)


def digest(runtime: Runtime) -> Outcome:
    """Send the weekly digest of the last full week in ``[schedule] timezone``
    (``forecasts digest --send``): once per reader and week, whoever runs it."""
    from forecasts.digest import send_digests

    run = send_digests(runtime, week=None, send=True)
    details = []
    if run.delivery is not None:
        details = [
            f"mail {key}: {error}" for key, error in run.delivery.deferred + run.delivery.failed
        ]
    return Outcome("warning" if details else "ok", run.summary_line(), details)


def report(runtime: Runtime) -> Outcome:
    """Write report.html and report.png into ``[schedule] report_dir``.

    Each file is written beside its final name and moved into place, so whoever reads
    the folder (a web server) never sees half a report."""
    from forecasts.report.run import run_report

    folder = Path(runtime.settings.schedule.report_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BadInput(
            f"schedule.report_dir: cannot create {folder}: {e.strerror}; "
            "choose a folder this user may write"
        ) from None
    final = [folder / REPORT_HTML, folder / REPORT_PNG]
    partial = [p.with_name(f".{p.name}.partial") for p in final]
    run = run_report(runtime.session, html=partial[0], png=partial[1])
    for source, target in zip(partial, final, strict=True):
        os.replace(source, target)
    scored = run.report.resolved_questions.scored
    return Outcome(
        "ok", f"wrote {final[0]} and {final[1]} ({_plural(scored, 'resolved question')} scored)"
    )


def outbox(runtime: Runtime) -> Outcome:
    """Deliver the mail still due: retries after a failed send (``forecasts outbox``)."""
    from forecasts.mail.outbox import deliver

    delivery = deliver(runtime)
    if not delivery.attempted and not delivery.released:
        return Outcome("ok", "no mail due")
    details = [f"mail {key}: {error}" for key, error in delivery.deferred + delivery.failed]
    return Outcome("warning" if details else "ok", delivery.line(), details)


JOBS: tuple[Job, ...] = (
    Job("news", "pull news for every question", news),
    Job("prompts", "send the resolution prompts due today", prompts),
    Job("digest", "send the weekly digest of the last full week", digest),
    Job("report", "write report.html and report.png to [schedule] report_dir", report),
    Job("outbox", "deliver mail still due (retries)", outbox),
)
BY_ID = {job.id: job for job in JOBS}


# ------------------------------------------------------------------------------ running


def execute(job_id: str, runtime: Runtime) -> Outcome:
    """Run one job: record its start, run it, record and log how it ended. Never raises
    (but for KeyboardInterrupt and SystemExit)."""
    job = BY_ID[job_id]
    fields: dict[str, object] = {"job": job_id}
    log.info("%s started", job_id, extra={"event": "job.started", "fields": fields})
    began = time.monotonic()
    try:
        run_id = runs.start(runtime, job_id, process=process.this_process().key)
    except Exception as e:
        return _failed(job_id, fields, began, e, recorded=False)
    try:
        outcome = job.work(runtime)
    except Exception as e:
        outcome = _failed(job_id, fields, began, e, recorded=True)
    else:
        _log_done(job_id, fields, began, outcome)
    try:
        runs.finish(
            runtime,
            run_id,
            status=outcome.status,
            summary=outcome.summary,
            error=outcome.error,
        )
    except Exception as e:
        log.error(
            "%s: could not record how the run ended: %s",
            job_id,
            _error_line(e),
            extra={"event": "job.unrecorded", "fields": fields},
        )
    return outcome


def _error_line(e: BaseException) -> str:
    """A domain error as its message; anything else with its type (it is a bug, or a
    fault the core did not expect)."""
    if isinstance(e, ForecastsError):
        return str(e)
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def _failed(
    job_id: str, fields: dict[str, object], began: float, e: Exception, *, recorded: bool
) -> Outcome:
    error = _error_line(e)
    seconds = round(time.monotonic() - began, 3)
    what = "failed" if recorded else "failed to start"
    log.error(
        "%s %s after %.1f s: %s",
        job_id,
        what,
        seconds,
        error,
        # A domain error says all there is; anything else gets its traceback (JSON logs).
        exc_info=None if isinstance(e, ForecastsError) else (type(e), e, e.__traceback__),
        extra={
            "event": "job.failed",
            "fields": {**fields, "status": "failed", "seconds": seconds, "error": error},
        },
    )
    traceback.clear_frames(e.__traceback__)
    return Outcome("failed", error=error)


def _log_done(job_id: str, fields: dict[str, object], began: float, outcome: Outcome) -> None:
    seconds = round(time.monotonic() - began, 3)
    for detail in outcome.details:
        log.warning(
            "%s: %s",
            job_id,
            detail,
            extra={"event": "job.detail", "fields": {**fields, "detail": detail}},
        )
    level = logging.WARNING if outcome.status == "warning" else logging.INFO
    said = "finished with warnings" if outcome.status == "warning" else "finished"
    log.log(
        level,
        "%s %s in %.1f s: %s",
        job_id,
        said,
        seconds,
        outcome.summary,
        extra={
            "event": "job.finished",
            "fields": {
                **fields,
                "status": outcome.status,
                "seconds": seconds,
                "summary": outcome.summary,
            },
        },
    )


def scheduled(job_id: str, config: str | None = None, database_url: str | None = None) -> str:
    """The job store's entry point: run ``job_id`` on a runtime of its own (the
    ``--config`` and ``--db`` the scheduler was started with; None: the environment and
    defaults, as for any command). Returns the summary, or the error."""
    from forecasts.runtime import Runtime

    outcome = execute(job_id, Runtime(config=config, database_url=database_url))
    return outcome.summary or outcome.error or outcome.status

"""What ``forecasts jobs`` shows: whether a scheduler runs on the database, and for each
job its schedule, its next run and how its last run ended.

Read straight from the tables (the job store's ``next_run_time`` is a plain column), so
the command needs neither APScheduler nor the jobs' pickled state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from forecasts import clock
from forecasts.scheduler import lease, runs
from forecasts.scheduler.jobs import JOBS
from forecasts.scheduler.models import apscheduler_jobs

if TYPE_CHECKING:
    from forecasts.runtime import Runtime


@dataclass(frozen=True)
class JobStatus:
    id: str
    does: str
    #: The cron schedule from ``[schedule]``.
    schedule: str
    #: When the scheduler runs it next (None: no scheduler has scheduled it yet). In the
    #: past when no scheduler runs now: it runs once when one starts.
    next_run: dt.datetime | None
    last_run: runs.RunRecord | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "does": self.does,
            "schedule": self.schedule,
            "next_run": clock.iso(self.next_run),
            "last_run": self.last_run.to_dict() if self.last_run else None,
        }


@dataclass(frozen=True)
class SchedulerStatus:
    timezone: str
    #: The scheduler holding the lease, or None when none runs.
    holder: lease.Holder | None
    jobs: list[JobStatus]

    def to_dict(self) -> dict[str, Any]:
        h = self.holder
        return {
            "scheduler": {
                "running": h is not None,
                "host": h.host if h else None,
                "pid": h.pid if h else None,
                "since": clock.iso(h.since) if h else None,
                "heartbeat": clock.iso(h.heartbeat) if h else None,
            },
            "timezone": self.timezone,
            "jobs": [j.to_dict() for j in self.jobs],
        }


def _instant(timestamp: float | None) -> dt.datetime | None:
    return None if timestamp is None else dt.datetime.fromtimestamp(timestamp, dt.UTC)


def scheduler_status(runtime: Runtime) -> SchedulerStatus:
    schedule = runtime.settings.schedule
    with runtime.session() as s:
        holder = lease.holder(s)
        last = runs.latest(s)
        next_runs: dict[str, float | None] = {
            row.id: row.next_run_time
            for row in s.execute(sa.select(apscheduler_jobs.c.id, apscheduler_jobs.c.next_run_time))
        }
    jobs = [
        JobStatus(
            job.id,
            job.does,
            getattr(schedule, job.id),
            _instant(next_runs.get(job.id)),
            last.get(job.id),
        )
        for job in JOBS
    ]
    return SchedulerStatus(schedule.timezone, holder, jobs)

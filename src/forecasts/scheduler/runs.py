"""The record of job runs (the ``job_run`` table): a row when a job starts, completed
when it ends, so a run cut short by a crash stays visible as ``running`` until the next
scheduler marks it ``interrupted`` and runs the job again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session, col

from forecasts import clock
from forecasts.scheduler.models import JobRun

if TYPE_CHECKING:
    from forecasts.runtime import Runtime

#: Longest summary or error kept (a line, not a log).
_TEXT_MAX = 2000


@dataclass(frozen=True)
class RunRecord:
    """One run as ``forecasts jobs`` shows it."""

    job: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str
    summary: str | None
    error: str | None

    @property
    def seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "started_at": clock.iso(self.started_at),
            "finished_at": clock.iso(self.finished_at),
            "status": self.status,
            "summary": self.summary,
            "error": self.error,
        }


def _clip(text: str | None) -> str | None:
    return None if text is None else text[:_TEXT_MAX]


def start(runtime: Runtime, job: str, *, process: str) -> int:
    """Record that ``job`` starts now; return the run's id."""
    with runtime.session(write=True) as s:
        run = JobRun(job=job, started_at=clock.now(), status="running", process=process)
        s.add(run)
        s.flush()
        assert run.id is not None
        return run.id


def finish(
    runtime: Runtime, run_id: int, *, status: str, summary: str | None, error: str | None
) -> None:
    """Record how run ``run_id`` ended."""
    with runtime.session(write=True) as s:
        s.execute(
            sa.update(JobRun)
            .where(col(JobRun.id) == run_id)
            .values(
                finished_at=clock.now(), status=status, summary=_clip(summary), error=_clip(error)
            )
        )


def interrupt_stale(runtime: Runtime) -> list[str]:
    """Mark every run still ``running`` as ``interrupted``; return their jobs.

    Called by a scheduler that has just taken the lease: no other scheduler runs on the
    database, so a run still ``running`` belongs to one that died or was stopped."""
    with runtime.session(write=True) as s:
        rows = s.execute(
            sa.update(JobRun)
            .where(col(JobRun.status) == "running")
            .values(
                status="interrupted",
                error="the scheduler running it stopped before it finished",
            )
            .returning(col(JobRun.job))
        ).all()
    return sorted({r.job for r in rows})


def to_resume(runtime: Runtime) -> list[str]:
    """Jobs whose latest run was interrupted: the scheduler runs them again at start."""
    with runtime.session() as s:
        return sorted(j for j, r in latest(s).items() if r.status == "interrupted")


def latest(session: Session) -> dict[str, RunRecord]:
    """Each job's latest run."""
    newest = (
        sa.select(col(JobRun.job), sa.func.max(col(JobRun.id)).label("id"))
        .group_by(col(JobRun.job))
        .subquery()
    )
    rows = session.execute(sa.select(JobRun).join(newest, col(JobRun.id) == newest.c.id)).scalars()
    return {
        r.job: RunRecord(r.job, r.started_at, r.finished_at, r.status, r.summary, r.error)
        for r in rows
    }

"""The scheduler's tables: the record of every job run, the lease that lets one scheduler
run per database, and APScheduler's job store. Created by migration 0005; a test checks
the two agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from forecasts.store.types import UTCDateTime

#: A job run's status: ``running`` until it ends; ``ok``; ``warning`` (it ran to the end
#: but reports a problem: every news source unreachable, mail left queued for a retry);
#: ``failed`` (it raised); ``interrupted`` (the scheduler died or stopped during it).
RUN_STATUSES = ("running", "ok", "warning", "failed", "interrupted")

#: ``Table.info`` of the scheduler's tables: they hold the state of the scheduler that
#: ran on this database (its job store, its lease, its record of runs), not the
#: tracker's data, so ``forecasts export`` leaves them out and a scheduler on the
#: database an export is imported into starts afresh.
NOT_EXPORTED = {"export": False}

#: APScheduler's SQLAlchemyJobStore table. The store declares it in a MetaData of its
#: own and creates it if missing; migration 0005 creates it first, so the schema has one
#: owner. Declared here, with the store's exact columns, so the models/migrations check
#: covers it and a test can compare the two definitions.
JOBSTORE_TABLE = "apscheduler_jobs"


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


class JobRun(SQLModel, table=True):
    """One run of a scheduled job, by ``forecasts run`` or ``forecasts run --once``."""

    __tablename__ = "job_run"
    __table_args__ = (
        sa.Index("ix_job_run_job_started_at", "job", "started_at"),
        {"info": NOT_EXPORTED},
    )

    id: int | None = Field(default=None, primary_key=True)
    #: The job's stable id: news, prompts, digest, report, outbox.
    job: str = Field(max_length=32)
    started_at: dt.datetime = Field(sa_column=_ts())
    finished_at: dt.datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    status: str = Field(max_length=16)
    #: One line: what the run did.
    summary: str | None = None
    #: One line: why it failed (or was interrupted).
    error: str | None = None
    #: The process that ran it (``forecasts.process.ProcessId.key``).
    process: str = Field(max_length=400)


class SchedulerLease(SQLModel, table=True):
    """At most one row per lease name: the scheduler that may run jobs on this database.

    The holder renews ``expires_at`` with a heartbeat; another scheduler may take the
    lease once it has expired, or at once when its holder is known to be gone."""

    __tablename__ = "scheduler_lease"
    __table_args__ = ({"info": NOT_EXPORTED},)

    name: str = Field(primary_key=True, max_length=32)
    #: Fresh for every acquisition: renewals and the release match on it.
    token: str = Field(max_length=32)
    host: str = Field(max_length=255)
    pid: int
    process: str = Field(max_length=400)
    since: dt.datetime = Field(sa_column=_ts())
    heartbeat: dt.datetime = Field(sa_column=_ts())
    expires_at: dt.datetime = Field(sa_column=_ts())


apscheduler_jobs = sa.Table(
    JOBSTORE_TABLE,
    SQLModel.metadata,
    sa.Column("id", sa.Unicode(191), primary_key=True),
    sa.Column("next_run_time", sa.Float(25), index=True),
    sa.Column("job_state", sa.LargeBinary(), nullable=False),
    info=NOT_EXPORTED,
)

"""``forecasts run``: the scheduler, as a foreground daemon or once through every job.

Both take the database's scheduler lease first (``lease``: one scheduler per database),
keep it alive with a heartbeat, mark the runs a dead scheduler left ``running`` as
``interrupted``, and release the lease when they stop.

``Service.run_forever`` is an APScheduler ``BlockingScheduler`` with its jobs in a
``SQLAlchemyJobStore`` in the same database (table ``apscheduler_jobs``, created by the
migrations). Every job has ``coalesce=True``, ``max_instances=1`` and no limit on how
late it may run (``misfire_grace_time=None``): a job whose time came while no scheduler
ran (the machine was down) runs once when the scheduler starts again, however many of
its times it missed and however long ago; a job whose run was interrupted runs again at
once. The jobs run in a thread pool with a thread per job, so a slow news pull delays
nothing else.

``Service.run_once`` runs every job once, in order, in this thread.

``Service.request_stop`` (from a signal handler, or the heartbeat when the lease is
lost) lets the running jobs finish and then stops: no job starts after it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from forecasts import clock
from forecasts.scheduler import lease as leases
from forecasts.scheduler import runs
from forecasts.scheduler.jobs import JOBS, Job, Outcome, execute, scheduled
from forecasts.scheduler.models import JOBSTORE_TABLE

if TYPE_CHECKING:
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.base import BaseScheduler

    from forecasts.runtime import Runtime
    from forecasts.scheduler.triggers import LocalCron

log = logging.getLogger("forecasts.scheduler")

#: Every job's settings in the job store (see the module docstring).
JOB_DEFAULTS: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


@dataclass
class OnceResult:
    """What ``run --once`` did: each job run, in order; ``stopped`` when a signal (or a
    lost lease) ended it before every job ran."""

    outcomes: list[tuple[str, Outcome]] = field(default_factory=list)
    stopped: bool = False
    lease_lost: bool = False

    @property
    def failed(self) -> list[str]:
        return [job for job, o in self.outcomes if o.status == "failed"]


@dataclass(frozen=True)
class ForeverResult:
    """How ``run`` ended: a requested stop, or the lease lost to another scheduler."""

    reason: str
    lease_lost: bool = False


def job_store(runtime: Runtime) -> SQLAlchemyJobStore:
    """APScheduler's job store on the runtime's database and engine."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    return SQLAlchemyJobStore(engine=runtime.engine, tablename=JOBSTORE_TABLE)


def install_jobs(
    scheduler: BaseScheduler,
    store: SQLAlchemyJobStore,
    jobs: Sequence[Job],
    triggers: dict[str, LocalCron],
    kwargs: dict[str, str | None],
    *,
    resume: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> None:
    """Add ``jobs`` to ``scheduler`` (not started yet), replacing what the job store holds
    from an earlier start but keeping what that start left to do:

    - a job the store says was due before ``now`` (the scheduler was down at its time)
      keeps that time, so it runs once, at once (``coalesce``);
    - a job in ``resume`` (its last run was interrupted) runs at once;
    - any other job's next run comes from its trigger (a changed schedule applies now);
    - a job the store holds that is no longer in ``jobs`` is removed.
    """
    from apscheduler.util import undefined

    now = now or clock.now()
    stored = {job.id: job for job in store.get_all_jobs()}
    resume = set(resume)
    for job in jobs:
        old = stored.pop(job.id, None)
        missed = old.next_run_time if old is not None else None
        next_run: Any = undefined
        if job.id in resume:
            next_run = now
            log.info(
                "%s was interrupted; it runs again now",
                job.id,
                extra={"event": "job.resumed", "fields": {"job": job.id}},
            )
        elif missed is not None and missed <= now:
            next_run = missed
            log.info(
                "%s was due at %s while no scheduler ran; it runs now, once",
                job.id,
                clock.iso(missed),
                extra={
                    "event": "job.missed",
                    "fields": {"job": job.id, "due": clock.iso(missed)},
                },
            )
        scheduler.add_job(
            scheduled,
            trigger=triggers[job.id],
            args=[job.id],
            kwargs=kwargs,
            id=job.id,
            name=job.id,
            replace_existing=True,
            next_run_time=next_run,
            **JOB_DEFAULTS,
        )
    for gone in stored:
        store.remove_job(gone)


class Service:
    """One scheduler process on ``runtime``'s database."""

    def __init__(self, runtime: Runtime, *, jobs: Sequence[Job] = JOBS) -> None:
        self.runtime = runtime
        self.jobs = tuple(jobs)
        self._stop = threading.Event()
        self._lease_lost = False
        self._lock = threading.Lock()
        self._scheduler: BaseScheduler | None = None
        # Normally one; a signal arriving while the scheduler announces its start can
        # make two (the second finds it stopped), and both are joined.
        self._shutdowns: list[threading.Thread] = []

    # ---------------------------------------------------------------- stopping

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def request_stop(self, reason: str) -> None:
        """Stop once the running jobs finish. Safe from a signal handler (it only sets a
        flag and starts a thread) and from any thread."""
        first = not self._stop.is_set()
        self._stop.set()
        if first:
            log.info(
                "stopping (%s): letting the running jobs finish",
                reason,
                extra={"event": "scheduler.stopping", "fields": {"reason": reason}},
            )
        self._shut_down_if_started()

    def _shut_down_if_started(self) -> None:
        scheduler = self._scheduler
        if scheduler is None or not scheduler.running or self._shutdowns:
            return
        # Not in the caller's thread: a signal handler must not block, and shutdown waits
        # for the running jobs. APScheduler submits a round of due jobs under the lock
        # shutdown takes, so no job is left half-submitted.
        thread = threading.Thread(target=self._shut_down, name="scheduler-stop")
        self._shutdowns.append(thread)
        thread.start()

    def _shut_down(self) -> None:
        from apscheduler.schedulers import SchedulerNotRunningError

        assert self._scheduler is not None
        with contextlib.suppress(SchedulerNotRunningError):  # another thread got there first
            self._scheduler.shutdown(wait=True)

    def _lost(self) -> None:
        self._lease_lost = True
        self.request_stop("the lease was lost")

    # ---------------------------------------------------------------- both modes

    def _triggers(self) -> dict[str, LocalCron]:
        """The jobs' triggers; every cron key in ``[schedule]`` is checked."""
        from forecasts.scheduler.settings import CRON_KEYS
        from forecasts.scheduler.triggers import triggers

        every = triggers(self.runtime.settings.schedule, CRON_KEYS)
        return {job.id: every[job.id] for job in self.jobs}

    def _take_lease(self) -> tuple[leases.Lease, leases.Heartbeat]:
        lease = leases.acquire(self.runtime)
        fields = {
            "database": self.runtime.database_label,
            "host": lease.me.host,
            "pid": lease.me.pid,
        }
        log.info(
            "holding the scheduler lease on %s (%s)",
            self.runtime.database_label,
            lease.me,
            extra={"event": "lease.acquired", "fields": fields},
        )
        if lease.replaced is not None:
            log.warning(
                "took the lease over from a scheduler that stopped without releasing it (%s)",
                lease.replaced,
                extra={"event": "lease.replaced", "fields": {"previous": str(lease.replaced)}},
            )
        heartbeat = leases.Heartbeat(self.runtime, lease, on_lost=self._lost).start()
        for job in runs.interrupt_stale(self.runtime):
            log.warning(
                "%s: its last run was cut short (the scheduler stopped during it)",
                job,
                extra={"event": "job.interrupted", "fields": {"job": job}},
            )
        return lease, heartbeat

    def _give_back(self, lease: leases.Lease, heartbeat: leases.Heartbeat) -> None:
        heartbeat.stop()
        if self._lease_lost:
            return
        try:
            leases.release(self.runtime, lease)
        except Exception as e:  # it expires by itself
            log.warning(
                "could not release the scheduler lease (it expires in %s): %s",
                leases.TTL,
                e,
                extra={"event": "lease.release_failed"},
            )

    # ---------------------------------------------------------------- --once

    def run_once(self) -> OnceResult:
        """Run every job once, in order, unless asked to stop; then stop."""
        self._triggers()  # a bad [schedule] is refused in both modes
        lease, heartbeat = self._take_lease()
        result = OnceResult()
        try:
            for job in self.jobs:
                if self.stopping:
                    result.stopped = True
                    break
                result.outcomes.append((job.id, execute(job.id, self.runtime)))
        finally:
            self._give_back(lease, heartbeat)
        result.lease_lost = self._lease_lost
        log.info(
            "ran %d of %d jobs%s",
            len(result.outcomes),
            len(self.jobs),
            f"; failed: {', '.join(result.failed)}" if result.failed else "",
            extra={
                "event": "scheduler.once_done",
                "fields": {"ran": [j for j, _ in result.outcomes], "failed": result.failed},
            },
        )
        return result

    # ---------------------------------------------------------------- forever

    def run_forever(self) -> ForeverResult:
        """Run the jobs on their schedules until asked to stop."""
        from apscheduler.events import EVENT_SCHEDULER_STARTED
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.blocking import BlockingScheduler

        triggers = self._triggers()
        lease, heartbeat = self._take_lease()
        try:
            store = job_store(self.runtime)
            scheduler = BlockingScheduler(
                timezone=self.runtime.settings.schedule.zone,
                jobstores={"default": store},
                executors={"default": ThreadPoolExecutor(max_workers=len(self.jobs))},
                job_defaults=JOB_DEFAULTS,
            )
            install_jobs(
                scheduler,
                store,
                self.jobs,
                triggers,
                self._job_kwargs(),
                resume=runs.to_resume(self.runtime),
            )
            scheduler.add_listener(lambda _e: self._started(), EVENT_SCHEDULER_STARTED)
            self._scheduler = scheduler
            if not self.stopping:
                scheduler.start()  # returns once shut down
            for thread in list(self._shutdowns):
                thread.join()  # the running jobs have finished
        finally:
            self._give_back(lease, heartbeat)
        log.info("stopped", extra={"event": "scheduler.stopped"})
        reason = "the lease was lost" if self._lease_lost else "asked to stop"
        return ForeverResult(reason, lease_lost=self._lease_lost)

    def _job_kwargs(self) -> dict[str, str | None]:
        config = self.runtime.config
        return {
            "config": str(config) if config is not None else None,
            "database_url": self.runtime.database_url,
        }

    def _started(self) -> None:
        """The scheduler is running: say when each job runs next; stop at once if asked
        to while it was starting."""
        assert self._scheduler is not None
        upcoming = {j.id: clock.iso(j.next_run_time) for j in self._scheduler.get_jobs()}
        log.info(
            "scheduler started on %s (time zone %s): %s",
            self.runtime.database_label,
            self.runtime.settings.schedule.timezone,
            ", ".join(f"{job} next at {when}" for job, when in upcoming.items()),
            extra={"event": "scheduler.started", "fields": {"next_runs": upcoming}},
        )
        if self.stopping:
            self._shut_down_if_started()

"""One scheduler per database: a lease row, renewed by a heartbeat.

``acquire`` takes the lease in one atomic statement on SQLite and PostgreSQL alike: an
``INSERT ... ON CONFLICT DO NOTHING`` when nobody holds it, else a compare-and-set
``UPDATE`` that replaces a holder whose lease has expired (no heartbeat for ``TTL``) or
who is known to be gone (``forecasts.process.is_gone``: a process on this machine that
was killed). Of two schedulers starting at once, one gets the lease and the other is
refused with ``SchedulerBusy``, naming the holder.

While it runs, the holder renews the lease every ``HEARTBEAT`` (``Heartbeat``, a thread);
a renewal that finds the lease taken means this scheduler must stop. On a clean stop it
releases the lease. Times are the application clock's: on PostgreSQL shared by several
machines, their clocks must agree to well within ``TTL`` (NTP does).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session, col

from forecasts import clock, process
from forecasts.errors import ForecastsError
from forecasts.scheduler.models import SchedulerLease

if TYPE_CHECKING:
    from forecasts.runtime import Runtime

#: The lease's row (one per database).
NAME = "scheduler"
#: A lease not renewed for this long has expired: its holder is taken to be gone.
TTL = dt.timedelta(seconds=120)
#: How often the holder renews it: a few renewals may fail before it expires.
HEARTBEAT = dt.timedelta(seconds=30)

log = logging.getLogger("forecasts.scheduler")


@dataclass(frozen=True)
class Holder:
    """Who holds the lease, as recorded."""

    host: str
    pid: int
    since: dt.datetime
    heartbeat: dt.datetime
    expires_at: dt.datetime
    process: str

    def __str__(self) -> str:
        return f"host {self.host}, pid {self.pid}, since {clock.iso(self.since)}"

    @classmethod
    def of(cls, row: SchedulerLease) -> Holder:
        return cls(row.host, row.pid, row.since, row.heartbeat, row.expires_at, row.process)


class SchedulerBusy(ForecastsError):
    """Another scheduler holds the lease on this database."""

    def __init__(self, holder: Holder) -> None:
        super().__init__(
            f"another scheduler is running on this database ({holder}; its lease runs to "
            f"{clock.iso(holder.expires_at)} unless renewed); stop it first, or run "
            "`forecasts jobs` to see what it does"
        )
        self.holder = holder


@dataclass(frozen=True)
class Lease:
    """A lease this process holds. ``replaced``: the holder whose lease it took over
    (expired, or known to be gone), if any."""

    token: str
    me: process.ProcessId
    since: dt.datetime
    replaced: Holder | None = None


def _insert(session: Session) -> Any:
    table = SchedulerLease.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def acquire(runtime: Runtime, *, me: process.ProcessId | None = None) -> Lease:
    """Take the lease, or raise ``SchedulerBusy`` naming its live holder."""
    me = me or process.this_process()
    token = uuid.uuid4().hex
    with runtime.session(write=True) as s:
        now = clock.now()
        row = {
            "name": NAME,
            "token": token,
            "host": me.host,
            "pid": me.pid,
            "process": me.key,
            "since": now,
            "heartbeat": now,
            "expires_at": now + TTL,
        }
        inserted = s.execute(
            _insert(s)
            .values(row)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(col(SchedulerLease.token))
        ).first()
        if inserted is not None:
            return Lease(token, me, now)
        held = s.execute(sa.select(SchedulerLease).where(col(SchedulerLease.name) == NAME))
        current = held.scalar_one()
        holder = Holder.of(current)
        if holder.expires_at > now and not process.is_gone(
            process.ProcessId.from_key(holder.process)
        ):
            raise SchedulerBusy(holder)
        taken = s.execute(
            sa.update(SchedulerLease)
            .where(col(SchedulerLease.name) == NAME, col(SchedulerLease.token) == current.token)
            .values(row)
            .returning(col(SchedulerLease.token))
        ).first()
        if taken is None:  # another scheduler took it between our read and update
            s.expire_all()
            now_held = s.execute(
                sa.select(SchedulerLease).where(col(SchedulerLease.name) == NAME)
            ).scalar_one()
            raise SchedulerBusy(Holder.of(now_held))
        return Lease(token, me, now, replaced=holder)


def renew(runtime: Runtime, lease: Lease) -> bool:
    """Extend the lease; False when it is no longer ours (it expired and was taken)."""
    with runtime.session(write=True) as s:
        now = clock.now()
        row = s.execute(
            sa.update(SchedulerLease)
            .where(col(SchedulerLease.name) == NAME, col(SchedulerLease.token) == lease.token)
            .values(heartbeat=now, expires_at=now + TTL)
            .returning(col(SchedulerLease.token))
        ).first()
    return row is not None


def release(runtime: Runtime, lease: Lease) -> None:
    """Give the lease up (if it is still ours)."""
    with runtime.session(write=True) as s:
        s.execute(
            sa.delete(SchedulerLease).where(
                col(SchedulerLease.name) == NAME, col(SchedulerLease.token) == lease.token
            )
        )


def holder(session: Session) -> Holder | None:
    """Who holds the lease now, or None (also when it has expired)."""
    row = session.execute(
        sa.select(SchedulerLease).where(col(SchedulerLease.name) == NAME)
    ).scalar_one_or_none()
    if row is None or row.expires_at <= clock.now():
        return None
    return Holder.of(row)


class Heartbeat:
    """Renews ``lease`` every ``interval`` in a thread until ``stop``; calls ``on_lost``
    once if a renewal finds the lease taken. A renewal that fails (the database is
    unreachable) is logged and tried again at the next beat."""

    def __init__(
        self,
        runtime: Runtime,
        lease: Lease,
        *,
        on_lost: Callable[[], None],
        interval: dt.timedelta = HEARTBEAT,
    ) -> None:
        self.runtime = runtime
        self.lease = lease
        self.on_lost = on_lost
        self.interval = interval.total_seconds()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                ours = renew(self.runtime, self.lease)
            except Exception as e:
                log.warning(
                    "could not renew the scheduler lease (trying again in %g s): %s",
                    self.interval,
                    e,
                    extra={"event": "lease.renew_failed"},
                )
                continue
            if not ours:
                log.error(
                    "the scheduler lease was taken by another scheduler; stopping",
                    extra={"event": "lease.lost"},
                )
                self.on_lost()
                return

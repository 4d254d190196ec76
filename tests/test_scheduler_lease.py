"""One scheduler per database: the lease is taken atomically (of several processes
starting at once, exactly one gets it), refused with the holder's host, pid and start
while it is renewed, taken over once it expires or at once when its holder is known to
be dead, and lost by a holder that stopped renewing it. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import threading

import pytest
from freezegun import freeze_time

from forecasts.process import ProcessId, this_process
from forecasts.runtime import Runtime
from forecasts.scheduler import lease
from forecasts.scheduler.lease import Heartbeat, SchedulerBusy, acquire, release, renew
from schedhelp import WAIT, count

ELSEWHERE = ProcessId("other-host", 4242)  # on another machine: never judged dead


@pytest.fixture
def runtime(db_url):
    return Runtime(database_url=db_url)


def test_the_first_takes_it_and_a_second_is_refused_naming_the_holder(runtime):
    with freeze_time("2027-03-01 09:00:00"):
        mine = acquire(runtime, me=ELSEWHERE)
        assert mine.replaced is None
    with freeze_time("2027-03-01 09:01:00"), pytest.raises(SchedulerBusy) as info:
        acquire(runtime)
    message = str(info.value)
    assert "another scheduler is running on this database (host other-host, pid 4242, " in message
    assert "since 2027-03-01T09:00:00Z" in message
    assert "\n" not in message
    assert info.value.exit_code == 1


def test_an_expired_lease_is_taken_over_and_its_old_holder_learns_it_lost(runtime):
    with freeze_time("2027-03-01 09:00:00") as frozen:
        old = acquire(runtime, me=ELSEWHERE)
        frozen.tick(lease.TTL - dt.timedelta(seconds=1))
        with pytest.raises(SchedulerBusy):
            acquire(runtime)
        frozen.tick(dt.timedelta(seconds=1))
        new = acquire(runtime)
        assert new.replaced is not None
        assert (new.replaced.host, new.replaced.pid) == ("other-host", 4242)
        assert renew(runtime, old) is False  # the old holder finds out at its next beat
        assert renew(runtime, new) is True
        release(runtime, old)  # releasing what is no longer yours changes nothing
        assert count(str(runtime.settings.database.url), "scheduler_lease") == 1


def test_each_heartbeat_extends_the_lease(runtime):
    with freeze_time("2027-03-01 09:00:00") as frozen:
        mine = acquire(runtime, me=ELSEWHERE)
        for _ in range(5):  # ten minutes of beats, each well inside the TTL
            frozen.tick(lease.HEARTBEAT * 4)
            assert renew(runtime, mine)
        with pytest.raises(SchedulerBusy):
            acquire(runtime)
        frozen.tick(lease.TTL)
        acquire(runtime)


def test_a_released_lease_is_free_at_once(runtime):
    mine = acquire(runtime, me=ELSEWHERE)
    release(runtime, mine)
    assert acquire(runtime).replaced is None


HOLD = textwrap.dedent(
    """
    import os, sys
    from forecasts.runtime import Runtime
    from forecasts.scheduler.lease import SchedulerBusy, acquire

    runtime = Runtime(database_url=sys.argv[1])
    with runtime.session():  # connect before the start line, so all start together
        pass
    print("ready", flush=True)
    while sys.stdin.readline():  # each line a start line: the test writes it to all at once
        try:
            acquire(runtime)
        except SchedulerBusy as e:
            print("busy", e.holder.pid, flush=True)
        else:
            print("acquired", os.getpid(), flush=True)
    """
)


def _holders(db_url, n):  # type: ignore[no-untyped-def]
    """``n`` processes that each take the lease when ``go`` is called, say whether they
    got it, and hold it until their stdin closes."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", HOLD, db_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    for p in procs:
        assert p.stdout.readline() == "ready\n", p.stderr.read()  # type: ignore[union-attr]

    def go() -> None:
        for p in procs:
            p.stdin.write("go\n")  # type: ignore[union-attr]
            p.stdin.flush()  # type: ignore[union-attr]

    return go, procs


def test_of_four_processes_starting_at_once_exactly_one_gets_it(db_url):
    """Twice: for a free lease (one insert wins), then for the winner's lease expired
    (one compare-and-set takeover wins)."""
    import sqlalchemy as sa

    from forecasts.scheduler.models import SchedulerLease

    go, procs = _holders(db_url, 4)
    try:
        for lease_is in ("free", "expired"):
            if lease_is == "expired":
                runtime = Runtime(database_url=db_url)
                with runtime.session(write=True) as s:
                    s.execute(
                        sa.update(SchedulerLease).values(
                            expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
                        )
                    )
            go()
            said = [p.stdout.readline().split() for p in procs]  # type: ignore[union-attr]
            winners = [int(pid) for word, pid in said if word == "acquired"]
            assert len(winners) == 1, (lease_is, said)
            assert {int(pid) for word, pid in said if word == "busy"} == set(winners), said
    finally:
        for p in procs:
            p.communicate(timeout=WAIT)
    assert all(p.returncode == 0 for p in procs), [p.stderr for p in procs]


def test_a_holder_killed_on_this_machine_is_replaced_at_once_a_live_one_is_not(db_url):
    runtime = Runtime(database_url=db_url)
    go, [holder] = _holders(db_url, 1)
    go()
    try:
        assert holder.stdout.readline().split() == ["acquired", str(holder.pid)]  # type: ignore[union-attr]
        with pytest.raises(SchedulerBusy):
            acquire(runtime)  # alive: refused, though on this machine
    finally:
        holder.kill()
        holder.communicate(timeout=WAIT)
    took = acquire(runtime)  # well before its lease would expire
    assert took.replaced is not None and took.replaced.pid == holder.pid


def test_a_heartbeat_that_finds_the_lease_taken_stops_the_scheduler(runtime):
    mine = acquire(runtime, me=ELSEWHERE)
    # Another scheduler takes it (as if ours had not renewed in time).
    import sqlalchemy as sa

    from forecasts.scheduler.models import SchedulerLease

    with runtime.session(write=True) as s:
        s.execute(sa.update(SchedulerLease).values(token="someone-else"))
    lost = threading.Event()
    beat = Heartbeat(runtime, mine, on_lost=lost.set, interval=dt.timedelta(seconds=0.01)).start()
    try:
        assert lost.wait(WAIT)
    finally:
        beat.stop()


def test_this_process_is_who_holds_it(runtime):
    mine = acquire(runtime)
    assert mine.me == this_process()
    with runtime.session() as s:
        holder = lease.holder(s)
    assert holder is not None and holder.pid == mine.me.pid

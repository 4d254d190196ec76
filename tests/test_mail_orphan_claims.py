"""A message claimed by a process that died mid-send is sent by the next delivery run at
once, not after its claim expires; a claim held by a live process, or by one on another
machine, is left alone until it expires."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys

import pytest
import sqlalchemy as sa

from forecasts import clock
from forecasts.mail import outbox
from forecasts.mail.message import address, build_message
from forecasts.mail.models import OutboxMessage
from forecasts.mail.settings import parse_address
from forecasts.process import ProcessId, this_process
from forecasts.runtime import Runtime


@pytest.fixture
def rt(db_url):
    runtime = Runtime(database_url=db_url)
    yield runtime
    runtime.close()


def dead_process() -> ProcessId:
    """The identity of a process on this machine that has exited (and been reaped)."""
    child = subprocess.run(
        [sys.executable, "-c", "print(open('/proc/self/stat').read())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stat = child.stdout
    pid = int(stat.split()[0])
    started = stat[stat.rfind(")") + 2 :].split()[19]
    return dataclasses.replace(this_process(), pid=pid, started=started)


def claimed_by(rt: Runtime, key: str, who: ProcessId) -> None:
    """``key`` queued, then claimed by ``who`` for the next seven minutes."""
    msg = build_message(
        sender=parse_address("forecasts <forecasts@example.org>"),
        to=[address("ann@example.org")],
        subject="Hello",
        text="Hello\n",
        html="<p>Hello</p>",
    )
    with rt.session(write=True) as s:
        outbox.enqueue(s, key=key, message=msg)
        s.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.key == key)
            .values(
                status="sending",
                attempts=1,
                claim_token="t" * 32,
                claimed_until=clock.now() + dt.timedelta(minutes=7),
                claimed_by=who.key,
            )
        )


def statuses(rt: Runtime) -> dict[str, str]:
    with rt.session() as s:
        return {e.key: e.status for e in outbox.list_outbox(s)}


@pytest.mark.skipif(not this_process().started, reason="needs Linux's /proc")
def test_a_dead_claimants_message_is_sent_at_once_the_others_wait(rt, tmp_path):
    claimed_by(rt, "k:dead", dead_process())
    claimed_by(rt, "k:alive", this_process())
    claimed_by(rt, "k:elsewhere", ProcessId("other-host", 1234))

    report = outbox.deliver(rt)

    assert report.released == ["k:dead"]
    assert report.sent == ["k:dead"]
    assert "1 taken over from a sender that stopped" in report.line()
    assert statuses(rt) == {"k:dead": "sent", "k:alive": "sending", "k:elsewhere": "sending"}
    with rt.session() as s:
        [entry] = [e for e in outbox.list_outbox(s) if e.key == "k:dead"]
    assert entry.attempts == 2
    assert entry.last_error is not None and "stopped mid-send" in entry.last_error
    assert len(list((tmp_path / "outbox" / "new").iterdir())) == 1

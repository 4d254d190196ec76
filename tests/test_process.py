"""A process is called gone only when that is certain: on this machine, and its pid is
free, a zombie, or reused by a newer process. Anything else (alive, another machine, an
identity that says nothing) is never called gone."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest

from forecasts.process import ProcessId, is_gone, this_process

linux_only = pytest.mark.skipif(not this_process().started, reason="needs Linux's /proc")


def test_an_identity_survives_its_database_column():
    me = this_process()
    assert ProcessId.from_key(me.key) == me
    assert me.pid == os.getpid()
    assert str(me) == f"host {me.host}, pid {me.pid}"
    for junk in (None, "", "a|b", "host|notapid|x|y|z"):
        assert ProcessId.from_key(junk) is None


def test_this_process_is_alive():
    assert not is_gone(this_process())


@linux_only
def test_a_process_is_alive_until_it_exits_then_gone_as_a_zombie_and_once_reaped():
    script = "import sys; print(open('/proc/self/stat').read(), flush=True); sys.stdin.read()"
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    stat = child.stdout.readline()  # type: ignore[union-attr]
    started = stat[stat.rfind(")") + 2 :].split()[19]
    who = dataclasses.replace(this_process(), pid=child.pid, started=started)
    assert not is_gone(who)
    child.stdin.close()  # type: ignore[union-attr]
    # Exited but not yet waited for: a zombie, gone all the same.
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
    assert is_gone(who)
    child.wait()
    child.stdout.close()  # type: ignore[union-attr]
    assert is_gone(who)


@linux_only
def test_a_pid_now_used_by_another_process_is_gone():
    reused = dataclasses.replace(this_process(), started="1")  # this pid, another start time
    assert is_gone(reused)


def test_a_process_elsewhere_or_unknown_is_never_gone():
    me = this_process()
    assert not is_gone(None)
    assert not is_gone(ProcessId("other-host", 99999999))  # no boot id: unknown system
    assert not is_gone(dataclasses.replace(me, pid=99999999, boot="another-boot"))
    assert not is_gone(dataclasses.replace(me, pid=99999999, pid_ns="pid:[1]"))

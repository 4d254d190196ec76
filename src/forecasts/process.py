"""Which process holds something, and whether that process is known to be gone.

The scheduler's lease and the outbox's claims on messages name the process that holds
them, so that a process on the same machine can tell that the holder died (killed,
crashed, the machine's OOM killer) and take over at once, instead of waiting for the
hold to expire.

"Known to be gone" is decided only where it is certain: on Linux, for a holder on the
same kernel (boot id) and in the same pid namespace, whose pid no longer exists, is a
zombie, or now belongs to a process that started at another time (a reused pid). Any
other holder (another machine, another container, an unknown system) is never called
gone; its hold lapses when it expires.
"""

from __future__ import annotations

import functools
import os
import socket
from dataclasses import dataclass
from pathlib import Path

#: Fields of a process key, joined with this (host names cannot contain it).
_SEP = "|"


@dataclass(frozen=True)
class ProcessId:
    """A process, as recorded by what it holds: ``host`` and ``pid`` for people to read;
    ``boot``, ``pid_ns`` and ``started`` (Linux only, else empty) to decide liveness."""

    host: str
    pid: int
    boot: str = ""
    pid_ns: str = ""
    started: str = ""

    @property
    def key(self) -> str:
        """The whole identity as one string, for a database column."""
        return _SEP.join((self.host, str(self.pid), self.boot, self.pid_ns, self.started))

    @classmethod
    def from_key(cls, key: str | None) -> ProcessId | None:
        """The identity stored by ``key``, or None if it is not one."""
        parts = (key or "").split(_SEP)
        if len(parts) != 5 or not parts[1].isdigit():
            return None
        host, pid, boot, pid_ns, started = parts
        return cls(host, int(pid), boot, pid_ns, started)

    def __str__(self) -> str:
        return f"host {self.host}, pid {self.pid}"


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return ""


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks since boot) of ``pid`` from /proc, or None when
    there is no such process."""
    text = _read(f"/proc/{pid}/stat")
    if not text:
        return None
    # The command name is in parentheses and may hold spaces or parentheses itself.
    fields = text[text.rfind(")") + 2 :].split()
    return (fields[0], fields[19]) if len(fields) > 19 else None


def _exists(pid: int) -> bool:
    """Whether ``pid`` exists, for when /proc hides it (``hidepid``: another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@functools.cache
def _machine() -> tuple[str, str]:
    """(boot id, pid namespace) of this process, or empty strings off Linux."""
    try:
        pid_ns = os.readlink("/proc/self/ns/pid")
    except OSError:
        pid_ns = ""
    return _read("/proc/sys/kernel/random/boot_id"), pid_ns


def this_process() -> ProcessId:
    """The identity of the calling process."""
    boot, pid_ns = _machine()
    pid = os.getpid()
    stat = _stat(pid) if boot and pid_ns else None
    return ProcessId(socket.gethostname(), pid, boot, pid_ns, stat[1] if stat else "")


def is_gone(holder: ProcessId | None) -> bool:
    """True only when ``holder`` certainly no longer runs (see the module docstring)."""
    if holder is None or not holder.started:
        return False
    boot, pid_ns = _machine()
    if not boot or (holder.boot, holder.pid_ns) != (boot, pid_ns):
        return False
    stat = _stat(holder.pid)
    if stat is None:
        return not _exists(holder.pid)
    state, started = stat
    return state in ("Z", "X") or started != holder.started

"""Running the CLI as if at a terminal of a given width, or into a pipe.

rich decides what a terminal is (a tty, or ``TTY_COMPATIBLE=1``) and how wide it is
(``COLUMNS``), so tests set those. ``NO_COLOR`` keeps colour out; bold may remain, and
``plain`` removes it so the text is deterministic.
"""

from __future__ import annotations

import re

import pytest

_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
#: A foreground colour (30-37, 90-97, or 38;... for 256 and true colour).
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7])[;m]")


def plain(text: str) -> str:
    """``text`` without escape codes."""
    return _ESCAPE.sub("", text)


def as_terminal(
    monkeypatch: pytest.MonkeyPatch, columns: int = 100, *, colour: bool = False
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    if colour:
        monkeypatch.delenv("NO_COLOR", raising=False)
        monkeypatch.setenv("TERM", "xterm-256color")
    else:
        monkeypatch.setenv("NO_COLOR", "1")


def as_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)

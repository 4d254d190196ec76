"""Headless Chromium for the tests that look at rendered HTML (the report, the digest).

CI installs Debian's chromium (`.ci/run`); elsewhere these tests skip with the reason.
The flags are the ones that keep Chromium off this machine's closed network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"

requires_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"headless Chromium is not installed at {CHROMIUM} (apt-get install chromium)",
)


def screenshot(page: Path, shot: Path, *, width: int, height: int) -> None:
    """Render ``page`` (a local file) and save a ``width`` x ``height`` PNG at ``shot``."""
    profile = tempfile.mkdtemp()
    try:
        subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--screenshot={shot}",
                f"--window-size={width},{height}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)

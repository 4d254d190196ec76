"""Read commands load only what they need: no numpy, plotting, HTTP or templates.

Speed itself is measured by benchmarks/bench_startup.py; this guards the cause.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("numpy", "matplotlib", "httpx", "feedparser", "jinja2", "alembic", "apscheduler")


@pytest.fixture
def forecast_db(cli, db_url: str) -> str:
    """A database with a question of each type, each with human forecasts (so the crowd
    is computed) and a resolution."""
    for args in (
        ("people", "add", "ann"),
        ("people", "add", "bob", "--reviewer"),
        ("add", "--id", "bin", "--title", "B?", "--criteria", "c", "--opens", "2020-01-01",
         "--closes", "2030-01-01", "--resolve-by", "2030-02-01"),
        ("add", "--id", "cho", "--title", "C?", "--criteria", "c", "--type", "choice",
         "--option", "x", "--option", "y", "--opens", "2020-01-01",
         "--closes", "2030-01-01", "--resolve-by", "2030-02-01"),
        ("add", "--id", "num", "--title", "N?", "--criteria", "c", "--type", "numeric",
         "--min", "0", "--max", "10", "--opens", "2020-01-01",
         "--closes", "2030-01-01", "--resolve-by", "2030-02-01"),
        ("predict", "bin", "0.6", "--by", "ann"),
        ("predict", "bin", "0.7", "--by", "bob"),
        ("predict", "cho", "x=0.3,y=0.7", "--by", "ann"),
        ("predict", "num", "p10=1,p50=4,p90=8", "--by", "ann"),
    ):  # fmt: skip
        r = cli(*args)
        assert r.exit_code == 0, r.output
    return db_url


@pytest.mark.parametrize(
    "args",
    [("list",), ("list", "--json"), ("show", "bin"), ("show", "num"), ("due",), ("people", "list")],
)
def test_read_commands_import_nothing_heavy(forecast_db: str, args: tuple[str, ...]) -> None:
    code = (
        "import sys, json\n"
        "from forecasts.cli import app\n"
        f"try:\n    app({['--db', forecast_db, *args]!r})\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == [], f"`forecasts {' '.join(args)}` imported {loaded}"

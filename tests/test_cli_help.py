"""`forecasts --help` lists every command and stays fast: no heavy imports at start-up."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = (
    "sqlmodel",
    "sqlalchemy",
    "alembic",
    "matplotlib",
    "numpy",
    "httpx",
    "feedparser",
    "jinja2",
    "pydantic",
)


def test_help_lists_every_top_level_command(cli):
    r = cli("--help")
    assert r.exit_code == 0
    for name in ("init", "db", "sync", "add", "list", "show", "due", "people", "predict",
                 "resolve", "prompts", "outbox", "export", "import", "news", "report"):  # fmt: skip
        assert f"\n  {name} " in r.stdout, f"{name} missing from --help"


def test_help_imports_nothing_heavy():
    code = (
        "import sys, json\n"
        "from forecasts.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == [], f"`forecasts --help` imported {loaded}; import them inside commands"


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (
            ("list", "--bogus"),
            "Error: No such option: --bogus. See `forecasts list --help`.\n",
        ),
        (
            ("news", "list", "--limit", "-1"),
            "Error: Invalid value for '--limit': Input should be greater than or equal to 0. "
            "See `forecasts news list --help`.\n",
        ),
        (
            ("predict", "q", "0.5"),
            "Error: Missing option '--by'. See `forecasts predict --help`.\n",
        ),
    ],
)
def test_usage_errors_are_one_punctuated_line(cli, args, stderr):
    r = cli(*args)
    assert (r.exit_code, r.stdout, r.stderr) == (2, "", stderr)


@pytest.mark.parametrize(
    ("args", "wanted", "unwanted"),
    [
        (("add",), "--tag TAG", "<list[str]>"),
        (("news", "list"), "--since DATE", "[[ID]]"),
    ],
)
def test_help_shows_readable_placeholders(cli, args, wanted, unwanted):
    out = cli(*args, "--help").stdout
    assert wanted in out
    assert unwanted not in out


@pytest.mark.parametrize("args", [("people",), ("news",), ("db",)])
def test_a_bare_group_prints_its_help_not_an_error(args):
    from conftest import make_cli

    r = make_cli(None)(*args)  # no --db either (`forecasts` alone is the dashboard)
    assert r.exit_code == 2
    assert r.stderr.startswith(f"Usage: forecasts {' '.join(args)}".rstrip() + " [OPTIONS] COMMAND")
    assert "Error" not in r.stderr
    assert "See `" not in r.stderr

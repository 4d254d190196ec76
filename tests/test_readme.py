"""The README documents every command, and its Quick start commands are the real ones."""

from __future__ import annotations

import re

import pytest

from conftest import PG_URL, REPO


def _all_commands() -> list[str]:
    from typer.main import get_command

    from forecasts.cli import app

    root = get_command(app)
    names: list[str] = []

    def walk(cmd, prefix: str) -> None:  # type: ignore[no-untyped-def]
        sub = getattr(cmd, "commands", None)
        if not sub:
            names.append(prefix)
            return
        for name, child in sub.items():
            walk(child, f"{prefix} {name}".strip())

    walk(root, "")
    return names


def test_every_command_is_in_the_command_reference():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    reference = readme.split("## Command reference", 1)[1].split("\n## ", 1)[0]
    commands = _all_commands()
    assert len(commands) >= 14
    missing = [c for c in commands if f"`forecasts {c}" not in reference]
    assert missing == [], f"commands missing from README command reference: {missing}"


def test_every_command_has_help_text():
    from typer.main import get_command

    from forecasts.cli import app

    root = get_command(app)
    for name in _all_commands():
        cmd = root
        for part in name.split():
            cmd = cmd.commands[part]  # type: ignore[attr-defined]
        assert (cmd.help or "").strip(), f"`forecasts {name}` has no --help text"


def test_quick_start_has_the_two_commands():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    for marker in ("<!-- main-command -->", "<!-- test-command -->"):
        assert marker in quick
        line = quick.split(marker, 1)[1].strip().splitlines()[0]
        assert line.startswith("python3 -m venv .venv && ")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "<!-- test-command -->" in ci, ".ci/run must run the README's test command"


def test_docs_links_resolve():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(((?:docs/)?[\w./-]+\.(?:md|yaml))\)", readme):
        assert (REPO / target).exists(), f"README links to missing {target}"


def _main_command_steps() -> list[list[str]]:
    """The `forecasts` commands of the README's main command, in order."""
    import shlex

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    line = readme.split("<!-- main-command -->", 1)[1].strip().splitlines()[0]
    steps = []
    for part in line.split("&&"):
        words = shlex.split(part)
        if words and words[0] == ".venv/bin/forecasts":
            steps.append(words[1:])
    return steps


@pytest.mark.skipif(bool(PG_URL), reason="the main command's embedded default is SQLite")
def test_the_main_command_runs_every_job_and_is_safe_to_run_again(tmp_path):
    """The README's main command after pip, in a fresh folder, twice. News sources are
    switched off: tests never reach the internet (offline, the pull reports each
    unreachable source as a warning, which test_scheduler_run_once covers)."""
    import shutil

    from conftest import make_cli

    steps = _main_command_steps()
    assert steps == [["init"], ["run", "--once"]]
    shutil.copy(REPO / "questions.yaml", tmp_path / "questions.yaml")
    (tmp_path / "forecasts.toml").write_text("[news]\ngdelt = false\nfeeds = []\n")
    cli = make_cli(None)
    for _ in range(2):
        for words in steps:
            r = cli(*words)
            assert r.exit_code == 0, (words, r.output)
        assert "ran 5 of 5 jobs" in r.stderr
        assert (tmp_path / "reports" / "report.html").is_file()


def test_the_tour_runs_real_commands_with_real_options() -> None:
    """Every `$ forecasts ...` line of the README parses as the command line it shows."""
    import shlex

    from typer.main import get_command

    from forecasts.cli import app

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    tour = readme.split("## A five-minute tour", 1)[1].split("\n## ", 1)[0]
    lines = [line[2:] for line in tour.splitlines() if line.startswith("$ forecasts")]
    assert len(lines) >= 10
    root = get_command(app)
    for line in lines:
        words = shlex.split(line.split(" | ")[0])[1:]
        ctx = root.make_context("forecasts", list(words), resilient_parsing=True)
        cmd, path = root, []
        for w in words:
            sub = getattr(cmd, "commands", {}).get(w)
            if sub is None:
                break
            cmd, path = sub, [*path, w]
            ctx = cmd.make_context(w, words[len(path) :], parent=ctx)  # raises on a bad option
        assert path or words == [], f"README tour: unknown command in {line!r}"

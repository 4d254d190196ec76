"""docs/cli.md is every command's --help, and stays so."""

from __future__ import annotations

from conftest import REPO


def test_docs_cli_md_is_up_to_date() -> None:
    from forecasts.cli.docs import render

    on_disk = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert on_disk == render(), (
        "docs/cli.md is out of date: run `.venv/bin/python -m forecasts.cli.docs > docs/cli.md`"
    )


def test_docs_cli_md_has_every_command() -> None:
    from forecasts.cli.docs import commands

    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    paths = [path for path, _, _ in commands()]
    assert len(paths) >= 25
    for path in paths:
        assert f"\n## {path}\n" in text
        assert f"Usage: {path} " in text

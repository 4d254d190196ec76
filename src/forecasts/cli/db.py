"""`forecasts init` and `forecasts db ...`: create and upgrade the database."""

from __future__ import annotations

from pathlib import Path

import typer

from forecasts.cli._common import console, echo, runtime, sync_summary

app = typer.Typer(help="Database schema: upgrade it, or show its revision.", no_args_is_help=True)


def _schema_line(before: str | None, after: str) -> str:
    url = runtime().database_label
    if before is None:
        return f"Created database {url} (schema {after})."
    if before != after:
        return f"Upgraded database {url} from schema {before} to {after}."
    return f"Database {url} is up to date (schema {after})."


def init(
    questions: Path | None = typer.Option(
        None,
        "--questions",
        metavar="PATH",
        help="Questions file to sync [default: ./questions.yaml if present].",
    ),
) -> None:
    """Create or upgrade the database, then sync ./questions.yaml if present."""
    from forecasts.domain.setup import initialise

    result = initialise(runtime(), questions=questions)
    echo(_schema_line(result.schema.before, result.schema.after))
    if result.sync is not None:
        echo(f"Synced {result.questions_file}: {sync_summary(result.sync)}.")
    out = console()
    if result.schema.created and out.is_terminal:  # a person's first run: where to go next
        from forecasts.tables import print_wrapped

        print_wrapped(out, next_steps(invoked_as()), style="dim")


def next_steps(command: str) -> str:
    """After a first `init`, at a terminal: where to go next, ``command`` being how the
    person runs forecasts."""
    return (
        f"Next: `{command}` for a summary, `{command} list` for the questions, "
        f"`{command} people add HANDLE` to start forecasting; `{command} --help` for the rest."
    )


def invoked_as() -> str:
    """``forecasts`` when that is on the PATH, else the path it was run by (e.g.
    ``.venv/bin/forecasts`` before the virtual environment is activated)."""
    import os
    import shutil
    import sys

    given = sys.argv[0]
    if os.path.basename(given) != "forecasts":
        return "forecasts"
    found = shutil.which("forecasts")
    if found and os.path.realpath(found) == os.path.realpath(given):
        return "forecasts"
    return given


@app.command("upgrade")
def upgrade() -> None:
    """Upgrade the database schema to this version's newest revision."""
    from forecasts.domain.setup import upgrade_schema

    change = upgrade_schema(runtime())
    if change.before is None:
        # `db upgrade` on an empty database: say so plainly, it is how imports start.
        echo(f"Upgraded database {runtime().database_label} from schema empty to {change.after}.")
    else:
        echo(_schema_line(change.before, change.after))


@app.command("current")
def current() -> None:
    """Show the database's schema revision and whether it is up to date."""
    from forecasts.domain.setup import schema_revision

    rev, head = schema_revision(runtime())
    if rev is None:
        echo(f"not initialised (this version's schema is {head}); run `forecasts init`")
        raise typer.Exit(1)
    state = "up to date" if rev == head else f"behind {head}; run `forecasts db upgrade`"
    echo(f"{rev} ({state})")

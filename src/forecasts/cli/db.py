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
        out.print(NEXT_STEPS, style="dim", markup=False)


#: After a first `init`, at a terminal.
NEXT_STEPS = (
    "Next: `forecasts` for a summary, `forecasts list` for the questions, "
    "`forecasts people add HANDLE` to start forecasting; `forecasts --help` for the rest."
)


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

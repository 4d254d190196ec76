"""`forecasts init` and `forecasts db ...`: create and upgrade the database."""

from __future__ import annotations

from pathlib import Path

import typer

from forecasts.cli._common import echo, get_engine, get_settings, sync_summary

app = typer.Typer(help="Database schema: upgrade it, or show its revision.", no_args_is_help=True)


def _upgrade() -> tuple[str | None, str]:
    from forecasts import db

    return db.upgrade(get_engine())


def init(
    questions: Path | None = typer.Option(
        None,
        "--questions",
        metavar="PATH",
        help="Questions file to sync [default: ./questions.yaml if present].",
    ),
) -> None:
    """Create or upgrade the database, then sync ./questions.yaml if present."""
    from forecasts import db
    from forecasts.db import safe_url, session_scope
    from forecasts.people import ensure_paper
    from forecasts.questions import sync_questions
    from forecasts.questions_file import load_questions_file

    path = questions if questions is not None else Path("questions.yaml")
    # Validate the file before touching the database, so bad input writes nothing.
    specs = load_questions_file(path) if (questions is not None or path.is_file()) else None
    engine = get_engine()
    before, after = db.upgrade(engine)
    url = safe_url(get_settings().database.url)
    if before is None:
        echo(f"Created database {url} (schema {after}).")
    elif before != after:
        echo(f"Upgraded database {url} from schema {before} to {after}.")
    else:
        echo(f"Database {url} is up to date (schema {after}).")
    with session_scope(engine, write=True) as session:
        ensure_paper(session)
        report = sync_questions(session, specs=specs) if specs is not None else None
    if report is not None:
        echo(f"Synced {path}: {sync_summary(report)}.")


@app.command("upgrade")
def upgrade() -> None:
    """Upgrade the database schema to this version's newest revision."""
    from forecasts.db import safe_url

    before, after = _upgrade()
    url = safe_url(get_settings().database.url)
    if before == after:
        echo(f"Database {url} is up to date (schema {after}).")
    else:
        echo(f"Upgraded database {url} from schema {before or 'empty'} to {after}.")


@app.command("current")
def current() -> None:
    """Show the database's schema revision and whether it is up to date."""
    from forecasts import db

    rev = db.current_revision(get_engine())
    head = db.head_revision()
    if rev is None:
        echo(f"not initialised (this version's schema is {head}); run `forecasts init`")
        raise typer.Exit(1)
    state = "up to date" if rev == head else f"behind {head}; run `forecasts db upgrade`"
    echo(f"{rev} ({state})")

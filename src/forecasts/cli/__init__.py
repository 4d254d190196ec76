"""The `forecasts` command line. Each noun has its own module; commands parse input,
call one core function, and print. Domain errors become one-line messages here, once."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from forecasts import __version__
from forecasts.cli import (
    _common,
    config,
    db,
    digest,
    doctor,
    forecasting,
    news,
    outbox,
    people,
    questions,
    report,
    review,
    run,
    transfer,
)
from forecasts.errors import ForecastsError

# Click's usage error (typer vendors click and exports only this subclass of it).
_UsageError: type[Exception] = typer.BadParameter.__mro__[1]


def _usage_error(e: Any) -> NoReturn:
    """One line, like every other error: what is wrong and where help is."""
    if type(e).__name__ == "NoArgsIsHelpError":  # a bare `forecasts` or group: just help
        typer.echo(e.format_message(), err=True)
        sys.exit(e.exit_code)
    message = e.format_message()
    if not message.endswith((".", "!", "?")):
        message += "."  # click ends some messages with a period, not all
    where = f" See `{e.ctx.command_path} --help`." if getattr(e, "ctx", None) else ""
    typer.echo(f"Error: {message}{where}", err=True)
    sys.exit(e.exit_code)


class _Group(TyperGroup):
    """Turns ForecastsError into `Error: ...` on stderr with the error's exit code, and
    click's multi-line usage errors into the same one-line form."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except _UsageError as e:
            _usage_error(e)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ForecastsError as e:
            typer.echo(f"Error: {_common.error_message(e)}", err=True)
            ctx.exit(e.exit_code)
        except _UsageError as e:
            _usage_error(e)

    def list_commands(self, ctx: Any) -> list[str]:
        # Keep the order commands were registered in: the order people use them.
        return list(self.commands)


app = typer.Typer(
    cls=_Group,
    name="forecasts",
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=True,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"forecasts {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    database: str | None = typer.Option(
        None,
        "--db",
        metavar="URL",
        help="Database URL [env FORECASTS_DATABASE_URL; default sqlite:///forecasts.db].",
    ),
    config: str | None = typer.Option(
        None,
        "--config",
        metavar="PATH",
        help="Config file [env FORECASTS_CONFIG; default ./forecasts.toml].",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Track forecasting questions from a paper: forecasts, resolutions, news, scores.

    Without a command: a short dashboard of the database (or how to create one).
    """
    _common.reset_runtime(database_url=database, config=config)
    if ctx.invoked_subcommand is None:
        from forecasts.cli.dashboard import show_dashboard

        show_dashboard()


app.command("init")(db.init)
app.add_typer(db.app, name="db")
app.command("sync")(questions.sync)
app.command("add")(questions.add)
app.command("list")(questions.list_)
app.command("show")(questions.show)
app.command("due")(questions.due)
app.add_typer(people.app, name="people")
app.command("predict")(forecasting.predict)
app.command("resolve")(forecasting.resolve)
app.command("prompts")(review.prompts)
app.command("digest")(digest.digest)
app.add_typer(outbox.app, name="outbox")
app.command("export")(transfer.export)
app.command("import")(transfer.import_)
app.add_typer(news.app, name="news")
app.command("report")(report.report)
app.command("run")(run.run)
app.command("jobs")(run.jobs)
app.command("config")(config.config)
app.command("doctor")(doctor.doctor)


def main() -> None:
    """Console-script entry point."""
    app()

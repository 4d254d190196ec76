"""`forecasts news ...`: pull, list and review news for questions."""

import typer

app = typer.Typer(help="Pull news for every question, list it and mark it.", no_args_is_help=True)

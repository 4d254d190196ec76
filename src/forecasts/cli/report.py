"""`forecasts report`: scores and calibration."""

import typer

app = typer.Typer(help="Scores and calibration.")

"""`forecasts report`: scores and calibration.

Nothing heavy at module level: numpy, matplotlib and the database load inside the command.
"""

from __future__ import annotations

from pathlib import Path

import typer


def report(
    forecaster: str | None = typer.Option(
        None,
        "--forecaster",
        metavar="HANDLE",
        help="Show only this forecaster (the crowd still uses everyone).",
    ),
    tag: str | None = typer.Option(
        None, "--tag", metavar="TAG", help="Only questions with this tag."
    ),
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        metavar="DATE",
        help="Score as of the end of this UTC day (YYYY-MM-DD): resolutions on or before it, "
        "forecasts made before its end. Default: now.",
    ),
    bins: int = typer.Option(10, "--bins", metavar="N", help="Calibration bins (1-100)."),
    calibration: bool = typer.Option(
        False,
        "--calibration",
        help="Each forecaster's calibration table in full (the default is one line each).",
    ),
    json_out: bool = typer.Option(
        False, "--json", help="Print the report as JSON instead of tables."
    ),
    html: Path | None = typer.Option(
        None, "--html", metavar="FILE", help="Also write a self-contained HTML report."
    ),
    png: Path | None = typer.Option(
        None, "--png", metavar="FILE", help="Also write the reliability diagram as a PNG (800x600)."
    ),
) -> None:
    """Scores and calibration: a leaderboard, the paper's scorecard, calibration per
    forecaster.

    Only resolved questions count; see docs/scoring.md for the definitions. In a terminal,
    calibration is one line per forecaster; --calibration or --forecaster shows the tables.
    """
    import sys

    from forecasts.cli._common import console, echo, runtime, working
    from forecasts.report.run import run_report

    with working("Scoring"):
        run = run_report(
            runtime().session,
            as_of=as_of,
            bins=bins,
            forecaster=forecaster,
            tag=tag,
            html=html,
            png=png,
        )
    if json_out:
        echo(run.report.to_json())
    else:
        from forecasts.report.terminal import render_terminal

        render_terminal(
            run.report, console(), full_calibration=calibration or forecaster is not None
        )
    for path in run.written:
        print(f"wrote {path}", file=sys.stderr if json_out else sys.stdout)

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
    """Scores and calibration: a leaderboard, calibration per forecaster, the paper's scorecard.

    Only resolved questions count; see docs/scoring.md for the definitions.
    """
    import sys

    from forecasts import report as core
    from forecasts.cli._common import console, db_session, echo

    core.check_bins(bins)
    day = core.parse_as_of(as_of)
    if html is not None:
        core.check_writable(html, "--html")
    if png is not None:
        core.check_writable(png, "--png")
    with db_session() as session:
        rep = core.build_report(session, forecaster=forecaster, tag=tag, as_of=day, bins=bins)
    if json_out:
        echo(core.report_json(rep))
    else:
        core.render_terminal(rep, console())
    for path, write in ((html, core.write_html), (png, core.write_png)):
        if path is not None:
            written = write(rep, path)
            print(f"wrote {written}", file=sys.stderr if json_out else sys.stdout)

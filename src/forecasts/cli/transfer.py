"""`forecasts export` and `forecasts import`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from forecasts.cli._common import db_session, echo, progress_bar, runtime, working
from forecasts.errors import BadInput


def export(
    format: str = typer.Option(
        "json", "--format", help="json (everything, lossless) or csv (forecasts, flat)."
    ),
    out: Path | None = typer.Option(
        None, "--out", metavar="PATH", help="Write here instead of stdout."
    ),
) -> None:
    """Export everything as JSON (lossless, for `import`) or forecasts as CSV."""
    from forecasts.domain.transfer import export_forecasts_csv, export_json

    if format not in ("json", "csv"):
        raise BadInput(f"--format {format!r} is not supported; use json or csv")
    with working("Exporting"), db_session() as session:
        text = export_json(session) if format == "json" else export_forecasts_csv(session)
    if out is None:
        sys.stdout.write(text)
        return
    try:
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    except OSError as e:
        raise BadInput(f"--out: cannot write {out}: {e.strerror}") from None
    echo(f"Exported to {out}.")


def import_(path: Path = typer.Argument(..., help="A JSON file from `forecasts export`.")) -> None:
    """Import a JSON export into an empty database."""
    from forecasts.domain.setup import import_file

    with progress_bar("importing") as progress:
        counts = import_file(runtime(), path, progress=progress)
    summary = ", ".join(f"{n} {t}" for t, n in counts.items() if n)
    echo(f"Imported {path}: {summary or 'nothing'}.")

"""`forecasts export` and `forecasts import`."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from forecasts.cli._common import db_session, echo, get_engine
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
    from forecasts.transfer import export_forecasts_csv, export_json

    if format not in ("json", "csv"):
        raise BadInput(f"--format {format!r} is not supported; use json or csv")
    with db_session() as session:
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
    import json

    from forecasts.transfer import import_data

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: cannot read: {e}") from None
    except json.JSONDecodeError as e:
        raise BadInput(f"{path}:{e.lineno}: invalid JSON: {e.msg}") from None
    from forecasts import db
    from forecasts.errors import DatabaseError

    engine = get_engine()
    if db.current_revision(engine) is None:
        # Not "run `forecasts init`": init loads ./questions.yaml, and import needs no rows.
        raise DatabaseError(
            f"database {db.safe_url(str(engine.url))} has no schema yet; create it with "
            "`forecasts --db URL db upgrade` (not `init`, which loads questions.yaml), "
            "then import"
        )
    with db_session(write=True) as session:
        counts = import_data(session, data=data)
    summary = ", ".join(f"{n} {t}" for t, n in counts.items() if n)
    echo(f"Imported {path}: {summary or 'nothing'}.")

"""Export and import: a lossless JSON dump of every table, and a flat CSV of forecasts.

`export` then `import` into an empty database reproduces every row exactly, ids and
timestamps included. This is also the documented way to move from SQLite to PostgreSQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from forecasts import __version__, clock
from forecasts.domain.people import PAPER, ensure_paper
from forecasts.errors import BadInput, Conflict
from forecasts.store.db import load_models
from forecasts.store.types import UTCDateTime

FORMAT = "forecasts-export"
FORMAT_VERSION = 1


def _tables() -> list[sa.Table]:
    """The tables an export holds: all but Alembic's and those marked
    ``info={"export": False}`` (the scheduler's own state)."""
    return [
        t
        for t in load_models().sorted_tables
        if t.name != "alembic_version" and t.info.get("export", True)
    ]


def _dump(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return clock.as_utc(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _load(column: sa.Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, UTCDateTime):
        return clock.as_utc(dt.datetime.fromisoformat(value))
    if isinstance(column.type, sa.Date):
        return dt.date.fromisoformat(value)
    return value


def export_data(session: Session) -> dict[str, Any]:
    """Every row of every table, in dependency order."""
    from forecasts.store.db import current_revision

    tables: dict[str, list[dict[str, Any]]] = {}
    for table in _tables():
        order = list(table.primary_key.columns)
        rows = session.execute(sa.select(table).order_by(*order)).mappings()
        tables[table.name] = [{k: _dump(v) for k, v in row.items()} for row in rows]
    bind = session.get_bind()
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "schema": current_revision(bind) if isinstance(bind, sa.Engine) else None,
        "exported_at": clock.now().isoformat(),
        "forecasts_version": __version__,
        "tables": tables,
    }


def export_json(session: Session) -> str:
    return json.dumps(export_data(session), ensure_ascii=False, indent=1) + "\n"


def export_forecasts_csv(session: Session) -> str:
    """One row per forecast with its question and current resolution, for spreadsheets."""
    from forecasts.domain.questions import current_resolutions
    from forecasts.store.models import Forecast, Question

    questions = {q.id: q for q in session.execute(sa.select(Question)).scalars()}
    resolutions = current_resolutions(session)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        [
            "question_id",
            "question_type",
            "person",
            "made_at",
            "recorded_at",
            "p_yes",
            "value",
            "note",
            "outcome",
            "resolved_on",
        ]
    )
    stmt = sa.select(Forecast).order_by(Forecast.question_id, Forecast.made_at, Forecast.id)  # type: ignore[arg-type]
    for f in session.execute(stmt).scalars():
        q = questions[f.question_id]
        r = resolutions.get(f.question_id)
        w.writerow(
            [
                f.question_id,
                q.type,
                f.person,
                _dump(f.made_at),
                _dump(f.recorded_at),
                f.value if q.type == "binary" else "",
                json.dumps(f.value, ensure_ascii=False),
                f.note or "",
                r.outcome if r else "",
                _dump(r.resolved_on) if r else "",
            ]
        )
    return out.getvalue()


def read_export(path: Path) -> Any:
    """Parse a JSON export file; its shape is checked by ``import_data``."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: cannot read: {e}") from None
    except json.JSONDecodeError as e:
        raise BadInput(f"{path}:{e.lineno}: invalid JSON: {e.msg}") from None


#: Rows inserted per statement on import (and per call of its ``progress``).
IMPORT_CHUNK = 10_000


def import_data(
    session: Session, *, data: Any, progress: Callable[[int, int, str], None] | None = None
) -> dict[str, int]:
    """Load an export into an empty database. Returns rows imported per table.
    ``progress(rows done, rows in all, table)`` is called as the rows go in."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BadInput("not a forecasts export (expected JSON from `forecasts export`)")
    if data.get("version") != FORMAT_VERSION:
        raise BadInput(f"unsupported export version {data.get('version')!r}")
    tables = data.get("tables")
    if not isinstance(tables, dict):
        raise BadInput("export has no tables")
    known = {t.name: t for t in _tables()}
    unknown = sorted(set(tables) - set(known))
    if unknown:
        raise BadInput(
            f"export has tables this version does not know ({', '.join(unknown)}); "
            "upgrade forecasts"
        )
    _require_empty(session)
    counts: dict[str, int] = {}
    total = sum(len(v) for v in tables.values() if isinstance(v, list))
    done = 0
    for table in _tables():
        rows = tables.get(table.name, [])
        if not isinstance(rows, list):
            raise BadInput(f"table {table.name}: expected a list of rows")
        if table.name == "person":
            # `init` already created the paper forecaster; the export's row replaces it.
            session.execute(sa.delete(table).where(table.c.handle == PAPER))
        try:
            converted = [
                {c.name: _load(c, row.get(c.name)) for c in table.columns if c.name in row}
                for row in rows
            ]
        except (TypeError, ValueError, AttributeError) as e:
            raise BadInput(f"table {table.name}: malformed row: {e}") from None
        for start in range(0, len(converted), IMPORT_CHUNK):
            chunk = converted[start : start + IMPORT_CHUNK]
            try:
                session.execute(sa.insert(table), chunk)
            except sa.exc.OperationalError:
                raise  # the database itself (locked, gone): not the file's fault
            except sa.exc.StatementError as e:
                # Constraint violations, and values the column cannot take (a bad boolean, a
                # number that is text, a string too long): the file is bad, not the database.
                reason = str(e.orig if e.orig is not None else e).splitlines()[0]
                raise BadInput(f"table {table.name}: {reason}") from None
            done += len(chunk)
            if progress is not None:
                progress(done, total, table.name)
        counts[table.name] = len(converted)
    ensure_paper(session)  # an export made before the paper existed has no row for it
    _reset_sequences(session)
    session.flush()
    return counts


def _require_empty(session: Session) -> None:
    for table in _tables():
        stmt = sa.select(sa.func.count()).select_from(table)
        if table.name == "person":
            stmt = stmt.where(table.c.handle != PAPER)
        if session.execute(stmt).scalar_one():
            raise Conflict(
                f"the database is not empty (table {table.name} has rows); "
                "import into a new database with an empty schema "
                "(`forecasts db upgrade` first)"
            )


def _reset_sequences(session: Session) -> None:
    """After inserting explicit ids, PostgreSQL's sequences must move past them."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in _tables():
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and isinstance(pk[0].type, sa.Integer):
            col = pk[0].name
            session.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{col}'), "
                    f"COALESCE((SELECT MAX({col}) FROM {table.name}), 0) + 1, false)"
                )
            )

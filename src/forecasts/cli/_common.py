"""What every command shares: the global options, sessions, parsing and printing.

Nothing heavy is imported at module level: `forecasts --help` must stay fast.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from forecasts.errors import BadInput

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from forecasts.config import Settings
    from forecasts.questions import SyncReport


@dataclass
class State:
    """Set by the top-level callback from --db and --config."""

    database_url: str | None = None
    config: str | None = None
    settings: Settings | None = None
    schema_checked: bool = False


state = State()


def reset_state(database_url: str | None = None, config: str | None = None) -> None:
    state.database_url = database_url
    state.config = config
    state.settings = None
    state.schema_checked = False


def get_settings() -> Settings:
    if state.settings is None:
        from forecasts.config import load_settings

        state.settings = load_settings(config=state.config, database_url=state.database_url)
    return state.settings


def get_engine() -> Engine:
    from forecasts import db

    s = get_settings()
    return db.get_engine(s.database.url, s.database.busy_timeout)


@contextmanager
def db_session(write: bool = False) -> Iterator[Session]:
    """A session on the configured database, which must be initialised and current."""
    from forecasts import db

    engine = get_engine()
    if not state.schema_checked:
        db.require_current(engine)
        state.schema_checked = True
    with db.session_scope(engine, write=write) as session:
        yield session


def parse_date(text: str | None, option: str) -> dt.date | None:
    """ISO day (YYYY-MM-DD) or None."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"{option}: {text!r} is not an ISO date; use YYYY-MM-DD") from None


def parse_datetime(text: str | None, option: str) -> dt.datetime | None:
    """ISO datetime; naive means UTC; a bare date means 00:00 UTC."""
    if text is None:
        return None
    from forecasts import clock

    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(
            f"{option}: {text!r} is not an ISO datetime; use e.g. 2027-03-01T12:00:00Z"
        ) from None
    return clock.as_utc(value)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")


def echo(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def console() -> Any:
    """A rich console for tables. Piped output gets a wide page instead of rich's 80
    columns, so ids and dates stay on one line; $COLUMNS still wins."""
    import os

    from rich.console import Console

    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
    return Console(highlight=False, soft_wrap=False, width=width)


def fmt_value(value: Any) -> str:
    from forecasts.values import format_value

    return format_value(value)


def sync_summary(report: SyncReport) -> str:
    """'2 added, 1 updated, 20 unchanged' (+ forced and not-in-file counts when any)."""
    parts = [
        f"{len(report.added)} added",
        f"{len(report.updated)} updated",
        f"{len(report.unchanged)} unchanged",
    ]
    if report.forced:
        parts.append(f"{len(report.forced)} changed with --force (revisions recorded)")
    if report.missing:
        parts.append(f"{len(report.missing)} in the database but not in the file (left alone)")
    return ", ".join(parts)

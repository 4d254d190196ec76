"""The runtime every entry point shares: settings, then the engine, then sessions.

The CLI makes one ``Runtime`` per invocation from its global options; the scheduler makes
one at start-up; tests make one per database. Core functions take a ``Session`` (or, for
work that must not hold a transaction open across the network, the ``Runtime.session``
factory) and never reach for global state.

Nothing is read or connected until first asked for, so a command that needs no database
pays nothing for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from forecasts.config import Settings


@dataclass
class Runtime:
    """Settings, engine and sessions for one process.

    ``config`` and ``database_url`` are explicit overrides (``--config``, ``--db``);
    ``None`` falls back to the environment and the defaults (see ``forecasts.config``).
    """

    config: str | Path | None = None
    database_url: str | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _schema_checked: bool = field(default=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        """A runtime over settings already loaded (tests, or a caller that built them)."""
        return cls(_settings=settings)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from forecasts.config import load_settings

            self._settings = load_settings(config=self.config, database_url=self.database_url)
        return self._settings

    @property
    def engine(self) -> Engine:
        """The engine for the configured database (one per URL per process)."""
        from forecasts.store import db

        database = self.settings.database
        return db.get_engine(database.url, database.busy_timeout)

    @property
    def database_label(self) -> str:
        """The database URL with any password masked, for messages."""
        from forecasts.store.db import safe_url

        return safe_url(self.settings.database.url)

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A session in one transaction on a database that is initialised and current.

        ``write=True`` takes SQLite's write lock up front (see ``store.db.session_scope``).
        The schema revision is checked once per runtime.
        """
        from forecasts.store import db

        engine = self.engine
        if not self._schema_checked:
            db.require_current(engine)
            self._schema_checked = True
        with db.session_scope(engine, write=write) as session:
            yield session

    def close(self) -> None:
        """Release this runtime's pooled connections (the scheduler on shutdown)."""
        if self._settings is not None:
            self.engine.dispose()

"""Engines, sessions and migrations.

SQLite is tuned so the CLI and a running scheduler can share one file: WAL journal,
foreign keys on, a busy timeout, and write transactions that take the write lock up
front (``BEGIN IMMEDIATE``) so two writers queue on the busy timeout instead of one
failing with "database is locked" when it upgrades a read lock.
"""

from __future__ import annotations

import contextvars
import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from forecasts.errors import DatabaseError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlmodel import Session

# Set while a write session is opening, so the SQLite "begin" hook takes the write lock.
_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar("immediate", default=False)


def load_models() -> Any:
    """Import every table module so ``SQLModel.metadata`` is complete; return the metadata."""
    from sqlmodel import SQLModel

    import forecasts.mail.models
    import forecasts.news.models
    import forecasts.review.models
    import forecasts.scheduler.models
    import forecasts.store.models  # noqa: F401

    return SQLModel.metadata


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` as shorthand for the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@functools.cache
def get_engine(url: str, busy_timeout: float = 30.0) -> Engine:
    """One engine per URL per process."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    url = normalize_url(url)
    try:
        if url.startswith("sqlite"):
            engine = create_engine(
                url, connect_args={"timeout": busy_timeout, "check_same_thread": False}
            )
            _tune_sqlite(engine, busy_timeout)
        else:
            engine = create_engine(url, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ValueError) as e:
        # ValueError is make_url's int() of the port; its text would echo part of the URL.
        reason = "its port is not a number" if isinstance(e, ValueError) else str(e)
        raise DatabaseError(
            f"cannot use database URL {safe_url(url)}: {reason}; "
            "use e.g. sqlite:///forecasts.db or postgresql://user:password@host/dbname"
        ) from None
    except ModuleNotFoundError as e:
        raise DatabaseError(
            f"the driver for {safe_url(url)} is not installed ({e.name}); "
            "for PostgreSQL run: pip install 'forecasts[postgres]'"
        ) from None
    _ENGINES.append(engine)
    return engine


def _tune_sqlite(engine: Engine, busy_timeout: float) -> None:
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<database url>"


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error.

    ``write=True`` takes SQLite's write lock at BEGIN, so concurrent writers wait their
    turn (busy timeout) rather than failing midway.
    """
    from sqlalchemy.exc import OperationalError
    from sqlmodel import Session

    session = Session(engine, expire_on_commit=False)
    token = _immediate.set(write)
    lock_mode_set = True
    try:
        session.connection()  # begin now, under the right lock mode
        _immediate.reset(token)
        lock_mode_set = False
        yield session
        session.commit()
    except OperationalError as e:
        session.rollback()
        raise DatabaseError(_explain(e, engine)) from None
    except BaseException:
        session.rollback()
        raise
    finally:
        if lock_mode_set:
            _immediate.reset(token)
        session.close()


def _explain(e: Exception, engine: Engine) -> str:
    msg = str(getattr(e, "orig", e)).strip().splitlines()[0]
    if "no such table" in msg or ("does not exist" in msg and "relation" in msg):
        return f"database {safe_url(str(engine.url))} is not initialised; run `forecasts init`"
    problem = _sqlite_file_problem(engine, msg) or _server_problem(engine, msg) or msg
    return f"database error ({safe_url(str(engine.url))}): {problem}"


def _server_problem(engine: Engine, msg: str) -> str | None:
    """A database server that could not be reached: what to look at next."""
    if engine.dialect.name == "sqlite":
        return None
    unreachable = ("connection", "resolve host", "timeout expired", "could not translate")
    if not any(word in msg.lower() for word in unreachable):
        return None
    return (
        f"{msg}; is the server running and the URL right? "
        "(`forecasts config` shows the URL and where it came from)"
    )


def _sqlite_file_problem(engine: Engine, msg: str) -> str | None:
    """What is wrong with a SQLite file SQLite could not use, and what to do about it."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:":
        return None
    if "file is not a database" in msg:
        return (
            f"{path} is not a SQLite database; check the database URL "
            "(--db, FORECASTS_DATABASE_URL or [database] url)"
        )
    if "unable to open database file" in msg:
        if os.path.isdir(path):
            return f"{path} is a directory; give a file, e.g. sqlite:///{os.path.join(path, 'forecasts.db')}"
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            return f"directory {parent} does not exist; create it or choose another path"
    if "readonly database" in msg:
        return (
            f"{msg}; make {path} and its directory writable "
            "(SQLite in WAL mode writes beside the file, even to read)"
        )
    return None


# ---------------------------------------------------------------- migrations


def alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "forecasts.store:migrations")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest migration this code ships.

    A constant rather than a read of the scripts: every command asks, and loading Alembic
    costs a quarter of a second. A test checks it against Alembic's own answer."""
    from forecasts.store.migrations import HEAD

    return HEAD


def current_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the database, or None for an empty database."""
    import sqlalchemy as sa
    from sqlalchemy.exc import DatabaseError as DBAPIDatabaseError

    if _missing_sqlite_file(engine):
        return None  # connecting would create an empty file just to report this
    try:
        with engine.connect() as conn:
            # Alembic's own table, read without importing Alembic (see head_revision).
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            rows = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
            return rows[0][0] if rows else None
    except DBAPIDatabaseError as e:  # OperationalError, and "file is not a database"
        raise DatabaseError(_explain(e, engine)) from None


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Bring the schema up to ``revision``; return (before, after)."""
    from alembic import command
    from sqlalchemy.exc import OperationalError

    before = current_revision(engine)
    try:
        token = _immediate.set(True)
        try:
            with engine.begin() as conn:
                command.upgrade(alembic_config(conn), revision)
        finally:
            _immediate.reset(token)
    except OperationalError as e:
        raise DatabaseError(_explain(e, engine)) from None
    after = current_revision(engine)
    assert after is not None
    return before, after


def _missing_sqlite_file(engine: Engine) -> bool:
    """A SQLite file that does not exist yet (in a directory that does)."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    return bool(
        path
        and path != ":memory:"
        and not os.path.exists(path)
        and os.path.isdir(os.path.dirname(os.path.abspath(path)))
    )


def require_current(engine: Engine) -> None:
    """Refuse to work on a database that is missing or behind the code's schema."""
    rev = current_revision(engine)
    if rev is None:
        raise DatabaseError(
            f"database {safe_url(str(engine.url))} is not initialised; run `forecasts init`"
        )
    head = head_revision()
    if rev != head:
        raise DatabaseError(
            f"database schema is at {rev} but this version needs {head}; run `forecasts db upgrade`"
        )


def dispose_engines() -> None:
    """Close every pooled connection (tests, and the scheduler on shutdown)."""
    while _ENGINES:
        _ENGINES.pop().dispose()
    get_engine.cache_clear()


# Every engine get_engine made: functools.cache keeps no public list of its values.
_ENGINES: list[Engine] = []

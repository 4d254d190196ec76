"""Shared fixtures.

Databases are real: a SQLite file per test by default, or a fresh schema on the
PostgreSQL server named by FORECASTS_TEST_DATABASE_URL (CI runs the suite both ways).
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_URL = os.environ.get("FORECASTS_TEST_DATABASE_URL", "").strip()
REPO = Path(__file__).resolve().parents[1]
PAPER = REPO.parent / "shared" / "paper" / "russia-china-defense-technology-2022.txt"


def pytest_report_header(config: pytest.Config) -> str:
    return f"forecasts test database: {_describe(PG_URL) if PG_URL else 'SQLite (tmp files)'}"


def _describe(url: str) -> str:
    from forecasts.store.db import safe_url

    return safe_url(url)


@pytest.fixture(autouse=True, scope="session")
def _models_loaded() -> None:
    """Every module that defines pydantic or SQLModel classes, imported before any test
    freezes time. Pydantic knows the real date and datetime classes it was imported
    with; a class built under freezegun would name the fake ones, which it refuses."""
    import forecasts.config
    import forecasts.domain.schemas  # noqa: F401
    from forecasts.store.db import load_models

    load_models()


def _forget_environment(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    for var in list(os.environ):
        if var.startswith("FORECASTS_") and var != "FORECASTS_TEST_DATABASE_URL":
            monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(folder)


@contextlib.contextmanager
def isolated(folder: Path) -> Iterator[None]:
    """For fixtures wider than one test: the same isolation `_isolated_env` gives a test."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _forget_environment(monkeypatch, folder)
        yield


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test reads the developer's own config, database or environment."""
    _forget_environment(monkeypatch, tmp_path)
    yield
    from forecasts.cli import _common
    from forecasts.store.db import dispose_engines

    _common.reset_runtime()
    dispose_engines()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating each time is slow)."""
    from forecasts.store import db

    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = db.get_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    with db.session_scope(engine, write=True) as session:
        from forecasts.domain.people import ensure_paper

        ensure_paper(session)
    engine.dispose()
    return path


def _pg_schema_url(base: str, schema: str) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(base)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@pytest.fixture
def empty_db_url(tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all (for init and migration tests)."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    yield from _pg_schema(migrate=False)


def _pg_schema(migrate: bool) -> Iterator[str]:
    import sqlalchemy as sa

    from forecasts.store import db

    schema = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(db.normalize_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = _pg_schema_url(db.normalize_url(PG_URL), schema)
    try:
        if migrate:
            engine = db.get_engine(url)
            db.upgrade(engine)
            with db.session_scope(engine, write=True) as session:
                from forecasts.domain.people import ensure_paper

                ensure_paper(session)
        yield url
    finally:
        db.dispose_engines()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="session")
def _pg_migrated_schema() -> Iterator[str | None]:
    """On PostgreSQL, one migrated schema for the session, emptied before each test that
    uses it: migrating a new schema costs ~25 DDL statements a test, emptying it one."""
    if not PG_URL:
        yield None
        return
    yield from _pg_schema(migrate=True)


def _empty_pg_schema(url: str) -> None:
    """Every table emptied and every id sequence restarted; the `paper` forecaster back."""
    import sqlalchemy as sa

    from forecasts.domain.people import ensure_paper
    from forecasts.store import db

    engine = db.get_engine(url)
    names = [t.name for t in db.load_models().sorted_tables]
    with engine.begin() as conn:
        # Only the tables a test wrote to, and the sequences it drew from: TRUNCATE costs
        # about half a millisecond a table, a thousand tests over.
        written = conn.execute(
            sa.text(" UNION ALL ".join(f"(SELECT '{n}' FROM {n} LIMIT 1)" for n in names))
        ).scalars()
        drawn = conn.execute(
            sa.text(
                "SELECT sequencename FROM pg_sequences "
                "WHERE schemaname = current_schema() AND last_value IS NOT NULL"
            )
        ).scalars()
        written, drawn = list(written), list(drawn)
        if written:
            conn.execute(sa.text(f"TRUNCATE {', '.join(written)} CASCADE"))
        for sequence in drawn:
            conn.execute(sa.text(f"ALTER SEQUENCE {sequence} RESTART"))
    with db.session_scope(engine, write=True) as session:
        ensure_paper(session)
    engine.dispose()


@pytest.fixture
def db_url(
    tmp_path: Path, _sqlite_template: Path, _pg_migrated_schema: str | None
) -> Iterator[str]:
    """A freshly migrated, empty database (only the `paper` forecaster exists)."""
    if _pg_migrated_schema is None:
        path = tmp_path / "forecasts.db"
        shutil.copy(_sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    _empty_pg_schema(_pg_migrated_schema)
    yield _pg_migrated_schema


@pytest.fixture(scope="module")
def module_db_url(
    tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path
) -> Iterator[str]:
    """A migrated database that lives for a whole module: for a world that is costly to
    build and that the module's tests only read (build it inside ``isolated``)."""
    if PG_URL:
        yield from _pg_schema(migrate=True)
        return
    path = tmp_path_factory.mktemp("module-db") / "forecasts.db"
    shutil.copy(_sqlite_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def session(db_url: str) -> Iterator[object]:
    """A write session on ``db_url``, committed at the end of the test."""
    from forecasts.store import db

    with db.session_scope(db.get_engine(db_url), write=True) as s:
        yield s


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def cli(db_url: str) -> Callable[..., CliResult]:
    """Run the real `forecasts` CLI in-process against ``db_url``."""
    return make_cli(db_url)


@functools.cache
def _cache_typer_command() -> None:
    """typer's test runner rebuilds the click command on every call, which is most of the
    cost of an in-process CLI call; the app never changes during a run, so build it once."""
    import typer.testing

    build = getattr(typer.testing, "_get_command", None)
    if build is not None:
        typer.testing._get_command = functools.cache(build)  # type: ignore[attr-defined]


def make_cli(db_url: str | None) -> Callable[..., CliResult]:
    from typer.testing import CliRunner

    from forecasts.cli import app

    _cache_typer_command()
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> CliResult:
        argv = (["--db", db_url] if db_url else []) + [str(a) for a in args]
        r = runner.invoke(app, argv, input=input, catch_exceptions=True)
        if r.exception is not None and not isinstance(r.exception, SystemExit):
            raise r.exception
        return CliResult(r.exit_code, r.stdout, r.stderr)

    return run


requires_postgres = pytest.mark.skipif(
    not PG_URL, reason="needs PostgreSQL: set FORECASTS_TEST_DATABASE_URL (see docs/deploy.md)"
)

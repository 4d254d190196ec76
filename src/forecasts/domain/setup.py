"""Setting a database up: create or upgrade the schema, load questions.yaml, import an
export. The CLI's ``init``, ``db upgrade`` and ``import``, and the scheduler at start-up,
call these same functions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from forecasts.errors import DatabaseError

if TYPE_CHECKING:
    from collections.abc import Callable

    from forecasts.domain.questions import SyncReport
    from forecasts.runtime import Runtime

#: The questions file ``init`` loads when none is named and it exists.
DEFAULT_QUESTIONS_FILE = Path("questions.yaml")


@dataclass(frozen=True)
class SchemaChange:
    """The schema revision before an upgrade (None: an empty database) and after it."""

    before: str | None
    after: str

    @property
    def created(self) -> bool:
        return self.before is None

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class InitResult:
    schema: SchemaChange
    questions_file: Path | None
    sync: SyncReport | None


def upgrade_schema(runtime: Runtime) -> SchemaChange:
    """Bring the schema to this version's newest revision."""
    from forecasts.store import db

    before, after = db.upgrade(runtime.engine)
    return SchemaChange(before, after)


def initialise(runtime: Runtime, *, questions: Path | None = None) -> InitResult:
    """Create or upgrade the database, make sure the paper forecaster exists, and sync the
    questions file: ``questions`` if given (it must exist), else ``questions.yaml`` in the
    working folder when there is one.

    The file is validated before the database is touched, so a bad file writes nothing.
    """
    from forecasts.domain.people import ensure_paper
    from forecasts.domain.questions import sync_questions
    from forecasts.domain.questions_file import load_questions_file
    from forecasts.store import db

    path = questions if questions is not None else DEFAULT_QUESTIONS_FILE
    specs = load_questions_file(path) if questions is not None or path.is_file() else None
    schema = upgrade_schema(runtime)
    with db.session_scope(runtime.engine, write=True) as session:
        ensure_paper(session)
        report = sync_questions(session, specs=specs) if specs is not None else None
    return InitResult(schema, path if specs is not None else None, report)


def sync_file(
    runtime: Runtime, path: Path, *, force: bool = False, dry_run: bool = False
) -> SyncReport:
    """Sync the questions in ``path`` into the database (see ``questions.sync_questions``).
    A dry run reads in a read-only transaction and writes nothing."""
    from forecasts.domain.questions import sync_questions
    from forecasts.domain.questions_file import load_questions_file

    specs = load_questions_file(path)
    with runtime.session(write=not dry_run) as session:
        report = sync_questions(session, specs=specs, force=force, dry_run=dry_run)
        if dry_run:
            session.rollback()
    return report


def schema_revision(runtime: Runtime) -> tuple[str | None, str]:
    """(the database's revision or None when it has no schema, this version's revision)."""
    from forecasts.store import db

    return db.current_revision(runtime.engine), db.head_revision()


def import_file(
    runtime: Runtime, path: Path, *, progress: Callable[[int, int, str], None] | None = None
) -> dict[str, int]:
    """Load a JSON export file into a database with an empty, current schema. Returns the
    rows imported per table; ``progress`` as ``transfer.import_data``."""
    from forecasts.domain.transfer import import_data, read_export
    from forecasts.store import db

    data = read_export(path)

    if db.current_revision(runtime.engine) is None:
        # Not "run `forecasts init`": init loads questions.yaml, and import needs no rows.
        raise DatabaseError(
            f"database {runtime.database_label} has no schema yet; create it with "
            "`forecasts db upgrade` (not `init`, which loads questions.yaml), "
            "then import"
        )
    with runtime.session(write=True) as session:
        return import_data(session, data=data, progress=progress)

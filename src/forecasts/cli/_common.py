"""What every command shares: the global options, sessions, parsing and printing.

Nothing heavy is imported at module level: `forecasts --help` must stay fast.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from forecasts.errors import BadInput, ForecastsError
from forecasts.runtime import Runtime

if TYPE_CHECKING:
    from rich.console import Console
    from sqlmodel import Session

    from forecasts.config import Settings
    from forecasts.domain.questions import SyncReport


_runtime = Runtime()


def reset_runtime(database_url: str | None = None, config: str | None = None) -> None:
    """Called by the top-level callback with --db and --config."""
    global _runtime
    _runtime = Runtime(config=config, database_url=database_url)


def runtime() -> Runtime:
    """The runtime of this invocation."""
    return _runtime


def get_settings() -> Settings:
    return _runtime.settings


def db_session(write: bool = False) -> AbstractContextManager[Session]:
    """A session on the configured database, which must be initialised and current."""
    return _runtime.session(write=write)


def complete_question_id(ctx: Any, incomplete: str) -> list[str]:
    """Shell completion: the question ids starting with what is typed so far."""
    from forecasts.suggest import question_ids

    return _complete(ctx, question_ids, incomplete)


def complete_handle(ctx: Any, incomplete: str) -> list[str]:
    """Shell completion: the people (not the paper or the curator, who never type) whose
    handles start with what is typed so far."""
    from forecasts.domain.people import CURATOR, PAPER
    from forecasts.suggest import handles

    def people(session: Session) -> list[str]:
        return [h for h in handles(session) if h not in (PAPER, CURATOR)]

    return _complete(ctx, people, incomplete)


def _complete(ctx: Any, names: Callable[[Session], list[str]], incomplete: str) -> list[str]:
    # Completion parses the command line but runs no callback: the global options typed
    # so far are in the root context's parameters.
    given = ctx.find_root().params
    rt = Runtime(config=given.get("config"), database_url=given.get("database"))
    try:
        with rt.session() as session:
            return [n for n in names(session) if n.startswith(incomplete)]
    except Exception:  # no database, no schema: completion offers nothing, says nothing
        return []


#: Domain field -> the option that sets it, where the two names differ. Errors from the
#: core name fields; this is the one place they become flags.
FLAGS = {
    "made_at": "--at",
    "resolved_on": "--on",
    "question_id": "--question",
    "sources": "--source",
    "tags": "--tag",
    "options": "--option",
    "news": "--query",
    "database_url": "--db",
    "handle": "HANDLE",
}


def flag(field: str) -> str:
    """The command-line option for a domain field (``made_at`` -> ``--at``)."""
    return FLAGS.get(field, "--" + field.replace("_", "-"))


def error_message(e: ForecastsError) -> str:
    """A core error as the CLI says it: the field shown as its option, and the command
    that fixes it where the core cannot name one (it never names a flag)."""
    from forecasts.errors import NotAReviewer

    message = f"{flag(e.field)}: {e.message}" if e.field else e.message
    if isinstance(e, NotAReviewer) and not _machine(e.handle):
        message += f" (make them one with `forecasts people set {e.handle} --reviewer`)"
    return message


def _machine(handle: str) -> bool:
    """The paper and the curator: people in the database whom no command changes."""
    from forecasts.domain.people import CURATOR, PAPER

    return handle in (PAPER, CURATOR)


def parse_date(text: str | None, option: str) -> dt.date | None:
    """ISO day (YYYY-MM-DD) or None."""
    if text is None:
        return None
    from forecasts.validate import iso_day

    try:
        return iso_day(text)
    except ValueError as e:
        raise BadInput(f"{option}: {e}") from None


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


def _json_default(value: Any) -> Any:
    from forecasts import clock

    if isinstance(value, dt.datetime):
        return clock.iso(value)  # the one timestamp form of every --json output
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=_json_default) + "\n")


def echo(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def console() -> Console:
    """A rich console on stdout. At a terminal: its width, colour unless ``NO_COLOR`` is
    set. Piped: plain text, 80 columns ($COLUMNS wins). rich decides which is which (a tty,
    or ``TTY_COMPATIBLE=1`` / ``FORCE_COLOR`` to say so)."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def err_console() -> Console:
    """The same on stderr: progress and warnings, never mixed into the output."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=False)


#: What core functions call as work goes on: (done, total, what is being done now).
Progress = Callable[[int, int, str], None]


@contextmanager
def progress_bar(label: str) -> Iterator[Progress]:
    """A progress bar on stderr while the block runs, shown only at a terminal (and gone
    when done); the block passes the ``Progress`` it yields to the core function."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
    from rich.progress import Progress as Bar

    bar = Bar(
        TextColumn("{task.description:<32}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console(),
        transient=True,
        disable=not err_console().is_terminal,
    )
    task = bar.add_task(label, total=None)

    def update(done: int, total: int, what: str) -> None:
        bar.update(task, completed=done, total=total or None, description=what[:32])

    with bar:
        yield update


@contextmanager
def working(label: str) -> Iterator[None]:
    """A spinner on stderr while the block runs, for work with no count to show; only at
    a terminal, and gone when done."""
    err = err_console()
    if not err.is_terminal:
        yield
        return
    with err.status(label):
        yield


def wide_option() -> Any:
    """``--wide`` for a command that prints a table."""
    import typer

    return typer.Option(False, "--wide", help="Every column and full values, however wide.")


def tsv_option() -> Any:
    """``--tsv`` for a command that prints a table."""
    import typer

    return typer.Option(
        False, "--tsv", help="Tab-separated with a header line, every column, full values."
    )


def fmt_value(value: Any) -> str:
    from forecasts.domain.values import format_value

    return format_value(value)


def sync_summary(report: SyncReport) -> str:
    """'2 added, 1 updated, 20 unchanged' (+ forced, not-in-file and resolution counts when
    any)."""
    parts = [
        f"{len(report.added)} added",
        f"{len(report.updated)} updated",
        f"{len(report.unchanged)} unchanged",
    ]
    if report.forced:
        parts.append(f"{len(report.forced)} changed with --force (revisions recorded)")
    if report.missing:
        parts.append(f"{len(report.missing)} in the database but not in the file (left alone)")
    if report.resolved:
        n = len(report.resolved)
        parts.append(f"{n} resolution{'' if n == 1 else 's'} from the file applied")
    if report.corrected:
        n = len(report.corrected)
        parts.append(f"{n} resolution{'' if n == 1 else 's'} corrected (the file changed)")
    return ", ".join(parts)

"""`forecasts` with no command: a dashboard of the database, or how to create one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forecasts.cli._common import console, echo, runtime

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console

    from forecasts.scheduler.status import SchedulerStatus
    from forecasts.views import Dashboard, NoDatabase

#: The width of the labels on the left.
LABEL = 11
#: The first commands worth knowing, shown under the dashboard.
NEXT = "forecasts list · forecasts show ID · forecasts report · forecasts --help"


def show_dashboard() -> None:
    from forecasts.views import NoDatabase, dashboard

    view = dashboard(runtime())
    out = console()
    if isinstance(view, NoDatabase):
        echo(no_database_hint(view))
        return
    render_dashboard(view, out)


def no_database_hint(view: NoDatabase) -> str:
    """One line: what is missing and the command that makes it."""
    from pathlib import Path

    if view.revision is None:
        load = " and load ./questions.yaml" if Path("questions.yaml").is_file() else ""
        return f"No database yet at {view.database}: run `forecasts init` to create it{load}."
    return (
        f"The database {view.database} is at schema {view.revision}; this version needs "
        f"{view.head}: run `forecasts db upgrade`."
    )


def render_dashboard(d: Dashboard, out: Console) -> None:
    from rich.text import Text

    from forecasts import __version__, clock
    from forecasts.report.text import plural, time_ago
    from forecasts.tables import STATUS_STYLES, Column, print_hanging, table_lines

    def line(name: str, value: str | Text) -> None:
        print_hanging(out, Text(f"{name:<{LABEL}}", style="bold"), value)

    out.print(Text.assemble((f"forecasts {__version__}", "bold"), f" · today {d.today}"))
    line("Database", d.database)
    counts = Text(f"{d.questions}")
    for n, (status, k) in enumerate(d.by_status.items()):
        counts.append(": " if n == 0 else " · ")
        counts.append(f"{k} ")
        counts.append(status, style=STATUS_STYLES.get(status, ""))
    line("Questions", counts)
    if not d.due_total:
        line("Due", "nothing awaits resolution")
    else:
        more = f" (first {len(d.due)}; all: forecasts due)" if d.due_total > len(d.due) else ""
        line("Due", f"{d.due_total} awaiting resolution{more}")
        columns = [
            Column("id"),
            Column("status", styles=STATUS_STYLES),
            Column("resolve_by", header="resolve by", priority=1),
            Column("title", elastic=True, min_width=16),
        ]
        rows = [[r["id"], r["status"], r["resolve_by"], r["title"]] for r in d.due]
        for row in table_lines(columns, rows, width=out.width - LABEL, wide=False)[1:]:
            out.print(" " * LABEL, row, sep="", soft_wrap=True)
    people = f"{plural(d.forecasters, 'forecaster')}, {plural(d.forecasts, 'forecast')}"
    if not d.forecasters:
        people += " (add one: forecasts people add HANDLE)"
    line("People", people)
    if d.news_last_attempt is None:
        news = "never pulled (forecasts news pull)"
    else:
        now = clock.now()
        news = f"last pulled {time_ago(d.news_last_attempt, now)}"
        if d.news_last_success != d.news_last_attempt:
            ok = time_ago(d.news_last_success, now) if d.news_last_success else "never"
            news += f" (last success: {ok}; see forecasts news sources)"
        news += f"; {plural(d.articles, 'article')} stored"
    line("News", news)
    if d.scheduler is not None:
        _scheduler(d.scheduler, line)
    out.print()
    out.print(Text(f"Next: {NEXT}", style="dim"))


def _scheduler(status: SchedulerStatus, line: Callable[[str, str], None]) -> None:
    """Whether a scheduler runs, when each job runs next, and any last run that did not
    end well."""
    from zoneinfo import ZoneInfo

    from forecasts import clock
    from forecasts.report.text import run_outcome, time_ago, time_until

    now = clock.now()
    zone = ZoneInfo(status.timezone)
    h = status.holder
    if h is None:
        line("Scheduler", "not running (start it with `forecasts run`; see docs/deploy.md)")
    else:
        line(
            "Scheduler",
            f"running on {h.host} (pid {h.pid}), last heartbeat {time_ago(h.heartbeat, now)}",
        )
    if all(job.next_run is None for job in status.jobs):
        line("Jobs", "none scheduled yet (`forecasts jobs` shows their schedules)")
    else:
        upcoming = []
        for job in status.jobs:
            if job.next_run is None:
                continue
            at = job.next_run.astimezone(zone).strftime("%a %H:%M")
            when = time_until(job.next_run, now)
            upcoming.append(f"{job.id} {'due now' if when == 'now' else when} ({at})")
        line("Next jobs", " · ".join(upcoming))
    trouble = [
        f"{job.id} {run_outcome(job.last_run.status)} {time_ago(job.last_run.started_at, now)}"
        + (f": {job.last_run.error}" if job.last_run.error else "")
        for job in status.jobs
        if job.last_run is not None and job.last_run.status not in ("ok", "running")
    ]
    if trouble:
        line("Last runs", "; ".join(trouble) + " (see forecasts jobs)")

"""`forecasts run` and `forecasts jobs`: the scheduler, and what it has done.

APScheduler and the jobs' modules load inside the commands (`forecasts --help` stays
fast).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import typer

from forecasts.cli._common import console, echo, print_json, runtime, tsv_option, wide_option


def run(
    once: bool = typer.Option(
        False,
        "--once",
        help="Run every job once, in order (news, prompts, digest, report, outbox), then exit.",
    ),
    log_format: str = typer.Option(
        "text", "--log-format", metavar="text|json", help="Log lines on stderr as text or JSON."
    ),
) -> None:
    """Run the scheduler in the foreground: pull news, send resolution prompts and the
    weekly digest, write the report and deliver mail, each on its [schedule].

    One scheduler runs per database. SIGTERM or Ctrl-C lets the running jobs finish,
    then exits 0 (a second one stops at once). Logs go to stderr, one line per event.

    With --once: exits 0 when every job ran (warnings, such as news sources that
    cannot be reached, are logged), 1 when a job failed (the others still run).
    """
    import os
    import signal

    from forecasts.errors import BadInput, ForecastsError
    from forecasts.scheduler import logs
    from forecasts.scheduler.service import Service

    if log_format not in ("text", "json"):
        raise BadInput(f"--log-format {log_format!r} is not supported; use text or json")
    undo_logging = logs.configure("json" if log_format == "json" else "text")
    service = Service(runtime())

    def on_signal(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if service.stopping:  # asked twice: stop now; what was running runs again next time
            logs.stop_now(name)
            os._exit(128 + signum)
        service.request_stop(name)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        result = service.run_once() if once else service.run_forever()
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        undo_logging()
    if result.lease_lost:
        raise ForecastsError(
            "another scheduler took over this database's lease (this one stopped renewing it "
            "in time); see `forecasts jobs`"
        )
    failed = getattr(result, "failed", [])
    if failed:
        raise ForecastsError(
            f"{len(failed)} job{'' if len(failed) == 1 else 's'} failed ({', '.join(failed)}); "
            "see the log above and `forecasts jobs`"
        )


def jobs(
    wide: bool = wide_option(),
    tsv: bool = tsv_option(),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Each scheduled job: its schedule, its next run, and how its last run ended; and
    whether a scheduler is running on this database."""
    from forecasts.scheduler.status import scheduler_status

    status = scheduler_status(runtime())
    if as_json:
        print_json(status.to_dict())
        return
    from zoneinfo import ZoneInfo

    from forecasts import clock
    from forecasts.tables import CellValue, Column, render

    zone = ZoneInfo(status.timezone)

    def when(value: dt.datetime | None) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else "-"

    def next_run(value: dt.datetime | None) -> str:
        if value is None:
            return "-"
        # Past: no scheduler ran at that time; the next one to start runs it at once.
        return when(value) + (" (due)" if value <= clock.now() else "")

    columns = [
        Column("job"),
        Column("schedule", header=f"schedule ({status.timezone})", priority=2),
        Column("next_run", header="next run"),
        Column("last_run", header="last run", priority=1),
        Column("status", priority=1),
        Column("summary", wide_only=True),
    ]
    rows: list[list[CellValue]] = []
    notes: list[str | None] = []
    for job in status.jobs:
        last = job.last_run
        took = f" ({last.seconds:.1f} s)" if last and last.seconds is not None else ""
        summary = (last.error or last.summary or "") if last else job.does
        rows.append(
            [
                job.id,
                job.schedule,
                next_run(job.next_run),
                when(last.started_at) + took if last else "never",
                last.status if last else "",
                summary,
            ]
        )
        notes.append(summary or None)  # free text, read whole under its job
    render(console(), columns, rows, wide=wide, tsv=tsv, notes=notes)
    h = status.holder
    if h is None:
        echo("No scheduler is running on this database; start one with `forecasts run`.")
    else:
        echo(
            f"A scheduler is running: host {h.host}, pid {h.pid}, since {when(h.since)} "
            f"(last heartbeat {when(h.heartbeat)})."
        )

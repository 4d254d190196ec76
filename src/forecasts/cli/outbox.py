"""`forecasts outbox`: the messages queued, sent and failed, and retrying them."""

from __future__ import annotations

import typer

from forecasts.cli._common import console, db_session, echo, print_json, runtime

app = typer.Typer(
    help="Outgoing mail: list queued, sent and failed messages; `retry` sends now.",
    invoke_without_command=True,
)


@app.callback()
def list_(
    ctx: typer.Context,
    wide: bool = typer.Option(
        False, "--wide", help="Every column, full values (piped output always has them)."
    ),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Outgoing mail: list queued, sent and failed messages (key, to, subject, attempts,
    last error, sent time); `forecasts outbox retry` sends the queued and failed now."""
    if ctx.invoked_subcommand is not None:
        return
    from forecasts.mail.outbox import list_outbox
    from forecasts.tables import CellValue, Column, render

    with db_session() as session:
        rows = list_outbox(session)
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    if not rows:
        echo("The outbox is empty.")
        return
    columns = [
        Column("key"),
        Column("to", elastic=True, min_width=12, priority=2),
        Column("status"),
        Column("attempts", justify="right", priority=3),
        Column("when", header="sent / next try", priority=1),
        Column("subject", elastic=True, min_width=16),
        Column("last_error", header="last error", elastic=True, min_width=12, priority=2),
    ]
    rows_out: list[list[CellValue]] = []
    for r in rows:
        when = r.sent_at if r.status == "sent" else r.next_attempt_at
        rows_out.append(
            [
                r.key,
                ", ".join(r.to),
                r.status,
                str(r.attempts),
                when.strftime("%Y-%m-%d %H:%M") if when else "",
                r.subject,
                r.last_error or "",
            ]
        )
    render(console(), columns, rows_out, wide=wide)


@app.command("retry")
def retry_() -> None:
    """Send every queued and failed message now."""
    from forecasts.errors import ForecastsError
    from forecasts.mail.outbox import retry

    report = retry(runtime())
    echo(f"Outbox: {report.line()}.")
    for key, error in report.deferred + report.failed:
        typer.echo(f"  {key}: {error}", err=True)
    if report.attempted and not (report.sent or report.already_delivered):
        raise ForecastsError("nothing could be sent; see `forecasts outbox`")

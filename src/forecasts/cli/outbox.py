"""`forecasts outbox`: the messages queued, sent and failed, and retrying them."""

from __future__ import annotations

import typer

from forecasts.cli._common import (
    console,
    db_session,
    echo,
    print_json,
    runtime,
    tsv_option,
    wide_option,
)

app = typer.Typer(
    help="Outgoing mail: list queued, sent and failed messages; `retry` sends now.",
    invoke_without_command=True,
)


@app.callback()
def list_(
    ctx: typer.Context,
    wide: bool = wide_option(),
    tsv: bool = tsv_option(),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Outgoing mail: list queued, sent and failed messages, each with its last error.

    `forecasts outbox retry` sends the queued and failed now."""
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
        Column("status"),
        Column("when", header="sent / next try", priority=1),
        Column("attempts", justify="right", priority=4),
        Column("to", elastic=True, min_width=12, priority=2),
        Column("subject", elastic=True, min_width=16, priority=3),
        Column("last_error", header="last error", wide_only=True),
    ]
    table: list[list[CellValue]] = []
    for r in rows:
        when = r.sent_at if r.status == "sent" else r.next_attempt_at
        table.append(
            [
                r.key,
                r.status,
                when.strftime("%Y-%m-%d %H:%M") if when else "",
                str(r.attempts),
                ", ".join(r.to),
                r.subject,
                r.last_error or "",
            ]
        )
    # The last error is long free text, read whole: under its message, not cut in a column.
    notes = [f"last error: {r.last_error}" if r.last_error else None for r in rows]
    render(console(), columns, table, wide=wide, tsv=tsv, notes=notes)


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

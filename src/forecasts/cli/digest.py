"""`forecasts digest`: the weekly email digest."""

from __future__ import annotations

from pathlib import Path

import typer

from forecasts.cli._common import echo, print_json, runtime


def digest(
    send: bool = typer.Option(
        False, "--send", help="Queue each reader's digest in the outbox and send it (once a week)."
    ),
    preview: Path | None = typer.Option(
        None,
        "--preview",
        metavar="FILE",
        help="Write one reader's digest to FILE (HTML) and FILE with .txt; send nothing.",
    ),
    to: str | None = typer.Option(
        None,
        "--to",
        metavar="HANDLE",
        help="Only this reader [default for --preview: the first reader].",
    ),
    week: str | None = typer.Option(
        None,
        "--week",
        metavar="YYYY-Www",
        help="The ISO week [default: the last full week in [schedule] timezone].",
    ),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """The weekly digest: one email per person with an email address and the digest on.

    Sections, each shown only when it has something: needs your resolution (reviewers),
    closing soon, news this week, forecast movement, resolved this week, your
    calibration. Without --send or --preview, shows who would get what and sends nothing.
    See docs/digest.md.
    """
    from forecasts.digest import send_digests
    from forecasts.digest.send import sections_line

    run = send_digests(runtime(), week=week, send=send, to=to, preview=preview)
    if as_json:
        print_json(run.to_dict())
        return
    echo(f"Digest for {run.week}: {run.first_day} to {run.last_day} ({run.zone}).")
    if run.mode == "preview":
        d = run.digests[0]
        echo(f"Preview of {d.handle}'s digest: {sections_line(d.counts) or 'nothing this week'}.")
        for path in run.written:
            echo(f"wrote {path}")
        return
    verb = {"dry run": "Would send", "send": "Queued"}[run.mode]
    for d in run.digests:
        label = "Already queued" if d.queued is False else verb
        echo(f"{label} {d.handle} <{d.email}>: {sections_line(d.counts)}")
    if run.nothing:
        echo(f"Nothing this week for {', '.join(run.nothing)}.")
    if not run.digests and not run.nothing:
        echo("Nobody gets the digest: no one has an email address with the digest on.")
    if run.delivery is not None:
        echo(f"Outbox: {run.delivery.line()}.")
        for key, error in run.delivery.deferred + run.delivery.failed:
            typer.echo(f"  {key}: {error}", err=True)

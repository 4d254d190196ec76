"""`forecasts prompts`: resolution prompts by email."""

from __future__ import annotations

import typer

from forecasts.cli._common import echo, parse_date, print_json, runtime


def prompts(
    as_of: str | None = typer.Option(
        None, "--as-of", metavar="DATE", help="Prompt as on this UTC day [default: today]."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show who would get what; queue and send nothing."
    ),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Send resolution prompts now: one email per reviewer listing the questions that
    need them (the scheduler does this daily)."""
    from forecasts.review.prompts import send_prompts

    run = send_prompts(runtime(), as_of=parse_date(as_of, "--as-of"), dry_run=dry_run)
    if as_json:
        print_json(run.to_dict())
        return
    for w in run.warnings:
        typer.echo(f"warning: {w}", err=True)
    if not run.prompts:
        echo(f"No prompts due on {run.day}.")
    verb = "Would prompt" if run.dry_run else "Prompted"
    for p in run.prompts:
        already = "" if run.dry_run or p.queued else " (already queued today)"
        n = len(p.questions)
        more = f" (+{p.more} tomorrow)" if p.more else ""
        echo(f"{verb} {p.handle} <{p.email}>{already}: {n} question{'' if n == 1 else 's'}{more}")
        for q in p.questions:
            echo(f"  {q.question_id}  {q.reason}")
    if run.delivery is not None:
        echo(f"Outbox: {run.delivery.line()}.")
        for key, error in run.delivery.deferred + run.delivery.failed:
            typer.echo(f"  {key}: {error}", err=True)

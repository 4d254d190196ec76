"""`forecasts predict` and `forecasts resolve`."""

from __future__ import annotations

import typer

from forecasts.cli._common import db_session, echo, fmt_value, parse_date, parse_datetime


def predict(
    id: str = typer.Argument(..., help="Question id."),
    value: str = typer.Argument(
        ..., help="Binary: 0.7, 70% or 7:3. Choice: A=0.2,B=0.8. Numeric: p10=3,p50=5,p90=7."
    ),
    by: str = typer.Option(..., "--by", metavar="HANDLE", help="Who is forecasting."),
    note: str | None = typer.Option(None, "--note", help="Your reasoning."),
    at: str | None = typer.Option(
        None,
        "--at",
        metavar="DATETIME",
        help="Backdate (ISO, UTC if no offset), for importing history.",
    ),
) -> None:
    """Record a forecast on an open question."""
    from forecasts.domain.forecasting import record_forecast

    when = parse_datetime(at, "--at")
    with db_session(write=True) as session:
        f = record_forecast(session, question_id=id, person=by, value=value, note=note, at=when)
        echo(f"Recorded {by}'s forecast on {id}: {fmt_value(f.value)}.")


def resolve(
    id: str = typer.Argument(..., help="Question id."),
    outcome: str = typer.Argument(..., help="yes/no, an option name, a number, or annul."),
    by: str = typer.Option(..., "--by", metavar="HANDLE", help="The reviewer resolving it."),
    evidence: list[str] = typer.Option(
        [], "--evidence", metavar="URL", help="Evidence link (repeat)."
    ),
    note: str | None = typer.Option(None, "--note", help="Reviewer's note."),
    on: str | None = typer.Option(
        None,
        "--on",
        metavar="DATE",
        help="Day the outcome became true or known [default: today; with --correct, the corrected day].",
    ),
    correct: bool = typer.Option(
        False, "--correct", help="Replace the current resolution (keeps it in history)."
    ),
    reason: str | None = typer.Option(
        None, "--reason", help="Why the correction (with --correct)."
    ),
) -> None:
    """Resolve a question (reviewers only); --correct --reason replaces a resolution."""
    from forecasts.domain.resolution import resolve as core_resolve

    day = parse_date(on, "--on")
    with db_session(write=True) as session:
        r = core_resolve(
            session,
            question_id=id,
            outcome=outcome,
            by=by,
            evidence=evidence,
            note=note,
            on=day,
            correct=correct,
            reason=reason,
        )
        verb = "Corrected" if correct else "Resolved"
        echo(f"{verb} {id}: {r.outcome} (on {r.resolved_on}, by {by}).")

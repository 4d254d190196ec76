"""`forecasts predict` and `forecasts resolve`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from forecasts.cli._common import (
    complete_handle,
    complete_question_id,
    db_session,
    echo,
    fmt_value,
    get_settings,
    parse_date,
    parse_datetime,
)
from forecasts.errors import BadInput

if TYPE_CHECKING:
    from forecasts.domain.resolution import ResolveResult


def predict(
    id: str = typer.Argument(..., help="Question id.", autocompletion=complete_question_id),
    value: str = typer.Argument(
        ..., help="Binary: 0.7, 70% or 7:3. Choice: A=0.2,B=0.8. Numeric: p10=3,p50=5,p90=7."
    ),
    by: str = typer.Option(
        ..., "--by", metavar="HANDLE", help="Who is forecasting.", autocompletion=complete_handle
    ),
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
    id: str = typer.Argument(..., help="Question id.", autocompletion=complete_question_id),
    outcome: str | None = typer.Argument(
        None,
        metavar="OUTCOME",
        help="yes/no, an option name, a number, or annul (none with --withdraw).",
    ),
    by: str = typer.Option(
        ...,
        "--by",
        metavar="HANDLE",
        help="The reviewer resolving it.",
        autocompletion=complete_handle,
    ),
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
    withdraw: bool = typer.Option(
        False, "--withdraw", help="Take back your open proposal (a review quorum above 1)."
    ),
) -> None:
    """Resolve a question (reviewers only); --correct --reason replaces a resolution.

    With a review quorum above 1 this proposes the outcome; it is resolved once enough
    reviewers propose the same. Run it again to change your proposal, or --withdraw it."""
    from forecasts.domain import resolution as core

    if withdraw:
        if outcome is not None or correct or reason or evidence or note or on:
            raise BadInput("--withdraw takes only the question id and --by")
        with db_session(write=True) as session:
            p = core.withdraw(session, question_id=id, by=by)
            echo(f"Withdrew {by}'s proposal on {id} ({p.outcome}).")
        return
    if outcome is None:
        raise BadInput("give the OUTCOME (yes/no, an option, a number or annul), or --withdraw")
    rules = get_settings().review
    day = parse_date(on, "--on")
    with db_session(write=True) as session:
        result = core.resolve(
            session,
            question_id=id,
            outcome=outcome,
            by=by,
            evidence=evidence,
            note=note,
            on=day,
            correct=correct,
            reason=reason,
            quorum=rules.quorum,
            require_evidence=rules.require_evidence,
        )
        echo(_resolve_message(result, correct=correct))


def _resolve_message(result: ResolveResult, *, correct: bool) -> str:
    qid, r, p = result.question_id, result.resolution, result.proposal
    if r is not None:
        verb = "Corrected" if correct else "Resolved"
        return f"{verb} {qid}: {r.outcome} (on {r.resolved_on}, by {_and(result.agreeing)})."
    assert p is not None
    if result.replaced is not None:
        what = (
            f"Changed {p.by}'s proposal {'to correct' if correct else 'for'} {qid} to {p.outcome}"
        )
    elif correct:
        what = f"Proposed correcting {qid} to {p.outcome}"
    else:
        what = f"Proposed {p.outcome} for {qid}"
    agree = f"{len(result.agreeing)} of {result.quorum} reviewers agree"
    line = f"{what} (on {p.resolved_on}, by {p.by}): {agree}"
    if result.disputed:
        others = ", ".join(f"{who} proposed {o}" for who, o in result.disagreeing.items())
        return f"{line}. Disputed: {others}; every reviewer will be prompted."
    if correct:
        return f"{line}; the current resolution stands until {result.quorum} do."
    return f"{line}; pending until {result.quorum} do."


def _and(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"

"""Resolving questions. Resolutions are an append-only history: a correction supersedes
the current resolution and keeps it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session

from forecasts import clock
from forecasts.domain.people import get_person
from forecasts.domain.questions import current_resolutions, get_question
from forecasts.domain.values import normalize_outcome
from forecasts.errors import BadInput, NotAllowed
from forecasts.store.models import Resolution
from forecasts.validate import http_url


def resolve(
    session: Session,
    *,
    question_id: str,
    outcome: str,
    by: str,
    evidence: Sequence[str] = (),
    note: str | None = None,
    on: dt.date | None = None,
    correct: bool = False,
    reason: str | None = None,
    final: bool = False,
) -> Resolution:
    """Record a resolution. ``on`` is the UTC day the outcome became true or known
    (default today; for a correction, the corrected resolution's day). A second
    resolution needs ``correct`` and a ``reason``.

    ``final`` marks a resolution already reviewed elsewhere: questions.yaml's, whose change
    history is its review. Every resolution takes effect at once today; a review quorum,
    when one is added, must let ``final`` ones stand as recorded."""
    q = get_question(session, question_id=question_id)
    reviewer = get_person(session, handle=by)
    if "reviewer" not in reviewer.roles:
        raise NotAllowed(f"{by!r} is not a reviewer; only reviewers resolve", field="by")
    stored = normalize_outcome(q, outcome)
    current = current_resolutions(session, [q.id]).get(q.id)
    today = clock.today()
    # A correction fixes the outcome, not when it became known: keep that day unless told.
    day = on or (current.resolved_on if correct and current is not None else today)
    if day > today:
        raise NotAllowed(f"{day} is in the future", field="resolved_on")
    if clock.now() < clock.start_of_day(q.opens):
        raise NotAllowed(f"question {q.id!r} opens on {q.opens}; it cannot be resolved before")
    if day < q.opens:
        raise NotAllowed(f"{day} is before the question opened ({q.opens})", field="resolved_on")
    links = []
    for url in evidence:
        try:
            links.append(http_url(url))
        except ValueError as e:
            raise BadInput(str(e), field="evidence") from None
    if current is not None and not correct:
        raise NotAllowed(
            f"question {q.id!r} is already resolved ({current.outcome} on {current.resolved_on}); "
            "only a correction, with a reason, can change it",
            field="correct",
        )
    if correct:
        if current is None:
            raise NotAllowed(f"question {q.id!r} has no resolution to correct", field="correct")
        if not reason or not reason.strip():
            raise BadInput("a correction needs a reason saying why", field="reason")
    elif reason:
        raise BadInput("a reason is only for corrections", field="reason")
    r = Resolution(
        question_id=q.id,
        outcome=stored,
        resolved_on=day,
        by=reviewer.handle,
        evidence=links,
        note=note,
        correction_reason=reason.strip() if correct and reason else None,
        recorded_at=clock.now(),
    )
    session.add(r)
    session.flush()
    return r

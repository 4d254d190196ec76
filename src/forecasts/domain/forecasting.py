"""Recording forecasts. Forecasts are append-only: a new one supersedes, never edits."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from forecasts import clock
from forecasts.domain.people import PAPER, get_person
from forecasts.domain.questions import current_resolutions, get_question, status_of
from forecasts.domain.values import normalize_value
from forecasts.errors import NotAllowed
from forecasts.store.models import Forecast


def record_forecast(
    session: Session,
    *,
    question_id: str,
    person: str,
    value: object,
    note: str | None = None,
    at: dt.datetime | None = None,
) -> Forecast:
    """Record ``person``'s forecast. ``at`` backdates it (importing history): it must lie in
    the question's open window and not in the future; ``recorded_at`` keeps the truth."""
    q = get_question(session, question_id=question_id)
    who = get_person(session, handle=person)
    if who.handle == PAPER:
        raise NotAllowed("the paper's forecast comes from paper_forecast in questions.yaml")
    if "forecaster" not in who.roles:
        raise NotAllowed(f"{person!r} is not a forecaster")
    parsed = normalize_value(q, value)
    now = clock.now()
    made_at = now if at is None else clock.as_utc(at)
    if made_at > now:
        raise NotAllowed(f"{clock.iso(made_at)} is in the future", field="made_at")
    opens, closes_end = clock.start_of_day(q.opens), clock.end_of_day(q.closes)
    resolution = current_resolutions(session, [q.id]).get(q.id)
    if resolution is not None:
        resolved_from = clock.start_of_day(resolution.resolved_on)
        if at is None or made_at >= resolved_from:
            raise NotAllowed(
                f"question {q.id!r} is {status_of(q, resolution, now)}; forecasts are closed"
            )
    if not (opens <= made_at < closes_end):
        if at is None:
            raise NotAllowed(
                f"question {q.id!r} is {status_of(q, None, now)}; forecasts are accepted "
                f"from {q.opens} to {q.closes} (UTC)"
            )
        raise NotAllowed(
            f"{clock.iso(made_at)} is outside the question's open window "
            f"{q.opens} to {q.closes} (UTC)",
            field="made_at",
        )
    f = Forecast(
        question_id=q.id,
        person=who.handle,
        value=parsed,
        made_at=made_at,
        recorded_at=now,
        note=note,
    )
    session.add(f)
    session.flush()
    return f

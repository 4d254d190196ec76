"""Resolving questions. Resolutions are an append-only history: a correction supersedes
the current resolution and keeps it.

With a quorum above 1 (``[review] quorum``), ``resolve`` records a reviewer's proposal;
the outcome becomes the resolution once ``quorum`` reviewers have proposed it, and the
resolution lists them all. Each reviewer has at most one open proposal per question: a
second ``resolve`` replaces it, ``withdraw`` takes it back. Open proposals with
different outcomes make the question ``disputed``. A correction under a quorum is a
proposal too (``correct=True``): the current resolution stands until ``quorum`` reviewers
agree on the correction. Recording a resolution, by any path, closes every open proposal
on the question: those it agrees with are ``accepted``, the others ``rejected``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session, col

from forecasts import clock
from forecasts.domain.people import get_person
from forecasts.domain.questions import current_resolutions, get_question
from forecasts.domain.values import normalize_outcome
from forecasts.errors import BadInput, NotAllowed, NotAReviewer
from forecasts.store.models import Person, Proposal, Question, Resolution
from forecasts.validate import http_url


@dataclass(frozen=True)
class ResolveResult:
    """What one ``resolve`` did."""

    question_id: str
    quorum: int
    #: The resolution this call recorded: the quorum was met (or 1), or ``final``.
    resolution: Resolution | None = None
    #: The proposal this call recorded (a quorum above 1, not ``final``).
    proposal: Proposal | None = None
    #: The same reviewer's earlier open proposal, which this one replaced.
    replaced: Proposal | None = None
    #: Reviewers whose open proposals propose this outcome, in the order they did.
    agreeing: tuple[str, ...] = ()
    #: Other open proposals, reviewer -> outcome: a dispute while there are any.
    disagreeing: dict[str, str] = field(default_factory=dict)

    @property
    def disputed(self) -> bool:
        return self.resolution is None and bool(self.disagreeing)


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
    quorum: int = 1,
    require_evidence: bool = False,
    final: bool = False,
) -> ResolveResult:
    """Resolve a question, or, with ``quorum`` above 1, propose its outcome.

    ``on`` is the UTC day the outcome became true or known (default today; for a
    correction, the corrected resolution's day). A second resolution needs ``correct`` and
    a ``reason``. ``require_evidence`` refuses an outcome without an evidence link.
    ``final`` records the resolution at once whatever the quorum: for a resolution already
    reviewed elsewhere (questions.yaml's, whose change history is its review)."""
    q = get_question(session, question_id=question_id)
    reviewer = _reviewer(session, by)
    stored = normalize_outcome(q, outcome)
    current = current_resolutions(session, [q.id]).get(q.id)
    day = _resolution_day(q, current, on=on, correct=correct)
    links = _links(evidence, required=require_evidence)
    _check_correction(q, current, correct=correct, reason=reason)
    proposal = Proposal(
        question_id=q.id,
        by=reviewer.handle,
        outcome=stored,
        resolved_on=day,
        evidence=links,
        note=note,
        correction=correct,
        correction_reason=reason.strip() if correct and reason else None,
        proposed_at=clock.now(),
    )
    if final or quorum <= 1:
        r = _record(session, q, [proposal])
        return ResolveResult(q.id, quorum, resolution=r, agreeing=(reviewer.handle,))
    return _propose(session, q, proposal, quorum)


def _reviewer(session: Session, handle: str) -> Person:
    person = get_person(session, handle=handle)
    if "reviewer" not in person.roles:
        raise NotAReviewer(handle, field="by")
    return person


def _resolution_day(
    q: Question, current: Resolution | None, *, on: dt.date | None, correct: bool
) -> dt.date:
    """The UTC day the outcome became true or known: ``on``, else today; a correction fixes
    the outcome, not when it became known, so it keeps the corrected day unless told."""
    today = clock.today()
    day = on or (current.resolved_on if correct and current is not None else today)
    if day > today:
        raise NotAllowed(f"{day} is in the future", field="resolved_on")
    if clock.now() < clock.start_of_day(q.opens):
        raise NotAllowed(f"question {q.id!r} opens on {q.opens}; it cannot be resolved before")
    if day < q.opens:
        raise NotAllowed(f"{day} is before the question opened ({q.opens})", field="resolved_on")
    return day


def _check_correction(
    q: Question, current: Resolution | None, *, correct: bool, reason: str | None
) -> None:
    """A resolved question changes only by a correction, and a correction says why."""
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


def withdraw(session: Session, *, question_id: str, by: str) -> Proposal:
    """Take back ``by``'s open proposal on the question (a quorum above 1)."""
    q = get_question(session, question_id=question_id)
    get_person(session, handle=by)
    mine = [p for p in open_proposals(session, q.id) if p.by == by]
    if not mine:
        raise NotAllowed(f"{by!r} has no open proposal on {q.id!r} to withdraw", field="by")
    now = clock.now()
    for p in mine:
        p.state, p.closed_at = "withdrawn", now
        session.add(p)
    session.flush()
    return mine[-1]


def open_proposals(session: Session, question_id: str) -> list[Proposal]:
    """The question's open proposals, oldest first."""
    return list(
        session.execute(
            select(Proposal)
            .where(col(Proposal.question_id) == question_id, col(Proposal.state) == "open")
            .order_by(col(Proposal.id))
        ).scalars()
    )


def _links(evidence: Sequence[str], *, required: bool) -> list[str]:
    links = []
    for url in evidence:
        try:
            links.append(http_url(url))
        except ValueError as e:
            raise BadInput(str(e), field="evidence") from None
    if required and not links:
        raise BadInput(
            "evidence is required ([review] require_evidence): give a link to a source "
            "that shows the outcome",
            field="evidence",
        )
    return links


def _propose(session: Session, q: Question, proposal: Proposal, quorum: int) -> ResolveResult:
    """Record ``proposal``, replacing its reviewer's open one; resolve if it makes a quorum."""
    now = proposal.proposed_at
    others: list[Proposal] = []
    replaced = None
    for p in open_proposals(session, q.id):
        if p.by == proposal.by:
            p.state, p.closed_at, replaced = "replaced", now, p
            session.add(p)
        else:
            others.append(p)
    session.add(proposal)
    session.flush()
    agreeing = [p for p in others if p.outcome == proposal.outcome] + [proposal]
    disagreeing = {p.by: p.outcome for p in others if p.outcome != proposal.outcome}
    handles = tuple(p.by for p in agreeing)
    if len(agreeing) < quorum:
        return ResolveResult(
            q.id,
            quorum,
            proposal=proposal,
            replaced=replaced,
            agreeing=handles,
            disagreeing=disagreeing,
        )
    r = _record(session, q, agreeing)
    return ResolveResult(
        q.id,
        quorum,
        resolution=r,
        proposal=proposal,
        replaced=replaced,
        agreeing=handles,
        disagreeing=disagreeing,
    )


def _record(session: Session, q: Question, agreeing: Sequence[Proposal]) -> Resolution:
    """The resolution the agreeing proposals make; close every open proposal on ``q``.

    Its day is the earliest any of them gave (when the outcome became known); evidence,
    notes and correction reasons are those of all, in order; ``by`` is the first."""
    first = agreeing[0]
    r = Resolution(
        question_id=q.id,
        outcome=first.outcome,
        resolved_on=min(p.resolved_on for p in agreeing),
        by=first.by,
        reviewers=[p.by for p in agreeing],
        evidence=_evidence(agreeing),
        note=_joined([(p.by, p.note) for p in agreeing], "\n"),
        correction_reason=_joined([(p.by, p.correction_reason) for p in agreeing], "; "),
        recorded_at=clock.now(),
    )
    session.add(r)
    session.flush()
    now = r.recorded_at
    for p in open_proposals(session, q.id):
        if p.id is None or any(p.id == a.id for a in agreeing):
            continue
        p.state = "accepted" if p.outcome == r.outcome else "rejected"
        p.closed_at, p.resolution_id = now, r.id
        session.add(p)
    for p in agreeing:
        if p.id is not None:  # a proposal that was stored (a quorum above 1)
            p.state, p.closed_at, p.resolution_id = "accepted", now, r.id
            session.add(p)
    session.flush()
    return r


def _evidence(agreeing: Sequence[Proposal]) -> list[str]:
    """One reviewer's links as given; several reviewers', each link once, in order."""
    if len(agreeing) == 1:
        return list(agreeing[0].evidence)
    return list(dict.fromkeys(u for p in agreeing for u in p.evidence))


def _joined(parts: Sequence[tuple[str, str | None]], sep: str) -> str | None:
    """One reviewer's text as it is; several, each prefixed with who wrote it."""
    texts = [(who, text.strip()) for who, text in parts if text and text.strip()]
    if not texts:
        return None
    if len(parts) == 1:
        return texts[0][1]
    return sep.join(f"{who}: {text}" for who, text in texts)

"""Who is prompted about which question, and why: pure rules over plain data.

Why a question is listed (``reason_for``), most urgent first:

- ``disputed``: open proposals with different outcomes. Every reviewer is asked.
- ``pending``: open proposals that agree but are fewer than the quorum (a first
  resolution or a correction). Reviewers who have not proposed are asked: the assigned
  ones, else as many as the quorum still needs by the stable rotation; every one of them
  once the question is overdue.
- ``overdue``: past ``resolve_by`` and unresolved. Every reviewer is asked.
- ``closed``: past ``closes``, unresolved. Its reviewers are asked.
- ``possible_resolution``: still open, but news flagged a possible resolution. Its
  reviewers are asked. Nothing else is prompted before a question closes.

"Its reviewers" are the ones assigned in questions.yaml (``reviewers``) who can be
mailed; when there are none, one reviewer picked by the stable rotation (``ranked``).
Only reviewers with an email address can be prompted.

Cadence (``is_due``): a reviewer is prompted about a question the first time it needs
them, again whenever the reason changes (closed, then overdue or disputed), and again
every ``reprompt_days`` while it stays unresolved. At most one prompt a day reaches a
reviewer: the outbox key ``prompt:<day>:<handle>`` sees to that.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Reason = Literal["disputed", "pending", "overdue", "possible_resolution", "closed"]
#: Most urgent first: the order questions are listed in a prompt.
REASONS: tuple[Reason, ...] = ("disputed", "pending", "overdue", "possible_resolution", "closed")


@dataclass(frozen=True)
class OpenProposal:
    by: str
    outcome: str
    correction: bool = False


@dataclass(frozen=True)
class QuestionState:
    """What the rules need to know about one question."""

    id: str
    #: The status by the calendar and the resolution alone: upcoming, open, closed,
    #: overdue, resolved or annulled (proposals are in ``proposals``).
    status: str
    resolve_by: dt.date
    #: Reviewers assigned in questions.yaml.
    reviewers: tuple[str, ...] = ()
    #: Open proposals, oldest first.
    proposals: tuple[OpenProposal, ...] = ()
    #: News flagged a possible resolution (a match not marked irrelevant).
    flagged: bool = False


@dataclass(frozen=True)
class Reviewer:
    handle: str
    email: str | None


@dataclass(frozen=True)
class LastPrompt:
    """The latest prompt of one question to one reviewer."""

    day: dt.date
    reason: str


@dataclass(frozen=True)
class Item:
    question_id: str
    reason: Reason


@dataclass
class Plan:
    """Who gets which questions today. ``items`` is keyed by handle, each list in
    prompt order; ``unreachable`` says which assigned reviewers cannot be mailed."""

    items: dict[str, list[Item]] = field(default_factory=dict)
    unreachable: list[str] = field(default_factory=list)


def reason_for(q: QuestionState) -> Reason | None:
    """Why ``q`` needs a reviewer now, or None."""
    if q.proposals:
        return "disputed" if len({p.outcome for p in q.proposals}) > 1 else "pending"
    if q.status == "overdue":
        return "overdue"
    if q.status == "closed":
        return "closed"
    if q.status == "open" and q.flagged:
        return "possible_resolution"
    return None


def ranked(question_id: str, handles: Iterable[str]) -> list[str]:
    """The stable rotation: ``handles`` in the order they are asked about
    ``question_id``. Each reviewer gets a score from a hash of the question id and their
    handle; the highest goes first. So the same reviewer is picked on every run while the
    reviewers stay the same; questions spread evenly over reviewers; and when a reviewer
    joins or leaves, only the questions they gain or held move (not every question, as a
    turn-by-turn rotation over a changing list of questions would)."""

    def score(handle: str) -> bytes:
        return hashlib.sha256(f"{question_id}\0{handle}".encode()).digest()

    return sorted(handles, key=score, reverse=True)


def targets(q: QuestionState, reason: Reason, mailable: Sequence[str], quorum: int) -> list[str]:
    """The reviewers (handles, from ``mailable``) to ask about ``q`` for ``reason``."""
    if reason in ("disputed", "overdue"):
        return list(mailable)
    assigned = [h for h in q.reviewers if h in mailable]
    if reason == "pending":
        proposers = {p.by for p in q.proposals}
        others = [h for h in mailable if h not in proposers]
        if q.status == "overdue":
            return others
        still = max(quorum - len(q.proposals), 1)
        chosen = [h for h in assigned if h not in proposers]
        if len(chosen) < still:
            chosen += [h for h in ranked(q.id, others) if h not in chosen][: still - len(chosen)]
        return chosen
    if assigned:
        return assigned
    return ranked(q.id, mailable)[:1]


def is_due(last: LastPrompt | None, reason: str, today: dt.date, reprompt_days: int) -> bool:
    """Whether a reviewer last prompted ``last`` is prompted today for ``reason``."""
    if last is None or last.reason != reason:
        return True
    return (today - last.day).days >= reprompt_days


def plan(
    questions: Iterable[QuestionState],
    reviewers: Iterable[Reviewer],
    history: Mapping[tuple[str, str], LastPrompt],
    *,
    today: dt.date,
    reprompt_days: int,
    quorum: int,
) -> Plan:
    """Every prompt due today. ``history`` maps (question id, handle) to that pair's
    latest prompt before today."""
    people = sorted(reviewers, key=lambda r: r.handle)
    mailable = [r.handle for r in people if r.email]
    known = {r.handle for r in people}
    result = Plan()
    order = {r: i for i, r in enumerate(REASONS)}
    listed: list[tuple[int, dt.date, str, str, Reason]] = []
    for q in questions:
        reason = reason_for(q)
        if reason is None:
            continue
        for h in q.reviewers:
            if h not in mailable:
                why = "has no email address" if h in known else "is not a reviewer"
                result.unreachable.append(f"{q.id}: assigned reviewer {h} {why}")
        for handle in targets(q, reason, mailable, quorum):
            if is_due(history.get((q.id, handle)), reason, today, reprompt_days):
                listed.append((order[reason], q.resolve_by, q.id, handle, reason))
    for _, _, qid, handle, reason in sorted(listed):
        result.items.setdefault(handle, []).append(Item(qid, reason))
    return result

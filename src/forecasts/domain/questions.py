"""Questions: adding, syncing from questions.yaml, derived status, and read views."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from forecasts import clock
from forecasts.crowd import crowd
from forecasts.domain.people import CURATOR, PAPER, ensure_curator, ensure_paper
from forecasts.domain.values import ANNULLED, Value, fits
from forecasts.errors import BadInput, Conflict
from forecasts.store.models import Forecast, Proposal, Question, QuestionRevision, Resolution
from forecasts.suggest import closest, question_not_found

if TYPE_CHECKING:
    from forecasts.domain.schemas import QuestionSpec, ResolutionSpec

STATUSES = (
    "upcoming", "open", "closed", "overdue", "pending", "disputed", "resolved", "annulled"
)  # fmt: skip
#: Statuses of a question awaiting a resolution (`forecasts due`).
AWAITING = ("closed", "overdue", "pending", "disputed")
#: Fields whose change alters what forecasts mean; guarded by `sync --force`.
PROTECTED = ("type", "options", "criteria", "range_min", "range_max")


# ---------------------------------------------------------------- status (pure)


def status_of(
    q: Question, resolution: Resolution | None, at: dt.datetime, proposals: Sequence[str] = ()
) -> str:
    """The status at instant ``at``. Never stored, always derived.

    ``proposals`` are the outcomes of the question's open proposals (a review quorum
    above 1): one outcome proposed is ``pending``, different ones ``disputed``."""
    if resolution is not None:
        return "annulled" if resolution.outcome == ANNULLED else "resolved"
    if proposals:
        return "disputed" if len(set(proposals)) > 1 else "pending"
    if at < clock.start_of_day(q.opens):
        return "upcoming"
    if at < clock.end_of_day(q.closes):
        return "open"
    if at < clock.end_of_day(q.resolve_by):
        return "closed"
    return "overdue"


def as_of_instant(as_of: dt.date | None) -> dt.datetime:
    """``--as-of DAY`` means the state at the end of that UTC day; default is now."""
    if as_of is None:
        return clock.now()
    return clock.end_of_day(as_of) - dt.timedelta(microseconds=1)


# ---------------------------------------------------------------- writing


def spec_fields(spec: QuestionSpec) -> dict[str, Any]:
    """Map a validated spec onto Question columns."""
    return {
        "title": spec.title,
        "type": spec.type,
        "options": list(spec.options) if spec.options else None,
        "unit": spec.unit,
        "range_min": spec.min,
        "range_max": spec.max,
        "criteria": spec.criteria,
        "fine_print": spec.fine_print,
        "sources": [s.model_dump(exclude_none=True) for s in spec.sources],
        "opens": spec.opens,
        "closes": spec.closes,
        "resolve_by": spec.resolve_by,
        "tags": list(spec.tags),
        "claim_section": spec.claim.section if spec.claim else None,
        "claim_quote": spec.claim.quote if spec.claim else None,
        "news_query": spec.news,
        "resolution_terms": list(spec.resolution_terms),
        "reviewers": list(spec.reviewers),
    }


def get_question(session: Session, *, question_id: str) -> Question:
    q = session.get(Question, question_id)
    if q is None:
        raise question_not_found(session, question_id)
    return q


def _record_paper_forecast(session: Session, q: Question, value: Value) -> bool:
    """Record the paper's forecast at the question's opening unless it is already current."""
    latest = session.execute(
        select(Forecast)
        .where(col(Forecast.question_id) == q.id, col(Forecast.person) == PAPER)
        .order_by(col(Forecast.made_at).desc(), col(Forecast.id).desc())
        .limit(1)
    ).first()
    latest_value = latest[0].value if latest is not None else None
    if latest_value == value:
        return False
    ensure_paper(session)
    session.add(
        Forecast(
            question_id=q.id,
            person=PAPER,
            value=value,
            made_at=clock.start_of_day(q.opens),
            note="implied by the paper's wording (questions.yaml paper_forecast)",
        )
    )
    return True


def add_question(session: Session, *, spec: QuestionSpec) -> Question:
    """Create a question; refuse if the id is taken."""
    if session.get(Question, spec.id) is not None:
        raise Conflict(
            f"question {spec.id!r} already exists; edit questions.yaml and run `forecasts sync`"
        )
    now = clock.now()
    q = Question(id=spec.id, created_at=now, updated_at=now, **spec_fields(spec))
    session.add(q)
    session.flush()
    if spec.paper_value is not None:
        _record_paper_forecast(session, q, spec.paper_value)
    return q


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: Protected changes on questions with forecasts, applied only with --force.
    forced: list[str] = field(default_factory=list)
    #: Questions in the database that the file no longer lists (left alone).
    missing: list[str] = field(default_factory=list)
    #: Resolutions written in the file: applied for the first time, or corrected because
    #: the file's resolution changed since it was applied.
    resolved: list[str] = field(default_factory=list)
    corrected: list[str] = field(default_factory=list)
    dry_run: bool = False


@dataclass(frozen=True)
class FileResolution:
    """A resolution from questions.yaml that sync must record: the first one for its
    question (``reason`` None) or a correction saying what changed."""

    question_id: str
    resolution: ResolutionSpec
    reason: str | None = None


def _same(r: Resolution, spec: ResolutionSpec) -> bool:
    return _differences(r, spec) == []


def _differences(r: Resolution, spec: ResolutionSpec) -> list[str]:
    out = []
    if r.outcome != spec.outcome:
        out.append(f"outcome {r.outcome} -> {spec.outcome}")
    if r.resolved_on != spec.resolved_on:
        out.append(f"resolved_on {r.resolved_on} -> {spec.resolved_on}")
    if list(r.evidence) != spec.evidence:
        out.append("evidence")
    if (r.note or "") != spec.note:
        out.append("note")
    return out


def plan_file_resolutions(session: Session, specs: Sequence[QuestionSpec]) -> list[FileResolution]:
    """What the file's resolutions ask of the database. A question's file resolution is
    compared with the last one sync recorded from the file: unchanged, it asks nothing (so
    a reviewer's later correction stands); changed, it is a correction. With none recorded
    from the file yet, it is the first resolution, or a correction of a reviewer's
    resolution that says otherwise."""
    wanted = {s.id: s.resolution for s in specs if s.resolution is not None}
    if not wanted:
        return []
    rows = session.execute(
        select(Resolution)
        .where(col(Resolution.question_id).in_(list(wanted)))
        .order_by(col(Resolution.id))
    ).scalars()
    current: dict[str, Resolution] = {}
    from_file: dict[str, Resolution] = {}
    for r in rows:
        current[r.question_id] = r
        if r.by == CURATOR:
            from_file[r.question_id] = r
    steps = []
    for qid, spec in wanted.items():
        applied = from_file.get(qid)
        if applied is not None:
            if not _same(applied, spec):
                changes = ", ".join(_differences(applied, spec))
                steps.append(FileResolution(qid, spec, f"questions.yaml changed: {changes}"))
        elif qid not in current:
            steps.append(FileResolution(qid, spec))
        elif not _same(current[qid], spec):
            changes = ", ".join(_differences(current[qid], spec))
            steps.append(FileResolution(qid, spec, f"questions.yaml resolves it: {changes}"))
    return steps


def apply_file_resolutions(session: Session, steps: Sequence[FileResolution]) -> None:
    """Record the file's resolutions through the same path as `forecasts resolve`, by the
    ``curator`` reviewer. They are final: the file's change history is their review."""
    from forecasts.domain.resolution import resolve  # resolution imports this module

    if steps:
        ensure_curator(session)
    for step in steps:
        r = step.resolution
        resolve(
            session,
            question_id=step.question_id,
            outcome=r.outcome,
            by=CURATOR,
            evidence=r.evidence,
            note=r.note,
            on=r.resolved_on,
            correct=step.reason is not None,
            reason=step.reason,
            final=True,
        )


def _human_forecast_counts(session: Session, ids: Iterable[str]) -> dict[str, int]:
    rows = session.execute(
        select(col(Forecast.question_id), func.count())
        .where(col(Forecast.question_id).in_(list(ids)), col(Forecast.person) != PAPER)
        .group_by(col(Forecast.question_id))
    ).all()
    return {qid: n for qid, n in rows}


@dataclass
class _Edit:
    """One question of the file against the database: new (``question`` None), or the
    fields that would change, old and new."""

    spec: QuestionSpec
    question: Question | None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def protected(self) -> list[str]:
        return [k for k in PROTECTED if k in self.changes]


def sync_questions(
    session: Session,
    *,
    specs: Sequence[QuestionSpec],
    force: bool = False,
    dry_run: bool = False,
) -> SyncReport:
    """Upsert questions by id. Protected fields of questions with forecasts change only
    with ``force``, and every change to them is kept as a revision. Refuses as a whole,
    writing nothing, when any question would change without ``force``. Resolutions written
    in the file are applied once, and corrected when the file's resolution
    changes (plan_file_resolutions)."""
    report = SyncReport(dry_run=dry_run)
    existing = {q.id: q for q in session.execute(select(Question)).scalars()}
    edits = [_edit(spec, existing.get(spec.id)) for spec in specs]
    report.forced = _forced(edits, _human_forecast_counts(session, existing), force=force)
    report.missing = sorted(set(existing) - {s.id for s in specs})
    resolutions = plan_file_resolutions(session, specs)
    report.resolved = [r.question_id for r in resolutions if r.reason is None]
    report.corrected = [r.question_id for r in resolutions if r.reason is not None]
    now = clock.now()
    for edit in edits:
        forced = edit.spec.id in report.forced
        outcome = _apply(session, edit, forced=forced, dry_run=dry_run, now=now)
        getattr(report, outcome).append(edit.spec.id)
    if not dry_run:
        session.flush()
        apply_file_resolutions(session, resolutions)
    return report


def _edit(spec: QuestionSpec, question: Question | None) -> _Edit:
    if question is None:
        return _Edit(spec, None)
    wanted = spec_fields(spec)
    changes = {k: (getattr(question, k), v) for k, v in wanted.items() if getattr(question, k) != v}
    return _Edit(spec, question, changes)


def _forced(edits: Sequence[_Edit], forecasts: dict[str, int], *, force: bool) -> list[str]:
    """The questions whose protected fields change although people have forecast them:
    allowed only with ``force`` (their ids are returned), else the whole sync is refused."""
    touched = [e for e in edits if e.protected and forecasts.get(e.spec.id, 0) > 0]
    if touched and not force:
        blocked = "; ".join(f"{e.spec.id} ({', '.join(e.protected)})" for e in touched)
        raise Conflict(
            f"refusing to change questions that already have forecasts: {blocked}; "
            "forcing the sync applies the changes and records a revision",
            field="force",
        )
    return [e.spec.id for e in touched]


def _apply(session: Session, edit: _Edit, *, forced: bool, dry_run: bool, now: dt.datetime) -> str:
    """Add or update one question (or, on a dry run, only say which): the SyncReport list
    it belongs to, ``added``, ``updated`` or ``unchanged``."""
    q = edit.question
    if q is None:
        if not dry_run:
            add_question(session, spec=edit.spec)
        return "added"
    paper_changed = _sync_paper_forecast(session, q, edit, dry_run=dry_run)
    if not edit.changes and not paper_changed:
        return "unchanged"
    if not dry_run:
        _update(session, q, edit.changes, forced=forced, now=now)
    return "updated"


def _sync_paper_forecast(session: Session, q: Question, edit: _Edit, *, dry_run: bool) -> bool:
    """Whether the paper's forecast changes; recorded unless this is a dry run."""
    value = edit.spec.paper_value
    if value is None:
        return False
    if dry_run:
        return _paper_differs(session, q.id, value)
    # The field changes first, so the paper's forecast is made on the new opening day.
    for k, (_, v) in edit.changes.items():
        setattr(q, k, v)
    return _record_paper_forecast(session, q, value)


def _update(
    session: Session,
    q: Question,
    changes: dict[str, tuple[Any, Any]],
    *,
    forced: bool,
    now: dt.datetime,
) -> None:
    """Apply the changes; a change to a protected field is kept as a revision."""
    for k, (_, v) in changes.items():
        setattr(q, k, v)
    q.updated_at = now
    guarded = {k: [_jsonable(o), _jsonable(n)] for k, (o, n) in changes.items() if k in PROTECTED}
    if guarded:
        session.add(
            QuestionRevision(
                question_id=q.id,
                changed_at=now,
                changes=guarded,
                reason="sync --force" if forced else "sync",
                forced=forced,
            )
        )
    session.add(q)


def _paper_differs(session: Session, question_id: str, value: Value) -> bool:
    latest = session.execute(
        select(Forecast.value)
        .where(col(Forecast.question_id) == question_id, col(Forecast.person) == PAPER)
        .order_by(col(Forecast.made_at).desc(), col(Forecast.id).desc())
        .limit(1)
    ).first()
    return latest is None or latest[0] != value


def _jsonable(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.date) else v


# ---------------------------------------------------------------- reading


def current_resolutions(
    session: Session, ids: Iterable[str] | None = None, as_of: dt.date | None = None
) -> dict[str, Resolution]:
    """The newest resolution of each question (older ones are superseded); with ``as_of``,
    the newest of those resolved on or before that day."""
    stmt = select(Resolution).order_by(Resolution.id)  # type: ignore[arg-type]
    if ids is not None:
        stmt = stmt.where(Resolution.question_id.in_(list(ids)))  # type: ignore[attr-defined]
    if as_of is not None:
        stmt = stmt.where(Resolution.resolved_on <= as_of)  # type: ignore[arg-type]
    out: dict[str, Resolution] = {}
    for r in session.execute(stmt).scalars():
        out[r.question_id] = r
    return out


def open_proposals_at(
    session: Session, ids: Iterable[str] | None = None, at: dt.datetime | None = None
) -> dict[str, list[Proposal]]:
    """Each question's proposals that were open at ``at`` (default: now), oldest first.
    Proposals to correct a resolution are left out: the resolution stands meanwhile."""
    stmt = select(Proposal).where(col(Proposal.correction).is_(False)).order_by(col(Proposal.id))
    if ids is not None:
        stmt = stmt.where(col(Proposal.question_id).in_(list(ids)))
    if at is None:
        stmt = stmt.where(col(Proposal.state) == "open")
    else:
        stmt = stmt.where(
            col(Proposal.proposed_at) <= at,
            (col(Proposal.closed_at).is_(None)) | (col(Proposal.closed_at) > at),
        )
    out: dict[str, list[Proposal]] = defaultdict(list)
    for p in session.execute(stmt).scalars():
        out[p.question_id].append(p)
    return out


def latest_forecasts(
    session: Session, ids: Iterable[str] | None = None, before: dt.datetime | None = None
) -> dict[str, list[Forecast]]:
    """Each person's latest forecast per question (made before ``before``), oldest first."""
    stmt = select(Forecast)
    if ids is not None:
        stmt = stmt.where(Forecast.question_id.in_(list(ids)))  # type: ignore[attr-defined]
    if before is not None:
        stmt = stmt.where(Forecast.made_at <= before)  # type: ignore[arg-type]
    stmt = stmt.order_by(Forecast.made_at, Forecast.id)  # type: ignore[arg-type]
    latest: dict[tuple[str, str], Forecast] = {}
    for f in session.execute(stmt).scalars():
        latest[(f.question_id, f.person)] = f
    by_q: dict[str, list[Forecast]] = defaultdict(list)
    for f in sorted(latest.values(), key=lambda f: (f.made_at, f.id or 0)):
        by_q[f.question_id].append(f)
    return by_q


def crowd_value(q: Question, latest: Sequence[Forecast]) -> Value | None:
    """The crowd over latest forecasts (paper excluded, values that no longer fit skipped)."""
    vals = [f.value for f in latest if f.person != PAPER and fits(q, f.value)]
    return crowd(q.type, vals, q.options)


def paper_value(q: Question, latest: Sequence[Forecast]) -> Value | None:
    for f in latest:
        if f.person == PAPER and fits(q, f.value):
            return f.value
    return None


def _date(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def resolution_dict(r: Resolution, *, superseded: bool | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {
        "outcome": r.outcome,
        "by": r.by,
        "reviewers": list(r.reviewers) or [r.by],
        "resolved_on": _date(r.resolved_on),
        "evidence": list(r.evidence),
        "note": r.note,
        "recorded_at": clock.iso(r.recorded_at),
    }
    if superseded is not None:
        d["superseded"] = superseded
        d["correction_reason"] = r.correction_reason
    return d


def proposal_dict(p: Proposal, at: dt.datetime | None = None) -> dict[str, Any]:
    """One proposal for the audit. ``state`` is as of ``at``: a proposal closed later was
    still open then."""
    closed = p.closed_at is not None and (at is None or p.closed_at <= at)
    return {
        "by": p.by,
        "outcome": p.outcome,
        "resolved_on": _date(p.resolved_on),
        "evidence": list(p.evidence),
        "note": p.note,
        "correction": p.correction,
        "correction_reason": p.correction_reason,
        "proposed_at": clock.iso(p.proposed_at),
        "state": p.state if closed else "open",
        "withdrawn": closed and p.state == "withdrawn",
        "closed_at": clock.iso(p.closed_at) if closed else None,
    }


def summary(
    q: Question,
    resolution: Resolution | None,
    latest: Sequence[Forecast],
    at: dt.datetime,
    proposals: Sequence[Proposal] = (),
) -> dict[str, Any]:
    """The list view of one question, as plain data (``proposals``: its open ones)."""
    return {
        "id": q.id,
        "title": q.title,
        "type": q.type,
        "status": status_of(q, resolution, at, [p.outcome for p in proposals]),
        "opens": _date(q.opens),
        "closes": _date(q.closes),
        "resolve_by": _date(q.resolve_by),
        "tags": list(q.tags),
        "options": q.options,
        "unit": q.unit,
        "min": q.range_min,
        "max": q.range_max,
        "forecasters": sum(1 for f in latest if f.person != PAPER),
        "crowd": crowd_value(q, latest),
        "paper": paper_value(q, latest),
        "resolution": resolution_dict(resolution) if resolution else None,
    }


def list_questions(
    session: Session,
    *,
    status: str | None = None,
    tag: str | None = None,
    as_of: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Questions with derived status, crowd and paper forecasts, ordered by closing date."""
    if status is not None and status not in STATUSES:
        guess = closest(status, STATUSES)
        hint = f"did you mean {guess}? " if guess else ""
        raise BadInput(
            f"{status!r} is not a status; {hint}use one of {', '.join(STATUSES)}", field="status"
        )
    at = as_of_instant(as_of)
    questions = list(
        session.execute(select(Question).order_by(col(Question.closes), col(Question.id))).scalars()
    )
    if tag:
        questions = [q for q in questions if tag.lower() in q.tags]
    resolutions = current_resolutions(session, as_of=as_of)
    latest = latest_forecasts(session, before=at)
    proposals = open_proposals_at(session, at=at)
    rows = [
        summary(q, resolutions.get(q.id), latest.get(q.id, []), at, proposals.get(q.id, []))
        for q in questions
    ]
    if status:
        rows = [r for r in rows if r["status"] == status]
    return rows


def due_questions(session: Session, *, as_of: dt.date | None = None) -> list[dict[str, Any]]:
    """Questions awaiting resolution: closed, overdue, pending or disputed; most overdue
    first."""
    return awaiting(list_questions(session, as_of=as_of))


def awaiting(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The list rows of questions awaiting resolution, most overdue first."""
    due = [r for r in rows if r["status"] in AWAITING]
    return sorted(due, key=lambda r: (r["resolve_by"], r["id"]))


def question_detail(
    session: Session, *, question_id: str, as_of: dt.date | None = None
) -> dict[str, Any]:
    """Everything about one question: the list view plus text, history and revisions."""
    q = get_question(session, question_id=question_id)
    at = as_of_instant(as_of)
    history = _resolution_history(session, q.id, as_of)
    forecasts = _forecasts_made_by(session, q.id, at)
    open_now = open_proposals_at(session, [q.id], at).get(q.id, [])
    d = summary(q, history[-1] if history else None, _latest_each(forecasts), at, open_now)
    d.update(_text_fields(q))
    d.update(
        {
            "forecasts": [_forecast_dict(f) for f in forecasts],
            "resolutions": [
                resolution_dict(r, superseded=i < len(history) - 1) for i, r in enumerate(history)
            ],
            "proposals": [proposal_dict(p, at) for p in _proposals_made_by(session, q.id, at)],
            "revisions": [_revision_dict(r) for r in _revisions(session, q.id)],
            "days_until": days_until(q, at.date()),
            "crowd_history": [
                {"at": clock.iso(when), "crowd": value}
                for when, value in crowd_history(q, forecasts)
            ],
        }
    )
    return d


def _resolution_history(
    session: Session, question_id: str, as_of: dt.date | None
) -> list[Resolution]:
    """Every resolution, oldest first (the last is current); with ``as_of``, those resolved
    on or before that day."""
    stmt = select(Resolution).where(col(Resolution.question_id) == question_id)
    if as_of is not None:
        stmt = stmt.where(col(Resolution.resolved_on) <= as_of)
    return list(session.execute(stmt.order_by(col(Resolution.id))).scalars())


def _forecasts_made_by(session: Session, question_id: str, at: dt.datetime) -> list[Forecast]:
    return list(
        session.execute(
            select(Forecast)
            .where(col(Forecast.question_id) == question_id, col(Forecast.made_at) <= at)
            .order_by(col(Forecast.made_at), col(Forecast.id))
        ).scalars()
    )


def _latest_each(forecasts: Sequence[Forecast]) -> list[Forecast]:
    """Each person's latest forecast, oldest first (``forecasts`` in the order made)."""
    latest = {f.person: f for f in forecasts}
    return sorted(latest.values(), key=lambda f: (f.made_at, f.id or 0))


def _proposals_made_by(session: Session, question_id: str, at: dt.datetime) -> list[Proposal]:
    return list(
        session.execute(
            select(Proposal)
            .where(col(Proposal.question_id) == question_id, col(Proposal.proposed_at) <= at)
            .order_by(col(Proposal.id))
        ).scalars()
    )


def _revisions(session: Session, question_id: str) -> list[QuestionRevision]:
    return list(
        session.execute(
            select(QuestionRevision)
            .where(col(QuestionRevision.question_id) == question_id)
            .order_by(col(QuestionRevision.id))
        ).scalars()
    )


def _text_fields(q: Question) -> dict[str, Any]:
    return {
        "criteria": q.criteria,
        "fine_print": q.fine_print,
        "sources": list(q.sources),
        "claim": {"section": q.claim_section, "quote": q.claim_quote} if q.claim_quote else None,
        "news": q.news_query,
        "resolution_terms": list(q.resolution_terms),
        "reviewers": list(q.reviewers),
        "created_at": clock.iso(q.created_at),
        "updated_at": clock.iso(q.updated_at),
    }


def _forecast_dict(f: Forecast) -> dict[str, Any]:
    return {
        "by": f.person,
        "value": f.value,
        "made_at": clock.iso(f.made_at),
        "recorded_at": clock.iso(f.recorded_at),
        "note": f.note,
    }


def _revision_dict(r: QuestionRevision) -> dict[str, Any]:
    return {
        "changed_at": clock.iso(r.changed_at),
        "changes": r.changes,
        "reason": r.reason,
        "forced": r.forced,
    }


def days_until(q: Question, today: dt.date) -> dict[str, int]:
    """Days from ``today`` to the question's opening, closing and resolve-by days (negative
    once past): what `show` says as "closes in 12 days"."""
    return {
        "opens": (q.opens - today).days,
        "closes": (q.closes - today).days,
        "resolve_by": (q.resolve_by - today).days,
    }


#: At most this many points of a question's crowd history (a sparkline's width in `show`).
CROWD_HISTORY_POINTS = 40


def crowd_history(
    q: Question, forecasts: Sequence[Forecast], points: int = CROWD_HISTORY_POINTS
) -> list[tuple[dt.datetime, Value]]:
    """The crowd as it stood after each forecaster's forecast, oldest first (``forecasts``
    in the order they were made; the paper's are not part of the crowd). With more than
    ``points`` forecasts, ``points`` of them evenly spread, the first and the last among
    them."""
    human = [f for f in forecasts if f.person != PAPER]
    n = len(human)
    if n > points:
        kept = {round(i * (n - 1) / (points - 1)) for i in range(points)}
    else:
        kept = set(range(n))
    latest: dict[str, Forecast] = {}
    out = []
    for i, f in enumerate(human):
        latest[f.person] = f
        if i not in kept:
            continue
        value = crowd_value(q, sorted(latest.values(), key=lambda x: (x.made_at, x.id or 0)))
        if value is not None:
            out.append((f.made_at, value))
    return out

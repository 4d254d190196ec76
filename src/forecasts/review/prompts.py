"""Resolution prompts: ``send_prompts`` is the one call the CLI (``forecasts prompts``)
and the scheduler make.

A run reads what the rules need (``plan``), decides who gets which questions today,
builds one email per reviewer listing their questions (why each is listed, criteria
and fine print, the crowd and the paper's forecast, the news, and the exact commands),
queues each under ``prompt:<day>:<handle>`` with a line per question in the prompt log,
and delivers the outbox. A key already queued that day is left alone, so a second run
on the same day sends nothing new.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session, col

from forecasts import clock
from forecasts.review.plan import (
    Item,
    LastPrompt,
    OpenProposal,
    Plan,
    QuestionState,
    Reviewer,
    plan,
)

if TYPE_CHECKING:
    from email.message import EmailMessage

    from forecasts.mail.outbox import DeliveryReport
    from forecasts.mail.settings import MailSettings
    from forecasts.review.settings import ReviewSettings
    from forecasts.runtime import Runtime
    from forecasts.store.models import Question

#: Most questions listed in one prompt; the rest wait for the next day's.
MAX_QUESTIONS = 50
#: Most articles shown per question.
MAX_ARTICLES = 5

WHY = {
    "disputed": "disputed",
    "pending": "pending a second reviewer",
    "overdue": "overdue",
    "possible_resolution": "possible resolution flagged by news",
    "closed": "closed",
}


@dataclass(frozen=True)
class PromptedQuestion:
    question_id: str
    title: str
    reason: str


@dataclass(frozen=True)
class ReviewerPrompt:
    """One reviewer's prompt of the day."""

    handle: str
    email: str
    key: str
    subject: str
    questions: tuple[PromptedQuestion, ...]
    #: Due but left for another day (more than MAX_QUESTIONS).
    more: int = 0
    #: False when this key was already in the outbox (an earlier run today), or on a
    #: dry run.
    queued: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "handle": self.handle,
            "email": self.email,
            "key": self.key,
            "subject": self.subject,
            "questions": [
                {"id": q.question_id, "title": q.title, "reason": q.reason} for q in self.questions
            ],
            "more": self.more,
            "queued": self.queued,
        }


@dataclass
class PromptRun:
    """What ``send_prompts`` did."""

    day: dt.date
    dry_run: bool
    prompts: list[ReviewerPrompt] = field(default_factory=list)
    #: Assigned reviewers who cannot be prompted, and why.
    warnings: list[str] = field(default_factory=list)
    #: The outbox delivery that followed (None on a dry run).
    delivery: DeliveryReport | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "dry_run": self.dry_run,
            "prompts": [p.to_dict() for p in self.prompts],
            "warnings": list(self.warnings),
            "delivery": None if self.delivery is None else self.delivery.to_dict(),
        }


def send_prompts(
    runtime: Runtime, *, as_of: dt.date | None = None, dry_run: bool = False
) -> PromptRun:
    """Prompt every reviewer who is due a prompt on ``as_of`` (default today), then
    deliver the outbox. ``dry_run`` builds the prompts and queues and sends nothing."""
    from forecasts.domain.questions import as_of_instant
    from forecasts.mail.outbox import deliver

    settings = runtime.settings
    day = as_of or clock.today()
    at = as_of_instant(as_of)
    with runtime.session() as session:
        state = _load(session, at=at, day=day, reprompt_days=settings.review.reprompt_days)
        todo = plan(
            state.questions.values(),
            state.reviewers.values(),
            state.history,
            today=day,
            reprompt_days=settings.review.reprompt_days,
            quorum=settings.review.quorum,
        )
        built = _build_all(session, todo, state, day=day, at=at, settings=settings)
    run = PromptRun(day=day, dry_run=dry_run, warnings=sorted(set(todo.unreachable)))
    if dry_run:
        run.prompts = [p for p, _ in built]
        return run
    run.prompts = _queue(runtime, built, day=day)
    run.delivery = deliver(runtime)
    return run


# ------------------------------------------------------------------------------ reading


@dataclass
class _State:
    questions: dict[str, QuestionState]
    reviewers: dict[str, Reviewer]
    names: dict[str, str | None]
    history: dict[tuple[str, str], LastPrompt]
    rows: dict[str, Question]
    proposals: dict[str, list[Any]]


def _load(session: Session, *, at: dt.datetime, day: dt.date, reprompt_days: int) -> _State:
    from forecasts.domain.questions import current_resolutions, status_of
    from forecasts.store.models import Person, Proposal, Question

    people = list(session.execute(sa.select(Person).order_by(col(Person.handle))).scalars())
    reviewers = {p.handle: Reviewer(p.handle, p.email) for p in people if "reviewer" in p.roles}
    names = {p.handle: p.name for p in people}
    rows = {q.id: q for q in session.execute(sa.select(Question)).scalars()}
    resolutions = current_resolutions(session, as_of=at.date())
    proposals: dict[str, list[Proposal]] = defaultdict(list)
    for p in session.execute(
        sa.select(Proposal)
        .where(
            col(Proposal.proposed_at) <= at,
            col(Proposal.closed_at).is_(None) | (col(Proposal.closed_at) > at),
        )
        .order_by(col(Proposal.id))
    ).scalars():
        proposals[p.question_id].append(p)
    flagged = _flagged(session, at)
    questions = {}
    for q in rows.values():
        questions[q.id] = QuestionState(
            id=q.id,
            status=status_of(q, resolutions.get(q.id), at),
            resolve_by=q.resolve_by,
            reviewers=tuple(q.reviewers),
            proposals=tuple(
                OpenProposal(p.by, p.outcome, p.correction) for p in proposals.get(q.id, [])
            ),
            flagged=q.id in flagged,
        )
    return _State(
        questions=questions,
        reviewers=reviewers,
        names=names,
        history=_history(session, day=day, reprompt_days=reprompt_days),
        rows=rows,
        proposals=proposals,
    )


def _flagged(session: Session, at: dt.datetime) -> set[str]:
    """Questions with a match news flagged as a possible resolution (not marked
    irrelevant) by ``at``."""
    from forecasts.news.models import ArticleMatch

    return set(
        session.execute(
            sa.select(col(ArticleMatch.question_id))
            .where(
                col(ArticleMatch.possible_resolution).is_(True),
                col(ArticleMatch.relevant).is_not(False),
                col(ArticleMatch.matched_at) <= at,
            )
            .distinct()
        ).scalars()
    )


def _history(
    session: Session, *, day: dt.date, reprompt_days: int
) -> dict[tuple[str, str], LastPrompt]:
    """The latest prompt before ``day`` of each (question, reviewer) that can still hold
    back a prompt: one older than ``reprompt_days`` never does."""
    from forecasts.review.models import ReviewPrompt

    since = day - dt.timedelta(days=reprompt_days)
    rows = session.execute(
        sa.select(
            col(ReviewPrompt.question_id),
            col(ReviewPrompt.handle),
            col(ReviewPrompt.day),
            col(ReviewPrompt.reason),
        )
        .where(col(ReviewPrompt.day) > since, col(ReviewPrompt.day) < day)
        .order_by(col(ReviewPrompt.day), col(ReviewPrompt.id))
    ).all()
    return {(qid, handle): LastPrompt(d, reason) for qid, handle, d, reason in rows}


@dataclass(frozen=True)
class _Article:
    title: str
    source: str
    published: dt.datetime | None
    url: str
    possible_resolution: bool


def _articles(
    session: Session, wanted: dict[str, tuple[dt.datetime | None, bool]], at: dt.datetime
) -> dict[str, list[_Article]]:
    """Matched articles per question, newest first, at most MAX_ARTICLES each.

    ``wanted`` maps a question id to (published on or after, flagged only)."""
    from forecasts.news.models import Article, ArticleMatch

    if not wanted:
        return {}
    when = sa.func.coalesce(col(Article.published), col(Article.fetched_at))
    rows = session.execute(
        sa.select(
            col(ArticleMatch.question_id),
            col(ArticleMatch.possible_resolution),
            col(Article.title),
            col(Article.source),
            col(Article.published),
            col(Article.url),
            when.label("when"),
        )
        .join(Article, col(Article.id) == col(ArticleMatch.article_id))
        .where(
            col(ArticleMatch.question_id).in_(list(wanted)),
            col(ArticleMatch.relevant).is_not(False),
            col(ArticleMatch.matched_at) <= at,
        )
        .order_by(col(ArticleMatch.question_id), when.desc(), col(Article.id).desc())
    ).all()
    out: dict[str, list[_Article]] = defaultdict(list)
    for qid, flagged, title, source, published, url, _when in rows:
        since, flagged_only = wanted[qid]
        if flagged_only and not flagged:
            continue
        if since is not None and clock.as_utc(_when) < since:
            continue
        if len(out[qid]) < MAX_ARTICLES:
            out[qid].append(_Article(title, source, published, url, bool(flagged)))
    return out


# ------------------------------------------------------------------------------ building


def _build_all(
    session: Session,
    todo: Plan,
    state: _State,
    *,
    day: dt.date,
    at: dt.datetime,
    settings: Any,
) -> list[tuple[ReviewerPrompt, EmailMessage]]:
    from forecasts.domain.questions import crowd_value, latest_forecasts, paper_value

    listed = {
        it.question_id: it.reason for items in todo.items.values() for it in items[:MAX_QUESTIONS]
    }
    latest = latest_forecasts(session, listed, before=at)
    wanted: dict[str, tuple[dt.datetime | None, bool]] = {}
    for qid, reason in listed.items():
        q = state.rows[qid]
        flagged_only = reason == "possible_resolution"
        wanted[qid] = (None if flagged_only else clock.start_of_day(q.closes), flagged_only)
    news = _articles(session, wanted, at)
    resolutions = _current(session, listed, at)
    cards: dict[str, dict[str, Any]] = {}
    for qid in listed:
        q = state.rows[qid]
        cards[qid] = _card(
            q,
            crowd=crowd_value(q, latest.get(qid, [])),
            paper=paper_value(q, latest.get(qid, [])),
            articles=news.get(qid, []),
            proposals=state.proposals.get(qid, []),
            resolution=resolutions.get(qid),
            quorum=settings.review.quorum,
        )
    built = []
    for handle, items in sorted(todo.items.items()):
        reviewer = state.reviewers[handle]
        assert reviewer.email is not None
        shown, more = items[:MAX_QUESTIONS], len(items) - MAX_QUESTIONS
        built.append(
            _prompt(
                reviewer,
                state.names.get(handle),
                shown,
                max(more, 0),
                cards,
                day=day,
                mail=settings.mail,
                review=settings.review,
            )
        )
    return built


def _current(session: Session, ids: Iterable[str], at: dt.datetime) -> dict[str, Any]:
    from forecasts.domain.questions import current_resolutions

    return current_resolutions(session, list(ids), as_of=at.date())


def _card(
    q: Question,
    *,
    crowd: Any,
    paper: Any,
    articles: Sequence[_Article],
    proposals: Sequence[Any],
    resolution: Any,
    quorum: int,
) -> dict[str, Any]:
    """Everything the templates show about one question, as plain data."""
    from forecasts.domain.values import format_value

    return {
        "id": q.id,
        "title": q.title,
        "type": q.type,
        "options": list(q.options or []),
        "unit": q.unit,
        "closes": q.closes.isoformat(),
        "resolve_by": q.resolve_by.isoformat(),
        "criteria": q.criteria,
        "fine_print": q.fine_print,
        "crowd": format_value(crowd) if crowd is not None else "no forecasts yet",
        "paper": format_value(paper) if paper is not None else "none",
        "articles": [
            {
                "title": a.title,
                "source": a.source,
                "date": a.published.date().isoformat() if a.published else "undated",
                "url": a.url,
                "flagged": a.possible_resolution,
            }
            for a in articles
        ],
        "proposals": [
            {
                "by": p.by,
                "outcome": p.outcome,
                "on": p.resolved_on.isoformat(),
                "evidence": list(p.evidence),
                "note": p.note,
                "correction": p.correction,
                "reason": p.correction_reason,
            }
            for p in proposals
        ],
        "resolution": (
            {"outcome": resolution.outcome, "on": resolution.resolved_on.isoformat()}
            if resolution is not None
            else None
        ),
        "quorum": quorum,
    }


def _why(reason: str, card: dict[str, Any]) -> str:
    """One line saying why the question is in this prompt."""
    props = card["proposals"]
    if reason in ("pending", "disputed"):
        correction = any(p["correction"] for p in props)
        said = ", ".join(f"{p['by']} proposed {p['outcome']}" for p in props)
        what = (
            f"a correction of {card['resolution']['outcome']}"
            if correction and card["resolution"]
            else "an outcome"
        )
        if reason == "disputed":
            return f"disputed: {said}; settle {what} by agreeing, changing or withdrawing"
        need = card["quorum"] - len(props)
        return (
            f"pending a second reviewer: {said} ({what}); "
            f"{need} more reviewer{'' if need == 1 else 's'} must agree"
        )
    if reason == "overdue":
        return f"overdue: it was to be resolved by {card['resolve_by']} (sent to every reviewer)"
    if reason == "possible_resolution":
        return f"possible resolution flagged by news (it closes on {card['closes']})"
    return f"closed on {card['closes']}; to be resolved by {card['resolve_by']}"


def resolve_commands(
    *,
    question_id: str,
    qtype: str,
    options: Sequence[str],
    reason: str,
    proposals: Sequence[OpenProposal],
    resolved: bool,
    handle: str,
) -> list[str]:
    """The exact commands with which reviewer ``handle`` answers ``question_id``, listed
    for ``reason`` (a ``plan.Reason``): one per outcome (the proposed ones when pending or
    disputed), with a correction's flags when the question is ``resolved`` or a
    correction is proposed, and a withdrawal when ``handle`` has a proposal open. The
    prompts and the weekly digest both print these."""
    correction = any(p.correction for p in proposals) or (
        resolved and reason in ("pending", "disputed")
    )
    tail = f"--by {handle} --evidence URL"
    if correction:
        tail += ' --correct --reason "WHY"'
    outcomes: list[str] = []
    if reason in ("pending", "disputed"):
        outcomes = list(dict.fromkeys(p.outcome for p in proposals))
    elif qtype == "binary":
        outcomes = ["yes", "no"]
    elif qtype == "choice":
        outcomes = [_quoted(o) for o in options]
    else:
        outcomes = ["NUMBER"]
    lines = [f"forecasts resolve {question_id} {o} {tail}" for o in outcomes]
    if reason in ("pending", "disputed") and any(p.by == handle for p in proposals):
        lines.append(f"forecasts resolve {question_id} --withdraw --by {handle}")
    return lines


def _quoted(option: str) -> str:
    import shlex

    return shlex.quote(option)


def _prompt(
    reviewer: Reviewer,
    name: str | None,
    items: Sequence[Item],
    more: int,
    cards: dict[str, dict[str, Any]],
    *,
    day: dt.date,
    mail: MailSettings,
    review: ReviewSettings,
) -> tuple[ReviewerPrompt, EmailMessage]:
    from forecasts.mail.message import address, build_message, render

    assert reviewer.email is not None
    entries = []
    for it in items:
        card = cards[it.question_id]
        entries.append(
            {
                **card,
                "reason": it.reason,
                "reason_label": WHY[it.reason],
                "why": _why(it.reason, card),
                "commands": resolve_commands(
                    question_id=card["id"],
                    qtype=card["type"],
                    options=card["options"],
                    reason=it.reason,
                    proposals=[
                        OpenProposal(p["by"], p["outcome"], p["correction"])
                        for p in card["proposals"]
                    ],
                    resolved=card["resolution"] is not None,
                    handle=reviewer.handle,
                ),
                "news_heading": (
                    "Flagged by news as a possible resolution"
                    if it.reason == "possible_resolution"
                    else "News since it closed"
                ),
            }
        )
    first = cards[items[0].question_id]["title"]
    n = len(items) + more
    subject = (
        f"Resolve: {first}" if n == 1 else f"{n} questions to resolve: {first} and {n - 1} more"
    )
    context = {
        "handle": reviewer.handle,
        "name": name or reviewer.handle,
        "questions": entries,
        "more": more,
        "day": day.isoformat(),
        "reprompt_days": review.reprompt_days,
        "quorum": review.quorum,
        "require_evidence": review.require_evidence,
    }
    body = render("prompt", context)
    message = build_message(
        sender=mail.sender_address,
        to=[address(reviewer.email, name)],
        subject=subject,
        text=body.text,
        html=body.html,
    )
    prompt = ReviewerPrompt(
        handle=reviewer.handle,
        email=reviewer.email,
        key=prompt_key(day, reviewer.handle),
        subject=str(message["Subject"]),
        questions=tuple(
            PromptedQuestion(it.question_id, cards[it.question_id]["title"], it.reason)
            for it in items
        ),
        more=more,
    )
    return prompt, message


def prompt_key(day: dt.date, handle: str) -> str:
    """The outbox key of ``handle``'s prompt on ``day``: one a day, whoever asks."""
    return f"prompt:{day.isoformat()}:{handle}"


# ------------------------------------------------------------------------------ queueing


def _queue(
    runtime: Runtime, built: Sequence[tuple[ReviewerPrompt, EmailMessage]], *, day: dt.date
) -> list[ReviewerPrompt]:
    """Queue each prompt and log its questions, in one transaction; a key already in the
    outbox is left alone and logs nothing."""
    from dataclasses import replace

    from forecasts.mail.outbox import enqueue
    from forecasts.review.models import ReviewPrompt

    done = []
    log: list[dict[str, Any]] = []
    with runtime.session(write=True) as session:
        for prompt, message in built:
            queued = enqueue(session, key=prompt.key, message=message)
            if queued:
                log += [
                    {
                        "question_id": q.question_id,
                        "handle": prompt.handle,
                        "reason": q.reason,
                        "day": day,
                        "outbox_key": prompt.key,
                    }
                    for q in prompt.questions
                ]
            done.append(replace(prompt, queued=queued))
        if log:
            session.execute(sa.insert(ReviewPrompt), log)
    return done

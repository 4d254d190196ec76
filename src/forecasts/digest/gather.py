"""One read of everything the week's digests share, done once for all readers.

``gather`` reads the database once, as it stood at the end of the week, and works out
per question what every reader would otherwise need to work out again: the crowd and
the paper's forecast, who is asked to resolve what, the week's top news, the crowd's
moves, the week's resolutions with their final forecasts, and the report (everyone's
calibration and Brier). ``digest.sections`` then picks each reader's share of it without
touching the database.

Instants (when a forecast was made, an article published, a resolution recorded) are
compared with the week's bounds in the schedule's time zone; days (closes, resolve_by,
resolved_on) are the UTC days the rest of forecasts uses, and the state "as of" the week
is as of the UTC day of its last instant (as ``forecasts due --as-of`` and ``forecasts
report --as-of`` read it), so it counts every resolution recorded in the week.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import sqlalchemy as sa
from sqlmodel import Session, col

from forecasts.digest.weeks import IsoWeek
from forecasts.domain.questions import crowd_value, current_resolutions, paper_value, status_of
from forecasts.news.models import Article as ArticleRow
from forecasts.news.models import ArticleMatch
from forecasts.review.plan import REASONS, OpenProposal, QuestionState, reason_for, targets
from forecasts.store.models import Forecast, Person, Proposal, Question, Resolution

if TYPE_CHECKING:
    from forecasts.domain.values import Value
    from forecasts.report.build import QuestionFinals, Report

#: Questions closing within this many days after the week are "closing soon".
CLOSING_DAYS = 14
#: A forecast older than this (at the week's end) counts as stale for "Closing soon".
STALE_DAYS = 30
#: Articles shown per question.
MAX_ARTICLES = 5
#: The crowd "moved" when a probability changed by this much (10 points), or a numeric
#: question's median by this share of its range.
MOVE = 0.10
#: What a reason for resolving is called in the digest ("closed" is simply due).
AWAITING_LABELS = {
    "closed": "due",
    "overdue": "overdue",
    "pending": "pending",
    "disputed": "disputed",
}


@dataclass(frozen=True)
class Reader:
    """A person; a reader of the digest when they have an email address and the digest
    on."""

    handle: str
    name: str | None
    email: str | None
    reviewer: bool
    digest: bool

    @property
    def reads(self) -> bool:
        return bool(self.email) and self.digest


@dataclass(frozen=True)
class Card:
    """What every section shows about a question, as of the week's end."""

    id: str
    title: str
    type: str
    options: tuple[str, ...]
    unit: str | None
    closes: dt.date
    resolve_by: dt.date
    reviewers: tuple[str, ...]
    status: str


@dataclass(frozen=True)
class Awaiting:
    """A question awaiting resolution, why (a ``review.plan`` reason other than a
    possible resolution) and the reviewers asked, as the prompts pick them."""

    question_id: str
    reason: str
    asked: tuple[str, ...]
    proposals: tuple[OpenProposal, ...]
    resolved: bool


@dataclass(frozen=True)
class Article:
    title: str
    url: str
    source: str
    published: dt.datetime | None
    score: float
    possible_resolution: bool
    gdelt_only: bool


@dataclass(frozen=True)
class QuestionNews:
    """A question's matched articles of the week: the best ``MAX_ARTICLES`` by score
    (which carries the breadth penalty: docs/news.md), and how many there were."""

    question_id: str
    articles: tuple[Article, ...]
    total: int
    flagged: int

    @property
    def best(self) -> float:
        return self.articles[0].score if self.articles else 0.0


@dataclass(frozen=True)
class Move:
    """The crowd's forecast on a question at the week's start and end. ``component``
    is what moved: None for a binary question's probability, an option's name, or
    ``p50`` for a numeric question's median; ``size`` is the change in points of
    probability (or share of the range), signed."""

    question_id: str
    component: str | None
    before: float
    after: float
    size: float


@dataclass(frozen=True)
class WeekResolution:
    """A resolution recorded in the week (the question's current one at its end)."""

    question_id: str
    outcome: str
    resolved_on: dt.date
    corrected: bool
    #: The final forecasts the report scores it by (None: annulled, or not scored).
    finals: QuestionFinals | None


@dataclass
class Gathered:
    """The week, as every reader's digest needs it."""

    week: IsoWeek
    zone: dt.tzinfo
    start: dt.datetime
    end: dt.datetime
    readers: list[Reader]
    cards: dict[str, Card]
    awaiting: list[Awaiting]
    #: Open questions closing soon, by closing day.
    closing: list[str]
    #: handle -> question id -> their latest forecast at the week's end.
    standing: dict[str, dict[str, Standing]]
    #: The crowd's and the paper's forecasts at the week's end, on the questions closing
    #: soon (the only section that shows them).
    crowd: dict[str, Value | None]
    paper: dict[str, Value | None]
    #: Questions with news this week, best first.
    news: list[QuestionNews]
    #: The crowd's moves of at least MOVE, largest first.
    moves: list[Move]
    resolutions: list[WeekResolution]
    report: Report


def gather(session: Session, week: IsoWeek, zone: dt.tzinfo, *, quorum: int) -> Gathered:
    """Everything the digests of ``week`` share, read in one session."""
    start, end = week.bounds(zone)
    at = end - dt.timedelta(microseconds=1)  # the week's last instant
    day = at.date()  # its UTC day: the day resolutions and the report are read as of
    people = _people(session)
    questions = {q.id: q for q in session.execute(sa.select(Question)).scalars()}
    resolutions = _resolutions(session, day, start, end)
    proposals = _proposals(session, at)
    latest_start, latest_end = _latest_forecasts(session, start, end)
    cards = _cards(questions, resolutions.current, proposals, at)
    closing = _closing(cards, week)
    report, finals = _report(session, day, resolutions.in_week)
    return Gathered(
        week=week,
        zone=zone,
        start=start,
        end=end,
        readers=[r for r in people if r.reads],
        cards=cards,
        awaiting=_awaiting(questions, resolutions.current, proposals, people, at, quorum),
        closing=closing,
        standing=_standing(latest_end),
        crowd={qid: _crowd(questions[qid], latest_end.get(qid, [])) for qid in closing},
        paper={qid: _paper(questions[qid], latest_end.get(qid, [])) for qid in closing},
        news=_news(session, start, end),
        moves=_moves(questions, latest_start, latest_end),
        resolutions=[
            WeekResolution(
                question_id=r.question_id,
                outcome=r.outcome,
                resolved_on=r.resolved_on,
                corrected=r.question_id in resolutions.corrected,
                finals=finals.get(r.question_id),
            )
            for r in resolutions.in_week
        ],
        report=report,
    )


# ---------------------------------------------------------------------------- people


def _people(session: Session) -> list[Reader]:
    """Everyone, by handle: the readers, and the reviewers the prompts' rules pick from
    (a reviewer with the digest off is still asked to resolve, by the prompts)."""
    rows = session.execute(sa.select(Person).order_by(col(Person.handle))).scalars()
    return [Reader(p.handle, p.name, p.email, "reviewer" in p.roles, p.digest) for p in rows]


# ----------------------------------------------------------------------- resolutions


@dataclass
class _Resolutions:
    #: Each question's current resolution as of the day.
    current: dict[str, Resolution]
    #: Those recorded in the week, oldest first.
    in_week: list[Resolution]
    #: Questions of ``in_week`` whose resolution corrected an earlier one.
    corrected: set[str]


def _resolutions(
    session: Session, day: dt.date, start: dt.datetime, end: dt.datetime
) -> _Resolutions:
    """The current resolutions as of ``day``, as ``forecasts due --as-of`` reads them.
    "Resolved this week" is what was recorded in the week: a resolution recorded on
    Monday morning with the day before as its day is in the next week's digest, not lost
    between two."""
    current = current_resolutions(session, as_of=day)
    in_week = sorted(
        (r for r in current.values() if start <= r.recorded_at < end),
        key=lambda r: (r.recorded_at, r.id or 0),
    )
    corrected: set[str] = set()
    if in_week:
        rows = session.execute(
            sa.select(col(Resolution.question_id))
            .where(
                col(Resolution.question_id).in_([r.question_id for r in in_week]),
                col(Resolution.resolved_on) <= day,
            )
            .group_by(col(Resolution.question_id))
            .having(sa.func.count() > 1)
        ).scalars()
        corrected = set(rows)
    return _Resolutions(current, in_week, corrected)


def _proposals(session: Session, at: dt.datetime) -> dict[str, list[OpenProposal]]:
    """Proposals open at ``at`` (corrections included), oldest first."""
    rows = session.execute(
        sa.select(
            col(Proposal.question_id),
            col(Proposal.by),
            col(Proposal.outcome),
            col(Proposal.correction),
        )
        .where(
            col(Proposal.proposed_at) <= at,
            col(Proposal.closed_at).is_(None) | (col(Proposal.closed_at) > at),
        )
        .order_by(col(Proposal.id))
    ).all()
    out: dict[str, list[OpenProposal]] = defaultdict(list)
    for qid, by, outcome, correction in rows:
        out[qid].append(OpenProposal(by, outcome, bool(correction)))
    return out


def _awaiting(
    questions: dict[str, Question],
    current: dict[str, Resolution],
    proposals: dict[str, list[OpenProposal]],
    people: Sequence[Reader],
    at: dt.datetime,
    quorum: int,
) -> list[Awaiting]:
    """The questions awaiting resolution at ``at``, most urgent first, each with the
    reviewers the prompts' rules ask (``review.plan``)."""
    mailable = [p.handle for p in people if p.reviewer and p.email]
    order = {r: i for i, r in enumerate(REASONS)}
    found = []
    for q in questions.values():
        state = QuestionState(
            id=q.id,
            status=status_of(q, current.get(q.id), at),
            resolve_by=q.resolve_by,
            reviewers=tuple(q.reviewers),
            proposals=tuple(proposals.get(q.id, ())),
        )
        reason = reason_for(state)
        if reason is None or reason not in AWAITING_LABELS:
            continue
        asked = tuple(targets(state, reason, mailable, quorum))
        found.append(
            (
                (order[reason], q.resolve_by, q.id),
                Awaiting(q.id, reason, asked, state.proposals, q.id in current),
            )
        )
    return [a for _, a in sorted(found, key=lambda pair: pair[0])]


# ------------------------------------------------------------------------- forecasts


class Standing(NamedTuple):
    """A person's latest forecast on a question, with what ``crowd_value`` reads of a
    ``Forecast``."""

    person: str
    value: Any
    made_at: dt.datetime


Latest = dict[str, list[Standing]]


def _latest_forecasts(
    session: Session, start: dt.datetime, end: dt.datetime
) -> tuple[Latest, Latest]:
    """Each person's latest forecast per question made before ``start`` and before
    ``end``, oldest first (the order the crowd's recency weights need), in one pass over
    the forecasts in time order."""
    # On the connection: plain rows, without the ORM's per-row work.
    rows = session.connection().execute(
        sa.select(
            col(Forecast.question_id),
            col(Forecast.person),
            col(Forecast.value),
            col(Forecast.made_at),
        )
        .where(col(Forecast.made_at) < end)
        .order_by(col(Forecast.made_at), col(Forecast.id))
    )
    latest: dict[tuple[str, str], Standing] = {}
    before_start: dict[tuple[str, str], Standing] | None = None
    for qid, person, value, made_at in rows:
        if before_start is None and made_at >= start:
            before_start = dict(latest)
        key = (qid, person)
        # Re-inserting moves the key to the end: the dict stays in order of each
        # (question, person)'s latest forecast, which is the order the crowd weighs.
        latest.pop(key, None)
        latest[key] = Standing(person, value, made_at)
    return _by_question(latest if before_start is None else before_start), _by_question(latest)


def _by_question(latest: dict[tuple[str, str], Standing]) -> Latest:
    out: Latest = defaultdict(list)
    for (qid, _), f in latest.items():
        out[qid].append(f)
    return out


def _crowd(q: Question, latest: Sequence[Standing]) -> Value | None:
    # crowd_value reads a forecast's person and value, which Standing has.
    return crowd_value(q, cast("Sequence[Forecast]", latest)) if latest else None


def _paper(q: Question, latest: Sequence[Standing]) -> Value | None:
    return paper_value(q, cast("Sequence[Forecast]", latest))


def _cards(
    questions: dict[str, Question],
    current: dict[str, Resolution],
    proposals: dict[str, list[OpenProposal]],
    at: dt.datetime,
) -> dict[str, Card]:
    """Every question's card, its status as ``forecasts list`` derives it."""
    cards = {}
    for qid, q in questions.items():
        outcomes = [p.outcome for p in proposals.get(qid, ()) if not p.correction]
        cards[qid] = _card(q, status_of(q, current.get(qid), at, outcomes))
    return cards


def _card(q: Question, status: str) -> Card:
    return Card(
        id=q.id,
        title=q.title,
        type=q.type,
        options=tuple(q.options or ()),
        unit=q.unit,
        closes=q.closes,
        resolve_by=q.resolve_by,
        reviewers=tuple(q.reviewers),
        status=status,
    )


def _standing(latest: Latest) -> dict[str, dict[str, Standing]]:
    """The latest forecasts by person, then question."""
    out: dict[str, dict[str, Standing]] = defaultdict(dict)
    for qid, forecasts in latest.items():
        for f in forecasts:
            out[f.person][qid] = f
    return out


def _closing(cards: dict[str, Card], week: IsoWeek) -> list[str]:
    """Questions open at the week's end that close within CLOSING_DAYS after it."""
    last = week.shift(1).monday + dt.timedelta(days=CLOSING_DAYS - 1)
    soon = [c for c in cards.values() if c.status == "open" and c.closes <= last]
    return [c.id for c in sorted(soon, key=lambda c: (c.closes, c.id))]


def _moves(questions: dict[str, Question], before: Latest, after: Latest) -> list[Move]:
    """The crowd's moves of at least MOVE over the week, largest first. Only questions
    with a forecast made in the week can have moved."""
    moves = []
    for qid, now in after.items():
        then = before.get(qid)
        if not then or then == now:
            continue
        q = questions[qid]
        move = _move(q, _crowd(q, then), _crowd(q, now))
        if move is not None:
            moves.append(move)
    return sorted(moves, key=lambda m: (-abs(m.size), m.question_id))


def _move(q: Question, then: Value | None, now: Value | None) -> Move | None:
    """The biggest change between two crowd forecasts, if it is at least MOVE."""
    if then is None or now is None:
        return None
    if isinstance(then, float | int) and isinstance(now, float | int):
        component, a, b, scale = None, float(then), float(now), 1.0
    elif isinstance(then, dict) and isinstance(now, dict) and q.type == "choice":
        # The option that moved most; of equal moves (two options trade places), the first.
        component = max(
            (k for k in now if k in then),
            key=lambda k: round(abs(now[k] - then[k]), 9),
            default=None,
        )
        if component is None:
            return None
        a, b, scale = then[component], now[component], 1.0
    elif isinstance(then, dict) and isinstance(now, dict) and "p50" in then and "p50" in now:
        if q.range_min is None or q.range_max is None or q.range_max <= q.range_min:
            return None  # no range to measure a move against
        component, a, b = "p50", then["p50"], now["p50"]
        scale = q.range_max - q.range_min
    else:
        return None
    size = (b - a) / scale
    # A hair under 10 points (a float's rounding) still counts as 10.
    if abs(size) < MOVE - 1e-9:
        return None
    return Move(q.id, component, a, b, size)


# ------------------------------------------------------------------------------ news


def _news(session: Session, start: dt.datetime, end: dt.datetime) -> list[QuestionNews]:
    """Per question, the week's matched articles (published in the week, or fetched in
    it when undated), marked-irrelevant matches left out: the best MAX_ARTICLES by score,
    picked by the database; questions with a possible resolution first, then by their
    best article. When an article was matched does not matter: one published on Sunday
    night and pulled on Monday morning is still the week's news."""
    when = sa.func.coalesce(col(ArticleRow.published), col(ArticleRow.fetched_at))
    question = col(ArticleMatch.question_id)
    flagged = sa.case((col(ArticleMatch.possible_resolution).is_(True), 1), else_=0)
    week = (
        sa.select(
            col(ArticleMatch.question_id).label("question_id"),
            col(ArticleMatch.score).label("score"),
            col(ArticleMatch.possible_resolution).label("possible_resolution"),
            col(ArticleMatch.gdelt_only).label("gdelt_only"),
            col(ArticleRow.title).label("title"),
            col(ArticleRow.url).label("url"),
            col(ArticleRow.source).label("source"),
            col(ArticleRow.published).label("published"),
            sa.func.row_number()
            .over(
                partition_by=question,
                order_by=(
                    col(ArticleMatch.score).desc(),
                    when.desc(),
                    col(ArticleRow.id).desc(),
                ),
            )
            .label("rank"),
            sa.func.count().over(partition_by=question).label("total"),
            sa.func.sum(flagged).over(partition_by=question).label("flagged"),
        )
        .join(ArticleRow, col(ArticleRow.id) == col(ArticleMatch.article_id))
        .where(
            col(ArticleMatch.relevant).is_not(False),
            when >= start,
            when < end,
        )
        .subquery()
    )
    rows = session.execute(
        sa.select(week).where(week.c.rank <= MAX_ARTICLES).order_by(week.c.question_id, week.c.rank)
    ).all()
    articles: dict[str, list[Article]] = defaultdict(list)
    counts: dict[str, tuple[int, int]] = {}
    for r in rows:
        articles[r.question_id].append(
            Article(
                title=r.title,
                url=r.url,
                source=r.source,
                published=r.published,
                score=float(r.score),
                possible_resolution=bool(r.possible_resolution),
                gdelt_only=bool(r.gdelt_only),
            )
        )
        counts[r.question_id] = (int(r.total), int(r.flagged or 0))
    news = [QuestionNews(qid, tuple(items), *counts[qid]) for qid, items in articles.items()]
    return sorted(news, key=lambda n: (n.flagged == 0, -n.best, n.question_id))


# ---------------------------------------------------------------------------- report


def _report(
    session: Session, day: dt.date, week_resolutions: Sequence[Resolution]
) -> tuple[Report, dict[str, QuestionFinals]]:
    """The report as of ``day`` (everyone's calibration and Brier), and the final
    forecasts on the questions resolved in the week, from the same loaded history."""
    from forecasts.report.build import ReportOptions, final_forecasts, report_from_history
    from forecasts.report.load import load_history

    hist = load_history(session, as_of=day)
    report = report_from_history(hist, ReportOptions(as_of=day))
    finals = final_forecasts(hist, [r.question_id for r in week_resolutions])
    return report, finals

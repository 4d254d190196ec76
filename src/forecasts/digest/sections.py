"""One reader's digest, picked from what ``gather`` read: pure, no database, no I/O.

``digest_for(reader, gathered)`` returns a ``Digest``: six sections, each a tuple of
items ready to show (numbers already formatted, so the text and HTML parts say the same
thing), each empty when it has nothing. Every section is capped; what was left out is
counted in its ``*_more``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from forecasts.digest.gather import (
    AWAITING_LABELS,
    STALE_DAYS,
    Awaiting,
    Card,
    Gathered,
    Move,
    QuestionNews,
    Reader,
    Standing,
    WeekResolution,
)
from forecasts.domain.values import format_value
from forecasts.report.text import fmt, plural
from forecasts.review.prompts import resolve_commands

if TYPE_CHECKING:
    from forecasts.digest.weeks import IsoWeek
    from forecasts.report.build import CalibrationBin, FinalForecast, Report

MAX_RESOLVE = 10
MAX_CLOSING = 10
MAX_NEWS_QUESTIONS = 5
MAX_MOVES = 8
MAX_RESOLVED = 10

#: (key, heading) of every section, in the order the digest shows them.
SECTIONS = (
    ("resolve", "Needs your resolution"),
    ("closing", "Closing soon"),
    ("news", "News this week"),
    ("moves", "Forecast movement"),
    ("resolved", "Resolved this week"),
    ("calibration", "Your calibration"),
)


@dataclass(frozen=True)
class ToResolve:
    id: str
    title: str
    label: str  # due, overdue, pending or disputed
    resolve_by: str
    proposals: str  # "ann proposed yes; bob proposed no", or ""
    commands: tuple[str, ...]


@dataclass(frozen=True)
class Closing:
    id: str
    title: str
    closes: str
    crowd: str
    paper: str
    #: The reader's stale forecast ("40% on 2026-09-01"), or None: they have none.
    yours: str | None


@dataclass(frozen=True)
class ArticleLine:
    title: str
    #: As stored: the templates make a link of it only if it is an http(s) URL.
    url: str
    source: str
    date: str  # YYYY-MM-DD in the week's time zone, or ""
    possible_resolution: bool


@dataclass(frozen=True)
class News:
    id: str
    title: str
    articles: tuple[ArticleLine, ...]
    more: int  # the question's other matches this week


@dataclass(frozen=True)
class Movement:
    id: str
    title: str
    what: str  # "" (a binary question's probability), "option X" or "median"
    before: str
    after: str
    change: str  # "+15 points", "-12% of the range"
    yours: str | None


@dataclass(frozen=True)
class Final:
    """A final forecast and its Brier ("-" for numeric questions)."""

    forecast: str
    brier: str


@dataclass(frozen=True)
class Resolved:
    id: str
    title: str
    outcome: str
    resolved_on: str
    corrected: bool
    yours: Final | None
    crowd: Final | None
    paper: Final | None


@dataclass(frozen=True)
class Calibration:
    """The reader's numbers from the report, and the paper's scorecard in one line."""

    questions: int
    binary: int
    brier: str
    relative_brier: str | None
    crowd_brier: str
    crowd_questions: int
    paper: str
    bins: tuple[CalibrationBin, ...]
    crowd_bins: tuple[CalibrationBin, ...]

    @property
    def chart(self) -> bool:
        """Whether there is a reliability diagram to draw (a resolved binary forecast)."""
        return any(b.n for b in self.bins)

    def rows(self) -> list[tuple[str, int, str, str]]:
        """The diagram's points as text: (bin, forecasts, mean forecast, share that
        happened), for the bins that have forecasts."""
        return [
            (f"{b.low or 0:.0%}-{b.high or 0:.0%}", b.n, fmt(b.mean_forecast, "pct"),
             fmt(b.observed, "pct"))
            for b in self.bins
            if b.n
        ]  # fmt: skip


@dataclass(frozen=True)
class Digest:
    reader: Reader
    week: IsoWeek
    first_day: dt.date
    last_day: dt.date
    zone: str
    resolve: tuple[ToResolve, ...] = ()
    resolve_more: int = 0
    closing: tuple[Closing, ...] = ()
    closing_more: int = 0
    news: tuple[News, ...] = ()
    news_more: int = 0
    moves: tuple[Movement, ...] = ()
    moves_more: int = 0
    resolved: tuple[Resolved, ...] = ()
    resolved_more: int = 0
    calibration: Calibration | None = None

    def counts(self) -> dict[str, int]:
        """Items per section shown (left out: the empty ones)."""
        sizes = {
            "resolve": len(self.resolve) + self.resolve_more,
            "closing": len(self.closing) + self.closing_more,
            "news": len(self.news) + self.news_more,
            "moves": len(self.moves) + self.moves_more,
            "resolved": len(self.resolved) + self.resolved_more,
            "calibration": 1 if self.calibration is not None else 0,
        }
        return {key: n for key, n in sizes.items() if n}

    @property
    def empty(self) -> bool:
        return not self.counts()

    @property
    def name(self) -> str:
        return self.reader.name or self.reader.handle


def digest_for(reader: Reader, g: Gathered) -> Digest:
    """``reader``'s digest of the gathered week."""
    standing = g.standing.get(reader.handle, {})
    follows = set(standing) | {c.id for c in g.cards.values() if reader.handle in c.reviewers}
    resolve = [a for a in g.awaiting if reader.handle in a.asked] if reader.reviewer else []
    follows |= {a.question_id for a in resolve}
    closing = [qid for qid in g.closing if _stale(standing.get(qid), g.end)]
    news = [n for n in g.news if n.question_id in follows] if follows else list(g.news)
    moves = sorted(g.moves, key=lambda m: m.question_id not in follows)  # stable: by size
    resolved = sorted(
        g.resolutions,
        key=lambda r: r.finals is None or reader.handle not in r.finals.forecasters,
    )
    return Digest(
        reader=reader,
        week=g.week,
        first_day=g.week.monday,
        last_day=g.week.sunday,
        zone=str(g.zone),
        resolve=tuple(
            _to_resolve(a, g.cards[a.question_id], reader) for a in resolve[:MAX_RESOLVE]
        ),
        resolve_more=_more(resolve, MAX_RESOLVE),
        closing=tuple(_closing(g, g.cards[q], standing.get(q)) for q in closing[:MAX_CLOSING]),
        closing_more=_more(closing, MAX_CLOSING),
        news=tuple(_news(n, g.cards[n.question_id], g.zone) for n in news[:MAX_NEWS_QUESTIONS]),
        news_more=_more(news, MAX_NEWS_QUESTIONS),
        moves=tuple(
            _movement(m, g.cards[m.question_id], standing.get(m.question_id))
            for m in moves[:MAX_MOVES]
        ),
        moves_more=_more(moves, MAX_MOVES),
        resolved=tuple(
            _resolved(r, g.cards[r.question_id], reader.handle) for r in resolved[:MAX_RESOLVED]
        ),
        resolved_more=_more(resolved, MAX_RESOLVED),
        calibration=_calibration(g.report, reader.handle),
    )


def _more(items: list[Any], cap: int) -> int:
    return max(len(items) - cap, 0)


def _stale(standing: Standing | None, end: dt.datetime) -> bool:
    """No forecast, or only one made more than STALE_DAYS before the week's end."""
    return standing is None or standing.made_at < end - dt.timedelta(days=STALE_DAYS)


def _value(value: Any) -> str:
    """A forecast, short: '62%'; 'Zero 30%; One 70%'; '245 (p10 215, p90 280)'."""
    if value is None:
        return "none"
    if isinstance(value, dict) and "p50" in value:
        text = f"{value['p50']:g}"
        if "p10" in value and "p90" in value:
            text += f" (p10 {value['p10']:g}, p90 {value['p90']:g})"
        return text
    if isinstance(value, dict):
        return "; ".join(f"{option} {format_value(p)}" for option, p in value.items())
    return format_value(value)


def _to_resolve(a: Awaiting, card: Card, reader: Reader) -> ToResolve:
    return ToResolve(
        id=card.id,
        title=card.title,
        label=AWAITING_LABELS[a.reason],
        resolve_by=card.resolve_by.isoformat(),
        proposals="; ".join(
            f"{p.by} proposed {p.outcome}{' as a correction' if p.correction else ''}"
            for p in a.proposals
        ),
        commands=tuple(
            resolve_commands(
                question_id=card.id,
                qtype=card.type,
                options=card.options,
                reason=a.reason,
                proposals=a.proposals,
                resolved=a.resolved,
                handle=reader.handle,
            )
        ),
    )


def _closing(g: Gathered, card: Card, standing: Standing | None) -> Closing:
    crowd = g.crowd.get(card.id)
    return Closing(
        id=card.id,
        title=card.title,
        closes=card.closes.isoformat(),
        crowd=_value(crowd) if crowd is not None else "no forecasts yet",
        paper=_value(g.paper.get(card.id)),
        yours=(
            f"{_value(standing.value)} on {standing.made_at.date().isoformat()}"
            if standing is not None
            else None
        ),
    )


def _news(n: QuestionNews, card: Card, zone: dt.tzinfo) -> News:
    return News(
        id=card.id,
        title=card.title,
        articles=tuple(
            ArticleLine(
                title=a.title,
                url=a.url,
                source=a.source,
                date=a.published.astimezone(zone).date().isoformat() if a.published else "",
                possible_resolution=a.possible_resolution,
            )
            for a in n.articles
        ),
        more=n.total - len(n.articles),
    )


def _movement(m: Move, card: Card, standing: Standing | None) -> Movement:
    if m.component == "p50":
        unit = f" {card.unit}" if card.unit else ""
        return Movement(
            id=card.id,
            title=card.title,
            what="median",
            before=f"{m.before:g}{unit}",
            after=f"{m.after:g}{unit}",
            change=f"{100 * m.size:+.0f}% of the range",
            yours=_value(standing.value) if standing is not None else None,
        )
    return Movement(
        id=card.id,
        title=card.title,
        what="" if m.component is None else m.component,
        before=format_value(m.before),
        after=format_value(m.after),
        change=f"{100 * m.size:+.0f} points",
        yours=_value(standing.value) if standing is not None else None,
    )


def _resolved(r: WeekResolution, card: Card, handle: str) -> Resolved:
    finals = r.finals

    def final(f: FinalForecast | None) -> Final | None:
        return _final(f, card) if f is not None else None

    return Resolved(
        id=card.id,
        title=card.title,
        outcome=f"{r.outcome} {card.unit}" if card.type == "numeric" and card.unit else r.outcome,
        resolved_on=r.resolved_on.isoformat(),
        corrected=r.corrected,
        yours=final(finals.forecasters.get(handle)) if finals else None,
        crowd=final(finals.crowd) if finals else None,
        paper=final(finals.forecasters.get("paper")) if finals else None,
    )


def _final(f: FinalForecast, card: Card) -> Final:
    if card.type == "binary":
        forecast = format_value(f.p_yes) if f.p_yes is not None else "-"
    elif card.type == "choice":
        forecast = f"{format_value(f.p_outcome)} on the outcome" if f.p_outcome is not None else "-"
    else:
        forecast = f"median {f.median:g}" if f.median is not None else "-"
    return Final(forecast=forecast, brier=fmt(f.brier))


def _calibration(report: Report, handle: str) -> Calibration | None:
    entry = next((e for e in report.forecasters if e.forecaster == handle), None)
    if entry is None or entry.questions == 0:
        return None
    return Calibration(
        questions=entry.questions,
        binary=entry.counts.binary,
        brier=fmt(entry.brier),
        relative_brier=fmt(entry.relative_brier, "signed")
        if entry.relative_brier is not None
        else None,
        crowd_brier=fmt(report.crowd.brier),
        crowd_questions=report.crowd.questions,
        paper=paper_line(report),
        bins=tuple(entry.calibration),
        crowd_bins=tuple(report.crowd.calibration),
    )


def paper_line(report: Report) -> str:
    """The paper's scorecard in one line: how many of its resolved predictions came
    true, split into retrospective and live questions, and its Brier."""
    p = report.paper
    if p is None or p.questions == 0:
        return "The paper has no resolved predictions yet."
    parts = [
        f"{name} {part.came_true} of {part.predictions}"
        for name, part in (("retrospective", p.retrospective), ("live", p.live))
        if part.predictions
    ]
    split = f" ({', '.join(parts)})" if len(parts) > 1 else ""
    return (
        f"The paper: {p.came_true} of {plural(p.predictions, 'resolved prediction')} came "
        f"true{split}; Brier {fmt(p.brier)} on {plural(p.questions, 'question')}."
    )

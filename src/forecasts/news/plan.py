"""Plan a pull: which sources are due, which questions they are asked about, and the
requests to make.

``read_state`` reads everything the plan needs in one short read transaction (the
questions with a news query, and each source's stored state); ``make_plan`` is pure
and turns that into a Plan. Nothing here touches the network.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from forecasts.errors import BadInput
from forecasts.news import store
from forecasts.news.query import Node, QueryError, parse_query, to_gdelt
from forecasts.news.settings import NewsSettings
from forecasts.news.sources import gdelt_url, search_feed_url
from forecasts.news.summary import SourceOutcome
from forecasts.store.models import Question, Resolution
from forecasts.suggest import question_not_found

# ------------------------------------------------------------------------ the sources


@dataclass(frozen=True)
class SourceSpec:
    name: str
    kind: str  # gdelt | feed | search
    url: str  # the feed URL, GDELT base URL or search template
    #: IANA time zone of the feed's dates that have none (None: UTC).
    timezone: str | None = None

    @property
    def per_question(self) -> bool:
        return self.kind in ("gdelt", "search")


def source_specs(settings: NewsSettings) -> list[SourceSpec]:
    """The configured sources, in a stable order, with their names."""
    specs: list[SourceSpec] = []
    if settings.gdelt:
        specs.append(SourceSpec("gdelt", "gdelt", settings.gdelt_url))
    for f in settings.feeds:
        specs.append(SourceSpec(f.name, "feed", f.url, f.timezone))
    used: set[str] = set()
    for template in settings.search_feeds:
        host = (urlsplit(template.replace("{query}", "q")).hostname or "search").lower()
        name, n = f"search:{host}", 1
        while name in used:
            n += 1
            name = f"search:{host}#{n}"
        used.add(name)
        specs.append(SourceSpec(name, "search", template))
    return specs


def choose_sources(specs: list[SourceSpec], name: str | None) -> list[SourceSpec]:
    """All sources, or the one called ``name`` (case-insensitively)."""
    if name is None:
        return specs
    chosen = [s for s in specs if s.name.lower() == name.lower()]
    if not chosen:
        names = ", ".join(s.name for s in specs) or "none configured"
        raise BadInput(f"no news source named {name!r} (sources: {names})", field="source")
    return chosen


# ------------------------------------------------------------------- the stored state


@dataclass(frozen=True)
class QuestionQuery:
    """A question taking part in the pull, with its parsed news query."""

    id: str
    query: str  # as written
    node: Node
    resolution_terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceState:
    """A source's stored fetch state, as read before the network phase."""

    id: int
    etag: str | None
    last_modified: str | None
    next_allowed_at: dt.datetime | None
    last_attempt: dt.datetime | None
    error: str | None


@dataclass(frozen=True)
class QuestionState:
    """A per-question source's stored state for one question."""

    last_success: dt.datetime | None
    etag: str | None
    last_modified: str | None


@dataclass
class PullState:
    #: Every question that articles are matched against.
    questions: list[QuestionQuery]
    #: The questions the per-question sources (GDELT, search feeds) are asked about.
    targets: list[QuestionQuery]
    sources: dict[str, SourceState]
    #: Keyed by (source id, question id).
    question_states: dict[tuple[int, str], QuestionState]
    warnings: list[str] = field(default_factory=list)

    def question_state(self, source: SourceState | None, question_id: str) -> QuestionState:
        found = self.question_states.get((source.id, question_id)) if source else None
        return found or QuestionState(None, None, None)


def active_questions(session: Session) -> list[Question]:
    """Questions with a news query and no resolution yet."""
    resolved = set(session.exec(select(Resolution.question_id).distinct()).all())
    rows = session.exec(select(Question).order_by(col(Question.id))).all()
    return [q for q in rows if (q.news_query or "").strip() and q.id not in resolved]


def read_state(
    session: Session, specs: list[SourceSpec], *, question_id: str | None = None
) -> PullState:
    """The questions taking part and the sources' stored state.

    ``question_id`` limits the per-question sources to that question, which takes part
    even when resolved; it must exist and have a query that parses.
    """
    rows = active_questions(session)
    if question_id is not None:
        named = _named_question(session, question_id)
        if named.id not in {r.id for r in rows}:
            rows.append(named)  # resolved, but asked for by name
    questions, warnings = _parse_queries(rows)
    sources = {
        name: SourceState(s.id, s.etag, s.last_modified, s.next_allowed_at, s.last_attempt, s.error)
        for name, s in store.sources_by_name(session, [s.name for s in specs]).items()
        if s.id is not None
    }
    question_states = {
        key: QuestionState(r.last_success, r.etag, r.last_modified)
        for key, r in store.question_states(
            session, source_ids=[s.id for s in sources.values()]
        ).items()
    }
    targets = [q for q in questions if question_id is None or q.id == question_id]
    return PullState(questions, targets, sources, question_states, warnings)


def _named_question(session: Session, question_id: str) -> Question:
    row = session.get(Question, question_id)
    if row is None:
        raise question_not_found(session, question_id)
    if not (row.news_query or "").strip():
        raise BadInput(f"question {question_id!r} has no news query", field="question_id")
    parse_query(row.news_query or "")  # a bad query is the user's to fix: exit 2
    return row


def _parse_queries(rows: list[Question]) -> tuple[list[QuestionQuery], list[str]]:
    """Parsed queries; a query that does not parse skips its question with a warning."""
    questions: list[QuestionQuery] = []
    warnings: list[str] = []
    for row in rows:
        try:
            node = parse_query(row.news_query or "")
        except QueryError as e:
            warnings.append(f"{row.id}: {e}")
            continue
        questions.append(
            QuestionQuery(row.id, row.news_query or "", node, tuple(row.resolution_terms or ()))
        )
    return questions, warnings


# ---------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Request:
    """One URL to fetch for a source."""

    url: str
    #: The questions a per-question source is asked about with this URL (none for a feed).
    question_ids: tuple[str, ...] = ()
    #: Validators for a conditional GET.
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class SourcePlan:
    spec: SourceSpec
    requests: list[Request]
    #: When the source was last asked, by an earlier pull (GDELT spacing counts from it).
    last_attempt: dt.datetime | None = None


@dataclass
class Plan:
    #: Every question articles are matched against.
    questions: list[QuestionQuery]
    #: The sources to fetch, in configuration order.
    sources: list[SourcePlan]
    #: Sources not fetched this time: backing off, or nothing to ask them.
    not_due: list[SourceOutcome]
    warnings: list[str]


def make_plan(
    state: PullState, specs: list[SourceSpec], *, now: dt.datetime, ignore_backoff: bool
) -> Plan:
    """The requests for every due source. A source backing off is left out unless
    ``ignore_backoff`` (a source named on purpose)."""
    warnings = list(state.warnings)
    sources: list[SourcePlan] = []
    not_due: list[SourceOutcome] = []
    for spec in specs:
        stored = state.sources.get(spec.name)
        if stored is not None and not ignore_backoff and _backing_off(stored, now):
            not_due.append(
                SourceOutcome(
                    spec.name,
                    spec.kind,
                    "deferred",
                    stored.error,
                    next_allowed_at=stored.next_allowed_at,
                )
            )
            continue
        if spec.kind == "feed":
            requests = [_feed_request(spec, stored)]
        elif spec.kind == "gdelt":
            requests = _gdelt_requests(spec, stored, state, now=now, warnings=warnings)
        else:
            requests = _search_requests(spec, stored, state)
        if not requests:
            not_due.append(SourceOutcome(spec.name, spec.kind, "skipped", "nothing to fetch"))
            continue
        last_attempt = stored.last_attempt if stored is not None else None
        sources.append(SourcePlan(spec, requests, last_attempt))
    return Plan(state.questions, sources, not_due, warnings)


def _backing_off(stored: SourceState, now: dt.datetime) -> bool:
    return stored.next_allowed_at is not None and stored.next_allowed_at > now


def _feed_request(spec: SourceSpec, stored: SourceState | None) -> Request:
    if stored is None:
        return Request(spec.url)
    return Request(spec.url, etag=stored.etag, last_modified=stored.last_modified)


def _gdelt_requests(
    spec: SourceSpec,
    stored: SourceState | None,
    state: PullState,
    *,
    now: dt.datetime,
    warnings: list[str],
) -> list[Request]:
    """One request per distinct translated query, shared by the questions that have it
    and counting from the oldest of their last successes (so none misses a window)."""
    by_query: dict[str, list[QuestionQuery]] = {}
    for q in state.targets:
        translated = to_gdelt(q.node)
        if translated.query is None:
            warnings.append(
                f"{q.id}: nothing in its news query that GDELT can search; skipped GDELT"
            )
            continue
        by_query.setdefault(translated.query, []).append(q)
    requests: list[Request] = []
    for query, questions in by_query.items():
        successes = [state.question_state(stored, q.id).last_success for q in questions]
        oldest = None if None in successes else min(s for s in successes if s is not None)
        url = gdelt_url(spec.url, query, last_success=oldest, now=now)
        requests.append(Request(url, tuple(q.id for q in questions)))
    return requests


def _search_requests(
    spec: SourceSpec, stored: SourceState | None, state: PullState
) -> list[Request]:
    """One request per question, with that question's validators."""
    requests: list[Request] = []
    for q in state.targets:
        qs = state.question_state(stored, q.id)
        url = search_feed_url(spec.url, q.query)
        requests.append(Request(url, (q.id,), qs.etag, qs.last_modified))
    return requests

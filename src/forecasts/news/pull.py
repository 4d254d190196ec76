"""``pull``: fetch every due source, store new articles, match them to questions.

Three phases, so no database transaction is held open while the network is slow:

1. read (short read session): questions with a news query, source state;
2. fetch (no database): every due source, concurrently; per-question sources (GDELT,
   search feeds) go through their questions one at a time, GDELT spaced by
   ``gdelt_min_interval``; a source that is down or refusing is not asked again this pull;
3. write (one write session): articles upserted by canonical URL, every fetched article
   matched against every question, new matches inserted, source state and backoff saved.

A failing source never stops the others. Core never prints: progress goes to the optional
``progress(done, total, label)`` callback, and the outcome is the returned PullSummary.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from forecasts import clock
from forecasts.errors import BadInput, QuestionNotFound
from forecasts.news import store
from forecasts.news.fetch import (
    ACCEPT_FEED,
    ACCEPT_JSON,
    Fetcher,
    FetchPolicy,
    FetchResult,
    RateLimiter,
)
from forecasts.news.matching import Matcher
from forecasts.news.models import NewsSource
from forecasts.news.query import Node, QueryError, parse_query, to_gdelt
from forecasts.news.settings import NewsSettings
from forecasts.news.sources import (
    Item,
    Parsed,
    SourceError,
    gdelt_url,
    parse_feed,
    parse_gdelt,
    search_feed_url,
)
from forecasts.store.models import Question, Resolution

Progress = Callable[[int, int, str], None]
SessionFactory = Callable[..., AbstractContextManager[Session]]


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class SourceSpec:
    name: str
    kind: str  # gdelt | feed | search
    url: str  # the feed URL, GDELT base URL or search template

    @property
    def per_question(self) -> bool:
        return self.kind in ("gdelt", "search")


def source_specs(settings: NewsSettings) -> list[SourceSpec]:
    """The configured sources, in a stable order, with their names."""
    specs: list[SourceSpec] = []
    if settings.gdelt:
        specs.append(SourceSpec("gdelt", "gdelt", settings.gdelt_url))
    for f in settings.feeds:
        specs.append(SourceSpec(f.name, "feed", f.url))
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


@dataclass
class _Question:
    id: str
    query: str
    node: Node


@dataclass
class _Job:
    spec: SourceSpec
    url: str
    question_id: str | None = None
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class _Outcome:
    job: _Job
    result: FetchResult | None = None
    parsed: Parsed | None = None
    error: str | None = None
    transient: bool = False
    retry_after: float | None = None
    skipped: str | None = None  # not fetched: why

    @property
    def ok(self) -> bool:
        return self.error is None and self.skipped is None

    @property
    def not_modified(self) -> bool:
        return self.ok and self.result is not None and self.result.not_modified


# ------------------------------------------------------------------------- the summary


@dataclass
class SourceOutcome:
    name: str
    kind: str
    status: str  # ok | not_modified | failed | deferred | skipped
    error: str | None = None
    requests: int = 0
    failed_requests: int = 0
    items: int = 0
    new: int = 0
    next_allowed_at: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            "error": self.error,
            "requests": self.requests,
            "failed_requests": self.failed_requests,
            "items": self.items,
            "new": self.new,
            "next_allowed_at": self.next_allowed_at.isoformat() if self.next_allowed_at else None,
        }


@dataclass
class PullSummary:
    sources: list[SourceOutcome] = field(default_factory=list)
    questions: int = 0
    articles_new: int = 0
    articles_seen: int = 0
    matches_new: int = 0
    possible_resolutions_new: int = 0
    warnings: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def count(self, *statuses: str) -> int:
        return sum(1 for s in self.sources if s.status in statuses)

    @property
    def sources_ok(self) -> int:
        return self.count("ok", "not_modified")

    @property
    def sources_failed(self) -> int:
        return self.count("failed")

    @property
    def all_failed(self) -> bool:
        """Something was attempted and nothing succeeded: the pull exits 1."""
        return self.sources_failed > 0 and self.sources_ok == 0

    def line(self) -> str:
        parts = [
            f"sources {self.sources_ok} ok, {self.sources_failed} failed",
        ]
        deferred = self.count("deferred")
        if deferred:
            parts[0] += f", {deferred} backing off"
        parts.append(f"articles {self.articles_new} new, {self.articles_seen} seen")
        m = f"matches {self.matches_new} new"
        if self.possible_resolutions_new:
            n = self.possible_resolutions_new
            m += f" ({n} possible resolution{'s' if n != 1 else ''})"
        parts.append(m)
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources_ok": self.sources_ok,
            "sources_failed": self.sources_failed,
            "sources": [s.to_dict() for s in self.sources],
            "questions": self.questions,
            "articles_new": self.articles_new,
            "articles_seen": self.articles_seen,
            "matches_new": self.matches_new,
            "possible_resolutions_new": self.possible_resolutions_new,
            "warnings": self.warnings,
            "elapsed": round(self.elapsed, 3),
        }


# ------------------------------------------------------------------------------- pull


@contextlib.contextmanager
def _open(sessions: SessionFactory | Session, *, write: bool) -> Iterator[Session]:
    if isinstance(sessions, Session):
        yield sessions
        sessions.flush()
    else:
        with sessions(write=write) as s:
            yield s


def active_questions(session: Session) -> list[Question]:
    """Questions with a news query and no resolution yet."""
    resolved = set(session.exec(select(Resolution.question_id).distinct()).all())
    rows = session.exec(select(Question).order_by(col(Question.id))).all()
    return [q for q in rows if (q.news_query or "").strip() and q.id not in resolved]


def pull(
    sessions: SessionFactory | Session,
    *,
    settings: NewsSettings,
    question_id: str | None = None,
    source: str | None = None,
    progress: Progress | None = None,
    policy: FetchPolicy | None = None,
) -> PullSummary:
    """Fetch, store and match. ``sessions`` is a factory called as ``sessions(write=...)``
    returning a session context manager (like ``Runtime.session``), or a Session
    the caller commits.

    ``question_id`` limits the per-question sources (GDELT, search feeds) to that question;
    feeds are still read, and every article is matched against every active question.
    ``source`` limits the pull to one source by name and ignores its backoff.
    """
    started = clock.now()
    summary = PullSummary()
    specs = source_specs(settings)
    if source is not None:
        chosen = [s for s in specs if s.name.lower() == source.lower()]
        if not chosen:
            names = ", ".join(s.name for s in specs) or "none configured"
            raise BadInput(f"no news source named {source!r} (sources: {names})")
        specs = chosen
    policy = dataclasses.replace(
        policy or FetchPolicy(), max_bytes=settings.max_bytes, concurrency=settings.concurrency
    )

    # ---- 1. read
    with _open(sessions, write=False) as session:
        if question_id is not None:
            wanted = session.get(Question, question_id)
            if wanted is None:
                raise QuestionNotFound(question_id)
            if not (wanted.news_query or "").strip():
                raise BadInput(f"question {question_id!r} has no news query")
            parse_query(wanted.news_query or "")  # a bad query is the user's to fix: exit 2
        questions: list[_Question] = []
        resolution_terms: dict[str, list[str]] = {}
        rows = active_questions(session)
        if question_id is not None and question_id not in {r.id for r in rows}:
            extra = session.get(Question, question_id)
            assert extra is not None
            rows.append(extra)  # resolved, but asked for by name
        for row in rows:
            try:
                node = parse_query(row.news_query or "")
            except QueryError as e:
                summary.warnings.append(f"{row.id}: {e}")
                continue
            questions.append(_Question(row.id, row.news_query or "", node))
            resolution_terms[row.id] = list(row.resolution_terms or [])
        states = store.sources_by_name(session, [s.name for s in specs])
        qstates = store.question_states(
            session, source_ids=[s.id for s in states.values() if s.id is not None]
        )
        snapshot = {name: _snap(s) for name, s in states.items()}
        qsnap = {
            (sid, qid): (r.last_success, r.etag, r.last_modified)
            for (sid, qid), r in qstates.items()
        }
    summary.questions = len(questions)
    targets = [q for q in questions if question_id is None or q.id == question_id]

    # ---- plan
    now = clock.now()
    plans: list[tuple[SourceSpec, list[_Job]]] = []
    gdelt_last_attempt: dt.datetime | None = None
    for spec in specs:
        st = snapshot.get(spec.name)
        sid = st["id"] if st else None
        nxt = st["next_allowed_at"] if st else None
        if source is None and nxt is not None and nxt > now:
            summary.sources.append(
                SourceOutcome(
                    spec.name,
                    spec.kind,
                    "deferred",
                    st["error"] if st else None,
                    next_allowed_at=nxt,
                )
            )
            continue
        jobs: list[_Job] = []
        if spec.kind == "feed":
            jobs.append(
                _Job(
                    spec,
                    spec.url,
                    None,
                    st["etag"] if st else None,
                    st["last_modified"] if st else None,
                )
            )
        elif spec.kind == "gdelt":
            if st and st["last_attempt"] is not None:
                gdelt_last_attempt = st["last_attempt"]
            for q in targets:
                gq = to_gdelt(q.node)
                if gq.query is None:
                    summary.warnings.append(
                        f"{q.id}: nothing in its news query that GDELT can search; skipped GDELT"
                    )
                    continue
                last = qsnap.get((sid, q.id), (None, None, None))[0] if sid else None
                jobs.append(
                    _Job(spec, gdelt_url(spec.url, gq.query, last_success=last, now=now), q.id)
                )
        else:
            for q in targets:
                _, etag, lm = (
                    qsnap.get((sid, q.id), (None, None, None)) if sid else (None, None, None)
                )
                jobs.append(_Job(spec, search_feed_url(spec.url, q.query), q.id, etag, lm))
        if not jobs:
            summary.sources.append(
                SourceOutcome(spec.name, spec.kind, "skipped", "nothing to fetch")
            )
            continue
        plans.append((spec, jobs))

    # ---- 2. fetch
    outcomes: list[_Outcome] = []
    if plans:
        outcomes = asyncio.run(
            _fetch_all(
                plans,
                settings=settings,
                policy=policy,
                progress=progress,
                gdelt_last_attempt=gdelt_last_attempt,
            )
        )

    # ---- 3. write
    with _open(sessions, write=True) as session:
        _store(session, outcomes, plans, questions, resolution_terms, summary, now=clock.now())
    order = {s.name: i for i, s in enumerate(source_specs(settings))}
    summary.sources.sort(key=lambda s: order.get(s.name, len(order)))
    summary.elapsed = (clock.now() - started).total_seconds()
    return summary


def _snap(s: NewsSource) -> dict[str, Any]:
    return {
        "id": s.id,
        "etag": s.etag,
        "last_modified": s.last_modified,
        "next_allowed_at": s.next_allowed_at,
        "last_attempt": s.last_attempt,
        "error": s.error,
    }


# ------------------------------------------------------------------------------ fetch


async def _fetch_all(
    plans: list[tuple[SourceSpec, list[_Job]]],
    *,
    settings: NewsSettings,
    policy: FetchPolicy,
    progress: Progress | None,
    gdelt_last_attempt: dt.datetime | None,
) -> list[_Outcome]:
    total = sum(len(jobs) for _, jobs in plans)
    done = 0
    if progress:
        progress(0, total, "starting")

    def tick(label: str, n: int = 1) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total, label)

    async with Fetcher(policy) as fetcher:

        async def run_source(spec: SourceSpec, jobs: list[_Job]) -> list[_Outcome]:
            limiter = None
            if spec.kind == "gdelt":
                limiter = RateLimiter(settings.gdelt_min_interval, gdelt_last_attempt)
            out: list[_Outcome] = []
            for i, job in enumerate(jobs):
                o = await _fetch_one(fetcher, job, limiter)
                out.append(o)
                tick(spec.name if job.question_id is None else f"{spec.name} {job.question_id}")
                if o.transient and spec.per_question and i + 1 < len(jobs):
                    # Down or refusing: do not hammer it with the remaining questions.
                    for rest in jobs[i + 1 :]:
                        out.append(_Outcome(rest, skipped=f"not asked: {o.error}"))
                    tick(spec.name, len(jobs) - i - 1)
                    break
            return out

        results = await asyncio.gather(*(run_source(spec, jobs) for spec, jobs in plans))
    return [o for group in results for o in group]


async def _fetch_one(fetcher: Fetcher, job: _Job, limiter: RateLimiter | None) -> _Outcome:
    is_gdelt = job.spec.kind == "gdelt"
    res = await fetcher.get(
        job.url,
        etag=job.etag,
        last_modified=job.last_modified,
        accept=ACCEPT_JSON if is_gdelt else ACCEPT_FEED,
        limiter=limiter,
    )
    out = _Outcome(job, result=res)
    if not res.ok:
        out.error, out.transient, out.retry_after = res.error, res.transient, res.retry_after
        return out
    if res.not_modified:
        out.parsed = Parsed()
        return out
    now = clock.now()
    try:
        # Parsing is CPU work: a worker thread keeps the event loop fetching meanwhile.
        if is_gdelt:
            out.parsed = await asyncio.to_thread(parse_gdelt, res.body or b"", now=now)
        else:
            out.parsed = await asyncio.to_thread(
                parse_feed, res.body or b"", url=res.final_url, headers=res.headers, now=now
            )
    except SourceError as e:
        out.error, out.transient = e.message, e.transient
    except Exception as e:  # a parser bug must not sink the other sources
        out.error = f"could not parse: {type(e).__name__}: {e}"[:300]
    return out


# ------------------------------------------------------------------------------ store


def _store(
    session: Session,
    outcomes: list[_Outcome],
    plans: list[tuple[SourceSpec, list[_Job]]],
    questions: list[_Question],
    resolution_terms: dict[str, list[str]],
    summary: PullSummary,
    *,
    now: dt.datetime,
) -> None:
    # Articles, deduplicated within the pull by canonical URL.
    index: dict[str, int] = {}
    items: list[Item] = []
    first_source: list[str] = []
    forced: list[tuple[int, str]] = []
    for o in outcomes:
        if not o.ok or o.parsed is None:
            continue
        for it in o.parsed.items:
            d = index.get(it.url)
            if d is None:
                d = index[it.url] = len(items)
                items.append(it)
                first_source.append(o.job.spec.name)
            elif len(it.summary or "") > len(items[d].summary or ""):
                # Keep the fullest text (feeds have summaries, GDELT only titles).
                items[d] = Item(it.url, it.title, it.summary, it.published or items[d].published)
                first_source[d] = o.job.spec.name
            if o.job.question_id is not None:
                forced.append((d, o.job.question_id))
    stored = store.upsert_articles(
        session,
        articles=[
            store.NewArticle(it.url, it.title, it.summary, src, it.published)
            for it, src in zip(items, first_source, strict=True)
        ],
        now=now,
    )
    new_by_source: dict[str, int] = {}
    for (_, is_new), src in zip(stored, first_source, strict=True):
        if is_new:
            summary.articles_new += 1
            new_by_source[src] = new_by_source.get(src, 0) + 1
        else:
            summary.articles_seen += 1

    # Matching: every fetched article (new or seen) against every active question.
    if items and questions:
        matcher = Matcher({q.id: q.node for q in questions}, resolution_terms)
        m = matcher.match([(it.title, it.summary) for it in items], forced=forced)
        terms, res_terms = m.term_lists()
        rows = [
            store.NewMatch(
                article_id=stored[d][0],
                question_id=m.question_ids[q],
                score=score,
                terms=t,
                resolution_terms=r,
                possible_resolution=p,
            )
            for d, q, score, t, r, p in zip(
                m.doc.tolist(),
                m.question.tolist(),
                m.score.tolist(),
                terms,
                res_terms,
                m.possible_resolution.tolist(),
                strict=True,
            )
        ]
        summary.matches_new, summary.possible_resolutions_new = store.insert_matches(
            session, matches=rows, now=now
        )

    # Source state.
    by_source: dict[str, list[_Outcome]] = {}
    for o in outcomes:
        by_source.setdefault(o.job.spec.name, []).append(o)
    for spec, _jobs in plans:
        row = store.ensure_source(session, name=spec.name, kind=spec.kind, url=spec.url)
        assert row.id is not None
        group = by_source.get(spec.name, [])
        attempted = [o for o in group if o.skipped is None]
        ok = [o for o in attempted if o.ok]
        failed = [o for o in attempted if not o.ok]
        n_items = sum(len(o.parsed.items) for o in ok if o.parsed)
        outcome = SourceOutcome(
            spec.name,
            spec.kind,
            "ok",
            requests=len(attempted),
            failed_requests=len(failed),
            items=n_items,
            new=new_by_source.get(spec.name, 0),
        )
        if spec.per_question:
            for o in attempted:
                assert o.job.question_id is not None
                res = o.result
                store.record_question_state(
                    session,
                    source_id=row.id,
                    question_id=o.job.question_id,
                    now=now,
                    ok=o.ok,
                    error=o.error,
                    etag=res.etag if res else None,
                    last_modified=res.last_modified if res else None,
                    keep_validators=o.not_modified,
                )
        if ok:
            notes = []
            if failed:
                notes.append(
                    f"{len(failed)} of {len(attempted)} requests failed: {failed[0].error}"
                )
            skipped = [o for o in group if o.skipped]
            if skipped:
                notes.append(f"{len(skipped)} not asked")
            warn = next((o.parsed.warning for o in ok if o.parsed and o.parsed.warning), None)
            if warn:
                notes.append(warn)
            note = "; ".join(notes) or None
            single = ok[0].result if not spec.per_question else None
            store.record_success(
                session,
                source=row,
                now=now,
                etag=single.etag if single else None,
                last_modified=single.last_modified if single else None,
                items=n_items,
                new=outcome.new,
                note=note,
                keep_validators=spec.per_question or ok[0].not_modified,
            )
            if all(o.not_modified for o in ok) and not failed:
                outcome.status = "not_modified"
            outcome.error = note
        else:
            first = failed[0] if failed else None
            error = first.error if first and first.error else "failed"
            retry_after = max((o.retry_after or 0 for o in failed), default=0) or None
            store.record_failure(session, source=row, now=now, error=error, retry_after=retry_after)
            outcome.status = "failed"
            outcome.error = error
            outcome.next_allowed_at = row.next_allowed_at
        summary.sources.append(outcome)

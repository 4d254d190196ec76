"""``pull``: fetch every due source, store new articles, match them to questions.

Three steps, so no database transaction is open while the network is slow:

1. plan (``news.plan``): a short read transaction for the questions and the sources'
   stored state, then the requests for every due source;
2. fetch (``news.fetch``): every request, with no database at all;
3. record (``news.record``): one write transaction for the articles, their matches and
   the sources' state.

A failing source never stops the others. Core never prints: progress goes to the optional
``progress(done, total, label)`` callback, and the outcome is the returned PullSummary.
"""

from __future__ import annotations

import dataclasses
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

from forecasts import clock
from forecasts.news.fetch import FetchPolicy, Progress, fetch_plan
from forecasts.news.plan import choose_sources, make_plan, read_state, source_specs
from forecasts.news.record import record
from forecasts.news.settings import NewsSettings
from forecasts.news.summary import PullSummary, SourceOutcome

if TYPE_CHECKING:
    from sqlmodel import Session

__all__ = ["PullSummary", "SessionFactory", "SourceOutcome", "pull"]


class SessionFactory(Protocol):
    """``Runtime.session``: a session in one transaction, for writing or not."""

    def __call__(self, *, write: bool = ...) -> AbstractContextManager[Session]: ...


def pull(
    sessions: SessionFactory,
    *,
    settings: NewsSettings,
    question_id: str | None = None,
    source: str | None = None,
    progress: Progress | None = None,
    policy: FetchPolicy | None = None,
) -> PullSummary:
    """Fetch, store and match.

    ``question_id`` limits the per-question sources (GDELT, search feeds) to that question;
    feeds are still read, and every article is matched against every active question.
    ``source`` limits the pull to one source by name and ignores its backoff.
    """
    started = clock.now()
    configured = source_specs(settings)
    specs = choose_sources(configured, source)
    policy = dataclasses.replace(
        policy or FetchPolicy(), max_bytes=settings.max_bytes, concurrency=settings.concurrency
    )

    with sessions(write=False) as session:
        state = read_state(session, specs, question_id=question_id)
    plan = make_plan(state, specs, now=clock.now(), ignore_backoff=source is not None)

    fetched = fetch_plan(
        plan, policy=policy, gdelt_min_interval=settings.gdelt_min_interval, progress=progress
    )

    with sessions(write=True) as session:
        recorded = record(session, plan, fetched, now=clock.now())

    order = {s.name: i for i, s in enumerate(configured)}
    return PullSummary(
        sources=sorted(recorded.sources + plan.not_due, key=lambda s: order[s.name]),
        questions=len(state.questions),
        articles_new=recorded.articles_new,
        articles_seen=recorded.articles_seen,
        matches_new=recorded.matches_new,
        possible_resolutions_new=recorded.possible_resolutions_new,
        warnings=plan.warnings,
        elapsed=(clock.now() - started).total_seconds(),
    )

"""Record what a pull fetched, in the one write transaction of the pull: the articles
(deduplicated by canonical URL), their matches against every question, and each
source's state (validators, success, failures and backoff).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session

from forecasts.news import store
from forecasts.news.fetch import Fetched
from forecasts.news.matching import Matcher
from forecasts.news.plan import Plan, QuestionQuery, SourcePlan
from forecasts.news.sources import Item
from forecasts.news.summary import SourceOutcome


@dataclass
class Recorded:
    articles_new: int = 0
    articles_seen: int = 0
    matches_new: int = 0
    possible_resolutions_new: int = 0
    sources: list[SourceOutcome] = field(default_factory=list)


def record(session: Session, plan: Plan, fetched: list[Fetched], *, now: dt.datetime) -> Recorded:
    """Store the articles, their new matches and every fetched source's state."""
    articles = collect_articles(fetched)
    ids, is_new = store_articles(session, articles, now=now)
    out = Recorded(articles_new=sum(is_new), articles_seen=len(is_new) - sum(is_new))
    new_by_source: dict[str, int] = {}
    for source, new in zip(articles.source, is_new, strict=True):
        new_by_source[source] = new_by_source.get(source, 0) + new
    out.matches_new, out.possible_resolutions_new = record_matches(
        session, articles, ids, plan.questions, now=now
    )
    by_source: dict[str, list[Fetched]] = {}
    for f in fetched:
        by_source.setdefault(f.source.spec.name, []).append(f)
    for sp in plan.sources:
        name = sp.spec.name
        out.sources.append(
            record_source(
                session, sp, by_source.get(name, []), new=new_by_source.get(name, 0), now=now
            )
        )
    return out


# ---------------------------------------------------------------------------- articles


@dataclass
class Articles:
    """The pull's articles, one per canonical URL, in the order first seen."""

    items: list[Item] = field(default_factory=list)
    #: The source each article is stored under (the one that gave the fullest text).
    source: list[str] = field(default_factory=list)
    #: (article index, question id): a search feed returned the article for that
    #: question, so it matches whatever its text says.
    forced: list[tuple[int, str]] = field(default_factory=list)
    #: (article index, question id): GDELT returned the article for that question; the
    #: query is still applied to the title, and decides between a full and a weak match.
    by_gdelt: list[tuple[int, str]] = field(default_factory=list)


def collect_articles(fetched: Sequence[Fetched]) -> Articles:
    """Every item fetched, deduplicated within the pull by canonical URL."""
    out = Articles()
    index: dict[str, int] = {}
    for f in fetched:
        if not f.ok or f.parsed is None:
            continue
        for it in f.parsed.items:
            d = index.get(it.url)
            if d is None:
                d = index[it.url] = len(out.items)
                out.items.append(it)
                out.source.append(f.source.spec.name)
            elif len(it.summary or "") > len(out.items[d].summary or ""):
                # Keep the fullest text (feeds have summaries, GDELT only titles).
                kept = out.items[d]
                out.items[d] = Item(it.url, it.title, it.summary, it.published or kept.published)
                out.source[d] = f.source.spec.name
            pairs = out.by_gdelt if f.source.spec.kind == "gdelt" else out.forced
            pairs.extend((d, qid) for qid in f.request.question_ids)
    return out


def store_articles(
    session: Session, articles: Articles, *, now: dt.datetime
) -> tuple[list[int], list[bool]]:
    """Insert the articles not stored before: (article id, is new) for each, in order."""
    stored = store.upsert_articles(
        session,
        articles=[
            store.NewArticle(it.url, it.title, it.summary, source, it.published)
            for it, source in zip(articles.items, articles.source, strict=True)
        ],
        now=now,
    )
    return [i for i, _ in stored], [new for _, new in stored]


def record_matches(
    session: Session,
    articles: Articles,
    article_ids: list[int],
    questions: list[QuestionQuery],
    *,
    now: dt.datetime,
) -> tuple[int, int]:
    """Match every fetched article (new or seen) against every question and insert the
    matches not recorded before: (new matches, of which possible resolutions)."""
    if not articles.items or not questions:
        return 0, 0
    matcher = Matcher(
        {q.id: q.node for q in questions}, {q.id: list(q.resolution_terms) for q in questions}
    )
    m = matcher.match(
        [(it.title, it.summary) for it in articles.items],
        forced=articles.forced,
        weak=articles.by_gdelt,
    )
    terms, res_terms = m.term_lists()
    rows = [
        store.NewMatch(
            article_id=article_ids[d],
            question_id=m.question_ids[q],
            score=score,
            terms=t,
            resolution_terms=r,
            possible_resolution=p,
            gdelt_only=w,
        )
        for d, q, score, t, r, p, w in zip(
            m.doc.tolist(),
            m.question.tolist(),
            m.score.tolist(),
            terms,
            res_terms,
            m.possible_resolution.tolist(),
            m.weak.tolist(),
            strict=True,
        )
    ]
    return store.insert_matches(session, matches=rows, now=now)


# ----------------------------------------------------------------------------- sources


def record_source(
    session: Session, sp: SourcePlan, fetched: list[Fetched], *, new: int, now: dt.datetime
) -> SourceOutcome:
    """Save one source's state after the pull and say how it went. A source succeeds
    when any of its requests did; it fails (and backs off) when all that were sent
    failed."""
    spec = sp.spec
    row = store.ensure_source(session, name=spec.name, kind=spec.kind, url=spec.url)
    assert row.id is not None
    attempted = [f for f in fetched if f.skipped is None]
    ok = [f for f in attempted if f.ok]
    failed = [f for f in attempted if not f.ok]
    outcome = SourceOutcome(
        spec.name,
        spec.kind,
        "ok",
        requests=len(attempted),
        failed_requests=len(failed),
        items=sum(len(f.parsed.items) for f in ok if f.parsed),
        new=new,
    )
    if spec.per_question:
        _record_question_states(session, row.id, attempted, now=now)
    if ok:
        note = _success_note(ok, failed, skipped=len(fetched) - len(attempted))
        single = ok[0].result if not spec.per_question else None
        store.record_success(
            session,
            source=row,
            now=now,
            etag=single.etag if single else None,
            last_modified=single.last_modified if single else None,
            items=outcome.items,
            new=new,
            note=note,
            keep_validators=spec.per_question or ok[0].not_modified,
        )
        if all(f.not_modified for f in ok) and not failed:
            outcome.status = "not_modified"
        outcome.error = note
    else:
        error = next((f.error for f in failed if f.error), None) or "failed"
        retry_after = max((f.retry_after or 0 for f in failed), default=0) or None
        store.record_failure(session, source=row, now=now, error=error, retry_after=retry_after)
        outcome.status = "failed"
        outcome.error = error
        outcome.next_allowed_at = row.next_allowed_at
    return outcome


def _record_question_states(
    session: Session, source_id: int, attempted: list[Fetched], *, now: dt.datetime
) -> None:
    for f in attempted:
        for question_id in f.request.question_ids:
            store.record_question_state(
                session,
                source_id=source_id,
                question_id=question_id,
                now=now,
                ok=f.ok,
                error=f.error,
                etag=f.result.etag if f.result else None,
                last_modified=f.result.last_modified if f.result else None,
                keep_validators=f.not_modified,
            )


def _success_note(ok: list[Fetched], failed: list[Fetched], *, skipped: int) -> str | None:
    """What went wrong on a source that still succeeded, for `news sources`."""
    notes = []
    if failed:
        notes.append(f"{len(failed)} of {len(ok) + len(failed)} requests failed: {failed[0].error}")
    if skipped:
        notes.append(f"{skipped} not asked")
    warning = next((f.parsed.warning for f in ok if f.parsed and f.parsed.warning), None)
    if warning:
        notes.append(warning)
    return "; ".join(notes) or None

"""Reading and writing the news tables. Keyword-only functions taking a Session.

Deduplication relies on the unique constraints (article URL; article + question) with
dialect-appropriate "insert ... on conflict do nothing", so it holds on SQLite and
PostgreSQL and under concurrent pulls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import Session, col, select

from forecasts import clock
from forecasts.errors import BadInput, DatabaseError, NotFound
from forecasts.news.models import Article, ArticleMatch, NewsSource, NewsSourceQuestion
from forecasts.news.sources import shorten
from forecasts.store.models import Question
from forecasts.suggest import question_not_found

#: Backoff of a failing source: BACKOFF_BASE x 2^(failures - 1), at most BACKOFF_CAP.
BACKOFF_BASE = dt.timedelta(minutes=5)
BACKOFF_CAP = dt.timedelta(hours=24)
_CHUNK = 500
_ERROR_MAX = 500


def _table(model: Any) -> sa.Table:
    return cast(sa.Table, model.__table__)


def _insert(session: Session, table: sa.Table) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise DatabaseError(f"unsupported database dialect {dialect!r}")
    return insert(table)


def _chunks(seq: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


# ------------------------------------------------------------------------------ articles


@dataclass
class NewArticle:
    url: str  # canonical
    title: str
    summary: str | None
    source: str
    published: dt.datetime | None


def upsert_articles(
    session: Session, *, articles: Sequence[NewArticle], now: dt.datetime | None = None
) -> list[tuple[int, bool]]:
    """Store articles not seen before (by canonical URL). Returns (id, is_new) for each
    input, in order. Inputs should have distinct URLs; repeats get the first one's id."""
    now = now or clock.now()
    table = _table(Article)
    ids: dict[str, int] = {}
    new: set[str] = set()
    unique: dict[str, NewArticle] = {}
    for a in articles:
        unique.setdefault(a.url, a)
    rows = [
        {
            "url": a.url,
            "title": a.title,
            "summary": a.summary,
            "source": a.source,
            "published": a.published,
            "fetched_at": now,
        }
        for a in unique.values()
    ]
    base = _insert(session, table)
    stmt = base.on_conflict_do_nothing(index_elements=["url"]).returning(table.c.id, table.c.url)
    for chunk in _chunks(rows, 2000):
        for row in session.execute(stmt, list(chunk)):
            ids[row.url] = row.id
            new.add(row.url)
    missing = [u for u in unique if u not in ids]
    for chunk in _chunks(missing, 900):
        q = sa.select(table.c.id, table.c.url).where(table.c.url.in_(chunk))
        for row in session.execute(q):
            ids[row.url] = row.id
    return [(ids[a.url], a.url in new) for a in articles]


@dataclass
class NewMatch:
    article_id: int
    question_id: str
    score: float
    terms: list[str]
    resolution_terms: list[str]
    possible_resolution: bool
    #: Only GDELT matched it, not the question's query.
    gdelt_only: bool = False


def insert_matches(
    session: Session, *, matches: Sequence[NewMatch], now: dt.datetime | None = None
) -> tuple[int, int]:
    """Add matches not recorded before; an existing match (and any mark on it) is left
    alone, except that a GDELT-only match the query now matches (a feed brought the
    article's text) becomes a full one, keeping its mark and when it was first matched.
    Returns (new matches, of which possible resolutions)."""
    now = now or clock.now()
    if not matches:
        return 0, 0
    table = _table(ArticleMatch)
    rows = [
        {
            "article_id": m.article_id,
            "question_id": m.question_id,
            "score": float(m.score),
            "terms": m.terms,
            "resolution_terms": m.resolution_terms,
            "possible_resolution": bool(m.possible_resolution),
            "gdelt_only": bool(m.gdelt_only),
            "relevant": None,
            "marked_at": None,
            "matched_at": now,
        }
        for m in matches
    ]
    # Skip the pairs already recorded (one indexed look-up per 900 articles), then insert
    # the rest; "on conflict do nothing" still guards against a concurrent pull.
    existing: dict[tuple[int, str], tuple[int, bool]] = {}
    article_ids = sorted({m.article_id for m in matches})
    for chunk in _chunks(article_ids, 900):
        q = sa.select(
            table.c.id, table.c.article_id, table.c.question_id, table.c.gdelt_only
        ).where(table.c.article_id.in_(chunk))
        existing.update(
            ((r.article_id, r.question_id), (r.id, r.gdelt_only)) for r in session.execute(q)
        )
    fresh: dict[tuple[int, str], dict[str, Any]] = {}
    confirmed: list[dict[str, Any]] = []
    for m, r in zip(matches, rows, strict=True):
        key = (m.article_id, m.question_id)
        if key not in existing:
            fresh.setdefault(key, r)
        elif existing[key][1] and not m.gdelt_only:
            confirmed.append({"match_id": existing[key][0], **r})
    if confirmed:
        # SET takes the columns named in the parameters; the row is picked by its id.
        keep = ("score", "terms", "resolution_terms", "possible_resolution", "gdelt_only")
        session.execute(
            table.update().where(table.c.id == sa.bindparam("match_id")),
            [{"match_id": c["match_id"], **{k: c[k] for k in keep}} for c in confirmed],
        )
    if not fresh:
        return 0, 0
    stmt = _insert(session, table).on_conflict_do_nothing(
        index_elements=["article_id", "question_id"]
    )
    new_rows = list(fresh.values())
    for chunk in _chunks(new_rows, 5000):
        session.execute(stmt, list(chunk))
    return len(new_rows), sum(1 for r in new_rows if r["possible_resolution"])


# ------------------------------------------------------------------------------- sources


def backoff_delay(failures: int) -> dt.timedelta:
    if failures <= 0:
        return dt.timedelta(0)
    return min(BACKOFF_BASE * (2 ** min(failures - 1, 20)), BACKOFF_CAP)


def ensure_source(session: Session, *, name: str, kind: str, url: str) -> NewsSource:
    """The state row of a configured source, created on first use; kind/url kept current."""
    table = _table(NewsSource)
    session.execute(
        _insert(session, table)
        .on_conflict_do_nothing(index_elements=["name"])
        .values(name=name, kind=kind, url=url, status="new", failures=0)
    )
    src = session.exec(select(NewsSource).where(NewsSource.name == name)).one()
    if src.kind != kind or src.url != url:
        src.kind, src.url = kind, url
        session.add(src)
    return src


def sources_by_name(session: Session, names: Iterable[str]) -> dict[str, NewsSource]:
    names = list(names)
    if not names:
        return {}
    rows = session.exec(select(NewsSource).where(col(NewsSource.name).in_(names))).all()
    return {r.name: r for r in rows}


def all_sources(session: Session) -> list[NewsSource]:
    return list(session.exec(select(NewsSource).order_by(col(NewsSource.name))).all())


def record_success(
    session: Session,
    *,
    source: NewsSource,
    now: dt.datetime,
    etag: str | None = None,
    last_modified: str | None = None,
    items: int | None = None,
    new: int | None = None,
    note: str | None = None,
    keep_validators: bool = False,
) -> None:
    source.last_attempt = now
    source.last_success = now
    source.status = "ok"
    source.error = shorten(note, _ERROR_MAX) if note else None
    source.failures = 0
    source.next_allowed_at = None
    if not keep_validators:
        source.etag = etag
        source.last_modified = last_modified
    if items is not None:
        source.last_items = items
    if new is not None:
        source.last_new = new
    session.add(source)


def record_failure(
    session: Session,
    *,
    source: NewsSource,
    now: dt.datetime,
    error: str,
    retry_after: float | None = None,
) -> None:
    """Count a failure and push the next allowed fetch back exponentially (or to the
    server's Retry-After, when that is later)."""
    source.last_attempt = now
    source.status = "failed"
    source.error = shorten(error, _ERROR_MAX)
    source.failures = (source.failures or 0) + 1
    delay = backoff_delay(source.failures)
    if retry_after is not None:
        delay = max(delay, dt.timedelta(seconds=retry_after))
    source.next_allowed_at = now + delay
    session.add(source)


def question_states(
    session: Session, *, source_ids: Iterable[int]
) -> dict[tuple[int, str], NewsSourceQuestion]:
    ids = list(source_ids)
    if not ids:
        return {}
    rows = session.exec(
        select(NewsSourceQuestion).where(col(NewsSourceQuestion.source_id).in_(ids))
    ).all()
    return {(r.source_id, r.question_id): r for r in rows}


def record_question_state(
    session: Session,
    *,
    source_id: int,
    question_id: str,
    now: dt.datetime,
    ok: bool,
    error: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    keep_validators: bool = False,
) -> None:
    row = session.exec(
        select(NewsSourceQuestion).where(
            NewsSourceQuestion.source_id == source_id,
            NewsSourceQuestion.question_id == question_id,
        )
    ).first()
    if row is None:
        row = NewsSourceQuestion(source_id=source_id, question_id=question_id)
    row.last_attempt = now
    if ok:
        row.last_success = now
        row.status = "ok"
        row.error = None
        if not keep_validators:
            row.etag, row.last_modified = etag, last_modified
    else:
        row.status = "failed"
        row.error = shorten(error or "failed", _ERROR_MAX)
    session.add(row)


# ---------------------------------------------------------------------- listing, marking


@dataclass
class MatchView:
    question_id: str
    score: float
    terms: list[str]
    resolution_terms: list[str]
    possible_resolution: bool
    relevant: bool | None
    matched_at: dt.datetime
    gdelt_only: bool = False


@dataclass
class ArticleView:
    id: int
    title: str
    url: str
    source: str
    published: dt.datetime | None
    fetched_at: dt.datetime
    summary: str | None
    matches: list[MatchView] = field(default_factory=list)

    @property
    def questions(self) -> list[str]:
        return [m.question_id for m in self.matches]

    @property
    def score(self) -> float:
        return max((m.score for m in self.matches), default=0.0)

    @property
    def possible_resolution(self) -> bool:
        return any(m.possible_resolution for m in self.matches)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "source": self.source,
            "published": clock.iso(self.published),
            "fetched_at": clock.iso(self.fetched_at),
            "questions": self.questions,
            "score": self.score,
            "possible_resolution": self.possible_resolution,
            "matches": [
                {
                    "question": m.question_id,
                    "score": m.score,
                    "terms": m.terms,
                    "resolution_terms": m.resolution_terms,
                    "possible_resolution": m.possible_resolution,
                    "relevant": m.relevant,
                    "gdelt_only": m.gdelt_only,
                    "matched_at": clock.iso(m.matched_at),
                }
                for m in self.matches
            ],
        }


def list_articles(
    session: Session,
    *,
    question_id: str | None = None,
    since: dt.datetime | None = None,
    limit: int | None = 50,
) -> list[ArticleView]:
    """Matched articles, newest first (by published date, else when fetched). Matches
    marked irrelevant are never shown; an article left with no match is not listed."""
    if question_id is not None and session.get(Question, question_id) is None:
        raise question_not_found(session, question_id)
    when = sa.func.coalesce(col(Article.published), col(Article.fetched_at))
    visible = sa.or_(col(ArticleMatch.relevant).is_(None), col(ArticleMatch.relevant).is_(True))
    ids_q = (
        sa.select(col(Article.id), when.label("when"))
        .join(ArticleMatch, col(ArticleMatch.article_id) == col(Article.id))
        .where(visible)
        .group_by(col(Article.id), col(Article.published), col(Article.fetched_at))
        .order_by(when.desc(), col(Article.id).desc())
    )
    if question_id is not None:
        ids_q = ids_q.where(col(ArticleMatch.question_id) == question_id)
    if since is not None:
        ids_q = ids_q.where(when >= since)
    if limit:
        ids_q = ids_q.limit(limit)
    ordered = [row[0] for row in session.execute(ids_q)]
    if not ordered:
        return []
    articles = {a.id: a for a in session.exec(select(Article).where(col(Article.id).in_(ordered)))}
    mq = select(ArticleMatch).where(col(ArticleMatch.article_id).in_(ordered)).where(visible)
    if question_id is not None:
        mq = mq.where(ArticleMatch.question_id == question_id)
    by_article: dict[int, list[MatchView]] = {}
    for m in session.exec(
        mq.order_by(col(ArticleMatch.score).desc(), col(ArticleMatch.question_id))
    ):
        by_article.setdefault(m.article_id, []).append(
            MatchView(
                m.question_id,
                m.score,
                list(m.terms or []),
                list(m.resolution_terms or []),
                m.possible_resolution,
                m.relevant,
                m.matched_at,
                m.gdelt_only,
            )
        )
    out = []
    for aid in ordered:
        a = articles[aid]
        assert a.id is not None
        out.append(
            ArticleView(
                a.id,
                a.title,
                a.url,
                a.source,
                a.published,
                a.fetched_at,
                a.summary,
                by_article.get(aid, []),
            )
        )
    return out


def count_matches(session: Session, *, question_id: str) -> int:
    """How many articles are shown for a question (its matches not marked irrelevant)."""
    visible = sa.or_(col(ArticleMatch.relevant).is_(None), col(ArticleMatch.relevant).is_(True))
    stmt = (
        sa.select(sa.func.count())
        .select_from(_table(ArticleMatch))
        .where(col(ArticleMatch.question_id) == question_id, visible)
    )
    return int(session.execute(stmt).scalar_one())


@dataclass(frozen=True)
class LastPull:
    """When news was last fetched from any source, and when a fetch last succeeded
    (None: never)."""

    attempt: dt.datetime | None
    success: dt.datetime | None


def last_pull(session: Session) -> LastPull:
    """The newest fetch attempt and the newest success over every source."""
    row = session.execute(
        sa.select(
            sa.func.max(col(NewsSource.last_attempt)), sa.func.max(col(NewsSource.last_success))
        )
    ).one()
    return LastPull(attempt=row[0], success=row[1])


def count_articles(session: Session) -> int:
    """How many articles are stored, matched or not."""
    return int(
        session.execute(sa.select(sa.func.count()).select_from(_table(Article))).scalar_one()
    )


class ArticleNotFound(NotFound):
    def __init__(self, article_id: int) -> None:
        super().__init__(f"no article with id {article_id}; see `forecasts news list`")
        self.article_id = article_id


def mark(
    session: Session,
    *,
    article_id: int,
    relevant: bool,
    question_id: str | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Mark an article's match(es) relevant or irrelevant; returns how many were marked.

    With ``question_id`` only that match is marked, and it is created if missing (a
    reviewer linking an article by hand, or hiding it for that question before it ever
    matches). Without it, every match of the article is marked.
    """
    now = now or clock.now()
    if session.get(Article, article_id) is None:
        raise ArticleNotFound(article_id)
    q = select(ArticleMatch).where(ArticleMatch.article_id == article_id)
    if question_id is not None:
        if session.get(Question, question_id) is None:
            raise question_not_found(session, question_id)
        q = q.where(ArticleMatch.question_id == question_id)
    rows = list(session.exec(q).all())
    if not rows:
        if question_id is None:
            raise BadInput(
                f"article {article_id} matches no question; name the question to link it to",
                field="question_id",
            )
        rows = [
            ArticleMatch(
                article_id=article_id, question_id=question_id, score=0.0, terms=[], matched_at=now
            )
        ]
    for m in rows:
        m.relevant = relevant
        m.marked_at = now
        session.add(m)
    session.flush()
    return len(rows)

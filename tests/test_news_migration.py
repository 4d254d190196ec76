"""Migration 0004: article_match.gdelt_only, added without losing a match or a mark."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import sqlalchemy as sa

from forecasts.news.models import Article, ArticleMatch
from forecasts.store import db
from forecasts.store.models import Question

T = dt.datetime(2026, 11, 25, 10, tzinfo=dt.UTC)


def table(model: Any) -> sa.Table:
    return cast(sa.Table, model.__table__)


def test_upgrade_from_0003_keeps_matches_and_marks_as_full_matches(empty_db_url: str) -> None:
    engine = db.get_engine(empty_db_url)
    db.upgrade(engine, "0003")
    match = {
        "id": 1, "article_id": 1, "question_id": "q1", "score": 1.5, "terms": ["x"],
        "resolution_terms": [], "possible_resolution": True, "relevant": True,
        "marked_at": T, "matched_at": T,
    }  # fmt: skip
    with engine.begin() as conn:
        q = Question(
            id="q1", title="t", type="binary", criteria="c", opens=dt.date(2026, 1, 1),
            closes=dt.date(2027, 1, 1), resolve_by=dt.date(2027, 2, 1), news_query="x",
        )  # fmt: skip
        conn.execute(sa.insert(table(Question)), [q.model_dump()])
        conn.execute(
            sa.insert(table(Article)),
            [{"id": 1, "url": "https://e.example/1", "title": "A", "source": "gdelt",
              "fetched_at": T}],
        )  # fmt: skip
        # Written before 0004: no gdelt_only column yet
        conn.execute(sa.insert(table(ArticleMatch)), [match])
    assert db.upgrade(engine) == ("0003", db.head_revision())
    db.dispose_engines()
    with db.get_engine(empty_db_url).connect() as conn:
        row = conn.execute(sa.select(table(ArticleMatch))).mappings().one()
    assert dict(row) == {**match, "gdelt_only": False}

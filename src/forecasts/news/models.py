"""News tables. Created by migration 0002_news (``article_match.gdelt_only``: 0004); a
test checks migrations and models agree.

- ``news_source``: one row per configured source (GDELT, each feed, each search feed) with
  its fetch state: validators for conditional GET, last outcome, failure count and backoff.
- ``news_source_question``: state of a per-question source (GDELT, search feeds) for one
  question, so GDELT's ``startdatetime`` counts from that question's last successful pull.
- ``article``: unique by canonical URL.
- ``article_match``: an article matched to a question, with score, matched terms, the
  possible-resolution flag, whether only GDELT matched it (not the question's query), and
  the reviewer's relevant/irrelevant mark.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from forecasts import clock
from forecasts.store.types import UTCDateTime

#: Longest canonical URL stored (PostgreSQL btree entries must stay well under 2.7 KB).
MAX_URL_LENGTH = 2000
MAX_TITLE_LENGTH = 1000
MAX_SUMMARY_LENGTH = 4000


def _ts(nullable: bool = True, index: bool = False) -> Any:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


def _json() -> Any:
    return sa.Column(sa.JSON(), nullable=False)


class NewsSource(SQLModel, table=True):
    __tablename__ = "news_source"
    __table_args__ = (sa.UniqueConstraint("name", name="uq_news_source_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=16)  # gdelt | feed | search
    url: str
    etag: str | None = None
    last_modified: str | None = Field(default=None, max_length=100)
    last_attempt: dt.datetime | None = Field(default=None, sa_column=_ts())
    last_success: dt.datetime | None = Field(default=None, sa_column=_ts())
    status: str = Field(default="new", max_length=16)  # new | ok | failed
    error: str | None = None
    failures: int = 0
    next_allowed_at: dt.datetime | None = Field(default=None, sa_column=_ts())
    last_items: int | None = None
    last_new: int | None = None


class NewsSourceQuestion(SQLModel, table=True):
    __tablename__ = "news_source_question"
    __table_args__ = (
        sa.UniqueConstraint("source_id", "question_id", name="uq_news_source_question"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="news_source.id", index=True)
    question_id: str = Field(foreign_key="question.id", index=True, max_length=64)
    etag: str | None = None
    last_modified: str | None = Field(default=None, max_length=100)
    last_attempt: dt.datetime | None = Field(default=None, sa_column=_ts())
    last_success: dt.datetime | None = Field(default=None, sa_column=_ts())
    status: str = Field(default="new", max_length=16)
    error: str | None = None


class Article(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("url", name="uq_article_url"),)

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=MAX_URL_LENGTH)
    title: str
    summary: str | None = None
    source: str = Field(max_length=100, index=True)
    published: dt.datetime | None = Field(default=None, sa_column=_ts(index=True))
    fetched_at: dt.datetime = Field(default_factory=clock.now, sa_column=_ts(nullable=False))


class ArticleMatch(SQLModel, table=True):
    __tablename__ = "article_match"
    __table_args__ = (
        sa.UniqueConstraint("article_id", "question_id", name="uq_article_match_article_question"),
    )

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", index=True)
    question_id: str = Field(foreign_key="question.id", index=True, max_length=64)
    score: float = 0.0
    terms: list[str] = Field(default_factory=list, sa_column=_json())
    resolution_terms: list[str] = Field(default_factory=list, sa_column=_json())
    possible_resolution: bool = False
    #: GDELT returned the article for the question, but the question's query does not
    #: match its text: a weaker match, scored below every real one.
    gdelt_only: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean(), nullable=False, server_default=sa.false())
    )
    #: None until a reviewer marks it; False hides the match for good.
    relevant: bool | None = None
    marked_at: dt.datetime | None = Field(default=None, sa_column=_ts())
    matched_at: dt.datetime = Field(
        default_factory=clock.now, sa_column=_ts(nullable=False, index=True)
    )

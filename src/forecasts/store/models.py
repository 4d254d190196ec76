"""Database tables (SQLModel). The schema changes only through the Alembic migrations in
``forecasts/migrations``; a test checks that the two agree.

Datetimes are stored as aware UTC (``UTCDateTime``); days (opens, closes, resolve_by,
resolved_on) as plain dates, understood as UTC days.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from forecasts import clock
from forecasts.store.types import UTCDateTime


def _json(nullable: bool = True) -> Any:
    return sa.Column(sa.JSON(), nullable=nullable)


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


class Person(SQLModel, table=True):
    handle: str = Field(primary_key=True, max_length=40)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    roles: list[str] = Field(default_factory=list, sa_column=_json(nullable=False))
    digest: bool = True
    created_at: dt.datetime = Field(default_factory=clock.now, sa_column=_ts())


class Question(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    title: str
    type: str = Field(max_length=16)
    options: list[str] | None = Field(default=None, sa_column=_json())
    unit: str | None = Field(default=None, max_length=64)
    range_min: float | None = None
    range_max: float | None = None
    criteria: str
    fine_print: str | None = None
    sources: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json(nullable=False))
    opens: dt.date
    closes: dt.date
    resolve_by: dt.date
    tags: list[str] = Field(default_factory=list, sa_column=_json(nullable=False))
    claim_section: str | None = None
    claim_quote: str | None = None
    news_query: str | None = None
    resolution_terms: list[str] = Field(default_factory=list, sa_column=_json(nullable=False))
    reviewers: list[str] = Field(default_factory=list, sa_column=_json(nullable=False))
    created_at: dt.datetime = Field(default_factory=clock.now, sa_column=_ts())
    updated_at: dt.datetime = Field(default_factory=clock.now, sa_column=_ts())

    # The attribute names value parsing expects (see values.QuestionShape).
    @property
    def min(self) -> float | None:
        return self.range_min

    @property
    def max(self) -> float | None:
        return self.range_max


class QuestionRevision(SQLModel, table=True):
    """An edit to a question's criteria, type, options or range, kept for the record."""

    __tablename__ = "question_revision"

    id: int | None = Field(default=None, primary_key=True)
    question_id: str = Field(foreign_key="question.id", index=True, max_length=64)
    changed_at: dt.datetime = Field(default_factory=clock.now, sa_column=_ts())
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=_json(nullable=False))
    reason: str | None = None
    forced: bool = False


class Forecast(SQLModel, table=True):
    """Append-only. ``value`` is a float (binary), {option: p} (choice) or {pXX: x} (numeric)."""

    id: int | None = Field(default=None, primary_key=True)
    question_id: str = Field(foreign_key="question.id", index=True, max_length=64)
    person: str = Field(foreign_key="person.handle", index=True, max_length=40)
    value: Any = Field(sa_column=_json(nullable=False))
    made_at: dt.datetime = Field(sa_column=_ts(index=True))
    recorded_at: dt.datetime = Field(default_factory=clock.now, sa_column=_ts())
    note: str | None = None


class Resolution(SQLModel, table=True):
    """Append-only history. The newest row for a question is current; older ones are superseded."""

    id: int | None = Field(default=None, primary_key=True)
    question_id: str = Field(foreign_key="question.id", index=True, max_length=64)
    outcome: str = Field(max_length=200)
    resolved_on: dt.date
    by: str = Field(foreign_key="person.handle", max_length=40)
    evidence: list[str] = Field(default_factory=list, sa_column=_json(nullable=False))
    note: str | None = None
    correction_reason: str | None = None
    recorded_at: dt.datetime = Field(default_factory=clock.now, sa_column=_ts())
    #: Every reviewer whose agreement made it (a quorum above 1 lists them all; ``by`` is
    #: the first). Empty in rows written without it: read it as ``[by]``.
    reviewers: list[str] = Field(default_factory=list, sa_column=_json(nullable=False))


class Proposal(SQLModel, table=True):
    """A reviewer's proposed outcome, while a quorum above 1 is not yet met. Append-only
    but for ``state``, ``closed_at`` and ``resolution_id``, which record how it ended:
    ``open``; ``withdrawn`` or ``replaced`` by its reviewer; ``accepted`` or ``rejected``
    when a resolution was recorded (``resolution_id``) with its outcome or another."""

    __tablename__ = "resolution_proposal"

    id: int | None = Field(default=None, primary_key=True)
    question_id: str = Field(foreign_key="question.id", index=True, max_length=64)
    by: str = Field(foreign_key="person.handle", max_length=40)
    outcome: str = Field(max_length=200)
    resolved_on: dt.date
    evidence: list[str] = Field(default_factory=list, sa_column=_json(nullable=False))
    note: str | None = None
    #: Proposes a correction of the question's current resolution.
    correction: bool = False
    correction_reason: str | None = None
    proposed_at: dt.datetime = Field(default_factory=clock.now, sa_column=_ts())
    state: str = Field(default="open", max_length=16, index=True)
    closed_at: dt.datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    resolution_id: int | None = Field(default=None, foreign_key="resolution.id")

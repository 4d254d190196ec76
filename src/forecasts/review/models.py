"""The prompt log: which question was put to which reviewer on which day, and why. The
cadence (first prompt, re-prompts every ``reprompt_days``, a new reason prompts at once)
is read from it. Created by migration 0003; a test checks the two agree."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class ReviewPrompt(SQLModel, table=True):
    __tablename__ = "review_prompt"
    __table_args__ = (
        sa.UniqueConstraint(
            "question_id", "handle", "day", name="uq_review_prompt_question_handle_day"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    question_id: str = Field(foreign_key="question.id", index=True, max_length=64)
    handle: str = Field(foreign_key="person.handle", index=True, max_length=40)
    #: closed | overdue | possible_resolution | pending | disputed
    reason: str = Field(max_length=32)
    #: The UTC day of the prompt (its outbox key's day).
    day: dt.date
    #: The outbox message that carried it.
    outbox_key: str = Field(max_length=200)

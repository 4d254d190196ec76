"""The outbox: every outgoing message, written before it is sent. Created by migration
0003; a test checks the two agree.

A row is ``queued`` until a delivery run claims it (``sending``, with a claim that
expires so a crash cannot strand it), and ``sent`` once the transport has accepted it.
A transient failure puts it back to ``queued`` with its error and a later
``next_attempt_at``; a permanent refusal, or too many attempts, leaves it ``failed``
until ``forecasts outbox retry``. ``key`` is unique: a key is queued, and so sent, once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from forecasts import clock
from forecasts.store.types import UTCDateTime

MAX_KEY_LENGTH = 200
STATUSES = ("queued", "sending", "sent", "failed")


def _ts(nullable: bool = True, index: bool = False) -> Any:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "mail_outbox"
    __table_args__ = (sa.UniqueConstraint("key", name="uq_mail_outbox_key"),)

    id: int | None = Field(default=None, primary_key=True)
    #: The idempotency key, e.g. ``prompt:2027-04-01:ann`` or ``digest:2027-W14:ann``.
    key: str = Field(max_length=MAX_KEY_LENGTH)
    recipients: list[str] = Field(
        default_factory=list, sa_column=sa.Column(sa.JSON(), nullable=False)
    )
    subject: str
    #: Derived from the key, so every copy of a message (a retry) carries the same one.
    message_id: str = Field(max_length=250)
    #: The whole message (RFC 5322, 7-bit), exactly as it is sent.
    message: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    status: str = Field(default="queued", max_length=16, index=True)
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: dt.datetime = Field(
        default_factory=clock.now, sa_column=_ts(nullable=False, index=True)
    )
    #: Who holds the row while ``sending``, and until when.
    claim_token: str | None = Field(default=None, max_length=32)
    claimed_until: dt.datetime | None = Field(default=None, sa_column=_ts())
    #: The process that claimed it (``forecasts.process.ProcessId.key``), so that a
    #: delivery run on the same machine can tell its claimant died and send it at once.
    claimed_by: str | None = Field(default=None, max_length=400)
    created_at: dt.datetime = Field(default_factory=clock.now, sa_column=_ts(nullable=False))
    sent_at: dt.datetime | None = Field(default=None, sa_column=_ts())

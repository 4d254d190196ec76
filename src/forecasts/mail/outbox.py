"""The outbox: queue a message under an idempotency key, deliver what is due, retry.

``enqueue(session, key=..., message=...)`` writes the message in the caller's
transaction. A key already in the outbox, in any status, is never queued again, so it
is never sent twice whoever asks (two runs of the prompts on one day, the scheduler and
a person at once).

``deliver(runtime)`` sends what is due, one message at a time, each step its own short
transaction, and no transaction open while talking to the server:

1. claim: one row goes from ``queued`` to ``sending`` with a fresh token and a claim
   that expires (``claim_lease``), in one conditional UPDATE: of two processes
   delivering at once, one gets the row and the other moves on;
2. send it through the transport;
3. mark it ``sent`` (or, on failure, back to ``queued`` with its error and a later
   ``next_attempt_at``; ``failed`` if the server refused it for good or after
   ``MAX_ATTEMPTS``), only if the token is still ours.

A process that dies between 1 and 3 leaves the row ``sending``; once its claim expires,
the next run claims it again. A claim names the process that made it, so a delivery run
on the same machine that finds its claimant dead (``forecasts.process.is_gone``: killed,
crashed) queues the message again at once instead of waiting for the expiry.

The only window for a duplicate is between the server's acceptance (2) and the commit of
``sent`` (3): then the message is sent again. The Maildir transport closes even that
window (the file name comes from the key and an existing file counts as delivered); for
SMTP the copy carries the same Message-ID, which the key determines. docs/mail.md says
this in full.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session, col

from forecasts import clock, process
from forecasts.errors import BadInput
from forecasts.mail.message import POLICY
from forecasts.mail.models import MAX_KEY_LENGTH, OutboxMessage
from forecasts.mail.transport import SendError, Transport, open_transport

if TYPE_CHECKING:
    from forecasts.mail.settings import MailSettings
    from forecasts.runtime import Runtime

#: After this many attempts a message that keeps failing is ``failed`` (retry it with
#: ``forecasts outbox retry``).
MAX_ATTEMPTS = 10
#: Wait before attempt n+1: BACKOFF_BASE x 2^(n-1), at most BACKOFF_CAP.
BACKOFF_BASE = dt.timedelta(minutes=5)
BACKOFF_CAP = dt.timedelta(hours=6)
_ERROR_MAX = 1000


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def claim_lease(settings: MailSettings) -> dt.timedelta:
    """How long a claim holds: longer than any send can take (a dozen SMTP operations,
    each up to ``timeout``), so a live sender never loses its row to another."""
    return dt.timedelta(seconds=12 * settings.timeout + 60)


def message_id(key: str, domain: str) -> str:
    """The Message-ID of the message with ``key``: the same for every copy."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<forecasts.{digest}@{domain}>"


def _check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or any(c.isspace() for c in key):
        raise BadInput(
            f"outbox key {key[:40]!r}... must be 1 to {MAX_KEY_LENGTH} characters, no spaces",
            field="key",
        )
    return key


def enqueue(session: Session, *, key: str, message: EmailMessage) -> bool:
    """Queue ``message`` under ``key`` unless the key is already in the outbox. Returns
    True when it was queued now. Sets the message's Message-ID from the key."""
    _check_key(key)
    recipients = [a.addr_spec for h in ("To", "Cc") for a in _addresses(message, h)]
    if not recipients:
        raise BadInput("a message needs a recipient", field="to")
    sender = _addresses(message, "From")
    domain = sender[0].domain if sender else "localhost"
    del message["Message-ID"]
    message["Message-ID"] = message_id(key, domain)
    now = clock.now()
    row = {
        "key": key,
        "recipients": recipients,
        "subject": str(message.get("Subject", "")),
        "message_id": message["Message-ID"],
        "message": message.as_string(policy=POLICY),
        "status": "queued",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    stmt = (
        _insert(session)
        .values(row)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(col(OutboxMessage.id))
    )
    # RETURNING, not rowcount: psycopg reports -1 for an insert that did nothing.
    return session.execute(stmt).first() is not None


def _addresses(message: EmailMessage, header: str) -> list[Any]:
    value = message.get(header)
    return list(getattr(value, "addresses", ()) or ())


def _insert(session: Session) -> Any:
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


# ------------------------------------------------------------------------------ delivery


@dataclass
class DeliveryReport:
    """What one delivery run did, by outbox key."""

    sent: list[str] = field(default_factory=list)
    #: Found already delivered by the transport (a Maildir file from an earlier attempt
    #: that died before recording it): recorded as sent, not written again.
    already_delivered: list[str] = field(default_factory=list)
    #: Not sent; queued again for a later run: (key, error).
    deferred: list[tuple[str, str]] = field(default_factory=list)
    #: Not sent, and not retried until `forecasts outbox retry`: (key, error).
    failed: list[tuple[str, str]] = field(default_factory=list)
    #: Claimed by a process that died before sending it, queued again by this run.
    released: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return len(self.sent) + len(self.already_delivered) + len(self.deferred) + len(self.failed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": list(self.sent),
            "already_delivered": list(self.already_delivered),
            "deferred": [{"key": k, "error": e} for k, e in self.deferred],
            "failed": [{"key": k, "error": e} for k, e in self.failed],
        }

    def line(self) -> str:
        parts = [f"{len(self.sent)} sent"]
        if self.already_delivered:
            parts.append(f"{len(self.already_delivered)} already delivered")
        parts.append(f"{len(self.deferred)} queued for retry")
        parts.append(f"{len(self.failed)} failed")
        if self.released:
            parts.append(f"{len(self.released)} taken over from a sender that stopped")
        return ", ".join(parts)


@dataclass(frozen=True)
class _Claim:
    id: int
    key: str
    token: str
    attempts: int
    recipients: list[str]
    data: bytes


def _due(now: dt.datetime) -> Any:
    return sa.or_(
        sa.and_(col(OutboxMessage.status) == "queued", col(OutboxMessage.next_attempt_at) <= now),
        sa.and_(col(OutboxMessage.status) == "sending", col(OutboxMessage.claimed_until) < now),
    )


def _claim_next(runtime: Runtime, lease: dt.timedelta, skip: set[int]) -> _Claim | None:
    """Claim the next due message, or None when nothing is due."""
    while True:
        with runtime.session(write=True) as s:
            now = clock.now()
            stmt = (
                sa.select(col(OutboxMessage.id))
                .where(_due(now))
                .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
                .limit(1)
            )
            if skip:
                stmt = stmt.where(col(OutboxMessage.id).not_in(skip))
            found = s.execute(stmt).scalar()
            if found is None:
                return None
            token = uuid.uuid4().hex
            row = s.execute(
                sa.update(OutboxMessage)
                .where(col(OutboxMessage.id) == found, _due(now))
                .values(
                    status="sending",
                    claim_token=token,
                    claimed_until=now + lease,
                    claimed_by=process.this_process().key,
                    attempts=col(OutboxMessage.attempts) + 1,
                )
                .returning(
                    col(OutboxMessage.key),
                    col(OutboxMessage.attempts),
                    col(OutboxMessage.recipients),
                    col(OutboxMessage.message),
                )
            ).first()
            if row is None:  # another process claimed it between our read and update
                skip.add(found)
                continue
            skip.add(found)
            return _Claim(
                found, row.key, token, row.attempts, list(row.recipients), row.message.encode()
            )


def _settle(runtime: Runtime, claim: _Claim, **values: Any) -> None:
    """Record how a claimed message ended, if the claim is still ours."""
    with runtime.session(write=True) as s:
        s.execute(
            sa.update(OutboxMessage)
            .where(col(OutboxMessage.id) == claim.id, col(OutboxMessage.claim_token) == claim.token)
            .values(claim_token=None, claimed_until=None, claimed_by=None, **values)
        )


def release_orphans(runtime: Runtime) -> list[str]:
    """Queue again, due now, every message claimed by a process known to be gone (see
    ``forecasts.process``); return their keys. A claimant that may still run (another
    machine, or unknown) keeps its claim until it expires."""
    with runtime.session() as s:
        held = s.execute(
            sa.select(
                col(OutboxMessage.id), col(OutboxMessage.claim_token), col(OutboxMessage.claimed_by)
            ).where(col(OutboxMessage.status) == "sending")
        ).all()
    orphans = []
    for message_id, token, by in held:
        holder = process.ProcessId.from_key(by)
        if process.is_gone(holder):
            orphans.append((message_id, token, str(holder)))
    if not orphans:
        return []
    released = []
    with runtime.session(write=True) as s:
        now = clock.now()
        for message_id, token, claimant in orphans:
            row = s.execute(
                sa.update(OutboxMessage)
                .where(
                    col(OutboxMessage.id) == message_id,
                    col(OutboxMessage.status) == "sending",
                    col(OutboxMessage.claim_token) == token,
                )
                .values(
                    status="queued",
                    claim_token=None,
                    claimed_until=None,
                    claimed_by=None,
                    next_attempt_at=now,
                    last_error=f"the process sending it ({claimant}) stopped mid-send",
                )
                .returning(col(OutboxMessage.key))
            ).first()
            if row is not None:
                released.append(row.key)
    return released


def _record_failure(runtime: Runtime, claim: _Claim, error: SendError) -> tuple[str, str]:
    now = clock.now()
    give_up = error.permanent or claim.attempts >= MAX_ATTEMPTS
    text = error.message[:_ERROR_MAX]
    if give_up and not error.permanent:
        text = f"{text} (gave up after {claim.attempts} attempts)"
    _settle(
        runtime,
        claim,
        status="failed" if give_up else "queued",
        last_error=text,
        next_attempt_at=now + backoff(claim.attempts),
    )
    return ("failed" if give_up else "queued"), text


def deliver(
    runtime: Runtime, *, transport: Transport | None = None, limit: int | None = None
) -> DeliveryReport:
    """Send every due message (at most ``limit``), one at a time; see the module doc.

    ``transport`` defaults to the one ``[mail]`` configures, opened only if something is
    due. When the transport itself fails (server unreachable, TLS or AUTH refused), the
    remaining due messages of the run are not tried: each is queued again with the same
    error, so ``forecasts outbox`` shows it on every one."""
    settings = runtime.settings.mail
    lease = claim_lease(settings)
    sender = settings.sender_address.addr_spec
    report = DeliveryReport(released=release_orphans(runtime))
    skip: set[int] = set()
    opened: Transport | None = None
    down: SendError | None = None
    try:
        while limit is None or report.attempted < limit:
            claim = _claim_next(runtime, lease, skip)
            if claim is None:
                break
            if down is None:
                if transport is None:
                    transport = opened = open_transport(settings)
                try:
                    how = transport.send(
                        claim.data, key=claim.key, sender=sender, recipients=claim.recipients
                    )
                except SendError as e:
                    down = e if e.connection else None
                    status, text = _record_failure(runtime, claim, e)
                    (report.failed if status == "failed" else report.deferred).append(
                        (claim.key, text)
                    )
                    continue
                _settle(runtime, claim, status="sent", sent_at=clock.now())
                (report.already_delivered if how == "already delivered" else report.sent).append(
                    claim.key
                )
            else:
                status, text = _record_failure(runtime, claim, down)
                (report.failed if status == "failed" else report.deferred).append((claim.key, text))
    finally:
        if opened is not None:
            opened.close()
    return report


def retry(runtime: Runtime, *, transport: Transport | None = None) -> DeliveryReport:
    """Make every queued and failed message due now, then deliver."""
    with runtime.session(write=True) as s:
        s.execute(
            sa.update(OutboxMessage)
            .where(col(OutboxMessage.status).in_(("queued", "failed")))
            .values(status="queued", next_attempt_at=clock.now())
        )
    return deliver(runtime, transport=transport)


# ------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class OutboxEntry:
    key: str
    to: list[str]
    subject: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    message_id: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "to": list(self.to),
            "subject": self.subject,
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "next_attempt_at": clock.iso(self.next_attempt_at) if self.next_attempt_at else None,
            "created_at": clock.iso(self.created_at),
            "sent_at": clock.iso(self.sent_at) if self.sent_at else None,
            "message_id": self.message_id,
        }


def list_outbox(session: Session, *, statuses: Sequence[str] | None = None) -> list[OutboxEntry]:
    """Every message in the outbox (or those in ``statuses``), oldest first."""
    stmt = sa.select(OutboxMessage).order_by(col(OutboxMessage.id))
    if statuses:
        stmt = stmt.where(col(OutboxMessage.status).in_(list(statuses)))
    return [
        OutboxEntry(
            key=m.key,
            to=list(m.recipients),
            subject=m.subject,
            status=m.status,
            attempts=m.attempts,
            last_error=m.last_error,
            next_attempt_at=m.next_attempt_at if m.status == "queued" else None,
            created_at=m.created_at,
            sent_at=m.sent_at,
            message_id=m.message_id,
        )
        for m in session.execute(stmt).scalars()
    ]


def stored_message(session: Session, *, key: str) -> EmailMessage | None:
    """The message queued under ``key``, parsed, or None."""
    import email

    text = session.execute(
        sa.select(col(OutboxMessage.message)).where(col(OutboxMessage.key) == key)
    ).scalar()
    if text is None:
        return None
    msg = email.message_from_string(text, policy=POLICY)
    assert isinstance(msg, EmailMessage)
    return msg

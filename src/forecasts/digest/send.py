"""``send_digests``: the one call the CLI (``forecasts digest``) and the scheduler make.

A run checks its options, reads the week once (``gather``), picks each reader's digest
(``sections``), and then, by mode:

- **send**: builds each reader's email (text, HTML, the chart), queues it in the outbox
  under ``digest:<ISO week>:<handle>`` in one transaction, and delivers the outbox. A
  reader whose key is already in the outbox is skipped before anything is built, so a
  second run for the week queues and sends nothing, whoever runs it;
- **preview**: builds one reader's digest and writes the HTML (the chart inlined) to a
  file and the text beside it; nothing is queued or sent;
- **dry run**: says who would get what (sections and counts); nothing is built or sent.

A reader with nothing to read that week gets no email.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from forecasts import clock
from forecasts.digest.weeks import IsoWeek, last_full_week
from forecasts.errors import BadInput, PersonNotFound

if TYPE_CHECKING:
    from sqlmodel import Session

    from forecasts.digest.gather import Gathered, Reader
    from forecasts.digest.render import Built
    from forecasts.mail.outbox import DeliveryReport
    from forecasts.runtime import Runtime

Mode = Literal["send", "preview", "dry run"]

#: How each section is counted in a line of text.
_COUNTED = {
    "resolve": "{} to resolve",
    "closing": "{} closing soon",
    "news": "news on {} question(s)",
    "moves": "{} crowd move(s)",
    "resolved": "{} resolved",
    "calibration": "calibration",
}


def digest_key(week: IsoWeek, handle: str) -> str:
    """The outbox key of ``handle``'s digest of ``week``: one a week, whoever asks."""
    return f"digest:{week}:{handle}"


def sections_line(counts: dict[str, int]) -> str:
    """'2 to resolve, news on 3 questions, calibration'."""
    parts = []
    for key, n in counts.items():
        text = _COUNTED[key].format(n)
        parts.append(text.replace("(s)", "" if n == 1 else "s"))
    return ", ".join(parts)


@dataclass(frozen=True)
class ReaderDigest:
    """One reader's digest of the run."""

    handle: str
    email: str
    key: str
    subject: str
    #: Items per section shown, in the digest's order.
    counts: dict[str, int]
    #: True: queued by this run; False: already in the outbox (an earlier run); None:
    #: nothing was queued (a preview or a dry run).
    queued: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "handle": self.handle,
            "email": self.email,
            "key": self.key,
            "subject": self.subject,
            "sections": dict(self.counts),
            "queued": self.queued,
        }


@dataclass
class DigestRun:
    """What ``send_digests`` did."""

    week: IsoWeek
    zone: str
    mode: Mode
    first_day: dt.date
    last_day: dt.date
    digests: list[ReaderDigest] = field(default_factory=list)
    #: Readers with nothing to read this week (no email).
    nothing: list[str] = field(default_factory=list)
    #: Files a preview wrote (the HTML, then the text).
    written: list[Path] = field(default_factory=list)
    #: The outbox delivery that followed (send only).
    delivery: DeliveryReport | None = None
    #: Seconds spent reading, building, queueing and delivering.
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def queued(self) -> list[ReaderDigest]:
        return [d for d in self.digests if d.queued]

    @property
    def already(self) -> list[ReaderDigest]:
        return [d for d in self.digests if d.queued is False]

    def summary_line(self) -> str:
        """The run in one line, for a log: 'digest 2026-W48 (UTC): 12 queued, 2 already
        queued, 3 with nothing this week; outbox: 12 sent, 0 queued for retry, 0 failed'."""
        head = f"digest {self.week} ({self.zone})"
        nothing = f"{len(self.nothing)} with nothing this week"
        if self.mode == "preview":
            return f"{head}: preview of {self.digests[0].handle} written to {self.written[0]}"
        if self.mode == "dry run":
            return f"{head}, dry run: would send {len(self.digests)}, {nothing}"
        line = f"{head}: {len(self.queued)} queued, {len(self.already)} already queued, {nothing}"
        if self.delivery is not None:
            line += f"; outbox: {self.delivery.line()}"
        return line

    def to_dict(self) -> dict[str, Any]:
        return {
            "week": str(self.week),
            "zone": self.zone,
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "mode": self.mode,
            "digests": [r.to_dict() for r in self.digests],
            "nothing": list(self.nothing),
            "written": [str(p) for p in self.written],
            "delivery": None if self.delivery is None else self.delivery.to_dict(),
        }


def send_digests(
    runtime: Runtime,
    week: IsoWeek | str | None = None,
    send: bool = True,
    *,
    to: str | None = None,
    preview: str | os.PathLike[str] | None = None,
) -> DigestRun:
    """The digests of ``week`` (default: the last full week in ``[schedule] timezone``):
    queued and delivered with ``send``; with ``preview`` (a file path) one reader's (``to``,
    default the first) written there and beside it as text; else a dry run. ``to``
    limits the run to that reader. Raises ``BadInput`` naming its ``field`` (``week``,
    ``to``, ``preview``) before reading anything else."""
    zone = runtime.settings.schedule.zone
    chosen = _week(week, clock.now(), zone)
    mode: Mode = "preview" if preview is not None else "send" if send else "dry run"
    if preview is not None and send:
        raise BadInput("a preview sends nothing; ask for one or the other", field="preview")
    paths = _preview_paths(preview) if preview is not None else None
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with runtime.session() as session:
        if to is not None:
            _check_reader(session, to)
        g = _gather(session, chosen, zone, runtime)
        already = _queued(session, chosen) if mode == "send" else set()
    timings["gather"] = time.perf_counter() - started
    run = DigestRun(chosen, str(zone), mode, chosen.monday, chosen.sunday)
    readers = [r for r in g.readers if to is None or r.handle == to]
    if mode == "preview":
        if not readers:
            raise BadInput("nobody gets the digest: no one has an email address", field="to")
        readers = readers[:1]
    started = time.perf_counter()
    built = _build(g, readers, run, already)
    timings["build"] = time.perf_counter() - started
    if paths is not None:
        run.written = _write_preview(built[0], *paths)
    elif mode == "send":
        started = time.perf_counter()
        run.digests = _queue(runtime, run.digests, built, chosen)
        timings["queue"] = time.perf_counter() - started
        from forecasts.mail.outbox import deliver

        started = time.perf_counter()
        run.delivery = deliver(runtime)
        timings["deliver"] = time.perf_counter() - started
    run.timings = timings
    return run


# ------------------------------------------------------------------------------ checks


def _week(week: IsoWeek | str | None, now: dt.datetime, zone: dt.tzinfo) -> IsoWeek:
    """The week asked for, which must have ended in ``zone``."""
    last = last_full_week(now, zone)
    if week is None:
        return last
    if isinstance(week, str):
        try:
            week = IsoWeek.parse(week)
        except ValueError as e:
            raise BadInput(str(e), field="week") from None
    if week > last:
        ends = week.bounds(zone)[1].astimezone(zone)
        raise BadInput(
            f"week {week} has not ended yet: it ends {ends:%Y-%m-%d %H:%M} {zone}; "
            f"the last full week is {last}",
            field="week",
        )
    return week


def _preview_paths(preview: str | os.PathLike[str]) -> tuple[Path, Path]:
    """The HTML file, and the text file beside it (the same name ending in ``.txt``)."""
    from forecasts.report.html import check_writable

    html = check_writable(preview, "preview")
    text = html.with_suffix(".txt")
    if text == html:
        raise BadInput(
            f"{html} would be both the HTML and the text file; give a name ending in .html",
            field="preview",
        )
    check_writable(text, "preview")
    return html, text


def _check_reader(session: Session, handle: str) -> None:
    from forecasts.domain.people import get_person

    try:
        person = get_person(session, handle=handle)
    except PersonNotFound as e:
        e.field = "to"
        raise
    if not person.email:
        raise BadInput(
            f"{handle} has no email address, so gets no digest; give them one first", field="to"
        )
    if not person.digest:
        raise BadInput(f"{handle} has the digest turned off; turn it on first", field="to")


def _gather(session: Session, week: IsoWeek, zone: dt.tzinfo, runtime: Runtime) -> Gathered:
    from forecasts.digest.gather import gather

    return gather(session, week, zone, quorum=runtime.settings.review.quorum)


def _queued(session: Session, week: IsoWeek) -> set[str]:
    """The digest keys of ``week`` already in the outbox (any status)."""
    import sqlalchemy as sa
    from sqlmodel import col

    from forecasts.mail.models import OutboxMessage

    prefix = digest_key(week, "")
    rows = session.execute(
        sa.select(col(OutboxMessage.key)).where(
            col(OutboxMessage.key).startswith(prefix, autoescape=True)
        )
    ).scalars()
    return set(rows)


# ---------------------------------------------------------------------------- building


def _build(g: Gathered, readers: list[Reader], run: DigestRun, already: set[str]) -> list[Built]:
    """Each reader's digest; built (rendered, with the chart) unless a dry run, or
    already queued. Fills ``run.digests`` and ``run.nothing``."""
    from forecasts.digest.render import build, subject
    from forecasts.digest.sections import digest_for

    painter = None
    built: list[Built] = []
    for reader in readers:
        digest = digest_for(reader, g)
        if digest.empty and run.mode != "preview":
            run.nothing.append(reader.handle)
            continue
        key = digest_key(g.week, reader.handle)
        entry = ReaderDigest(
            reader.handle, reader.email or "", key, subject(digest), digest.counts()
        )
        if key in already:
            run.digests.append(_replace(entry, queued=False))
            continue
        run.digests.append(entry)
        if run.mode == "dry run":
            continue
        chart = None
        if digest.calibration is not None and digest.calibration.chart:
            painter = painter or _painter(g)
            chart = painter.png(digest.calibration.bins)
        built.append(build(digest, chart))
    return built


def _painter(g: Gathered) -> Any:
    from forecasts.digest.chart import Painter

    return Painter(g.report.crowd.calibration)


def _replace(entry: ReaderDigest, **changes: Any) -> ReaderDigest:
    from dataclasses import replace

    return replace(entry, **changes)


def _write_preview(built: Built, html: Path, text: Path) -> list[Path]:
    from forecasts.digest.render import preview_html

    html.write_text(preview_html(built), encoding="utf-8")
    text.write_text(built.text, encoding="utf-8")
    return [html, text]


def _queue(
    runtime: Runtime, entries: list[ReaderDigest], built: list[Built], week: IsoWeek
) -> list[ReaderDigest]:
    """Queue every built digest in one transaction; a key another run queued meanwhile
    is left alone (``enqueue`` returns False)."""
    from forecasts.digest.render import message
    from forecasts.mail.outbox import enqueue

    sender = runtime.settings.mail.sender_address
    queued: dict[str, bool] = {}
    with runtime.session(write=True) as session:
        for b in built:
            key = digest_key(week, b.digest.reader.handle)
            queued[key] = enqueue(session, key=key, message=message(b, sender))
    return [_replace(e, queued=queued[e.key]) if e.key in queued else e for e in entries]

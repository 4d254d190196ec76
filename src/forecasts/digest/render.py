"""A ``Digest`` as an email: the subject, the text and HTML parts (``templates/digest.*``),
and the reliability diagram as an inline PNG.

The HTML is built for mail clients: tables for layout, inline styles only, no external
CSS, scripts or images, at most 640 px wide. The chart is referenced as
``cid:reliability@forecasts`` in a ``multipart/related`` part; a preview written to a
file embeds it as a ``data:`` URI instead, so the file shows the same picture.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING

from forecasts.digest.sections import SECTIONS, Digest

if TYPE_CHECKING:
    from email.headerregistry import Address
    from email.message import EmailMessage

    from forecasts.mail.message import Rendered

CHART_CID = "reliability@forecasts"


@dataclass(frozen=True)
class Built:
    """One reader's digest as it is sent: the message, and its parts for a preview."""

    digest: Digest
    subject: str
    text: str
    html: str
    chart: bytes | None


def subject(digest: Digest) -> str:
    """'Forecasts, week 48: 2 to resolve, 3 closing soon, news on 4 questions'."""
    c = digest.counts()
    parts = []
    if "resolve" in c:
        parts.append(f"{c['resolve']} to resolve")
    if "closing" in c:
        parts.append(f"{c['closing']} closing soon")
    if "resolved" in c:
        parts.append(f"{c['resolved']} resolved")
    if "news" in c:
        parts.append(f"news on {c['news']} question{'' if c['news'] == 1 else 's'}")
    if not parts and "moves" in c:
        parts.append("the crowd moved")
    head = f"Forecasts, week {digest.week.week} of {digest.week.year}"
    return f"{head}: {', '.join(parts)}" if parts else head


def render(digest: Digest, *, image_src: str | None) -> Rendered:
    """The text and HTML parts. ``image_src`` is where the HTML finds the chart (a
    ``cid:`` or ``data:`` URI), or None when there is no chart."""
    from forecasts.mail.message import render as render_templates

    shown = digest.counts()
    context = {
        "d": digest,
        "sections": [(key, title) for key, title in SECTIONS if key in shown],
        "image_src": image_src,
        "subject": subject(digest),
    }
    return render_templates("digest", context, package="forecasts.digest")


def build(digest: Digest, chart: bytes | None) -> Built:
    """The parts of ``digest``'s email, the chart referenced by its content id."""
    body = render(digest, image_src=f"cid:{CHART_CID}" if chart else None)
    return Built(digest, subject(digest), body.text, body.html, chart)


def message(built: Built, sender: Address) -> EmailMessage:
    """The email: ``multipart/alternative`` of the text and (with a chart) a
    ``multipart/related`` of the HTML and the PNG."""
    from forecasts.mail.message import InlineImage, address, build_message

    reader = built.digest.reader
    assert reader.email
    images = (
        [InlineImage(cid=CHART_CID, data=built.chart, filename="reliability.png")]
        if built.chart
        else []
    )
    return build_message(
        sender=sender,
        to=[address(reader.email, reader.name)],
        subject=built.subject,
        text=built.text,
        html=built.html,
        images=images,
    )


def preview_html(built: Built) -> str:
    """The HTML part as a file can show it: the chart inlined as a ``data:`` URI."""
    if not built.chart:
        return built.html
    data = base64.b64encode(built.chart).decode("ascii")
    return render(built.digest, image_src=f"data:image/png;base64,{data}").html

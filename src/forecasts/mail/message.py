"""Building messages: templates to a text + HTML pair, and the pair to an ``EmailMessage``.

``render(name, context)`` renders ``templates/<name>.txt`` and ``templates/<name>.html``
(of ``forecasts.mail``, or of the package given) with Jinja2. HTML templates are
autoescaped; text templates are not (a plain-text ``&`` must stay ``&``), so text
templates pass untrusted values through ``oneline``. Filters both kinds may use:

- ``oneline(n=200)``: control characters and line breaks folded to spaces, then cut to
  ``n`` characters with an ellipsis. For every untrusted one-line value (an article
  title, a source name): a title cannot add lines that look like instructions.
- ``line(n=1000)``: the same for one line of a longer text, its indentation kept.
- ``http_url``: the URL if it is an absolute http(s) URL, else ``""``: only such links
  are rendered as links (``{% if a.url | http_url %}<a href=...>``).

``build_message`` makes ``multipart/alternative`` (text, then HTML). With
``images``, the HTML part becomes ``multipart/related`` holding the HTML and each image,
referenced from the HTML as ``cid:<InlineImage.cid>``::

    alternative
      text/plain
      related
        text/html      <img src="cid:chart@forecasts">
        image/png      Content-ID: <chart@forecasts>

Headers from data are safe: ``header_text`` folds line breaks and control characters
into spaces and caps the length, so a subject holding ``\\nBcc: x`` stays one header.
Messages are 7-bit (quoted-printable or base64 bodies) so any server takes them as is.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from forecasts import clock
from forecasts.validate import is_http_url

if TYPE_CHECKING:
    from jinja2 import Environment

#: Every message is built and stored under this policy: 7-bit bodies, lines folded at 78.
POLICY = policy.default.clone(cte_type="7bit")
#: Longest subject kept (RFC 5322 recommends lines of at most 78 characters; the
#: subject is folded, so this bounds its length, not its line).
MAX_SUBJECT = 200

# Line breaks and other control characters (C0, DEL, C1, and Unicode line/paragraph
# separators) that must never reach a header or a one-line value.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile(r"\s+")
_CID = re.compile(r"[A-Za-z0-9._-]+@[A-Za-z0-9.-]+")


def oneline(value: Any, limit: int = 200) -> str:
    """``value`` as one line: control characters and runs of spaces become one space,
    and it is cut to ``limit`` characters (ending in an ellipsis when cut)."""
    text = _SPACES.sub(" ", _CONTROL.sub(" ", "" if value is None else str(value))).strip()
    if len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + "\u2026"
    return text


def line(value: Any, limit: int = 1000) -> str:
    """One line of a multi-line text (criteria, fine print): like ``oneline`` but its
    indentation kept."""
    text = "" if value is None else str(value)
    indent = text[: len(text) - len(text.lstrip(" "))]
    return indent + oneline(text, limit)


def header_text(value: Any, limit: int = MAX_SUBJECT) -> str:
    """A header value from data: one line, capped."""
    return oneline(value, limit)


def _http_url(value: Any) -> str:
    return str(value).strip() if value is not None and is_http_url(str(value)) else ""


@functools.cache
def environment(package: str = "forecasts.mail") -> Environment:
    """The Jinja2 environment over ``<package>/templates``: HTML autoescaped, text not,
    undefined names an error (a template typo must not send an empty field)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html",), disabled_extensions=("txt",), default=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["oneline"] = oneline
    env.filters["line"] = line
    env.filters["http_url"] = _http_url
    return env


@dataclass(frozen=True)
class Rendered:
    text: str
    html: str


def render(name: str, context: Mapping[str, Any], *, package: str = "forecasts.mail") -> Rendered:
    """``<name>.txt`` and ``<name>.html`` from ``<package>/templates``, rendered."""
    env = environment(package)
    return Rendered(
        text=env.get_template(f"{name}.txt").render(context),
        html=env.get_template(f"{name}.html").render(context),
    )


@dataclass(frozen=True)
class InlineImage:
    """An image shown inside the HTML part, referenced there as ``cid:<cid>``."""

    cid: str  # e.g. "reliability@forecasts"
    data: bytes
    subtype: str = "png"
    filename: str | None = None

    def __post_init__(self) -> None:
        if not _CID.fullmatch(self.cid):
            raise ValueError(f"{self.cid!r} is not a content id; use e.g. chart@forecasts")


def build_message(
    *,
    sender: Address,
    to: Sequence[Address],
    subject: str,
    text: str,
    html: str,
    images: Sequence[InlineImage] = (),
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """A ``multipart/alternative`` message (text, then HTML with any inline images).

    ``subject`` and ``headers`` values pass through ``header_text``. No Message-ID: the
    outbox gives every message one derived from its key (``outbox.enqueue``)."""
    if not to:
        raise ValueError("a message needs at least one recipient")
    msg = EmailMessage(policy=POLICY)
    msg["From"] = sender
    msg["To"] = list(to)
    msg["Subject"] = header_text(subject)
    msg["Date"] = formatdate(clock.now().timestamp(), usegmt=True)
    for name, value in (headers or {}).items():
        msg[header_text(name, 60)] = header_text(value, 500)
    msg.set_content(text, subtype="plain")
    if not images:
        msg.add_alternative(html, subtype="html")
        return msg
    related = EmailMessage(policy=POLICY)
    related.set_content(html, subtype="html")
    for image in images:
        related.add_related(
            image.data,
            maintype="image",
            subtype=image.subtype,
            cid=f"<{image.cid}>",
            filename=image.filename,
            disposition="inline",
        )
    msg.make_alternative()
    msg.attach(related)
    return msg


def address(email: str, name: str | None = None) -> Address:
    """A recipient's address from stored data (line breaks folded out of the name)."""
    from forecasts.mail.settings import parse_address

    parsed = parse_address(email)
    return Address(
        display_name=oneline(name or "", 100), username=parsed.username, domain=parsed.domain
    )

"""Source formats: GDELT DOC 2.0 URLs and bodies, RSS/Atom feeds, search-feed templates.

Everything here is pure (bytes in, items out); fetching is in ``fetch.py``.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from forecasts.news.dates import parse_date
from forecasts.news.models import MAX_SUMMARY_LENGTH, MAX_TITLE_LENGTH
from forecasts.news.urls import canonical_url

#: GDELT DOC 2.0 only searches the last three months.
GDELT_MAX_LOOKBACK = dt.timedelta(days=89)
#: Re-ask for a little before the last success: GDELT indexes with some delay.
GDELT_OVERLAP = dt.timedelta(minutes=30)
GDELT_FIRST_TIMESPAN = "3months"
GDELT_MAX_RECORDS = 250

#: Dates further in the future than this are treated as unknown.
_FUTURE_SLACK = dt.timedelta(days=2)


class SourceError(Exception):
    """A source answered, but not with news. ``transient`` errors (rate limits, outages)
    stop further requests to the same source in this pull."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient


@dataclass
class Item:
    """One article as a source gave it, with its URL already canonical."""

    url: str
    title: str
    summary: str | None = None
    published: dt.datetime | None = None


@dataclass
class Parsed:
    items: list[Item] = field(default_factory=list)
    #: Something was wrong but the source was still read (e.g. a recoverable feed error).
    warning: str | None = None


# ------------------------------------------------------------------------- text helpers

_TAG_RE = re.compile(r"<[^>]*>")
_WS_RE = re.compile(r"\s+")


def clean_text(text: Any, limit: int) -> str:
    """Plain text from a title or summary that may hold HTML: tags removed, entities
    decoded, whitespace collapsed, cut to ``limit`` characters."""
    if not isinstance(text, str) or not text:
        return ""
    text = html.unescape(_TAG_RE.sub(" ", text))
    text = _WS_RE.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "\u2026"
    return text


def _sane_date(value: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
    if value is None or value > now + _FUTURE_SLACK or value.year < 1990:
        return None
    return value


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a space, never inside a word or a
    URL, with an ellipsis when something was cut."""
    text = _WS_RE.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else cut).rstrip() + "\u2026"


def _first_line(text: str, limit: int = 300) -> str:
    for line in text.splitlines():
        line = _TAG_RE.sub(" ", line).strip()
        if line:
            return shorten(line, limit)
    return shorten(text, limit)


# ------------------------------------------------------------------------------- GDELT


def gdelt_url(
    base: str,
    query: str,
    *,
    last_success: dt.datetime | None,
    now: dt.datetime,
) -> str:
    """The ArtList request for one question. Counts from the last successful pull (less a
    small overlap); the first pull, or one after a long gap, asks for the last 3 months."""
    params: list[tuple[str, str]] = [
        ("query", query),
        ("mode", "ArtList"),
        ("format", "json"),
        ("maxrecords", str(GDELT_MAX_RECORDS)),
        ("sort", "DateDesc"),
    ]
    start = None if last_success is None else last_success - GDELT_OVERLAP
    if start is None or start < now - GDELT_MAX_LOOKBACK:
        params.append(("timespan", GDELT_FIRST_TIMESPAN))
    else:
        params.append(("startdatetime", start.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")))
    sep = "&" if "?" in base else "?"
    return base + sep + urlencode(params, quote_via=quote)


def parse_seendate(value: Any) -> dt.datetime | None:
    """GDELT's ``seendate``: ``20230918T031500Z`` (UTC)."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    for fmt in ("%Y%m%dT%H%M%SZ", "%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return dt.datetime.strptime(value, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    return None


_ESCAPE_RE = re.compile(r'\\(["\\/bfnrt]|u[0-9a-fA-F]{4})|\\')
_RATE_LIMIT_HINTS = ("limit requests", "rate limit", "too many requests", "one every")


def repair_json_escapes(text: str) -> str:
    """Double every backslash that does not start a valid JSON escape (GDELT sometimes
    copies ``\\'`` or ``\\x`` from page titles verbatim)."""
    return _ESCAPE_RE.sub(lambda m: m.group(0) if m.group(1) else "\\\\", text)


_OBJECT_RE = re.compile(r"\{[^{}]*\}")


def _loads(text: str) -> Any:
    try:
        return json.loads(text, strict=False)
    except json.JSONDecodeError:
        return json.loads(repair_json_escapes(text), strict=False)


def _salvage_articles(text: str) -> list[Any]:
    """Last resort for a body that is not valid JSON even after repair: read the article
    objects one by one and skip those that still do not parse."""
    start = text.find('"articles"')
    if start < 0:
        return []
    out = []
    for m in _OBJECT_RE.finditer(text, start):
        try:
            out.append(_loads(m.group(0)))
        except json.JSONDecodeError:
            continue
    return out


def parse_gdelt(body: bytes, *, now: dt.datetime) -> Parsed:
    """Articles from a GDELT ArtList JSON body.

    ``{}`` is an empty result. Any non-JSON body (GDELT answers errors and rate-limit
    refusals as plain text, often with HTTP 200) raises SourceError: it is a failure,
    never "no news". Invalid backslash escapes are repaired; articles that still do not
    parse are skipped.
    """
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
    if not text:
        raise SourceError("GDELT returned an empty body", transient=True)
    if not text.startswith("{"):
        msg = _first_line(text)
        transient = any(h in text.lower() for h in _RATE_LIMIT_HINTS)
        raise SourceError(f"GDELT refused the query: {msg}", transient=transient)
    warning = None
    try:
        data = _loads(text)
        raw = data.get("articles", []) if isinstance(data, dict) else None
        if not isinstance(raw, list):
            raise SourceError("GDELT returned JSON without an article list")
    except json.JSONDecodeError as e:
        raw = _salvage_articles(text)
        if not raw:
            raise SourceError(f"GDELT returned malformed JSON ({e.msg})") from None
        warning = f"malformed JSON ({e.msg}); read {len(raw)} articles one by one"
    items = []
    for a in raw:
        if not isinstance(a, dict):
            continue
        url = canonical_url(a.get("url") if isinstance(a.get("url"), str) else None)
        if url is None:
            continue
        title = clean_text(a.get("title"), MAX_TITLE_LENGTH) or url
        items.append(Item(url, title, None, _sane_date(parse_seendate(a.get("seendate")), now)))
    return Parsed(items, warning)


# ------------------------------------------------------------------------------- feeds

_ENTITY_RE = re.compile(rb"<!entity", re.IGNORECASE)


def refuse_entities(body: bytes) -> None:
    """Raise SourceError if the XML declares entities (billion-laughs style expansion).
    Checked on the raw bytes, NULs removed so UTF-16 documents are caught too."""
    probe = body.replace(b"\x00", b"") if b"\x00" in body[:4096] else body
    if _ENTITY_RE.search(probe):
        raise SourceError("feed declares XML entities (<!ENTITY); refused")


def parse_feed(
    body: bytes,
    *,
    url: str,
    headers: Mapping[str, str] | None = None,
    now: dt.datetime,
    default_tz: dt.tzinfo = dt.UTC,
) -> Parsed:
    """Items from an RSS or Atom body. ``headers`` are the response headers (any case);
    ``url`` is where the body came from, so relative links resolve against it; dates
    without a time zone are in ``default_tz``.

    A feed that is broken but readable (feedparser's "bozo" flag with entries) is kept with
    a warning; a body that yields no feed at all raises SourceError.
    """
    import feedparser

    refuse_entities(body)
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    hdrs["content-location"] = url
    # A file-like object: feedparser treats a bare string or bytes as a path or URL to open.
    d = feedparser.parse(io.BytesIO(body), response_headers=hdrs)
    entries = d.get("entries") or []
    bozo = d.get("bozo")
    version = d.get("version") or ""
    if not entries and not version:
        why = f" ({_describe(d.get('bozo_exception'))})" if bozo else ""
        raise SourceError(f"not a readable RSS/Atom feed{why}")
    warning = None
    if bozo and not _undeclared_encoding_guessed(d.get("bozo_exception"), body, hdrs):
        warning = f"feed has errors but was read ({_describe(d.get('bozo_exception'))})"
    items = []
    for e in entries:
        canon = best_link(e, base=url)
        if canon is None:
            continue
        title = clean_text(e.get("title"), MAX_TITLE_LENGTH)
        summary = clean_text(e.get("summary") or e.get("description"), MAX_SUMMARY_LENGTH)
        if not title and not summary:
            continue
        published = entry_date(e, default_tz=default_tz)
        items.append(
            Item(canon, title or summary[:200], summary or None, _sane_date(published, now))
        )
    return Parsed(items, warning)


_PROLOG_ENCODING_RE = re.compile(rb"^\s*<\?xml[^>]*\bencoding\s*=", re.IGNORECASE)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def _undeclared_encoding_guessed(exc: Any, body: bytes, headers: Mapping[str, str]) -> bool:
    """feedparser's "document declared as utf-8, but parsed as windows-1252" for a feed
    that declared no encoding at all (no charset, no BOM, no ``encoding=``): feedparser
    only guessed, and the message would blame the publisher for a declaration it never
    made."""
    import feedparser

    if not isinstance(exc, feedparser.CharacterEncodingOverride):
        return False
    if "charset=" in headers.get("content-type", "").lower() or body.startswith(_BOMS):
        return False
    return not _PROLOG_ENCODING_RE.match(body[:512].replace(b"\x00", b""))


#: Links that are never the article itself.
_NOT_THE_ARTICLE = frozenset({"self", "edit", "replies", "enclosure", "license", "hub"})
_HTML_TYPES = frozenset({"", "text/html", "application/xhtml+xml"})


def best_link(entry: Mapping[str, Any], *, base: str) -> str | None:
    """The canonical URL of an entry's article, or None if it has no usable http(s) link.

    In order: FeedBurner's ``feedburner:origLink`` (the publisher's URL behind a
    ``/~r/`` redirect), an alternate HTML link, the entry's main link, any other
    alternate link (an Atom entry whose only link is a PDF), any other link that is not
    the feed's own (``self``, ``edit``, ``replies``, an enclosure...), and the guid when
    it is a permalink.
    """
    for link in _link_candidates(entry):
        canon = canonical_url(link, base=base) if isinstance(link, str) else None
        if canon is not None:
            return canon
    return None


def _link_candidates(entry: Mapping[str, Any]) -> Iterator[Any]:
    """The links of best_link, best first; lazily, since the first is usually taken."""
    yield entry.get("feedburner_origlink")
    links = [x for x in entry.get("links") or () if isinstance(x, Mapping)]
    alternates = [x for x in links if _rel(x) == "alternate"]
    yield from (x.get("href") for x in alternates if _type(x) in _HTML_TYPES)
    yield entry.get("link")
    yield from (x.get("href") for x in alternates)
    yield from (x.get("href") for x in links if _rel(x) not in _NOT_THE_ARTICLE)
    if entry.get("guidislink", True):
        yield entry.get("id")


def _rel(link: Mapping[str, Any]) -> str:
    return str(link.get("rel") or "alternate").lower()


def _type(link: Mapping[str, Any]) -> str:
    return str(link.get("type") or "").split(";")[0].strip().lower()


def entry_date(entry: Mapping[str, Any], *, default_tz: dt.tzinfo) -> dt.datetime | None:
    """The first of published, updated and created that can be read in full (see
    ``news.dates``); feedparser's own parsed dates may be partly invented."""
    for key in ("published", "updated", "created"):
        # Not entry.get: feedparser maps a missing "published" to "updated", with a
        # deprecation warning.
        value = dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)
        when = parse_date(value, default_tz=default_tz) if isinstance(value, str) else None
        if when is not None:
            return when
    return None


def _describe(exc: Any) -> str:
    if exc is None:
        return "unknown error"
    text = str(getattr(exc, "getMessage", lambda: exc)()) if exc is not None else ""
    return f"{type(exc).__name__}: {_first_line(text, 150)}" if text else type(exc).__name__


# ------------------------------------------------------------------------ search feeds


def search_feed_url(template: str, query: str) -> str:
    """Fill ``{query}`` with the question's news query, URL-encoded."""
    q = " ".join(query.split())
    return template.replace("{query}", quote(q, safe=""))

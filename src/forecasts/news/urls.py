"""Canonical article URLs: the key articles are deduplicated on.

Canonical form: scheme and host lower-case, default port dropped, no user info, no
fragment, tracking parameters (``utm_*``, ``fbclid``, ``gclid``) removed, the remaining
query kept in its original order, an empty path written as ``/``. Only http(s) URLs are
accepted; anything else (``javascript:``, ``data:``, ``mailto:``...) gives None.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

from forecasts.news.models import MAX_URL_LENGTH

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_TRACKING = frozenset({"fbclid", "gclid"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_tracking_param(name: str) -> bool:
    n = name.lower()
    return n.startswith("utm_") or n in _TRACKING


def canonical_url(url: str | None, base: str | None = None) -> str | None:
    """The canonical form of ``url`` (resolved against ``base`` if relative), or None
    when it is not a usable http(s) link."""
    if not url:
        return None
    url = url.strip()
    # Control characters inside a URL are never legitimate.
    if _CONTROL_RE.search(url):
        return None
    if base:
        try:
            url = urljoin(base, url)
        except ValueError:
            return None
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            return None
        host = (parts.hostname or "").lower().rstrip(".")
        if not host:
            return None
        port = parts.port
    except ValueError:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    # Filter the raw query segments, so the rest keeps its exact encoding.
    query = "&".join(
        seg
        for seg in parts.query.split("&")
        if seg and not is_tracking_param(unquote_plus(seg.split("=", 1)[0]))
    )
    path = parts.path or "/"
    out = urlunsplit((scheme, netloc, path, query, ""))
    if len(out) > MAX_URL_LENGTH:
        return None
    return out

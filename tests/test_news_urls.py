"""Canonical article URLs: the dedup key."""

from __future__ import annotations

import pytest

from forecasts.news.urls import canonical_url


@pytest.mark.parametrize(
    ("raw", "canon"),
    [
        ("HTTPS://WWW.Example.COM/Path?a=1#frag", "https://www.example.com/Path?a=1"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com:80/x", "http://example.com/x"),
        ("https://example.com:443/x", "https://example.com/x"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        (
            "https://e.com/a?utm_source=rss&id=7&UTM_Medium=x&fbclid=abc&gclid=d#top",
            "https://e.com/a?id=7",
        ),
        ("https://e.com/a?utm_source=rss", "https://e.com/a"),
        ("https://e.com/a?q=a%20b&utm_campaign=z", "https://e.com/a?q=a%20b"),
        ("https://user:pw@e.com/a", "https://e.com/a"),
        ("  https://e.com/a  ", "https://e.com/a"),
        ("https://E.com./a", "https://e.com/a"),
    ],
)
def test_canonical(raw: str, canon: str) -> None:
    assert canonical_url(raw) == canon


@pytest.mark.parametrize(
    "bad",
    [
        None,
        "",
        "javascript:alert(1)",
        "data:text/html,<b>x</b>",
        "mailto:a@b.c",
        "ftp://e.com/x",
        "/relative/without/base",
        "https://",
        "https://e.com/a\nb",
        "https://e.com/" + "x" * 3000,
    ],
)
def test_refused(bad: str | None) -> None:
    assert canonical_url(bad) is None


def test_relative_against_base() -> None:
    assert canonical_url("../b/c?x=1", base="https://Site.org/a/feed.xml") == (
        "https://site.org/b/c?x=1"
    )
    assert canonical_url("javascript:void(0)", base="https://site.org/") is None


def test_same_article_variants_collapse() -> None:
    variants = [
        "https://News.example.com/story?id=5&utm_source=twitter",
        "https://news.example.com/story?id=5#comments",
        "https://news.example.com:443/story?fbclid=xyz&id=5",
    ]
    assert {canonical_url(v) for v in variants} == {"https://news.example.com/story?id=5"}

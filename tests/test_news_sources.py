"""Source formats, without a network: GDELT bodies and URLs, RSS/Atom parsing, search
templates. (Served over real HTTP in test_news_fetch.py and test_news_pull.py.)"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from forecasts.news.settings import NewsSettings
from forecasts.news.sources import (
    SourceError,
    gdelt_url,
    parse_feed,
    parse_gdelt,
    parse_seendate,
    refuse_entities,
    repair_json_escapes,
    search_feed_url,
    shorten,
)

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)

# ---------------------------------------------------------------------------- GDELT


def gdelt_article(url: str, title: str, seendate: str = "20261127T031500Z") -> str:
    return (
        f'{{"url": "{url}", "url_mobile": "", "title": "{title}", "seendate": "{seendate}", '
        '"socialimage": "", "domain": "example.com", "language": "English", '
        '"sourcecountry": "United States"}'
    )


def test_gdelt_articles() -> None:
    body = (
        '{"articles": ['
        + gdelt_article("https://Example.com/a?utm_source=gdelt", "Su-57 deliveries")
        + ","
        + gdelt_article("javascript:alert(1)", "bad link")
        + ","
        + gdelt_article("https://example.com/b", "", "garbage")
        + "]}"
    ).encode()
    parsed = parse_gdelt(body, now=NOW)
    assert [(i.url, i.title) for i in parsed.items] == [
        ("https://example.com/a", "Su-57 deliveries"),
        ("https://example.com/b", "https://example.com/b"),
    ]
    assert parsed.items[0].published == dt.datetime(2026, 11, 27, 3, 15, tzinfo=dt.UTC)
    assert parsed.items[1].published is None


def test_seendate() -> None:
    assert parse_seendate("20230918T031500Z") == dt.datetime(2023, 9, 18, 3, 15, tzinfo=dt.UTC)
    assert parse_seendate("yesterday") is None
    assert parse_seendate(None) is None


def test_gdelt_empty_result_is_empty_object() -> None:
    assert parse_gdelt(b"{}", now=NOW).items == []
    assert parse_gdelt(b"  {}\n", now=NOW).items == []


@pytest.mark.parametrize(
    ("body", "transient"),
    [
        (b"Please limit requests to one every 5 seconds or contact us.", True),
        (b"The specified phrase is too short.", False),
        (b"Your search contained invalid characters.\n", False),
        (b"<html><body>502 Bad Gateway</body></html>", False),
        (b"", True),
    ],
)
def test_gdelt_text_is_a_failure_not_no_news(body: bytes, transient: bool) -> None:
    with pytest.raises(SourceError) as e:
        parse_gdelt(body, now=NOW)
    assert e.value.transient is transient
    if body.strip():
        assert "GDELT refused" in e.value.message


def test_long_gdelt_text_is_cut_at_a_space_never_inside_a_url() -> None:
    text = "Please limit requests; see https://docs.gdelt.example/" + "x" * 300 + " thanks"
    with pytest.raises(SourceError) as e:
        parse_gdelt(text.encode(), now=NOW)
    assert e.value.message == "GDELT refused the query: Please limit requests; see\u2026"
    assert shorten("one two three", 8) == "one\u2026"
    assert shorten("one two three", 13) == "one two three"
    assert shorten("  spaced\n  out  ", 20) == "spaced out"


def test_gdelt_invalid_escape_is_repaired() -> None:
    body = (
        '{"articles": ['
        + gdelt_article("https://e.com/x", r"Putin\'s \x \q plan \u00e9 \"ok\"")
        + "]}"
    ).encode()
    parsed = parse_gdelt(body, now=NOW)
    assert parsed.items[0].title == 'Putin\\\'s \\x \\q plan \u00e9 "ok"'


def test_repair_keeps_valid_escapes() -> None:
    assert (
        repair_json_escapes(r'"a\\b \n \u1234 \/ \' \u12"')
        == r'"a\\b \n \u1234 \/ \\' + "'" + r' \\u12"'
    )


def test_gdelt_unrepairable_json_skips_bad_articles() -> None:
    good = gdelt_article("https://e.com/good", "Good one")
    bad = '{"url": "https://e.com/bad", "title": "broken " quote", "seendate": "x"}'
    body = ('{"articles": [' + good + "," + bad + "]").encode()  # truncated too
    parsed = parse_gdelt(body, now=NOW)
    assert [i.url for i in parsed.items] == ["https://e.com/good"]
    assert parsed.warning and "malformed JSON" in parsed.warning


def test_gdelt_hopeless_json_fails() -> None:
    with pytest.raises(SourceError, match="malformed"):
        parse_gdelt(b'{"articles": [ nope', now=NOW)


def test_gdelt_url_first_pull_and_since_last_success() -> None:
    first = gdelt_url(
        "http://127.0.0.1:1/api", '"first flight" (a1a OR b2b)', last_success=None, now=NOW
    )
    qs = parse_qs(urlsplit(first).query)
    assert qs["query"] == ['"first flight" (a1a OR b2b)']
    assert qs["mode"] == ["ArtList"] and qs["format"] == ["json"]
    assert qs["maxrecords"] == ["250"] and qs["sort"] == ["DateDesc"]
    assert qs["timespan"] == ["3months"] and "startdatetime" not in qs
    assert "%20" in first and "+" not in first
    later = gdelt_url("http://h/api", "x1x", last_success=NOW - dt.timedelta(hours=5), now=NOW)
    qs = parse_qs(urlsplit(later).query)
    assert qs["startdatetime"] == ["20261128063000"]  # 5 h ago less 30 min overlap
    assert "timespan" not in qs
    stale = gdelt_url("http://h/api", "x1x", last_success=NOW - dt.timedelta(days=200), now=NOW)
    assert parse_qs(urlsplit(stale).query)["timespan"] == ["3months"]


# ----------------------------------------------------------------------------- feeds

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>T</title><link>https://site.example/</link>
<item><title>Su-57 &amp; J-20</title><link>/news/1?utm_medium=rss</link>
<description>&lt;p&gt;Russia and &lt;b&gt;China&lt;/b&gt; talk.&lt;/p&gt;</description>
<pubDate>Thu, 26 Nov 2026 10:00:00 +0300</pubDate></item>
<item><title>Bad link</title><link>javascript:alert(1)</link></item>
<item><title>No date</title><link>https://other.example/2</link></item>
</channel></rss>"""


def test_rss_items_relative_links_and_html() -> None:
    parsed = parse_feed(
        RSS,
        url="https://site.example/feeds/rss.xml",
        headers={"Content-Type": "application/rss+xml"},
        now=NOW,
    )
    assert parsed.warning is None
    assert [(i.url, i.title) for i in parsed.items] == [
        ("https://site.example/news/1", "Su-57 & J-20"),
        ("https://other.example/2", "No date"),
    ]
    assert parsed.items[0].summary == "Russia and China talk."
    assert parsed.items[0].published == dt.datetime(2026, 11, 26, 7, 0, tzinfo=dt.UTC)
    assert parsed.items[1].published is None


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://atom.example/blog/">
<title>A</title><id>urn:x</id><updated>2026-11-27T00:00:00Z</updated>
<entry><title>Hypersonic — 高超音速</title><link href="posts/7.html"/><id>urn:7</id>
<updated>2026-11-27T08:30:00Z</updated><summary>Summary</summary></entry>
</feed>""".encode()


def test_atom_xml_base_and_unicode() -> None:
    parsed = parse_feed(ATOM, url="https://atom.example/feed", headers={}, now=NOW)
    assert [(i.url, i.title) for i in parsed.items] == [
        ("https://atom.example/blog/posts/7.html", "Hypersonic — 高超音速")
    ]


def test_bozo_feed_is_read_with_warning() -> None:
    broken = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T &nbsp; x</title>
<item><title>Still here</title><link>https://b.example/1</link></item>
<item><title>Unclosed <b>tag</title><link>https://b.example/2</link></item>
</channel>"""  # no closing </rss>
    parsed = parse_feed(broken, url="https://b.example/feed", headers={}, now=NOW)
    assert [i.url for i in parsed.items] == ["https://b.example/1", "https://b.example/2"]
    assert parsed.warning and "errors" in parsed.warning


def test_wrong_charset_declaration() -> None:
    # Declared UTF-8 (header and prolog) but written in windows-1252.
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        "<item><title>Défense “news” – naïve</title><link>https://c.example/1</link></item>"
        "</channel></rss>"
    ).encode("cp1252")
    parsed = parse_feed(
        body,
        url="https://c.example/feed",
        headers={"content-type": "text/xml; charset=utf-8"},
        now=NOW,
    )
    assert [i.title for i in parsed.items] == ["Défense “news” – naïve"]


def test_header_charset_overrides_prolog() -> None:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        "<item><title>Оборона</title><link>https://r.example/1</link></item></channel></rss>"
    ).encode("koi8-r")
    parsed = parse_feed(
        body,
        url="https://r.example/f",
        headers={"Content-Type": "application/xml; charset=koi8-r"},
        now=NOW,
    )
    assert parsed.items[0].title == "Оборона"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaaaaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<rss version="2.0"><channel><title>&d;</title></channel></rss>"""


def test_entity_declarations_refused() -> None:
    with pytest.raises(SourceError, match="ENTITY"):
        parse_feed(BILLION_LAUGHS, url="https://x.example/f", headers={}, now=NOW)
    with pytest.raises(SourceError):
        refuse_entities(BILLION_LAUGHS.decode().encode("utf-16"))
    with pytest.raises(SourceError):
        refuse_entities(b'<!DOCTYPE x [<!entity  e SYSTEM "file:///etc/passwd">]><x/>')
    refuse_entities(RSS)  # plain entity references are fine


def test_not_a_feed() -> None:
    with pytest.raises(SourceError, match="not a readable"):
        parse_feed(
            b"<html><body><p>Sorry, we moved.</p>",
            url="https://h.example/",
            headers={"content-type": "text/html"},
            now=NOW,
        )
    with pytest.raises(SourceError):
        parse_feed(b"", url="https://h.example/", headers={}, now=NOW)


def test_body_is_never_taken_for_a_path_or_url() -> None:
    with pytest.raises(SourceError):
        parse_feed(b"/etc/passwd", url="https://h.example/", headers={}, now=NOW)
    with pytest.raises(SourceError):
        parse_feed(b"http://127.0.0.1:9/feed", url="https://h.example/", headers={}, now=NOW)


def test_future_dates_dropped() -> None:
    body = RSS.replace(b"Thu, 26 Nov 2026", b"Fri, 26 Nov 2027")
    parsed = parse_feed(body, url="https://site.example/f", headers={}, now=NOW)
    assert parsed.items[0].published is None


# ------------------------------------------------------------------------ search feeds


def test_search_feed_template() -> None:
    url = search_feed_url(
        "https://news.example/rss/search?q={query}&hl=en", '"first flight"  J-20 -drill'
    )
    assert url == "https://news.example/rss/search?q=%22first%20flight%22%20J-20%20-drill&hl=en"


# ---------------------------------------------------------------------------- settings


def test_settings_defaults_and_replacement() -> None:
    s = NewsSettings()
    assert s.gdelt is True and s.gdelt_min_interval == 6
    assert s.max_bytes == 5_000_000 and s.search_feeds == []
    assert len(s.feeds) >= 3
    assert NewsSettings.model_validate({"feeds": []}).feeds == []
    feed = {"name": "cn", "url": "https://cn.example/rss", "timezone": " Asia/Shanghai "}
    assert NewsSettings.model_validate({"feeds": [feed]}).feeds[0].timezone == "Asia/Shanghai"


@pytest.mark.parametrize(
    "bad",
    [
        {"feeds": [{"name": "x", "url": "ftp://x"}]},
        {"feeds": [{"name": "x", "url": "https://a"}, {"name": "X", "url": "https://b"}]},
        {"feeds": [{"name": "gdelt", "url": "https://a"}]},
        {"search_feeds": ["https://s.example/rss?q=fixed"]},
        {"gdelt_url": "file:///etc/passwd"},
        {"unknown": 1},
        {"concurrency": 0},
        {"feeds": [{"name": "x", "url": "https://a", "timezone": "Mars/Olympus"}]},
        {"feeds": [{"name": "x", "url": "https://a", "tz": "UTC"}]},
    ],
)
def test_settings_refused(bad: dict) -> None:  # type: ignore[type-arg]
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        NewsSettings.model_validate(bad)

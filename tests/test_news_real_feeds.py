"""Faults found by pulling real captured feeds (issue 13), each checked through
`forecasts news pull` against feeds served on 127.0.0.1. The feeds are written here,
shaped like the real ones (encodings, date styles, link layouts), not copied."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from freezegun import freeze_time
from pytest_httpserver import HTTPServer
from sqlmodel import select
from werkzeug import Request, Response

from forecasts.news.models import Article, ArticleMatch, NewsSource, NewsSourceQuestion
from forecasts.store import db
from forecasts.store.models import Question

# Today, for every test here: a date read from today would show up as December 1st.
TODAY = "2026-12-01 12:00:00"
frozen = freeze_time(TODAY, tick=True, real_asyncio=True)


def add_question(db_url: str, qid: str, query: str) -> None:
    with db.session_scope(db.get_engine(db_url), write=True) as s:
        s.add(
            Question(
                id=qid, title=qid, type="binary", criteria="c", opens=dt.date(2018, 1, 1),
                closes=dt.date(2027, 1, 1), resolve_by=dt.date(2027, 2, 1), news_query=query,
            )
        )  # fmt: skip


def configure(tmp_path: Path, gdelt_url: str | None, feeds: list[dict[str, str]]) -> None:
    def table(d: dict[str, str]) -> str:
        return "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in d.items()) + " }"

    lines = ["[news]", "gdelt_min_interval = 0"]
    lines.append(f"gdelt_url = {json.dumps(gdelt_url)}" if gdelt_url else "gdelt = false")
    lines.append("feeds = [" + ", ".join(table(f) for f in feeds) + "]")
    (tmp_path / "forecasts.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def serve(httpserver: HTTPServer, path: str, body: bytes, content_type: str) -> str:
    httpserver.expect_request(path).respond_with_data(body, content_type=content_type)
    return httpserver.url_for(path)


def articles(db_url: str) -> dict[str, Article]:
    with db.session_scope(db.get_engine(db_url)) as s:
        return {a.title: a for a in s.exec(select(Article)).all()}


def stored_matches(db_url: str) -> dict[tuple[str, str], ArticleMatch]:
    with db.session_scope(db.get_engine(db_url)) as s:
        rows = s.exec(select(ArticleMatch, Article).where(ArticleMatch.article_id == Article.id))
        return {(a.title, m.question_id): m for m, a in rows.all()}


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)  # type: ignore[misc]


def rss(items: str, *, encoding: str | None = None, extra_ns: str = "") -> str:
    decl = f' encoding="{encoding}"' if encoding else ""
    return (
        f'<?xml version="1.0"{decl}?>\n<rss version="2.0"{extra_ns}><channel>'
        f"<title>Feed</title><link>https://publisher.example/</link>{items}</channel></rss>"
    )


def item(title: str, link: str, date: str | None = None, extra: str = "") -> str:
    pub = f"<pubDate>{date}</pubDate>" if date is not None else ""
    return f"<item><title>{title}</title><link>{link}</link>{pub}{extra}</item>"


# ----------------------------------------------------------------------------- dates


@frozen
def test_a_date_that_cannot_be_read_in_full_is_unknown_not_invented(
    httpserver: HTTPServer, tmp_path: Path, db_url: str, cli: Any
) -> None:
    """A Chinese publisher's GB2312 feed writes `2020/1/10 14:33:00`, with no zone;
    feedparser stored 2020-12-01 00:00 (the month and day of the pull) for every item."""
    body = rss(
        item("新闻一 航空发动机", "https://cn.example/1", "2020/1/10 14:33:00")
        + item("新闻二 航空发动机", "https://cn.example/2", "2020")
        + item("新闻三 航空发动机", "https://cn.example/3", "2020-01")
        + item("新闻四 航空发动机", "https://cn.example/4", "10 Jan 2020"),
        encoding="gb2312",
    ).encode("gb2312")
    url = serve(httpserver, "/cn.xml", body, "application/xml")
    configure(tmp_path, None, [{"name": "cn", "url": url}])
    assert cli("news", "pull").exit_code == 0
    got = {t: a.published for t, a in articles(db_url).items()}
    assert got == {
        "新闻一 航空发动机": utc(2020, 1, 10, 14, 33),  # no zone given: UTC
        "新闻二 航空发动机": None,
        "新闻三 航空发动机": None,
        "新闻四 航空发动机": utc(2020, 1, 10),  # a full date without a time: 00:00
    }


@frozen
def test_a_feed_time_zone_applies_to_dates_without_one(
    httpserver: HTTPServer, tmp_path: Path, db_url: str, cli: Any
) -> None:
    body = rss(
        item("无时区", "https://cn.example/1", "2020/1/10 14:33:00")
        + item("有时区", "https://cn.example/2", "Fri, 10 Jan 2020 14:33:00 +0000"),
        encoding="utf-8",
    ).encode()
    atom = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>A</title><id>urn:a</id><updated>2020-01-10T14:33:00</updated>"
        '<entry><title>Atom 无时区</title><id>urn:1</id><link href="https://cn.example/3"/>'
        "<updated>2020-01-10T14:33:00</updated></entry></feed>"
    ).encode()
    configure(
        tmp_path,
        None,
        [
            {"name": "cn", "url": serve(httpserver, "/cn.xml", body, "application/rss+xml")},
            {
                "name": "cn-atom",
                "url": serve(httpserver, "/cn-atom.xml", atom, "application/atom+xml"),
                "timezone": "Asia/Shanghai",
            },
        ],
    )
    # The first feed without a zone setting: UTC. Now give it one.
    assert cli("news", "pull").exit_code == 0
    assert articles(db_url)["无时区"].published == utc(2020, 1, 10, 14, 33)
    assert articles(db_url)["Atom 无时区"].published == utc(2020, 1, 10, 6, 33)
    with db.session_scope(db.get_engine(db_url), write=True) as s:
        for a in s.exec(select(Article)).all():
            s.delete(a)
    configure(
        tmp_path,
        None,
        [
            {
                "name": "cn",
                "url": httpserver.url_for("/cn.xml"),
                "timezone": "Asia/Shanghai",
            }
        ],
    )
    assert cli("news", "pull").exit_code == 0
    got = articles(db_url)
    assert got["无时区"].published == utc(2020, 1, 10, 6, 33)  # 14:33 in Shanghai
    assert got["有时区"].published == utc(2020, 1, 10, 14, 33)  # its own zone wins


def test_an_unknown_feed_time_zone_is_refused(tmp_path: Path, cli: Any) -> None:
    configure(tmp_path, None, [{"name": "x", "url": "https://x.example/", "timezone": "Mars/Base"}])
    r = cli("news", "pull")
    assert r.exit_code == 2
    assert "'Mars/Base' is not a known time zone" in r.stderr


@frozen
@pytest.mark.parametrize(
    ("encoding", "date", "expected"),
    [
        # Portuguese (a Brazilian publisher): Segunda-feira, setembro
        ("iso-8859-1", "Seg, 24 Set 2018 19:42:40 -0300", utc(2018, 9, 24, 22, 42, 40)),
        # Russian, windows-1251, three-letter names that are not CLDR's abbreviations
        ("windows-1251", "Пнд, 24 Сен 2018 19:42:40 +0300", utc(2018, 9, 24, 16, 42, 40)),
        ("koi8-r", "Чт, 1 ноября 2018 10:00:00 MSK", utc(2018, 11, 1, 7)),
        ("utf-8", "Mo, 03 Dez 2018 10:00:00 +0100", utc(2018, 12, 3, 9)),  # German
        ("utf-8", "jeu., 11 oct. 2018 08:00:00 +0200", utc(2018, 10, 11, 6)),  # French
        ("utf-8", "po, 5 lis 2018 10:00:00 +0100", utc(2018, 11, 5, 9)),  # Czech
        ("utf-8", "Mié, 10 Oct 2018 10:00:00 +0200", utc(2018, 10, 10, 8)),  # Spanish
        ("utf-8", "Thu, 26 Nov 2026 10:00:00 GMT", utc(2026, 11, 26, 10)),
        # ambiguous (Czech June and July both start with "čer"): unknown, not guessed
        ("utf-8", "po, 2 čer 2018 10:00:00 +0100", None),
        ("utf-8", "Thu, 26 Nov 2026 10:00:00 XYZ", None),  # a zone nobody can read
    ],
)
def test_dates_in_other_languages(
    httpserver: HTTPServer,
    tmp_path: Path,
    db_url: str,
    cli: Any,
    encoding: str,
    date: str,
    expected: dt.datetime | None,
) -> None:
    body = rss(item("Story", "https://p.example/1", date), encoding=encoding).encode(encoding)
    url = serve(httpserver, "/f.xml", body, "application/rss+xml")
    configure(tmp_path, None, [{"name": "f", "url": url}])
    assert cli("news", "pull").exit_code == 0
    assert articles(db_url)["Story"].published == expected


# ----------------------------------------------------------------------------- links


def test_the_best_http_link_among_an_atom_entrys_links(
    httpserver: HTTPServer, tmp_path: Path, db_url: str, cli: Any
) -> None:
    atom = (
        b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        b"<title>Reports</title><id>tag:think.example,2026:feed</id>"
        b"<updated>2026-11-20T00:00:00Z</updated>"
        # A report published as a PDF: its only link
        b"<entry><title>Report as PDF</title><id>tag:think.example,2026:1</id>"
        b'<link rel="alternate" type="application/pdf" href="/files/report-1.pdf"/>'
        b"<updated>2026-11-20T00:00:00Z</updated></entry>"
        # Self, edit and enclosure links come first; the HTML page is the article
        b"<entry><title>Report page</title><id>tag:think.example,2026:2</id>"
        b'<link rel="self" href="https://think.example/feed/2"/>'
        b'<link rel="edit" href="https://think.example/api/2"/>'
        b'<link rel="enclosure" type="image/jpeg" href="https://cdn.think.example/2.jpg"/>'
        b'<link rel="alternate" type="application/pdf" href="https://think.example/2.pdf"/>'
        b'<link rel="alternate" type="text/html" href="https://think.example/reports/2"/>'
        b"<updated>2026-11-20T00:00:00Z</updated></entry>"
        # A link to a related site, then the report itself as a PDF: the report
        b"<entry><title>Report with a related link</title><id>tag:think.example,2026:4</id>"
        b'<link rel="related" type="text/html" href="https://other.example/comment"/>'
        b'<link rel="alternate" type="application/pdf" href="https://think.example/4.pdf"/>'
        b"<updated>2026-11-20T00:00:00Z</updated></entry>"
        # A non-http link only: nothing usable, skipped
        b"<entry><title>Mail only</title><id>tag:think.example,2026:3</id>"
        b'<link rel="alternate" href="mailto:press@think.example"/>'
        b"<updated>2026-11-20T00:00:00Z</updated></entry>"
        b"</feed>"
    )
    url = serve(httpserver, "/think/atom.xml", atom, "application/atom+xml")
    configure(tmp_path, None, [{"name": "think", "url": url}])
    assert cli("news", "pull").exit_code == 0
    got = {t: a.url for t, a in articles(db_url).items()}
    assert got == {
        "Report as PDF": httpserver.url_for("/files/report-1.pdf"),
        "Report page": "https://think.example/reports/2",
        "Report with a related link": "https://think.example/4.pdf",
    }


def test_feedburner_original_link_is_stored_and_recognised_from_gdelt(
    httpserver: HTTPServer, tmp_path: Path, db_url: str, cli: Any
) -> None:
    add_question(db_url, "engines", "engines")
    proxy = "https://feeds.feedburner.example/~r/wire/topNews/~3/AbC123/"
    body = rss(
        item(
            "China buys more Russian engines",
            proxy + "story01.htm",
            "Wed, 25 Nov 2026 10:00:00 GMT",
            "<description>Engines for J-20 fighters.</description>"
            "<feedburner:origLink>https://www.wire.example/article/engines-idUS1"
            "</feedburner:origLink>",
        ),
        extra_ns=' xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"',
    ).encode()
    feed_url = serve(httpserver, "/wire.xml", body, "application/rss+xml")
    gdelt = {
        "articles": [
            {
                "url": "https://www.wire.example/article/engines-idUS1?utm_source=gdelt",
                "title": "China buys more Russian engines",
                "seendate": "20261125T101500Z",
            }
        ]
    }
    httpserver.expect_request("/gdelt").respond_with_json(gdelt)
    configure(tmp_path, httpserver.url_for("/gdelt"), [{"name": "wire", "url": feed_url}])
    r = cli("news", "pull")
    assert r.exit_code == 0
    assert "articles 1 new, 0 seen" in r.stdout
    (a,) = articles(db_url).values()
    assert a.url == "https://www.wire.example/article/engines-idUS1"
    assert a.summary == "Engines for J-20 fighters." and a.source == "wire"


# ----------------------------------------------------------------------------- GDELT


class Gdelt:
    def __init__(self, answers: dict[str, list[tuple[str, str]]]) -> None:
        self.answers = answers
        self.queries: list[str] = []

    def __call__(self, req: Request) -> Response:
        query = parse_qs(urlsplit(req.url).query)["query"][0]
        self.queries.append(query)
        arts = [
            {"url": u, "title": t, "seendate": "20261125T101500Z"}
            for u, t in self.answers.get(query, [])
        ]
        return Response(json.dumps({"articles": arts}), content_type="application/json")


def test_gdelt_is_asked_once_per_distinct_query(
    httpserver: HTTPServer, tmp_path: Path, db_url: str, cli: Any
) -> None:
    add_question(db_url, "a-engines", "Engines")
    add_question(db_url, "b-engines", '"engines"')  # the same GDELT query
    add_question(db_url, "c-radar", "radar")
    gdelt = Gdelt({"engines": [("https://g.example/1", "Engines deal signed")]})
    httpserver.expect_request("/gdelt").respond_with_handler(gdelt)
    configure(tmp_path, httpserver.url_for("/gdelt"), [])
    assert cli("news", "pull").exit_code == 0
    assert sorted(gdelt.queries) == ["engines", "radar"]
    assert set(stored_matches(db_url)) == {
        ("Engines deal signed", "a-engines"),
        ("Engines deal signed", "b-engines"),
    }
    with db.session_scope(db.get_engine(db_url)) as s:
        states = s.exec(select(NewsSourceQuestion)).all()
        assert {st.question_id for st in states if st.last_success} == {
            "a-engines",
            "b-engines",
            "c-radar",
        }
    # The next pull asks from the oldest last success of the questions sharing it
    add_question(db_url, "d-engines", "engines")  # never asked before: the full window
    assert cli("news", "pull").exit_code == 0
    asked = [parse_qs(urlsplit(r.url).query) for r, _ in httpserver.log[-2:] if "engines" in r.url]
    assert len(asked) == 1 and asked[0]["timespan"] == ["3months"]


def test_gdelt_articles_are_matched_by_title_and_weak_ones_rank_below(
    httpserver: HTTPServer, tmp_path: Path, db_url: str, cli: Any
) -> None:
    add_question(db_url, "engines", "engines (China OR Chinese)")
    gdelt = Gdelt(
        {
            "engines (china OR chinese)": [
                ("https://g.example/full", "Chinese jets to get Russian engines"),
                ("https://g.example/weak", "Moscow and Beijing sign defence deal"),
            ]
        }
    )
    httpserver.expect_request("/gdelt").respond_with_handler(gdelt)
    body = rss(
        item(
            "Weekly roundup",
            "https://f.example/roundup",
            "Wed, 25 Nov 2026 10:00:00 GMT",
            "<description>China orders engines.</description>",
        )
    ).encode()
    feed = serve(httpserver, "/f.xml", body, "application/rss+xml")
    configure(tmp_path, httpserver.url_for("/gdelt"), [{"name": "f", "url": feed}])
    assert cli("news", "pull").exit_code == 0
    m = stored_matches(db_url)
    full = m[("Chinese jets to get Russian engines", "engines")]
    weak = m[("Moscow and Beijing sign defence deal", "engines")]
    feed_match = m[("Weekly roundup", "engines")]
    assert not full.gdelt_only and full.score == 4.0 and full.terms == ["engines", "chinese"]
    assert weak.gdelt_only and weak.terms == [] and weak.score == 0.5
    # A feed article that matches only in its summary still outranks the weak one
    assert not feed_match.gdelt_only and feed_match.score == 2.0 > weak.score
    rows = {r["title"]: r for r in json.loads(cli("news", "list", "--json").stdout)}
    assert rows["Moscow and Beijing sign defence deal"]["matches"][0]["gdelt_only"] is True
    assert rows["Weekly roundup"]["matches"][0]["gdelt_only"] is False
    listing = cli("news", "list").stdout
    assert "engines (0.50, GDELT only)" in listing
    assert "engines (2.00, engines/china)" in listing


def test_a_weak_gdelt_match_becomes_full_when_a_feed_brings_matching_text(
    httpserver: HTTPServer, tmp_path: Path, db_url: str, cli: Any
) -> None:
    add_question(db_url, "engines", "engines")
    add_question(db_url, "radar", "radar")  # two questions: the breadth penalty shows
    gdelt = Gdelt({"engines": [("https://p.example/story", "A deal in Moscow")]})
    httpserver.expect_request("/gdelt").respond_with_handler(gdelt)
    configure(tmp_path, httpserver.url_for("/gdelt"), [])
    assert cli("news", "pull").exit_code == 0
    (weak,) = stored_matches(db_url).values()
    assert weak.gdelt_only and weak.score == round(0.5 * math.log(2) / math.log(3), 4)
    assert cli("news", "mark", str(weak.article_id), "--relevant").exit_code == 0
    body = rss(
        item(
            "A deal in Moscow",
            "https://p.example/story",
            "Wed, 25 Nov 2026 10:00:00 GMT",
            "<description>Engines for China.</description>",
        )
    ).encode()
    feed = serve(httpserver, "/p.xml", body, "application/rss+xml")
    configure(tmp_path, httpserver.url_for("/gdelt"), [{"name": "p", "url": feed}])
    assert cli("news", "pull").exit_code == 0
    (match,) = stored_matches(db_url).values()
    assert not match.gdelt_only and match.terms == ["engines"] and match.score == 1.0
    assert match.relevant is True and match.matched_at == weak.matched_at  # mark kept


# -------------------------------------------------------------------------- messages


def test_list_says_how_many_were_stored_when_none_matched(
    httpserver: HTTPServer, tmp_path: Path, db_url: str, cli: Any
) -> None:
    add_question(db_url, "engines", "engines")
    items = "".join(item(f"Story {i}", f"https://p.example/{i}") for i in range(1327))
    url = serve(httpserver, "/big.xml", rss(items).encode(), "application/rss+xml")
    configure(tmp_path, None, [{"name": "big", "url": url}])
    assert cli("news", "pull").exit_code == 0
    out = cli("news", "list").stdout
    assert out == (
        "No matched articles: 1,327 articles stored, none matched a question's news query.\n"
    )
    out = cli("news", "list", "engines").stdout
    assert (
        out
        == "No matched articles for engines: 1,327 articles stored, none matched its news query.\n"
    )
    out = cli("news", "list", "--since", "2026-11-01").stdout
    assert out == "No matched articles since 2026-11-01 (1,327 articles stored).\n"


GDELT_LIMIT = (
    "Please limit requests to one every 5 seconds or contact the GDELT team for larger "
    "or more frequent queries; see the documentation on rate limits and the bulk data "
    "downloads available at https://blog.gdelt.example/gdelt-doc-2-0-api-rate-limits-"
    "and-bulk-downloads/ for details."
)


def test_the_gdelt_rate_limit_text_is_not_cut_mid_url(
    httpserver: HTTPServer, tmp_path: Path, db_url: str, cli: Any
) -> None:
    assert GDELT_LIMIT.index("https://") < 200 < GDELT_LIMIT.index(" for details")
    add_question(db_url, "engines", "engines")
    httpserver.expect_request("/gdelt").respond_with_data(GDELT_LIMIT, content_type="text/plain")
    configure(tmp_path, httpserver.url_for("/gdelt"), [])
    r = cli("news", "pull")
    assert r.exit_code == 1
    (line,) = [x for x in r.stdout.splitlines() if x.startswith("gdelt")]
    assert f"GDELT refused the query: {GDELT_LIMIT} (next try after" in line
    rows = json.loads(cli("news", "sources", "--json").stdout)
    assert rows[0]["error"] == f"GDELT refused the query: {GDELT_LIMIT}"


@pytest.mark.parametrize(
    ("prolog", "content_type", "note"),
    [
        # Declares nothing: feedparser guessed, and its message would be false
        ("", "application/rss+xml", None),
        ("", "text/xml", None),
        # Declares UTF-8 but is windows-1252: the note is true, so it stays
        (
            ' encoding="utf-8"',
            "application/rss+xml",
            "feed has errors but was read (CharacterEncodingOverride: document declared "
            "as utf-8, but parsed as windows-1252)",
        ),
    ],
)
def test_no_misleading_encoding_note_for_feeds_that_declare_nothing(
    httpserver: HTTPServer,
    tmp_path: Path,
    db_url: str,
    cli: Any,
    prolog: str,
    content_type: str,
    note: str | None,
) -> None:
    body = (
        f'<?xml version="1.0"{prolog}?><rss version="2.0"><channel><title>T</title>'
        "<item><title>Défense “news” – naïve</title><link>https://c.example/1</link></item>"
        "</channel></rss>"
    ).encode("cp1252")
    url = serve(httpserver, "/cp.xml", body, content_type)
    configure(tmp_path, None, [{"name": "cp", "url": url}])
    r = cli("news", "pull")
    assert r.exit_code == 0
    (line,) = [x for x in r.stdout.splitlines() if x.startswith("cp")]
    assert ("declared as" in line) is (note is not None)
    with db.session_scope(db.get_engine(db_url)) as s:
        src = s.exec(select(NewsSource)).one()
        assert (src.status, src.error) == ("ok", note)
    assert list(articles(db_url)) == ["Défense “news” – naïve"]

"""The whole pull against a real HTTP server on 127.0.0.1 and a real database: GDELT-shaped
responses, feeds, search feeds, dedup, matching, failures, backoff and marks."""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import json
import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from freezegun import freeze_time
from pytest_httpserver import HTTPServer
from sqlmodel import Session, select
from werkzeug import Request, Response

from forecasts.errors import BadInput, QuestionNotFound
from forecasts.news import store
from forecasts.news.fetch import FetchPolicy
from forecasts.news.models import Article, ArticleMatch, NewsSource, NewsSourceQuestion
from forecasts.news.pull import PullSummary, pull
from forecasts.news.settings import NewsSettings
from forecasts.runtime import Runtime
from forecasts.store.models import Question, Resolution

POLICY = FetchPolicy(
    connect_timeout=1.0, read_timeout=1.0, deadline=2.0, retries=1, backoff=0.05,
    max_retry_after=1.0, trust_env=False,
)  # fmt: skip

Sessions = Callable[..., AbstractContextManager[Session]]


@pytest.fixture
def sessions(db_url: str) -> Sessions:
    """The session factory every caller of pull passes: ``Runtime.session``."""
    return Runtime(database_url=db_url).session


def add_question(
    sessions: Sessions, qid: str, query: str | None, resolution_terms: list[str] | None = None
) -> None:
    with sessions(write=True) as s:
        s.add(
            Question(
                id=qid, title=qid, type="binary", criteria="c", opens=dt.date(2026, 1, 1),
                closes=dt.date(2027, 1, 1), resolve_by=dt.date(2027, 2, 1),
                news_query=query, resolution_terms=resolution_terms or [],
            )
        )  # fmt: skip


def rss(*items: tuple[str, str, str]) -> bytes:
    body = "".join(
        f"<item><title>{t}</title><link>{link}</link><description>{d}</description>"
        "<pubDate>Wed, 25 Nov 2026 10:00:00 GMT</pubDate></item>"
        for t, link, d in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{body}</channel></rss>'.encode()


def gdelt_json(*items: tuple[str, str]) -> str:
    arts = [
        {
            "url": u,
            "url_mobile": "",
            "title": t,
            "seendate": "20261127T031500Z",
            "domain": "x",
            "language": "English",
        }
        for u, t in items
    ]
    return json.dumps({"articles": arts})


FEED = rss(
    ("Russia tests hypersonic glide vehicle", "/a/1?utm_source=rss", "Avangard news"),
    ("J-36 makes first flight", "https://News.Example.org/j36#x", "Chengdu prototype"),
    ("Weather report", "/a/weather", "Nothing relevant"),
    ("Bad link", "javascript:alert(1)", "hypersonic"),
)


class Gdelt:
    """A GDELT DOC 2.0 look-alike: answers by question query; records requests and the
    server's clock at the start and end of each."""

    def __init__(self) -> None:
        self.requests: list[dict[str, list[str]]] = []
        self.times: list[float] = []
        self.intervals: list[tuple[float, float]] = []
        self.answers: dict[str, Any] = {}
        self.default: Any = "{}"

    def __call__(self, req: Request) -> Response:
        start = time.monotonic()
        qs = parse_qs(urlsplit(req.url).query)
        self.requests.append(qs)
        self.times.append(start)
        ans = self.answers.get(qs.get("query", [""])[0], self.default)
        self.intervals.append((start, time.monotonic()))
        if isinstance(ans, Response):
            return ans
        return Response(ans, content_type="application/json")


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The most intervals open at one instant (an end before a start at a tie)."""
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


@pytest.fixture
def gdelt(httpserver: HTTPServer) -> Gdelt:
    g = Gdelt()
    httpserver.expect_request("/api/v2/doc/doc").respond_with_handler(g)
    return g


def settings_for(httpserver: HTTPServer, **kw: Any) -> NewsSettings:
    data: dict[str, Any] = {
        "gdelt_url": httpserver.url_for("/api/v2/doc/doc"),
        "gdelt_min_interval": 0,
        "feeds": [{"name": "feed1", "url": httpserver.url_for("/feed1.xml")}],
    }
    data.update(kw)
    return NewsSettings.model_validate(data)


def serve_feed(
    httpserver: HTTPServer, path: str = "/feed1.xml", body: bytes = FEED, etag: str = '"e1"'
) -> None:
    def handler(req: Request) -> Response:
        if req.headers.get("If-None-Match") == etag:
            return Response(status=304)
        return Response(body, content_type="application/rss+xml", headers={"ETag": etag})

    httpserver.expect_request(path).respond_with_handler(handler)


def do_pull(sessions: Sessions, settings: NewsSettings, **kw: Any) -> PullSummary:
    return pull(sessions, settings=settings, policy=POLICY, **kw)


def status(summary: PullSummary) -> dict[str, str]:
    return {s.name: s.status for s in summary.sources}


def matches(sessions: Sessions) -> dict[tuple[str, str], ArticleMatch]:
    with sessions() as s:
        rows = s.exec(
            select(ArticleMatch, Article).where(ArticleMatch.article_id == Article.id)
        ).all()
        return {(a.url, m.question_id): m for m, a in rows}


# -------------------------------------------------------------------------------- tests


def test_full_pull_then_nothing_new(
    httpserver: HTTPServer, gdelt: Gdelt, sessions: Sessions
) -> None:
    add_question(sessions, "hyper", "hypersonic (Russia OR China)")
    add_question(sessions, "j36", '"J-36"', ["first flight", "maiden flight"])
    add_question(sessions, "noquery", None)
    gdelt.answers['"j-36"'] = gdelt_json(
        ("https://gd.example/j36-story", "Sixth-generation jet news"),  # no term in title
        ("https://news.example.org/j36?utm_campaign=g", "Dup of the feed's item"),
    )
    serve_feed(httpserver)
    settings = settings_for(httpserver)
    progress: list[tuple[int, int, str]] = []

    s1 = do_pull(sessions, settings, progress=lambda d, t, label: progress.append((d, t, label)))
    assert status(s1) == {"gdelt": "ok", "feed1": "ok"}
    assert not s1.all_failed
    assert s1.articles_new == 4 and s1.articles_seen == 0  # 3 feed (one bad link dropped) + 1 GDELT
    assert progress[-1][0] == progress[-1][1] == 3  # 1 feed + 2 GDELT questions
    m = matches(sessions)
    assert set(m) == {
        (httpserver.url_for("/a/1"), "hyper"),
        ("https://news.example.org/j36", "j36"),
        ("https://gd.example/j36-story", "j36"),
    }
    first = m[("https://news.example.org/j36", "j36")]
    assert first.possible_resolution and first.resolution_terms == ["first flight"]
    assert first.terms == ["j-36"] and first.score == 2.0
    # GDELT's story whose title lacks the query: a weak match, below every real one
    weak = m[("https://gd.example/j36-story", "j36")]
    assert weak.gdelt_only and weak.terms == [] and not weak.possible_resolution
    assert weak.score == round(0.5 * math.log(2) / math.log(3), 4)  # 2 questions
    assert not first.gdelt_only and first.score > weak.score
    assert s1.matches_new == 3 and s1.possible_resolutions_new == 1
    # GDELT was asked once per question with a query, in its own syntax, with timespan
    asked = sorted(r["query"][0] for r in gdelt.requests)
    assert asked == ['"j-36"', "hypersonic (russia OR china)"]
    assert all(r["timespan"] == ["3months"] and r["mode"] == ["ArtList"] for r in gdelt.requests)

    s2 = do_pull(sessions, settings)
    assert status(s2) == {"gdelt": "ok", "feed1": "not_modified"}
    assert s2.articles_new == 0 and s2.matches_new == 0 and s2.articles_seen == 2
    assert all("startdatetime" in r and "timespan" not in r for r in gdelt.requests[2:])
    with sessions() as s:
        assert len(s.exec(select(Article)).all()) == 4
        src = s.exec(select(NewsSource).where(NewsSource.name == "feed1")).one()
        assert src.etag == '"e1"' and src.status == "ok" and src.failures == 0
        states = s.exec(select(NewsSourceQuestion)).all()
        assert {st.question_id for st in states} == {"hyper", "j36"}
        assert all(st.last_success is not None for st in states)


def test_failing_source_does_not_stop_others_and_backs_off(
    httpserver: HTTPServer, gdelt: Gdelt, sessions: Sessions
) -> None:
    add_question(sessions, "hyper", "hypersonic")
    serve_feed(httpserver)
    httpserver.expect_request("/broken.xml").respond_with_data("", status=500)
    settings = settings_for(
        httpserver,
        feeds=[
            {"name": "feed1", "url": httpserver.url_for("/feed1.xml")},
            {"name": "broken", "url": httpserver.url_for("/broken.xml")},
        ],
    )
    s1 = do_pull(sessions, settings)
    assert status(s1) == {"gdelt": "ok", "feed1": "ok", "broken": "failed"}
    assert not s1.all_failed and s1.articles_new == 3
    broken = next(s for s in s1.sources if s.name == "broken")
    assert broken.error == "HTTP 500" and broken.next_allowed_at is not None
    with sessions() as s:
        row = s.exec(select(NewsSource).where(NewsSource.name == "broken")).one()
        assert row.failures == 1 and row.status == "failed" and row.error == "HTTP 500"
        assert row.next_allowed_at is not None
        assert row.next_allowed_at - row.last_attempt == store.BACKOFF_BASE  # type: ignore[operator]
    # While it backs off it is not asked; an explicit --source asks anyway.
    n_before = len([r for r, _ in httpserver.log if r.path == "/broken.xml"])
    s2 = do_pull(sessions, settings)
    assert status(s2)["broken"] == "deferred"
    assert len([r for r, _ in httpserver.log if r.path == "/broken.xml"]) == n_before
    s3 = do_pull(sessions, settings, source="broken")
    assert status(s3) == {"broken": "failed"} and s3.all_failed
    with sessions() as s:
        row = s.exec(select(NewsSource).where(NewsSource.name == "broken")).one()
        assert row.failures == 2
        assert row.next_allowed_at - row.last_attempt == 2 * store.BACKOFF_BASE  # type: ignore[operator]


def test_backoff_grows_and_is_capped() -> None:
    assert [store.backoff_delay(n).total_seconds() / 60 for n in range(1, 5)] == [5, 10, 20, 40]
    assert store.backoff_delay(40) == store.BACKOFF_CAP


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_offline_completes_quickly_and_reports(sessions: Sessions) -> None:
    for i in range(5):
        add_question(sessions, f"q{i}", f"term{i}x")
    port = _closed_port()
    settings = NewsSettings.model_validate(
        {
            "gdelt_url": f"http://127.0.0.1:{port}/api",
            "feeds": [{"name": f"f{i}", "url": f"http://127.0.0.1:{port}/f{i}"} for i in range(4)],
            "search_feeds": [f"http://127.0.0.1:{port}/search?q={{query}}"],
        }
    )
    s = do_pull(sessions, settings)
    assert s.all_failed and s.sources_ok == 0 and s.sources_failed == 6
    # A per-question source that cannot be reached is asked once, not once per question
    for name in ("gdelt", "search:127.0.0.1"):
        src = next(x for x in s.sources if x.name == name)
        assert src.requests == 1 and (src.error or "").startswith("cannot connect")
    with sessions() as sess:
        rows = sess.exec(select(NewsSource)).all()
        assert len(rows) == 6 and all(r.status == "failed" and r.failures == 1 for r in rows)


def test_gdelt_quirks(httpserver: HTTPServer, gdelt: Gdelt, sessions: Sessions) -> None:
    add_question(sessions, "a-empty", "alpha")
    add_question(sessions, "b-escape", "bravo")
    add_question(sessions, "c-texterr", "charlie")
    gdelt.answers["alpha"] = "{}"
    bad_escape = gdelt_json(("https://e.example/b", "Bravo REPLACE")).replace(
        "REPLACE", "it\\'s \\x"
    )
    gdelt.answers["bravo"] = bad_escape
    gdelt.answers["charlie"] = Response(
        "The specified phrase is too short.", content_type="text/html"
    )
    s = do_pull(sessions, settings_for(httpserver, feeds=[]))
    gd = s.sources[0]
    assert gd.status == "ok" and gd.requests == 3 and gd.failed_requests == 1
    assert gd.error and "too short" in gd.error
    with sessions() as sess:
        titles = [a.title for a in sess.exec(select(Article)).all()]
        assert titles == ["Bravo it\\'s \\x"]
        st = {r.question_id: r for r in sess.exec(select(NewsSourceQuestion)).all()}
        assert st["a-empty"].status == "ok" and st["c-texterr"].status == "failed"
        assert st["c-texterr"].last_success is None


def test_gdelt_rate_limit_text_is_failure_and_stops_asking(
    httpserver: HTTPServer, gdelt: Gdelt, sessions: Sessions
) -> None:
    for q in ("q1", "q2", "q3"):
        add_question(sessions, q, f"{q}term")
    gdelt.default = Response(
        "Please limit requests to one every 5 seconds.", content_type="text/plain"
    )
    s = do_pull(sessions, settings_for(httpserver, feeds=[]))
    assert s.all_failed and len(gdelt.requests) == 1
    assert "limit requests" in (s.sources[0].error or "")


def test_gdelt_429_with_retry_after(httpserver: HTTPServer, sessions: Sessions) -> None:
    add_question(sessions, "q1", "q1term")
    times: list[float] = []

    def answer(req: Request) -> Response:
        times.append(time.monotonic())
        if len(times) == 1:
            return Response("", status=429, headers={"Retry-After": "1"})
        return Response(gdelt_json(("https://r.example/1", "q1term")))

    httpserver.expect_request("/api/v2/doc/doc").respond_with_handler(answer)
    s = do_pull(sessions, settings_for(httpserver, feeds=[]))
    assert s.sources[0].status == "ok" and s.articles_new == 1
    assert len(times) == 2 and times[1] - times[0] >= 1.0  # as the server saw it


@pytest.mark.parametrize("as_date", [False, True], ids=["seconds", "http-date"])
def test_a_source_backs_off_at_least_the_servers_retry_after(
    httpserver: HTTPServer, sessions: Sessions, as_date: bool
) -> None:
    """A Retry-After longer than a pull waits: the source fails now, and is not asked
    again before that time, although its own backoff (5 min) is shorter."""
    add_question(sessions, "hyper", "hypersonic")
    retry_after = 7200
    value = (
        email.utils.format_datetime(
            dt.datetime.now(dt.UTC) + dt.timedelta(seconds=retry_after), usegmt=True
        )
        if as_date
        else str(retry_after)
    )
    httpserver.expect_request("/feed1.xml").respond_with_data(
        "slow down", status=429, headers={"Retry-After": value}
    )
    settings = settings_for(httpserver, gdelt=False)
    s = do_pull(sessions, settings)
    assert status(s) == {"feed1": "failed"} and "retry after" in (s.sources[0].error or "")
    with sessions() as sess:
        row = sess.exec(select(NewsSource).where(NewsSource.name == "feed1")).one()
        assert row.last_attempt is not None and row.next_allowed_at is not None
        waited = (row.next_allowed_at - row.last_attempt).total_seconds()
        assert retry_after - 5 <= waited <= retry_after + 5  # an HTTP date is to the second
        assert store.backoff_delay(row.failures).total_seconds() < retry_after
    # Not asked during the wait, even an hour later
    asked = len(httpserver.log)
    assert asked == 1  # not retried within the pull either
    with freeze_time(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), tick=True, real_asyncio=True):
        assert status(do_pull(sessions, settings)) == {"feed1": "deferred"}
    assert len(httpserver.log) == asked


def test_gdelt_requests_are_spaced(
    httpserver: HTTPServer, gdelt: Gdelt, sessions: Sessions
) -> None:
    for q in ("q1", "q2", "q3"):
        add_question(sessions, q, f"{q}term")
    do_pull(sessions, settings_for(httpserver, feeds=[], gdelt_min_interval=0.3))
    gaps = [b - a for a, b in zip(gdelt.times, gdelt.times[1:], strict=False)]
    # Spaced as sent; seen by the server a little less (the first request also connects)
    assert len(gaps) == 2 and min(gaps) >= 0.25
    assert max_overlap(gdelt.intervals) == 1  # one question after another, never in parallel


def test_gdelt_spacing_counts_from_the_last_attempt_of_an_earlier_pull(
    httpserver: HTTPServer, gdelt: Gdelt, sessions: Sessions, db_url: str
) -> None:
    add_question(sessions, "q1", "q1term")
    settings = settings_for(httpserver, feeds=[], gdelt_min_interval=1.0)
    do_pull(sessions, settings)
    do_pull(sessions, settings)  # at once: its one request must wait for the interval
    assert len(gdelt.times) == 2 and gdelt.times[1] - gdelt.times[0] >= 0.95
    # The wait comes from the stored attempt: a fresh process (a new runtime) waits too.
    with sessions(write=True) as s:
        src = s.exec(select(NewsSource).where(NewsSource.name == "gdelt")).one()
        t0 = time.monotonic()
        src.last_attempt = dt.datetime.now(dt.UTC)
        s.add(src)
    pull(Runtime(database_url=db_url).session, settings=settings, policy=POLICY)
    assert gdelt.times[2] - t0 >= 0.95


def test_question_option_limits_per_question_sources(
    httpserver: HTTPServer, gdelt: Gdelt, sessions: Sessions
) -> None:
    add_question(sessions, "one", "onething")
    add_question(sessions, "two", "twothing")
    serve_feed(httpserver)
    s = do_pull(sessions, settings_for(httpserver), question_id="two")
    assert [r["query"][0] for r in gdelt.requests] == ["twothing"]
    assert status(s) == {"gdelt": "ok", "feed1": "ok"}
    with pytest.raises(QuestionNotFound):
        do_pull(sessions, settings_for(httpserver), question_id="nope")
    add_question(sessions, "empty", None)
    with pytest.raises(BadInput, match="no news query") as e:
        do_pull(sessions, settings_for(httpserver), question_id="empty")
    assert e.value.field == "question_id"
    with pytest.raises(BadInput, match="no news source named") as e:
        do_pull(sessions, settings_for(httpserver), source="nope")
    assert e.value.field == "source" and "--" not in e.value.message


def test_resolved_questions_are_left_out(
    httpserver: HTTPServer, gdelt: Gdelt, sessions: Sessions
) -> None:
    add_question(sessions, "open", "hypersonic")
    add_question(sessions, "done", "russia")
    with sessions(write=True) as s:
        s.add(
            Resolution(
                question_id="done", outcome="yes", resolved_on=dt.date(2026, 11, 1), by="paper"
            )
        )
    serve_feed(httpserver)
    do_pull(sessions, settings_for(httpserver))
    assert [r["query"][0] for r in gdelt.requests] == ["hypersonic"]
    assert {q for _, q in matches(sessions)} == {"open"}


def test_entity_feed_refused_others_fine(
    httpserver: HTTPServer, gdelt: Gdelt, sessions: Sessions
) -> None:
    add_question(sessions, "hyper", "hypersonic")
    serve_feed(httpserver)
    lol = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "'
        + b"a" * 40_000
        + b'">]><rss><channel><title>&a;&a;</title></channel></rss>'
    )
    httpserver.expect_request("/lol.xml").respond_with_data(lol, content_type="application/xml")
    settings = settings_for(
        httpserver,
        feeds=[
            {"name": "feed1", "url": httpserver.url_for("/feed1.xml")},
            {"name": "lol", "url": httpserver.url_for("/lol.xml")},
        ],
    )
    s = do_pull(sessions, settings)
    assert status(s) == {"gdelt": "ok", "feed1": "ok", "lol": "failed"}
    assert "ENTITY" in (s.sources[2].error or "")


def test_bozo_and_oversized_feeds(httpserver: HTTPServer, gdelt: Gdelt, sessions: Sessions) -> None:
    add_question(sessions, "hyper", "hypersonic")
    broken = rss(("Hypersonic &nbsp; news", "/b/1", "x")).replace(b"</channel></rss>", b"")
    serve_feed(httpserver, "/bozo.xml", broken)
    httpserver.expect_request("/big.xml").respond_with_data(b"<rss>" + b" " * 20_000)
    settings = settings_for(
        httpserver,
        max_bytes=10_000,
        feeds=[
            {"name": "bozo", "url": httpserver.url_for("/bozo.xml")},
            {"name": "big", "url": httpserver.url_for("/big.xml")},
        ],
    )
    s = do_pull(sessions, settings)
    assert status(s) == {"gdelt": "ok", "bozo": "ok", "big": "failed"}
    assert "errors but was read" in (s.sources[1].error or "")
    assert "larger than 10000" in (s.sources[2].error or "")
    assert (httpserver.url_for("/b/1"), "hyper") in matches(sessions)


def test_search_feed_per_question(httpserver: HTTPServer, sessions: Sessions) -> None:
    add_question(sessions, "su57", '"Su-57" export')
    seen: list[str] = []

    def handler(req: Request) -> Response:
        seen.append(req.query_string.decode())
        return Response(
            rss(("Checkmate fighter deal", "https://s.example/1", "no query terms here")),
            content_type="application/rss+xml",
        )

    httpserver.expect_request("/search").respond_with_handler(handler)
    settings = settings_for(
        httpserver,
        gdelt=False,
        feeds=[],
        search_feeds=[httpserver.url_for("/search") + "?q={query}&hl=en"],
    )
    s = do_pull(sessions, settings)
    assert status(s) == {"search:localhost": "ok"}
    assert seen == ["q=%22Su-57%22%20export&hl=en"]
    m = matches(sessions)[("https://s.example/1", "su57")]
    assert m.score == 1.0  # the search matched it; local terms were absent


def test_irrelevant_mark_hides_for_good(
    httpserver: HTTPServer, gdelt: Gdelt, sessions: Sessions
) -> None:
    add_question(sessions, "hyper", "hypersonic")
    add_question(sessions, "russia", "russia")
    serve_feed(httpserver)
    settings = settings_for(httpserver, gdelt=False)
    do_pull(sessions, settings)
    with sessions() as s:
        rows = store.list_articles(s)
        assert [r.questions for r in rows] == [["hyper", "russia"]]
        aid = rows[0].id
    with sessions(write=True) as s:
        assert store.mark(s, article_id=aid, relevant=False, question_id="hyper") == 1
    with sessions() as s:
        assert [r.questions for r in store.list_articles(s)] == [["russia"]]
        assert store.list_articles(s, question_id="hyper") == []
    # The same item again (new ETag, so fetched and matched again): still hidden.
    httpserver.clear()
    serve_feed(httpserver, etag='"e2"')
    s2 = do_pull(sessions, settings)
    assert s2.matches_new == 0
    with sessions(write=True) as s:
        assert store.list_articles(s, question_id="hyper") == []
        store.mark(s, article_id=aid, relevant=False)
        assert store.list_articles(s) == []
        with pytest.raises(BadInput):
            store.mark(s, article_id=99999, relevant=True)


def test_breadth_penalty_in_stored_scores(httpserver: HTTPServer, sessions: Sessions) -> None:
    for i in range(6):
        add_question(sessions, f"q{i}", f"common OR special{i}")
    body = rss(("Common story", "/c", "x"), ("Special3 story", "/s", "y"))
    serve_feed(httpserver, body=body)
    do_pull(sessions, settings_for(httpserver, gdelt=False))
    m = matches(sessions)
    broad = m[(httpserver.url_for("/c"), "q0")].score
    narrow = m[(httpserver.url_for("/s"), "q3")].score
    assert narrow == 2.0 and broad < narrow / 2


def test_bad_query_is_a_warning(httpserver: HTTPServer, sessions: Sessions) -> None:
    add_question(sessions, "bad", '"unterminated')
    add_question(sessions, "good", "hypersonic")
    serve_feed(httpserver)
    s = do_pull(sessions, settings_for(httpserver, gdelt=False))
    assert any(w.startswith("bad:") for w in s.warnings)
    assert {q for _, q in matches(sessions)} == {"good"}


def test_nothing_configured(sessions: Sessions) -> None:
    s = do_pull(sessions, NewsSettings(gdelt=False, feeds=[]))
    assert s.sources == [] and not s.all_failed


@pytest.fixture
def _threaded() -> Iterator[HTTPServer]:
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


class InFlight:
    """Feed handlers that hold each request until ``wanted`` are in flight at once (or a
    second has passed), recording every request's interval on the server's clock."""

    def __init__(self, wanted: int) -> None:
        self.wanted = wanted
        self.current = 0
        self.intervals: list[tuple[float, float]] = []
        self.cond = threading.Condition()

    def __call__(self, req: Request) -> Response:
        with self.cond:
            start = time.monotonic()
            self.current += 1
            self.cond.notify_all()
            self.cond.wait_for(lambda: self.current >= self.wanted, timeout=1.0)
        time.sleep(0.05)
        with self.cond:
            self.current -= 1
            self.intervals.append((start, time.monotonic()))
        return Response(
            rss(("x", "/" + req.path.strip("/"), "y")), content_type="application/rss+xml"
        )


@pytest.mark.parametrize("concurrency", [10, 3])
def test_feeds_fetched_concurrently_up_to_the_limit(
    _threaded: HTTPServer, sessions: Sessions, concurrency: int
) -> None:
    handler = InFlight(concurrency)
    for i in range(10):
        _threaded.expect_request(f"/f{i}").respond_with_handler(handler)
    settings = NewsSettings.model_validate(
        {
            "gdelt": False,
            "concurrency": concurrency,
            "feeds": [{"name": f"f{i}", "url": _threaded.url_for(f"/f{i}")} for i in range(10)],
        }
    )
    s = pull(sessions, settings=settings, policy=FetchPolicy(trust_env=False))
    assert s.sources_ok == 10 and len(handler.intervals) == 10
    assert max_overlap(handler.intervals) == concurrency


def test_no_transaction_is_open_while_fetching(
    httpserver: HTTPServer, gdelt: Gdelt, db_url: str
) -> None:
    """The design rule: the database is read before the network phase and written after
    it, never held while a request is in flight."""
    runtime = Runtime(database_url=db_url)
    add_question(runtime.session, "hyper", "hypersonic")
    open_: list[tuple[float, float]] = []

    @contextlib.contextmanager
    def recorded(*, write: bool = False) -> Iterator[Session]:
        start = time.monotonic()
        with runtime.session(write=write) as s:
            yield s
        open_.append((start, time.monotonic()))

    feed_times: list[tuple[float, float]] = []

    def feed(req: Request) -> Response:
        start = time.monotonic()
        time.sleep(0.1)
        feed_times.append((start, time.monotonic()))
        return Response(FEED, content_type="application/rss+xml")

    httpserver.expect_request("/feed1.xml").respond_with_handler(feed)
    s = pull(recorded, settings=settings_for(httpserver), policy=POLICY)
    assert s.sources_ok == 2 and len(open_) == 2 and len(feed_times) == 1
    requests = feed_times + gdelt.intervals
    assert len(requests) == 2
    assert all(b < start or a > end for a, b in open_ for start, end in requests)


def test_wrong_charset_and_relative_links_over_http(
    httpserver: HTTPServer, sessions: Sessions
) -> None:
    add_question(sessions, "defense", "défense OR defense")
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xml:base="/section/">'
        "<channel><title>T</title><item><title>Défense “news” – naïve</title>"
        "<link>story/1</link></item></channel></rss>"
    ).encode("cp1252")  # declared UTF-8 in the prolog and the header; really windows-1252
    httpserver.expect_request("/cp.xml").respond_with_data(
        body, content_type="text/xml; charset=utf-8"
    )
    settings = settings_for(
        httpserver, gdelt=False, feeds=[{"name": "cp", "url": httpserver.url_for("/cp.xml")}]
    )
    s = do_pull(sessions, settings)
    assert status(s) == {"cp": "ok"} and s.articles_new == 1
    with sessions() as sess:
        a = sess.exec(select(Article)).one()
        assert a.title == "Défense “news” – naïve"
        assert a.url == httpserver.url_for("/section/story/1")


@freeze_time("2026-11-28 12:00:00", tick=True, real_asyncio=True)
def test_gdelt_seendate_becomes_published(
    httpserver: HTTPServer, gdelt: Gdelt, sessions: Sessions
) -> None:
    add_question(sessions, "q1", '"first flight" (J-36 OR "J 36")')
    gdelt.default = gdelt_json(("https://g.example/1", "J-36 first flight"))
    s = do_pull(sessions, settings_for(httpserver, feeds=[]))
    assert s.articles_new == 1
    assert gdelt.requests[0]["query"] == ['"first flight" ("j-36" OR "j 36")']
    with sessions() as sess:
        a = sess.exec(select(Article)).one()
        assert a.published == dt.datetime(2026, 11, 27, 3, 15, tzinfo=dt.UTC)


def test_prefix_wildcards_through_a_pull(
    httpserver: HTTPServer, gdelt: Gdelt, sessions: Sessions
) -> None:
    add_question(sessions, "engines", "двигател* Кита*")
    add_question(sessions, "missiles", "missil* Russia")
    body = (
        '<?xml version="1.0" encoding="windows-1251"?><rss version="2.0"><channel><title>Л</title>'
        "<item><title>Россия поставит двигатели для Китая</title><link>/ru/1</link></item>"
        "<item><title>Китай закупает больше двигателей</title><link>/ru/2</link></item>"
        "<item><title>Кит и двигатель</title><link>/ru/3</link></item>"
        "<item><title>Russia tests new missiles</title><link>/ru/4</link></item>"
        "</channel></rss>"
    ).encode("cp1251")
    serve_feed(httpserver, body=body)
    s = do_pull(sessions, settings_for(httpserver))
    assert s.articles_new == 4
    m = matches(sessions)
    assert set(m) == {
        (httpserver.url_for("/ru/1"), "engines"),
        (httpserver.url_for("/ru/2"), "engines"),
        (httpserver.url_for("/ru/4"), "missiles"),
    }
    assert m[(httpserver.url_for("/ru/1"), "engines")].terms == ["двигател*", "кита*"]
    # GDELT gets the Latin stem without its wildcard; the Cyrillic-only query is not sent
    assert [r["query"][0] for r in gdelt.requests] == ["missil russia"]
    assert any("engines: nothing in its news query that GDELT can search" in w for w in s.warnings)

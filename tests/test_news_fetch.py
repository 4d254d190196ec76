"""The fetcher against a real HTTP server on 127.0.0.1: conditional GET, redirects,
size cap, slow bodies, retries with Retry-After, connect errors, rate limiting."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from forecasts import clock
from forecasts.news.fetch import (
    USER_AGENT,
    Fetcher,
    FetchPolicy,
    FetchResult,
    RateLimiter,
    parse_retry_after,
)

FAST = FetchPolicy(
    max_bytes=10_000,
    connect_timeout=1.0,
    read_timeout=1.0,
    deadline=1.5,
    retries=2,
    backoff=0.05,
    max_retry_after=2.0,
    trust_env=False,
)


def get(url: str, policy: FetchPolicy = FAST, **kw) -> FetchResult:  # type: ignore[no-untyped-def]
    async def run() -> FetchResult:
        async with Fetcher(policy) as f:
            return await f.get(url, **kw)

    return asyncio.run(run())


def test_ok_with_user_agent(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed", headers={"User-Agent": USER_AGENT}).respond_with_data(
        "<rss/>", headers={"ETag": '"v1"', "Last-Modified": "Wed, 25 Nov 2026 10:00:00 GMT"}
    )
    r = get(httpserver.url_for("/feed"))
    assert r.ok and r.status == 200 and r.body == b"<rss/>"
    assert r.etag == '"v1"' and r.last_modified == "Wed, 25 Nov 2026 10:00:00 GMT"
    assert USER_AGENT.startswith("forecasts/") and "+https://" in USER_AGENT


def test_conditional_get_304(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/feed",
        headers={"If-None-Match": '"v1"', "If-Modified-Since": "Wed, 25 Nov 2026 10:00:00 GMT"},
    ).respond_with_data("", status=304)
    r = get(httpserver.url_for("/feed"), etag='"v1"', last_modified="Wed, 25 Nov 2026 10:00:00 GMT")
    assert r.ok and r.not_modified and r.body is None


def test_redirects_followed_and_relative(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data("", status=301, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/c")}
    )
    httpserver.expect_request("/c").respond_with_data("", status=307, headers={"Location": "d"})
    httpserver.expect_request("/d").respond_with_data("final")
    r = get(httpserver.url_for("/a"))
    assert r.ok and r.body == b"final" and r.final_url == httpserver.url_for("/d")


def test_too_many_redirects(httpserver: HTTPServer) -> None:
    for i in range(7):
        httpserver.expect_request(f"/r{i}").respond_with_data(
            "", status=302, headers={"Location": f"/r{i + 1}"}
        )
    r = get(httpserver.url_for("/r0"))
    assert not r.ok and "more than 5 redirects" in (r.error or "")
    # exactly five hops is fine
    httpserver.expect_request("/r7").respond_with_data("ok")
    assert get(httpserver.url_for("/r2")).body == b"ok"


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "ftp://127.0.0.1/x", "javascript:alert(1)"]
)
def test_redirect_to_non_http_refused(httpserver: HTTPServer, target: str) -> None:
    httpserver.expect_request("/a").respond_with_data("", status=302, headers={"Location": target})
    r = get(httpserver.url_for("/a"))
    assert not r.ok and r.attempts == 1 and r.body is None
    assert "non-http(s)" in (r.error or "") or "request failed" in (r.error or "")


def test_oversized_declared(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 20_000)
    r = get(httpserver.url_for("/big"))
    assert not r.ok and "larger than 10000 bytes" in (r.error or "") and r.attempts == 1


def test_oversized_streamed_without_length(httpserver: HTTPServer) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"y" * 1000

    httpserver.expect_request("/stream").respond_with_response(
        Response(chunks(), direct_passthrough=True)
    )
    r = get(httpserver.url_for("/stream"))
    assert not r.ok and "larger than" in (r.error or "")


def test_slow_body_hits_the_deadline(httpserver: HTTPServer) -> None:
    sent: list[int] = []
    stopped = threading.Event()

    def trickle() -> Iterator[bytes]:
        try:
            for i in range(30):  # 3 s in all, each chunk well inside the read timeout
                time.sleep(0.1)
                sent.append(i)
                yield b"z"
        finally:
            stopped.set()

    httpserver.expect_request("/trickle").respond_with_response(
        Response(trickle(), direct_passthrough=True)
    )
    r = get(httpserver.url_for("/trickle"))
    assert not r.ok and r.error == "timed out after 1.5 s" and r.attempts == 1
    # The client hung up at its deadline: the server stopped before the whole body.
    assert stopped.wait(5) and len(sent) < 30


def test_429_retry_after_honoured(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/rl").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/rl").respond_with_data("ok")
    t0 = time.monotonic()
    r = get(httpserver.url_for("/rl"))
    assert r.ok and r.body == b"ok" and r.attempts == 2
    assert time.monotonic() - t0 >= 0.95


def test_429_retry_after_too_long_fails_fast(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/rl").respond_with_data(
        "no", status=429, headers={"Retry-After": "3600"}
    )
    r = get(httpserver.url_for("/rl"))
    assert not r.ok and r.retry_after == 3600 and r.error == "HTTP 429; asked to retry after 3600 s"
    # Failed at once: one request, no waiting for a second attempt
    assert r.transient and r.attempts == 1 and len(httpserver.log) == 1


def test_5xx_retried_with_backoff(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/x").respond_with_data("", status=503)
    httpserver.expect_ordered_request("/x").respond_with_data("", status=502)
    httpserver.expect_ordered_request("/x").respond_with_data("third time")
    r = get(httpserver.url_for("/x"))
    assert r.ok and r.attempts == 3 and r.body == b"third time"


def test_5xx_gives_up(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_data("", status=500)
    r = get(httpserver.url_for("/x"))
    assert not r.ok and r.error == "HTTP 500" and r.attempts == 3 and r.transient


def test_404_not_retried(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gone").respond_with_data("", status=404)
    r = get(httpserver.url_for("/gone"))
    assert not r.ok and r.error == "HTTP 404" and r.attempts == 1 and not r.transient


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connect_error_retried_then_reported() -> None:
    r = get(f"http://127.0.0.1:{_closed_port()}/feed")
    assert not r.ok and (r.error or "").startswith("cannot connect") and r.attempts == 3
    assert r.transient and r.unsent


def test_retry_after_parsing() -> None:
    assert parse_retry_after("120") == 120
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


def test_rate_limiter_spacing() -> None:
    async def run() -> list[float]:
        lim = RateLimiter(0.2)
        stamps = []
        for _ in range(3):
            await lim.wait()
            stamps.append(time.monotonic())
        return stamps

    s = asyncio.run(run())
    assert s[1] - s[0] >= 0.19 and s[2] - s[1] >= 0.19


def test_rate_limiter_remembers_last_request() -> None:
    async def run() -> float:
        lim = RateLimiter(0.3, last=clock.now())
        t0 = time.monotonic()
        await lim.wait()
        return time.monotonic() - t0

    assert asyncio.run(run()) >= 0.25


def test_request_headers_seen_by_server(httpserver: HTTPServer) -> None:
    seen: list[Request] = []

    def handler(req: Request) -> Response:
        seen.append(req)
        return Response("ok")

    httpserver.expect_request("/h").respond_with_handler(handler)
    get(httpserver.url_for("/h"))
    assert seen[0].headers["User-Agent"] == USER_AGENT
    assert "rss" in seen[0].headers["Accept"]

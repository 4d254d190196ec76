"""Polite, bounded HTTP fetching (httpx, asyncio), and the fetch step of a pull.

``Fetcher`` gets one URL:

- at most ``concurrency`` requests in flight; per-request connect/read timeouts and a
  wall-clock deadline per attempt (a server that trickles its body cannot hold us);
- retries with exponential backoff on connect errors, 429 and 5xx, honouring
  ``Retry-After`` (seconds or HTTP date) up to a cap;
- conditional GET (``If-None-Match`` / ``If-Modified-Since``); a 304 has no body;
- redirects followed by hand: http(s) targets only, at most 5;
- the body is streamed and cut off past ``max_bytes``;
- an identifying User-Agent.

Nothing here raises for a network problem: every outcome is a FetchResult.

``fetch_plan`` runs a pull's plan: every due source concurrently, each parsed in a worker
thread; the requests of a per-question source (GDELT, a search feed) one after another,
GDELT spaced by ``gdelt_min_interval`` counted from the stored last attempt; a source
that is down or refusing is not asked again in the same pull. It never touches the
database.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from forecasts import __version__, clock
from forecasts.news.dates import time_zone
from forecasts.news.plan import Plan, Request, SourcePlan
from forecasts.news.settings import DEFAULT_CONCURRENCY, DEFAULT_MAX_BYTES
from forecasts.news.sources import Parsed, SourceError, parse_feed, parse_gdelt, shorten

if TYPE_CHECKING:
    import httpx

USER_AGENT = f"forecasts/{__version__} (+https://github.com/forecasts/forecasts; news reader)"
ACCEPT_FEED = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
ACCEPT_JSON = "application/json, text/plain;q=0.5, */*;q=0.1"
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int = DEFAULT_MAX_BYTES
    concurrency: int = DEFAULT_CONCURRENCY
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    #: Wall-clock limit for one attempt: redirects, headers and the whole body.
    deadline: float = 45.0
    #: Extra attempts after the first, for connect errors, 429 and 5xx.
    retries: int = 2
    backoff: float = 0.5
    #: A Retry-After longer than this is not waited for: the fetch fails instead.
    max_retry_after: float = 30.0
    max_redirects: int = 5
    user_agent: str = USER_AGENT
    #: Honour HTTP(S)_PROXY and friends from the environment.
    trust_env: bool = True


@dataclass
class FetchResult:
    url: str
    final_url: str
    status: int | None = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    #: The failure says the server or network is down or refusing us (connect error,
    #: timeout, 429, 5xx): stop asking the same source for now.
    transient: bool = False
    #: Worth another attempt (connect error, 429, 5xx).
    retryable: bool = False
    retry_after: float | None = None
    #: The request never reached a server (could not connect).
    unsent: bool = False
    attempts: int = 0
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def not_modified(self) -> bool:
        return self.error is None and self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - clock.now()).total_seconds())


class RateLimiter:
    """Spaces request starts at least ``interval`` seconds apart. ``last`` is when the
    previous request was made (e.g. by an earlier pull), if known."""

    def __init__(self, interval: float, last: dt.datetime | None = None) -> None:
        self.interval = interval
        self._next = 0.0
        self._before = 0.0
        if last is not None and interval > 0:
            wait = interval - (clock.now() - last).total_seconds()
            if wait > 0:
                self._next = time.monotonic() + min(wait, interval)
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            delay = self._next - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._before = self._next
            self._next = time.monotonic() + self.interval

    def unsend(self) -> None:
        """The request never reached the server (connect error): its slot is free again."""
        self._next = min(self._next, self._before)


class _TooLarge(Exception):
    pass


class Fetcher:
    """``async with Fetcher(policy) as f: result = await f.get(url)``"""

    def __init__(self, policy: FetchPolicy | None = None) -> None:
        self.policy = policy or FetchPolicy()
        self._client: httpx.AsyncClient | None = None
        self._sem = asyncio.Semaphore(self.policy.concurrency)

    async def __aenter__(self) -> Fetcher:
        import httpx

        p = self.policy
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(
                connect=p.connect_timeout, read=p.read_timeout, write=p.read_timeout, pool=None
            ),
            limits=httpx.Limits(
                max_connections=p.concurrency, max_keepalive_connections=p.concurrency
            ),
            follow_redirects=False,
            headers={"User-Agent": p.user_agent},
            trust_env=p.trust_env,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = ACCEPT_FEED,
        limiter: RateLimiter | None = None,
    ) -> FetchResult:
        p = self.policy
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        started = time.monotonic()
        result = FetchResult(url=url, final_url=url)
        for attempt in range(p.retries + 1):
            if limiter is not None:
                await limiter.wait()
            async with self._sem:
                try:
                    result = await asyncio.wait_for(self._once(url, headers), p.deadline)
                except TimeoutError:
                    result = FetchResult(
                        url=url,
                        final_url=url,
                        error=f"timed out after {p.deadline:g} s",
                        transient=True,
                    )
            result.attempts = attempt + 1
            if limiter is not None and result.unsent:
                limiter.unsend()
            if not result.retryable or attempt == p.retries:
                break
            if result.retry_after is not None:
                if result.retry_after > p.max_retry_after:
                    result.error = f"{result.error}; asked to retry after {result.retry_after:g} s"
                    break
                delay = result.retry_after
            else:
                delay = p.backoff * (2**attempt) * (1 + 0.2 * random.random())
            await asyncio.sleep(delay)
        result.elapsed = time.monotonic() - started
        return result

    async def _once(self, url: str, headers: dict[str, str]) -> FetchResult:
        import httpx

        assert self._client is not None, "use Fetcher as an async context manager"
        p = self.policy
        current = url
        for _hop in range(p.max_redirects + 1):
            try:
                request = self._client.build_request("GET", current, headers=headers)
                response = await self._client.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout) as e:
                res = _fail(url, current, f"cannot connect: {_why(e)}", retryable=True)
                res.unsent = True
                return res
            except httpx.TimeoutException as e:
                return _fail(url, current, f"timed out: {_why(e)}", retryable=False)
            except (httpx.RemoteProtocolError, httpx.ReadError) as e:
                return _fail(url, current, f"connection failed: {_why(e)}", retryable=True)
            except (httpx.HTTPError, httpx.InvalidURL, ValueError) as e:
                # InvalidURL also covers a redirect to a malformed target (httpx parses
                # the Location even when not following it).
                return _fail(
                    url, current, f"request failed: {_why(e)}", retryable=False, transient=False
                )
            try:
                hdrs = {k.lower(): v for k, v in response.headers.items()}
                status = response.status_code
                if status in _REDIRECTS:
                    location = hdrs.get("location")
                    if not location:
                        return _fail(
                            url, current, f"HTTP {status} without Location", transient=False
                        )
                    target = urljoin(current, location.strip())
                    if urlsplit(target).scheme.lower() not in ("http", "https"):
                        return _fail(
                            url,
                            current,
                            f"redirect to non-http(s) URL refused: {shorten(target, 200)}",
                            transient=False,
                        )
                    current = target
                    continue
                if status == 304:
                    return FetchResult(url=url, final_url=current, status=304, headers=hdrs)
                if status == 429 or status >= 500:
                    res = _fail(url, current, f"HTTP {status}", retryable=True)
                    res.status = status
                    res.headers = hdrs
                    res.retry_after = parse_retry_after(hdrs.get("retry-after"))
                    return res
                if status >= 400 or status < 200:
                    res = _fail(url, current, f"HTTP {status}", transient=False)
                    res.status = status
                    return res
                declared = hdrs.get("content-length", "")
                if declared.isdigit() and int(declared) > p.max_bytes:
                    return _too_large(url, current, p.max_bytes, status)
                try:
                    body = await _read_capped(response, p.max_bytes)
                except _TooLarge:
                    return _too_large(url, current, p.max_bytes, status)
                except httpx.TimeoutException as e:
                    return _fail(url, current, f"timed out reading body: {_why(e)}")
                except (httpx.HTTPError, OSError) as e:
                    return _fail(url, current, f"connection failed: {_why(e)}", retryable=True)
                return FetchResult(
                    url=url, final_url=current, status=status, body=body, headers=hdrs
                )
            finally:
                await response.aclose()
        return _fail(url, current, f"more than {p.max_redirects} redirects", transient=False)


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _fail(
    url: str, final: str, error: str, *, retryable: bool = False, transient: bool = True
) -> FetchResult:
    return FetchResult(
        url=url, final_url=final, error=error, retryable=retryable, transient=transient or retryable
    )


def _too_large(url: str, final: str, limit: int, status: int) -> FetchResult:
    res = _fail(url, final, f"body larger than {limit} bytes; refused", transient=False)
    res.status = status
    return res


def _why(e: Exception) -> str:
    text = str(e).strip() or type(e).__name__
    return shorten(text.splitlines()[0], 200)


# ------------------------------------------------------------------ fetching a plan

#: ``progress(done, total, label)``: called as requests finish.
Progress = Callable[[int, int, str], None]


@dataclass
class Fetched:
    """What became of one planned request."""

    source: SourcePlan
    request: Request
    result: FetchResult | None = None
    parsed: Parsed | None = None
    error: str | None = None
    #: The source is down or refusing (see FetchResult.transient).
    transient: bool = False
    retry_after: float | None = None
    #: Not fetched: why.
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.skipped is None

    @property
    def not_modified(self) -> bool:
        return self.ok and self.result is not None and self.result.not_modified


def fetch_plan(
    plan: Plan,
    *,
    policy: FetchPolicy,
    gdelt_min_interval: float,
    progress: Progress | None = None,
) -> list[Fetched]:
    """Fetch and parse every planned request; a failure is recorded, never raised."""
    if not plan.sources:
        return []
    return asyncio.run(_fetch_sources(plan.sources, policy, gdelt_min_interval, progress))


async def _fetch_sources(
    sources: list[SourcePlan],
    policy: FetchPolicy,
    gdelt_min_interval: float,
    progress: Progress | None,
) -> list[Fetched]:
    total = sum(len(sp.requests) for sp in sources)
    done = 0
    if progress:
        progress(0, total, "starting")

    def tick(label: str, n: int = 1) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total, label)

    async with Fetcher(policy) as fetcher:

        async def one_source(sp: SourcePlan) -> list[Fetched]:
            limiter = None
            if sp.spec.kind == "gdelt":
                limiter = RateLimiter(gdelt_min_interval, sp.last_attempt)
            out: list[Fetched] = []
            for i, request in enumerate(sp.requests):
                f = await _fetch_one(fetcher, sp, request, limiter)
                out.append(f)
                tick(" ".join((sp.spec.name, *request.question_ids)))
                rest = sp.requests[i + 1 :]
                if f.transient and rest:
                    # Down or refusing: do not hammer it with the remaining questions.
                    out.extend(Fetched(sp, r, skipped=f"not asked: {f.error}") for r in rest)
                    tick(sp.spec.name, len(rest))
                    break
            return out

        groups = await asyncio.gather(*(one_source(sp) for sp in sources))
    return [f for group in groups for f in group]


async def _fetch_one(
    fetcher: Fetcher, sp: SourcePlan, request: Request, limiter: RateLimiter | None
) -> Fetched:
    is_gdelt = sp.spec.kind == "gdelt"
    res = await fetcher.get(
        request.url,
        etag=request.etag,
        last_modified=request.last_modified,
        accept=ACCEPT_JSON if is_gdelt else ACCEPT_FEED,
        limiter=limiter,
    )
    out = Fetched(sp, request, result=res)
    if not res.ok:
        out.error, out.transient, out.retry_after = res.error, res.transient, res.retry_after
        return out
    if res.not_modified:
        out.parsed = Parsed()
        return out
    now = clock.now()
    try:
        # Parsing is CPU work: a worker thread keeps the event loop fetching meanwhile.
        if is_gdelt:
            out.parsed = await asyncio.to_thread(parse_gdelt, res.body or b"", now=now)
        else:
            tz = time_zone(sp.spec.timezone) if sp.spec.timezone else dt.UTC
            out.parsed = await asyncio.to_thread(
                parse_feed,
                res.body or b"",
                url=res.final_url,
                headers=res.headers,
                now=now,
                default_tz=tz,
            )
    except SourceError as e:
        out.error, out.transient = e.message, e.transient
    except Exception as e:  # a parser bug must not sink the other sources
        out.error = shorten(f"could not parse: {type(e).__name__}: {e}", 300)
    return out

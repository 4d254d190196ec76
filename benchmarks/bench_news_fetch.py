"""Fetching: 200 feeds from a local server that takes 100 ms to answer each request.

    python benchmarks/bench_news_fetch.py [--feeds 200] [--latency 0.1] [--items 20]

The server runs in its own process on 127.0.0.1 (asyncio, keep-alive), so it does not
compete with the client for the GIL. Measured with the default [news] settings
(concurrency 32): (1) fetching alone, (2) fetching and parsing every feed, (3) a whole
`pull` (fetch, parse, store and match against 50 questions, ~1,500 matches) into a fresh SQLite file.
Writes benchmarks/results/news_fetch.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SERVER = r"""
import asyncio, sys
LATENCY = float(sys.argv[1]); ITEMS = int(sys.argv[2])
def feed(n):
    items = "".join(
        f"<item><title>Feed {n} story {i}: hypersonic missile test {i % 7}</title>"
        f"<link>/feed{n}/story{i}</link><description>Russia and China defence news item {i}"
        f"</description><pubDate>Wed, 25 Nov 2026 10:{i % 60:02d}:00 GMT</pubDate></item>"
        for i in range(ITEMS)
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>'
            f"{items}</channel></rss>").encode()
async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            await asyncio.sleep(LATENCY)
            body = feed(path.strip("/"))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()
asyncio.run(main())
"""


async def fetch_all(urls: list[str], parse: bool) -> tuple[int, int]:
    from forecasts import clock
    from forecasts.news.fetch import Fetcher, FetchPolicy
    from forecasts.news.settings import NewsSettings
    from forecasts.news.sources import parse_feed

    s = NewsSettings()
    policy = FetchPolicy(max_bytes=s.max_bytes, concurrency=s.concurrency, trust_env=False)
    ok = items = 0
    async with Fetcher(policy) as f:

        async def one(url: str) -> None:
            nonlocal ok, items
            r = await f.get(url)
            if r.ok:
                ok += 1
                if parse:
                    items += len(
                        parse_feed(
                            r.body or b"", url=r.final_url, headers=r.headers, now=clock.now()
                        ).items
                    )

        await asyncio.gather(*(one(u) for u in urls))
    return ok, items


def full_pull(urls: list[str]) -> tuple[float, dict[str, int]]:
    import datetime as dt

    from forecasts.news.fetch import FetchPolicy
    from forecasts.news.pull import pull
    from forecasts.news.settings import NewsSettings
    from forecasts.store import db
    from forecasts.store.models import Question

    with tempfile.TemporaryDirectory() as tmp:
        engine = db.get_engine(f"sqlite:///{tmp}/bench.db")
        db.upgrade(engine)
        with db.session_scope(engine, write=True) as s:
            for i in range(50):
                s.add(
                    Question(
                        id=f"q{i}", title="t", type="binary", criteria="c", opens=dt.date(2026, 1, 1),
                        closes=dt.date(2027, 1, 1), resolve_by=dt.date(2027, 2, 1),
                        news_query=f'"feed {i}" hypersonic' if i % 10 else f'"test {i % 7}" (missile OR rocket)',
                    )
                )  # fmt: skip
        settings = NewsSettings.model_validate(
            {"gdelt": False, "feeds": [{"name": f"f{i}", "url": u} for i, u in enumerate(urls)]}
        )
        t0 = time.perf_counter()
        summary = pull(
            lambda write=False: db.session_scope(engine, write=write),
            settings=settings,
            policy=FetchPolicy(trust_env=False),
        )
        elapsed = time.perf_counter() - t0
        engine.dispose()
    return elapsed, {
        "sources_ok": summary.sources_ok,
        "articles_new": summary.articles_new,
        "matches_new": summary.matches_new,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--latency", type=float, default=0.1)
    ap.add_argument("--items", type=int, default=20)
    args = ap.parse_args()
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(args.latency), str(args.items)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        urls = [f"http://127.0.0.1:{port}/{i}" for i in range(args.feeds)]
        asyncio.run(fetch_all(urls[:5], parse=False))  # warm up imports and the server

        t0 = time.perf_counter()
        ok, _ = asyncio.run(fetch_all(urls, parse=False))
        t_fetch = time.perf_counter() - t0
        assert ok == args.feeds, f"only {ok} of {args.feeds} fetched"

        t0 = time.perf_counter()
        ok, items = asyncio.run(fetch_all(urls, parse=True))
        t_parse = time.perf_counter() - t0
        assert ok == args.feeds

        t_pull, pulled = full_pull(urls)
        assert pulled["sources_ok"] == args.feeds
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    from forecasts.news.settings import NewsSettings

    result = {
        "feeds": args.feeds,
        "latency_s": args.latency,
        "items_per_feed": args.items,
        "concurrency": NewsSettings().concurrency,
        "fetch_s": round(t_fetch, 3),
        "fetch_and_parse_s": round(t_parse, 3),
        "items_parsed": items,
        "full_pull_s": round(t_pull, 3),
        "full_pull": pulled,
        "serial_lower_bound_s": round(args.feeds * args.latency, 1),
        "budget_s": 3.0,
        "within_budget": t_fetch <= 3.0,
    }
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "news_fetch.json").write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{args.feeds} feeds at {args.latency * 1000:.0f} ms each (serially {args.feeds * args.latency:.0f} s): "
        f"fetch {t_fetch:.2f} s; fetch+parse {t_parse:.2f} s ({items} items); "
        f"whole pull into SQLite {t_pull:.2f} s ({pulled['articles_new']} articles, "
        f"{pulled['matches_new']} matches)"
    )


if __name__ == "__main__":
    main()

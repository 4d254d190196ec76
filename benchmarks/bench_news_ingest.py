"""Ingest: 100,000 articles stored and deduplicated on SQLite.

    python benchmarks/bench_news_ingest.py [--articles 100000] [--url postgresql://...]

Into a fresh, migrated SQLite file (or the database at --url), timing URL
canonicalisation plus the upsert: (1) 100,000 new articles through `store.upsert_articles` (canonical-URL unique constraint, insert ... on conflict
do nothing); (2) the same 100,000 again with their URLs in tracking-parameter and
upper-case-host variants, canonicalised first, so all are recognised as seen and nothing
is added; (3) a half-new, half-seen batch. Each in one transaction, as a pull does.
Writes benchmarks/results/news_ingest.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--url", default=None, help="database URL (default: a temporary SQLite file)")
    args = ap.parse_args()

    from forecasts.news import store
    from forecasts.news.models import Article
    from forecasts.news.urls import canonical_url
    from forecasts.store import db

    n = args.articles
    rng = random.Random(3)
    now = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
    hosts = [f"news{i}.example.com" for i in range(300)]

    def article(i: int, raw_url: str) -> store.NewArticle:
        # The raw URL for now; canonicalised inside the timed part, as a pull does.
        return store.NewArticle(
            url=raw_url,
            title=f"Story {i}: Russia and China sign hypersonic missile deal number {i}",
            summary="A defence technology cooperation story. " * rng.randint(2, 8),
            source=f"feed{i % 40}",
            published=now - dt.timedelta(minutes=i),
        )

    first = [article(i, f"https://{hosts[i % 300]}/2026/11/story-{i}?id={i}") for i in range(n)]
    again = [
        article(i, f"https://{hosts[i % 300].upper()}/2026/11/story-{i}?utm_source=rss&id={i}#top")
        for i in range(n)
    ]
    mixed = [
        article(i, f"https://{hosts[i % 300]}/2026/11/story-{i}?id={i}")
        for i in range(n // 2, n + n // 2)
    ]

    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{tmp}/ingest.db"
        engine = db.get_engine(url)
        db.upgrade(engine)
        timings = {}
        counts = {}
        for label, batch in (("new", first), ("all_seen", again), ("half_new", mixed)):
            t0 = time.perf_counter()
            for a in batch:
                canon = canonical_url(a.url)
                assert canon is not None
                a.url = canon
            with db.session_scope(engine, write=True) as s:
                res = store.upsert_articles(s, articles=batch, now=now)
            timings[label] = time.perf_counter() - t0
            counts[label] = sum(1 for _, is_new in res if is_new)
        with db.session_scope(engine) as s:
            from sqlalchemy import func, select

            total = s.execute(select(func.count()).select_from(Article)).scalar_one()
        engine.dispose()
        dialect = engine.dialect.name

    assert counts == {"new": n, "all_seen": 0, "half_new": n - n // 2}, counts
    assert total == n + n - n // 2
    result = {
        "database": dialect,
        "articles": n,
        "new_s": round(timings["new"], 3),
        "all_seen_s": round(timings["all_seen"], 3),
        "half_new_s": round(timings["half_new"], 3),
        "rows_after": total,
        "budget_s": 10.0,
        "within_budget": timings["new"] <= 10.0 and timings["all_seen"] <= 10.0,
    }
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "news_ingest.json").write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{dialect}: {n} new articles stored in {timings['new']:.2f} s; the same {n} again "
        f"(URL variants) recognised as seen in {timings['all_seen']:.2f} s; half-new batch "
        f"{timings['half_new']:.2f} s ({total} rows)"
    )


if __name__ == "__main__":
    main()

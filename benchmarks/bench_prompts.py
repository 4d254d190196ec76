"""Prompts: 50 reviewers over 2,000 questions, half of them due, built and written to a
Maildir.

    python benchmarks/bench_prompts.py [--reviewers 50] [--questions 2000] [--repeats 5]

A migrated SQLite file holds the reviewers, the questions (half closed and awaiting
resolution, half still open), five forecasters' forecasts on every question and three
matched articles on each closed one. Each repeat copies that file and times one
`send_prompts` call end to end, as `forecasts prompts` runs it: read, decide who gets
what, render one email per reviewer, queue them in the outbox, and deliver them to the
Maildir. Budget: <= 5 s. Writes benchmarks/results/prompts.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

DAY = dt.date(2027, 4, 2)


def build(path: Path, reviewers: int, questions: int) -> None:
    from sqlalchemy import insert

    from forecasts.domain.people import ensure_paper
    from forecasts.news.models import Article, ArticleMatch
    from forecasts.store import db
    from forecasts.store.models import Forecast, Person, Question

    engine = db.get_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    t0 = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    people = [
        {"handle": f"rev{i:02d}", "name": f"Reviewer {i}", "email": f"rev{i:02d}@example.org",
         "roles": ["forecaster", "reviewer"], "digest": True, "created_at": t0}
        for i in range(reviewers)
    ] + [
        {"handle": f"fc{i}", "name": None, "email": None, "roles": ["forecaster"],
         "digest": True, "created_at": t0}
        for i in range(5)
    ]  # fmt: skip
    rows = []
    for i in range(questions):
        due = i % 2 == 0
        rows.append(
            {
                "id": f"question-{i:04d}",
                "title": f"Will Russia and China sign defence deal number {i} by 2027?",
                "type": "binary",
                "options": None,
                "criteria": "Resolves YES if both governments announce the deal.\nOtherwise NO.",
                "fine_print": "Only official announcements count.\nLeaks do not.",
                "sources": [],
                "opens": dt.date(2027, 1, 1),
                "closes": dt.date(2027, 3, 31) if due else dt.date(2027, 12, 31),
                "resolve_by": dt.date(2027, 4, 30) if due else dt.date(2028, 1, 31),
                "tags": [],
                "resolution_terms": [],
                "reviewers": [],
                "created_at": t0,
                "updated_at": t0,
            }
        )
    forecasts = [
        {"question_id": q["id"], "person": f"fc{j}", "value": 0.1 + 0.15 * j,
         "made_at": t0 + dt.timedelta(days=j), "recorded_at": t0}
        for q in rows for j in range(5)
    ]  # fmt: skip
    articles, matches = [], []
    for n, q in enumerate(r for r in rows if r["closes"] < DAY):
        for k in range(3):
            aid = n * 3 + k + 1
            when = dt.datetime(2027, 3, 30 + k % 2, 9, tzinfo=dt.UTC)
            articles.append(
                {"id": aid, "url": f"https://news.example.org/{aid}", "title":
                 f"Moscow and Beijing discuss deal {n} <update {k}>", "summary": None,
                 "source": "wire", "published": when, "fetched_at": when}
            )  # fmt: skip
            matches.append(
                {"article_id": aid, "question_id": q["id"], "score": 2.0, "terms": ["deal"],
                 "resolution_terms": [], "possible_resolution": k == 0, "matched_at": when}
            )  # fmt: skip
    with db.session_scope(engine, write=True) as s:
        ensure_paper(s)
        s.execute(insert(Person), people)
        s.execute(insert(Question), rows)
        s.execute(insert(Forecast), forecasts)
        s.execute(insert(Article), articles)
        s.execute(insert(ArticleMatch), matches)
    engine.dispose()
    db.dispose_engines()


def run_once(template: Path, folder: Path) -> tuple[float, int, int]:
    from forecasts.config import DatabaseSettings, Settings
    from forecasts.mail.settings import MailSettings
    from forecasts.review.prompts import send_prompts
    from forecasts.runtime import Runtime
    from forecasts.store import db

    path = folder / "prompts.db"
    shutil.copy(template, path)
    maildir = folder / "outbox"
    settings = Settings(
        database=DatabaseSettings(url=f"sqlite:///{path}"),
        mail=MailSettings(maildir=str(maildir)),
    )
    runtime = Runtime.from_settings(settings)
    start = time.perf_counter()
    run = send_prompts(runtime, as_of=DAY)
    elapsed = time.perf_counter() - start
    runtime.close()
    db.dispose_engines()
    assert run.delivery is not None and not run.delivery.deferred and not run.delivery.failed
    files = len(os.listdir(maildir / "new"))
    listed = sum(len(p.questions) for p in run.prompts)
    shutil.rmtree(maildir)
    path.unlink()
    return elapsed, files, listed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reviewers", type=int, default=50)
    ap.add_argument("--questions", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        template = folder / "template.db"
        build(template, args.reviewers, args.questions)
        times, files, listed = [], 0, 0
        for _ in range(args.repeats):
            elapsed, files, listed = run_once(template, folder)
            times.append(elapsed)
    result = {
        "reviewers": args.reviewers,
        "questions": args.questions,
        "due": args.questions // 2,
        "messages": files,
        "questions_listed": listed,
        "seconds_median": round(statistics.median(times), 3),
        "seconds_all": [round(t, 3) for t in times],
        "budget_seconds": 5.0,
    }
    print(
        f"prompts: {files} messages listing {listed} questions "
        f"({args.reviewers} reviewers, {args.questions} questions, {args.questions // 2} due): "
        f"median {result['seconds_median']:.2f} s over {args.repeats} runs "
        f"({', '.join(f'{t:.2f}' for t in times)}); budget 5 s"
    )
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "prompts.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

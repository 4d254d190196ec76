"""The weekly digest: 500 readers over 2,000 questions, 20,000 matched articles and
200,000 forecasts, built and sent to a Maildir.

    python benchmarks/bench_digest.py [--readers 500] [--questions 2000]
        [--articles 20000] [--forecasts 200000] [--repeats 3]

A migrated SQLite file holds the week just ended (in UTC) and the half year before it:
every reader forecasts (50 of them review), questions of every type (80% binary, 10%
choice, 10% numeric) in every state (open, closing soon, closed, resolved before and in
the week), the paper's forecast on each, the forecasts spread over the half year (a tenth
in the week, so the crowd moves), and every article published in the week (the worst
case for "News this week"), each matched to one question. Each repeat copies the file and
times one `send_digests(runtime, send=True)`, as the scheduler runs it: read the week,
build each reader's digest (sections, chart, text and HTML), queue them in the outbox and
deliver them to the Maildir. Budget: built (read + build) in <= 20 s.
Writes benchmarks/results/digest.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

BUDGET = 20.0


def build(path: Path, readers: int, questions: int, articles: int, forecasts: int) -> str:
    """The database; returns the week it is built around."""
    from sqlalchemy import insert

    from forecasts import clock
    from forecasts.digest import last_full_week
    from forecasts.domain.people import ensure_paper
    from forecasts.news.models import Article, ArticleMatch
    from forecasts.store import db
    from forecasts.store.models import Forecast, Person, Question, Resolution

    rng = np.random.default_rng(0)
    week = last_full_week(clock.now(), dt.UTC)
    start, end = week.bounds(dt.UTC)
    t0 = start - dt.timedelta(days=180)
    engine = db.get_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    handles = [f"reader{i:03d}" for i in range(readers)]
    people = [
        {"handle": h, "name": f"Reader {i}", "email": f"{h}@example.org",
         "roles": ["forecaster", "reviewer"] if i % 10 == 0 else ["forecaster"],
         "digest": True, "created_at": t0}
        for i, h in enumerate(handles)
    ]  # fmt: skip
    kinds = rng.choice(["binary", "choice", "numeric"], size=questions, p=[0.8, 0.1, 0.1])
    state = rng.choice(
        ["open", "soon", "closed", "resolved", "week"], size=questions,
        p=[0.5, 0.05, 0.1, 0.33, 0.02],
    )  # fmt: skip
    qrows, resolutions, windows = [], [], []
    for i in range(questions):
        kind, s = str(kinds[i]), str(state[i])
        opens = t0.date()
        closes = {
            "open": end.date() + dt.timedelta(days=int(rng.integers(30, 365))),
            "soon": end.date() + dt.timedelta(days=int(rng.integers(0, 14))),
            "closed": start.date() - dt.timedelta(days=int(rng.integers(1, 60))),
            "resolved": start.date() - dt.timedelta(days=int(rng.integers(10, 150))),
            "week": start.date() - dt.timedelta(days=int(rng.integers(1, 30))),
        }[s]
        qid = f"question-{i:04d}"
        qrows.append(
            {"id": qid, "title": f"Will Russia and China sign defence deal number {i}?",
             "type": kind, "options": ["A", "B", "C", "D"] if kind == "choice" else None,
             "unit": "bn USD" if kind == "numeric" else None,
             "range_min": 0.0 if kind == "numeric" else None,
             "range_max": 500.0 if kind == "numeric" else None,
             "criteria": "Resolves YES if both governments announce the deal.",
             "fine_print": None, "sources": [], "opens": opens, "closes": closes,
             "resolve_by": closes + dt.timedelta(days=90), "tags": [], "resolution_terms": [],
             "reviewers": [], "created_at": t0, "updated_at": t0}
        )  # fmt: skip
        end_of = min(clock.end_of_day(closes), end)
        if s in ("resolved", "week"):
            recorded = (
                start + dt.timedelta(hours=float(rng.uniform(0, 160)))
                if s == "week"
                else clock.end_of_day(closes) + dt.timedelta(days=2)
            )
            day = recorded.date() if s == "week" else closes + dt.timedelta(days=2)
            outcome = {"binary": str(rng.choice(["yes", "no"])), "choice": "B",
                       "numeric": f"{rng.uniform(0, 500):.1f}"}[kind]  # fmt: skip
            resolutions.append(
                {"question_id": qid, "outcome": outcome, "resolved_on": day, "by": handles[0],
                 "evidence": [], "reviewers": [], "recorded_at": recorded}
            )  # fmt: skip
            end_of = min(end_of, clock.start_of_day(day))
        windows.append((t0, end_of))
    frows = [
        {"question_id": q["id"], "person": "paper", "value": _value(str(kinds[i]), rng),
         "made_at": t0, "recorded_at": t0}
        for i, q in enumerate(qrows)
    ]  # fmt: skip
    qi = rng.integers(0, questions, forecasts)
    who = rng.integers(0, readers, forecasts)
    for k in range(forecasts):
        lo, hi = windows[qi[k]]
        span = (hi - lo).total_seconds()
        # A tenth in the week (when the question was still open then), the rest before.
        in_week = rng.random() < 0.1 and hi > start
        offset = (
            (start - lo).total_seconds() + rng.uniform(0, (hi - start).total_seconds())
            if in_week
            else rng.uniform(0, min(span, (start - lo).total_seconds()))
        )
        made = lo + dt.timedelta(seconds=float(offset))
        frows.append(
            {"question_id": qrows[qi[k]]["id"], "person": handles[who[k]],
             "value": _value(str(kinds[qi[k]]), rng), "made_at": made, "recorded_at": made}
        )  # fmt: skip
    arows, mrows = [], []
    matched = rng.integers(0, questions, articles)
    for a in range(articles):
        when = start + dt.timedelta(seconds=float(rng.uniform(0, 7 * 86400 - 1)))
        arows.append(
            {"id": a + 1, "url": f"https://news.example.org/{a}",
             "title": f"Moscow and Beijing discuss deal {a} <update>", "summary": None,
             "source": f"wire{a % 40}", "published": when, "fetched_at": when}
        )  # fmt: skip
        mrows.append(
            {"article_id": a + 1, "question_id": qrows[matched[a]]["id"],
             "score": round(float(rng.uniform(0.2, 4.0)), 4), "terms": ["deal"],
             "resolution_terms": [], "possible_resolution": bool(rng.random() < 0.02),
             "gdelt_only": False, "matched_at": when}
        )  # fmt: skip
    with db.session_scope(engine, write=True) as s:
        ensure_paper(s)
        s.execute(insert(Person), people)
        s.execute(insert(Question), qrows)
        for i in range(0, len(frows), 50_000):
            s.execute(insert(Forecast), frows[i : i + 50_000])
        s.execute(insert(Resolution), resolutions)
        s.execute(insert(Article), arows)
        s.execute(insert(ArticleMatch), mrows)
    engine.dispose()
    db.dispose_engines()
    return str(week)


def _value(kind: str, rng: np.random.Generator) -> object:
    if kind == "binary":
        return round(float(rng.uniform(0.02, 0.98)), 2)
    if kind == "choice":
        p = rng.dirichlet([1, 1, 1, 1]).round(3)
        p[-1] = round(1 - p[:-1].sum(), 3)
        return dict(zip("ABCD", map(float, p), strict=True))
    q = np.sort(rng.uniform(0, 500, 5)).round(1)
    return dict(zip(("p10", "p25", "p50", "p75", "p90"), map(float, q), strict=True))


def run_once(template: Path, folder: Path, week: str) -> dict[str, object]:
    from forecasts.config import DatabaseSettings, Settings
    from forecasts.digest import send_digests
    from forecasts.mail.settings import MailSettings
    from forecasts.runtime import Runtime
    from forecasts.store import db

    path = folder / "digest.db"
    shutil.copy(template, path)
    maildir = folder / "outbox"
    settings = Settings(
        database=DatabaseSettings(url=f"sqlite:///{path}"),
        mail=MailSettings(maildir=str(maildir)),
    )
    runtime = Runtime.from_settings(settings)
    started = time.perf_counter()
    run = send_digests(runtime, week=week, send=True)
    total = time.perf_counter() - started
    runtime.close()
    db.dispose_engines()
    assert run.delivery is not None and not run.delivery.deferred and not run.delivery.failed
    files = sorted((maildir / "new").iterdir())
    sizes = [f.stat().st_size for f in files]
    result = {
        "total": total,
        "built": run.timings["gather"] + run.timings["build"],
        **run.timings,
        "messages": len(files),
        "nothing": len(run.nothing),
        "message_kb_median": statistics.median(sizes) / 1024,
        "summary": run.summary_line(),
    }
    shutil.rmtree(maildir)
    path.unlink()
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--readers", type=int, default=500)
    ap.add_argument("--questions", type=int, default=2000)
    ap.add_argument("--articles", type=int, default=20_000)
    ap.add_argument("--forecasts", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        template = folder / "template.db"
        t = time.perf_counter()
        week = build(template, args.readers, args.questions, args.articles, args.forecasts)
        setup = time.perf_counter() - t
        runs = [run_once(template, folder, week) for _ in range(args.repeats)]

    def median(key: str) -> float:
        return round(statistics.median(float(r[key]) for r in runs), 3)  # type: ignore[arg-type]

    result = {
        "readers": args.readers,
        "questions": args.questions,
        "articles": args.articles,
        "forecasts": args.forecasts,
        "week": week,
        "setup_seconds": round(setup, 1),
        "built_seconds_median": median("built"),
        "total_seconds_median": median("total"),
        "phases_median": {k: median(k) for k in ("gather", "build", "queue", "deliver")},
        "built_seconds_all": [round(float(r["built"]), 3) for r in runs],  # type: ignore[arg-type]
        "messages": runs[-1]["messages"],
        "message_kb_median": round(float(runs[-1]["message_kb_median"]), 1),  # type: ignore[arg-type]
        "summary": runs[-1]["summary"],
        "budget_seconds": BUDGET,
        "cpus": os.cpu_count(),
    }
    p = result["phases_median"]
    print(
        f"digest {week}: {result['messages']} messages ({args.readers} readers, "
        f"{args.questions} questions, {args.articles} articles, {args.forecasts} forecasts): "
        f"built in {result['built_seconds_median']:.2f} s median over {args.repeats} runs "
        f"({', '.join(f'{t:.2f}' for t in result['built_seconds_all'])}); "  # type: ignore[attr-defined]
        f"read {p['gather']:.2f} s + build {p['build']:.2f} s, then queue {p['queue']:.2f} s "  # type: ignore[index]
        f"+ deliver {p['deliver']:.2f} s; median message {result['message_kb_median']} KB; "  # type: ignore[index]
        f"budget {BUDGET:g} s"
    )
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "digest.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

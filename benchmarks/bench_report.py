"""Benchmark: the full JSON report for 2,000 questions x 200 forecasters x 1,000,000 forecasts.

Run:  .venv/bin/python benchmarks/bench_report.py [--forecasts N] [--repeat K] [--no-db]

Measures
  * report: scoring, the typed report (the paper's record split too) and its JSON, from
            in-memory arrays (median of --repeat runs);
  * bare:   a bare numpy computation of the same Brier values (final-forecast Brier and the
            time-averaged Brier per forecaster) over the same arrays, already in memory;
  * ratio:  report / bare (the cost of everything else: crowd, calibration, ...);
  * load:   reading the forecasts from a real SQLite database through the report loader;
  * peak RSS (ru_maxrss) of this process.
Writes JSON to benchmarks/results/ (gitignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from forecasts import scoring  # noqa: E402
from forecasts.domain.values import QUANTILES  # noqa: E402
from forecasts.report.build import ReportOptions, paper_record, shape_report  # noqa: E402
from forecasts.report.load import History, load_history  # noqa: E402
from forecasts.scoring import BINARY, CHOICE, NUMERIC, ForecastArrays, QuestionArrays  # noqa: E402

DAY = 86400.0
EPOCH0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp()
CUTOFF = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)  # the report's "now": after every forecast


def rss_mb() -> float:
    """Peak resident memory of this process, in MB. Linux's VmHWM belongs to the address
    space, so a child started by this benchmark reports its own peak; ru_maxrss (the
    fallback elsewhere) carries the parent's over across fork and exec."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --------------------------------------------------------------------------------------
# Synthetic data


def synth(
    n_questions: int = 2000,
    n_people: int = 200,
    n_forecasts: int = 1_000_000,
    participants: float = 30.0,
    seed: int = 0,
) -> dict[str, Any]:
    """A realistic-ish history: 80% binary questions, 10% choice (3-5 options), 10% numeric.
    Each question has on average ``participants`` forecasters (Poisson, at least 5; heavier
    forecasters join more questions), who forecast early (a fifth of the way into the window
    on average) and update at random afterwards; the forecasts per (question, forecaster)
    are geometric, scaled to the total. 70% of probabilities are round to the percent, so
    equal values are common. The paper forecasts every question at opening.
    """
    rng = np.random.default_rng(seed)
    kinds = rng.choice([BINARY, CHOICE, NUMERIC], size=n_questions, p=[0.8, 0.1, 0.1])
    n_opt = np.where(kinds == CHOICE, rng.integers(3, 6, n_questions), 2)
    n_opt = np.where(kinds == NUMERIC, 0, n_opt)
    opens_day = rng.integers(0, 540, n_questions)
    length = rng.integers(30, 366, n_questions)
    closes_day = opens_day + length
    # resolved on or before closes + a month; a few early resolutions
    resolved_day = closes_day + rng.integers(-20, 30, n_questions)
    resolved_day = np.maximum(resolved_day, opens_day + 1)
    opens = EPOCH0 + opens_day * DAY
    end = np.minimum(EPOCH0 + (closes_day + 1) * DAY, EPOCH0 + resolved_day * DAY)
    truth = rng.beta(0.7, 0.7, n_questions)
    outcome = np.where(kinds == BINARY, (rng.random(n_questions) < truth).astype(float), 0.0)
    choice_outcome = np.floor(rng.random(n_questions) * np.maximum(n_opt, 1))
    outcome = np.where(kinds == CHOICE, choice_outcome, outcome)
    range_min = np.zeros(n_questions)
    range_max = np.full(n_questions, 100.0)
    num_outcome = np.round(rng.uniform(5, 95, n_questions), 1)
    outcome = np.where(kinds == NUMERIC, num_outcome, outcome)

    # participants per question, weighted by activity
    paper = n_people  # person index of the paper
    activity = rng.lognormal(0.0, 0.8, n_people)
    activity /= activity.sum()
    part = np.clip(rng.poisson(participants, n_questions), 5, n_people)
    team_total = n_forecasts - n_questions  # the paper makes one per question
    pairs_q = np.repeat(np.arange(n_questions), part)
    pairs_p = np.concatenate(
        [rng.choice(n_people, size=k, replace=False, p=activity) for k in part]
    )
    # forecasts per (question, participant): 1 + geometric, scaled to the total
    per = rng.geometric(1.0 / 8.0, pairs_q.size)
    per = np.maximum(1, np.round(per * team_total / per.sum()).astype(np.int64))
    diff = team_total - int(per.sum())
    adj = rng.choice(pairs_q.size, abs(diff), replace=True)
    np.add.at(per, adj, 1 if diff > 0 else 0)
    if diff < 0:
        over = np.nonzero(per > 1)[0][:-diff]
        per[over] -= 1
    fq = np.repeat(pairs_q, per)
    fp = np.repeat(pairs_p, per)
    win = end[fq] - opens[fq]
    first = rng.exponential(0.2, pairs_q.size)
    first = np.repeat(np.minimum(first, 0.95), per)
    is_first = np.ones(fq.size, dtype=bool)
    is_first[1:] = (fq[1:] != fq[:-1]) | (fp[1:] != fp[:-1])
    frac = np.where(is_first, first, first + rng.random(fq.size) * (1 - first))
    t = opens[fq] + frac * win
    # the paper, at opening
    fq = np.concatenate([fq, np.arange(n_questions)])
    fp = np.concatenate([fp, np.full(n_questions, paper)])
    t = np.concatenate([t, opens])
    n = fq.size
    skill = rng.uniform(0.5, 3.0, n_people + 1)[fp]
    kf = kinds[fq]
    logit_truth = np.log(truth[fq] / (1 - truth[fq]))
    p = 1 / (1 + np.exp(-(logit_truth + rng.normal(0, 1.0, n) / skill * 2)))
    p = np.where(rng.random(n) < 0.7, np.round(p, 2), p)
    p = np.clip(p, 0.01, 0.99)
    p_yes = np.where(kf == BINARY, p, np.nan)
    ch = np.nonzero(kf == CHOICE)[0]
    choice_row = np.full(n, -1, dtype=np.int32)
    choice_row[ch] = np.arange(ch.size)
    k_max = int(n_opt[kinds == CHOICE].max(initial=3))
    raw = rng.gamma(1.0, 1.0, (ch.size, k_max))
    raw[np.arange(k_max)[None, :] >= n_opt[fq[ch]][:, None]] = 0.0
    raw = np.maximum(raw, 0.02) * (np.arange(k_max)[None, :] < n_opt[fq[ch]][:, None])
    choice = raw / raw.sum(axis=1, keepdims=True)
    choice = np.where(choice > 0, np.maximum(choice, 0.001), np.nan)
    choice = choice / np.nansum(choice, axis=1, keepdims=True)
    nu = np.nonzero(kf == NUMERIC)[0]
    quantile_row = np.full(n, -1, dtype=np.int32)
    quantile_row[nu] = np.arange(nu.size)
    centre = num_outcome[fq[nu]] + rng.normal(0, 10, nu.size)
    spread = rng.uniform(2, 20, nu.size)
    z = np.array([-1.2816, -0.6745, 0.0, 0.6745, 1.2816])
    quants = np.clip(centre[:, None] + spread[:, None] * z[None, :], 0, 100)
    some = rng.random(nu.size) < 0.3
    quants[some][:, [1, 3]] = np.nan
    quants[np.ix_(np.nonzero(some)[0], [1, 3])] = np.nan
    questions = QuestionArrays(
        kind=kinds.astype(np.int8),
        n_options=n_opt.astype(np.int32),
        outcome=outcome.astype(float),
        opens=opens,
        end=end,
        range_width=np.where(kinds == NUMERIC, range_max - range_min, np.nan),
    )
    forecasts = ForecastArrays(
        question=fq.astype(np.int32),
        person=fp.astype(np.int32),
        made_at=t,
        p_yes=p_yes,
        choice_row=choice_row,
        choice=choice,
        quantile_row=quantile_row,
        quantiles=quants,
    )
    return {
        "questions": questions,
        "forecasts": forecasts,
        "n_persons": n_people + 1,
        "paper": paper,
        "closes_day": closes_day,
        "opens_day": opens_day,
        "resolved_day": resolved_day,
        "range_min": range_min,
        "range_max": range_max,
    }


# --------------------------------------------------------------------------------------
# The bare numpy baseline: the same Brier values, nothing else.


def bare_brier(questions: QuestionArrays, forecasts: ForecastArrays, n_persons: int) -> Any:
    """The same Brier values, bare: each forecaster's mean final-forecast Brier and mean
    time-averaged Brier over binary and choice questions. One sort, a few bincounts."""
    fq = forecasts.question.astype(np.int64)
    end = questions.end[fq]
    kind = questions.kind[fq]
    idx = np.flatnonzero((forecasts.made_at < end) & (kind != NUMERIC))
    q = fq[idx]
    p = forecasts.person[idx].astype(np.int64)
    t = forecasts.made_at[idx]
    t_rank = np.searchsorted(np.sort(t), t)
    key = (((q * n_persons + p) << 21 | t_rank) << 21) | np.arange(idx.size)
    o = np.sort(key) & ((1 << 21) - 1)
    q, p, t, idx = q[o], p[o], t[o], idx[o]
    out = questions.outcome[q]
    b = np.empty(idx.size)
    bi = questions.kind[q] == BINARY
    b[bi] = 2 * (forecasts.p_yes[idx[bi]] - out[bi]) ** 2
    ci = ~bi
    probs = forecasts.choice[forecasts.choice_row[idx[ci]]]
    ind = np.arange(probs.shape[1])[None, :] == out[ci][:, None]
    b[ci] = np.nansum((probs - ind) ** 2, axis=1)
    same = np.zeros(idx.size, dtype=bool)
    same[:-1] = (q[1:] == q[:-1]) & (p[1:] == p[:-1])
    last = ~same
    nxt = np.where(same, np.roll(t, -1), questions.end[q])
    dur = np.clip(nxt - np.maximum(t, questions.opens[q]), 0, None)
    grp = np.cumsum(np.concatenate(([True], ~same[:-1]))) - 1
    num = np.bincount(grp, weights=b * dur)
    den = np.bincount(grp, weights=dur)
    ta = np.where(den > 0, num / np.where(den > 0, den, 1), 0)
    gp = p[last]
    n_q = np.maximum(np.bincount(gp, minlength=n_persons), 1)
    brier = np.bincount(gp, weights=b[last], minlength=n_persons) / n_q
    ta_mean = np.bincount(gp, weights=ta, minlength=n_persons) / n_q
    return brier, ta_mean


# --------------------------------------------------------------------------------------
# SQLite load


def fill_sqlite(path: Path, data: dict[str, Any]) -> None:
    """Write the synthetic history into a fresh SQLite database (benchmark only)."""
    import sqlalchemy as sa
    from sqlmodel import SQLModel

    from forecasts.store.models import Person, Question, Resolution

    engine = sa.create_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    qa: QuestionArrays = data["questions"]
    fa: ForecastArrays = data["forecasts"]
    n_people = data["n_persons"] - 1
    handles = [f"analyst{i:03d}" for i in range(n_people)] + ["paper"]
    base = dt.date(2024, 1, 1)
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    kinds = {BINARY: "binary", CHOICE: "choice", NUMERIC: "numeric"}
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Person.__table__),  # type: ignore[attr-defined]
            [
                {"handle": h, "roles": ["forecaster"], "digest": True, "created_at": now}
                for h in handles
            ],
        )
        qrows = []
        rrows = []
        for i in range(len(qa)):
            k = kinds[int(qa.kind[i])]
            opts = [f"opt{j}" for j in range(int(qa.n_options[i]))] if k == "choice" else None
            qrows.append(
                {
                    "id": f"q{i:05d}",
                    "title": f"Question {i}",
                    "type": k,
                    "options": opts,
                    "range_min": float(data["range_min"][i]) if k == "numeric" else None,
                    "range_max": float(data["range_max"][i]) if k == "numeric" else None,
                    "criteria": "synthetic",
                    "sources": [],
                    "opens": base + dt.timedelta(days=int(data["opens_day"][i])),
                    "closes": base + dt.timedelta(days=int(data["closes_day"][i])),
                    "resolve_by": base + dt.timedelta(days=int(data["closes_day"][i]) + 60),
                    "tags": ["synthetic"],
                    "resolution_terms": [],
                    "reviewers": [],
                    "created_at": now,
                    "updated_at": now,
                }
            )
            o = qa.outcome[i]
            outcome = (
                ("yes" if o == 1.0 else "no")
                if k == "binary"
                else f"opt{int(o)}"
                if k == "choice"
                else repr(float(o))
            )
            rrows.append(
                {
                    "question_id": f"q{i:05d}",
                    "outcome": outcome,
                    "resolved_on": base + dt.timedelta(days=int(data["resolved_day"][i])),
                    "by": handles[0],
                    "evidence": [],
                    "recorded_at": now,
                }
            )
        conn.execute(sa.insert(Question.__table__), qrows)  # type: ignore[attr-defined]
        conn.execute(sa.insert(Resolution.__table__), rrows)  # type: ignore[attr-defined]
    # Forecasts: executemany through the raw DBAPI for speed; the values are JSON text and
    # the times are SQLAlchemy's SQLite format, exactly as the ORM would store them.
    kind_f = qa.kind[fa.question]
    times = (
        np.datetime64("1970-01-01T00:00:00", "us")
        + np.round(fa.made_at * 1e6).astype("timedelta64[us]")
    ).astype(str)
    times = np.char.replace(times, "T", " ")
    values: list[str] = []
    for i in range(len(fa)):
        k = int(kind_f[i])
        if k == BINARY:
            values.append(repr(float(fa.p_yes[i])))
        elif k == CHOICE:
            row = fa.choice[fa.choice_row[i]]
            values.append(
                json.dumps({f"opt{j}": float(x) for j, x in enumerate(row) if not np.isnan(x)})
            )
        else:
            row = fa.quantiles[fa.quantile_row[i]]
            values.append(
                json.dumps(
                    {n: float(x) for n, x in zip(QUANTILES, row, strict=True) if not np.isnan(x)}
                )
            )
    rec = "2026-01-01 00:00:00.000000"
    rows = zip(
        (f"q{int(q):05d}" for q in fa.question),
        (handles[int(p)] for p in fa.person),
        values,
        times.tolist(),
        [rec] * len(fa),
        strict=True,
    )
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.executemany(
            "INSERT INTO forecast (question_id, person, value, made_at, recorded_at) "
            "VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        raw.commit()
    finally:
        raw.close()
    engine.dispose()


# --------------------------------------------------------------------------------------


def timed(fn: Any, repeat: int) -> tuple[float, list[float], Any]:
    times = []
    result = None
    for _ in range(repeat):
        result = None  # don't hold the previous result while the next run allocates
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, result


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--questions", type=int, default=2000)
    ap.add_argument("--people", type=int, default=200)
    ap.add_argument("--forecasts", type=int, default=1_000_000)
    ap.add_argument(
        "--participants",
        type=float,
        default=30.0,
        help="mean forecasters per question (the crowd's cost grows with it; default 30)",
    )
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="crowd worker threads")
    ap.add_argument("--no-db", action="store_true", help="skip the SQLite load measurement")
    ap.add_argument("--load-only", metavar="DB", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.load_only:
        load_only(Path(args.load_only), args.repeat)
        return
    chunking = scoring.Chunking(
        threads=scoring.CROWD_THREADS if args.threads is None else args.threads
    )

    data = synth(args.questions, args.people, args.forecasts, args.participants)
    qa, fa = data["questions"], data["forecasts"]
    handles = [f"analyst{i:03d}" for i in range(args.people)] + ["paper"]
    rss_after_data = rss_mb()

    # What the loader would hand over; a tenth of the questions are retrospective, so the
    # paper's record is split as it is on a real database.
    history = History(
        questions=qa,
        forecasts=fa,
        handles=handles,
        paper=data["paper"],
        question_ids=[f"q{i:05d}" for i in range(len(qa))],
        question_tags=[["retrospective"] if i % 10 == 0 else [] for i in range(len(qa))],
        cutoff=CUTOFF,
        as_of_day=None,
    )

    def full_report(crowd_over_time: bool = True) -> Any:
        # report.build.report_from_history, with the scorer's knobs
        s = scoring.score(
            qa,
            fa,
            data["n_persons"],
            paper=data["paper"],
            bins=10,
            crowd_over_time=crowd_over_time,
            chunking=chunking,
        )
        rep = shape_report(
            s,
            handles=handles,
            paper=data["paper"],
            options=ReportOptions(),
            cutoff=CUTOFF,
            paper_record=paper_record(history, 10),
        )
        json.dumps(rep.to_dict(), allow_nan=False)
        return rep

    def bare() -> Any:
        return bare_brier(qa, fa, data["n_persons"])

    # Interleave the runs so background load hits both alike; report medians.
    bare_all: list[float] = []
    rep_all: list[float] = []
    cpu_all: list[float] = []
    for _ in range(args.repeat):
        bare_all.append(timed(bare, 1)[0])
        c0 = time.process_time()
        rep_all.append(timed(full_report, 1)[0])
        cpu_all.append(time.process_time() - c0)
    bare_s = statistics.median(bare_all)
    rep_s = statistics.median(rep_all)
    s = scoring.score(qa, fa, data["n_persons"], paper=data["paper"], bins=10, chunking=chunking)
    peak_compute = rss_mb()

    # Diagnostic: the same report without the crowd over time (its leave-one-out crowd
    # behind relative Brier is the costly part).
    no_crowd_s = statistics.median(
        timed(lambda: full_report(crowd_over_time=False), 1)[0] for _ in range(args.repeat)
    )

    load_s = None
    load_all: list[float] = []
    load_rss = None
    fill_s = None
    if not args.no_db:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.db"
            t0 = time.perf_counter()
            fill_sqlite(path, data)
            fill_s = time.perf_counter() - t0
            # Load in a fresh process, so its time and memory are its own.
            out = subprocess.run(
                [sys.executable, __file__, "--load-only", str(path), "--repeat", str(args.repeat)],
                capture_output=True,
                text=True,
                check=True,
            )
            measured = json.loads(out.stdout.strip().splitlines()[-1])
            assert measured["forecasts"] == len(fa), measured
            load_s, load_all, load_rss = (
                measured["median_s"],
                measured["runs_s"],
                measured["rss_mb"],
            )

    results = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "crowd_threads": chunking.threads,
        },
        "size": {
            "questions": args.questions,
            "forecasters": args.people,
            "forecasts": len(fa),
            "participants_per_question": args.participants,
            "crowd_pairs": s.extra.get("crowd_pairs"),
            "sparse_pairs": s.extra.get("sparse_pairs"),
            "walked_pairs": s.extra.get("walked_pairs"),
        },
        "report_s": rep_s,
        "report_runs_s": rep_all,
        "report_cpu_runs_s": cpu_all,
        "report_without_crowd_s": no_crowd_s,
        "bare_numpy_s": bare_s,
        "bare_runs_s": bare_all,
        "ratio": rep_s / bare_s,
        "ratio_without_crowd": no_crowd_s / bare_s,
        "peak_rss_mb_after_data": rss_after_data,
        "peak_rss_mb_compute": peak_compute,
        "sqlite_fill_s": fill_s,
        "sqlite_load_s": load_s,
        "sqlite_load_runs_s": load_all,
        "sqlite_load_peak_rss_mb": load_rss,
    }
    out_dir = ROOT / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = out_dir / f"bench_report_{stamp}.json"
    out.write_text(json.dumps(results, indent=2))

    def sec(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f} s"

    print(
        f"forecasts={len(fa):,} questions={args.questions:,} forecasters={args.people} "
        f"participants/question~{args.participants:g} load avg={os.getloadavg()[0]:.1f}"
    )
    rows = [
        ("full JSON report (median wall)", sec(rep_s), "<= 3 s"),
        ("  of which CPU (median)", sec(statistics.median(cpu_all)), ""),
        ("  without the leave-one-out crowd", sec(no_crowd_s), ""),
        ("bare numpy Brier (median)", sec(bare_s), ""),
        ("ratio report / bare", f"{rep_s / bare_s:.1f} x", "aim <= 2x"),
        ("ratio without the crowd", f"{no_crowd_s / bare_s:.1f} x", ""),
        ("peak RSS after compute", f"{peak_compute:.0f} MB", "<= 600 MB"),
        ("SQLite load of all forecasts (median)", sec(load_s), ""),
        ("  its peak RSS (own process)", "-" if load_rss is None else f"{load_rss:.0f} MB", ""),
        ("(moment, forecaster) crowd pairs", f"{s.extra.get('crowd_pairs', 0):,}", ""),
    ]
    print(f"{'measure':<40}{'value':>14}  target")
    for name, value, target in rows:
        print(f"{name:<40}{value:>14}  {target}")
    print(f"results: {out.relative_to(ROOT)}")


def load_only(path: Path, repeat: int) -> None:
    """Time ``report.load.load_history`` on an existing database; print one JSON line."""
    import sqlalchemy as sa
    from sqlmodel import Session

    engine = sa.create_engine(f"sqlite:///{path}")

    def load() -> Any:
        with Session(engine) as session:
            return load_history(session, as_of=dt.date(2030, 1, 1))

    median, runs, hist = timed(load, max(1, min(repeat, 3)))
    print(
        json.dumps(
            {
                "median_s": median,
                "runs_s": runs,
                "rss_mb": rss_mb(),
                "forecasts": len(hist.forecasts),
            }
        )
    )


if __name__ == "__main__":
    main()

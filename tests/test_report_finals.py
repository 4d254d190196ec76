"""``report.build.final_forecasts``: the final forecasts behind the report's numbers,
question by question (the digest's "Resolved this week"). They are the report's own: a
forecaster's Briers average to their Brier in the report, the crowd's and the paper's too."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from forecasts.report.build import ReportOptions, final_forecasts, report_from_history
from forecasts.report.load import load_history
from forecasts.store.models import Forecast, Person, Question, Resolution

UTC = dt.UTC
AS_OF = dt.date(2025, 3, 31)


def _world(session: Any, seed: int = 7) -> list[str]:
    """40 questions (binary, choice, numeric), five forecasters and the paper, several
    forecasts each, some made after the question's end (which never count)."""
    rng = np.random.default_rng(seed)
    people = ["ann", "ben", "cy", "dee", "eve"]
    for h in people:
        session.add(Person(handle=h, roles=["forecaster"]))
    session.flush()
    ids = []
    for i in range(40):
        qid = f"q{i:02d}"
        kind = ("binary", "binary", "choice", "numeric")[i % 4]
        opens = dt.date(2025, 1, 1)
        closes = opens + dt.timedelta(days=int(rng.integers(20, 60)))
        session.add(
            Question(
                id=qid, title=qid, type=kind, criteria="as stated", opens=opens, closes=closes,
                resolve_by=closes + dt.timedelta(days=30),
                options=["A", "B", "C"] if kind == "choice" else None,
                range_min=0.0 if kind == "numeric" else None,
                range_max=100.0 if kind == "numeric" else None,
            )
        )  # fmt: skip
        session.flush()
        for who in [*people, "paper"]:
            if who != "paper" and rng.random() < 0.25:
                continue  # not everyone forecasts everything
            for _ in range(int(rng.integers(1, 4))):
                when = dt.datetime(2025, 1, 1, tzinfo=UTC) + dt.timedelta(
                    hours=float(rng.uniform(0, 24 * 70))
                )
                session.add(
                    Forecast(question_id=qid, person=who, value=_value(kind, rng), made_at=when)
                )
        outcome = {"binary": rng.choice(["yes", "no"]), "choice": rng.choice(["A", "B", "C"]),
                   "numeric": f"{rng.uniform(0, 100):.1f}"}[kind]  # fmt: skip
        day = closes + dt.timedelta(days=int(rng.integers(-10, 10)))
        session.add(Resolution(question_id=qid, outcome=str(outcome), resolved_on=day, by="paper"))
        ids.append(qid)
    session.commit()
    return ids


def _value(kind: str, rng: np.random.Generator) -> Any:
    if kind == "binary":
        return round(float(rng.uniform(0.05, 0.95)), 2)
    if kind == "choice":
        p = rng.dirichlet([1, 1, 1])
        return {"A": float(p[0]), "B": float(p[1]), "C": 1.0 - float(p[0]) - float(p[1])}
    q = np.sort(rng.uniform(0, 100, 5))
    return dict(zip(("p10", "p25", "p50", "p75", "p90"), map(float, q), strict=True))


def test_finals_average_to_the_report_s_briers(session):
    ids = _world(session)
    hist = load_history(session, as_of=AS_OF)
    report = report_from_history(hist, ReportOptions(as_of=AS_OF))
    finals = final_forecasts(hist, ids)
    assert set(finals) == set(hist.question_ids)

    def mean(values: list[float | None]) -> float:
        return float(np.mean([v for v in values if v is not None]))

    for entry in report.forecasters:
        mine = [f.forecasters[entry.forecaster] for f in finals.values()
                if entry.forecaster in f.forecasters]  # fmt: skip
        assert len(mine) == entry.questions
        assert sum(f.brier is not None for f in mine) == entry.counts.brier
        assert mean([f.brier for f in mine]) == pytest.approx(entry.brier, abs=1e-6)
    crowd = [f.crowd for f in finals.values() if f.crowd is not None]
    assert len(crowd) == report.crowd.questions
    assert mean([f.brier for f in crowd]) == pytest.approx(report.crowd.brier, abs=1e-6)
    assert report.paper is not None
    paper = [f.forecasters["paper"] for f in finals.values() if "paper" in f.forecasters]
    assert len(paper) == report.paper.questions
    assert mean([f.brier for f in paper]) == pytest.approx(report.paper.brier, abs=1e-6)


def test_a_question_s_finals_by_hand(session):
    session.add_all([Person(handle=h, roles=["forecaster"]) for h in ("ann", "ben")])
    session.add(
        Question(id="q", title="q", type="binary", criteria="c", opens=dt.date(2025, 1, 1),
                 closes=dt.date(2025, 1, 10), resolve_by=dt.date(2025, 2, 1))
    )  # fmt: skip
    session.flush()
    for who, day, p in (("ann", 1, 0.6), ("ann", 3, 0.8), ("ben", 2, 0.4), ("paper", 1, 0.9),
                        ("ben", 7, 0.99)):  # fmt: skip
        when = dt.datetime(2025, 1, day, 12, tzinfo=UTC)
        session.add(Forecast(question_id="q", person=who, value=p, made_at=when))
    # Resolved yes on the 6th: ben's forecast of the 7th came after and does not count.
    session.add(
        Resolution(question_id="q", outcome="yes", resolved_on=dt.date(2025, 1, 6), by="paper")
    )
    session.commit()
    hist = load_history(session, as_of=AS_OF)
    f = final_forecasts(hist, ["q", "not-resolved"])["q"]
    assert (f.forecasters["ann"].p_yes, f.forecasters["ann"].brier) == (0.8, pytest.approx(0.08))
    assert (f.forecasters["ben"].p_yes, f.forecasters["ben"].brier) == (0.4, pytest.approx(0.72))
    assert (f.forecasters["paper"].p_yes, f.forecasters["paper"].brier) == (
        0.9,
        pytest.approx(0.02),
    )
    # The crowd of two is their plain median, the paper left out.
    assert f.crowd is not None and f.crowd.p_yes == pytest.approx(0.6)
    assert f.crowd.brier == pytest.approx(0.32)
    assert final_forecasts(hist, ["not-resolved"]) == {}

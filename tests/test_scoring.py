"""Scoring: hand-worked examples, scikit-learn cross-checks, and a brute-force reference."""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecasts import scoring
from forecasts.crowd import crowd as plain_crowd
from forecasts.domain.values import QUANTILES
from forecasts.scoring import (
    BINARY,
    CHOICE,
    NUMERIC,
    Chunking,
    ForecastArrays,
    QuestionArrays,
    Scores,
    baseline_score,
    brier_binary,
    brier_choice,
    log_score,
    murphy,
    pinball_loss,
    score,
    time_average,
    wilson_interval,
)

DAY = 86400.0


# --------------------------------------------------------------------------------------
# Building inputs from plain records


@dataclass
class Q:
    kind: str
    outcome: Any  # "yes"/"no", option index, or a number
    opens: float = 0.0
    end: float = 10 * DAY
    n_options: int = 2
    range_width: float = math.nan


@dataclass
class F:
    q: int
    person: int
    t: float
    value: Any  # float, list of option probabilities, or {pXX: x}


def build(questions: list[Q], forecasts: list[F]) -> tuple[QuestionArrays, ForecastArrays]:
    kinds = {"binary": BINARY, "choice": CHOICE, "numeric": NUMERIC}
    outcome = []
    for q in questions:
        if q.kind == "binary":
            outcome.append(1.0 if q.outcome == "yes" else 0.0)
        else:
            outcome.append(float(q.outcome))
    qa = QuestionArrays(
        kind=np.array([kinds[q.kind] for q in questions], dtype=np.int8),
        n_options=np.array(
            [q.n_options if q.kind != "numeric" else 0 for q in questions], dtype=np.int32
        ),
        outcome=np.array(outcome, dtype=float),
        opens=np.array([q.opens for q in questions], dtype=float),
        end=np.array([q.end for q in questions], dtype=float),
        range_width=np.array([q.range_width for q in questions], dtype=float),
    )
    k_max = max([q.n_options for q in questions if q.kind == "choice"], default=1)
    p_yes, crow, choice, nrow, quants = [], [], [], [], []
    for f in forecasts:
        kind = questions[f.q].kind
        p_yes.append(float(f.value) if kind == "binary" else math.nan)
        if kind == "choice":
            crow.append(len(choice))
            choice.append(list(f.value) + [math.nan] * (k_max - len(f.value)))
        else:
            crow.append(-1)
        if kind == "numeric":
            nrow.append(len(quants))
            quants.append([f.value.get(k, math.nan) for k in QUANTILES])
        else:
            nrow.append(-1)
    fa = ForecastArrays(
        question=np.array([f.q for f in forecasts], dtype=np.int32),
        person=np.array([f.person for f in forecasts], dtype=np.int32),
        made_at=np.array([f.t for f in forecasts], dtype=float),
        p_yes=np.array(p_yes, dtype=float),
        choice_row=np.array(crow, dtype=np.int32),
        choice=np.array(choice, dtype=float).reshape(-1, k_max),
        quantile_row=np.array(nrow, dtype=np.int32),
        quantiles=np.array(quants, dtype=float).reshape(-1, 5),
    )
    return qa, fa


def run(
    questions: list[Q],
    forecasts: list[F],
    n_persons: int,
    paper: int = -1,
    bins: int = 10,
    chunking: Chunking | None = None,
) -> Scores:
    qa, fa = build(questions, forecasts)
    if chunking is None:
        return score(qa, fa, n_persons, paper=paper, bins=bins)
    return score(qa, fa, n_persons, paper=paper, bins=bins, chunking=chunking)


# --------------------------------------------------------------------------------------
# Hand-worked examples from the issue


def test_binary_brier_example() -> None:
    assert brier_binary(0.7, 1.0) == pytest.approx(0.18)


def test_choice_brier_example() -> None:
    assert brier_choice(np.array([[0.6, 0.1, 0.3]]), 0)[0] == pytest.approx(0.26)


def test_time_average_example() -> None:
    # 0.6 for days 1-2, then 0.8 for days 3-5, on a yes: (2*0.32 + 3*0.08) / 5 = 0.176
    b = brier_binary(np.array([0.6, 0.8]), 1.0)
    assert time_average(b, np.array([0.0, 2 * DAY]), 5 * DAY) == pytest.approx(0.176)
    s = run([Q("binary", "yes", opens=0, end=5 * DAY)], [F(0, 0, 0, 0.6), F(0, 0, 2 * DAY, 0.8)], 1)
    assert s.brier_time_avg[0] == pytest.approx(0.176)
    assert s.brier[0] == pytest.approx(0.08)
    assert s.coverage[0] == pytest.approx(1.0)


def test_coverage_and_late_start() -> None:
    # First forecast on day 2 of a 4-day window: coverage 0.5, time average over 2 days only.
    s = run([Q("binary", "no", opens=0, end=4 * DAY)], [F(0, 0, 2 * DAY, 0.3)], 1)
    assert s.coverage[0] == pytest.approx(0.5)
    assert s.brier_time_avg[0] == pytest.approx(2 * 0.09)


def test_final_forecast_is_before_end() -> None:
    # A forecast at or after the end does not count.
    s = run(
        [Q("binary", "yes", opens=0, end=3 * DAY)],
        [F(0, 0, 0, 0.9), F(0, 0, 3 * DAY, 0.1), F(0, 0, 4 * DAY, 0.1)],
        1,
    )
    assert s.brier[0] == pytest.approx(0.02)


def test_log_and_baseline_scores() -> None:
    assert log_score(np.array([0.7]))[0] == pytest.approx(math.log(0.7))
    assert log_score(np.array([0.0]))[0] == pytest.approx(math.log(0.001))
    assert baseline_score(np.array([0.5]), 2)[0] == pytest.approx(0.0)
    assert baseline_score(np.array([1.0]), 2)[0] == pytest.approx(100 * math.log2(2 * 0.999))
    assert baseline_score(np.array([0.6]), 3)[0] == pytest.approx(100 * math.log(1.8) / math.log(3))
    s = run(
        [Q("binary", "no"), Q("choice", 0, n_options=3)],
        [F(0, 0, 0, 0.2), F(1, 0, 0, [0.6, 0.1, 0.3])],
        1,
    )
    assert s.log_score[0] == pytest.approx((math.log(0.8) + math.log(0.6)) / 2)
    expected = (100 * math.log2(1.6) + 100 * math.log(1.8) / math.log(3)) / 2
    assert s.baseline_score[0] == pytest.approx(expected)
    assert s.brier[0] == pytest.approx((0.08 + 0.26) / 2)


def test_wilson_interval_known_values() -> None:
    lo, hi = wilson_interval(np.array([8, 0, 5]), np.array([10, 10, 0]))
    assert lo[0] == pytest.approx(0.4902, abs=1e-4)
    assert hi[0] == pytest.approx(0.9433, abs=1e-4)
    assert lo[1] == 0.0
    assert hi[1] == pytest.approx(0.2775, abs=1e-4)
    assert math.isnan(lo[2]) and math.isnan(hi[2])


def test_forecasts_on_a_bin_edge_go_to_the_upper_bin() -> None:
    for n in range(1, 101):
        k = np.arange(n)
        assert scoring.bin_index(k / n, n).tolist() == k.tolist()
    assert scoring.bin_index(np.array([1.0, 0.0, 0.999]), 10).tolist() == [9, 0, 9]


def test_murphy_identity_with_equal_forecasts_in_bins() -> None:
    p = np.array([0.15, 0.15, 0.15, 0.75, 0.75, 0.75, 0.75, 0.95])
    y = np.array([0, 1, 0, 1, 1, 0, 1, 1], dtype=float)
    rel, res, unc = murphy(p, y, 10)
    assert rel - res + unc == pytest.approx(float(np.mean(brier_binary(p, y))))
    assert unc == pytest.approx(2 * 0.625 * 0.375)


def test_murphy_terms_by_hand() -> None:
    """Ten binary forecasts in four of ten bins, not equal within a bin, so each term is
    checked on its own (the identity with Brier does not hold here)."""
    p = [0.1, 0.15, 0.1, 0.7, 0.75, 0.8, 0.7, 0.95, 0.95, 0.9]
    y = [0, 0, 1, 1, 1, 0, 1, 1, 1, 1]
    # bin [0.1, 0.2): 0.1, 0.15, 0.1 -> n 3, mean forecast 0.35/3, observed 1/3
    # bin [0.7, 0.8): 0.7, 0.75, 0.7 -> n 3, mean forecast 2.15/3, observed 1
    # bin [0.8, 0.9): 0.8            -> n 1, mean forecast 0.8, observed 0
    # bin [0.9, 1.0]: 0.95, 0.95, 0.9 -> n 3, mean forecast 2.8/3, observed 1
    # overall observed 7/10
    reliability = (
        2
        * (
            3 * (0.35 / 3 - 1 / 3) ** 2
            + 3 * (2.15 / 3 - 1) ** 2
            + 1 * (0.8 - 0) ** 2
            + 3 * (2.8 / 3 - 1) ** 2
        )
        / 10
    )
    resolution = (
        2
        * (3 * (1 / 3 - 0.7) ** 2 + 3 * (1 - 0.7) ** 2 + 1 * (0 - 0.7) ** 2 + 3 * (1 - 0.7) ** 2)
        / 10
    )
    uncertainty = 2 * 0.7 * 0.3
    assert (reliability, resolution, uncertainty) == pytest.approx(
        (0.207, 0.2866667, 0.42), abs=1e-7
    )
    got = murphy(np.array(p), np.array(y, dtype=float), 10)
    assert got == pytest.approx((reliability, resolution, uncertainty), abs=1e-12)
    # The same through the scorer: one question per forecast.
    s = run(
        [Q("binary", "yes" if o else "no") for o in y],
        [F(i, 0, 0.0, x) for i, x in enumerate(p)],
        1,
    )
    assert (s.reliability[0], s.resolution[0], s.uncertainty[0]) == pytest.approx(
        (reliability, resolution, uncertainty), abs=1e-12
    )
    assert s.cal_n[0].tolist() == [0, 3, 0, 0, 0, 0, 0, 3, 1, 3]


def test_pinball_loss() -> None:
    q = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
    # y = 3.5: losses 0.1*2.5, 0.25*1.5, 0.5*0.5, 0.25*0.5, 0.1*1.5
    expected = (0.25 + 0.375 + 0.25 + 0.125 + 0.15) / 5
    assert pinball_loss(q, np.array([3.5]))[0] == pytest.approx(expected)
    q2 = np.array([[math.nan, math.nan, 3.0, math.nan, math.nan]])
    assert pinball_loss(q2, np.array([4.0]))[0] == pytest.approx(0.5)


def test_numeric_scores() -> None:
    qs = [Q("numeric", 3.5, range_width=10.0), Q("numeric", 9.0, range_width=10.0)]
    fs = [
        F(0, 0, 0, {"p10": 1, "p25": 2, "p50": 3, "p75": 4, "p90": 5}),
        F(1, 0, 0, {"p10": 1, "p50": 3, "p90": 5}),
    ]
    s = run(qs, fs, 1)
    assert s.n_numeric[0] == 2
    first = (0.25 + 0.375 + 0.25 + 0.125 + 0.15) / 5 / 10
    second = (0.1 * 8 + 0.5 * 6 + 0.9 * 4) / 3 / 10
    assert s.pinball[0] == pytest.approx((first + second) / 2)
    assert (s.inside_80[0], s.n_80[0]) == (1, 2)
    assert (s.inside_50[0], s.n_50[0]) == (1, 1)
    assert math.isnan(s.brier[0])


def test_crowd_quantiles_given_by_some_keep_the_weights_computed_for_everyone() -> None:
    """The crowd of four final forecasts where only the oldest and the third give p10 and
    p90 (tests/test_crowd.py works it by hand): p10 = 3, p50 = 14, p90 = 30. Weights
    recomputed for those two would give p10 = 2 and p90 = 25, leaving the outcome 27
    outside the crowd's 80% interval."""
    q = Q("numeric", 27.0, range_width=100.0)
    fs = [
        F(0, 0, 1 * DAY, {"p10": 1.0, "p50": 10.0, "p90": 20.0}),
        F(0, 1, 2 * DAY, {"p50": 12.0}),
        F(0, 2, 3 * DAY, {"p10": 3.0, "p50": 14.0, "p90": 30.0}),
        F(0, 3, 4 * DAY, {"p50": 16.0}),
        F(0, 4, 0.0, {"p10": 0.0, "p50": 50.0, "p90": 100.0}),  # the paper: not in the crowd
    ]
    s = run([q], fs, 5, paper=4)
    # pinball: p10 = 3 -> 0.1 * 24; p50 = 14 -> 0.5 * 13; p90 = 30 -> (0.9 - 1) * -3
    expected = (0.1 * 24 + 0.5 * 13 + 0.1 * 3) / 3 / 100
    assert s.pinball[s.crowd] == pytest.approx(expected)
    assert (s.inside_80[s.crowd], s.n_80[s.crowd]) == (1, 1)


def test_annulled_and_empty_inputs_do_not_crash() -> None:
    s = run([], [], 3)
    assert s.questions.tolist() == [0, 0, 0, 0]
    assert np.all(np.isnan(s.brier))
    s = run([Q("binary", "yes")], [], 2, paper=1)
    assert np.all(np.isnan(s.relative_brier))


def test_bins_must_be_positive() -> None:
    with pytest.raises(ValueError):
        run([], [], 1, bins=0)


# --------------------------------------------------------------------------------------
# Crowd


def test_relative_brier_two_forecasters_by_hand() -> None:
    # A says 0.9 from day 0, B says 0.5 from day 0, outcome yes, window 4 days.
    # Crowd without A is B (0.5): A's relative = 0.02 - 0.5 = -0.48, B's = 0.5 - 0.02.
    s = run([Q("binary", "yes", end=4 * DAY)], [F(0, 0, 0, 0.9), F(0, 1, 0, 0.5)], 2)
    assert s.relative_brier[0] == pytest.approx(-0.48)
    assert s.relative_brier[1] == pytest.approx(0.48)
    # The crowd itself: plain median of two = 0.7 -> Brier 0.18.
    assert s.brier[s.crowd] == pytest.approx(0.18)


def test_relative_brier_only_while_both_stand() -> None:
    # B joins on day 2 of 4; A's relative covers days 2-4 only.
    s = run(
        [Q("binary", "yes", end=4 * DAY)],
        [F(0, 0, 0, 0.9), F(0, 1, 2 * DAY, 0.5)],
        2,
    )
    assert s.relative_brier[0] == pytest.approx(0.02 - 0.5)
    assert s.n_relative.tolist() == [1, 1, 0]


def test_paper_is_not_in_the_crowd() -> None:
    # person 2 is the paper; the crowd is A and B only.
    fs = [F(0, 2, 0, 0.1), F(0, 0, 0, 0.9), F(0, 1, 0, 0.7)]
    s = run([Q("binary", "yes", end=4 * DAY)], fs, 3, paper=2)
    # crowd = median(0.9, 0.7) = 0.8 -> 0.08; paper's own 2*0.81 = 1.62
    assert s.brier[s.crowd] == pytest.approx(0.08)
    assert s.relative_brier[2] == pytest.approx(1.62 - 0.08)
    # A's crowd excludes A and the paper: B alone.
    assert s.relative_brier[0] == pytest.approx(0.02 - 0.18)
    assert (s.predictions[2], s.came_true[2]) == (1, 0)


# --------------------------------------------------------------------------------------
# Brute-force reference: evaluate every elementary interval directly, with the plain
# crowd (forecasts.crowd.crowd, one question at a time).


def reference(questions: list[Q], forecasts: list[F], n_persons: int, paper: int) -> dict[str, Any]:
    """Per scorer (the crowd is scorer ``n_persons``): final Brier, time-averaged Brier,
    coverage, relative Brier and scaled pinball loss, each a mean over questions."""
    crowd_id = n_persons

    def value_brier(q: Q, v: Any) -> float:
        if q.kind == "binary":
            return 2 * (v - (1.0 if q.outcome == "yes" else 0.0)) ** 2
        ind = np.zeros(len(v))
        ind[int(q.outcome)] = 1
        return float(np.sum((np.array(v) - ind) ** 2))

    def pinball(q: Q, v: dict[str, float]) -> float:
        losses = []
        for name, x in v.items():
            tau = int(name[1:]) / 100
            d = float(q.outcome) - x
            losses.append(max(tau * d, (tau - 1) * d))
        return sum(losses) / len(losses) / q.range_width

    def crowd_value(q: Q, standing: list[tuple[int, F]]) -> Any:
        # standing: (input position, forecast); the plain crowd takes them oldest first
        values = [f.value for _, f in sorted(standing, key=lambda pf: (pf[1].t, pf[0]))]
        if q.kind == "choice":
            names = [str(j) for j in range(q.n_options)]
            c = plain_crowd("choice", [dict(zip(names, v, strict=True)) for v in values], names)
            return [c[n] for n in names]  # type: ignore[index]
        return plain_crowd(q.kind, values)

    def latest_by_person(fs: list[tuple[int, F]], until: float) -> dict[int, tuple[int, F]]:
        latest: dict[int, tuple[int, F]] = {}
        for i, f in fs:
            if f.t <= until:
                cur = latest.get(f.person)
                if cur is None or (f.t, i) > (cur[1].t, cur[0]):
                    latest[f.person] = (i, f)
        return latest

    out: dict[str, Any] = {"brier": {}, "ta": {}, "rel": {}, "cov": {}, "pinball": {}}
    for qi, q in enumerate(questions):
        fs = [(i, f) for i, f in enumerate(forecasts) if f.q == qi and f.t < q.end]
        finals = latest_by_person(fs, math.inf)
        team_finals = [pf for p, pf in finals.items() if p != paper]
        if q.kind == "numeric":
            for p, (_, f) in finals.items():
                out["pinball"].setdefault(p, []).append(pinball(q, f.value))
            if team_finals:
                c = crowd_value(q, team_finals)
                out["pinball"].setdefault(crowd_id, []).append(pinball(q, c))
            continue
        for p, (_, f) in finals.items():
            out["brier"].setdefault(p, []).append(value_brier(q, f.value))
        if team_finals:
            c = crowd_value(q, team_finals)
            out["brier"].setdefault(crowd_id, []).append(value_brier(q, c))
        times = sorted({q.opens, q.end, *[max(f.t, q.opens) for _, f in fs]})
        times = [t for t in times if q.opens <= t <= q.end]
        acc: dict[int, list[float]] = {}
        for a, b_ in itertools.pairwise(times):
            if b_ <= a:
                continue
            latest = latest_by_person(fs, (a + b_) / 2)
            team = [pf for pp, pf in latest.items() if pp != paper]
            if team:
                a_ = acc.setdefault(crowd_id, [0.0, 0.0, 0.0, 0.0])
                a_[0] += value_brier(q, crowd_value(q, team)) * (b_ - a)
                a_[1] += b_ - a
            for p, (_, f) in latest.items():
                a_ = acc.setdefault(p, [0.0, 0.0, 0.0, 0.0])
                a_[0] += value_brier(q, f.value) * (b_ - a)
                a_[1] += b_ - a
                others = [pf for pp, pf in latest.items() if pp != p and pp != paper]
                if others:
                    cv = crowd_value(q, others)
                    a_[2] += (value_brier(q, f.value) - value_brier(q, cv)) * (b_ - a)
                    a_[3] += b_ - a
        for p, (num, den, rn, rd) in acc.items():
            out["ta"].setdefault(p, []).append(num / den)
            out["cov"].setdefault(p, []).append(den / (q.end - q.opens))
            if rd > 0:
                out["rel"].setdefault(p, []).append(rn / rd)
    return {k: {p: float(np.mean(v)) for p, v in d.items()} for k, d in out.items()}


def random_case(
    rng: np.random.Generator, n_forecasts: int = 40
) -> tuple[list[Q], list[F], int, int]:
    """Up to four questions of every kind, a few forecasters, coarse times (so ties) and
    round values (so equal values)."""
    n_q = int(rng.integers(1, 5))
    n_p = int(rng.integers(1, 8))
    paper = int(rng.integers(-1, n_p))
    qs = []
    for _ in range(n_q):
        x = rng.random()
        if x < 0.5:
            qs.append(Q("binary", "yes" if rng.random() < 0.5 else "no", 0.0, 10 * DAY))
        elif x < 0.85:
            k = int(rng.integers(2, 5))
            qs.append(Q("choice", int(rng.integers(0, k)), 0.0, 10 * DAY, n_options=k))
        else:
            outcome = float(np.round(rng.uniform(0, 100), 1))
            qs.append(Q("numeric", outcome, 0.0, 10 * DAY, range_width=100.0))
    fs = []
    for _ in range(int(rng.integers(0, n_forecasts))):
        qi = int(rng.integers(0, n_q))
        # coarse times create ties; some before opens, some after the end
        t = (
            float(rng.integers(-2, 12)) * DAY
            if rng.random() < 0.5
            else float(rng.uniform(-DAY, 11 * DAY))
        )
        q = qs[qi]
        v: Any
        if q.kind == "binary":
            v = (
                float(rng.choice([0.1, 0.3, 0.5, 0.7, 0.9]))
                if rng.random() < 0.5
                else float(rng.uniform(0.01, 0.99))
            )
        elif q.kind == "choice":
            x = rng.dirichlet(np.ones(q.n_options))
            v = list(np.round(x, 2) / np.round(x, 2).sum()) if rng.random() < 0.5 else list(x)
        else:
            given = ["p50", *[k for k in QUANTILES if k != "p50" and rng.random() < 0.5]]
            xs = np.sort(np.round(rng.uniform(0, 100, len(given)), 0))
            v = dict(zip([k for k in QUANTILES if k in given], xs.tolist(), strict=True))
        fs.append(F(qi, int(rng.integers(0, n_p)), t, v))
    return qs, fs, n_p, paper


def assert_matches_reference(s: Scores, ref: dict[str, Any], n_p: int) -> None:
    for p in range(n_p + 1):  # every person, and the crowd
        for name, arr in (
            ("brier", s.brier),
            ("ta", s.brier_time_avg),
            ("cov", s.coverage),
            ("rel", s.relative_brier),
            ("pinball", s.pinball),
        ):
            if p in ref[name]:
                assert arr[p] == pytest.approx(ref[name][p], abs=1e-9), (name, p)
            else:
                assert math.isnan(arr[p]), (name, p)


# The crowd over time splits its rows into chunks; a chunk may start in the middle of a
# question, carrying over the forecasts standing there. Tiny chunks make that happen
# everywhere: one or two rows per chunk (TINY), or a few rows across question boundaries
# on two threads (SMALL).
TINY = Chunking(elements=7, min_rows=1, threads=1)
SMALL = Chunking(elements=40, min_rows=3, threads=2)
CHUNKINGS = [
    pytest.param(None, id="default"),
    pytest.param(TINY, id="tiny"),
    pytest.param(SMALL, id="small"),
]


@pytest.mark.parametrize("chunking", CHUNKINGS)
@pytest.mark.parametrize("seed", range(150))
def test_vectorised_matches_brute_force(seed: int, chunking: Chunking | None) -> None:
    qs, fs, n_p, paper, ref = random_case_and_reference(seed)
    s = run(qs, fs, n_p, paper=paper, chunking=chunking)
    assert_matches_reference(s, ref, n_p)


@functools.cache
def random_case_and_reference(seed: int) -> tuple[list[Q], list[F], int, int, dict[str, Any]]:
    """Computed once per seed for all chunkings (the brute force is the slow part)."""
    qs, fs, n_p, paper = random_case(np.random.default_rng(seed))
    return qs, fs, n_p, paper, reference(qs, fs, n_p, paper)


def busy_case() -> tuple[list[Q], list[F]]:
    """One question of each kind, a dozen forecasters (12 is the paper) updating often,
    at coarse times (ties) with round values (equal values)."""
    rng = np.random.default_rng(11)
    qs = [
        Q("binary", "yes", 0.0, 20 * DAY),
        Q("choice", 2, 0.0, 20 * DAY, n_options=4),
        Q("numeric", 42.0, 0.0, 20 * DAY, range_width=100.0),
    ]
    fs = []
    for _ in range(60):
        p = int(rng.integers(0, 13))
        t = float(rng.integers(-1, 21)) * DAY / 2
        fs.append(F(0, p, t, float(rng.choice([0.2, 0.4, 0.5, 0.6, 0.8]))))
        fs.append(F(1, p, t, list(np.round(rng.dirichlet(np.ones(4)), 3))))
        fs.append(F(2, p, t, {"p10": 30.0, "p50": float(rng.integers(35, 50)), "p90": 70.0}))
    return qs, fs


@pytest.mark.parametrize("chunking", CHUNKINGS)
def test_questions_spanning_many_chunks_match_brute_force(chunking: Chunking | None) -> None:
    """With small chunks, every question's rows are spread over many chunks, which start
    with the forecasts standing on the question carried over."""
    qs, fs = busy_case()
    s = run(qs, fs, 13, paper=12, chunking=chunking)
    if chunking is not None:
        assert s.extra["chunks_inside_a_question"] >= 10
    assert_matches_reference(s, reference(qs, fs, 13, 12), 13)


@pytest.mark.parametrize(
    "chunking", [pytest.param(None, id="default"), pytest.param(TINY, id="tiny")]
)
def test_large_crowd_leave_one_out_matches_brute_force(chunking: Chunking | None) -> None:
    qs, fs, ref = large_crowd_and_reference()
    s = run(qs, fs, 40, paper=0, chunking=chunking)
    assert s.extra["walked_pairs"] > 0
    assert_matches_reference(s, ref, 40)


@functools.cache
def large_crowd_and_reference() -> tuple[list[Q], list[F], dict[str, Any]]:
    """Many forecasters on one question, so the recency weights and the walk really
    matter."""
    rng = np.random.default_rng(7)
    qs = [Q("binary", "yes", 0.0, 30 * DAY), Q("choice", 1, 0.0, 30 * DAY, n_options=3)]
    fs = []
    for _ in range(300):
        p = int(rng.integers(0, 40))
        t = float(rng.uniform(0, 30 * DAY))
        fs.append(F(0, p, t, float(rng.uniform(0.01, 0.99))))
        fs.append(F(1, p, t, list(rng.dirichlet(np.ones(3)))))
    return qs, fs, reference(qs, fs, 40, 0)


def test_chunking_never_changes_a_result() -> None:
    rng = np.random.default_rng(5)
    qs, fs, n_p, paper = random_case(rng, n_forecasts=400)
    default = run(qs, fs, n_p, paper=paper)
    for chunking in (TINY, SMALL):
        s = run(qs, fs, n_p, paper=paper, chunking=chunking)
        for name in ("brier", "brier_time_avg", "coverage", "relative_brier", "pinball"):
            assert np.allclose(
                getattr(s, name), getattr(default, name), rtol=0, atol=1e-12, equal_nan=True
            )


def test_without_the_crowd_over_time_only_its_scores_are_undefined() -> None:
    qa, fa = build(*busy_case())
    full = score(qa, fa, 13, paper=12)
    bare = score(qa, fa, 13, paper=12, crowd_over_time=False)
    assert np.all(np.isnan(bare.relative_brier)) and np.count_nonzero(full.n_relative) == 11
    assert math.isnan(bare.brier_time_avg[13]) and bare.n_time_avg[13] == 0
    assert full.n_time_avg[13] == 2
    assert np.array_equal(bare.brier_time_avg[:13], full.brier_time_avg[:13], equal_nan=True)
    for name in ("brier", "log_score", "pinball", "cal_n", "reliability"):
        assert np.array_equal(getattr(bare, name), getattr(full, name), equal_nan=True)
    assert bare.extra["crowd_pairs"] == 0 < full.extra["crowd_pairs"]


# --------------------------------------------------------------------------------------
# scikit-learn cross-checks (test-only dependency)


def test_brier_matches_sklearn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    p = rng.uniform(0.001, 0.999, 500)
    y = (rng.random(500) < p).astype(int)
    qs = [Q("binary", "yes" if o else "no") for o in y]
    fs = [F(i, 0, 0.0, float(pi)) for i, pi in enumerate(p)]
    s = run(qs, fs, 1)
    assert s.brier[0] == pytest.approx(2 * metrics.brier_score_loss(y, p))


def test_calibration_matches_sklearn() -> None:
    calibration = pytest.importorskip("sklearn.calibration")
    rng = np.random.default_rng(4)
    p = rng.uniform(0.001, 0.999, 800)
    y = (rng.random(800) < p).astype(int)
    qs = [Q("binary", "yes" if o else "no") for o in y]
    fs = [F(i, 0, 0.0, float(pi)) for i, pi in enumerate(p)]
    s = run(qs, fs, 1, bins=10)
    prob_true, prob_pred = calibration.calibration_curve(y, p, n_bins=10, strategy="uniform")
    n = s.cal_n[0]
    nz = n > 0
    assert np.allclose(s.cal_sum_o[0][nz] / n[nz], prob_true)
    assert np.allclose(s.cal_sum_p[0][nz] / n[nz], prob_pred)


# --------------------------------------------------------------------------------------
# Property tests


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ps=st.lists(st.floats(0.001, 0.999), min_size=1, max_size=40),
    ys=st.lists(st.booleans(), min_size=40, max_size=40),
    bins=st.integers(1, 20),
)
def test_murphy_terms_bound_and_identity(ps: list[float], ys: list[bool], bins: int) -> None:
    p = np.array(ps)
    y = np.array(ys[: len(ps)], dtype=float)
    # Snap forecasts to bin centres so the identity is exact.
    centres = (scoring.bin_index(p, bins) + 0.5) / bins
    rel, res, unc = murphy(centres, y, bins)
    assert rel >= -1e-12 and res >= -1e-12 and 0 <= unc <= 0.5 + 1e-12
    assert rel - res + unc == pytest.approx(float(np.mean(brier_binary(centres, y))), abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000))
def test_scores_are_finite_or_nan_never_inf(seed: int) -> None:
    rng = np.random.default_rng(seed)
    qs, fs, n_p, paper = random_case(rng)
    s = run(qs, fs, n_p, paper=paper)
    for arr in (
        s.brier,
        s.brier_time_avg,
        s.coverage,
        s.relative_brier,
        s.log_score,
        s.baseline_score,
    ):
        assert not np.any(np.isinf(arr))
    ok = ~np.isnan(s.brier)
    assert np.all((s.brier[ok] >= 0) & (s.brier[ok] <= 2))

"""The crowd forecast: recency-weighted median of each forecaster's latest forecast."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from freezegun import freeze_time
from hypothesis import given, settings
from hypothesis import strategies as st

from forecasts.crowd import (
    crowd,
    recency_weights,
    segmented_binary_crowd,
    segmented_choice_crowd,
    segmented_numeric_crowd,
    segmented_recency_weights,
    segmented_weighted_median,
    weighted_median,
)
from forecasts.domain.values import QUANTILES

# ---------------------------------------------------------------- weights


def test_one_or_two_forecasters_get_equal_weights():
    assert recency_weights(1) == [1.0]
    assert recency_weights(2) == [1.0, 1.0]
    assert recency_weights(0) == []


def test_recency_weights_follow_the_formula():
    # exp(sqrt(n) - sqrt(N)) for n = 1 (oldest) .. N (newest).
    for big_n in (3, 4, 7, 20):
        expected = [math.exp(math.sqrt(n) - math.sqrt(big_n)) for n in range(1, big_n + 1)]
        assert recency_weights(big_n) == pytest.approx(expected, rel=1e-12)


def test_recency_weights_grow_towards_the_newest_which_weighs_one():
    w = recency_weights(5)
    assert w[-1] == 1.0
    assert all(np.diff(w) > 0)
    assert w[0] == pytest.approx(math.exp(1 - math.sqrt(5)))


# ---------------------------------------------------------------- weighted median


def test_weighted_median_with_equal_weights_is_the_ordinary_median():
    assert weighted_median([3, 1, 2], [1, 1, 1]) == 2
    assert weighted_median([4, 1, 3, 2], [1, 1, 1, 1]) == 2.5
    assert weighted_median([0.2, 0.8], [1, 1]) == 0.5
    assert weighted_median([7], [1]) == 7


def test_weighted_median_follows_the_weight():
    # Cumulative weight: 1, 2, 6 of 6; half (3) is first reached at 30.
    assert weighted_median([10, 20, 30], [1, 1, 4]) == 30
    assert weighted_median([10, 20, 30], [4, 1, 1]) == 10
    # Exactly half at 20 -> average of 20 and 30.
    assert weighted_median([10, 20, 30], [1, 2, 3]) == 25


def test_weighted_median_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        weighted_median([], [])


def test_no_forecasts_no_crowd():
    assert crowd("binary", []) is None
    assert crowd("choice", [], ["A", "B"]) is None
    assert crowd("numeric", []) is None


# ---------------------------------------------------------------- binary


def test_two_forecasters_give_a_plain_median():
    assert crowd("binary", [0.2, 0.8]) == pytest.approx(0.5)
    assert crowd("binary", [0.8, 0.2]) == pytest.approx(0.5)


def test_hand_worked_three_forecasters():
    """Three forecasters, oldest first: 0.9, 0.2, 0.5.

    Weights: exp(1 - √3) = 0.4810, exp(√2 - √3) = 0.7278, exp(√3 - √3) = 1; total 2.2088,
    half 1.1044. Sorted by value: 0.2 (0.7278, cumulative 0.7278), 0.5 (1, cumulative
    1.7278 >= 1.1044) -> the crowd is 0.5.
    """
    assert crowd("binary", [0.9, 0.2, 0.5]) == 0.5


def test_recency_changes_the_median_with_four_forecasters():
    """Oldest first 0.1, 0.2, 0.6, 0.8. Weights exp(1-2)=0.3679, exp(√2-2)=0.5567,
    exp(√3-2)=0.7649, 1; total 2.6895, half 1.3447. Cumulative by value: 0.3679 (0.1),
    0.9246 (0.2), 1.6895 (0.6) -> 0.6, where the plain median would be 0.4."""
    assert crowd("binary", [0.1, 0.2, 0.6, 0.8]) == 0.6
    # The same values in the opposite order of recency: the old high ones count less.
    # Weights by value 0.1..0.8 are now 1, 0.7649, 0.5567, 0.3679: cumulative 1, 1.7649 -> 0.2.
    assert crowd("binary", [0.8, 0.6, 0.2, 0.1]) == 0.2


# ---------------------------------------------------------------- choice


def test_choice_takes_the_median_per_option_and_renormalises():
    """Medians per option (three forecasters: the middle value each) are A 0.3, B 0.3,
    C 0.5, summing to 1.1; renormalised: 0.3/1.1, 0.3/1.1, 0.5/1.1."""
    latest = [
        {"A": 0.2, "B": 0.3, "C": 0.5},
        {"A": 0.6, "B": 0.3, "C": 0.1},
        {"A": 0.3, "B": 0.1, "C": 0.6},
    ]
    got = crowd("choice", latest, ["A", "B", "C"])
    assert list(got) == ["A", "B", "C"]
    assert got == pytest.approx({"A": 0.3 / 1.1, "B": 0.3 / 1.1, "C": 0.5 / 1.1})
    assert math.fsum(got.values()) == pytest.approx(1.0)


def test_choice_with_two_forecasters_averages_and_sums_to_one():
    got = crowd("choice", [{"A": 0.2, "B": 0.8}, {"A": 0.6, "B": 0.4}], ["A", "B"])
    assert got == pytest.approx({"A": 0.4, "B": 0.6})


# ---------------------------------------------------------------- numeric


def test_numeric_takes_the_median_per_quantile():
    latest = [
        {"p10": 1.0, "p50": 2.0, "p90": 3.0},
        {"p10": 2.0, "p50": 4.0, "p90": 8.0},
        {"p10": 3.0, "p50": 5.0, "p90": 9.0},
    ]
    assert crowd("numeric", latest) == {"p10": 2.0, "p50": 4.0, "p90": 8.0}


def test_numeric_quantiles_use_only_the_forecasters_who_gave_them():
    latest = [{"p50": 2.0}, {"p10": 1.0, "p50": 4.0}, {"p50": 6.0, "p90": 9.0}]
    assert crowd("numeric", latest) == {"p10": 1.0, "p50": 4.0, "p90": 9.0}


def test_numeric_medians_over_different_subsets_are_kept_in_order():
    # p10 from one forecaster (5), p50 from both of two (plain median 3): p10 > p50 would
    # cross, so p50 is lifted to 5.
    latest = [{"p10": 5.0, "p50": 5.0}, {"p50": 1.0}]
    got = crowd("numeric", latest)
    assert got == {"p10": 5.0, "p50": 5.0}


def test_unknown_type():
    with pytest.raises(ValueError):
        crowd("date", [1.0])


# ---------------------------------------------------------------- partial quantiles


def test_a_quantile_given_by_some_keeps_the_weights_computed_for_everyone():
    """Four forecasters, oldest first; only A and C give p10 and p90. Weights for all four:
    e^(1-2) = 0.3679, e^(√2-2) = 0.5567, e^(√3-2) = 0.7649, 1. p10 over A (0.3679) and
    C (0.7649): half the total is 0.5664, reached at C's 3. Weights recomputed for the two
    would be equal, giving the plain median (1 + 3) / 2 = 2 instead. p90 likewise: 30, not
    25. p50 over all four: cumulative 0.3679 (10), 0.9246 (12), 1.6895 (14) of half 1.3447
    -> 14."""
    latest = [
        {"p10": 1.0, "p50": 10.0, "p90": 20.0},
        {"p50": 12.0},
        {"p10": 3.0, "p50": 14.0, "p90": 30.0},
        {"p50": 16.0},
    ]
    assert crowd("numeric", latest) == {"p10": 3.0, "p50": 14.0, "p90": 30.0}


def test_a_quantile_given_by_three_of_five_keeps_their_places_among_five():
    """Five forecasters, oldest first; p90 from the 1st (50), 2nd (40) and 5th (60).
    Weights among five: e^(1-√5) = 0.2905, e^(√2-√5) = 0.4394, 1; half of 1.7299 is
    0.8650, reached only at 60. As a group of three (weights 0.4810, 0.7278, 1; half
    1.1044) it would be 50."""
    latest = [
        {"p50": 30.0, "p90": 50.0},
        {"p50": 20.0, "p90": 40.0},
        {"p50": 25.0},
        {"p50": 35.0},
        {"p50": 28.0, "p90": 60.0},
    ]
    assert crowd("numeric", latest)["p90"] == 60.0  # type: ignore[index]


def test_vectorised_numeric_crowd_keeps_the_weights_computed_for_everyone():
    """The two cases above as two segments of one call, rows interleaved, recency given
    by times (the fifth forecaster of the second case ties in time with the fourth and
    comes later in the input, so it is newer)."""
    nan = math.nan
    first = [
        [1, nan, 10, nan, 20],
        [nan, nan, 12, nan, nan],
        [3, nan, 14, nan, 30],
        [nan, nan, 16, nan, nan],
    ]
    second = [
        [nan, nan, 30, nan, 50],
        [nan, nan, 20, nan, 40],
        [nan, nan, 25, nan, nan],
        [nan, nan, 35, nan, nan],
        [nan, nan, 28, nan, 60],
    ]
    seg = np.array([1, 0, 1, 0, 1, 0, 1, 0, 1])
    rows = [
        second[0],
        first[0],
        second[1],
        first[1],
        second[2],
        first[2],
        second[3],
        first[3],
        second[4],
    ]
    times = np.array([1.0, 5.0, 2.0, 6.0, 3.0, 7.0, 4.0, 8.0, 4.0])
    got = segmented_numeric_crowd(seg, np.array(rows, dtype=float), times, 2)
    assert got[0].tolist()[0] == 3.0 and got[0].tolist()[2] == 14.0 and got[0].tolist()[4] == 30.0
    assert got[1].tolist()[4] == 60.0 and got[1].tolist()[2] == 28.0
    assert np.isnan(got[:, [1, 3]]).all()  # nobody gave p25 or p75


# ---------------------------------------------------------------- the vectorised form


def test_segmented_recency_weights_by_hand():
    """Segment 0: three elements at times 3, 1, 2 -> ranks 3, 1, 2 of N = 3. Segment 1:
    two -> equal weights. Segment 2: times 7, 7, 6, 8 -> the tie at 7 goes by position,
    so ranks 2, 3, 1, 4 of N = 4."""
    seg = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    recency = np.array([3, 1, 2, 5, 5, 7, 7, 6, 8], dtype=float)
    e = math.exp
    expected = [
        e(math.sqrt(3) - math.sqrt(3)),
        e(1 - math.sqrt(3)),
        e(math.sqrt(2) - math.sqrt(3)),
        1.0,
        1.0,
        e(math.sqrt(2) - 2),
        e(math.sqrt(3) - 2),
        e(1 - 2),
        1.0,
    ]
    assert segmented_recency_weights(seg, recency, 3).tolist() == pytest.approx(expected, rel=1e-15)


def test_segmented_weighted_median_by_hand():
    """Weights written out; segments interleaved in the input.

    seg 0: 0.3 (1), 0.1 (1), 0.2 (4): cumulative 1, 5 of half 3 -> 0.2
    seg 1: 10 (1), 20 (2), 30 (3), 40 (4): cumulative 1, 3, 6 of half 5 -> 30
    seg 2: 5 (1), 7 (1): exactly half at 5 -> (5 + 7) / 2 = 6
    seg 3: 1 (2), 2 (1), 3 (1), 4 (2): cumulative 2, 3 = half -> (2 + 3) / 2 = 2.5
    seg 4: nothing -> NaN
    seg 5: 9 (0.5) -> 9
    seg 6: 0.4 (1), 0.4 (1), 0.9 (1): cumulative 1, 2 of half 1.5 -> 0.4
    """
    items = [
        (1, 10, 1), (0, 0.3, 1), (3, 1, 2), (1, 20, 2), (2, 5, 1), (0, 0.1, 1), (3, 2, 1),
        (6, 0.4, 1), (1, 30, 3), (3, 3, 1), (5, 9, 0.5), (0, 0.2, 4), (6, 0.4, 1), (2, 7, 1),
        (1, 40, 4), (3, 4, 2), (6, 0.9, 1),
    ]  # fmt: skip
    seg, values, weights = (np.array(col) for col in zip(*items, strict=True))
    got = segmented_weighted_median(
        seg.astype(np.int64), values.astype(float), weights.astype(float), 7
    )
    assert got[[0, 1, 2, 3, 5, 6]].tolist() == [0.2, 30, 6, 2.5, 9, 0.4]
    assert math.isnan(got[4])


def sort_and_accumulate(values: list[float], weights: list[float]) -> float:
    """The weighted median the long way: sort, add weights until half is reached; exactly
    half -> the mean with the next value."""
    pairs = sorted(zip(values, weights, strict=True), key=lambda vw: vw[0])
    half = sum(weights) / 2
    acc = 0.0
    for i, (v, w) in enumerate(pairs):
        acc += w
        if acc == half and i + 1 < len(pairs):
            return (v + pairs[i + 1][0]) / 2
        if acc >= half:
            return v
    raise AssertionError("unreachable")


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_weighted_medians_match_sort_and_accumulate(seed: int) -> None:
    """Integer weights, so sums are exact and exact halves (ties) are common; few distinct
    values, so equal values are common."""
    rng = np.random.default_rng(seed)
    n_seg = int(rng.integers(1, 8))
    n = int(rng.integers(1, 40))
    seg = rng.integers(0, n_seg, n)
    values = rng.choice([0.1, 0.25, 0.5, 0.6, 0.9], n) if rng.random() < 0.5 else rng.random(n)
    weights = rng.integers(1, 5, n).astype(float)
    got = segmented_weighted_median(seg, values, weights, n_seg)
    for s in range(n_seg):
        mine = seg == s
        if not mine.any():
            assert math.isnan(got[s])
            continue
        expected = sort_and_accumulate(values[mine].tolist(), weights[mine].tolist())
        assert got[s] == expected
        assert weighted_median(values[mine], weights[mine]) == expected


def random_segments(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """Segment ids and recency: many segments of one or two elements (N <= 2), ties in
    time, rows in any order."""
    n_seg = int(rng.integers(1, 10))
    n = int(rng.integers(1, 60))
    seg = rng.integers(0, n_seg, n) if rng.random() < 0.7 else rng.integers(0, max(1, n // 2), n)
    n_seg = max(n_seg, int(seg.max()) + 1)
    recency = rng.integers(0, 6, n).astype(float)
    return seg, recency, n_seg


def oldest_first(seg: np.ndarray, recency: np.ndarray, s: int) -> list[int]:
    """The rows of segment s, oldest first (ties in time by position)."""
    rows = np.flatnonzero(seg == s)
    return sorted(rows.tolist(), key=lambda i: (recency[i], i))


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_vectorised_binary_crowd_matches_the_plain_crowd(seed: int) -> None:
    rng = np.random.default_rng(seed)
    seg, recency, n_seg = random_segments(rng)
    p = (
        rng.choice([0.1, 0.3, 0.5, 0.7, 0.9], seg.size)
        if rng.random() < 0.5
        else rng.random(seg.size)
    )
    got = segmented_binary_crowd(seg, p, recency, n_seg)
    for s in range(n_seg):
        rows = oldest_first(seg, recency, s)
        expected = crowd("binary", [float(p[i]) for i in rows])
        assert (math.isnan(got[s]) and expected is None) or got[s] == expected


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_vectorised_choice_crowd_matches_the_plain_crowd(seed: int) -> None:
    rng = np.random.default_rng(seed)
    seg, recency, n_seg = random_segments(rng)
    k = int(rng.integers(2, 5))
    probs = np.round(rng.dirichlet(np.ones(k), seg.size), 1)
    probs = np.maximum(probs, 0.05) / np.maximum(probs, 0.05).sum(axis=1, keepdims=True)
    options = [f"o{j}" for j in range(k)]
    got = segmented_choice_crowd(seg, probs, recency, n_seg)
    for s in range(n_seg):
        rows = oldest_first(seg, recency, s)
        expected: Any = crowd(
            "choice", [dict(zip(options, probs[i], strict=True)) for i in rows], options
        )
        if expected is None:
            assert np.isnan(got[s]).all()
        else:
            assert got[s].tolist() == pytest.approx([expected[o] for o in options], rel=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_vectorised_numeric_crowd_matches_the_plain_crowd(seed: int) -> None:
    """Some forecasters give every quantile, others only some (p50 always)."""
    rng = np.random.default_rng(seed)
    seg, recency, n_seg = random_segments(rng)
    quantiles = np.sort(
        rng.choice([1.0, 2.0, 3.0, 5.0, 8.0, 13.0], (seg.size, len(QUANTILES))), axis=1
    )
    missing = rng.random(quantiles.shape) < 0.5
    missing[:, QUANTILES.index("p50")] = False
    quantiles[missing] = np.nan
    got = segmented_numeric_crowd(seg, quantiles, recency, n_seg)
    for s in range(n_seg):
        rows = oldest_first(seg, recency, s)
        latest = [
            {k: float(x) for k, x in zip(QUANTILES, quantiles[i], strict=True) if not math.isnan(x)}
            for i in rows
        ]
        expected: Any = crowd("numeric", latest)
        if expected is None:
            assert np.isnan(got[s]).all()
            continue
        assert {
            k: float(x) for k, x in zip(QUANTILES, got[s], strict=True) if not math.isnan(x)
        } == expected


@settings(max_examples=60, deadline=None)
@given(vals=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30))
def test_weighted_median_within_range(vals: list[float]) -> None:
    v = np.array(vals)
    m = weighted_median(v, recency_weights(v.size))
    assert v.min() <= m <= v.max()


# ---------------------------------------------------------------- end to end


@freeze_time("2027-01-10 12:00:00")
def test_show_reports_the_crowd_of_latest_forecasts_oldest_first_excluding_the_paper(cli, tmp_path):
    """Forecast order is by made_at (backdating counts), only each person's latest counts,
    and the paper's forecast is never part of the crowd."""
    (tmp_path / "questions.yaml").write_text(
        "questions:\n"
        "  - id: crowd-q\n"
        "    title: Crowd?\n"
        "    criteria: Yes if so.\n"
        "    opens: 2027-01-01\n"
        "    closes: 2027-06-30\n"
        "    resolve_by: 2027-07-31\n"
        "    paper_forecast: 0.99\n",
        encoding="utf-8",
    )
    assert cli("sync").exit_code == 0
    for h in ("ann", "bob", "cat", "dan"):
        assert cli("people", "add", h).exit_code == 0

    def predict(who, value, at):
        r = cli("predict", "crowd-q", value, "--by", who, "--at", at)
        assert r.exit_code == 0, r.output

    predict("dan", "0.05", "2027-01-02T00:00:00")  # superseded below
    predict("ann", "0.9", "2027-01-03T00:00:00")  # oldest latest
    predict("bob", "0.2", "2027-01-04T00:00:00")
    predict("cat", "0.5", "2027-01-05T00:00:00")  # newest
    crowd_now = json.loads(cli("show", "crowd-q", "--json").stdout)
    # dan's only forecast is the oldest: 0.05, 0.9, 0.2, 0.5 (oldest first).
    w = [math.exp(math.sqrt(n) - 2) for n in (1, 2, 3, 4)]
    # Sorted by value: 0.05 (w1), 0.2 (w3), 0.5 (w4), 0.9 (w2).
    cum = np.cumsum([w[0], w[2], w[3], w[1]])
    expected = [0.05, 0.2, 0.5, 0.9][int(np.searchsorted(cum, cum[-1] / 2))]
    assert crowd_now["crowd"] == expected == 0.5
    assert crowd_now["paper"] == 0.99
    assert crowd_now["forecasters"] == 4

    # dan updates: he is now the newest and his old 0.05 no longer counts.
    predict("dan", "0.95", "2027-01-06T00:00:00")
    d = json.loads(cli("show", "crowd-q", "--json").stdout)
    # Oldest first: ann 0.9, bob 0.2, cat 0.5, dan 0.95. Sorted: 0.2 (w2=0.5567),
    # 0.5 (w3=0.7649), 0.9 (w1=0.3679), 0.95 (w4=1): cumulative 0.5567, 1.3216 < 1.3447,
    # 1.6895 -> 0.9.
    assert d["crowd"] == 0.9
    listed = json.loads(cli("list", "--json").stdout)
    assert listed[0]["crowd"] == 0.9

"""The crowd forecast: recency-weighted median of each forecaster's latest forecast."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from freezegun import freeze_time

from forecasts.crowd import crowd, recency_weights, weighted_median

# ---------------------------------------------------------------- weights


def test_one_or_two_forecasters_get_equal_weights():
    assert recency_weights(1).tolist() == [1.0]
    assert recency_weights(2).tolist() == [1.0, 1.0]
    assert recency_weights(0).tolist() == []


def test_recency_weights_follow_the_formula():
    # exp(sqrt(n) - sqrt(N)) for n = 1 (oldest) .. N (newest).
    for big_n in (3, 4, 7, 20):
        expected = [math.exp(math.sqrt(n) - math.sqrt(big_n)) for n in range(1, big_n + 1)]
        assert recency_weights(big_n).tolist() == pytest.approx(expected, rel=1e-12)


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

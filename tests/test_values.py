"""Forecast values and resolution outcomes: parsing, ranges and normalisation (pure)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from forecasts.domain.values import (
    ANNULLED,
    PROB_MAX,
    PROB_MIN,
    fits,
    format_value,
    normalize_outcome,
    normalize_value,
)
from forecasts.errors import InvalidValue


@dataclass
class Q:
    type: str
    options: list[str] | None = None
    min: float | None = None
    max: float | None = None


BINARY = Q("binary")
CHOICE = Q("choice", options=["A", "B", "C"])
NUMERIC = Q("numeric", min=0.0, max=10.0)


# ---------------------------------------------------------------- binary values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.7", 0.7),
        ("70%", 0.7),
        ("7:3", 0.7),
        (" 0.7 ", 0.7),
        ("70 %", 0.7),
        ("7 : 3", 0.7),
        (".25", 0.25),
        ("25%", 0.25),
        ("1:3", 0.25),
        ("0.001", 0.001),
        ("0.999", 0.999),
        ("0.1%", 0.001),
        ("99.9%", 0.999),
        ("1:999", 0.001),
        ("999:1", 0.999),
        ("2:1", 2 / 3),
    ],
)
def test_binary_value_forms(text, expected):
    assert normalize_value(BINARY, text) == pytest.approx(expected, abs=1e-15)


def test_binary_bounds_are_stored_exactly():
    # The bounds are part of the allowed range and are stored as the plain numbers.
    assert normalize_value(BINARY, "99.9%") == 0.999
    assert normalize_value(BINARY, "0.1%") == 0.001


def test_binary_accepts_numbers_as_well_as_text():
    assert normalize_value(BINARY, 0.7) == 0.7
    assert normalize_value(BINARY, 0.25) == 0.25
    with pytest.raises(InvalidValue, match="out of range"):
        normalize_value(BINARY, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "'abc' is not a number"),
        ("", "is not a number"),
        ("%", "is not a number"),
        ("nan", "not a finite number"),
        ("inf", "not a finite number"),
        ("1e400", "not a finite number"),
        ("0", "out of range"),
        ("1", "out of range"),
        ("1.5", "out of range"),
        ("-0.2", "out of range"),
        ("0.0009", "out of range"),
        ("0.9991", "out of range"),
        ("100%", "out of range"),
        ("0.05%", "out of range"),
        ("150%", "out of range"),
        ("1:0", "out of range"),
        ("0:1", "out of range"),
        ("0:0", "not both zero"),
        ("-1:2", "non-negative"),
        ("7:3:1", "is not a number"),
        ("a:b", "is not a number"),
        ("A=0.5", "is not a number"),
    ],
)
def test_binary_bad_values(text, message):
    with pytest.raises(InvalidValue, match=message):
        normalize_value(BINARY, text)


@pytest.mark.parametrize("raw", [True, None, [0.5], {"yes": 0.5}])
def test_binary_rejects_non_probability_objects(raw):
    with pytest.raises(InvalidValue, match="one probability"):
        normalize_value(BINARY, raw)


def test_out_of_range_message_names_the_range():
    with pytest.raises(InvalidValue) as e:
        normalize_value(BINARY, "1.5")
    assert str(e.value) == (
        "probability 1.5 is out of range; probabilities must lie in [0.001, 0.999]"
    )


# ---------------------------------------------------------------- choice values


def test_choice_pairs():
    assert normalize_value(CHOICE, "A=0.2,B=0.5,C=0.3") == {"A": 0.2, "B": 0.5, "C": 0.3}


def test_choice_is_stored_in_option_order_whatever_the_input_order():
    v = normalize_value(CHOICE, "C=0.3, A=0.2 ,B=0.5,")
    assert list(v) == ["A", "B", "C"]
    assert v == pytest.approx({"A": 0.2, "B": 0.5, "C": 0.3})


def test_choice_option_names_match_case_insensitively():
    assert normalize_value(CHOICE, "a=0.2,b=0.5,c=0.3") == pytest.approx(
        {"A": 0.2, "B": 0.5, "C": 0.3}
    )


def test_choice_case_sensitive_match_wins_when_options_differ_only_by_case():
    q = Q("choice", options=["x", "X2", "y"])
    assert normalize_value(q, "X=0.2,x2=0.5,Y=0.3") == pytest.approx(
        {"x": 0.2, "X2": 0.5, "y": 0.3}
    )


def test_choice_percentages_and_mappings():
    assert normalize_value(CHOICE, "A=20%,B=50%,C=30%") == pytest.approx(
        {"A": 0.2, "B": 0.5, "C": 0.3}
    )
    assert normalize_value(CHOICE, {"A": 0.2, "B": 0.5, "C": 0.3}) == pytest.approx(
        {"A": 0.2, "B": 0.5, "C": 0.3}
    )


def test_choice_sum_within_tolerance_is_renormalised_exactly():
    v = normalize_value(CHOICE, "A=0.2,B=0.5,C=0.304")
    assert math.fsum(v.values()) == pytest.approx(1.0, abs=1e-12)
    assert v["C"] == pytest.approx(0.304 / 1.004)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A=0.2,B=0.5,C=0.31", "sum to 1.01; they must sum to 1"),
        ("A=0.2,B=0.5,C=0.29", "sum to 0.99; they must sum to 1"),
        ("A=0.5,B=0.5", "missing probabilities for C"),
        ("A=0.2,B=0.5,D=0.3", "'D' is not an option; options are: A, B, C"),
        ("A=0.2,a=0.5,C=0.3", "option 'A' given twice"),
        ("A=0.2,B,C=0.3", "'B' is not NAME=VALUE"),
        ("A=0,B=0.5,C=0.5", "probability of 'A' 0 is out of range"),
        ("A=0.9995,B=0.0003,C=0.0002", "out of range"),
        (
            "A=0.001,B=0.504,C=0.5",
            "probability of 'A' becomes 0.000995 when the probabilities are scaled to sum to 1",
        ),
        ("A=x,B=0.5,C=0.5", "'x' is not a number"),
        ("", "empty value"),
        (",", "empty value"),
        ("0.5", "is not NAME=VALUE"),
    ],
)
def test_choice_bad_values(text, message):
    with pytest.raises(InvalidValue, match=message):
        normalize_value(CHOICE, text)


def test_choice_rejects_a_bare_number():
    with pytest.raises(InvalidValue, match=re.escape("OPTION=P pairs, e.g. A=0.33,B=0.33,C=0.33")):
        normalize_value(CHOICE, 0.5)


# ---------------------------------------------------------------- numeric values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("p10=3.5,p50=5.6,p90=7", {"p10": 3.5, "p50": 5.6, "p90": 7.0}),
        ("p50=5", {"p50": 5.0}),
        ("p25=1,p50=2", {"p25": 1.0, "p50": 2.0}),
        (
            "p10=1,p25=2,p50=3,p75=4,p90=5",
            {"p10": 1.0, "p25": 2.0, "p50": 3.0, "p75": 4.0, "p90": 5.0},
        ),
        ("P90=7, P50=5", {"p50": 5.0, "p90": 7.0}),
        ("p10=2,p50=2,p90=2", {"p10": 2.0, "p50": 2.0, "p90": 2.0}),
        ("p10=0,p50=5,p90=10", {"p10": 0.0, "p50": 5.0, "p90": 10.0}),
    ],
)
def test_numeric_quantiles(text, expected):
    v = normalize_value(NUMERIC, text)
    assert v == expected
    assert list(v) == list(expected)  # ordered p10..p90


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("p10=1,p90=7", "needs at least p50"),
        ("p95=9,p50=5", "'p95' is not a quantile"),
        ("median=5", "'median' is not a quantile"),
        ("p50=5,p50=6", "quantile p50 given twice"),
        ("p10=6,p50=5", "non-decreasing"),
        ("p50=5,p90=4.9", "non-decreasing"),
        ("p50=11", r"p50=11 is outside the question's range \[0, 10\]"),
        ("p10=-1,p50=5", "outside the question's range"),
        ("p50=abc", "p50: 'abc' is not a number"),
        ("p50=nan", "not a finite number"),
        ("5", "is not NAME=VALUE"),
    ],
)
def test_numeric_bad_values(text, message):
    with pytest.raises(InvalidValue, match=message):
        normalize_value(NUMERIC, text)


def test_unknown_type_is_refused():
    with pytest.raises(InvalidValue, match="unknown question type 'date'"):
        normalize_value(Q("date"), "0.5")
    with pytest.raises(InvalidValue, match="unknown question type 'date'"):
        normalize_outcome(Q("date"), "yes")


# ---------------------------------------------------------------- outcomes


@pytest.mark.parametrize(
    ("q", "text", "stored"),
    [
        (BINARY, "yes", "yes"),
        (BINARY, "No", "no"),
        (BINARY, " YES ", "yes"),
        (BINARY, "annul", ANNULLED),
        (BINARY, "Annulled", ANNULLED),
        (CHOICE, "B", "B"),
        (CHOICE, "b", "B"),
        (CHOICE, "annul", ANNULLED),
        (NUMERIC, "5", "5"),
        (NUMERIC, "5.0", "5"),
        (NUMERIC, "3.25", "3.25"),
        (NUMERIC, "0", "0"),
        (NUMERIC, "10", "10"),
        (NUMERIC, "1e0", "1"),
        (NUMERIC, "annul", ANNULLED),
    ],
)
def test_outcomes(q, text, stored):
    assert normalize_outcome(q, text) == stored


@pytest.mark.parametrize(
    ("q", "text", "message"),
    [
        (BINARY, "maybe", "outcome 'maybe' does not fit a binary question; use yes, no or annul"),
        (BINARY, "1", "does not fit a binary question"),
        (CHOICE, "D", "outcome 'D' is not an option; use one of A, B, C or annul"),
        (NUMERIC, "abc", "outcome 'abc' is not a number; give a number or annul"),
        (NUMERIC, "10.5", r"outcome 10.5 is outside the question's range \[0, 10\]"),
        (NUMERIC, "-0.1", "outside the question's range"),
        (NUMERIC, "nan", "not a finite number"),
        (NUMERIC, "inf", "not a finite number"),
    ],
)
def test_bad_outcomes(q, text, message):
    with pytest.raises(InvalidValue, match=message):
        normalize_outcome(q, text)


# ---------------------------------------------------------------- display


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "-"),
        (0.7, "70%"),
        (0.705, "70.5%"),
        ({"A": 0.2, "B": 0.8}, "A=20% B=80%"),
        ({"p10": 3.5, "p50": 5.0}, "p10=3.5 p50=5"),
    ],
)
def test_format_value(value, text):
    assert format_value(value) == text


# ---------------------------------------------------------------- properties

probabilities = st.floats(min_value=PROB_MIN, max_value=PROB_MAX)


@given(probabilities)
def test_any_in_range_probability_round_trips_through_its_text(p):
    assert normalize_value(BINARY, repr(p)) == p


@given(st.integers(1, 999))
def test_every_percentage_in_range_is_accepted(tenths):
    pct = Decimal(tenths) / 10  # 0.1% .. 99.9%, the bounds included
    assert normalize_value(BINARY, f"{pct}%") == float(pct / 100)


@given(st.integers(1, 999), st.integers(1, 999))
def test_odds_agree_with_the_probability_they_stand_for(yes, no):
    p = yes / (yes + no)
    assume(PROB_MIN <= p <= PROB_MAX)
    assert normalize_value(BINARY, f"{yes}:{no}") == pytest.approx(p)


@st.composite
def choice_inputs(draw):
    """Three in-range probabilities whose sum is within the accepted tolerance of 1."""
    a = draw(st.floats(0.001, 0.997))
    b = draw(st.floats(0.001, 0.999 - a))
    slack = draw(st.floats(-0.005, 0.005))
    c = 1.0 - a - b + slack
    assume(PROB_MIN <= c <= PROB_MAX)
    return {"A": a, "B": b, "C": c}


@given(choice_inputs())
def test_an_accepted_choice_forecast_is_stored_in_a_form_that_still_fits(raw):
    """What is stored must pass its own validation again: otherwise the crowd and the
    paper column silently drop it (they skip values that no longer fit)."""
    try:
        stored = normalize_value(CHOICE, raw)
    except InvalidValue:
        return
    assert math.fsum(stored.values()) == pytest.approx(1.0, abs=1e-12)
    # In range, up to float rounding (1e-12, far below any meaningful difference).
    assert all(PROB_MIN - 1e-12 <= p <= PROB_MAX + 1e-12 for p in stored.values())
    assert fits(CHOICE, stored)
    assert normalize_value(CHOICE, stored) == pytest.approx(stored, abs=1e-15)


@given(choice_inputs())
def test_choice_text_and_mapping_forms_agree(raw):
    text = ",".join(f"{k}={v!r}" for k, v in raw.items())
    try:
        from_map = normalize_value(CHOICE, raw)
    except InvalidValue as e:
        with pytest.raises(InvalidValue):
            normalize_value(CHOICE, text)
        assert str(e)
        return
    assert normalize_value(CHOICE, text) == from_map


@given(
    st.sets(st.sampled_from(["p10", "p25", "p75", "p90"])),
    st.lists(st.floats(0, 10), min_size=5, max_size=5),
)
def test_sorted_quantiles_within_range_are_accepted_and_kept(others, xs):
    keys = [k for k in ("p10", "p25", "p50", "p75", "p90") if k == "p50" or k in others]
    expected = dict(zip(keys, sorted(xs), strict=False))
    text = ",".join(f"{k}={x!r}" for k, x in reversed(expected.items()))
    v = normalize_value(NUMERIC, text)
    assert v == expected
    assert list(v) == keys
    assert fits(NUMERIC, v)


@given(st.floats(0, 10))
def test_numeric_outcome_round_trips(x):
    stored = normalize_outcome(NUMERIC, repr(x))
    assert float(stored) == x
    assert normalize_outcome(NUMERIC, stored) == stored


@pytest.mark.parametrize(
    ("q", "text", "message"),
    [
        (CHOICE, "0.5", "'0.5' is not NAME=VALUE; a choice forecast is OPTION=P pairs, e.g. "),
        (CHOICE, "70%", "A=0.33,B=0.33,C=0.33"),
        (NUMERIC, "5", "'5' is not NAME=VALUE; a numeric forecast is quantiles, e.g. p10="),
    ],
)
def test_a_bare_value_on_a_choice_or_numeric_question_shows_the_form(q, text, message):
    with pytest.raises(InvalidValue, match=re.escape(message)):
        normalize_value(q, text)

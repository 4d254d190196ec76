"""Parsing and checking forecast values and outcomes. Pure functions, no I/O.

A *value* is what a forecaster says:
  binary  -> float P(yes)                       "0.7", "70%", "7:3"
  choice  -> {option: probability}, sums to 1   "A=0.2,B=0.5,C=0.3"
  numeric -> {"p10": x, ..., "p90": y}          "p10=3.5,p50=5.6,p90=7" (p50 required)

An *outcome* is what a reviewer says: "yes"/"no", an option name, a number, or "annulled".
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

from forecasts.errors import InvalidValue

PROB_MIN = 0.001
PROB_MAX = 0.999
SUM_TOLERANCE = 0.005
#: Slack for float rounding when a stored (already normalised) value is checked again.
ROUNDING = 1e-12
QUANTILES = ("p10", "p25", "p50", "p75", "p90")
ANNULLED = "annulled"

Value = float | dict[str, float]


class QuestionShape(Protocol):
    """What value parsing needs to know about a question (read-only, so a Question row, a
    QuestionSpec or any object with these attributes will do)."""

    @property
    def type(self) -> str: ...
    @property
    def options(self) -> Sequence[str] | None: ...
    @property
    def min(self) -> float | None: ...
    @property
    def max(self) -> float | None: ...


def _number(text: str, what: str) -> float:
    try:
        x = float(text)
    except (TypeError, ValueError):
        raise InvalidValue(f"{what}: {text!r} is not a number") from None
    if not math.isfinite(x):
        raise InvalidValue(f"{what}: {text!r} is not a finite number")
    return x


def parse_probability(text: str) -> float:
    """'0.7', '70%' or odds '7:3' -> 0.7 (range is checked separately)."""
    s = str(text).strip()
    if s.endswith("%"):
        pct = s[:-1].strip()
        _number(pct, "percentage")
        # Divide in decimal: 99.9 / 100.0 is 0.9990000000000001 in binary floating point.
        return float(Decimal(pct) / 100)
    if ":" in s:
        a, _, b = s.partition(":")
        yes, no = _number(a.strip(), "odds"), _number(b.strip(), "odds")
        if yes < 0 or no < 0 or yes + no == 0:
            raise InvalidValue(f"odds {s!r} must be two non-negative numbers, not both zero")
        return yes / (yes + no)
    return _number(s, "probability")


def _check_prob(p: float, what: str) -> float:
    if not (PROB_MIN - ROUNDING <= p <= PROB_MAX + ROUNDING):
        # 70 for 70%: the commonest slip, and the fix is one character.
        hint = f" (for {p:g} percent, write {p:g}%)" if 2 <= p < 100 else ""
        raise InvalidValue(
            f"{what} {p:g} is out of range; probabilities must lie in "
            f"[{PROB_MIN}, {PROB_MAX}]{hint}"
        )
    return p


def _pairs(text: str, form: str) -> list[tuple[str, str]]:
    """NAME=VALUE pairs; ``form`` says what they should look like for this question type."""
    pairs = []
    for part in str(text).split(","):
        if not part.strip():
            continue
        key, sep, val = part.partition("=")
        if not sep:
            raise InvalidValue(f"{part.strip()!r} is not NAME=VALUE; {form}")
        pairs.append((key.strip(), val.strip()))
    if not pairs:
        raise InvalidValue("empty value")
    return pairs


def _match_option(name: str, options: Sequence[str]) -> str:
    for o in options:
        if o == name:
            return o
    lowered = [o for o in options if o.lower() == name.lower()]
    if len(lowered) == 1:
        return lowered[0]
    raise InvalidValue(f"{name!r} is not an option; options are: {', '.join(options)}")


def normalize_value(q: QuestionShape, raw: Any) -> Value:
    """Parse and validate a forecast value for question ``q``. Raises InvalidValue."""
    if q.type == "binary":
        return _binary_value(raw)
    if q.type == "choice":
        return _choice_value(list(q.options or []), raw)
    if q.type == "numeric":
        return _numeric_value(q.min, q.max, raw)
    raise InvalidValue(f"unknown question type {q.type!r}")


def _binary_value(raw: Any) -> float:
    p = float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else None
    if p is None:
        if not isinstance(raw, str):
            raise InvalidValue("a binary forecast is one probability, e.g. 0.7, 70% or 7:3")
        p = parse_probability(raw)
    return _check_prob(p, "probability")


def _choice_value(options: list[str], raw: Any) -> dict[str, float]:
    form = "a choice forecast is OPTION=P pairs, e.g. " + _example(options)
    items: list[tuple[str, Any]]
    if isinstance(raw, Mapping):
        items = list(raw.items())
    elif isinstance(raw, str):
        items = list(_pairs(raw, form))
    else:
        raise InvalidValue(form)
    probs: dict[str, float] = {}
    for name, val in items:
        opt = _match_option(str(name), options)
        if opt in probs:
            raise InvalidValue(f"option {opt!r} given twice")
        p = parse_probability(val) if isinstance(val, str) else _number(val, opt)
        probs[opt] = _check_prob(p, f"probability of {opt!r}")
    missing = [o for o in options if o not in probs]
    if missing:
        raise InvalidValue(f"missing probabilities for {', '.join(missing)}; give every option")
    return _normalised(probs, options)


def _normalised(probs: dict[str, float], options: list[str]) -> dict[str, float]:
    """The probabilities scaled to sum exactly to 1, in option order. They must still lie in
    range, so that a stored value passes these checks again (the crowd skips values that
    don't)."""
    total = sum(probs.values())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise InvalidValue(f"choice probabilities sum to {total:g}; they must sum to 1")
    normalised = {o: probs[o] / total for o in options}
    for o, p in normalised.items():
        if not (PROB_MIN - ROUNDING <= p <= PROB_MAX + ROUNDING):
            raise InvalidValue(
                f"probability of {o!r} becomes {p:.4g} when the probabilities are scaled "
                f"to sum to 1; probabilities must lie in [{PROB_MIN}, {PROB_MAX}]"
            )
    return normalised


def _numeric_value(lo: float | None, hi: float | None, raw: Any) -> dict[str, float]:
    items: list[tuple[str, Any]]
    if isinstance(raw, Mapping):
        items = [(str(k), v) for k, v in raw.items()]
    elif isinstance(raw, str):
        items = list(_pairs(raw, _NUMERIC_FORM))
    else:
        raise InvalidValue(_NUMERIC_FORM)
    given: dict[str, float] = {}
    for key, val in items:
        k = key.lower()
        if k not in QUANTILES:
            raise InvalidValue(f"{key!r} is not a quantile; use {', '.join(QUANTILES)}")
        if k in given:
            raise InvalidValue(f"quantile {k} given twice")
        given[k] = _number(val, k)
    if "p50" not in given:
        raise InvalidValue("a numeric forecast needs at least p50")
    ordered = {k: given[k] for k in QUANTILES if k in given}
    if any(b < a for a, b in itertools.pairwise(ordered.values())):
        raise InvalidValue("quantiles must be non-decreasing (p10 <= p25 <= p50 <= p75 <= p90)")
    if lo is not None and hi is not None:
        for k, v in ordered.items():
            if not (lo <= v <= hi):
                raise InvalidValue(f"{k}={v:g} is outside the question's range [{lo:g}, {hi:g}]")
    return ordered


_NUMERIC_FORM = "a numeric forecast is quantiles, e.g. p10=3.5,p50=5.6,p90=7"


def _example(options: Sequence[str]) -> str:
    if not options:
        return "A=0.5,B=0.5"
    share = round(1 / len(options), 2)
    return ",".join(f"{o}={share}" for o in options)


def normalize_outcome(q: QuestionShape, raw: str) -> str:
    """Parse a resolution outcome into its stored form. Raises InvalidValue."""
    s = str(raw).strip()
    if s.lower() in {"annul", "annulled"}:
        return ANNULLED
    if q.type == "binary":
        if s.lower() in {"yes", "no"}:
            return s.lower()
        raise InvalidValue(f"outcome {s!r} does not fit a binary question; use yes, no or annul")
    if q.type == "choice":
        try:
            return _match_option(s, list(q.options or []))
        except InvalidValue:
            raise InvalidValue(
                f"outcome {s!r} is not an option; use one of {', '.join(q.options or [])} or annul"
            ) from None
    if q.type == "numeric":
        try:
            x = float(s)
        except ValueError:
            raise InvalidValue(f"outcome {s!r} is not a number; give a number or annul") from None
        if not math.isfinite(x):
            raise InvalidValue(f"outcome {s!r} is not a finite number")
        if q.min is not None and q.max is not None and not (q.min <= x <= q.max):
            raise InvalidValue(
                f"outcome {x:g} is outside the question's range [{q.min:g}, {q.max:g}]"
            )
        return str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)
    raise InvalidValue(f"unknown question type {q.type!r}")


def outcome_number(qtype: str, options: Sequence[str], stored: str) -> float | None:
    """A stored outcome (the form ``normalize_outcome`` returns) as the number scoring
    uses: 1.0 for yes and 0.0 for no, an option's index, or the numeric value.

    None for an annulled outcome, and for one that no longer fits the question because its
    type or options were changed (`sync --force`) after it was resolved."""
    if stored == ANNULLED:
        return None
    if qtype == "binary":
        return {"yes": 1.0, "no": 0.0}.get(stored.strip().lower())
    if qtype == "choice":
        return float(list(options).index(stored)) if stored in options else None
    if qtype == "numeric":
        try:
            x = float(stored)
        except ValueError:
            return None
        return x if math.isfinite(x) else None
    return None


def format_value(value: Value | None) -> str:
    """Short human form: 0.7 -> '70%', dicts -> 'A=20% B=80%' or 'p10=3 p50=5'."""
    if value is None:
        return "-"
    if isinstance(value, int | float):
        return f"{value:.0%}" if round(value * 100, 6).is_integer() else f"{value:.1%}"
    if all(k in QUANTILES for k in value):
        return " ".join(f"{k}={v:g}" for k, v in value.items())
    return " ".join(f"{k}={v:.0%}" for k, v in value.items())


def fits(q: QuestionShape, value: Any) -> bool:
    """Whether a stored value still has the question's shape (its type or options may have
    been changed with `sync --force` after the value was recorded)."""
    try:
        normalize_value(q, value)
    except InvalidValue:
        return False
    return True

"""The crowd forecast: one rule, written once in a plain form and once vectorised.

The rule. Take each team member's latest forecast (the paper is never part of it). Order
the N forecasters by when their latest forecast was made, oldest n = 1 to newest n = N, and
weigh each exp(sqrt(n) - sqrt(N)) when N > 2, otherwise 1 (a plain median). The crowd is
the weighted median: the smallest value whose cumulative weight reaches half the total;
when it reaches exactly half (to a relative ``TIE_RTOL``), the mean of that value and the
next, so equal weights give the ordinary median.

* binary: the weighted median of P(yes);
* choice: the weighted median of each option, then renormalised to sum to 1;
* numeric: the weighted median of each quantile over the forecasters who gave it, each
  keeping the weight of their place among *all* the question's forecasters (weights are
  computed once, for everyone, never again for a subset); the medians are then made
  non-decreasing, since medians over different subsets can cross.

A component (an option or a quantile) nobody gave is left out. The plain form, `crowd`, is
per question and reads like the rule; `forecasts show` and `list` use it. It is plain
Python: a question has a handful of forecasters, and those commands should not pay for
loading numpy. The vectorised form, the ``segmented_*`` functions, computes the crowd of
many questions (segments) at once for scoring, with numpy (imported when first called).
``tests/test_crowd.py`` checks that the two agree on random data.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from forecasts.domain.values import QUANTILES, Value

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    F64 = NDArray[np.float64]
    I64 = NDArray[np.int64]

#: Relative tolerance for "the cumulative weight is exactly one half" (a tie).
TIE_RTOL = 1e-12


# --------------------------------------------------------------------------------------
# The plain form: one question at a time


def recency_weights(n: int) -> list[float]:
    """Weights for n forecasts ordered oldest to newest; equal when n <= 2."""
    if n <= 2:
        return [1.0] * n
    root_n = math.sqrt(n)
    return [math.exp(math.sqrt(rank) - root_n) for rank in range(1, n + 1)]


def weighted_median(values: Sequence[float], weights: Sequence[float]) -> float:
    """The smallest value whose cumulative weight reaches half the total; when it reaches
    exactly half, the mean of that value and the next."""
    if len(values) == 0:
        raise ValueError("weighted_median of nothing")
    # sorted() is stable, like the vectorised form's lexsort: equal values keep their order.
    pairs = sorted(zip(map(float, values), map(float, weights), strict=True), key=_first)
    v = [value for value, _ in pairs]
    cum = list(itertools.accumulate(weight for _, weight in pairs))
    half = cum[-1] / 2.0
    tol = TIE_RTOL * cum[-1]
    k = sum(1 for c in cum if c < half - tol)
    if cum[k] <= half + tol and k + 1 < len(v):
        return (v[k] + v[k + 1]) / 2.0
    return v[k]


def _first(pair: tuple[float, float]) -> float:
    return pair[0]


def _component_medians(
    latest: Sequence[dict[str, float]], names: Sequence[str], weights: Sequence[float]
) -> dict[str, float]:
    """Per component, the weighted median over the forecasters who gave it, with the
    weights computed for everyone."""
    out: dict[str, float] = {}
    for name in names:
        given = [i for i, v in enumerate(latest) if name in v]
        if given:
            out[name] = weighted_median(
                [latest[i][name] for i in given], [weights[i] for i in given]
            )
    return out


def crowd(
    qtype: str, latest: Sequence[Value], options: Sequence[str] | None = None
) -> Value | None:
    """The crowd of forecasters' latest values, given oldest first. None when there are
    none."""
    n = len(latest)
    if n == 0:
        return None
    w = recency_weights(n)
    if qtype == "binary":
        return weighted_median([float(v) for v in latest], w)  # type: ignore[arg-type]
    if qtype == "choice":
        meds = _component_medians(latest, list(options or []), w)  # type: ignore[arg-type]
        total = sum(meds.values())
        return {o: p / total for o, p in meds.items()}
    if qtype == "numeric":
        meds = _component_medians(latest, QUANTILES, w)  # type: ignore[arg-type]
        ordered = itertools.accumulate(meds.values(), max)
        return dict(zip(meds, ordered, strict=True))
    raise ValueError(f"unknown question type {qtype!r}")


# --------------------------------------------------------------------------------------
# The vectorised form: many questions (segments) at once (numpy is imported in each
# function: the read commands that use only the plain form never load it)
#
# Elements carry a segment id in [0, n_segments) and a recency (older first; ties by
# position). Empty segments, and components nobody in a segment gave, are NaN.


def segmented_recency_weights(seg: I64, recency: F64, n_segments: int) -> F64:
    """Each element's weight within its segment, by recency (ties by position)."""
    import numpy as np

    seg = np.asarray(seg, dtype=np.int64)
    if seg.size == 0:
        return np.zeros(0)
    by_recency = np.lexsort((np.arange(seg.size), recency, seg))
    counts = np.bincount(seg, minlength=n_segments)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    n_rank = np.empty(seg.size, dtype=np.int64)
    n_rank[by_recency] = np.arange(seg.size) - starts[seg[by_recency]] + 1
    big_n = counts[seg]
    return np.asarray(np.where(big_n > 2, np.exp(np.sqrt(n_rank) - np.sqrt(big_n)), 1.0))


def segmented_weighted_median(seg: I64, values: F64, weights: F64, n_segments: int) -> F64:
    """The weighted median of ``values`` within each segment (the rule of
    `weighted_median`), for all segments at once."""
    import numpy as np

    seg = np.asarray(seg, dtype=np.int64)
    out = np.full(n_segments, np.nan)
    if seg.size == 0:
        return out
    counts = np.bincount(seg, minlength=n_segments)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    by_value = np.lexsort((values, seg))
    vs, ws, ss = values[by_value], weights[by_value], seg[by_value]
    cum = np.cumsum(ws)
    seg_total = np.bincount(ss, weights=ws, minlength=n_segments).astype(np.float64)
    before = np.concatenate(([0.0], np.cumsum(seg_total)[:-1]))
    local = cum - before[ss]
    half = seg_total[ss] / 2.0
    tol = TIE_RTOL * seg_total[ss]
    below = local < half - tol
    k = starts + np.bincount(ss, weights=below, minlength=n_segments).astype(np.int64)
    nonempty = counts > 0
    kk = np.minimum(k, seg.size - 1)
    tie = nonempty & (local[kk] <= half[kk] + tol[kk]) & (k + 1 < starts + counts)
    nxt = np.minimum(kk + 1, seg.size - 1)
    out[nonempty] = np.where(tie, (vs[kk] + vs[nxt]) / 2.0, vs[kk])[nonempty]
    return out


def segmented_component_medians(seg: I64, values: F64, recency: F64, n_segments: int) -> F64:
    """Per segment and column of ``values`` (rows = forecasters, columns = components, NaN
    = not given): the weighted median over the rows that gave it, with the weights of
    every row's place in its segment. Shape (n_segments, columns)."""
    import numpy as np

    seg = np.asarray(seg, dtype=np.int64)
    values = np.asarray(values, dtype=float).reshape(seg.size, -1)
    weights = segmented_recency_weights(seg, recency, n_segments)
    columns = []
    for j in range(values.shape[1]):
        given = ~np.isnan(values[:, j])
        columns.append(
            segmented_weighted_median(seg[given], values[given, j], weights[given], n_segments)
        )
    return np.stack(columns, axis=1) if columns else np.full((n_segments, 0), np.nan)


def segmented_binary_crowd(seg: I64, p_yes: F64, recency: F64, n_segments: int) -> F64:
    """The crowd's P(yes) per segment."""
    return segmented_component_medians(seg, p_yes, recency, n_segments)[:, 0]


def segmented_choice_crowd(seg: I64, probs: F64, recency: F64, n_segments: int) -> F64:
    """The crowd's option probabilities per segment: medians renormalised to sum to 1."""
    import numpy as np

    meds = segmented_component_medians(seg, probs, recency, n_segments)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(meds / np.nansum(meds, axis=1, keepdims=True))


def segmented_numeric_crowd(seg: I64, quantiles: F64, recency: F64, n_segments: int) -> F64:
    """The crowd's quantiles per segment (columns as `QUANTILES`), made non-decreasing."""
    import numpy as np

    meds = segmented_component_medians(seg, quantiles, recency, n_segments)
    return np.asarray(np.where(np.isnan(meds), np.nan, np.fmax.accumulate(meds, axis=1)))

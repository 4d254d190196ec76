"""The metrics, each a small pure function over arrays (also usable on scalars).

Definitions and worked examples: docs/scoring.md.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from forecasts.domain.values import PROB_MAX, PROB_MIN, QUANTILES
from forecasts.scoring.arrays import F64, I64
from forecasts.scoring.grouping import group_sum

#: The level of each quantile in `QUANTILES` ("p10" -> 0.10).
QUANTILE_LEVELS = np.array([int(name[1:]) / 100 for name in QUANTILES])
WILSON_Z = 1.959963984540054  # two-sided 95%


def brier_binary(p: F64 | float, yes: F64 | float) -> F64:
    """Two-sided binary Brier: (p - o)^2 + ((1 - p) - (1 - o))^2 = 2 (p - o)^2."""
    d = np.asarray(p, dtype=float) - np.asarray(yes, dtype=float)
    return np.asarray(2.0 * d * d)


def brier_choice(probs: F64, outcome_index: NDArray[np.integer] | int) -> F64:
    """Sum over options of (p - indicator)^2 for rows of option probabilities."""
    probs = np.atleast_2d(np.asarray(probs, dtype=float))
    idx = np.broadcast_to(np.asarray(outcome_index), probs.shape[:1])
    ind = np.zeros_like(probs)
    ind[np.arange(probs.shape[0]), idx] = 1.0
    return np.asarray(np.nansum((probs - ind) ** 2, axis=1))


def log_score(p_outcome: F64) -> F64:
    """ln of the probability given to what happened, clamped to [PROB_MIN, PROB_MAX]."""
    return np.asarray(np.log(np.clip(p_outcome, PROB_MIN, PROB_MAX)))


def baseline_score(p_outcome: F64, n_options: NDArray[np.integer] | int) -> F64:
    """Metaculus baseline score: 100 * ln(N p) / ln(N); for binary (N=2) 100 * log2(2p)."""
    p = np.clip(np.asarray(p_outcome, dtype=float), PROB_MIN, PROB_MAX)
    n = np.asarray(n_options, dtype=float)
    return np.asarray(100.0 * np.log(n * p) / np.log(n))


def time_average(values: F64, starts: F64, end: float) -> float:
    """Continuous-time mean of a step function: ``values[i]`` stands from ``starts[i]``
    until the next start (or ``end``). Scalar helper for docs and tests."""
    starts = np.asarray(starts, dtype=float)
    nxt = np.append(starts[1:], end)
    dur = np.clip(nxt, None, end) - starts
    return float(np.sum(np.asarray(values) * dur) / np.sum(dur))


def wilson_interval(k: F64 | NDArray[np.integer], n: F64 | NDArray[np.integer]) -> tuple[F64, F64]:
    """95% Wilson score interval for k successes out of n (NaN where n == 0)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z2 = WILSON_Z**2
    with np.errstate(invalid="ignore", divide="ignore"):
        phat = k / n
        denom = 1.0 + z2 / n
        centre = (phat + z2 / (2 * n)) / denom
        half = WILSON_Z * np.sqrt(phat * (1 - phat) / n + z2 / (4 * n * n)) / denom
    lo = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
    hi = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return lo, hi


def bin_index(p: F64, bins: int) -> I64:
    """Equal-width bins [i/N, (i+1)/N), the last one closed at 1. A forecast on an edge
    (70% with 10 bins) goes to the upper bin even when p * N rounds just below it."""
    x = np.asarray(p, dtype=float) * bins
    i = np.floor(x + 1e-9 * np.maximum(1.0, np.abs(x)))
    return np.clip(i, 0, bins - 1).astype(np.int64)


def murphy(p: F64, yes: F64, bins: int) -> tuple[float, float, float]:
    """Murphy decomposition (reliability, resolution, uncertainty) on the 0-2 scale over
    equal-width bins, for one set of binary forecasts."""
    p = np.asarray(p, dtype=float)
    yes = np.asarray(yes, dtype=float)
    if p.size == 0:
        return (math.nan, math.nan, math.nan)
    b = bin_index(p, bins)
    n_k = np.bincount(b, minlength=bins).astype(float)
    f_k = group_sum(b, p, bins)
    o_k = group_sum(b, yes, bins)
    rel, res, unc = murphy_terms(n_k[None], f_k[None], o_k[None])
    return float(rel[0]), float(res[0]), float(unc[0])


def murphy_terms(n_k: F64, sum_f: F64, sum_o: F64) -> tuple[F64, F64, F64]:
    """Murphy terms per row from per-bin counts, sums of forecasts and sums of outcomes
    (rows = scorers, columns = bins); NaN for a row without forecasts."""
    n = n_k.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        fbar = sum_f / n_k
        obar_k = sum_o / n_k
        obar = sum_o.sum(axis=1) / n
        rel = 2.0 * np.nansum(n_k * (fbar - obar_k) ** 2, axis=1) / n
        res = 2.0 * np.nansum(n_k * (obar_k - obar[:, None]) ** 2, axis=1) / n
        unc = 2.0 * obar * (1.0 - obar)
    bad = n == 0
    return (np.where(bad, np.nan, rel), np.where(bad, np.nan, res), np.where(bad, np.nan, unc))


def pinball_loss(quantiles: F64, outcome: F64) -> F64:
    """Mean pinball loss over the quantiles present (rows as `QUANTILES`, NaN = missing)."""
    q = np.atleast_2d(np.asarray(quantiles, dtype=float))
    y = np.asarray(outcome, dtype=float).reshape(-1, 1)
    diff = y - q
    loss = np.maximum(QUANTILE_LEVELS * diff, (QUANTILE_LEVELS - 1.0) * diff)
    present = ~np.isnan(q)
    with np.errstate(invalid="ignore"):
        return np.asarray(
            np.where(present, loss, 0.0).sum(axis=1) / present.sum(axis=1).astype(float)
        )

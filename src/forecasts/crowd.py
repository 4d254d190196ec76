"""The crowd forecast: a recency-weighted median of each forecaster's latest forecast.

With N forecasters ordered by when their latest forecast was made (oldest n=1, newest
n=N), weights are exp(sqrt(n) - sqrt(N)) when N > 2, otherwise equal (a plain median).
Choice forecasts take the weighted median per option, renormalised to sum to 1; numeric
forecasts take it per quantile, over the forecasters who gave that quantile.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from forecasts.domain.values import QUANTILES, Value


def recency_weights(n: int) -> np.ndarray:
    """Weights for n forecasts ordered oldest to newest."""
    if n <= 2:
        return np.ones(n)
    ranks = np.arange(1, n + 1, dtype=float)
    return np.exp(np.sqrt(ranks) - np.sqrt(n))


def weighted_median(values: Any, weights: Any) -> float:
    """The value at which cumulative weight first reaches half the total.

    When the cumulative weight lands exactly on one half, the two neighbouring values are
    averaged, so equal weights give the ordinary median.
    """
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    if v.size == 0:
        raise ValueError("weighted_median of nothing")
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w)
    half = cum[-1] / 2.0
    i = int(np.searchsorted(cum, half - 1e-12 * cum[-1]))
    if np.isclose(cum[i], half, rtol=1e-12, atol=0.0) and i + 1 < v.size:
        return float((v[i] + v[i + 1]) / 2.0)
    return float(v[i])


def crowd(
    qtype: str, latest: Sequence[Value], options: Sequence[str] | None = None
) -> Value | None:
    """Aggregate forecasters' latest values, given oldest first. None when there are none."""
    n = len(latest)
    if n == 0:
        return None
    w = recency_weights(n)
    if qtype == "binary":
        return weighted_median([float(v) for v in latest], w)  # type: ignore[arg-type]
    if qtype == "choice":
        opts = list(options or [])
        mat = np.array([[float(v[o]) for o in opts] for v in latest])  # type: ignore[index]
        med = np.array([weighted_median(mat[:, j], w) for j in range(len(opts))])
        med = med / med.sum()
        return {o: float(p) for o, p in zip(opts, med, strict=True)}
    if qtype == "numeric":
        out: dict[str, float] = {}
        for k in QUANTILES:
            idx = [i for i, v in enumerate(latest) if k in v]  # type: ignore[operator]
            if idx:
                out[k] = weighted_median([latest[i][k] for i in idx], w[idx])  # type: ignore[index]
        # Medians per quantile over different subsets can cross; keep them ordered.
        vals = np.maximum.accumulate(np.array(list(out.values())))
        return {k: float(x) for k, x in zip(out, vals, strict=True)}
    raise ValueError(f"unknown question type {qtype!r}")

"""Sorting and grouping helpers shared by the scoring steps (no Python loops over items)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from forecasts.scoring.arrays import F64, I64, BoolA


def group_sum(idx: NDArray[np.integer], weights: NDArray[np.floating] | BoolA, n: int) -> F64:
    """Sums of ``weights`` per index in [0, n) (always float, even when empty)."""
    return np.bincount(idx, weights=weights, minlength=n).astype(np.float64, copy=False)


def dense_rank(x: F64) -> I64:
    """Rank of each value among the sorted values (equal values share the rank)."""
    if x.size == 0:
        return np.zeros(0, dtype=np.int64)
    perm = np.argsort(x)
    xs = x[perm]
    step = np.empty(x.size, dtype=np.int64)
    step[0] = 0
    np.not_equal(xs[1:], xs[:-1], out=step[1:])
    ranks = np.empty(x.size, dtype=np.int64)
    ranks[perm] = np.cumsum(step)
    return ranks


def stable_order(keys: list[I64]) -> I64:
    """Stable argsort by several non-negative integer keys (most significant first).

    Packs the keys and the position into one int64 and uses numpy's fast sort when they
    fit in 63 bits; falls back to lexsort otherwise.
    """
    n = keys[0].shape[0]
    pos_bits = max(1, int(n).bit_length())
    bits = [max(1, int(k.max(initial=0)).bit_length()) for k in keys]
    if sum(bits) + pos_bits <= 63:
        packed = np.zeros(n, dtype=np.int64)
        for k, b in zip(keys, bits, strict=True):
            packed = (packed << b) | k.astype(np.int64)
        packed = (packed << pos_bits) | np.arange(n, dtype=np.int64)
        packed.sort()
        return packed & ((1 << pos_bits) - 1)
    return np.lexsort([np.arange(n), *reversed(keys)]).astype(np.int64)

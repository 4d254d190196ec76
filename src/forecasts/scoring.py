"""Scores and calibration as pure functions over numpy arrays. No I/O, no database.

The definitions are in docs/scoring.md. In short, for every *scorer* (each person, plus the
crowd as a pseudo-forecaster):

* only resolved, non-annulled questions count (the caller passes only those);
* the *final forecast* on a question is the last one made strictly before the question's
  ``end`` = min(end of ``closes`` day, start of ``resolved_on`` day);
* Brier is the sum over outcomes of (p - indicator)^2 (0-2 scale); binary 0.7 on yes -> 0.18;
* time averages are continuous-time means of the Brier of the forecast standing at each
  moment, from the forecaster's first forecast (or ``opens``, if later) to ``end``;
* the crowd is the recency-weighted median of each forecaster's latest forecast, with
  weights exp(sqrt(n) - sqrt(N)) from oldest n=1 to newest n=N when N > 2, otherwise a
  plain median; the ``paper`` forecaster is never part of it. For choice questions each
  option's median is taken, then the medians are renormalised to sum to 1;
* relative Brier compares a forecaster with the crowd of *everyone else* at every moment
  both have a forecast standing (a leave-one-out crowd, computed exactly).

Times are float seconds (POSIX). Everything here is vectorised: there are no Python loops
over forecasts; the few loops go over chunks of questions, options, or walk steps.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

BINARY, CHOICE, NUMERIC = 0, 1, 2
KIND_NAMES = ("binary", "choice", "numeric")
PROB_CLAMP = (0.001, 0.999)
QUANTILE_NAMES = ("p10", "p25", "p50", "p75", "p90")
QUANTILE_LEVELS = np.array([0.10, 0.25, 0.50, 0.75, 0.90])
WILSON_Z = 1.959963984540054  # two-sided 95%

# Elements (rows x forecasters) per chunk in the crowd computation; bounds memory.
CHUNK_ELEMENTS = 262_144
CHUNK_MIN_ROWS = 2048  # wide questions: at least this many rows per chunk
# Relative tolerance for "the cumulative weight is exactly one half" (a tie).
_TIE_RTOL = 1e-12

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
I32 = NDArray[np.int32]
BoolA = NDArray[np.bool_]


# --------------------------------------------------------------------------------------
# Inputs and outputs


@dataclass(frozen=True)
class QuestionArrays:
    """One row per resolved, non-annulled question.

    ``outcome``: binary 1.0 (yes) / 0.0 (no); choice: the index of the true option;
    numeric: the resolved value. ``end`` is min(closes 24:00, resolved_on 00:00) in seconds.
    ``range_width`` is max - min for numeric questions (NaN if unknown).
    """

    kind: NDArray[np.int8]
    n_options: I32
    outcome: F64
    opens: F64
    end: F64
    range_width: F64

    def __len__(self) -> int:
        return int(self.kind.shape[0])


@dataclass(frozen=True)
class ForecastArrays:
    """One row per forecast, in any order (ties in time are broken by row order).

    ``p_yes`` holds binary forecasts (NaN for others). Choice forecasts point with
    ``choice_row`` into ``choice`` (rows of option probabilities in option order, NaN
    padded); numeric forecasts point with ``quantile_row`` into ``quantiles`` (columns
    p10, p25, p50, p75, p90, NaN where missing). Unused rows hold -1.
    """

    question: I32
    person: I32
    made_at: F64
    p_yes: F64
    choice_row: I32
    choice: F64
    quantile_row: I32
    quantiles: F64

    def __len__(self) -> int:
        return int(self.question.shape[0])


@dataclass
class Scores:
    """Per-scorer results. Scorer s < n_persons is person s; scorer n_persons is the crowd.

    Means are NaN where undefined; the ``n_*`` arrays say how many questions each covers.
    """

    n_persons: int
    bins: int
    questions: I64
    n_binary: I64
    n_choice: I64
    n_numeric: I64
    brier: F64
    n_brier: I64
    brier_time_avg: F64
    coverage: F64
    n_time_avg: I64
    relative_brier: F64
    n_relative: I64
    log_score: F64
    baseline_score: F64
    cal_n: I64  # (scorers, bins)
    cal_sum_p: F64
    cal_sum_o: F64
    reliability: F64
    resolution: F64
    uncertainty: F64
    binary_brier: F64
    pinball: F64
    n_pinball: I64
    inside_80: I64
    n_80: I64
    inside_50: I64
    n_50: I64
    predictions: I64
    came_true: I64
    undecided: I64
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def crowd(self) -> int:
        return self.n_persons


# --------------------------------------------------------------------------------------
# Small pure helpers (scalar-friendly, also used by tests and docs)


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
    """ln of the probability given to what happened, clamped to [0.001, 0.999]."""
    return np.asarray(np.log(np.clip(p_outcome, *PROB_CLAMP)))


def baseline_score(p_outcome: F64, n_options: NDArray[np.integer] | int) -> F64:
    """Metaculus baseline score: 100 * ln(N p) / ln(N); for binary (N=2) 100 * log2(2p)."""
    p = np.clip(np.asarray(p_outcome, dtype=float), *PROB_CLAMP)
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
    """Murphy decomposition on the 0-2 scale over equal-width bins (scalar helper)."""
    p = np.asarray(p, dtype=float)
    yes = np.asarray(yes, dtype=float)
    if p.size == 0:
        return (math.nan, math.nan, math.nan)
    b = bin_index(p, bins)
    n_k = np.bincount(b, minlength=bins).astype(float)
    f_k = _bsum(b, p, bins)
    o_k = _bsum(b, yes, bins)
    rel, res, unc = _murphy_terms(n_k[None], f_k[None], o_k[None])
    return float(rel[0]), float(res[0]), float(unc[0])


def _murphy_terms(n_k: F64, sum_f: F64, sum_o: F64) -> tuple[F64, F64, F64]:
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
    """Mean pinball loss over the quantiles present (rows of p10..p90, NaN = missing)."""
    q = np.atleast_2d(np.asarray(quantiles, dtype=float))
    y = np.asarray(outcome, dtype=float).reshape(-1, 1)
    diff = y - q
    loss = np.maximum(QUANTILE_LEVELS * diff, (QUANTILE_LEVELS - 1.0) * diff)
    present = ~np.isnan(q)
    with np.errstate(invalid="ignore"):
        return np.asarray(
            np.where(present, loss, 0.0).sum(axis=1) / present.sum(axis=1).astype(float)
        )


def crowd_weights(n_standing: int) -> F64:
    """Recency weights from oldest (n=1) to newest (n=N); equal when N <= 2."""
    if n_standing <= 2:
        return np.ones(n_standing)
    n = np.arange(1, n_standing + 1, dtype=float)
    return np.asarray(np.exp(np.sqrt(n) - math.sqrt(n_standing)))


def weighted_median_of(values: F64, weights: F64) -> float:
    """The smallest value whose cumulative weight reaches half the total; when it reaches
    exactly half, the mean of that value and the next (so equal weights give the plain
    median). Scalar reference used by tests and by ``segmented_weighted_median``'s docs."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    if v.size == 0:
        return math.nan
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w)
    half = cum[-1] / 2.0
    tol = _TIE_RTOL * cum[-1]
    k = int(np.sum(cum < half - tol))
    if cum[k] <= half + tol and k + 1 < v.size:
        return float((v[k] + v[k + 1]) / 2.0)
    return float(v[k])


def segmented_weighted_median(
    seg: I64, values: F64, recency: F64, n_segments: int, weights: F64 | None = None
) -> F64:
    """Recency-weighted median of ``values`` within each segment id in [0, n_segments).

    ``recency`` orders elements within a segment (older first; ties by position) and gives
    the crowd weights; or pass ``weights`` explicitly. Empty segments give NaN. Vectorised
    over all segments at once.
    """
    seg = np.asarray(seg, dtype=np.int64)
    out = np.full(n_segments, np.nan)
    if seg.size == 0:
        return out
    counts = np.bincount(seg, minlength=n_segments)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    w = crowd_weights_segmented(seg, recency, n_segments) if weights is None else weights
    o2 = np.lexsort((values, seg))
    vs, ws, ss = values[o2], w[o2], seg[o2]
    cum = np.cumsum(ws)
    seg_tot = _bsum(ss, ws, n_segments)
    base = np.concatenate(([0.0], np.cumsum(seg_tot)[:-1]))
    local = cum - base[ss]
    half = seg_tot[ss] / 2.0
    tol = _TIE_RTOL * seg_tot[ss]
    below = local < half - tol
    k = starts + _bsum(ss, below, n_segments).astype(np.int64)
    nonempty = counts > 0
    kk = np.minimum(k, seg.size - 1)
    tie = nonempty & (local[kk] <= half[kk] + tol[kk]) & (k + 1 < starts + counts)
    nxt = np.minimum(kk + 1, seg.size - 1)
    out[nonempty] = np.where(tie, (vs[kk] + vs[nxt]) / 2.0, vs[kk])[nonempty]
    return out


def crowd_weights_segmented(seg: I64, recency: F64, n_segments: int) -> F64:
    """Crowd weights of each element within its segment, by recency (ties by position)."""
    seg = np.asarray(seg, dtype=np.int64)
    if seg.size == 0:
        return np.zeros(0)
    o1 = np.lexsort((np.arange(seg.size), recency, seg))
    counts = np.bincount(seg, minlength=n_segments)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    n_rank = np.empty(seg.size, dtype=np.int64)
    n_rank[o1] = np.arange(seg.size) - starts[seg[o1]] + 1
    big_n = counts[seg]
    return np.asarray(np.where(big_n > 2, np.exp(np.sqrt(n_rank) - np.sqrt(big_n)), 1.0))


# --------------------------------------------------------------------------------------
# Sorting helpers


def _bsum(idx: NDArray[np.integer], weights: NDArray[np.floating] | BoolA, n: int) -> F64:
    """Sums of ``weights`` per index (always float, even when empty)."""
    return np.bincount(idx, weights=weights, minlength=n).astype(np.float64, copy=False)


def _dense_rank(x: F64) -> I64:
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


def _order(keys: list[I64]) -> I64:
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


# --------------------------------------------------------------------------------------
# The scorer


def score(
    questions: QuestionArrays,
    forecasts: ForecastArrays,
    n_persons: int,
    paper: int = -1,
    bins: int = 10,
) -> Scores:
    """Score every person (and the crowd) on the given resolved questions."""
    if bins < 1:
        raise ValueError("bins must be >= 1")
    n_q = len(questions)
    crowd = n_persons
    n_scorers = n_persons + 1

    # 1. Forecasts inside their question's window, sorted by (question, time, row).
    fq_all = forecasts.question.astype(np.int64)
    inwin = np.zeros(len(forecasts), dtype=bool)
    if n_q:
        inwin = forecasts.made_at < questions.end[fq_all]
    idx = np.nonzero(inwin)[0]
    order = idx[_order([fq_all[idx], _dense_rank(forecasts.made_at[idx])])] if idx.size else idx
    fq = fq_all[order]
    fp = forecasts.person[order].astype(np.int64)
    ft = forecasts.made_at[order]
    kind = questions.kind[fq].astype(np.int64) if n_q else np.zeros(0, np.int64)
    n = order.size

    # 2. Same forecaster, same question: next forecast and last (final) forecast.
    o2 = _order([fq, fp])  # stable: keeps time order inside each (question, person)
    same_next = np.zeros(n, dtype=bool)
    if n:
        same_next[o2[:-1]] = (fq[o2[:-1]] == fq[o2[1:]]) & (fp[o2[:-1]] == fp[o2[1:]])
    next_idx = np.full(n, -1, dtype=np.int64)
    next_idx[o2[:-1]] = np.where(same_next[o2[:-1]], o2[1:], -1)
    is_last = ~same_next
    first_of = np.ones(n, dtype=bool)
    if n:
        first_of[o2[1:]] = ~same_next[o2[:-1]]
    # (question, person) group id for every forecast.
    qp_id = np.empty(n, dtype=np.int64)
    qp_id[o2] = np.cumsum(first_of[o2]) - 1
    n_qp = int(qp_id.max(initial=-1)) + 1
    qp_q = np.zeros(n_qp, dtype=np.int64)
    qp_p = np.zeros(n_qp, dtype=np.int64)
    qp_q[qp_id] = fq
    qp_p[qp_id] = fp

    # 3. Per-forecast Brier, probability on the outcome, number of outcomes.
    out_q = questions.outcome[fq] if n else np.zeros(0)
    b = np.full(n, np.nan)
    p_out = np.full(n, np.nan)
    nopt = questions.n_options[fq].astype(np.int64) if n else np.zeros(0, np.int64)
    is_bin = kind == BINARY
    is_ch = kind == CHOICE
    pb = forecasts.p_yes[order]
    b[is_bin] = brier_binary(pb[is_bin], out_q[is_bin])
    p_out[is_bin] = np.where(out_q[is_bin] == 1.0, pb[is_bin], 1.0 - pb[is_bin])
    ch_rows = forecasts.choice_row[order][is_ch]
    if ch_rows.size:
        probs = forecasts.choice[ch_rows]
        oi = out_q[is_ch].astype(np.int64)
        b[is_ch] = brier_choice(probs, oi)
        p_out[is_ch] = probs[np.arange(oi.size), oi]

    scored = is_bin | is_ch
    # 4. Time averages: each forecast stands until the forecaster's next one (or end).
    opens_q = questions.opens[fq] if n else np.zeros(0)
    end_q = questions.end[fq] if n else np.zeros(0)
    t_next = np.where(next_idx >= 0, ft[np.maximum(next_idx, 0)], end_q)
    dur = np.clip(np.minimum(t_next, end_q) - np.maximum(ft, opens_q), 0.0, None)
    m = scored
    ta_num = _bsum(qp_id[m], (b * dur)[m], n_qp)
    ta_den = _bsum(qp_id[m], dur[m], n_qp)
    window = np.zeros(n_qp)
    if n_qp:
        window = questions.end[qp_q] - questions.opens[qp_q]

    # 5. Crowd final forecasts (the crowd as a pseudo-forecaster) on every question type.
    finals = np.nonzero(is_last)[0]
    team_final = finals[fp[finals] != paper]
    cf = _crowd_finals(questions, forecasts, order, fq, ft, kind, team_final)

    # 6. Per (question, scorer) table of final-forecast metrics.
    f_scorer = fp[finals]
    f_q = fq[finals]
    f_kind = kind[finals]
    f_b = b[finals]
    f_pout = p_out[finals]
    f_nopt = nopt[finals]
    f_pyes = pb[finals]
    f_quant = np.full((finals.size, 5), np.nan)
    nr = forecasts.quantile_row[order][finals]
    has_num = (f_kind == NUMERIC) & (nr >= 0)
    if has_num.any():
        f_quant[has_num] = forecasts.quantiles[nr[has_num]]
    f_choice_top = np.full(finals.size, -2, dtype=np.int64)  # -2: n/a, -1: no unique top
    chf = np.nonzero(f_kind == CHOICE)[0]
    if chf.size:
        probs = forecasts.choice[forecasts.choice_row[order][finals[chf]]]
        f_choice_top[chf] = _unique_argmax(probs)
    # crowd rows
    cq = np.nonzero(cf.defined)[0]
    f_scorer = np.concatenate([f_scorer, np.full(cq.size, crowd)])
    f_q = np.concatenate([f_q, cq])
    ck = questions.kind[cq].astype(np.int64)
    f_kind = np.concatenate([f_kind, ck])
    f_b = np.concatenate([f_b, cf.brier[cq]])
    f_pout = np.concatenate([f_pout, cf.p_out[cq]])
    f_nopt = np.concatenate([f_nopt, questions.n_options[cq].astype(np.int64)])
    f_pyes = np.concatenate([f_pyes, cf.p_yes[cq]])
    f_quant = np.concatenate([f_quant, cf.quantiles[cq]])
    f_choice_top = np.concatenate([f_choice_top, cf.choice_top[cq]])
    f_out = questions.outcome[f_q] if f_q.size else np.zeros(0)

    res = _aggregate(
        n_scorers=n_scorers,
        bins=bins,
        scorer=f_scorer,
        kind=f_kind,
        brier=f_b,
        p_out=f_pout,
        n_options=f_nopt,
        p_yes=f_pyes,
        quant=f_quant,
        outcome=f_out,
        choice_top=f_choice_top,
        range_width=questions.range_width[f_q] if f_q.size else np.zeros(0),
    )
    res.n_persons = n_persons
    # Free the per-forecast temporaries before the crowd, the memory-hungry part.
    del out_q, p_out, nopt, pb, opens_q, end_q, t_next, dur, is_last, first_of, same_next
    del f_scorer, f_q, f_kind, f_b, f_pout, f_nopt, f_pyes, f_quant, f_out, inwin, idx, o2

    # 7. The crowd over time, leave-one-out for relative Brier.
    crowd_acc = _crowd_over_time(
        questions, forecasts, order, fq, fp, ft, kind, b, qp_id, n_qp, next_idx, paper
    )

    # Time averages and coverage per scorer (binary and choice questions with a window).
    ok = (ta_den > 0) & (window > 0)
    per_ta = np.where(ok, ta_num / np.where(ok, ta_den, 1.0), 0.0)
    per_cov = np.where(ok, ta_den / np.where(window > 0, window, 1.0), 0.0)
    ta_sum = _bsum(qp_p[ok], per_ta[ok], n_scorers)
    cov_sum = _bsum(qp_p[ok], per_cov[ok], n_scorers)
    ta_cnt = np.bincount(qp_p[ok], minlength=n_scorers).astype(np.int64)
    # the crowd
    cwin = questions.end - questions.opens
    cok = (crowd_acc.crowd_den > 0) & (cwin > 0)
    ta_sum[crowd] = np.sum(crowd_acc.crowd_num[cok] / crowd_acc.crowd_den[cok])
    cov_sum[crowd] = np.sum(crowd_acc.crowd_den[cok] / cwin[cok])
    ta_cnt[crowd] = int(cok.sum())
    res.n_time_avg = ta_cnt
    with np.errstate(invalid="ignore", divide="ignore"):
        res.brier_time_avg = np.where(ta_cnt > 0, ta_sum / ta_cnt, np.nan)
        res.coverage = np.where(ta_cnt > 0, cov_sum / ta_cnt, np.nan)

    # Relative Brier per scorer: mean over questions of the per-question difference.
    rok = crowd_acc.rel_den > 0
    per_rel = np.where(rok, crowd_acc.rel_num / np.where(rok, crowd_acc.rel_den, 1.0), 0.0)
    rel_sum = _bsum(qp_p[rok], per_rel[rok], n_scorers)
    rel_cnt = np.bincount(qp_p[rok], minlength=n_scorers).astype(np.int64)
    if paper >= 0:
        pok = crowd_acc.paper_den > 0
        rel_sum[paper] = np.sum(crowd_acc.paper_num[pok] / crowd_acc.paper_den[pok])
        rel_cnt[paper] = int(pok.sum())
    rel_cnt[crowd] = 0
    res.n_relative = rel_cnt
    with np.errstate(invalid="ignore", divide="ignore"):
        res.relative_brier = np.where(rel_cnt > 0, rel_sum / rel_cnt, np.nan)
    res.extra = {
        "crowd_pairs": crowd_acc.pairs,
        "sparse_pairs": crowd_acc.sparse,
        "walked_pairs": crowd_acc.walked,
    }
    return res


def _unique_argmax(probs: F64) -> I64:
    top = np.nanargmax(probs, axis=1)
    mx = probs[np.arange(probs.shape[0]), top]
    ties = (np.isclose(probs, mx[:, None], rtol=0, atol=1e-12)).sum(axis=1) > 1
    return np.where(ties, -1, top).astype(np.int64)


def _aggregate(
    *,
    n_scorers: int,
    bins: int,
    scorer: I64,
    kind: I64,
    brier: F64,
    p_out: F64,
    n_options: I64,
    p_yes: F64,
    quant: F64,
    outcome: F64,
    choice_top: I64,
    range_width: F64,
) -> Scores:
    """Per-scorer means of final-forecast metrics (one row per scored question)."""

    def cnt(mask: BoolA) -> I64:
        return np.bincount(scorer[mask], minlength=n_scorers).astype(np.int64)

    def total(mask: BoolA, w: F64) -> F64:
        return _bsum(scorer[mask], w[mask], n_scorers)

    def mean(mask: BoolA, w: F64) -> tuple[F64, I64]:
        c = cnt(mask)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(c > 0, total(mask, w) / c, np.nan), c

    is_bin = kind == BINARY
    is_ch = kind == CHOICE
    is_num = kind == NUMERIC
    prob = (is_bin | is_ch) & ~np.isnan(brier)
    brier_mean, n_brier = mean(prob, brier)
    ls = np.where(prob, log_score(np.where(prob, p_out, 0.5)), np.nan)
    bs = np.where(
        prob, baseline_score(np.where(prob, p_out, 0.5), np.maximum(n_options, 2)), np.nan
    )
    log_mean, _ = mean(prob, ls)
    base_mean, _ = mean(prob, bs)

    # Calibration and Murphy over binary final forecasts.
    bm = is_bin & ~np.isnan(p_yes)
    bi = bin_index(np.where(bm, p_yes, 0.0), bins)
    key = scorer * bins + bi
    size = n_scorers * bins
    cal_n = np.bincount(key[bm], minlength=size).reshape(n_scorers, bins).astype(np.int64)
    cal_p = _bsum(key[bm], p_yes[bm], size).reshape(n_scorers, bins)
    cal_o = _bsum(key[bm], outcome[bm], size).reshape(n_scorers, bins)
    rel, res_, unc = _murphy_terms(cal_n.astype(float), cal_p, cal_o)
    bin_brier, _ = mean(bm, np.where(bm, brier, 0.0))

    # Numeric: scaled pinball loss and interval coverage.
    nm = is_num & ~np.all(np.isnan(quant), axis=1)
    pin = np.full(scorer.size, np.nan)
    if nm.any():
        pin[nm] = pinball_loss(quant[nm], outcome[nm]) / range_width[nm]
    pm = nm & np.isfinite(pin)
    pin_mean, n_pin = mean(pm, np.where(pm, pin, 0.0))
    y = outcome
    m80 = nm & ~np.isnan(quant[:, 0]) & ~np.isnan(quant[:, 4])
    in80 = m80 & (quant[:, 0] <= y) & (y <= quant[:, 4])
    m50 = nm & ~np.isnan(quant[:, 1]) & ~np.isnan(quant[:, 3])
    in50 = m50 & (quant[:, 1] <= y) & (y <= quant[:, 3])

    # Did the prediction come true? binary: P(yes) on the right side of 0.5; choice: the
    # unique most likely option happened. 50% and tied tops are undecided.
    dec_bin = is_bin & (p_yes != 0.5) & ~np.isnan(p_yes)
    hit_bin = dec_bin & ((p_yes > 0.5) == (outcome == 1.0))
    dec_ch = is_ch & (choice_top >= 0)
    hit_ch = dec_ch & (choice_top == outcome)
    und = (is_bin & (p_yes == 0.5)) | (is_ch & (choice_top == -1))

    return Scores(
        n_persons=n_scorers - 1,
        bins=bins,
        questions=cnt(np.ones(scorer.size, dtype=bool)),
        n_binary=cnt(is_bin),
        n_choice=cnt(is_ch),
        n_numeric=cnt(is_num),
        brier=brier_mean,
        n_brier=n_brier,
        brier_time_avg=np.full(n_scorers, np.nan),
        coverage=np.full(n_scorers, np.nan),
        n_time_avg=np.zeros(n_scorers, dtype=np.int64),
        relative_brier=np.full(n_scorers, np.nan),
        n_relative=np.zeros(n_scorers, dtype=np.int64),
        log_score=log_mean,
        baseline_score=base_mean,
        cal_n=cal_n,
        cal_sum_p=cal_p,
        cal_sum_o=cal_o,
        reliability=rel,
        resolution=res_,
        uncertainty=unc,
        binary_brier=bin_brier,
        pinball=pin_mean,
        n_pinball=n_pin,
        inside_80=cnt(in80),
        n_80=cnt(m80),
        inside_50=cnt(in50),
        n_50=cnt(m50),
        predictions=cnt(dec_bin | dec_ch),
        came_true=cnt(hit_bin | hit_ch),
        undecided=cnt(und),
    )


# --------------------------------------------------------------------------------------
# Crowd final forecasts


@dataclass
class _CrowdFinals:
    defined: BoolA
    brier: F64
    p_out: F64
    p_yes: F64
    quantiles: F64
    choice_top: I64


def _crowd_finals(
    questions: QuestionArrays,
    forecasts: ForecastArrays,
    order: I64,
    fq: I64,
    ft: F64,
    kind: I64,
    team_final: I64,
) -> _CrowdFinals:
    """The crowd's final forecast per question: the recency-weighted median of the team's
    final forecasts (per option for choice, renormalised; per quantile for numeric)."""
    n_q = len(questions)
    out = _CrowdFinals(
        defined=np.zeros(n_q, dtype=bool),
        brier=np.full(n_q, np.nan),
        p_out=np.full(n_q, np.nan),
        p_yes=np.full(n_q, np.nan),
        quantiles=np.full((n_q, 5), np.nan),
        choice_top=np.full(n_q, -2, dtype=np.int64),
    )
    if team_final.size == 0:
        return out
    q = fq[team_final]
    t = ft[team_final]
    k = kind[team_final]
    # binary
    mb = k == BINARY
    if mb.any():
        med = segmented_weighted_median(q[mb], forecasts.p_yes[order[team_final[mb]]], t[mb], n_q)
        has = ~np.isnan(med) & (questions.kind == BINARY)
        o = questions.outcome
        out.p_yes[has] = med[has]
        out.brier[has] = brier_binary(med[has], o[has])
        out.p_out[has] = np.where(o[has] == 1.0, med[has], 1.0 - med[has])
        out.defined |= has
    # choice: per option, then renormalise
    mc = k == CHOICE
    if mc.any():
        rows = forecasts.choice[forecasts.choice_row[order[team_final[mc]]]]
        n_opt = rows.shape[1]
        cols = []
        for j in range(n_opt):
            g = ~np.isnan(rows[:, j])
            cols.append(segmented_weighted_median(q[mc][g], rows[g, j], t[mc][g], n_q))
        meds = np.stack(cols, axis=1)
        has = ~np.all(np.isnan(meds), axis=1) & (questions.kind == CHOICE)
        if has.any():
            mm = meds[has]
            mm = mm / np.nansum(mm, axis=1, keepdims=True)
            oi = questions.outcome[has].astype(np.int64)
            out.brier[has] = brier_choice(mm, oi)
            out.p_out[has] = mm[np.arange(oi.size), oi]
            out.choice_top[has] = _unique_argmax(mm)
            out.defined |= has
    # numeric: per quantile, over the forecasters who gave that quantile, with the weights
    # of their place among all the question's forecasters (as forecasts.crowd does)
    mn = (k == NUMERIC) & (forecasts.quantile_row[order[team_final]] >= 0)
    if mn.any():
        qs = forecasts.quantiles[forecasts.quantile_row[order[team_final[mn]]]]
        wn = crowd_weights_segmented(q[mn], t[mn], n_q)
        for j in range(5):
            g = ~np.isnan(qs[:, j])
            out.quantiles[:, j] = segmented_weighted_median(
                q[mn][g], qs[g, j], t[mn][g], n_q, weights=wn[g]
            )
        # medians per quantile over different subsets can cross; keep them ordered
        out.quantiles = np.where(
            np.isnan(out.quantiles), np.nan, np.fmax.accumulate(out.quantiles, axis=1)
        )
        has = ~np.all(np.isnan(out.quantiles), axis=1) & (questions.kind == NUMERIC)
        out.defined |= has
    return out


# --------------------------------------------------------------------------------------
# The crowd over time (vectorised, exact leave-one-out)
#
# Every event (a forecast on a binary or choice question) starts a *row*: the stretch of
# time until the next event on the same question, during which every forecaster's latest
# forecast stands. For each row we need the crowd (for the crowd's own time average and the
# paper's relative Brier) and, for every team member standing in it, the crowd *without
# them*. The rows of a chunk of questions form matrices of (forecaster slot x row):
#
# 1. "recency layout": each row's standing forecasts sorted from oldest to newest, so the
#    slot gives the recency rank n (1 = oldest) and the weight U[n] ~ exp(sqrt(n)).
# 2. "value layout": the same sorted by (value, rank); a cumulative sum of the weights gives
#    the crossing position c of the weighted median, and the group of equal values there.
# 3. Removing the element of rank r keeps everyone older at their weight and moves everyone
#    newer down one rank (weight U[n-1]); the new total is U[1] + ... + U[N-1] whatever r
#    is. The leave-one-out cumulative weight of the elements up to a value boundary is
#        A(r) = S0 - [r inside] U[r] - sum_{n > r, inside} (U[n] - U[n-1]),
#    one cumulative sum over the recency layout. Comparing A(r) at the two edges of the
#    median's value group with half the new total tells whether the leave-one-out median
#    keeps the crowd's value (most forecasters), or not (then an exact walk from the edge).
# 4. Forecasters who keep the crowd's value contribute through prefix sums over rows; only
#    the others are gathered, as sparse corrections.
#
# Chunks of questions are independent, so they run on a small thread pool (numpy releases
# the GIL in its loops).

CROWD_THREADS = min(2, os.cpu_count() or 1)


@dataclass
class _CrowdAcc:
    rel_num: F64  # per (question, person) group: integral of (own - crowd-without-me)
    rel_den: F64  # ... and the time both stood
    paper_num: F64  # per question: paper's own minus the crowd
    paper_den: F64
    crowd_num: F64  # per question: integral of the crowd's Brier
    crowd_den: F64  # ... and the time a crowd existed
    pairs: int = 0
    sparse: int = 0
    walked: int = 0


def _weight_table(n_max: int) -> tuple[F64, F64, F64]:
    """U[n] proportional to exp(sqrt(n)) (U[0] = 0), its differences and cumulative sums."""
    n = np.arange(n_max + 2, dtype=float)
    u = np.exp(np.sqrt(n) - math.sqrt(n_max + 1))
    u[0] = 0.0
    d = np.diff(u, prepend=0.0)
    return u, d, np.cumsum(u)


def _colcum(x: F64) -> F64:
    """In-place cumulative sum down axis 0 (one vector add per slot; fast for wide rows)."""
    for i in range(1, x.shape[0]):
        np.add(x[i - 1], x[i], out=x[i])
    return x


@dataclass
class _CrowdCtx:
    """Per-event arrays shared by the chunks (events = forecasts on binary/choice questions
    in (question, time) order). Chunks write disjoint rows of ``n_team`` and ``bfull``."""

    eq: I64
    col: I64  # team member's slot within the question, -1 for the paper
    seg_dur: F64
    ranks: NDArray[np.integer]  # (events, options) value ranks, big for missing
    sorted_vals: list[F64]  # per option family: value of each rank (+ NaN)
    ev_b: F64
    ev_qp: I64
    n_opt: I64  # per question: 1 for binary, k for choice
    outcome: F64
    u: F64
    d: F64
    cu: F64
    n_team: NDArray[np.int32]  # out: team standing per event row
    bfull: F64  # out: crowd Brier per event row


@dataclass
class _ChunkOut:
    corr_qp: I64
    corr_w: F64
    sparse: int
    walked: int


def _crowd_over_time(
    questions: QuestionArrays,
    forecasts: ForecastArrays,
    order: I64,
    fq: I64,
    fp: I64,
    ft: F64,
    kind: I64,
    b: F64,
    qp_id: I64,
    n_qp: int,
    next_idx: I64,
    paper: int,
) -> _CrowdAcc:
    n_q = len(questions)
    acc = _CrowdAcc(
        rel_num=np.zeros(n_qp),
        rel_den=np.zeros(n_qp),
        paper_num=np.zeros(n_q),
        paper_den=np.zeros(n_q),
        crowd_num=np.zeros(n_q),
        crowd_den=np.zeros(n_q),
    )
    ev = np.flatnonzero((kind == BINARY) | (kind == CHOICE))  # still (q, t) sorted
    n_ev = ev.size
    if n_ev == 0:
        return acc
    eq = fq[ev]
    et = ft[ev]
    q_count = np.bincount(eq, minlength=n_q).astype(np.int64)
    q_start = np.concatenate(([0], np.cumsum(q_count)[:-1]))
    block_end = (q_start + q_count)[eq]
    last_of_q = np.arange(n_ev) == block_end - 1
    t_next = np.where(last_of_q, questions.end[eq], np.roll(et, -1))
    seg_dur = np.clip(
        np.minimum(t_next, questions.end[eq]) - np.maximum(et, questions.opens[eq]), 0.0, None
    )
    is_paper = fp[ev] == paper

    # Team slots: dense index of each non-paper person within the question.
    col = np.full(n_ev, -1, dtype=np.int64)
    width = np.zeros(n_q, dtype=np.int64)
    tev = np.flatnonzero(~is_paper)
    if tev.size:
        o = _order([eq[tev], fp[ev[tev]]])
        s_q = eq[tev][o]
        s_p = fp[ev[tev]][o]
        new = np.ones(o.size, dtype=bool)
        new[1:] = (s_q[1:] != s_q[:-1]) | (s_p[1:] != s_p[:-1])
        gid = np.cumsum(new) - 1
        q_first = np.ones(o.size, dtype=bool)
        q_first[1:] = s_q[1:] != s_q[:-1]
        first_gid = np.zeros(n_q, dtype=np.int64)
        first_gid[s_q[q_first]] = gid[q_first]
        col[tev[o]] = gid - first_gid[s_q]
        width = np.bincount(s_q[new], minlength=n_q).astype(np.int64)

    # Value ranks per option (binary: P(yes) is option 0), exact: ranks among sorted values.
    evf = order[ev]
    eb = kind[ev] == BINARY
    n_opt_max = forecasts.choice.shape[1] if (~eb).any() else 1
    ranks = np.zeros((n_ev, max(n_opt_max, 1)), dtype=np.int32)
    sorted_vals: list[F64] = []
    pb = forecasts.p_yes[evf[eb]]
    rb = _dense_rank(pb)
    sv_b = np.full(int(rb.max(initial=-1)) + 2, np.nan)
    sv_b[rb] = pb
    ranks[eb, 0] = rb
    sorted_vals.append(sv_b)
    del pb, rb
    if (~eb).any():
        vals = forecasts.choice[forecasts.choice_row[evf[~eb]]][:, :n_opt_max]
        present = ~np.isnan(vals)
        rc = _dense_rank(vals[present])
        sv_c = np.full(int(rc.max(initial=-1)) + 2, np.nan)
        sv_c[rc] = vals[present]
        block = np.full(vals.shape, sv_c.size - 1, dtype=np.int32)
        block[present] = rc
        ranks[~eb] = block
        sorted_vals.append(sv_c)
        del vals, present, rc, block
    del evf

    w_max = int(width.max(initial=0))
    u, d, cu = _weight_table(max(w_max, 3))
    ctx = _CrowdCtx(
        eq=eq,
        col=col,
        seg_dur=seg_dur,
        ranks=ranks,
        sorted_vals=sorted_vals,
        ev_b=b[ev],
        ev_qp=qp_id[ev],
        n_opt=np.where(questions.kind == BINARY, 1, questions.n_options).astype(np.int64),
        outcome=questions.outcome,
        u=u,
        d=d,
        cu=cu,
        n_team=np.zeros(n_ev, dtype=np.int32),
        bfull=np.full(n_ev, np.nan),
    )

    jobs: list[tuple[I64, I64, I64, int, int]] = []
    for k in (BINARY, CHOICE):
        qs = np.flatnonzero((questions.kind == k) & (q_count > 0) & (width > 0))
        if qs.size == 0:
            continue
        qs = qs[np.argsort(width[qs], kind="stable")]
        rows = np.repeat(q_start[qs] - np.cumsum(q_count[qs]) + q_count[qs], q_count[qs])
        rows += np.arange(rows.size)
        row_w = np.maximum(width[eq[rows]], 3)
        cost = np.cumsum(row_w)
        target = np.maximum(CHUNK_ELEMENTS, CHUNK_MIN_ROWS * row_w)
        lo = 0
        while lo < rows.size:
            base = cost[lo - 1] if lo else 0
            hi = max(int(np.searchsorted(cost, base + target[lo], side="right")), lo + 1)
            chunk_rows = rows[lo:hi]
            carry_ev, carry_cols = _standing_before(ctx, q_start, chunk_rows[0])
            jobs.append((chunk_rows, carry_ev, carry_cols, int(row_w[lo:hi].max()), k))
            lo = hi

    def run(job: tuple[I64, I64, I64, int, int]) -> _ChunkOut:
        return _crowd_chunk(ctx, *job)

    # Corrections are folded in as chunks finish, so they never pile up in memory.
    corr = np.zeros(n_qp)

    def fold(out: _ChunkOut) -> None:
        corr[:] += _bsum(out.corr_qp, out.corr_w, n_qp)
        acc.sparse += out.sparse
        acc.walked += out.walked

    if CROWD_THREADS > 1 and len(jobs) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=CROWD_THREADS) as pool:
            for out in pool.map(run, jobs):
                fold(out)
    else:
        for job in jobs:
            fold(run(job))

    # Team members: (own - crowd) over the rows where they stand with at least one other
    # team member, by prefix sums; then the sparse leave-one-out corrections.
    n_team = ctx.n_team
    bfull = np.where(n_team >= 1, ctx.bfull, 0.0)
    g2 = np.where(n_team >= 2, seg_dur, 0.0)
    p2 = np.concatenate(([0.0], np.cumsum(g2)))
    pbc = np.concatenate(([0.0], np.cumsum(g2 * bfull)))
    pos_in_ev = np.full(order.size, -1, dtype=np.int64)
    pos_in_ev[ev] = np.arange(n_ev)
    nxt = next_idx[ev]
    stop = np.where(nxt >= 0, pos_in_ev[np.maximum(nxt, 0)], block_end)
    tm = ~is_paper
    start = np.arange(n_ev)[tm]
    stop = stop[tm]
    d2 = p2[stop] - p2[start]
    bc = pbc[stop] - pbc[start]
    acc.rel_num += _bsum(ctx.ev_qp[tm], ctx.ev_b[tm] * d2 - bc, n_qp)
    acc.rel_den += _bsum(ctx.ev_qp[tm], d2, n_qp)
    acc.rel_num -= corr

    # The crowd's own time average, and the paper against the crowd.
    has = n_team >= 1
    acc.crowd_num += _bsum(eq[has], (bfull * seg_dur)[has], n_q)
    acc.crowd_den += _bsum(eq[has], seg_dur[has], n_q)
    pp = np.where(is_paper, np.arange(n_ev), -1)
    np.maximum.accumulate(pp, out=pp)
    pp[pp < q_start[eq]] = -1
    pm = (pp >= 0) & has
    acc.paper_num += _bsum(eq[pm], (ctx.ev_b[pp[pm]] - bfull[pm]) * seg_dur[pm], n_q)
    acc.paper_den += _bsum(eq[pm], seg_dur[pm], n_q)
    acc.pairs = int(n_team.sum())
    return acc


def _standing_before(ctx: _CrowdCtx, q_start: I64, row: int) -> tuple[I64, I64]:
    """Team forecasts standing just before event ``row`` on its question: (events in time
    order, their slots). Empty when ``row`` is the question's first event."""
    first = int(q_start[ctx.eq[row]])
    if row == first:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    evs = np.arange(first, row)
    cols = ctx.col[evs]
    team = cols >= 0
    evs, cols = evs[team], cols[team]
    # the last event of each slot
    last = np.ones(evs.size, dtype=bool)
    o = np.lexsort((evs, cols))
    last_sorted = np.ones(o.size, dtype=bool)
    last_sorted[:-1] = cols[o][1:] != cols[o][:-1]
    keep = o[last_sorted]
    last[:] = False
    last[keep] = True
    return evs[last], cols[last]


def _crowd_chunk(
    ctx: _CrowdCtx,
    rows: I64,
    carry_ev: I64,
    carry_cols: I64,
    w: int,
    kind: int,
) -> _ChunkOut:
    """Process the rows of one chunk (binary or choice questions only)."""
    n_rows = rows.size
    cw = carry_ev.size
    local_ev = np.concatenate([carry_ev, rows])  # local id -> event
    u, d, cu = ctx.u, ctx.d, ctx.cu

    # Participant layout: local id of each slot's standing forecast, forward filled.
    st = np.full((n_rows, w), -1, dtype=np.int32)
    if cw:
        st[0, carry_cols] = np.arange(cw, dtype=np.int32)
    rc = ctx.col[rows]
    tr = np.flatnonzero(rc >= 0)
    st[tr, rc[tr]] = cw + tr
    np.maximum.accumulate(st, axis=0, out=st)
    rq = ctx.eq[rows]
    first = np.ones(n_rows, dtype=bool)
    first[1:] = rq[1:] != rq[:-1]
    bstart = np.where(first, cw + np.arange(n_rows), 0)
    bstart[0] = 0
    np.maximum.accumulate(bstart, out=bstart)
    np.putmask(st, st < bstart[:, None], -1)

    # Recency layout (slot x row): padding first, then oldest .. newest.
    st.sort(axis=1)
    s_mat = np.ascontiguousarray(st.T)
    del st
    flat_s = s_mat.ravel()
    big_n = (s_mat >= 0).sum(axis=0)
    pad = w - big_n
    n_rec = np.arange(w, dtype=np.int32)[:, None] - pad[None, :].astype(np.int32) + 1
    np.maximum(n_rec, 0, out=n_rec)
    flat_n = n_rec.ravel()
    standing = n_rec > 0
    u_rec = u.take(n_rec)
    d_rec = d.take(n_rec)
    dur = ctx.seg_dur[rows]
    ctx.n_team[rows] = big_n

    nb = max(1, int(w).bit_length())
    mask = (1 << nb) - 1
    n_opt = int(ctx.n_opt[rq].max(initial=1))
    opt_count = ctx.n_opt[rq]
    sv = ctx.sorted_vals[0 if kind == BINARY else 1]
    big_rank = sv.size - 1
    key_dtype = np.int32 if (big_rank + 1) < (1 << (30 - nb)) else np.int64
    outcome = ctx.outcome[rq]
    is_big = big_n >= 4
    is_small = (big_n == 2) | (big_n == 3)
    half_l = cu[np.maximum(big_n - 1, 0)] / 2.0
    tol_l = _TIE_RTOL * cu[np.maximum(big_n - 1, 0)]
    theta = half_l - tol_l
    qp_loc = np.append(ctx.ev_qp[local_ev], -1)
    ar = np.arange(n_rows)
    n_sparse = 0
    n_walked = 0
    corr_qp: list[I64] = []
    corr_w: list[F64] = []
    if kind == CHOICE:
        full_s = np.zeros(n_rows)
        full_q = np.zeros(n_rows)
        full_o = np.zeros(n_rows)
        loo_s = np.zeros((w, n_rows))
        loo_q = np.zeros((w, n_rows))
        loo_o = np.zeros((w, n_rows))

    for j in range(n_opt):
        active = opt_count > j
        rk: NDArray[np.integer] = np.append(ctx.ranks[local_ev, j], big_rank).astype(key_dtype)
        rk <<= nb
        key_t = rk.take(s_mat)
        key_t |= n_rec
        key_v = np.sort(key_t, axis=0)
        flat_kv = key_v.ravel()
        n_val = key_v & mask
        flat_nv = n_val.ravel()
        cum = _colcum(u.take(n_val))
        flat_cum = cum.ravel()
        tot = cum[-1]
        half = tot / 2.0
        tol = _TIE_RTOL * tot
        c = (cum < (half - tol)[None, :]).sum(axis=0)
        c = np.minimum(c, np.maximum(big_n - 1, 0))
        key_c = flat_kv.take(c * n_rows + ar)
        s0c = flat_cum.take(c * n_rows + ar)
        has_p1 = c + 1 < big_n
        v_c = sv.take(key_c >> nb)
        v_c1 = sv.take(flat_kv.take(np.minimum(c + 1, w - 1) * n_rows + ar) >> nb)
        v0 = sv.take(key_v[0] >> nb)
        v1 = sv.take(key_v[1] >> nb)
        v2 = sv.take(key_v[2] >> nb)
        tie = (s0c <= half + tol) & has_p1
        full = np.where(tie, (v_c + v_c1) / 2.0, v_c)
        full = np.where(big_n == 2, (v0 + v1) / 2.0, np.where(big_n == 1, v0, full))

        # Leave-one-out. The crowd's value v_c is held by a group of equal values (value
        # ranks); a forecaster keeps it when, without them, the cumulative weight below
        # the group stays under half and the weight up to the group's end reaches it.
        vr_c = key_c >> nb
        m_hi = key_t < ((vr_c + 1) << nb)[None, :]
        m_lo = key_t < (vr_c << nb)[None, :]
        g_hi = m_hi.sum(axis=0) - 1  # last position of the group
        g_lo = m_lo.sum(axis=0)  # first position of the group
        s0_hi = flat_cum.take(np.maximum(g_hi, 0) * n_rows + ar)
        s0_lo = np.where(g_lo > 0, flat_cum.take(np.maximum(g_lo - 1, 0) * n_rows + ar), 0.0)
        z_hi = _colcum(d_rec * m_hi)
        z_hi_tot = z_hi[-1].copy()
        z_hi -= u_rec * m_hi
        z_hi += (s0_hi - z_hi_tot - theta)[None, :]
        z_lo = _colcum(d_rec * m_lo)
        z_lo_tot = z_lo[-1].copy()
        z_lo -= u_rec * m_lo
        z_lo += (s0_lo - z_lo_tot - theta)[None, :]
        keep_row = is_big & ~tie & active
        cand = (z_hi <= (2.0 * tol_l)[None, :]) | (z_lo >= 0.0)
        cand &= keep_row[None, :]
        cand |= (is_big & tie & active)[None, :]
        cand &= standing
        idx = np.flatnonzero(cand)
        rr = idx % n_rows
        r = flat_n.take(idx)
        th = theta.take(rr)
        zl = z_lo.ravel().take(idx)
        below = zl >= 0.0
        k = np.where(below, g_lo.take(rr) - 1, g_hi.take(rr))
        a = np.where(below, zl, z_hi.ravel().take(idx)) + th
        del m_hi, m_lo, z_hi, z_lo, cand
        k, a, moved = _walk(k, a, rr, r, th, flat_nv, n_rows, u)
        val = sv.take(flat_kv.take(k * n_rows + rr) >> nb)
        near = np.flatnonzero(np.abs(a - half_l.take(rr)) <= tol_l.take(rr))
        if near.size:  # an exact tie: the mean with the next remaining value
            kn, rn = k[near], rr[near]
            k1 = np.minimum(kn + 1, w - 1)
            k1 = np.where(flat_nv.take(k1 * n_rows + rn) == r[near], np.minimum(k1 + 1, w - 1), k1)
            ok = k1 < big_n.take(rn)
            nxt_v = sv.take(flat_kv.take(k1 * n_rows + rn) >> nb)
            val[near] = np.where(ok, (val[near] + nxt_v) / 2.0, val[near])
        n_sparse += int(idx.size)
        n_walked += moved

        # Small rows (2 or 3 standing): the plain mean of the others.
        sidx = np.flatnonzero(standing & (is_small & active)[None, :])
        srr = sidx % n_rows
        sr = flat_n.take(sidx)
        nv0 = n_val[0].take(srr)
        nv1 = n_val[1].take(srr)
        three = big_n.take(srr) == 3
        total = v0.take(srr) + v1.take(srr) + np.where(three, v2.take(srr), 0.0)
        vself = np.where(nv0 == sr, v0.take(srr), np.where(nv1 == sr, v1.take(srr), v2.take(srr)))
        sval = (total - vself) / np.where(three, 2.0, 1.0)

        if kind == BINARY:
            bf = 2.0 * (full - outcome) ** 2
            ctx.bfull[rows] = np.where(big_n > 0, bf, np.nan)
            all_idx = np.concatenate([idx, sidx])
            all_rr = np.concatenate([rr, srr])
            loo_v = np.concatenate([val, sval])
            corr = (2.0 * (loo_v - outcome.take(all_rr)) ** 2 - bf.take(all_rr)) * dur.take(all_rr)
            nz = corr != 0.0
            corr_qp.append(qp_loc.take(flat_s.take(all_idx[nz])))
            corr_w.append(corr[nz])
        else:
            fa = np.where(active, full, 0.0)
            full_s += fa
            full_q += fa * fa
            full_o += np.where(outcome == j, fa, 0.0)
            lm = np.broadcast_to(np.where(active, v_c, 0.0)[None, :], (w, n_rows)).copy()
            lm.ravel()[idx] = val
            lm.ravel()[sidx] = sval
            loo_s += lm
            loo_q += lm * lm
            loo_o += lm * (outcome == j)[None, :]

    if kind == CHOICE:
        with np.errstate(invalid="ignore", divide="ignore"):
            bf = full_q / full_s**2 - 2.0 * full_o / full_s + 1.0
            bl = loo_q / loo_s**2 - 2.0 * loo_o / loo_s + 1.0
        ctx.bfull[rows] = np.where(big_n > 0, bf, np.nan)
        em = np.flatnonzero(standing & (big_n >= 2)[None, :])
        err = em % n_rows
        corr = (bl.ravel().take(em) - bf.take(err)) * dur.take(err)
        corr_qp.append(qp_loc.take(flat_s.take(em)))
        corr_w.append(corr)
    return _ChunkOut(
        corr_qp=np.concatenate(corr_qp) if corr_qp else np.zeros(0, dtype=np.int64),
        corr_w=np.concatenate(corr_w) if corr_w else np.zeros(0),
        sparse=n_sparse,
        walked=n_walked,
    )


def _walk(
    k: I64,
    a: F64,
    rows: I64,
    r: NDArray[np.integer],
    theta: F64,
    flat_nv: NDArray[np.integer],
    n_rows: int,
    u: F64,
) -> tuple[I64, F64, int]:
    """Move each pair's crossing to its leave-one-out position.

    ``a`` is the leave-one-out cumulative weight up to value position ``k`` (``flat_nv`` is
    the value layout's recency ranks, slot x row, flattened). Pairs whose weight reaches
    ``theta`` step down while the weight before ``k`` still reaches it; the others step up
    until it does. The removed element (recency rank ``r``) weighs nothing; elements newer
    than it move down one recency rank.
    """
    k = k.astype(np.int64)
    r = r.astype(np.int64)
    last = flat_nv.size // max(n_rows, 1) - 1

    def w_at(pos: I64, rw: I64, rr: NDArray[np.integer]) -> F64:
        nk = flat_nv.take(pos * n_rows + rw).astype(np.int64)
        return np.asarray(u.take(nk - (nk > rr)) * (nk != rr), dtype=np.float64)

    # One step for everyone at once (most pairs stop there), then the stragglers.
    down = (a >= theta) & (k > 0)
    up = a < theta
    step = np.where(down, k, np.minimum(k + 1, last))
    w1 = w_at(step, rows, r)
    a1 = np.where(down, a - w1, a + w1)
    go_down = down & (a1 >= theta)
    k = np.where(go_down, k - 1, np.where(up, step, k))
    a = np.where(go_down | up, a1, a)
    moved = go_down | up

    act = np.flatnonzero(go_down & (k > 0))
    while act.size:
        ka = k[act]
        wk = w_at(ka, rows[act], r[act])
        na = a[act] - wk
        go = na >= theta[act]
        act = act[go]
        k[act] = ka[go] - 1
        a[act] = na[go]
        act = act[k[act] > 0]
    act = np.flatnonzero(up & (a < theta) & (k < last))
    while act.size:
        ka = k[act] + 1
        na = a[act] + w_at(ka, rows[act], r[act])
        k[act] = ka
        a[act] = na
        act = act[(na < theta[act]) & (ka < last)]
    return k, a, int(moved.sum())

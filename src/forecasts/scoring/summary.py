"""Per-scorer means of the final-forecast metrics: Brier, log and baseline scores,
calibration with its Murphy terms, numeric pinball loss and interval coverage, and
whether predictions came true."""

from __future__ import annotations

import numpy as np

from forecasts.domain.values import QUANTILES
from forecasts.scoring.arrays import (
    BINARY,
    CHOICE,
    F64,
    I64,
    NUMERIC,
    BoolA,
    QuestionArrays,
    Scores,
)
from forecasts.scoring.finals import NO_UNIQUE_TOP, FinalRows
from forecasts.scoring.grouping import group_sum
from forecasts.scoring.metrics import (
    baseline_score,
    bin_index,
    log_score,
    murphy_terms,
    pinball_loss,
)

P10, P25, P75, P90 = (QUANTILES.index(k) for k in ("p10", "p25", "p75", "p90"))


class _PerScorer:
    """Counts, sums and means of row values per scorer, over the rows a mask selects."""

    def __init__(self, scorer: I64, n_scorers: int) -> None:
        self.scorer = scorer
        self.n_scorers = n_scorers

    def count(self, mask: BoolA) -> I64:
        return np.bincount(self.scorer[mask], minlength=self.n_scorers).astype(np.int64)

    def total(self, mask: BoolA, values: F64) -> F64:
        return group_sum(self.scorer[mask], values[mask], self.n_scorers)

    def mean(self, mask: BoolA, values: F64) -> tuple[F64, I64]:
        c = self.count(mask)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(c > 0, self.total(mask, values) / c, np.nan), c


def summarise(rows: FinalRows, questions: QuestionArrays, n_scorers: int, bins: int) -> Scores:
    """Scores of the final forecasts. The time averages and relative Brier are left
    undefined here; `forecasts.scoring.scorer` fills them in from the series."""
    per = _PerScorer(rows.scorer, n_scorers)
    outcome = questions.outcome[rows.question]
    brier, n_brier, log_mean, base_mean = _probability_scores(rows, per)
    cal_n, cal_p, cal_o, rel, res, unc, bin_brier = _calibration(rows, per, outcome, bins)
    pinball, n_pinball, inside_80, n_80, inside_50, n_50 = _numeric_scores(
        rows, per, outcome, questions.range_width[rows.question]
    )
    predictions, came_true, undecided = _came_true(rows, per, outcome)
    return Scores(
        n_persons=n_scorers - 1,
        bins=bins,
        questions=per.count(np.ones(len(rows), dtype=bool)),
        n_binary=per.count(rows.kind == BINARY),
        n_choice=per.count(rows.kind == CHOICE),
        n_numeric=per.count(rows.kind == NUMERIC),
        brier=brier,
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
        resolution=res,
        uncertainty=unc,
        binary_brier=bin_brier,
        pinball=pinball,
        n_pinball=n_pinball,
        inside_80=inside_80,
        n_80=n_80,
        inside_50=inside_50,
        n_50=n_50,
        predictions=predictions,
        came_true=came_true,
        undecided=undecided,
    )


def _probability_scores(rows: FinalRows, per: _PerScorer) -> tuple[F64, I64, F64, F64]:
    """Mean Brier (with its count), log score and baseline score over binary and choice
    final forecasts."""
    prob = ((rows.kind == BINARY) | (rows.kind == CHOICE)) & ~np.isnan(rows.brier)
    brier, n_brier = per.mean(prob, rows.brier)
    p_out = np.where(prob, rows.p_outcome, 0.5)
    ls = np.where(prob, log_score(p_out), np.nan)
    bs = np.where(prob, baseline_score(p_out, np.maximum(rows.n_options, 2)), np.nan)
    log_mean, _ = per.mean(prob, ls)
    base_mean, _ = per.mean(prob, bs)
    return brier, n_brier, log_mean, base_mean


def _calibration(
    rows: FinalRows, per: _PerScorer, outcome: F64, bins: int
) -> tuple[I64, F64, F64, F64, F64, F64, F64]:
    """Per scorer and bin of binary final forecasts: count, sum of forecasts, sum of
    outcomes; the Murphy terms over those bins; and the Brier of the same forecasts."""
    n_scorers = per.n_scorers
    bm = (rows.kind == BINARY) & ~np.isnan(rows.p_yes)
    key = rows.scorer * bins + bin_index(np.where(bm, rows.p_yes, 0.0), bins)
    size = n_scorers * bins
    cal_n = np.bincount(key[bm], minlength=size).reshape(n_scorers, bins).astype(np.int64)
    cal_p = group_sum(key[bm], rows.p_yes[bm], size).reshape(n_scorers, bins)
    cal_o = group_sum(key[bm], outcome[bm], size).reshape(n_scorers, bins)
    rel, res, unc = murphy_terms(cal_n.astype(float), cal_p, cal_o)
    bin_brier, _ = per.mean(bm, np.where(bm, rows.brier, 0.0))
    return cal_n, cal_p, cal_o, rel, res, unc, bin_brier


def _numeric_scores(
    rows: FinalRows, per: _PerScorer, outcome: F64, range_width: F64
) -> tuple[F64, I64, I64, I64, I64, I64]:
    """Mean pinball loss scaled by the question's range (with its count), and how many
    outcomes fell inside p10-p90 and p25-p75 out of the forecasts that gave both ends."""
    quant = rows.quantiles
    nm = (rows.kind == NUMERIC) & ~np.all(np.isnan(quant), axis=1)
    pin = np.full(len(rows), np.nan)
    if nm.any():
        pin[nm] = pinball_loss(quant[nm], outcome[nm]) / range_width[nm]
    pm = nm & np.isfinite(pin)
    pin_mean, n_pin = per.mean(pm, np.where(pm, pin, 0.0))
    y = outcome
    m80 = nm & ~np.isnan(quant[:, P10]) & ~np.isnan(quant[:, P90])
    in80 = m80 & (quant[:, P10] <= y) & (y <= quant[:, P90])
    m50 = nm & ~np.isnan(quant[:, P25]) & ~np.isnan(quant[:, P75])
    in50 = m50 & (quant[:, P25] <= y) & (y <= quant[:, P75])
    return pin_mean, n_pin, per.count(in80), per.count(m80), per.count(in50), per.count(m50)


def _came_true(rows: FinalRows, per: _PerScorer, outcome: F64) -> tuple[I64, I64, I64]:
    """Predictions made, came true, and undecided. Binary: P(yes) on the right side of
    0.5; choice: the unique most likely option happened. 50% and tied tops are
    undecided."""
    is_bin = rows.kind == BINARY
    is_ch = rows.kind == CHOICE
    p_yes, top = rows.p_yes, rows.choice_top
    dec_bin = is_bin & (p_yes != 0.5) & ~np.isnan(p_yes)
    hit_bin = dec_bin & ((p_yes > 0.5) == (outcome == 1.0))
    dec_ch = is_ch & (top >= 0)
    hit_ch = dec_ch & (top == outcome)
    und = (is_bin & (p_yes == 0.5)) | (is_ch & (top == NO_UNIQUE_TOP))
    return per.count(dec_bin | dec_ch), per.count(hit_bin | hit_ch), per.count(und)

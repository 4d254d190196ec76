"""`score`: from question and forecast arrays to `Scores`, one named step at a time."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from forecasts.scoring import crowd_over_time as over_time
from forecasts.scoring.arrays import (
    BINARY,
    CHOICE,
    F64,
    I64,
    ForecastArrays,
    QuestionArrays,
    Scores,
)
from forecasts.scoring.crowd_over_time import Chunking, CrowdTotals
from forecasts.scoring.finals import final_rows
from forecasts.scoring.grouping import group_sum
from forecasts.scoring.history import Ordered, Series, order_in_window, series_of
from forecasts.scoring.metrics import brier_binary, brier_choice
from forecasts.scoring.summary import summarise

DEFAULT_CHUNKING = Chunking()


def score(
    questions: QuestionArrays,
    forecasts: ForecastArrays,
    n_persons: int,
    paper: int = -1,
    bins: int = 10,
    *,
    crowd_over_time: bool = True,
    chunking: Chunking = DEFAULT_CHUNKING,
) -> Scores:
    """Score every person (and the crowd) on the given resolved questions.

    ``paper`` is the person index of the paper (never part of the crowd), or -1.
    ``crowd_over_time=False`` skips the crowd over time, the costly part: the crowd's
    time-averaged Brier and every relative Brier are then undefined (a diagnostic for
    benchmarks). ``chunking`` says how that part splits its work (see `Chunking`).
    """
    if bins < 1:
        raise ValueError("bins must be >= 1")
    n_scorers = n_persons + 1
    ordered = order_in_window(questions, forecasts)
    series = series_of(ordered)
    brier = forecast_brier(questions, forecasts, ordered)
    standing = _standing_sums(questions, ordered, series, brier)
    finals = final_rows(questions, forecasts, ordered, series, brier, paper, crowd=n_persons)
    scores = summarise(finals, questions, n_scorers, bins)
    del finals
    if crowd_over_time:
        totals = over_time.crowd_over_time(
            questions, forecasts, ordered, series, brier, paper, chunking
        )
    else:
        totals = CrowdTotals.empty(series.count, len(questions))
    time_avg = _time_averages(questions, series, standing, totals, n_scorers)
    relative = _relative_brier(series, totals, paper, n_scorers)
    return replace(
        scores,
        brier_time_avg=time_avg.brier,
        coverage=time_avg.coverage,
        n_time_avg=time_avg.count,
        relative_brier=relative.mean,
        n_relative=relative.count,
        extra={
            "crowd_chunks": totals.chunks,
            "chunks_inside_a_question": totals.chunks_inside_a_question,
            "crowd_pairs": totals.pairs,
            "sparse_pairs": totals.sparse,
            "walked_pairs": totals.walked,
        },
    )


def forecast_brier(questions: QuestionArrays, forecasts: ForecastArrays, ordered: Ordered) -> F64:
    """The Brier of every ordered forecast (NaN for numeric ones)."""
    outcome = questions.outcome[ordered.question]
    brier = np.full(len(ordered), np.nan)
    is_bin = ordered.kind == BINARY
    brier[is_bin] = brier_binary(forecasts.p_yes[ordered.row[is_bin]], outcome[is_bin])
    is_ch = ordered.kind == CHOICE
    choice_rows = forecasts.choice_row[ordered.row[is_ch]]
    if choice_rows.size:
        probs = forecasts.choice[choice_rows]
        brier[is_ch] = brier_choice(probs, outcome[is_ch].astype(np.int64))
    return brier


@dataclass(frozen=True)
class _StandingSums:
    """Per series: integrals over time of the standing forecast's Brier, and of 1 (how
    long a forecast stood); and the question's window."""

    brier_time: F64
    time: F64
    window: F64


def _standing_sums(
    questions: QuestionArrays, ordered: Ordered, series: Series, brier: F64
) -> _StandingSums:
    """Each forecast stands from when it was made (or ``opens``) until the series' next
    forecast (or ``end``); binary and choice questions only."""
    opens = questions.opens[ordered.question]
    end = questions.end[ordered.question]
    t_next = np.where(series.next >= 0, ordered.made_at[np.maximum(series.next, 0)], end)
    duration = np.clip(np.minimum(t_next, end) - np.maximum(ordered.made_at, opens), 0.0, None)
    scored = (ordered.kind == BINARY) | (ordered.kind == CHOICE)
    window = np.zeros(series.count)
    if series.count:
        window = questions.end[series.question] - questions.opens[series.question]
    return _StandingSums(
        brier_time=group_sum(series.id[scored], (brier * duration)[scored], series.count),
        time=group_sum(series.id[scored], duration[scored], series.count),
        window=window,
    )


@dataclass(frozen=True)
class _TimeAverages:
    brier: F64
    coverage: F64
    count: I64


def _time_averages(
    questions: QuestionArrays,
    series: Series,
    standing: _StandingSums,
    totals: CrowdTotals,
    n_scorers: int,
) -> _TimeAverages:
    """Per scorer, the mean over questions of the time-averaged Brier and of coverage;
    the crowd's from the crowd over time."""
    crowd = n_scorers - 1
    ok = (standing.time > 0) & (standing.window > 0)
    per_ta = np.where(ok, standing.brier_time / np.where(ok, standing.time, 1.0), 0.0)
    per_cov = np.where(ok, standing.time / np.where(standing.window > 0, standing.window, 1.0), 0.0)
    ta_sum = group_sum(series.person[ok], per_ta[ok], n_scorers)
    cov_sum = group_sum(series.person[ok], per_cov[ok], n_scorers)
    count = np.bincount(series.person[ok], minlength=n_scorers).astype(np.int64)
    window = questions.end - questions.opens
    cok = (totals.crowd_den > 0) & (window > 0)
    ta_sum[crowd] = np.sum(totals.crowd_num[cok] / totals.crowd_den[cok])
    cov_sum[crowd] = np.sum(totals.crowd_den[cok] / window[cok])
    count[crowd] = int(cok.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return _TimeAverages(
            brier=np.where(count > 0, ta_sum / count, np.nan),
            coverage=np.where(count > 0, cov_sum / count, np.nan),
            count=count,
        )


@dataclass(frozen=True)
class _Relative:
    mean: F64
    count: I64


def _relative_brier(series: Series, totals: CrowdTotals, paper: int, n_scorers: int) -> _Relative:
    """Per scorer, the mean over questions of relative Brier; the paper's against the
    whole team, the crowd's undefined."""
    crowd = n_scorers - 1
    rok = totals.rel_den > 0
    per_rel = np.where(rok, totals.rel_num / np.where(rok, totals.rel_den, 1.0), 0.0)
    rel_sum = group_sum(series.person[rok], per_rel[rok], n_scorers)
    count = np.bincount(series.person[rok], minlength=n_scorers).astype(np.int64)
    if paper >= 0:
        pok = totals.paper_den > 0
        rel_sum[paper] = np.sum(totals.paper_num[pok] / totals.paper_den[pok])
        count[paper] = int(pok.sum())
    count[crowd] = 0
    with np.errstate(invalid="ignore", divide="ignore"):
        return _Relative(mean=np.where(count > 0, rel_sum / count, np.nan), count=count)

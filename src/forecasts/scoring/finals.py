"""Final forecasts: one row per (question, scorer), the crowd's included.

A forecaster's final forecast on a question is the last of their series (made before the
question's ``end``). The crowd's final forecast is the crowd (`forecasts.crowd`) of the
team's final forecasts; the paper is never part of it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from forecasts import crowd as crowd_rule
from forecasts.domain.values import QUANTILES
from forecasts.scoring.arrays import (
    BINARY,
    CHOICE,
    F64,
    I64,
    NUMERIC,
    BoolA,
    ForecastArrays,
    QuestionArrays,
)
from forecasts.scoring.history import Ordered, Series
from forecasts.scoring.metrics import brier_binary, brier_choice

NO_CHOICE = -2  # choice_top of a row that is not a choice forecast
NO_UNIQUE_TOP = -1  # choice_top when several options share the highest probability


@dataclass(frozen=True)
class FinalRows:
    """One row per (question, scorer) final forecast, with what the metrics need."""

    scorer: I64
    question: I64
    kind: I64
    brier: F64  # NaN for numeric
    p_outcome: F64  # probability given to what happened; NaN for numeric
    n_options: I64
    p_yes: F64  # binary only, else NaN
    quantiles: F64  # (rows, len(QUANTILES)); numeric only, else NaN
    choice_top: I64  # the unique most likely option, NO_UNIQUE_TOP or NO_CHOICE

    def __len__(self) -> int:
        return int(self.scorer.size)


def final_rows(
    questions: QuestionArrays,
    forecasts: ForecastArrays,
    ordered: Ordered,
    series: Series,
    brier: F64,
    paper: int,
    crowd: int,
) -> FinalRows:
    """Every forecaster's final forecasts, then the crowd's (as scorer ``crowd``)."""
    finals = np.nonzero(series.is_last)[0]
    people = _person_rows(questions, forecasts, ordered, finals, brier)
    team_final = finals[ordered.person[finals] != paper]
    the_crowd = _crowd_rows(questions, forecasts, ordered, team_final, crowd)
    return _concat(people, the_crowd)


def _person_rows(
    questions: QuestionArrays,
    forecasts: ForecastArrays,
    ordered: Ordered,
    finals: I64,
    brier: F64,
) -> FinalRows:
    """Each forecaster's final forecast on every question they forecast."""
    rows = ordered.row[finals]
    question = ordered.question[finals]
    kind = ordered.kind[finals]
    outcome = questions.outcome[question]
    p_yes = forecasts.p_yes[rows]
    p_outcome = np.full(finals.size, np.nan)
    is_bin = kind == BINARY
    p_outcome[is_bin] = np.where(outcome[is_bin] == 1.0, p_yes[is_bin], 1.0 - p_yes[is_bin])
    choice_top = np.full(finals.size, NO_CHOICE, dtype=np.int64)
    is_ch = np.nonzero(kind == CHOICE)[0]
    if is_ch.size:
        probs = forecasts.choice[forecasts.choice_row[rows[is_ch]]]
        p_outcome[is_ch] = probs[np.arange(is_ch.size), outcome[is_ch].astype(np.int64)]
        choice_top[is_ch] = _unique_argmax(probs)
    quantiles = np.full((finals.size, len(QUANTILES)), np.nan)
    qrow = forecasts.quantile_row[rows]
    has_num = (kind == NUMERIC) & (qrow >= 0)
    if has_num.any():
        quantiles[has_num] = forecasts.quantiles[qrow[has_num]]
    return FinalRows(
        scorer=ordered.person[finals],
        question=question,
        kind=kind,
        brier=brier[finals],
        p_outcome=p_outcome,
        n_options=questions.n_options[question].astype(np.int64),
        p_yes=p_yes,
        quantiles=quantiles,
        choice_top=choice_top,
    )


@dataclass
class _CrowdFinals:
    """The crowd's final forecast per question (NaN / NO_CHOICE where undefined)."""

    defined: BoolA
    brier: F64
    p_outcome: F64
    p_yes: F64
    quantiles: F64
    choice_top: I64


def _crowd_rows(
    questions: QuestionArrays,
    forecasts: ForecastArrays,
    ordered: Ordered,
    team_final: I64,
    crowd: int,
) -> FinalRows:
    """The crowd's final forecasts, one row per question where the team has one."""
    n_q = len(questions)
    out = _CrowdFinals(
        defined=np.zeros(n_q, dtype=bool),
        brier=np.full(n_q, np.nan),
        p_outcome=np.full(n_q, np.nan),
        p_yes=np.full(n_q, np.nan),
        quantiles=np.full((n_q, len(QUANTILES)), np.nan),
        choice_top=np.full(n_q, NO_CHOICE, dtype=np.int64),
    )
    if team_final.size:
        _binary_crowd(questions, forecasts, ordered, team_final, out)
        _choice_crowd(questions, forecasts, ordered, team_final, out)
        _numeric_crowd(questions, forecasts, ordered, team_final, out)
    cq = np.nonzero(out.defined)[0]
    return FinalRows(
        scorer=np.full(cq.size, crowd, dtype=np.int64),
        question=cq,
        kind=questions.kind[cq].astype(np.int64),
        brier=out.brier[cq],
        p_outcome=out.p_outcome[cq],
        n_options=questions.n_options[cq].astype(np.int64),
        p_yes=out.p_yes[cq],
        quantiles=out.quantiles[cq],
        choice_top=out.choice_top[cq],
    )


def _binary_crowd(
    questions: QuestionArrays,
    forecasts: ForecastArrays,
    ordered: Ordered,
    team_final: I64,
    out: _CrowdFinals,
) -> None:
    pick = team_final[ordered.kind[team_final] == BINARY]
    if pick.size == 0:
        return
    med = crowd_rule.segmented_binary_crowd(
        ordered.question[pick],
        forecasts.p_yes[ordered.row[pick]],
        ordered.made_at[pick],
        len(questions),
    )
    has = ~np.isnan(med) & (questions.kind == BINARY)
    o = questions.outcome
    out.p_yes[has] = med[has]
    out.brier[has] = brier_binary(med[has], o[has])
    out.p_outcome[has] = np.where(o[has] == 1.0, med[has], 1.0 - med[has])
    out.defined |= has


def _choice_crowd(
    questions: QuestionArrays,
    forecasts: ForecastArrays,
    ordered: Ordered,
    team_final: I64,
    out: _CrowdFinals,
) -> None:
    pick = team_final[ordered.kind[team_final] == CHOICE]
    if pick.size == 0:
        return
    probs = crowd_rule.segmented_choice_crowd(
        ordered.question[pick],
        forecasts.choice[forecasts.choice_row[ordered.row[pick]]],
        ordered.made_at[pick],
        len(questions),
    )
    has = ~np.all(np.isnan(probs), axis=1) & (questions.kind == CHOICE)
    if has.any():
        mm = probs[has]
        oi = questions.outcome[has].astype(np.int64)
        out.brier[has] = brier_choice(mm, oi)
        out.p_outcome[has] = mm[np.arange(oi.size), oi]
        out.choice_top[has] = _unique_argmax(mm)
        out.defined |= has


def _numeric_crowd(
    questions: QuestionArrays,
    forecasts: ForecastArrays,
    ordered: Ordered,
    team_final: I64,
    out: _CrowdFinals,
) -> None:
    rows = ordered.row[team_final]
    keep = (ordered.kind[team_final] == NUMERIC) & (forecasts.quantile_row[rows] >= 0)
    pick = team_final[keep]
    if pick.size == 0:
        return
    out.quantiles = crowd_rule.segmented_numeric_crowd(
        ordered.question[pick],
        forecasts.quantiles[forecasts.quantile_row[rows[keep]]],
        ordered.made_at[pick],
        len(questions),
    )
    has = ~np.all(np.isnan(out.quantiles), axis=1) & (questions.kind == NUMERIC)
    out.defined |= has


def _unique_argmax(probs: F64) -> I64:
    """The most likely option of each row, or NO_UNIQUE_TOP when the top is shared."""
    top = np.nanargmax(probs, axis=1)
    mx = probs[np.arange(probs.shape[0]), top]
    ties = (np.isclose(probs, mx[:, None], rtol=0, atol=1e-12)).sum(axis=1) > 1
    return np.where(ties, NO_UNIQUE_TOP, top).astype(np.int64)


def _concat(a: FinalRows, b: FinalRows) -> FinalRows:
    return FinalRows(
        **{f.name: np.concatenate([getattr(a, f.name), getattr(b, f.name)]) for f in fields(a)}
    )

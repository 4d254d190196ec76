"""The forecasts in the order scoring walks them.

Only forecasts made before their question's ``end`` count. They are sorted by (question,
time, row), and each forecaster's forecasts on one question form a *series*: a forecast
stands from when it was made until the next one in its series (or ``end``), and the last
one is the final forecast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasts.scoring.arrays import F64, I64, BoolA, ForecastArrays, QuestionArrays
from forecasts.scoring.grouping import dense_rank, stable_order


@dataclass(frozen=True)
class Ordered:
    """Forecasts made before their question's end, sorted by (question, time, row)."""

    row: I64  # position in ForecastArrays
    question: I64
    person: I64
    made_at: F64
    kind: I64  # the question's kind

    def __len__(self) -> int:
        return int(self.row.size)


@dataclass(frozen=True)
class Series:
    """Each forecaster's forecasts on one question, per forecast of `Ordered`."""

    next: I64  # position of the same series' next forecast, -1 for the last
    is_last: BoolA  # the series' final forecast
    id: I64  # the series of each forecast
    count: int
    question: I64  # per series
    person: I64  # per series


def order_in_window(questions: QuestionArrays, forecasts: ForecastArrays) -> Ordered:
    """The forecasts made before their question's end, sorted by (question, time, row)."""
    question_all = forecasts.question.astype(np.int64)
    in_window = np.zeros(len(forecasts), dtype=bool)
    if len(questions):
        in_window = forecasts.made_at < questions.end[question_all]
    idx = np.nonzero(in_window)[0]
    if idx.size:
        idx = idx[stable_order([question_all[idx], dense_rank(forecasts.made_at[idx])])]
    question = question_all[idx]
    return Ordered(
        row=idx,
        question=question,
        person=forecasts.person[idx].astype(np.int64),
        made_at=forecasts.made_at[idx],
        kind=(
            questions.kind[question].astype(np.int64)
            if len(questions)
            else np.zeros(0, dtype=np.int64)
        ),
    )


def series_of(ordered: Ordered) -> Series:
    """Group the ordered forecasts into series (one per question and forecaster)."""
    n = len(ordered)
    fq, fp = ordered.question, ordered.person
    by_series = stable_order([fq, fp])  # stable: keeps time order inside each series
    cur, nxt = by_series[:-1], by_series[1:]
    same_next = np.zeros(n, dtype=bool)
    if n:
        same_next[cur] = (fq[cur] == fq[nxt]) & (fp[cur] == fp[nxt])
    next_pos = np.full(n, -1, dtype=np.int64)
    next_pos[cur] = np.where(same_next[cur], nxt, -1)
    first = np.ones(n, dtype=bool)
    if n:
        first[nxt] = ~same_next[cur]
    series_id = np.empty(n, dtype=np.int64)
    series_id[by_series] = np.cumsum(first[by_series]) - 1
    count = int(series_id.max(initial=-1)) + 1
    series_question = np.zeros(count, dtype=np.int64)
    series_person = np.zeros(count, dtype=np.int64)
    series_question[series_id] = fq
    series_person[series_id] = fp
    return Series(
        next=next_pos,
        is_last=~same_next,
        id=series_id,
        count=count,
        question=series_question,
        person=series_person,
    )

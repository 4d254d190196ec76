"""What scoring reads and returns: question and forecast arrays in, `Scores` out."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

BINARY, CHOICE, NUMERIC = 0, 1, 2

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
I32 = NDArray[np.int32]
BoolA = NDArray[np.bool_]


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
    padded); numeric forecasts point with ``quantile_row`` into ``quantiles`` (columns as
    `forecasts.domain.values.QUANTILES`, NaN where missing). Unused rows hold -1.
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

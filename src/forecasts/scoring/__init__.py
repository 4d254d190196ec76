"""Scores and calibration as pure functions over numpy arrays. No I/O, no database.

The definitions are in docs/scoring.md. In short, for every *scorer* (each person, plus the
crowd as a pseudo-forecaster):

* only resolved, non-annulled questions count (the caller passes only those);
* the *final forecast* on a question is the last one made strictly before the question's
  ``end`` = min(end of ``closes`` day, start of ``resolved_on`` day);
* Brier is the sum over outcomes of (p - indicator)^2 (0-2 scale); binary 0.7 on yes -> 0.18;
* time averages are continuous-time means of the Brier of the forecast standing at each
  moment, from the forecaster's first forecast (or ``opens``, if later) to ``end``;
* the crowd is `forecasts.crowd` over each team member's latest forecast; the ``paper``
  forecaster is never part of it;
* relative Brier compares a forecaster with the crowd of *everyone else* at every moment
  both have a forecast standing (a leave-one-out crowd, computed exactly).

Times are float seconds (POSIX). Everything is vectorised: there are no Python loops over
forecasts; the few loops go over chunks of questions, options, or walk steps.

The layers, one file each:

* ``arrays``: the inputs (`QuestionArrays`, `ForecastArrays`) and the output (`Scores`);
* ``metrics``: Brier, log, baseline, pinball, Wilson, calibration bins, Murphy;
* ``history``: forecasts in window and order, grouped into each forecaster's series;
* ``finals``: final forecasts per (question, scorer), the crowd's included;
* ``summary``: per-scorer means of the final-forecast metrics;
* ``crowd_over_time`` and ``leave_one_out``: the crowd at every moment, and without each
  forecaster, for time averages and relative Brier;
* ``scorer``: `score`, which runs those steps;
* ``grouping``: sorting and grouping helpers.
"""

from forecasts.scoring.arrays import (
    BINARY,
    CHOICE,
    F64,
    I32,
    I64,
    NUMERIC,
    ForecastArrays,
    QuestionArrays,
    Scores,
)
from forecasts.scoring.crowd_over_time import CROWD_THREADS, Chunking
from forecasts.scoring.metrics import (
    QUANTILE_LEVELS,
    baseline_score,
    bin_index,
    brier_binary,
    brier_choice,
    log_score,
    murphy,
    pinball_loss,
    time_average,
    wilson_interval,
)
from forecasts.scoring.scorer import score

__all__ = [
    "BINARY",
    "CHOICE",
    "CROWD_THREADS",
    "F64",
    "I32",
    "I64",
    "NUMERIC",
    "QUANTILE_LEVELS",
    "Chunking",
    "ForecastArrays",
    "QuestionArrays",
    "Scores",
    "baseline_score",
    "bin_index",
    "brier_binary",
    "brier_choice",
    "log_score",
    "murphy",
    "pinball_loss",
    "score",
    "time_average",
    "wilson_interval",
]

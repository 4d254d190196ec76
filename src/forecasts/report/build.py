"""The report's numbers: options in, a typed ``Report`` out.

``build_report`` loads the resolved history (``report.load``); ``report_from_history``
scores it with ``forecasts.scoring`` and shapes the result (``shape_report``): a leaderboard
of ``ForecasterEntry``, the paper's scorecard (split into retrospective and live questions),
the crowd, the team, and notes; ``final_forecasts`` gives the final forecasts behind those
numbers, question by question. Numbers are rounded to 6 decimals and None where
undefined, so ``Report.to_dict()`` is JSON-ready as it is. Nothing here prints, writes
files or knows about the command line; the terminal, HTML and the weekly digest all
present the same ``Report``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from forecasts import clock
from forecasts.domain.people import PAPER
from forecasts.errors import BadInput, PersonNotFound
from forecasts.report.text import plural
from forecasts.scoring import ForecastArrays, QuestionArrays, Scores, score, wilson_interval

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from numpy.typing import NDArray
    from sqlmodel import Session

    from forecasts.report.load import History

MAX_BINS = 100
#: Below this many resolved binary final forecasts, calibration is not worth judging.
MIN_CALIBRATION = 20
DECIMALS = 6
#: The scores every forecaster, the paper, the crowd and the team mean have.
METRICS = ("brier", "brier_time_avg", "coverage", "relative_brier", "log_score", "baseline_score")
#: The tag of questions the paper is scored on after the fact: already settled by the record
#: when they were written, so nobody forecast them here (issue 16: the paper's record so far).
RETROSPECTIVE = "retrospective"


# --------------------------------------------------------------------------------------
# Options


@dataclass(frozen=True)
class ReportOptions:
    """What to report. Checked when made: a bad option raises ``BadInput`` naming its
    ``field`` (whether ``forecaster`` exists is checked by ``build_report``). ``as_of``: score as of the end of this UTC day (None: now); ``bins``:
    calibration bins; ``forecaster``: show only this handle (the crowd still uses everyone);
    ``tag``: only questions with this tag (any case)."""

    as_of: dt.date | None = None
    bins: int = 10
    forecaster: str | None = None
    tag: str | None = None

    def __post_init__(self) -> None:
        bins = self.bins
        if not isinstance(bins, int) or isinstance(bins, bool) or not 1 <= bins <= MAX_BINS:
            raise BadInput(
                f"bins must be a whole number from 1 to {MAX_BINS}, not {bins!r}", field="bins"
            )
        if self.tag is not None:
            if not self.tag.strip():
                raise BadInput("a tag cannot be blank", field="tag")
            object.__setattr__(self, "tag", self.tag.strip())

    @classmethod
    def parse(
        cls,
        *,
        as_of: str | dt.date | None = None,
        bins: int = 10,
        forecaster: str | None = None,
        tag: str | None = None,
    ) -> ReportOptions:
        """Options as a person types them: ``as_of`` may be an ISO date string."""
        return cls(as_of=parse_as_of(as_of), bins=bins, forecaster=forecaster, tag=tag)


def parse_as_of(value: str | dt.date | None) -> dt.date | None:
    """An ISO date (YYYY-MM-DD), or None for now."""
    from forecasts.validate import iso_day

    if value is None or isinstance(value, dt.date):
        return value
    try:
        return iso_day(str(value))
    except ValueError as e:
        raise BadInput(str(e), field="as_of") from None


# --------------------------------------------------------------------------------------
# The typed result. Field names and order are the JSON's (``dataclasses.asdict``).

Number = float | None


@dataclass(frozen=True)
class CalibrationBin:
    """Binary final forecasts with P(yes) in [low, high): how many, their mean, the share
    that resolved yes and its 95% Wilson interval."""

    low: Number
    high: Number
    n: int
    mean_forecast: Number
    observed: Number
    ci_low: Number
    ci_high: Number


@dataclass(frozen=True)
class Counts:
    """How many questions each score covers."""

    binary: int
    choice: int
    numeric: int
    brier: int
    time_avg: int
    relative: int


@dataclass(frozen=True)
class Murphy:
    """The Murphy decomposition of the binary final forecasts (0-2 scale)."""

    reliability: Number
    resolution: Number
    uncertainty: Number
    brier: Number
    n: int


@dataclass(frozen=True)
class IntervalShares:
    p10_p90: Number
    p25_p75: Number


@dataclass(frozen=True)
class IntervalCounts:
    p10_p90: int
    p25_p75: int


@dataclass(frozen=True)
class NumericScores:
    """Numeric questions: pinball loss over the range, and how often the outcome fell
    inside the p10-p90 and p25-p75 intervals."""

    questions: int
    pinball: Number
    pinball_questions: int
    interval_coverage: IntervalShares
    interval_questions: IntervalCounts


@dataclass(frozen=True)
class Entry:
    """One scorer's results: a forecaster, the paper or the crowd."""

    forecaster: str
    questions: int
    counts: Counts
    brier: Number
    brier_time_avg: Number
    coverage: Number
    relative_brier: Number
    log_score: Number
    baseline_score: Number
    calibration: list[CalibrationBin]
    murphy: Murphy
    numeric: NumericScores
    notes: list[str]

    def metric(self, name: str) -> Number:
        """One of ``METRICS`` by name."""
        value: Number = getattr(self, name)
        return value


@dataclass(frozen=True)
class ForecasterEntry(Entry):
    """A team member on the leaderboard; ``rank`` is None without a Brier score."""

    rank: int | None = None


@dataclass(frozen=True)
class PaperPart:
    """The paper's record on part of the questions: how many it forecast, how many of its
    predictions came true, and its own scores (no relative Brier: retrospective questions
    have no crowd to compare with)."""

    questions: int
    predictions: int
    came_true: int
    undecided: int
    brier: Number
    log_score: Number
    baseline_score: Number


@dataclass(frozen=True)
class PaperEntry(Entry):
    """The paper: its scores on all questions, and how many of its predictions came true (a
    final P(yes) of exactly 50%, or a tie between options, is ``undecided``); then the
    same record split into ``retrospective`` questions (tagged so) and ``live`` ones."""

    predictions: int
    came_true: int
    undecided: int
    retrospective: PaperPart
    live: PaperPart


@dataclass(frozen=True)
class CrowdEntry(Entry):
    """The team's crowd forecast, scored like a forecaster (no relative Brier)."""

    predictions: int
    came_true: int


@dataclass(frozen=True)
class TeamMean:
    """The plain mean of the active members' scores."""

    brier: Number
    brier_time_avg: Number
    coverage: Number
    relative_brier: Number
    log_score: Number
    baseline_score: Number

    def metric(self, name: str) -> Number:
        value: Number = getattr(self, name)
        return value


@dataclass(frozen=True)
class Team:
    """The team as a whole: pooled calibration of every member's final forecasts."""

    forecasters: int
    mean: TeamMean
    calibration: list[CalibrationBin]
    forecasts: int


@dataclass(frozen=True)
class Filters:
    forecaster: str | None
    tag: str | None


@dataclass(frozen=True)
class ResolvedCounts:
    """Questions scored (by kind), annulled, and not resolved by the as-of day."""

    scored: int
    binary: int
    choice: int
    numeric: int
    annulled: int
    unresolved: int


@dataclass(frozen=True)
class Report:
    """The whole report. ``as_of_day`` is the day asked for (None: now); forecasts made
    before ``cutoff`` count."""

    as_of_day: dt.date | None
    cutoff: dt.datetime
    bins: int
    filters: Filters
    resolved_questions: ResolvedCounts
    forecasters: list[ForecasterEntry]
    paper: PaperEntry | None
    crowd: CrowdEntry
    team: Team
    notes: list[str] = field(default_factory=list)

    @property
    def as_of(self) -> str:
        """The day (YYYY-MM-DD), or the instant the report was made (``clock.iso``)."""
        if self.as_of_day is not None:
            return self.as_of_day.isoformat()
        return clock.iso(self.cutoff.replace(microsecond=0))

    @property
    def as_of_is_end_of_day(self) -> bool:
        return self.as_of_day is not None

    def to_dict(self) -> dict[str, Any]:
        """Plain data, JSON-safe (no NaN; floats rounded to 6 decimals)."""
        return {
            "as_of": self.as_of,
            "as_of_is_end_of_day": self.as_of_is_end_of_day,
            "bins": self.bins,
            "filters": dataclasses.asdict(self.filters),
            "resolved_questions": dataclasses.asdict(self.resolved_questions),
            "forecasters": [dataclasses.asdict(e) for e in self.forecasters],
            "paper": dataclasses.asdict(self.paper) if self.paper is not None else None,
            "crowd": dataclasses.asdict(self.crowd),
            "team": dataclasses.asdict(self.team),
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, allow_nan=False)


# --------------------------------------------------------------------------------------
# Building


def build_report(session: Session, options: ReportOptions | None = None) -> Report:
    """Load, score and shape the report. Raises ``PersonNotFound`` (field ``forecaster``)
    for an unknown forecaster."""
    from forecasts.report.load import load_history

    options = options or ReportOptions()
    if options.forecaster is not None:
        _check_forecaster(session, options.forecaster)
    hist = load_history(session, as_of=options.as_of, tag=options.tag)
    return report_from_history(hist, options)


def report_from_history(hist: History, options: ReportOptions) -> Report:
    """Score a loaded history and shape the report (no database needed)."""
    scores = score(
        hist.questions, hist.forecasts, len(hist.handles), paper=hist.paper, bins=options.bins
    )
    return shape_report(
        scores,
        handles=hist.handles,
        paper=hist.paper,
        options=options,
        cutoff=hist.cutoff,
        counts=hist.counts,
        paper_record=paper_record(hist, options.bins),
    )


def _check_forecaster(session: Session, handle: str) -> None:
    from forecasts.domain.people import get_person

    try:
        get_person(session, handle=handle)
    except PersonNotFound as e:
        e.field = "forecaster"
        raise


def shape_report(
    s: Scores,
    *,
    handles: Sequence[str],
    paper: int,
    options: ReportOptions,
    cutoff: dt.datetime,
    counts: dict[str, int] | None = None,
    paper_record: PaperRecord | None = None,
) -> Report:
    """Scores (with the handles and the paper's index that go with them) as a Report.
    ``counts`` are the loader's question counts (``load.History.counts``);
    ``paper_record`` splits the paper's record (default: every question is live)."""
    counts = dict(counts or {})
    n_scored = counts.get("scored_questions", int(s.questions[s.crowd]))
    return Report(
        as_of_day=options.as_of,
        cutoff=cutoff,
        bins=s.bins,
        filters=Filters(forecaster=options.forecaster, tag=options.tag),
        resolved_questions=ResolvedCounts(
            scored=n_scored,
            binary=counts.get("binary", 0),
            choice=counts.get("choice", 0),
            numeric=counts.get("numeric", 0),
            annulled=counts.get("annulled", 0),
            unresolved=counts.get("unresolved", 0) + counts.get("later", 0),
        ),
        forecasters=_leaderboard(s, handles, paper, options.forecaster),
        paper=_paper_entry(s, paper, paper_record),
        crowd=_crowd_entry(s),
        team=_team(s, _active(s, handles, paper)),
        notes=_report_notes(n_scored, counts.get("annulled", 0)),
    )


def _active(s: Scores, handles: Sequence[str], paper: int) -> list[int]:
    """Team members (everyone but the paper) with at least one scored question."""
    return [i for i in range(len(handles)) if i != paper and s.questions[i] > 0]


def _leaderboard(
    s: Scores, handles: Sequence[str], paper: int, forecaster: str | None
) -> list[ForecasterEntry]:
    """The shown forecasters by Brier (lower first; those without one last, by handle)."""
    shown = [handles.index(forecaster)] if forecaster is not None else _active(s, handles, paper)
    entries = [_scores(s, i, handles[i]) for i in shown]
    entries.sort(key=lambda e: (e["brier"] is None, e["brier"] or 0.0, e["forecaster"]))
    return [
        ForecasterEntry(**e, rank=rank if e["brier"] is not None else None)
        for rank, e in enumerate(entries, 1)
    ]


def _paper_entry(s: Scores, paper: int, record: PaperRecord | None) -> PaperEntry | None:
    if paper < 0:
        return None
    if record is None:
        record = PaperRecord(retrospective=NO_QUESTIONS, live=_paper_part(s, paper))
    return PaperEntry(
        **_scores(s, paper, PAPER),
        predictions=int(s.predictions[paper]),
        came_true=int(s.came_true[paper]),
        undecided=int(s.undecided[paper]),
        retrospective=record.retrospective,
        live=record.live,
    )


def _crowd_entry(s: Scores) -> CrowdEntry:
    fields = _scores(s, s.crowd, "crowd")
    fields["relative_brier"] = None  # the crowd against itself
    return CrowdEntry(
        **fields, predictions=int(s.predictions[s.crowd]), came_true=int(s.came_true[s.crowd])
    )


def _team(s: Scores, active: list[int]) -> Team:
    """Pooled calibration of every active member's final forecasts, and the plain mean of
    their scores (over those who have each score)."""
    if active:
        cal_n = s.cal_n[active].sum(axis=0)
        cal_p = s.cal_sum_p[active].sum(axis=0)
        cal_o = s.cal_sum_o[active].sum(axis=0)
    else:
        cal_n, cal_p, cal_o = np.zeros(s.bins, dtype=np.int64), np.zeros(s.bins), np.zeros(s.bins)
    means = {}
    for key in METRICS:
        vals = np.array([getattr(s, key)[i] for i in active], dtype=float)
        vals = vals[np.isfinite(vals)]
        means[key] = _f(vals.mean()) if vals.size else None
    return Team(
        forecasters=len(active),
        mean=TeamMean(**means),
        calibration=_calibration(cal_n, cal_p, cal_o, s.bins),
        forecasts=int(cal_n.sum()),
    )


def _scores(s: Scores, i: int, name: str) -> dict[str, Any]:
    """The fields every ``Entry`` has, for scorer ``i``."""
    nb = int(s.n_binary[i])
    return {
        "forecaster": name,
        "questions": int(s.questions[i]),
        "counts": Counts(
            binary=nb,
            choice=int(s.n_choice[i]),
            numeric=int(s.n_numeric[i]),
            brier=int(s.n_brier[i]),
            time_avg=int(s.n_time_avg[i]),
            relative=int(s.n_relative[i]),
        ),
        **{key: _f(getattr(s, key)[i]) for key in METRICS},
        "calibration": _calibration(s.cal_n[i], s.cal_sum_p[i], s.cal_sum_o[i], s.bins),
        "murphy": Murphy(
            reliability=_f(s.reliability[i]),
            resolution=_f(s.resolution[i]),
            uncertainty=_f(s.uncertainty[i]),
            brier=_f(s.binary_brier[i]),
            n=nb,
        ),
        "numeric": _numeric(s, i),
        "notes": _entry_notes(s, i),
    }


def _numeric(s: Scores, i: int) -> NumericScores:
    return NumericScores(
        questions=int(s.n_numeric[i]),
        pinball=_f(s.pinball[i]),
        pinball_questions=int(s.n_pinball[i]),
        interval_coverage=IntervalShares(
            p10_p90=_f(s.inside_80[i] / s.n_80[i]) if s.n_80[i] else None,
            p25_p75=_f(s.inside_50[i] / s.n_50[i]) if s.n_50[i] else None,
        ),
        interval_questions=IntervalCounts(p10_p90=int(s.n_80[i]), p25_p75=int(s.n_50[i])),
    )


def _calibration(n: Any, sum_p: Any, sum_o: Any, bins: int) -> list[CalibrationBin]:
    lo, hi = wilson_interval(sum_o, n)
    out = []
    for i in range(bins):
        k = int(n[i])
        out.append(
            CalibrationBin(
                low=_f(i / bins),
                high=_f((i + 1) / bins),
                n=k,
                mean_forecast=_f(sum_p[i] / k) if k else None,
                observed=_f(sum_o[i] / k) if k else None,
                ci_low=_f(lo[i]),
                ci_high=_f(hi[i]),
            )
        )
    return out


def _entry_notes(s: Scores, i: int) -> list[str]:
    nb = int(s.n_binary[i])
    notes = []
    if int(s.questions[i]) == 0:
        notes.append("no resolved questions with a forecast: nothing to score")
    elif nb < MIN_CALIBRATION:
        notes.append(f"{plural(nb, 'resolved binary question')}: too few to judge calibration")
    if int(s.questions[i]) and i != s.crowd and int(s.n_relative[i]) == 0 and s.n_brier[i]:
        notes.append(
            "relative Brier undefined: nobody else had a forecast standing at the same time"
        )
    return notes


def _report_notes(n_scored: int, annulled: int) -> list[str]:
    notes = []
    if n_scored == 0:
        notes.append("no resolved questions yet: nothing to score")
    elif n_scored < MIN_CALIBRATION:
        notes.append(f"{plural(n_scored, 'resolved question')}: too few to judge calibration")
    if annulled:
        notes.append(f"{plural(annulled, 'annulled question')} left out, as always")
    return notes


# --------------------------------------------------------------------------------------
# The paper's record, split


NO_QUESTIONS = PaperPart(0, 0, 0, 0, None, None, None)


@dataclass(frozen=True)
class PaperRecord:
    retrospective: PaperPart
    live: PaperPart


def paper_record(hist: History, bins: int) -> PaperRecord | None:
    """The paper's record on retrospective questions and on live ones (None without a
    paper). Each part is scored on the paper's own forecasts alone: its scores other than
    the relative Brier never depend on anyone else's, and the crowd, which is the costly
    part of scoring, is not needed."""
    if hist.paper < 0:
        return None
    retro = np.array([RETROSPECTIVE in tags for tags in hist.question_tags], dtype=bool)
    return PaperRecord(
        retrospective=_paper_on(hist, retro, bins), live=_paper_on(hist, ~retro, bins)
    )


def _paper_on(hist: History, chosen: NDArray[np.bool_], bins: int) -> PaperPart:
    """The paper's record on the ``chosen`` questions."""
    if not chosen.any():
        return NO_QUESTIONS
    f = hist.forecasts
    questions, forecasts = _subset(hist, chosen, (f.person == hist.paper) & chosen[f.question])
    s = score(questions, forecasts, len(hist.handles), paper=hist.paper, bins=bins)
    return _paper_part(s, hist.paper)


def _subset(
    hist: History, chosen: NDArray[np.bool_], keep: NDArray[np.bool_]
) -> tuple[QuestionArrays, ForecastArrays]:
    """The ``chosen`` questions, and the forecasts ``keep`` selects (all on chosen
    questions), re-indexed to them. Scoring treats questions independently, so a question's
    numbers on a subset are its numbers in the whole."""
    q, f = hist.questions, hist.forecasts
    new_index = np.cumsum(chosen) - 1  # question index among the chosen ones
    rows = np.flatnonzero(keep)
    questions = QuestionArrays(
        kind=q.kind[chosen],
        n_options=q.n_options[chosen],
        outcome=q.outcome[chosen],
        opens=q.opens[chosen],
        end=q.end[chosen],
        range_width=q.range_width[chosen],
    )
    forecasts = ForecastArrays(
        question=new_index[f.question[rows]].astype(np.int32),
        person=f.person[rows],
        made_at=f.made_at[rows],
        p_yes=f.p_yes[rows],
        choice_row=f.choice_row[rows],
        choice=f.choice,
        quantile_row=f.quantile_row[rows],
        quantiles=f.quantiles,
    )
    return questions, forecasts


def _paper_part(s: Scores, paper: int) -> PaperPart:
    return PaperPart(
        questions=int(s.questions[paper]),
        predictions=int(s.predictions[paper]),
        came_true=int(s.came_true[paper]),
        undecided=int(s.undecided[paper]),
        brier=_f(s.brier[paper]),
        log_score=_f(s.log_score[paper]),
        baseline_score=_f(s.baseline_score[paper]),
    )


# --------------------------------------------------------------------------------------
# Final forecasts, question by question (the weekly digest's "Resolved this week")


@dataclass(frozen=True)
class FinalForecast:
    """One scorer's final forecast on one resolved question, as the report scores it."""

    p_yes: Number  # binary: the probability of yes
    p_outcome: Number  # binary and choice: the probability given to what happened
    median: Number  # numeric: the p50
    brier: Number  # binary and choice


@dataclass(frozen=True)
class QuestionFinals:
    """The final forecasts on one question: each forecaster's (the paper's included, by
    handle) and the crowd's (None when nobody on the team forecast it)."""

    forecasters: dict[str, FinalForecast]
    crowd: FinalForecast | None


def final_forecasts(hist: History, question_ids: Collection[str]) -> dict[str, QuestionFinals]:
    """The final forecasts on each of ``question_ids`` that the history scores (resolved
    and not annulled by its as-of day), by the report's own steps (``forecasts.scoring``:
    the last forecast made before the question's end; the crowd of the team's finals), on
    those questions alone."""
    from forecasts.domain.values import QUANTILES
    from forecasts.scoring.finals import final_rows
    from forecasts.scoring.history import order_in_window, series_of
    from forecasts.scoring.scorer import forecast_brier

    index = {qid: i for i, qid in enumerate(hist.question_ids)}
    chosen = np.zeros(len(hist.question_ids), dtype=bool)
    chosen[[index[q] for q in question_ids if q in index]] = True
    if not chosen.any():
        return {}
    questions, forecasts = _subset(hist, chosen, chosen[hist.forecasts.question])
    ordered = order_in_window(questions, forecasts)
    series = series_of(ordered)
    brier = forecast_brier(questions, forecasts, ordered)
    crowd = len(hist.handles)
    rows = final_rows(questions, forecasts, ordered, series, brier, hist.paper, crowd=crowd)
    ids = [hist.question_ids[i] for i in np.flatnonzero(chosen)]
    median = rows.quantiles[:, QUANTILES.index("p50")]
    people: dict[str, dict[str, FinalForecast]] = {qid: {} for qid in ids}
    crowds: dict[str, FinalForecast] = {}
    for i in range(len(rows)):
        qid, who = ids[int(rows.question[i])], int(rows.scorer[i])
        final = FinalForecast(
            p_yes=_f(rows.p_yes[i]),
            p_outcome=_f(rows.p_outcome[i]),
            median=_f(median[i]),
            brier=_f(rows.brier[i]),
        )
        if who == crowd:
            crowds[qid] = final
        else:
            people[qid][hist.handles[who]] = final
    return {qid: QuestionFinals(people[qid], crowds.get(qid)) for qid in ids}


def _f(x: Any) -> float | None:
    """A JSON-safe float: rounded, and None instead of NaN or infinity."""
    if x is None:
        return None
    v = float(x)
    if not math.isfinite(v):
        return None
    return round(v, DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0

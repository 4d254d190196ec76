"""The scores and calibration report.

``build_report`` loads the resolved history from a session into numpy arrays
(``load_history``), scores it with ``forecasts.scoring`` and returns a plain, JSON-ready
dict (``scores_to_dict``). ``render_terminal``, ``render_html`` and ``write_png`` present
that dict. Core code: raises ``BadInput`` for bad options, never prints or exits.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from forecasts import clock, scoring
from forecasts.errors import BadInput, PersonNotFound
from forecasts.scoring import BINARY, CHOICE, NUMERIC, ForecastArrays, QuestionArrays, Scores

if TYPE_CHECKING:
    from rich.console import Console
    from sqlmodel import Session

PAPER = "paper"
ANNULLED = "annulled"
MAX_BINS = 100
# Below this many resolved binary final forecasts, calibration is not worth judging.
MIN_CALIBRATION = 20
DECIMALS = 6
KINDS = {"binary": BINARY, "choice": CHOICE, "numeric": NUMERIC}

METRIC_LABELS = {
    "brier": "Brier",
    "brier_time_avg": "Brier (time-avg)",
    "coverage": "Coverage",
    "relative_brier": "Relative Brier",
    "log_score": "Log score",
    "baseline_score": "Baseline score",
}


# --------------------------------------------------------------------------------------
# Options


def parse_as_of(value: str | dt.date | None) -> dt.date | None:
    """``--as-of``: an ISO date (YYYY-MM-DD), or None for now."""
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise BadInput(f"--as-of: {value!r} is not an ISO date; use YYYY-MM-DD") from None


def check_bins(bins: int) -> int:
    if not isinstance(bins, int) or isinstance(bins, bool) or not 1 <= bins <= MAX_BINS:
        raise BadInput(f"--bins must be a whole number from 1 to {MAX_BINS}, not {bins!r}")
    return bins


def check_writable(path: str | os.PathLike[str], option: str) -> Path:
    """Fail early, before any work, if ``path`` cannot be written."""
    p = Path(path)
    if p.is_dir():
        raise BadInput(f"{option}: {p} is a directory; give a file name")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise BadInput(f"{option}: cannot write {p}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise BadInput(f"{option}: cannot write {p}: permission denied")
    return p


# --------------------------------------------------------------------------------------
# Loading


@dataclass
class History:
    """The resolved history as arrays, with the names that go with the indices."""

    questions: QuestionArrays
    forecasts: ForecastArrays
    handles: list[str]
    paper: int
    question_ids: list[str]
    cutoff: dt.datetime
    as_of_day: dt.date | None
    counts: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)


def _resolved_questions(
    session: Session, as_of_day: dt.date, tag: str | None
) -> tuple[list[Any], dict[str, Any], dict[str, int]]:
    import sqlalchemy as sa
    from sqlmodel import col

    from forecasts.store.models import Question, Resolution

    qrows = session.execute(
        sa.select(
            col(Question.id),
            col(Question.type),
            col(Question.options),
            col(Question.range_min),
            col(Question.range_max),
            col(Question.opens),
            col(Question.closes),
            col(Question.tags),
        )
    ).all()
    res_rows = session.execute(
        sa.select(
            col(Resolution.id),
            col(Resolution.question_id),
            col(Resolution.outcome),
            col(Resolution.resolved_on),
        ).order_by(col(Resolution.id))
    ).all()
    current: dict[str, Any] = {}
    for row in res_rows:  # the newest row per question is current
        current[row.question_id] = row
    tag_l = tag.strip().lower() if tag else None
    counts = {"questions": 0, "resolved": 0, "annulled": 0, "unresolved": 0, "later": 0}
    chosen = []
    for q in qrows:
        if tag_l is not None and tag_l not in [str(t).lower() for t in (q.tags or [])]:
            continue
        counts["questions"] += 1
        r = current.get(q.id)
        if r is None:
            counts["unresolved"] += 1
        elif r.resolved_on > as_of_day:
            counts["later"] += 1
        elif r.outcome == ANNULLED:
            counts["annulled"] += 1
        else:
            counts["resolved"] += 1
            chosen.append(q)
    return chosen, current, counts


def load_history(
    session: Session, *, as_of: str | dt.date | None = None, tag: str | None = None
) -> History:
    """Resolved, non-annulled questions (as of the end of ``as_of``, default now) and every
    forecast made on them before that moment, as arrays."""
    import sqlalchemy as sa
    from sqlmodel import col

    from forecasts.store.models import Forecast, Person

    day = parse_as_of(as_of)
    cutoff = clock.end_of_day(day) if day is not None else clock.now()
    as_of_day = day if day is not None else cutoff.date()
    chosen, current, counts = _resolved_questions(session, as_of_day, tag)

    handles = sorted(h for (h,) in session.execute(sa.select(col(Person.handle))).all())
    person_idx = {h: i for i, h in enumerate(handles)}
    paper = person_idx.get(PAPER, -1)

    # Questions as arrays.
    skipped = {"bad_outcome": 0, "bad_value": 0}
    q_kind, q_nopt, q_out, q_open, q_end, q_rw = [], [], [], [], [], []
    ids: list[str] = []
    options: list[list[str]] = []
    for q in chosen:
        r = current[q.id]
        kind = KINDS.get(q.type)
        opts = [str(o) for o in (q.options or [])]
        outcome = _outcome_value(q.type, opts, r.outcome)
        if kind is None or outcome is None:
            skipped["bad_outcome"] += 1
            continue
        ids.append(q.id)
        options.append(opts)
        q_kind.append(kind)
        q_nopt.append(2 if kind == BINARY else len(opts) if kind == CHOICE else 0)
        q_out.append(outcome)
        opens = clock.start_of_day(q.opens).timestamp()
        end = min(clock.end_of_day(q.closes), clock.start_of_day(r.resolved_on)).timestamp()
        q_open.append(opens)
        q_end.append(end)
        width = (
            (q.range_max - q.range_min)
            if kind == NUMERIC and q.range_min is not None and q.range_max is not None
            else math.nan
        )
        q_rw.append(width)
    questions = QuestionArrays(
        kind=np.array(q_kind, dtype=np.int8),
        n_options=np.array(q_nopt, dtype=np.int32),
        outcome=np.array(q_out, dtype=float),
        opens=np.array(q_open, dtype=float),
        end=np.array(q_end, dtype=float),
        range_width=np.array(q_rw, dtype=float),
    )
    counts["scored_questions"] = len(ids)
    for name, k in KINDS.items():
        counts[name] = int(np.sum(questions.kind == k))

    # Forecasts: one Core select of raw columns, decoded in bulk. On SQLite a full table
    # scan beats the made_at index (the cutoff rarely excludes much), so the cutoff and the
    # question filter are applied in numpy there; other backends filter server-side.
    q_index = {qid: i for i, qid in enumerate(ids)}
    stmt = sa.select(
        col(Forecast.id),
        col(Forecast.question_id),
        col(Forecast.person),
        sa.type_coerce(col(Forecast.made_at), sa.String()),
        sa.type_coerce(col(Forecast.value), sa.String()),
    )
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        stmt = stmt.where(col(Forecast.made_at) < cutoff)
        if len(ids) < counts["questions"] or tag is not None:
            stmt = stmt.where(col(Forecast.question_id).in_(ids))
    k_max = max((len(o) for o, k in zip(options, q_kind, strict=True) if k == CHOICE), default=1)
    raw = (
        _fetch_columns(conn, stmt, q_index, person_idx, questions, options, k_max) if ids else None
    )
    forecasts = _forecast_arrays(raw, questions, skipped, cutoff.timestamp(), k_max)
    return History(
        questions=questions,
        forecasts=forecasts,
        handles=handles,
        paper=paper,
        question_ids=ids,
        cutoff=cutoff,
        as_of_day=day,
        counts=counts,
        skipped=skipped,
    )


def _outcome_value(qtype: str, options: list[str], outcome: str) -> float | None:
    if qtype == "binary":
        return {"yes": 1.0, "no": 0.0}.get(outcome.strip().lower())
    if qtype == "choice":
        return float(options.index(outcome)) if outcome in options else None
    if qtype == "numeric":
        try:
            x = float(outcome)
        except ValueError:
            return None
        return x if math.isfinite(x) else None
    return None


FETCH_BATCH = 100_000


@dataclass
class _RawForecasts:
    """The forecast columns, decoded batch by batch (choice and numeric JSON included, so
    no Python strings outlive their batch)."""

    ids: scoring.I64
    qi: scoring.I64
    person: scoring.I64
    made: scoring.F64
    kind: scoring.I64
    p_yes: scoring.F64  # NaN where not binary
    c_pos: scoring.I64  # rows with a choice value, and the value (renormalised)
    choice: scoring.F64
    c_good: NDArray[np.bool_]
    n_pos: scoring.I64  # rows with a numeric value, and its quantiles
    quantiles: scoring.F64
    n_good: NDArray[np.bool_]


def _fetch_columns(
    conn: Any,
    stmt: Any,
    q_index: dict[str, int],
    person_idx: dict[str, int],
    questions: QuestionArrays,
    options: list[list[str]],
    k_max: int,
) -> _RawForecasts:
    """Run a Core select of raw columns and decode it in batches of FETCH_BATCH rows, so a
    million rows never sit in memory as Python objects at once. Every selected column is
    an integer or text (the rest are type-coerced to text), so nothing needs SQLAlchemy's
    per-row processing: the DBAPI cursor is read directly when there is one."""
    from itertools import repeat
    from operator import itemgetter

    result = conn.execute(stmt)
    parts: list[tuple[Any, ...]] = []
    offset = 0
    try:
        cursor = getattr(result, "cursor", None)
        fetch = cursor.fetchmany if cursor is not None else result.fetchmany
        while True:
            rows = fetch(FETCH_BATCH)
            if not rows:
                break
            n = len(rows)
            f_id, f_q, f_p, f_t, f_v = (list(map(itemgetter(j), rows)) for j in range(5))
            del rows
            ids = np.fromiter(f_id, dtype=np.int64, count=n)
            qi = np.fromiter(map(q_index.get, f_q, repeat(-1)), dtype=np.int64, count=n)
            person = np.fromiter(map(person_idx.get, f_p, repeat(-1)), dtype=np.int64, count=n)
            made = _parse_times(f_t)
            kind = np.where(qi >= 0, questions.kind[np.maximum(qi, 0)], -1)
            values = np.empty(n, dtype=object)
            values[:] = f_v
            del f_id, f_q, f_p, f_t, f_v
            p_yes = np.full(n, np.nan)
            b_idx = np.flatnonzero(kind == BINARY)
            p_yes[b_idx] = _parse_numbers(values[b_idx])
            c_idx = np.flatnonzero(kind == CHOICE)
            choice, c_good = _decode_choice(values[c_idx], qi[c_idx], options, questions, k_max)
            n_idx = np.flatnonzero(kind == NUMERIC)
            quants, n_good = _decode_numeric(values[n_idx])
            del values
            c_pos, n_pos = c_idx + offset, n_idx + offset
            parts.append(
                (ids, qi, person, made, kind, p_yes, c_pos, choice, c_good, n_pos, quants, n_good)
            )
            offset += n
    finally:
        result.close()
    if not parts:
        z = np.zeros(0, dtype=np.int64)
        e = np.zeros(0, dtype=bool)
        return _RawForecasts(
            z, z, z, np.zeros(0), z, np.zeros(0), z, np.zeros((0, k_max)), e, z, np.zeros((0, 5)), e
        )
    cols = [np.concatenate(c) for c in zip(*parts, strict=True)]
    return _RawForecasts(
        ids=cols[0],
        qi=cols[1],
        person=cols[2],
        made=cols[3],
        kind=cols[4],
        p_yes=cols[5],
        c_pos=cols[6],
        choice=cols[7],
        c_good=cols[8],
        n_pos=cols[9],
        quantiles=cols[10],
        n_good=cols[11],
    )


def _decode_choice(
    values: NDArray[np.object_],
    qi: scoring.I64,
    options: list[list[str]],
    questions: QuestionArrays,
    k_max: int,
) -> tuple[scoring.F64, NDArray[np.bool_]]:
    """Choice values as rows of probabilities in option order (NaN padded), renormalised;
    and which rows are usable (all options given as non-negative numbers, sum > 0)."""
    m = values.size
    nan_pad = [math.nan] * k_max
    probs: list[list[Any]] = []
    for i, v in zip(qi, _parse_objects(values), strict=True):
        opts = options[i]
        if isinstance(v, dict) and list(v) == opts:  # the stored form: option order
            probs.append([*v.values(), *nan_pad[len(opts) :]])
        elif isinstance(v, dict):  # options renamed or reordered since: match by name
            probs.append([v.get(o, 0.0) for o in opts] + nan_pad[len(opts) :])
        else:
            probs.append(nan_pad)
    try:
        choice = np.array(probs, dtype=np.float64).reshape(m, k_max)
    except (TypeError, ValueError):
        choice = np.array([[_num(x) for x in row] for row in probs]).reshape(m, k_max)
    n_opt = questions.n_options[qi] if m else np.zeros(0, np.int32)
    used = np.arange(k_max)[None, :] < n_opt[:, None]
    total = np.where(used, choice, 0.0).sum(axis=1)
    good = np.all(~used | (np.isfinite(choice) & (choice >= 0)), axis=1) & (total > 0)
    choice = np.where(used, choice / np.where(good, total, 1.0)[:, None], np.nan)
    return choice, good


def _decode_numeric(values: NDArray[np.object_]) -> tuple[scoring.F64, NDArray[np.bool_]]:
    quantiles = np.full((values.size, 5), np.nan)
    good = np.ones(values.size, dtype=bool)
    names = scoring.QUANTILE_NAMES
    for j, v in enumerate(_parse_objects(values)):
        try:
            quantiles[j] = [v.get(k, math.nan) for k in names]
        except (AttributeError, TypeError, ValueError):
            good[j] = False
    return quantiles, good


def _forecast_arrays(
    raw: _RawForecasts | None,
    questions: QuestionArrays,
    skipped: dict[str, int],
    cutoff: float,
    k_max: int,
) -> ForecastArrays:
    if raw is None or raw.ids.size == 0:
        return _empty_forecasts(k_max)
    n = raw.ids.size
    ids, qi, person, made = raw.ids, raw.qi, raw.person, raw.made
    keep = (qi >= 0) & (person >= 0) & (made < cutoff) & np.isfinite(made)
    relevant = (qi >= 0) & (person >= 0) & (made < cutoff)
    kind = np.where(keep, raw.kind, -1)
    p_yes = raw.p_yes
    b_idx = np.flatnonzero(kind == BINARY)
    keep[b_idx[~np.isfinite(p_yes[b_idx])]] = False
    keep[raw.c_pos[~raw.c_good]] = False
    keep[raw.n_pos[~raw.n_good]] = False
    choice_row = np.full(n, -1, dtype=np.int32)
    choice_row[raw.c_pos] = np.arange(raw.c_pos.size)
    quantile_row = np.full(n, -1, dtype=np.int32)
    quantile_row[raw.n_pos] = np.arange(raw.n_pos.size)
    skipped["bad_value"] += int(np.sum(relevant & ~keep))
    # Ties in time are broken by id: hand the scorer rows in id order.
    sel = np.flatnonzero(keep)
    if sel.size > 1 and not np.all(np.diff(ids[sel]) > 0):
        sel = sel[np.argsort(ids[sel], kind="stable")]
    return ForecastArrays(
        question=qi[sel].astype(np.int32),
        person=person[sel].astype(np.int32),
        made_at=made[sel],
        p_yes=p_yes[sel],
        choice_row=choice_row[sel],
        choice=raw.choice,
        quantile_row=quantile_row[sel],
        quantiles=raw.quantiles,
    )


def _empty_forecasts(k: int = 1) -> ForecastArrays:
    return ForecastArrays(
        question=np.zeros(0, dtype=np.int32),
        person=np.zeros(0, dtype=np.int32),
        made_at=np.zeros(0),
        p_yes=np.zeros(0),
        choice_row=np.zeros(0, dtype=np.int32),
        choice=np.zeros((0, max(k, 1))),
        quantile_row=np.zeros(0, dtype=np.int32),
        quantiles=np.zeros((0, 5)),
    )


def _num(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v if math.isfinite(v) else math.nan


_DIGITS = (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22, 23, 24, 25)


def _parse_times(values: Sequence[Any]) -> scoring.F64:
    """Datetimes to POSIX seconds. SQLite hands back its stored text, which is parsed in
    bulk ('YYYY-MM-DD HH:MM:SS.ffffff', UTC); other backends give datetime objects."""
    n = len(values)
    if n == 0:
        return np.zeros(0)
    if all(isinstance(v, str) for v in values[:1]) and isinstance(values[-1], str):
        try:
            raw = np.array(values, dtype="S26")
        except (UnicodeEncodeError, ValueError):
            raw = None
        if raw is not None:
            b = raw.view(np.uint8).reshape(n, 26)
            lengths = np.char.str_len(raw)
            ok = (
                (lengths == 26)
                & (b[:, 4] == ord("-"))
                & (b[:, 7] == ord("-"))
                & ((b[:, 10] == ord(" ")) | (b[:, 10] == ord("T")))
                & (b[:, 13] == ord(":"))
                & (b[:, 16] == ord(":"))
                & (b[:, 19] == ord("."))
            )
            d = b[:, _DIGITS].astype(np.int64) - ord("0")
            ok &= np.all((d >= 0) & (d <= 9), axis=1)
            if ok.all():
                year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
                month = d[:, 4] * 10 + d[:, 5]
                day = d[:, 6] * 10 + d[:, 7]
                secs = (
                    (d[:, 8] * 10 + d[:, 9]) * 3600
                    + (d[:, 10] * 10 + d[:, 11]) * 60
                    + d[:, 12] * 10
                    + d[:, 13]
                )
                micro = d[:, 14:20] @ np.array([100000, 10000, 1000, 100, 10, 1])
                return _days_from_civil(year, month, day) * 86400.0 + secs + micro / 1e6
        out = np.full(n, np.nan)
        for i, v in enumerate(values):
            with contextlib.suppress(ValueError):
                out[i] = clock.as_utc(dt.datetime.fromisoformat(str(v))).timestamp()
        return out
    return np.array(
        [clock.as_utc(v).timestamp() if isinstance(v, dt.datetime) else math.nan for v in values]
    )


def _days_from_civil(y: scoring.I64, m: scoring.I64, d: scoring.I64) -> scoring.I64:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return np.asarray(era * 146097 + doe - 719468)


def _parse_numbers(values: NDArray[np.object_]) -> scoring.F64:
    """Binary values: SQLite hands back REAL (JSON '0.7' has numeric affinity), other
    backends a float or JSON text. Anything that is not a finite number becomes NaN."""
    if values.size == 0:
        return np.zeros(0)
    try:
        out = values.astype(np.float64)
    except (TypeError, ValueError):
        out = np.array([_num(json.loads(v) if isinstance(v, str) else v) for v in values])
    return np.where(np.isfinite(out), out, np.nan)


def _parse_objects(values: NDArray[np.object_]) -> list[Any]:
    if values.size == 0:
        return []
    if all(isinstance(v, str) for v in values):
        try:
            return list(json.loads("[" + ",".join(values) + "]"))
        except ValueError:
            out = []
            for v in values:
                try:
                    out.append(json.loads(v))
                except ValueError:
                    out.append(None)
            return out
    return [json.loads(v) if isinstance(v, str) else v for v in values]


# --------------------------------------------------------------------------------------
# The report dict


def build_report(
    session: Session,
    *,
    forecaster: str | None = None,
    tag: str | None = None,
    as_of: str | dt.date | None = None,
    bins: int = 10,
) -> dict[str, Any]:
    """Load, score and shape the report. Raises BadInput for bad options."""
    check_bins(bins)
    day = parse_as_of(as_of)
    hist = load_history(session, as_of=day, tag=tag)
    if forecaster is not None and forecaster not in hist.handles:
        raise PersonNotFound(forecaster)
    s = scoring.score(
        hist.questions, hist.forecasts, len(hist.handles), paper=hist.paper, bins=bins
    )
    return scores_to_dict(
        s,
        handles=hist.handles,
        paper=hist.paper,
        as_of=day.isoformat() if day is not None else hist.cutoff.isoformat(timespec="seconds"),
        forecaster=forecaster,
        tag=tag,
        counts=hist.counts,
        as_of_is_day=day is not None,
    )


def _f(x: Any) -> float | None:
    """A JSON-safe float: rounded, and None instead of NaN or infinity."""
    if x is None:
        return None
    v = float(x)
    if not math.isfinite(v):
        return None
    return round(v, DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _calibration(n: Any, sum_p: Any, sum_o: Any, bins: int) -> list[dict[str, Any]]:
    lo, hi = scoring.wilson_interval(sum_o, n)
    out = []
    for i in range(bins):
        k = int(n[i])
        out.append(
            {
                "low": _f(i / bins),
                "high": _f((i + 1) / bins),
                "n": k,
                "mean_forecast": _f(sum_p[i] / k) if k else None,
                "observed": _f(sum_o[i] / k) if k else None,
                "ci_low": _f(lo[i]),
                "ci_high": _f(hi[i]),
            }
        )
    return out


def _entry(s: Scores, i: int, name: str) -> dict[str, Any]:
    nb = int(s.n_binary[i])
    notes = []
    if int(s.questions[i]) == 0:
        notes.append("no resolved questions with a forecast: nothing to score")
    elif nb < MIN_CALIBRATION:
        notes.append(f"{_plural(nb, 'resolved binary question')}: too few to judge calibration")
    if int(s.questions[i]) and i != s.crowd and int(s.n_relative[i]) == 0 and s.n_brier[i]:
        notes.append(
            "relative Brier undefined: nobody else had a forecast standing at the same time"
        )
    entry: dict[str, Any] = {
        "forecaster": name,
        "questions": int(s.questions[i]),
        "counts": {
            "binary": nb,
            "choice": int(s.n_choice[i]),
            "numeric": int(s.n_numeric[i]),
            "brier": int(s.n_brier[i]),
            "time_avg": int(s.n_time_avg[i]),
            "relative": int(s.n_relative[i]),
        },
        "brier": _f(s.brier[i]),
        "brier_time_avg": _f(s.brier_time_avg[i]),
        "coverage": _f(s.coverage[i]),
        "relative_brier": _f(s.relative_brier[i]),
        "log_score": _f(s.log_score[i]),
        "baseline_score": _f(s.baseline_score[i]),
        "calibration": _calibration(s.cal_n[i], s.cal_sum_p[i], s.cal_sum_o[i], s.bins),
        "murphy": {
            "reliability": _f(s.reliability[i]),
            "resolution": _f(s.resolution[i]),
            "uncertainty": _f(s.uncertainty[i]),
            "brier": _f(s.binary_brier[i]),
            "n": nb,
        },
        "numeric": {
            "questions": int(s.n_numeric[i]),
            "pinball": _f(s.pinball[i]),
            "pinball_questions": int(s.n_pinball[i]),
            "interval_coverage": {
                "p10_p90": _f(s.inside_80[i] / s.n_80[i]) if s.n_80[i] else None,
                "p25_p75": _f(s.inside_50[i] / s.n_50[i]) if s.n_50[i] else None,
            },
            "interval_questions": {"p10_p90": int(s.n_80[i]), "p25_p75": int(s.n_50[i])},
        },
        "notes": notes,
    }
    return entry


def scores_to_dict(
    s: Scores,
    *,
    handles: Sequence[str],
    paper: int,
    as_of: str,
    forecaster: str | None = None,
    tag: str | None = None,
    counts: dict[str, int] | None = None,
    as_of_is_day: bool = True,
) -> dict[str, Any]:
    """The report as plain data (JSON-safe: no NaN, floats rounded to 6 decimals)."""
    counts = dict(counts or {})
    team = [i for i in range(len(handles)) if i != paper]
    if forecaster is not None:
        shown = [handles.index(forecaster)]
    else:
        shown = [i for i in team if s.questions[i] > 0]
    rows = [_entry(s, i, handles[i]) for i in shown]
    rows.sort(key=lambda e: (e["brier"] is None, e["brier"] or 0.0, e["forecaster"]))
    for rank, e in enumerate(rows, 1):
        e["rank"] = rank if e["brier"] is not None else None

    if paper >= 0:
        paper_entry = _entry(s, paper, PAPER)
        paper_entry.update(
            predictions=int(s.predictions[paper]),
            came_true=int(s.came_true[paper]),
            undecided=int(s.undecided[paper]),
        )
    else:
        paper_entry = None
    crowd_entry = _entry(s, s.crowd, "crowd")
    crowd_entry["relative_brier"] = None
    crowd_entry.update(predictions=int(s.predictions[s.crowd]), came_true=int(s.came_true[s.crowd]))

    # The team as a whole: pooled calibration of every member's final forecasts, and the
    # plain mean of the members' scores.
    active = [i for i in team if s.questions[i] > 0]
    pooled = (
        s.cal_n[active].sum(axis=0) if active else np.zeros(s.bins, dtype=np.int64),
        s.cal_sum_p[active].sum(axis=0) if active else np.zeros(s.bins),
        s.cal_sum_o[active].sum(axis=0) if active else np.zeros(s.bins),
    )
    team_mean: dict[str, Any] = {}
    for key in (
        "brier",
        "brier_time_avg",
        "coverage",
        "relative_brier",
        "log_score",
        "baseline_score",
    ):
        vals = np.array([getattr(s, key)[i] for i in active], dtype=float)
        vals = vals[np.isfinite(vals)]
        team_mean[key] = _f(vals.mean()) if vals.size else None
    team_entry = {
        "forecasters": len(active),
        "mean": team_mean,
        "calibration": _calibration(*pooled, s.bins),
        "forecasts": int(pooled[0].sum()),
    }

    notes = []
    n_res = counts.get("scored_questions", int(s.questions[s.crowd]))
    if n_res == 0:
        notes.append("no resolved questions yet: nothing to score")
    elif n_res < MIN_CALIBRATION:
        notes.append(f"{_plural(n_res, 'resolved question')}: too few to judge calibration")
    if counts.get("annulled"):
        notes.append(f"{_plural(counts['annulled'], 'annulled question')} left out, as always")
    return {
        "as_of": as_of,
        "as_of_is_end_of_day": as_of_is_day,
        "bins": s.bins,
        "filters": {"forecaster": forecaster, "tag": tag},
        "resolved_questions": {
            "scored": n_res,
            "binary": counts.get("binary", 0),
            "choice": counts.get("choice", 0),
            "numeric": counts.get("numeric", 0),
            "annulled": counts.get("annulled", 0),
            "unresolved": counts.get("unresolved", 0) + counts.get("later", 0),
        },
        "forecasters": rows,
        "paper": paper_entry,
        "crowd": crowd_entry,
        "team": team_entry,
        "notes": notes,
    }


def report_json(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2, allow_nan=False)


# --------------------------------------------------------------------------------------
# Presenting


def fmt(x: Any, kind: str = "score") -> str:
    """Numbers for people: scores to 3 decimals, shares as percentages, None as '-'."""
    if x is None:
        return "-"
    if kind == "pct":
        return f"{100 * x:.0f}%"
    if kind == "pct1":
        return f"{100 * x:.1f}%"
    if kind == "base":
        return f"{x:+.1f}"
    if kind == "signed":
        return f"{x:+.3f}"
    return f"{x:.3f}"


def paper_summary(report: dict[str, Any]) -> str:
    p = report.get("paper")
    if not p or p["questions"] == 0:
        return "The paper has no resolved predictions yet."
    text = f"{p['came_true']} of {_plural(p['predictions'], 'resolved paper prediction')} came true"
    if p.get("undecided"):
        text += f" ({p['undecided']} more said 50/50 and count neither way)"
    return text + "."


def comparison_rows(report: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(metric, paper, crowd, team mean) rows for the paper's scorecard."""
    p = report.get("paper") or {}
    c = report["crowd"]
    t = report["team"]["mean"]
    kinds = {"coverage": "pct", "relative_brier": "signed", "baseline_score": "base"}
    out = []
    for key, label in METRIC_LABELS.items():
        k = kinds.get(key, "score")
        out.append((label, fmt(p.get(key), k), fmt(c.get(key), k), fmt(t.get(key), k)))
    return out


def render_terminal(report: dict[str, Any], console: Console) -> None:
    """Rich tables: summary, leaderboard, the paper's scorecard, calibration per forecaster.

    Handles and tags are user text: they are escaped so rich never reads them as markup."""
    from rich.markup import escape
    from rich.table import Table

    rq = report["resolved_questions"]
    when = f"end of {report['as_of']} (UTC)" if report["as_of_is_end_of_day"] else report["as_of"]
    console.print(f"[bold]Scores as of {when}[/bold]")
    filt = escape(", ".join(f"{k} {v}" for k, v in report["filters"].items() if v))
    console.print(
        f"{_plural(rq['scored'], 'resolved question')} "
        f"({rq['binary']} binary, {rq['choice']} choice, {rq['numeric']} numeric); "
        f"{rq['annulled']} annulled, {rq['unresolved']} not resolved yet"
        + (f"; filtered by {filt}" if filt else "")
    )
    for note in report["notes"]:
        console.print(f"[yellow]Note:[/yellow] {escape(note)}")

    lb = Table(title="Leaderboard (lower Brier is better)", title_justify="left")
    for name in ("#", "Forecaster", "Questions", "Brier", "Time-avg", "Coverage", "Relative"):
        lb.add_column(name, justify="left" if name == "Forecaster" else "right")
    lb.add_column("Log", justify="right")
    lb.add_column("Baseline", justify="right")
    for e in report["forecasters"]:
        lb.add_row(
            str(e["rank"] or "-"),
            escape(e["forecaster"]),
            str(e["questions"]),
            fmt(e["brier"]),
            fmt(e["brier_time_avg"]),
            fmt(e["coverage"], "pct"),
            fmt(e["relative_brier"], "signed"),
            fmt(e["log_score"]),
            fmt(e["baseline_score"], "base"),
        )
    if report["forecasters"]:
        console.print(lb)
    else:
        console.print("No forecaster has a resolved question to score yet.")

    console.print(f"\n[bold]The paper[/bold]: {paper_summary(report)}")
    if report.get("paper") and report["paper"]["questions"]:
        pt = Table(title="The paper next to the team", title_justify="left")
        for col in ("Metric", "Paper", "Crowd", "Team mean"):
            pt.add_column(col, justify="left" if col == "Metric" else "right")
        for row in comparison_rows(report):
            pt.add_row(*row)
        console.print(pt)

    entries = [*report["forecasters"]]
    if report.get("paper"):
        entries.append(report["paper"])
    entries.append(report["crowd"])
    for e in entries:
        _render_calibration(e, console)

    numeric = [x for x in entries if x["numeric"]["questions"]]
    if numeric:
        nt = Table(title="Numeric questions", title_justify="left")
        for col in ("Forecaster", "Questions", "Pinball / range", "In p10-p90", "In p25-p75"):
            nt.add_column(col, justify="left" if col == "Forecaster" else "right")
        for x in numeric:
            nq = x["numeric"]
            ic = nq["interval_coverage"]
            nt.add_row(
                escape(x["forecaster"]),
                str(nq["questions"]),
                fmt(nq["pinball"]),
                _share(ic["p10_p90"], nq["interval_questions"]["p10_p90"], "80%"),
                _share(ic["p25_p75"], nq["interval_questions"]["p25_p75"], "50%"),
            )
        console.print(nt)


def _share(x: float | None, n: int, ideal: str) -> str:
    return "-" if x is None else f"{fmt(x, 'pct')} of {n} (ideal {ideal})"


def _render_calibration(e: dict[str, Any], console: Console) -> None:
    from rich.markup import escape
    from rich.table import Table

    nb = e["counts"]["binary"]
    title = f"Calibration: {escape(e['forecaster'])} ({_plural(nb, 'binary final forecast')})"
    if nb == 0:
        return
    t = Table(title=title, title_justify="left")
    for col in ("P(yes)", "n", "Mean forecast", "Observed", "95% interval"):
        t.add_column(col, justify="left" if col == "P(yes)" else "right")
    for b in e["calibration"]:
        if not b["n"]:
            continue
        t.add_row(
            f"{fmt(b['low'], 'pct')}-{fmt(b['high'], 'pct')}",
            str(b["n"]),
            fmt(b["mean_forecast"], "pct1"),
            fmt(b["observed"], "pct1"),
            f"{fmt(b['ci_low'], 'pct')}-{fmt(b['ci_high'], 'pct')}",
        )
    console.print()
    console.print(t)
    m = e["murphy"]
    console.print(
        f"Murphy (0-2 scale): reliability {fmt(m['reliability'])}, resolution "
        f"{fmt(m['resolution'])}, uncertainty {fmt(m['uncertainty'])}"
    )
    for note in e["notes"]:
        console.print(f"[yellow]Note:[/yellow] {escape(note)}")


def chart_series(report: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """What the reliability diagram shows: the chosen forecaster (or the pooled team) and
    the paper."""
    series = []
    if report["filters"].get("forecaster") and report["forecasters"]:
        e = report["forecasters"][0]
        series.append((e["forecaster"], e["calibration"]))
    else:
        series.append(("team (all members' final forecasts)", report["team"]["calibration"]))
    if report.get("paper") and report["paper"]["counts"]["binary"]:
        series.append((PAPER, report["paper"]["calibration"]))
    return series


def render_html(report: dict[str, Any]) -> str:
    """A self-contained HTML page: inline SVG chart, no external assets."""
    import jinja2

    from forecasts import charts

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("forecasts", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["fmt"] = fmt
    svg = charts.reliability_svg(chart_series(report), bins=report["bins"])
    template = env.get_template("report.html.j2")
    return template.render(
        report=report,
        chart_svg=svg,
        paper_summary=paper_summary(report),
        comparison=comparison_rows(report),
        min_calibration=MIN_CALIBRATION,
        generated=clock.now().strftime("%Y-%m-%d %H:%M UTC"),
    )


def write_html(report: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    p = check_writable(path, "--html")
    try:
        p.write_text(render_html(report), encoding="utf-8")
    except OSError as e:
        raise BadInput(f"--html: cannot write {p}: {e.strerror}") from None
    return p


def write_png(report: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    from forecasts import charts

    p = check_writable(path, "--png")
    try:
        charts.reliability_png(chart_series(report), p, bins=report["bins"])
    except OSError as e:
        raise BadInput(f"--png: cannot write {p}: {e.strerror}") from None
    return p

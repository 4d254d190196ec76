"""Database -> arrays: the resolved history the report scores.

``load_history`` reads the questions resolved by the as-of day (not annulled) and every
forecast made on them before the cutoff, and returns them as ``QuestionArrays`` and
``ForecastArrays`` with the names that go with the indices. It is the report's hot path (a
million forecasts in about 1.5 s, benchmarks/bench_report.py): the forecasts are read as
raw columns in batches and decoded with numpy, never as ORM objects.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from forecasts import clock
from forecasts.domain.people import PAPER
from forecasts.domain.values import ANNULLED, QUANTILES, outcome_number
from forecasts.scoring import (
    BINARY,
    CHOICE,
    F64,
    I64,
    NUMERIC,
    ForecastArrays,
    QuestionArrays,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql import Executable
    from sqlmodel import Session

KINDS = {"binary": BINARY, "choice": CHOICE, "numeric": NUMERIC}
#: Rows decoded at a time, so a million forecasts never sit in memory as Python objects.
FETCH_BATCH = 100_000


@dataclass
class History:
    """The resolved history as arrays, with the names that go with the indices.

    ``question_tags`` are each scored question's tags (lower case). ``counts`` has
    ``questions`` (after the tag filter), ``resolved``, ``annulled``, ``unresolved``,
    ``later`` (resolved after the as-of day), ``scored_questions`` and the scored questions
    per kind; ``skipped`` says what was left out as unreadable."""

    questions: QuestionArrays
    forecasts: ForecastArrays
    handles: list[str]
    paper: int
    question_ids: list[str]
    question_tags: list[list[str]]
    cutoff: dt.datetime
    as_of_day: dt.date | None
    counts: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)


def load_history(
    session: Session, *, as_of: dt.date | None = None, tag: str | None = None
) -> History:
    """Resolved, non-annulled questions (as of the end of the UTC day ``as_of``, default
    now) with ``tag`` if given, and every forecast made on them before that moment."""
    cutoff = clock.end_of_day(as_of) if as_of is not None else clock.now()
    as_of_day = as_of if as_of is not None else cutoff.date()
    chosen, current, counts = _resolved_questions(session, as_of_day, tag)
    handles = _handles(session)
    person_idx = {h: i for i, h in enumerate(handles)}
    table = _question_table(chosen, current)
    counts["scored_questions"] = len(table.ids)
    for name, k in KINDS.items():
        counts[name] = int(np.sum(table.arrays.kind == k))
    skipped = {"bad_outcome": table.bad_outcomes, "bad_value": 0}
    filter_questions = len(table.ids) < counts["questions"] or tag is not None
    forecasts, skipped["bad_value"] = _load_forecasts(
        session, table, person_idx, cutoff, filter_questions
    )
    return History(
        questions=table.arrays,
        forecasts=forecasts,
        handles=handles,
        paper=person_idx.get(PAPER, -1),
        question_ids=table.ids,
        question_tags=table.tags,
        cutoff=cutoff,
        as_of_day=as_of,
        counts=counts,
        skipped=skipped,
    )


# --------------------------------------------------------------------------------------
# Questions


def _resolved_questions(
    session: Session, as_of_day: dt.date, tag: str | None
) -> tuple[list[Any], dict[str, Any], dict[str, int]]:
    """Questions with ``tag`` whose current resolution (the newest row) is on or before
    ``as_of_day`` and not annulled; the current resolution of every question; counts."""
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


def _handles(session: Session) -> list[str]:
    import sqlalchemy as sa
    from sqlmodel import col

    from forecasts.store.models import Person

    return sorted(h for (h,) in session.execute(sa.select(col(Person.handle))).all())


@dataclass
class _QuestionTable:
    """The scored questions: arrays for scoring, and their ids, options and tags by index."""

    arrays: QuestionArrays
    ids: list[str]
    options: list[list[str]]
    tags: list[list[str]]
    bad_outcomes: int
    index: dict[str, int] = field(init=False)  # question id -> index

    def __post_init__(self) -> None:
        self.index = {qid: i for i, qid in enumerate(self.ids)}

    @property
    def k_max(self) -> int:
        """The most options of any choice question (the width of the choice matrix)."""
        kinds = self.arrays.kind
        widths = (len(o) for o, k in zip(self.options, kinds, strict=True) if k == CHOICE)
        return max(widths, default=1)


def _question_table(chosen: list[Any], current: dict[str, Any]) -> _QuestionTable:
    """Question rows and their current resolutions as arrays. A question whose outcome no
    longer fits it (type or options changed since it was resolved) is left out."""
    kind, n_opt, out, opens, end, width = [], [], [], [], [], []
    ids: list[str] = []
    options: list[list[str]] = []
    tags: list[list[str]] = []
    bad = 0
    for q in chosen:
        r = current[q.id]
        k = KINDS.get(q.type)
        opts = [str(o) for o in (q.options or [])]
        outcome = outcome_number(q.type, opts, r.outcome)
        if k is None or outcome is None:
            bad += 1
            continue
        ids.append(q.id)
        options.append(opts)
        tags.append([str(t).lower() for t in (q.tags or [])])
        kind.append(k)
        n_opt.append(2 if k == BINARY else len(opts) if k == CHOICE else 0)
        out.append(outcome)
        opens.append(clock.start_of_day(q.opens).timestamp())
        end.append(min(clock.end_of_day(q.closes), clock.start_of_day(r.resolved_on)).timestamp())
        has_range = k == NUMERIC and q.range_min is not None and q.range_max is not None
        width.append((q.range_max - q.range_min) if has_range else math.nan)
    arrays = QuestionArrays(
        kind=np.array(kind, dtype=np.int8),
        n_options=np.array(n_opt, dtype=np.int32),
        outcome=np.array(out, dtype=float),
        opens=np.array(opens, dtype=float),
        end=np.array(end, dtype=float),
        range_width=np.array(width, dtype=float),
    )
    return _QuestionTable(arrays, ids, options, tags, bad)


# --------------------------------------------------------------------------------------
# Forecasts


def _load_forecasts(
    session: Session,
    table: _QuestionTable,
    person_idx: dict[str, int],
    cutoff: dt.datetime,
    filter_questions: bool,
) -> tuple[ForecastArrays, int]:
    """The forecasts on the scored questions made before ``cutoff``, and how many of them
    were left out as unreadable.

    One Core select of raw columns, decoded in bulk. On SQLite a full table scan beats the
    made_at index (the cutoff rarely excludes much), so the cutoff and the question filter
    are applied in numpy there; other backends filter server-side."""
    import sqlalchemy as sa
    from sqlmodel import col

    from forecasts.store.models import Forecast

    k_max = table.k_max
    if not table.ids:
        return _empty_forecasts(k_max), 0
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
        if filter_questions:
            stmt = stmt.where(col(Forecast.question_id).in_(table.ids))
    raw = _fetch_columns(conn, stmt, table, person_idx)
    return _forecast_arrays(raw, cutoff.timestamp(), k_max)


@dataclass
class _RawForecasts:
    """The forecast columns, decoded batch by batch (choice and numeric JSON included, so
    no Python strings outlive their batch)."""

    ids: I64
    qi: I64
    person: I64
    made: F64
    kind: I64
    p_yes: F64  # NaN where not binary
    c_pos: I64  # rows with a choice value, and the value (renormalised)
    choice: F64
    c_good: NDArray[np.bool_]
    n_pos: I64  # rows with a numeric value, and its quantiles
    quantiles: F64
    n_good: NDArray[np.bool_]

    @classmethod
    def empty(cls, k_max: int) -> _RawForecasts:
        z = np.zeros(0, dtype=np.int64)
        e = np.zeros(0, dtype=bool)
        return cls(
            z, z, z, np.zeros(0), z, np.zeros(0), z, np.zeros((0, k_max)), e, z, np.zeros((0, 5)), e
        )

    @classmethod
    def concat(cls, parts: list[_RawForecasts]) -> _RawForecasts:
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))


def _fetch_columns(
    conn: Connection, stmt: Executable, table: _QuestionTable, person_idx: dict[str, int]
) -> _RawForecasts:
    """Run a Core select of raw columns and decode it in batches of FETCH_BATCH rows. Every
    selected column is an integer or text (the rest are type-coerced to text), so nothing
    needs SQLAlchemy's per-row processing: the DBAPI cursor is read directly when there is
    one."""
    result = conn.execute(stmt)
    parts: list[_RawForecasts] = []
    offset = 0
    try:
        cursor = getattr(result, "cursor", None)
        fetch = cursor.fetchmany if cursor is not None else result.fetchmany
        while rows := fetch(FETCH_BATCH):
            n = len(rows)
            columns = [list(map(itemgetter(j), rows)) for j in range(5)]
            del rows  # the row tuples go now, the columns one by one as they are decoded
            parts.append(_decode_batch(columns, offset, table, person_idx))
            offset += n
    finally:
        result.close()
    return _RawForecasts.concat(parts) if parts else _RawForecasts.empty(table.k_max)


def _decode_batch(
    columns: list[list[Any]], offset: int, table: _QuestionTable, person_idx: dict[str, int]
) -> _RawForecasts:
    """One batch of (id, question_id, person, made_at, value) columns as arrays; ``c_pos``
    and ``n_pos`` count from ``offset``, the batch's first row in the whole result.
    Empties ``columns``, so each list can be freed as soon as it is decoded."""
    f_id, f_q, f_p, f_t, f_v = columns
    columns.clear()
    n = len(f_id)
    ids = np.fromiter(f_id, dtype=np.int64, count=n)
    qi = np.fromiter(map(table.index.get, f_q, repeat(-1)), dtype=np.int64, count=n)
    person = np.fromiter(map(person_idx.get, f_p, repeat(-1)), dtype=np.int64, count=n)
    made = _parse_times(f_t)
    kind = np.where(qi >= 0, table.arrays.kind[np.maximum(qi, 0)], -1)
    values = np.empty(n, dtype=object)
    values[:] = f_v
    del f_id, f_q, f_p, f_t, f_v
    p_yes = np.full(n, np.nan)
    b_idx = np.flatnonzero(kind == BINARY)
    p_yes[b_idx] = _parse_numbers(values[b_idx])
    c_idx = np.flatnonzero(kind == CHOICE)
    choice, c_good = _decode_choice(values[c_idx], qi[c_idx], table)
    n_idx = np.flatnonzero(kind == NUMERIC)
    quantiles, n_good = _decode_numeric(values[n_idx])
    return _RawForecasts(
        ids=ids,
        qi=qi,
        person=person,
        made=made,
        kind=kind,
        p_yes=p_yes,
        c_pos=c_idx + offset,
        choice=choice,
        c_good=c_good,
        n_pos=n_idx + offset,
        quantiles=quantiles,
        n_good=n_good,
    )


def _decode_choice(
    values: NDArray[np.object_], qi: I64, table: _QuestionTable
) -> tuple[F64, NDArray[np.bool_]]:
    """Choice values as rows of probabilities in option order (NaN padded), renormalised;
    and which rows are usable (all options given as non-negative numbers, sum > 0)."""
    m = values.size
    k_max = table.k_max
    nan_pad = [math.nan] * k_max
    probs: list[list[Any]] = []
    for i, v in zip(qi, _parse_objects(values), strict=True):
        opts = table.options[i]
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
    n_opt = table.arrays.n_options[qi] if m else np.zeros(0, np.int32)
    used = np.arange(k_max)[None, :] < n_opt[:, None]
    total = np.where(used, choice, 0.0).sum(axis=1)
    good = np.all(~used | (np.isfinite(choice) & (choice >= 0)), axis=1) & (total > 0)
    choice = np.where(used, choice / np.where(good, total, 1.0)[:, None], np.nan)
    return choice, good


def _decode_numeric(values: NDArray[np.object_]) -> tuple[F64, NDArray[np.bool_]]:
    """Numeric values as rows of the five quantiles (NaN where not given), and which rows
    are usable (a JSON object)."""
    quantiles = np.full((values.size, len(QUANTILES)), np.nan)
    good = np.ones(values.size, dtype=bool)
    for j, v in enumerate(_parse_objects(values)):
        try:
            quantiles[j] = [v.get(k, math.nan) for k in QUANTILES]
        except (AttributeError, TypeError, ValueError):
            good[j] = False
    return quantiles, good


def _forecast_arrays(raw: _RawForecasts, cutoff: float, k_max: int) -> tuple[ForecastArrays, int]:
    """The usable forecasts made before ``cutoff`` on the scored questions, in id order;
    and how many others on those questions were left out because their value or time
    could not be read."""
    if raw.ids.size == 0:
        return _empty_forecasts(k_max), 0
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
    bad_values = int(np.sum(relevant & ~keep))
    # Ties in time are broken by id: hand the scorer rows in id order.
    sel = np.flatnonzero(keep)
    if sel.size > 1 and not np.all(np.diff(ids[sel]) > 0):
        sel = sel[np.argsort(ids[sel], kind="stable")]
    arrays = ForecastArrays(
        question=qi[sel].astype(np.int32),
        person=person[sel].astype(np.int32),
        made_at=made[sel],
        p_yes=p_yes[sel],
        choice_row=choice_row[sel],
        choice=raw.choice,
        quantile_row=quantile_row[sel],
        quantiles=raw.quantiles,
    )
    return arrays, bad_values


def _empty_forecasts(k: int = 1) -> ForecastArrays:
    return ForecastArrays(
        question=np.zeros(0, dtype=np.int32),
        person=np.zeros(0, dtype=np.int32),
        made_at=np.zeros(0),
        p_yes=np.zeros(0),
        choice_row=np.zeros(0, dtype=np.int32),
        choice=np.zeros((0, max(k, 1))),
        quantile_row=np.zeros(0, dtype=np.int32),
        quantiles=np.zeros((0, len(QUANTILES))),
    )


# --------------------------------------------------------------------------------------
# Decoding raw column values


def _num(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v if math.isfinite(v) else math.nan


def _parse_times(values: Sequence[Any]) -> F64:
    """Datetimes to POSIX seconds (UTC); NaN for what cannot be read.

    This does not go through the ORM's column type on purpose. ``made_at`` is selected as
    text (``type_coerce(..., String)``) because SQLAlchemy's SQLite ``DateTime`` parses each
    value with a regular expression into a ``datetime`` object, and ``UTCDateTime`` then
    makes it aware: per-row Python work that dominated loading a million forecasts. The
    layout SQLAlchemy writes on SQLite is fixed ('YYYY-MM-DD HH:MM:SS.ffffff', UTC), so it
    is decoded here in a few whole-array numpy steps; anything else falls back to
    ``datetime.fromisoformat`` row by row. Other backends hand back datetime objects."""
    n = len(values)
    if n == 0:
        return np.zeros(0)
    if isinstance(values[0], str) and isinstance(values[-1], str):
        fast = _parse_sqlite_times(values)
        if fast is not None:
            return fast
        out = np.full(n, np.nan)
        for i, v in enumerate(values):
            with contextlib.suppress(ValueError):
                out[i] = clock.as_utc(dt.datetime.fromisoformat(str(v))).timestamp()
        return out
    return np.array(
        [clock.as_utc(v).timestamp() if isinstance(v, dt.datetime) else math.nan for v in values]
    )


_SQLITE_TIME_LENGTH = 26  # 'YYYY-MM-DD HH:MM:SS.ffffff'
_DIGITS = (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22, 23, 24, 25)
_SEPARATORS = ((4, b"-"), (7, b"-"), (13, b":"), (16, b":"), (19, b"."))


def _parse_sqlite_times(values: Sequence[Any]) -> F64 | None:
    """SQLite's stored text as POSIX seconds, or None unless every value has the layout."""
    n = len(values)
    try:
        raw = np.array(values, dtype=f"S{_SQLITE_TIME_LENGTH}")
    except (UnicodeEncodeError, ValueError):
        return None
    b = raw.view(np.uint8).reshape(n, _SQLITE_TIME_LENGTH)
    ok = (np.char.str_len(raw) == _SQLITE_TIME_LENGTH) & (
        (b[:, 10] == ord(" ")) | (b[:, 10] == ord("T"))
    )
    for pos, sep in _SEPARATORS:
        ok &= b[:, pos] == ord(sep)
    d = b[:, _DIGITS].astype(np.int64) - ord("0")
    ok &= np.all((d >= 0) & (d <= 9), axis=1)
    if not ok.all():
        return None
    year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    month = d[:, 4] * 10 + d[:, 5]
    day = d[:, 6] * 10 + d[:, 7]
    secs = (d[:, 8] * 10 + d[:, 9]) * 3600 + (d[:, 10] * 10 + d[:, 11]) * 60
    secs += d[:, 12] * 10 + d[:, 13]
    micro = d[:, 14:20] @ np.array([100000, 10000, 1000, 100, 10, 1])
    return _days_from_civil(year, month, day) * 86400.0 + secs + micro / 1e6


def _days_from_civil(y: I64, m: I64, d: I64) -> I64:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return np.asarray(era * 146097 + doe - 719468)


def _parse_numbers(values: NDArray[np.object_]) -> F64:
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
    """JSON text (or already decoded values) as Python objects; None for bad JSON. All
    text is decoded in one ``json.loads`` call when it parses as a whole."""
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

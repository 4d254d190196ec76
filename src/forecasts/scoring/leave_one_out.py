"""The crowd without each forecaster, for every moment of one chunk of questions.

Every event (a forecast on a binary or choice question) starts a *row*: the stretch of
time until the next event on the same question, during which every team member's latest
forecast stands. For each row we need the crowd (`forecasts.crowd`) and, for every team
member standing in it, the crowd *without them*. The rows of a chunk form matrices of
(forecaster slot x row):

* the recency layout (`_recency_layout`): each row's standing forecasts from oldest to
  newest, so the slot gives the recency rank n (1 = oldest) and the weight U[n], the
  crowd's weight exp(sqrt(n) - sqrt(N)) up to a factor that is the same for the whole row;
* the value layout (`_crowd_median`): the same sorted by (value, rank); a cumulative sum
  of the weights gives the crossing position c of the weighted median, and the group of
  equal values there;
* removing the element of rank r keeps everyone older at their weight and moves everyone
  newer down one rank (weight U[n-1]); the new total is U[1] + ... + U[N-1] whatever r
  is. The leave-one-out cumulative weight of the elements up to a value boundary is
      A(r) = S0 - [r inside] U[r] - sum_{n > r, inside} (U[n] - U[n-1]),
  one cumulative sum over the recency layout. Comparing A(r) at the two edges of the
  median's value group with half the new total tells whether the leave-one-out median
  keeps the crowd's value (most forecasters), or not (`_candidates`; then an exact walk
  from the edge, `_walk`). Rows with two or three standing leave a plain median of one or
  two (`_leave_one_out_small`).
* forecasters who keep the crowd's value contribute through prefix sums over rows (in
  `forecasts.scoring.crowd_over_time`); only the others come back from here, as sparse
  corrections to relative Brier.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from forecasts.crowd import TIE_RTOL, recency_weights
from forecasts.scoring.arrays import CHOICE, F64, I64, BoolA

I32 = NDArray[np.int32]


@dataclass(frozen=True)
class WeightTable:
    """U[n] = exp(sqrt(n) - sqrt(n_max + 1)) for n = 1 .. n_max + 1 (U[0] = 0): the crowd's
    recency weights of the widest question, which serve every narrower row too (a row's
    weights only matter up to a common factor)."""

    u: F64
    step: F64  # U[n] - U[n-1]
    cum: F64  # U[1] + ... + U[n]

    @classmethod
    def up_to(cls, n_max: int) -> WeightTable:
        u = np.concatenate(([0.0], recency_weights(n_max + 1)))
        return cls(u=u, step=np.diff(u, prepend=0.0), cum=np.cumsum(u))


@dataclass
class EventTable:
    """Per-event arrays shared by the chunks (events = forecasts on binary and choice
    questions, in (question, time) order). Chunks write disjoint rows of ``n_team`` and
    ``crowd_brier``."""

    question: I64
    slot: I64  # the team member's slot within the question, -1 for the paper
    duration: F64  # how long the row this event starts lasts (inside the window)
    value_rank: NDArray[np.integer]  # (events, options): rank among the kind's values
    value_of_rank: dict[int, F64]  # per kind: the value of each rank, then NaN (missing)
    brier: F64  # the event's own Brier
    series: I64  # the event's series
    n_options: I64  # per question: 1 for binary, k for choice
    outcome: F64  # per question
    weights: WeightTable
    n_team: I32  # out: team members standing in each row
    crowd_brier: F64  # out: the crowd's Brier in each row


@dataclass(frozen=True)
class Chunk:
    """Consecutive rows of questions of one kind, with the team forecasts standing just
    before the first row (when the chunk starts in the middle of a question)."""

    rows: I64
    carry_events: I64
    carry_slots: I64
    width: int  # slots (at least 3)
    kind: int
    starts_inside: bool  # the first row is not its question's first


@dataclass
class ChunkOut:
    """Leave-one-out corrections to relative Brier: (series, weight) pairs."""

    series: list[I64] = field(default_factory=list)
    weight: list[F64] = field(default_factory=list)
    sparse: int = 0  # pairs that needed the exact leave-one-out
    walked: int = 0  # ... of which moved off the crowd's value group

    def add(self, series: I64, weight: F64) -> None:
        self.series.append(series)
        self.weight.append(weight)


@dataclass(frozen=True)
class _Layout:
    """The recency layout of one chunk: (slot x row) matrices, padding first in each row,
    then its standing forecasts from oldest to newest."""

    rows: I64
    width: int
    local_events: I64  # local id -> event (carried events first)
    slots: I32  # local id of the forecast in each (slot, row); -1 = padding
    n_standing: NDArray[np.integer]  # per row: N
    rank: I32  # recency rank n in each (slot, row), 0 for padding
    standing: BoolA
    u_rank: F64  # U[rank]
    step_rank: F64  # U[rank] - U[rank - 1]
    duration: F64  # per row
    option_count: I64  # per row
    outcome: F64  # per row
    # Leave-one-out: N - 1 remain, so half of U[1] + ... + U[N-1] and its tie tolerance.
    half_loo: F64
    tol_loo: F64
    theta: F64  # half_loo - tol_loo: the weight a crossing must reach
    series_of_local: I64  # local id -> series (-1 for padding)
    # Sort keys (value rank << rank_bits | recency rank) of one option.
    rank_bits: int
    key_dtype: type[np.integer]
    value_of_rank: F64
    missing_rank: int

    @property
    def n_rows(self) -> int:
        return int(self.rows.size)

    @property
    def row_index(self) -> I64:
        return np.arange(self.n_rows)


@dataclass(frozen=True)
class _Median:
    """One option's value layout and the crowd in each row."""

    key_recency: NDArray[np.integer]  # key of each (slot, row) in the recency layout
    key_value: NDArray[np.integer]  # the same keys sorted down each row (value layout)
    rank_by_value: NDArray[np.integer]  # recency rank of each value-layout position
    cum: F64  # cumulative weight down the value layout
    key_crossing: NDArray[np.integer]  # key at the crossing position c
    tie: BoolA  # the cumulative weight at c is exactly half: the mean with the next
    value_c: F64  # the value at c
    lowest: tuple[F64, F64, F64]  # the three lowest values of each row
    full: F64  # the crowd


@dataclass(frozen=True)
class _Pairs:
    """(slot, row) pairs, flat positions in the (slot x row) matrices, and their
    leave-one-out values."""

    idx: I64
    row: I64
    value: F64


def crowd_chunk(table: EventTable, chunk: Chunk) -> ChunkOut:
    """The crowd in every row of the chunk (into ``table``) and the corrections to
    relative Brier from the forecasters whose leave-one-out crowd differs from it."""
    lay = _recency_layout(table, chunk)
    table.n_team[chunk.rows] = lay.n_standing
    out = ChunkOut()
    sums = _ChoiceSums.zeros(lay) if chunk.kind == CHOICE else None
    for option in range(int(lay.option_count.max(initial=1))):
        active = lay.option_count > option
        med = _crowd_median(lay, table, option)
        large, walked = _leave_one_out_large(lay, med, active, table.weights)
        small = _leave_one_out_small(lay, med, active)
        out.sparse += int(large.idx.size)
        out.walked += walked
        if sums is None:
            _binary_corrections(table, lay, med, (large, small), out)
        else:
            sums.add(lay, option, med, (large, small), active)
    if sums is not None:
        _choice_corrections(table, lay, sums, out)
    return out


def _recency_layout(table: EventTable, chunk: Chunk) -> _Layout:
    """Each row's standing team forecasts in recency order, and what every option's steps
    share: weights, durations, outcomes and the leave-one-out half."""
    rows, w = chunk.rows, chunk.width
    n_rows = rows.size
    n_carry = chunk.carry_events.size
    local_events = np.concatenate([chunk.carry_events, rows])

    # Local id of each slot's standing forecast, forward filled down the rows and cleared
    # where a new question starts.
    st = np.full((n_rows, w), -1, dtype=np.int32)
    if n_carry:
        st[0, chunk.carry_slots] = np.arange(n_carry, dtype=np.int32)
    row_slot = table.slot[rows]
    team = np.flatnonzero(row_slot >= 0)
    st[team, row_slot[team]] = n_carry + team
    np.maximum.accumulate(st, axis=0, out=st)
    question = table.question[rows]
    first = np.ones(n_rows, dtype=bool)
    first[1:] = question[1:] != question[:-1]
    question_start = np.where(first, n_carry + np.arange(n_rows), 0)
    question_start[0] = 0
    np.maximum.accumulate(question_start, out=question_start)
    np.putmask(st, st < question_start[:, None], -1)

    # Local ids grow with time, so sorting a row orders it by recency (padding first).
    st.sort(axis=1)
    slots = np.ascontiguousarray(st.T)
    del st
    n_standing = (slots >= 0).sum(axis=0)
    pad = w - n_standing
    rank = np.arange(w, dtype=np.int32)[:, None] - pad[None, :].astype(np.int32) + 1
    np.maximum(rank, 0, out=rank)

    weights = table.weights
    rank_bits = max(1, int(w).bit_length())
    value_of_rank = table.value_of_rank[chunk.kind]
    missing_rank = value_of_rank.size - 1
    remaining_total = weights.cum[np.maximum(n_standing - 1, 0)]
    half_loo = remaining_total / 2.0
    tol_loo = TIE_RTOL * remaining_total
    return _Layout(
        rows=rows,
        width=w,
        local_events=local_events,
        slots=slots,
        n_standing=n_standing,
        rank=rank,
        standing=rank > 0,
        u_rank=weights.u.take(rank),
        step_rank=weights.step.take(rank),
        duration=table.duration[rows],
        option_count=table.n_options[question],
        outcome=table.outcome[question],
        half_loo=half_loo,
        tol_loo=tol_loo,
        theta=half_loo - tol_loo,
        series_of_local=np.append(table.series[local_events], -1),
        rank_bits=rank_bits,
        key_dtype=np.int32 if (missing_rank + 1) < (1 << (30 - rank_bits)) else np.int64,
        value_of_rank=value_of_rank,
        missing_rank=missing_rank,
    )


def _crowd_median(lay: _Layout, table: EventTable, option: int) -> _Median:
    """Sort each row by (value, recency) and find where the cumulative weight crosses
    half: the crowd's value, or the mean with the next one on an exact tie."""
    nb, n_rows, ar = lay.rank_bits, lay.n_rows, lay.row_index
    rk: NDArray[np.integer] = np.append(
        table.value_rank[lay.local_events, option], lay.missing_rank
    ).astype(lay.key_dtype)
    rk <<= nb
    key_recency = rk.take(lay.slots)
    key_recency |= lay.rank
    key_value = np.sort(key_recency, axis=0)
    flat_key = key_value.ravel()
    rank_by_value = key_value & ((1 << nb) - 1)
    cum = _colcum(table.weights.u.take(rank_by_value))
    flat_cum = cum.ravel()
    total = cum[-1]
    half = total / 2.0
    tol = TIE_RTOL * total
    big_n = lay.n_standing
    c = (cum < (half - tol)[None, :]).sum(axis=0)
    c = np.minimum(c, np.maximum(big_n - 1, 0))
    key_c = flat_key.take(c * n_rows + ar)
    sv = lay.value_of_rank
    v_c = sv.take(key_c >> nb)
    v_c1 = sv.take(flat_key.take(np.minimum(c + 1, lay.width - 1) * n_rows + ar) >> nb)
    v0 = sv.take(key_value[0] >> nb)
    v1 = sv.take(key_value[1] >> nb)
    v2 = sv.take(key_value[2] >> nb)
    tie = (flat_cum.take(c * n_rows + ar) <= half + tol) & (c + 1 < big_n)
    full = np.where(tie, (v_c + v_c1) / 2.0, v_c)
    full = np.where(big_n == 2, (v0 + v1) / 2.0, np.where(big_n == 1, v0, full))
    return _Median(
        key_recency=key_recency,
        key_value=key_value,
        rank_by_value=rank_by_value,
        cum=cum,
        key_crossing=key_c,
        tie=tie,
        value_c=v_c,
        lowest=(v0, v1, v2),
        full=full,
    )


def _leave_one_out_large(
    lay: _Layout, med: _Median, active: BoolA, weights: WeightTable
) -> tuple[_Pairs, int]:
    """Rows with four or more standing: the leave-one-out value of every forecaster who
    does not keep the crowd's value; and how many of them the walk moved."""
    idx, k, a = _candidates(lay, med, active)
    rr = idx % lay.n_rows
    r = lay.rank.ravel().take(idx)
    th = lay.theta.take(rr)
    flat_rank = med.rank_by_value.ravel()
    k, a, moved = _walk(k, a, rr, r, th, flat_rank, lay.n_rows, weights.u)
    flat_key = med.key_value.ravel()
    nb, w = lay.rank_bits, lay.width
    sv = lay.value_of_rank
    val = sv.take(flat_key.take(k * lay.n_rows + rr) >> nb)
    near = np.flatnonzero(np.abs(a - lay.half_loo.take(rr)) <= lay.tol_loo.take(rr))
    if near.size:  # an exact tie: the mean with the next remaining value
        kn, rn = k[near], rr[near]
        k1 = np.minimum(kn + 1, w - 1)
        k1 = np.where(
            flat_rank.take(k1 * lay.n_rows + rn) == r[near], np.minimum(k1 + 1, w - 1), k1
        )
        ok = k1 < lay.n_standing.take(rn)
        nxt_v = sv.take(flat_key.take(k1 * lay.n_rows + rn) >> nb)
        val[near] = np.where(ok, (val[near] + nxt_v) / 2.0, val[near])
    return _Pairs(idx=idx, row=rr, value=val), moved


def _candidates(lay: _Layout, med: _Median, active: BoolA) -> tuple[I64, I64, F64]:
    """The (slot, row) pairs whose leave-one-out median may leave the crowd's value group
    (every standing pair of a tied row), with the value-layout position to walk from and
    the leave-one-out cumulative weight there."""
    nb, n_rows, ar = lay.rank_bits, lay.n_rows, lay.row_index
    flat_cum = med.cum.ravel()
    key_t = med.key_recency
    # The crowd's value group: positions g_lo .. g_hi of the value layout.
    group_rank = med.key_crossing >> nb
    m_hi = key_t < ((group_rank + 1) << nb)[None, :]
    m_lo = key_t < (group_rank << nb)[None, :]
    g_hi = m_hi.sum(axis=0) - 1
    g_lo = m_lo.sum(axis=0)
    s0_hi = flat_cum.take(np.maximum(g_hi, 0) * n_rows + ar)
    s0_lo = np.where(g_lo > 0, flat_cum.take(np.maximum(g_lo - 1, 0) * n_rows + ar), 0.0)
    # A(r) - theta at the group's upper and lower edge, for every r.
    z_hi = _colcum(lay.step_rank * m_hi)
    z_hi_tot = z_hi[-1].copy()
    z_hi -= lay.u_rank * m_hi
    z_hi += (s0_hi - z_hi_tot - lay.theta)[None, :]
    z_lo = _colcum(lay.step_rank * m_lo)
    z_lo_tot = z_lo[-1].copy()
    z_lo -= lay.u_rank * m_lo
    z_lo += (s0_lo - z_lo_tot - lay.theta)[None, :]
    del m_hi, m_lo
    is_large = lay.n_standing >= 4
    cand = (z_hi <= (2.0 * lay.tol_loo)[None, :]) | (z_lo >= 0.0)
    cand &= (is_large & ~med.tie & active)[None, :]
    cand |= (is_large & med.tie & active)[None, :]
    cand &= lay.standing
    idx = np.flatnonzero(cand)
    del cand
    rr = idx % n_rows
    zl = z_lo.ravel().take(idx)
    below = zl >= 0.0
    k = np.where(below, g_lo.take(rr) - 1, g_hi.take(rr))
    a = np.where(below, zl, z_hi.ravel().take(idx)) + lay.theta.take(rr)
    return idx, k, a


def _leave_one_out_small(lay: _Layout, med: _Median, active: BoolA) -> _Pairs:
    """Rows with two or three standing: without one, the plain mean of the others."""
    sidx = np.flatnonzero(
        lay.standing & (((lay.n_standing == 2) | (lay.n_standing == 3)) & active)[None, :]
    )
    srr = sidx % lay.n_rows
    sr = lay.rank.ravel().take(sidx)
    v0, v1, v2 = med.lowest
    nv0 = med.rank_by_value[0].take(srr)
    nv1 = med.rank_by_value[1].take(srr)
    three = lay.n_standing.take(srr) == 3
    total = v0.take(srr) + v1.take(srr) + np.where(three, v2.take(srr), 0.0)
    vself = np.where(nv0 == sr, v0.take(srr), np.where(nv1 == sr, v1.take(srr), v2.take(srr)))
    return _Pairs(idx=sidx, row=srr, value=(total - vself) / np.where(three, 2.0, 1.0))


def _binary_corrections(
    table: EventTable,
    lay: _Layout,
    med: _Median,
    pairs: tuple[_Pairs, _Pairs],
    out: ChunkOut,
) -> None:
    """The crowd's Brier per row, and (leave-one-out Brier - crowd Brier) x duration for
    the pairs whose leave-one-out value differs."""
    bf = 2.0 * (med.full - lay.outcome) ** 2
    table.crowd_brier[lay.rows] = np.where(lay.n_standing > 0, bf, np.nan)
    large, small = pairs
    all_idx = np.concatenate([large.idx, small.idx])
    all_rr = np.concatenate([large.row, small.row])
    loo_v = np.concatenate([large.value, small.value])
    corr = (2.0 * (loo_v - lay.outcome.take(all_rr)) ** 2 - bf.take(all_rr)) * lay.duration.take(
        all_rr
    )
    nz = corr != 0.0
    out.add(lay.series_of_local.take(lay.slots.ravel().take(all_idx[nz])), corr[nz])


@dataclass
class _ChoiceSums:
    """Running sums over options, for the Brier of a renormalised choice crowd:
    sum p, sum p^2 and p of the outcome, for the crowd (per row) and leave-one-out (per
    slot and row)."""

    full_s: F64
    full_q: F64
    full_o: F64
    loo_s: F64
    loo_q: F64
    loo_o: F64

    @classmethod
    def zeros(cls, lay: _Layout) -> _ChoiceSums:
        n, w = lay.n_rows, lay.width
        return cls(
            full_s=np.zeros(n),
            full_q=np.zeros(n),
            full_o=np.zeros(n),
            loo_s=np.zeros((w, n)),
            loo_q=np.zeros((w, n)),
            loo_o=np.zeros((w, n)),
        )

    def add(
        self, lay: _Layout, option: int, med: _Median, pairs: tuple[_Pairs, _Pairs], active: BoolA
    ) -> None:
        fa = np.where(active, med.full, 0.0)
        self.full_s += fa
        self.full_q += fa * fa
        self.full_o += np.where(lay.outcome == option, fa, 0.0)
        lm = np.broadcast_to(
            np.where(active, med.value_c, 0.0)[None, :], (lay.width, lay.n_rows)
        ).copy()
        for p in pairs:
            lm.ravel()[p.idx] = p.value
        self.loo_s += lm
        self.loo_q += lm * lm
        self.loo_o += lm * (lay.outcome == option)[None, :]


def _choice_corrections(table: EventTable, lay: _Layout, sums: _ChoiceSums, out: ChunkOut) -> None:
    """The renormalised crowd's Brier per row (sum p^2 / s^2 - 2 p_outcome / s + 1), and
    the leave-one-out correction of every pair in rows with two or more standing."""
    with np.errstate(invalid="ignore", divide="ignore"):
        bf = sums.full_q / sums.full_s**2 - 2.0 * sums.full_o / sums.full_s + 1.0
        bl = sums.loo_q / sums.loo_s**2 - 2.0 * sums.loo_o / sums.loo_s + 1.0
    table.crowd_brier[lay.rows] = np.where(lay.n_standing > 0, bf, np.nan)
    em = np.flatnonzero(lay.standing & (lay.n_standing >= 2)[None, :])
    err = em % lay.n_rows
    corr = (bl.ravel().take(em) - bf.take(err)) * lay.duration.take(err)
    out.add(lay.series_of_local.take(lay.slots.ravel().take(em)), corr)


def _colcum(x: F64) -> F64:
    """In-place cumulative sum down axis 0 (one vector add per slot; fast for wide rows)."""
    for i in range(1, x.shape[0]):
        np.add(x[i - 1], x[i], out=x[i])
    return x


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

"""The crowd over time: the crowd's time-averaged Brier, and relative Brier against the
crowd without each forecaster (leave-one-out, exact) at every moment.

The work is split into chunks of questions (`plan_chunks`), each solved by
`forecasts.scoring.leave_one_out.crowd_chunk`. Chunks are independent, so they run on a
small thread pool (numpy releases the GIL in its loops); their results are folded in the
order of the chunks, so the numbers do not depend on the threads.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from forecasts.scoring.arrays import (
    BINARY,
    CHOICE,
    F64,
    I64,
    BoolA,
    ForecastArrays,
    QuestionArrays,
)
from forecasts.scoring.grouping import dense_rank, group_sum, stable_order
from forecasts.scoring.history import Ordered, Series
from forecasts.scoring.leave_one_out import Chunk, ChunkOut, EventTable, WeightTable, crowd_chunk

CROWD_THREADS = min(2, os.cpu_count() or 1)
CHUNK_ELEMENTS = 262_144
CHUNK_MIN_ROWS = 2048
MIN_WIDTH = 3  # rows are at least this many slots wide (the crowd reads three values)


@dataclass(frozen=True)
class Chunking:
    """How the crowd over time splits its work. The threads never change a result; the
    chunk size changes at most the rounding of sums.

    ``elements``: rows x slots per chunk, which bounds memory; ``min_rows``: wide questions
    get at least this many rows per chunk; ``threads``: chunks solved at once.
    """

    elements: int = CHUNK_ELEMENTS
    min_rows: int = CHUNK_MIN_ROWS
    threads: int = CROWD_THREADS


@dataclass
class CrowdTotals:
    """What the crowd over time adds to the scores."""

    rel_num: F64  # per series: integral of (own Brier - crowd-without-me Brier)
    rel_den: F64  # ... and the time both stood
    paper_num: F64  # per question: integral of (the paper's Brier - the crowd's)
    paper_den: F64
    crowd_num: F64  # per question: integral of the crowd's Brier
    crowd_den: F64  # ... and the time a crowd existed
    chunks: int = 0
    chunks_inside_a_question: int = 0  # chunks that start with standing forecasts carried over
    pairs: int = 0  # (row, standing forecaster) pairs
    sparse: int = 0  # ... that needed the exact leave-one-out
    walked: int = 0  # ... of which moved off the crowd's value group

    @classmethod
    def empty(cls, n_series: int, n_questions: int) -> CrowdTotals:
        return cls(
            rel_num=np.zeros(n_series),
            rel_den=np.zeros(n_series),
            paper_num=np.zeros(n_questions),
            paper_den=np.zeros(n_questions),
            crowd_num=np.zeros(n_questions),
            crowd_den=np.zeros(n_questions),
        )


@dataclass(frozen=True)
class _Events:
    """Forecasts on binary and choice questions, in (question, time) order."""

    index: I64  # position in Ordered
    question: I64
    question_start: I64  # per question: its first event
    question_count: I64  # per question: its events
    block_end: I64  # per event: one past its question's last event
    duration: F64  # per event: how long the row it starts lasts
    is_paper: BoolA

    @property
    def count(self) -> int:
        return int(self.index.size)


def crowd_over_time(
    questions: QuestionArrays,
    forecasts: ForecastArrays,
    ordered: Ordered,
    series: Series,
    brier: F64,
    paper: int,
    chunking: Chunking,
) -> CrowdTotals:
    """Integrals over time of the crowd's Brier (per question), of each forecaster's Brier
    minus the crowd without them (per series), and of the paper's minus the crowd's."""
    totals = CrowdTotals.empty(series.count, len(questions))
    events = _events(questions, ordered, paper)
    if events.count == 0:
        return totals
    slot, width = _team_slots(ordered, events, len(questions))
    value_rank, value_of_rank = _value_ranks(forecasts, ordered, events)
    table = EventTable(
        question=events.question,
        slot=slot,
        duration=events.duration,
        value_rank=value_rank,
        value_of_rank=value_of_rank,
        brier=brier[events.index],
        series=series.id[events.index],
        n_options=np.where(questions.kind == BINARY, 1, questions.n_options).astype(np.int64),
        outcome=questions.outcome,
        weights=WeightTable.up_to(max(int(width.max(initial=0)), MIN_WIDTH)),
        n_team=np.zeros(events.count, dtype=np.int32),
        crowd_brier=np.full(events.count, np.nan),
    )
    chunks = plan_chunks(questions, table, events, width, chunking)
    totals.chunks = len(chunks)
    totals.chunks_inside_a_question = sum(c.starts_inside for c in chunks)
    corrections = np.zeros(series.count)
    for out in _solve(table, chunks, chunking.threads):
        corrections[:] += group_sum(
            _concat_int(out.series), _concat_float(out.weight), series.count
        )
        totals.sparse += out.sparse
        totals.walked += out.walked
    _add_team(totals, table, events, ordered, series, corrections)
    _add_crowd_and_paper(totals, table, events, len(questions))
    return totals


def _events(questions: QuestionArrays, ordered: Ordered, paper: int) -> _Events:
    """The events, and how long the row each starts lasts: until the question's next
    event, or its end; never before it opens."""
    n_q = len(questions)
    ev = np.flatnonzero((ordered.kind == BINARY) | (ordered.kind == CHOICE))
    eq = ordered.question[ev]
    et = ordered.made_at[ev]
    q_count = np.bincount(eq, minlength=n_q).astype(np.int64)
    q_start = np.concatenate(([0], np.cumsum(q_count)[:-1]))
    block_end = (q_start + q_count)[eq]
    last_of_q = np.arange(ev.size) == block_end - 1
    t_next = np.where(last_of_q, questions.end[eq], np.roll(et, -1))
    duration = np.clip(
        np.minimum(t_next, questions.end[eq]) - np.maximum(et, questions.opens[eq]), 0.0, None
    )
    return _Events(
        index=ev,
        question=eq,
        question_start=q_start,
        question_count=q_count,
        block_end=block_end,
        duration=duration,
        is_paper=ordered.person[ev] == paper,
    )


def _team_slots(ordered: Ordered, events: _Events, n_q: int) -> tuple[I64, I64]:
    """Each team member's slot within the question (a dense index; -1 for the paper),
    and the number of slots per question."""
    slot = np.full(events.count, -1, dtype=np.int64)
    width = np.zeros(n_q, dtype=np.int64)
    team = np.flatnonzero(~events.is_paper)
    if team.size == 0:
        return slot, width
    eq = events.question[team]
    person = ordered.person[events.index[team]]
    o = stable_order([eq, person])
    s_q, s_p = eq[o], person[o]
    new = np.ones(o.size, dtype=bool)
    new[1:] = (s_q[1:] != s_q[:-1]) | (s_p[1:] != s_p[:-1])
    gid = np.cumsum(new) - 1
    q_first = np.ones(o.size, dtype=bool)
    q_first[1:] = s_q[1:] != s_q[:-1]
    first_gid = np.zeros(n_q, dtype=np.int64)
    first_gid[s_q[q_first]] = gid[q_first]
    slot[team[o]] = gid - first_gid[s_q]
    width = np.bincount(s_q[new], minlength=n_q).astype(np.int64)
    return slot, width


def _value_ranks(
    forecasts: ForecastArrays, ordered: Ordered, events: _Events
) -> tuple[np.ndarray, dict[int, F64]]:
    """Each event's value per option (binary: P(yes) is option 0) as its exact rank among
    all values of its kind, and per kind the value of each rank (then NaN, for missing)."""
    rows = ordered.row[events.index]
    eb = ordered.kind[events.index] == BINARY
    n_opt_max = forecasts.choice.shape[1] if (~eb).any() else 1
    ranks = np.zeros((events.count, max(n_opt_max, 1)), dtype=np.int32)
    pb = forecasts.p_yes[rows[eb]]
    rb = dense_rank(pb)
    sv_b = np.full(int(rb.max(initial=-1)) + 2, np.nan)
    sv_b[rb] = pb
    ranks[eb, 0] = rb
    value_of_rank = {BINARY: sv_b}
    del pb, rb
    if (~eb).any():
        vals = forecasts.choice[forecasts.choice_row[rows[~eb]]][:, :n_opt_max]
        present = ~np.isnan(vals)
        rc = dense_rank(vals[present])
        sv_c = np.full(int(rc.max(initial=-1)) + 2, np.nan)
        sv_c[rc] = vals[present]
        block = np.full(vals.shape, sv_c.size - 1, dtype=np.int32)
        block[present] = rc
        ranks[~eb] = block
        value_of_rank[CHOICE] = sv_c
    return ranks, value_of_rank


def plan_chunks(
    questions: QuestionArrays,
    table: EventTable,
    events: _Events,
    width: I64,
    chunking: Chunking,
) -> list[Chunk]:
    """Cut the rows of each kind, questions ordered by width, into chunks of about
    ``chunking.elements`` (rows x slots); a chunk may start or end inside a question."""
    q_start, q_count = events.question_start, events.question_count
    chunks: list[Chunk] = []
    for kind in (BINARY, CHOICE):
        qs = np.flatnonzero((questions.kind == kind) & (q_count > 0) & (width > 0))
        if qs.size == 0:
            continue
        qs = qs[np.argsort(width[qs], kind="stable")]
        rows = np.repeat(q_start[qs] - np.cumsum(q_count[qs]) + q_count[qs], q_count[qs])
        rows += np.arange(rows.size)
        row_w = np.maximum(width[table.question[rows]], MIN_WIDTH)
        cost = np.cumsum(row_w)
        target = np.maximum(chunking.elements, chunking.min_rows * row_w)
        lo = 0
        while lo < rows.size:
            base = cost[lo - 1] if lo else 0
            hi = max(int(np.searchsorted(cost, base + target[lo], side="right")), lo + 1)
            chunk_rows = rows[lo:hi]
            first = int(chunk_rows[0])
            question_first = int(q_start[table.question[first]])
            carry_events, carry_slots = _standing_before(table, question_first, first)
            chunks.append(
                Chunk(
                    rows=chunk_rows,
                    carry_events=carry_events,
                    carry_slots=carry_slots,
                    width=int(row_w[lo:hi].max()),
                    kind=kind,
                    starts_inside=first != question_first,
                )
            )
            lo = hi
    return chunks


def _standing_before(table: EventTable, first: int, row: int) -> tuple[I64, I64]:
    """Team forecasts standing just before event ``row`` on its question, whose first
    event is ``first``: (events in time order, their slots)."""
    if row == first:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    evs = np.arange(first, row)
    slots = table.slot[evs]
    team = slots >= 0
    evs, slots = evs[team], slots[team]
    # the last event of each slot
    o = np.lexsort((evs, slots))
    last_sorted = np.ones(o.size, dtype=bool)
    last_sorted[:-1] = slots[o][1:] != slots[o][:-1]
    last = np.zeros(evs.size, dtype=bool)
    last[o[last_sorted]] = True
    return evs[last], slots[last]


def _solve(table: EventTable, chunks: list[Chunk], threads: int) -> Iterator[ChunkOut]:
    """Each chunk's result, in chunk order; results are consumed as they come, so they
    never pile up in memory."""
    if threads > 1 and len(chunks) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=threads) as pool:
            yield from pool.map(lambda chunk: crowd_chunk(table, chunk), chunks)
    else:
        for chunk in chunks:
            yield crowd_chunk(table, chunk)


def _add_team(
    totals: CrowdTotals,
    table: EventTable,
    events: _Events,
    ordered: Ordered,
    series: Series,
    corrections: F64,
) -> None:
    """Relative Brier of team members: (own - crowd) over the rows where they stand with
    at least one other team member, by prefix sums over rows; then the leave-one-out
    corrections."""
    n_ev = events.count
    crowd_brier = np.where(table.n_team >= 1, table.crowd_brier, 0.0)
    shared = np.where(table.n_team >= 2, events.duration, 0.0)
    p_shared = np.concatenate(([0.0], np.cumsum(shared)))
    p_crowd = np.concatenate(([0.0], np.cumsum(shared * crowd_brier)))
    pos_in_ev = np.full(len(ordered), -1, dtype=np.int64)
    pos_in_ev[events.index] = np.arange(n_ev)
    nxt = series.next[events.index]
    stop = np.where(nxt >= 0, pos_in_ev[np.maximum(nxt, 0)], events.block_end)
    team = ~events.is_paper
    start = np.arange(n_ev)[team]
    stop = stop[team]
    together = p_shared[stop] - p_shared[start]
    crowd_part = p_crowd[stop] - p_crowd[start]
    n_series = series.count
    totals.rel_num += group_sum(
        table.series[team], table.brier[team] * together - crowd_part, n_series
    )
    totals.rel_den += group_sum(table.series[team], together, n_series)
    totals.rel_num -= corrections


def _add_crowd_and_paper(totals: CrowdTotals, table: EventTable, events: _Events, n_q: int) -> None:
    """The crowd's own Brier over time, and the paper's standing forecast against it."""
    n_team = table.n_team
    eq, duration = events.question, events.duration
    crowd_brier = np.where(n_team >= 1, table.crowd_brier, 0.0)
    has = n_team >= 1
    totals.crowd_num += group_sum(eq[has], (crowd_brier * duration)[has], n_q)
    totals.crowd_den += group_sum(eq[has], duration[has], n_q)
    # The paper's latest event on the question, at every event.
    pp = np.where(events.is_paper, np.arange(events.count), -1)
    np.maximum.accumulate(pp, out=pp)
    pp[pp < events.question_start[eq]] = -1
    pm = (pp >= 0) & has
    totals.paper_num += group_sum(
        eq[pm], (table.brier[pp[pm]] - crowd_brier[pm]) * duration[pm], n_q
    )
    totals.paper_den += group_sum(eq[pm], duration[pm], n_q)
    totals.pairs = int(n_team.sum())


def _concat_int(parts: list[I64]) -> I64:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _concat_float(parts: list[F64]) -> F64:
    return np.concatenate(parts) if parts else np.zeros(0)

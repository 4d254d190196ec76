"""The report as rich tables: summary, leaderboard, the paper's scorecard, calibration per
forecaster, numeric questions.

Handles and tags are user text: they are escaped so rich never reads them as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from forecasts.report.text import (
    RECORD_COLUMNS,
    RECORD_NOTE,
    comparison_rows,
    fmt,
    paper_summary,
    plural,
    record_rows,
)

if TYPE_CHECKING:
    from rich.console import Console

    from forecasts.report.build import Entry, Report


def render_terminal(report: Report, console: Console) -> None:
    """Print the whole report on ``console``."""
    _summary(report, console)
    _leaderboard(report, console)
    _paper(report, console)
    entries: list[Entry] = [*report.forecasters]
    if report.paper is not None:
        entries.append(report.paper)
    entries.append(report.crowd)
    for e in entries:
        _calibration(e, console)
    _numeric(entries, console)


def _summary(report: Report, console: Console) -> None:
    rq = report.resolved_questions
    when = f"end of {report.as_of} (UTC)" if report.as_of_is_end_of_day else report.as_of
    console.print(f"[bold]Scores as of {when}[/bold]")
    filters = {"forecaster": report.filters.forecaster, "tag": report.filters.tag}
    filt = escape(", ".join(f"{k} {v}" for k, v in filters.items() if v))
    console.print(
        f"{plural(rq.scored, 'resolved question')} "
        f"({rq.binary} binary, {rq.choice} choice, {rq.numeric} numeric); "
        f"{rq.annulled} annulled, {rq.unresolved} not resolved yet"
        + (f"; filtered by {filt}" if filt else "")
    )
    for note in report.notes:
        console.print(f"[yellow]Note:[/yellow] {escape(note)}")


def _leaderboard(report: Report, console: Console) -> None:
    if not report.forecasters:
        console.print("No forecaster has a resolved question to score yet.")
        return
    lb = Table(title="Leaderboard (lower Brier is better)", title_justify="left")
    for name in ("#", "Forecaster", "Questions", "Brier", "Time-avg", "Coverage", "Relative"):
        lb.add_column(name, justify="left" if name == "Forecaster" else "right")
    lb.add_column("Log", justify="right")
    lb.add_column("Baseline", justify="right")
    for e in report.forecasters:
        lb.add_row(
            str(e.rank or "-"),
            escape(e.forecaster),
            str(e.questions),
            fmt(e.brier),
            fmt(e.brier_time_avg),
            fmt(e.coverage, "pct"),
            fmt(e.relative_brier, "signed"),
            fmt(e.log_score),
            fmt(e.baseline_score, "base"),
        )
    console.print(lb)


def _paper(report: Report, console: Console) -> None:
    console.print(f"\n[bold]The paper[/bold]: {paper_summary(report)}")
    if report.paper is None or not report.paper.questions:
        return
    rt = Table(title="The paper's record: retrospective and live questions", title_justify="left")
    for col in RECORD_COLUMNS:
        rt.add_column(col, justify="left" if col == RECORD_COLUMNS[0] else "right")
    for row in record_rows(report):
        rt.add_row(*row)
    console.print(rt)
    console.print(RECORD_NOTE)
    pt = Table(title="The paper next to the team", title_justify="left")
    for col in ("Metric", "Paper", "Crowd", "Team mean"):
        pt.add_column(col, justify="left" if col == "Metric" else "right")
    for row in comparison_rows(report):
        pt.add_row(*row)
    console.print(pt)


def _calibration(e: Entry, console: Console) -> None:
    nb = e.counts.binary
    if nb == 0:
        return
    title = f"Calibration: {escape(e.forecaster)} ({plural(nb, 'binary final forecast')})"
    t = Table(title=title, title_justify="left")
    for col in ("P(yes)", "n", "Mean forecast", "Observed", "95% interval"):
        t.add_column(col, justify="left" if col == "P(yes)" else "right")
    for b in e.calibration:
        if not b.n:
            continue
        t.add_row(
            f"{fmt(b.low, 'pct')}-{fmt(b.high, 'pct')}",
            str(b.n),
            fmt(b.mean_forecast, "pct1"),
            fmt(b.observed, "pct1"),
            f"{fmt(b.ci_low, 'pct')}-{fmt(b.ci_high, 'pct')}",
        )
    console.print()
    console.print(t)
    m = e.murphy
    console.print(
        f"Murphy (0-2 scale): reliability {fmt(m.reliability)}, resolution "
        f"{fmt(m.resolution)}, uncertainty {fmt(m.uncertainty)}"
    )
    for note in e.notes:
        console.print(f"[yellow]Note:[/yellow] {escape(note)}")


def _numeric(entries: list[Entry], console: Console) -> None:
    numeric = [x for x in entries if x.numeric.questions]
    if not numeric:
        return
    nt = Table(title="Numeric questions", title_justify="left")
    for col in ("Forecaster", "Questions", "Pinball / range", "In p10-p90", "In p25-p75"):
        nt.add_column(col, justify="left" if col == "Forecaster" else "right")
    for x in numeric:
        nq = x.numeric
        ic, iq = nq.interval_coverage, nq.interval_questions
        nt.add_row(
            escape(x.forecaster),
            str(nq.questions),
            fmt(nq.pinball),
            _share(ic.p10_p90, iq.p10_p90, "80%"),
            _share(ic.p25_p75, iq.p25_p75, "50%"),
        )
    console.print(nt)


def _share(x: float | None, n: int, ideal: str) -> str:
    return "-" if x is None else f"{fmt(x, 'pct')} of {n} (ideal {ideal})"

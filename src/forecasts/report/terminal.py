"""The report in a terminal: what a person reads first, fitted to the width.

By default: the summary, the leaderboard, the paper's scorecard, the numeric questions,
and one line of calibration per forecaster (reliability, resolution and a reliability
curve in text). ``full_calibration`` adds each forecaster's whole calibration table.

Handles and tags are user text: printed as plain text (or escaped), never read as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape

from forecasts.report.text import (
    RECORD_COLUMNS,
    RECORD_NOTE,
    comparison_rows,
    fmt,
    paper_summary,
    plural,
    record_rows,
    reliability_curve,
)
from forecasts.tables import Column, print_table, print_wrapped

if TYPE_CHECKING:
    from rich.console import Console

    from forecasts.report.build import Entry, Report

#: How to ask for what the short form leaves out.
FULL_HINT = (
    "Calibration tables in full: `forecasts report --calibration` "
    "(or `--forecaster HANDLE` for one person)."
)


def render_terminal(report: Report, console: Console, *, full_calibration: bool = False) -> None:
    """Print the report on ``console``: the short form, or with ``full_calibration`` each
    forecaster's calibration table too."""
    entries = _entries(report)
    _summary(report, console)
    _leaderboard(report, console)
    _paper(report, console)
    _numeric(entries, console)
    _calibration_lines(report, entries, console)
    if full_calibration:
        for e in entries:
            _calibration_table(e, console)
    elif any(e.counts.binary for e in entries):
        console.print()
        print_wrapped(console, FULL_HINT)


def _entries(report: Report) -> list[Entry]:
    """The forecasters shown, then the paper and the crowd."""
    entries: list[Entry] = [*report.forecasters]
    if report.paper is not None:
        entries.append(report.paper)
    entries.append(report.crowd)
    return entries


def _heading(console: Console, text: str) -> None:
    console.print()
    console.print(f"[bold]{text}[/bold]")


def _summary(report: Report, console: Console) -> None:
    rq = report.resolved_questions
    when = f"end of {report.as_of} (UTC)" if report.as_of_is_end_of_day else report.as_of
    console.print(f"[bold]Scores as of {when}[/bold]")
    filters = {"forecaster": report.filters.forecaster, "tag": report.filters.tag}
    filt = ", ".join(f"{k} {v}" for k, v in filters.items() if v)
    print_wrapped(
        console,
        f"{plural(rq.scored, 'resolved question')} "
        f"({rq.binary} binary, {rq.choice} choice, {rq.numeric} numeric); "
        f"{rq.annulled} annulled, {rq.unresolved} not resolved yet"
        + (f"; filtered by {filt}" if filt else ""),
    )
    for note in report.notes:
        print_wrapped(console, f"Note: {note}", style="yellow")


LEADERBOARD = [
    Column("#", justify="right"),
    Column("forecaster", header="Forecaster"),
    Column("questions", header="Questions", justify="right", priority=2),
    Column("brier", header="Brier", justify="right"),
    Column("time_avg", header="Time-avg", justify="right", priority=3),
    Column("coverage", header="Coverage", justify="right", priority=4),
    Column("relative", header="Relative", justify="right", priority=1),
    Column("log", header="Log", justify="right", priority=5),
    Column("baseline", header="Baseline", justify="right", priority=6),
]


def _leaderboard(report: Report, console: Console) -> None:
    _heading(console, "Leaderboard (lower Brier is better)")
    if not report.forecasters:
        console.print("No forecaster has a resolved question to score yet.")
        return
    rows = [
        [
            str(e.rank or "-"),
            e.forecaster,
            str(e.questions),
            fmt(e.brier),
            fmt(e.brier_time_avg),
            fmt(e.coverage, "pct"),
            fmt(e.relative_brier, "signed"),
            fmt(e.log_score),
            fmt(e.baseline_score, "base"),
        ]
        for e in report.forecasters
    ]
    print_table(console, LEADERBOARD, rows)


def _paper(report: Report, console: Console) -> None:
    _heading(console, "The paper's record: retrospective and live questions")
    print_wrapped(console, paper_summary(report))
    if report.paper is None or not report.paper.questions:
        return
    record = [
        Column(
            name.lower(),
            header=name,
            justify="left" if n == 0 else "right",
            priority=0 if n < 3 or name == "Brier" else n,
        )
        for n, name in enumerate(RECORD_COLUMNS)
    ]
    console.print()
    print_table(console, record, record_rows(report))
    print_wrapped(console, RECORD_NOTE, style="dim")
    console.print()
    compare = [
        Column("metric", header="The paper next to the team"),
        *(Column(n.lower(), header=n, justify="right") for n in ("Paper", "Crowd", "Team mean")),
    ]
    print_table(console, compare, comparison_rows(report))


def _numeric(entries: list[Entry], console: Console) -> None:
    numeric = [x for x in entries if x.numeric.questions]
    if not numeric:
        return
    _heading(console, "Numeric questions (pinball loss: lower is better)")
    columns = [
        Column("forecaster", header="Forecaster"),
        Column("questions", header="Questions", justify="right", priority=2),
        Column("pinball", header="Pinball / range", justify="right"),
        Column("in_80", header="In p10-p90", justify="right", priority=1),
        Column("in_50", header="In p25-p75", justify="right", priority=1),
    ]
    rows = []
    for x in numeric:
        nq = x.numeric
        ic, iq = nq.interval_coverage, nq.interval_questions
        rows.append(
            [
                x.forecaster,
                str(nq.questions),
                fmt(nq.pinball),
                _share(ic.p10_p90, iq.p10_p90, "80%"),
                _share(ic.p25_p75, iq.p25_p75, "50%"),
            ]
        )
    print_table(console, columns, rows)


def _share(x: float | None, n: int, ideal: str) -> str:
    return "-" if x is None else f"{fmt(x, 'pct')} of {n} (ideal {ideal})"


def _calibration_lines(report: Report, entries: list[Entry], console: Console) -> None:
    """One line per forecaster: binary final forecasts, reliability, resolution, and the
    share that came true in each band of P(yes) as a curve."""
    from forecasts.report.build import MIN_CALIBRATION

    shown = [e for e in entries if e.counts.binary]
    if not shown:
        return
    band = 100 // report.bins if 100 % report.bins == 0 else round(100 / report.bins, 1)
    _heading(console, "Calibration (binary questions)")
    print_wrapped(
        console,
        "Reliability: lower is better (0 = perfectly calibrated); resolution: higher is "
        f"better. The curve: the share that came true in each {band}-point band of P(yes), "
        "from 0% on the left to 100% on the right; · = no forecasts in that band.",
        style="dim",
    )
    columns = [
        Column("forecaster", header="Forecaster"),
        Column("n", justify="right"),
        Column("reliability", header="Reliability", justify="right", priority=1),
        Column("resolution", header="Resolution", justify="right", priority=1),
        Column("curve", header="Curve"),
        Column("note", header="", priority=2),
    ]
    rows = [
        [
            e.forecaster,
            str(e.counts.binary),
            fmt(e.murphy.reliability),
            fmt(e.murphy.resolution),
            reliability_curve(e.calibration),
            "too few to judge" if e.counts.binary < MIN_CALIBRATION else "",
        ]
        for e in shown
    ]
    console.print()
    print_table(console, columns, rows)


def _calibration_table(e: Entry, console: Console) -> None:
    nb = e.counts.binary
    if nb == 0:
        return
    _heading(
        console, f"Calibration: {escape(e.forecaster)} ({plural(nb, 'binary final forecast')})"
    )
    columns = [
        Column("band", header="P(yes)"),
        Column("n", justify="right"),
        Column("mean", header="Mean forecast", justify="right"),
        Column("observed", header="Observed", justify="right"),
        Column("interval", header="95% interval", justify="right"),
    ]
    rows = [
        [
            f"{fmt(b.low, 'pct')}-{fmt(b.high, 'pct')}",
            str(b.n),
            fmt(b.mean_forecast, "pct1"),
            fmt(b.observed, "pct1"),
            f"{fmt(b.ci_low, 'pct')}-{fmt(b.ci_high, 'pct')}",
        ]
        for b in e.calibration
        if b.n
    ]
    print_table(console, columns, rows)
    m = e.murphy
    print_wrapped(
        console,
        f"Murphy (0-2 scale): reliability {fmt(m.reliability)}, resolution "
        f"{fmt(m.resolution)}, uncertainty {fmt(m.uncertainty)}",
    )
    for note in e.notes:
        print_wrapped(console, f"Note: {note}", style="yellow")

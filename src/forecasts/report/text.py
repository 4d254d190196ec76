"""Words and numbers for people, shared by the terminal, the HTML page and the digest.

Plain functions of a ``Report``: no rich, no jinja2, nothing heavy to import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from forecasts.report.build import PaperEntry, PaperPart, Report

METRIC_LABELS = {
    "brier": "Brier",
    "brier_time_avg": "Brier (time-avg)",
    "coverage": "Coverage",
    "relative_brier": "Relative Brier",
    "log_score": "Log score",
    "baseline_score": "Baseline score",
}
#: How each metric is shown (see ``fmt``); the rest are plain scores.
METRIC_FORMATS = {"coverage": "pct", "relative_brier": "signed", "baseline_score": "base"}


def plural(n: int, word: str) -> str:
    """'1 question', '2 questions'."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def fmt(x: float | None, kind: str = "score") -> str:
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


def paper_summary(report: Report) -> str:
    """'3 of 5 resolved paper predictions came true.' (and how many said 50/50)."""
    p = report.paper
    if p is None or p.questions == 0:
        return "The paper has no resolved predictions yet."
    text = f"{p.came_true} of {plural(p.predictions, 'resolved paper prediction')} came true"
    if p.undecided:
        text += f" ({p.undecided} more said 50/50 and count neither way)"
    return text + "."


def comparison_rows(report: Report) -> list[tuple[str, str, str, str]]:
    """(metric, paper, crowd, team mean) rows for the paper's scorecard."""
    p, c, t = report.paper, report.crowd, report.team.mean
    out = []
    for key, label in METRIC_LABELS.items():
        k = METRIC_FORMATS.get(key, "score")
        paper = fmt(p.metric(key), k) if p is not None else "-"
        out.append((label, paper, fmt(c.metric(key), k), fmt(t.metric(key), k)))
    return out


RECORD_COLUMNS = ("Questions", "Scored", "Came true", "50/50", "Brier", "Log score", "Baseline")
RECORD_NOTE = (
    "Retrospective: questions tagged retrospective, already settled when they were written; "
    "the paper is scored on them after the fact. Live: all the others."
)


def record_rows(report: Report) -> list[tuple[str, ...]]:
    """The paper's record on retrospective questions, on live ones, and in total: (part,
    questions, 'k of n' predictions that came true, 50/50 predictions, Brier, log score,
    baseline score). Empty without a paper."""
    p = report.paper
    if p is None:
        return []
    parts: list[tuple[str, PaperPart | PaperEntry]] = [
        ("Retrospective", p.retrospective),
        ("Live", p.live),
        ("Total", p),
    ]
    return [
        (
            name,
            str(part.questions),
            f"{part.came_true} of {part.predictions}",
            str(part.undecided),
            fmt(part.brier),
            fmt(part.log_score),
            fmt(part.baseline_score, "base"),
        )
        for name, part in parts
    ]

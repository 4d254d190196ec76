"""Words and numbers for people, shared by the terminal, the HTML page and the digest.

Plain functions of a ``Report`` and of forecast values: no rich, no jinja2, nothing heavy
to import (``forecasts list`` uses them too).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from forecasts.domain.values import Value
    from forecasts.report.build import CalibrationBin, PaperEntry, PaperPart, Report

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


def days_in_words(days: int) -> str:
    """Days from today in words: 'today', 'tomorrow', 'in 12 days', 'in 3 months', 'in 2
    years'; the past as 'yesterday', '12 days ago', '3 months ago'."""
    if days == 0:
        return "today"
    if abs(days) == 1:
        return "tomorrow" if days > 0 else "yesterday"
    n = abs(days)
    if n < 45:
        amount = plural(n, "day")
    elif n < 548:  # 18 months
        amount = plural(round(n / 30.44), "month")
    else:
        amount = plural(round(n / 365.25), "year")
    return f"in {amount}" if days > 0 else f"{amount} ago"


def time_ago(then: dt.datetime, now: dt.datetime) -> str:
    """How long ago, for recent events: 'just now', '5 minutes ago', '3 hours ago', then
    in days, months and years as ``days_in_words``."""
    seconds = (now - then).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{plural(int(seconds // 60), 'minute')} ago"
    if seconds < 86400:
        return f"{plural(int(seconds // 3600), 'hour')} ago"
    return days_in_words(-int(seconds // 86400))


def time_until(then: dt.datetime, now: dt.datetime) -> str:
    """How soon, for what is coming: 'now' (or overdue), 'in 5 minutes', 'in 3 hours', then
    in days as ``days_in_words``."""
    seconds = (then - now).total_seconds()
    if seconds <= 0:
        return "now"
    if seconds < 3600:
        return f"in {plural(max(1, int(seconds // 60)), 'minute')}"
    if seconds < 86400:
        return f"in {plural(int(seconds // 3600), 'hour')}"
    return days_in_words(int(seconds // 86400))


#: How a scheduled job's last run ended, in words (``scheduler.runs`` statuses).
RUN_OUTCOMES = {
    "ok": "went well",
    "warning": "ended with warnings",
    "failed": "failed",
    "interrupted": "was interrupted",
    "running": "is running",
}


def run_outcome(status: str) -> str:
    """'ended with warnings' for ``warning``, and so on (the status itself if unknown)."""
    return RUN_OUTCOMES.get(status, status)


_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s")


def paragraphs(text: str) -> list[str]:
    """Text written with hard line breaks (as in questions.yaml), as paragraphs and list
    items to wrap anew at any width. A blank line ends a paragraph (and is kept, as ""); a
    line that starts a list item (``- ``, ``* ``, ``1. ``) starts a new one; any other line
    continues the one before."""
    out: list[str] = []
    current: list[str] = []

    def end() -> None:
        if current:
            out.append(" ".join(current))
            current.clear()

    for line in text.splitlines():
        if not line.strip():
            end()
            if out and out[-1]:
                out.append("")
            continue
        if _LIST_ITEM.match(line):
            end()
        current.append(line.strip())
    end()
    while out and not out[-1]:
        out.pop()
    return out


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


# --------------------------------------------------------------------------------------
# Forecast values in a few characters


def compact_value(value: Value | None) -> str:
    """A forecast in a few characters, for tables: ``65%``; a choice as its likeliest
    option, ``Two or more 35%``; a numeric forecast as its median and p10-p90 interval,
    ``261 (222–299)`` (p25-p75 when that is all there is). None is ``-``."""
    from forecasts.domain.values import format_value

    if value is None or isinstance(value, int | float):
        return format_value(value)
    if not value:
        return "-"
    if not _is_quantiles(value):
        best = max(value, key=lambda k: value[k])  # the first of equals
        return f"{best} {format_value(value[best])}"
    if "p50" not in value:
        return format_value(value)
    low, high = _interval(value)
    shown = [value["p50"]] + ([low, high] if low is not None and high is not None else [])
    decimals = _decimals(shown)
    median = _number(value["p50"], decimals)
    if low is None or high is None:
        return median
    return f"{median} ({_number(low, decimals)}–{_number(high, decimals)})"


def _is_quantiles(value: Mapping[str, float]) -> bool:
    from forecasts.domain.values import QUANTILES

    return all(k in QUANTILES for k in value)


def _interval(value: Mapping[str, float]) -> tuple[float | None, float | None]:
    for low, high in (("p10", "p90"), ("p25", "p75")):
        if low in value and high in value:
            return value[low], value[high]
    return None, None


def _decimals(numbers: list[float]) -> int:
    """Enough decimals for three significant digits of the largest number (at most 6)."""
    biggest = max(abs(x) for x in numbers)
    if biggest == 0:
        return 0
    return min(6, max(0, 2 - math.floor(math.log10(biggest))))


def _number(x: float, decimals: int) -> str:
    rounded = round(x, decimals) + 0.0  # + 0.0: no "-0"
    return f"{rounded:,.{decimals}f}"


# --------------------------------------------------------------------------------------
# Curves in a line of text

#: Eight heights, lowest first.
BLOCKS = "▁▂▃▄▅▆▇█"
#: A point with nothing in it (an empty calibration band).
NOTHING = "·"


def sparkline(values: Sequence[float | None], low: float = 0.0, high: float = 1.0) -> str:
    """One character per value, its height within ``low``..``high`` (clamped); None is
    ``·``."""
    span = high - low
    out = []
    for v in values:
        if v is None or math.isnan(v):
            out.append(NOTHING)
            continue
        share = 0.5 if span <= 0 else min(1.0, max(0.0, (v - low) / span))
        out.append(BLOCKS[min(len(BLOCKS) - 1, int(share * len(BLOCKS)))])
    return "".join(out)


def reliability_curve(bins: Sequence[CalibrationBin]) -> str:
    """The share that came true in each band of P(yes), lowest band first: a calibrated
    forecaster's curve climbs evenly from ▁ to █."""
    return sparkline([b.observed if b.n else None for b in bins])

"""The report as files: a self-contained HTML page and the reliability diagram as a PNG.

The page is rendered from ``templates/report.html.j2`` with autoescaping on (handles and
tags are user text); the chart is inline SVG, so the page needs nothing else. Output paths
are checked with ``check_writable`` before any work, so a typo in a path costs nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from forecasts import clock
from forecasts.domain.people import PAPER
from forecasts.errors import BadInput
from forecasts.report.build import MIN_CALIBRATION
from forecasts.report.text import (
    RECORD_COLUMNS,
    RECORD_NOTE,
    comparison_rows,
    fmt,
    paper_summary,
    record_rows,
)

if TYPE_CHECKING:
    from forecasts.report.build import Report
    from forecasts.report.charts import Series

#: What each output is called in messages, by its field name.
OUTPUTS = {"html": "the HTML report", "png": "the reliability diagram"}


def check_writable(path: str | os.PathLike[str], field: str) -> Path:
    """Fail early, before any work, if ``path`` cannot be written. ``field`` names the
    output (``html`` or ``png``) in the ``BadInput`` raised."""
    p = Path(path)
    what = OUTPUTS.get(field, "the file")
    if p.is_dir():
        raise BadInput(
            f"cannot write {what} to {p}: it is a directory; give a file name", field=field
        )
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise BadInput(
            f"cannot write {what} to {p}: directory {parent} does not exist", field=field
        )
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise BadInput(f"cannot write {what} to {p}: permission denied", field=field)
    return p


def chart_series(report: Report) -> list[Series]:
    """What the reliability diagram shows: the chosen forecaster (or the pooled team) and
    the paper."""
    series: list[Series] = []
    if report.filters.forecaster and report.forecasters:
        e = report.forecasters[0]
        series.append((e.forecaster, e.calibration))
    else:
        series.append(("team (all members' final forecasts)", report.team.calibration))
    if report.paper is not None and report.paper.counts.binary:
        series.append((PAPER, report.paper.calibration))
    return series


def render_html(report: Report) -> str:
    """A self-contained HTML page: inline SVG chart, no external assets."""
    import jinja2

    from forecasts.report import charts

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("forecasts.report", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["fmt"] = fmt
    svg = charts.reliability_svg(chart_series(report), bins=report.bins)
    template = env.get_template("report.html.j2")
    return template.render(
        report=report,
        chart_svg=svg,
        paper_summary=paper_summary(report),
        comparison=comparison_rows(report),
        record_columns=RECORD_COLUMNS,
        record=record_rows(report),
        record_note=RECORD_NOTE,
        min_calibration=MIN_CALIBRATION,
        generated=clock.now().strftime("%Y-%m-%d %H:%M UTC"),
    )


def write_html(report: Report, path: str | os.PathLike[str]) -> Path:
    """Write the HTML page to ``path`` (field ``html`` in errors)."""
    p = check_writable(path, "html")
    try:
        p.write_text(render_html(report), encoding="utf-8")
    except OSError as e:
        raise BadInput(
            f"cannot write {OUTPUTS['html']} to {p}: {e.strerror}", field="html"
        ) from None
    return p


def write_png(report: Report, path: str | os.PathLike[str]) -> Path:
    """Write the 800x600 reliability diagram to ``path`` (field ``png`` in errors)."""
    from forecasts.report import charts

    p = check_writable(path, "png")
    try:
        charts.reliability_png(chart_series(report), p, bins=report.bins)
    except OSError as e:
        raise BadInput(f"cannot write {OUTPUTS['png']} to {p}: {e.strerror}", field="png") from None
    return p

"""``forecasts report`` as one core call: check every option and output path, build the
report, write the files asked for. The CLI (and any job) then only presents the result."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from forecasts.report.build import Report, ReportOptions, build_report
from forecasts.report.html import check_writable, write_html, write_png

if TYPE_CHECKING:
    from sqlmodel import Session


@dataclass(frozen=True)
class ReportRun:
    """The report, and the files written (in the order asked: HTML, then PNG)."""

    report: Report
    written: list[Path] = field(default_factory=list)


def run_report(
    sessions: Callable[[], AbstractContextManager[Session]],
    *,
    as_of: str | dt.date | None = None,
    bins: int = 10,
    forecaster: str | None = None,
    tag: str | None = None,
    html: str | os.PathLike[str] | None = None,
    png: str | os.PathLike[str] | None = None,
) -> ReportRun:
    """Validate everything first (``BadInput`` with a ``field``: nothing is read or
    written), then build the report in one session and write the HTML and PNG files."""
    options = ReportOptions.parse(as_of=as_of, bins=bins, forecaster=forecaster, tag=tag)
    html_path = check_writable(html, "html") if html is not None else None
    png_path = check_writable(png, "png") if png is not None else None
    with sessions() as session:
        report = build_report(session, options)
    written = []
    if html_path is not None:
        written.append(write_html(report, html_path))
    if png_path is not None:
        written.append(write_png(report, png_path))
    return ReportRun(report=report, written=written)

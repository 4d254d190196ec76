"""Reliability diagrams with matplotlib (Agg): a PNG for email, an SVG string for HTML.

matplotlib is imported inside the functions that draw, so importing this module is cheap.
A series is ``(label, calibration bins)``: the report's ``CalibrationBin`` entries.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forecasts.report.build import CalibrationBin

Series = tuple[str, "Sequence[CalibrationBin]"]

COLOURS = ("#1f5fa8", "#c2501d", "#2e8540", "#7b3294")
WIDTH_IN, HEIGHT_IN, DPI = 8.0, 6.0, 100  # 800 x 600 pixels


def _figure(series: Sequence[Series], bins: int) -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor="white")
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(
        [0, 1], [0, 1], linestyle="--", color="#555555", linewidth=1.2, label="perfect calibration"
    )
    drawn = 0
    for (label, cal), colour in zip(series, COLOURS, strict=False):
        drawn += _draw_series(ax, label, cal, colour)
    _style_axes(ax, bins)
    if not drawn:
        ax.text(
            0.5, 0.55, "No resolved binary forecasts yet", ha="center", va="center", color="#555555"
        )
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.11), fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def _draw_series(ax: Any, label: str, cal: Sequence[CalibrationBin], colour: str) -> bool:
    """One series: its Wilson band and whiskers, the line, and points sized by count.
    False when it has no forecasts to draw."""
    pts = [b for b in cal if b.n]
    if not pts:
        return False
    x = [b.mean_forecast for b in pts]
    y = [b.observed for b in pts]
    lo = [b.ci_low for b in pts]
    hi = [b.ci_high for b in pts]
    n = [b.n for b in pts]
    ax.fill_between(x, lo, hi, color=colour, alpha=0.18, linewidth=0, step=None)
    for xi, l_, h_ in zip(x, lo, hi, strict=True):
        ax.plot([xi, xi], [l_, h_], color=colour, alpha=0.55, linewidth=1.0)
    total = sum(n)
    ax.plot(x, y, color=colour, linewidth=1.6, marker=None)
    ax.scatter(
        x,
        y,
        s=[20 + 180 * k / total for k in n],
        color=colour,
        edgecolor="white",
        linewidth=0.8,
        zorder=3,
        clip_on=False,
        label=f"{label} (n={total}; band: 95% Wilson interval)",
    )
    return True


def _style_axes(ax: Any, bins: int) -> None:
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ticks = [i / 10 for i in range(11)]
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set_xticklabels([f"{int(t * 100)}%" for t in ticks])
    ax.set_yticklabels([f"{int(t * 100)}%" for t in ticks])
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.set_xlabel("Forecast probability (mean within each bin)")
    ax.set_ylabel("Share that happened")
    ax.set_title(f"Reliability diagram ({bins} bins)")


def reliability_png(series: Sequence[Series], path: str | os.PathLike[str], bins: int = 10) -> None:
    """Write an 800x600 PNG (white background, no transparency, no metadata)."""
    fig = _figure(series, bins)
    fig.savefig(path, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})


def reliability_svg(series: Sequence[Series], bins: int = 10) -> str:
    """An inline-ready <svg> element: text drawn as paths (no fonts needed), no comments."""
    import matplotlib

    fig = _figure(series, bins)
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "forecasts"}):
        fig.savefig(buf, format="svg", facecolor="white", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    # matplotlib writes each label as an XML comment next to its glyphs; labels carry
    # user-supplied handles, so drop the comments rather than trust them.
    return re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)

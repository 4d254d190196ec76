"""The reader's reliability diagram, drawn cheaply enough for hundreds of readers.

One ``Painter`` serves a whole run: it draws the figure once (axes, grid, the diagonal,
the crowd's curve in grey, which every reader shares) and keeps that picture. Each
reader's chart restores the picture and draws only their own artists on it (matplotlib's
blitting: ``restore_region`` and ``draw_artist``), then encodes it as a PNG with a small
palette. A chart costs a few milliseconds and about 15 KB, against a tenth of a second
and several times the size for a figure built and saved per reader.

The series come from the report (``CalibrationBin``): nothing is computed here.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forecasts.report.build import CalibrationBin

#: Pixels: the chart is shown at this size (the HTML part is at most 640 wide).
WIDTH, HEIGHT, DPI = 440, 340, 100
BLUE = "#1f5fa8"  # the reader (the report's first series colour)
GREY = "#9a9a9a"  # the crowd
#: Colours in the PNG's palette: plenty for anti-aliased lines on white.
PALETTE = 64


class Painter:
    """Reliability diagrams on one reused figure. ``crowd`` is the crowd's calibration,
    drawn once, behind every reader's."""

    def __init__(self, crowd: Sequence[CalibrationBin] = ()) -> None:
        import matplotlib

        matplotlib.use("Agg", force=True)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.collections import LineCollection, PolyCollection
        from matplotlib.figure import Figure

        fig = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, facecolor="white")
        self._canvas = FigureCanvasAgg(fig)
        ax = fig.add_axes((0.13, 0.15, 0.83, 0.8))
        _style(ax)
        ax.plot([0, 1], [0, 1], linestyle="--", color="#555555", linewidth=1.0)
        _draw_crowd(ax, crowd)
        self._band = PolyCollection([], facecolor=BLUE, alpha=0.18, linewidth=0, animated=True)
        self._whiskers = LineCollection([], colors=BLUE, alpha=0.55, linewidth=1.0, animated=True)
        ax.add_collection(self._band)
        ax.add_collection(self._whiskers)
        (self._line,) = ax.plot([], [], color=BLUE, linewidth=1.6, animated=True)
        self._points = ax.scatter(
            [], [], color=BLUE, edgecolor="white", linewidth=0.8, zorder=3, animated=True
        )
        self._points.set_clip_on(False)
        self._ax = ax
        self._canvas.draw()
        self._background = self._canvas.copy_from_bbox(fig.bbox)

    def png(self, bins: Sequence[CalibrationBin]) -> bytes:
        """The diagram with the reader's ``bins`` over the shared picture, as PNG bytes."""
        import numpy as np

        pts = [b for b in bins if b.n]
        x = np.array([b.mean_forecast for b in pts], dtype=float)
        y = np.array([b.observed for b in pts], dtype=float)
        lo = np.array([b.ci_low for b in pts], dtype=float)
        hi = np.array([b.ci_high for b in pts], dtype=float)
        n = np.array([b.n for b in pts], dtype=float)
        band = np.concatenate([np.column_stack([x, hi]), np.column_stack([x, lo])[::-1]])
        self._band.set_verts([band] if len(pts) > 1 else [])
        self._whiskers.set_segments([[(a, b), (a, c)] for a, b, c in zip(x, lo, hi, strict=True)])
        self._line.set_data(x, y)
        self._points.set_offsets(np.column_stack([x, y]) if len(pts) else np.zeros((0, 2)))
        self._points.set_sizes(18 + 160 * n / n.sum() if len(pts) else [])
        self._canvas.restore_region(self._background)
        for artist in (self._band, self._whiskers, self._line, self._points):
            self._ax.draw_artist(artist)
        return _encode(np.asarray(self._canvas.buffer_rgba()))


def _style(ax: Any) -> None:
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ticks = [i / 5 for i in range(6)]
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    labels = [f"{round(t * 100)}%" for t in ticks]
    ax.set_xticklabels(labels, fontsize=8, color="#444444")
    ax.set_yticklabels(labels, fontsize=8, color="#444444")
    ax.tick_params(length=0)
    ax.grid(True, color="#e3e3e3", linewidth=0.7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#bbbbbb")
    ax.set_xlabel("Your forecast (probability of yes)", fontsize=8.5, color="#333333")
    ax.set_ylabel("Share that happened", fontsize=8.5, color="#333333")


def _draw_crowd(ax: Any, crowd: Sequence[CalibrationBin]) -> None:
    pts = [b for b in crowd if b.n]
    if pts:
        x = [b.mean_forecast for b in pts]
        y = [b.observed for b in pts]
        ax.plot(x, y, color=GREY, linewidth=1.2, marker="o", markersize=3)


def _encode(rgba: Any) -> bytes:
    """An RGB PNG with an adaptive palette (the chart is a few flat colours and their
    anti-aliased edges), compressed quickly. The background stays pure white, as the
    email around it is (the quantizer rounds it to 254)."""
    from PIL import Image

    image = Image.fromarray(rgba[:, :, :3])
    image = image.quantize(
        colors=PALETTE, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
    )
    palette = image.getpalette() or []
    _, most = max(image.getcolors() or [(0, 0)])
    at = 3 * int(most)  # type: ignore[call-overload]
    if all(c >= 248 for c in palette[at : at + 3]):
        palette[at : at + 3] = [255, 255, 255]
        image.putpalette(palette)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)
    return out.getvalue()

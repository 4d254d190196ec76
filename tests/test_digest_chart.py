"""The digest's reliability diagram: one figure reused for every reader leaves nothing of
one reader's chart in the next, the picture is what the bins say, and the PNG is small."""

from __future__ import annotations

import io

import numpy as np

from forecasts.digest.chart import BLUE, HEIGHT, WIDTH, Painter
from forecasts.report.build import CalibrationBin


def bins(points: dict[int, tuple[int, float]]) -> list[CalibrationBin]:
    """Ten bins; ``points`` maps a bin to (count, share that happened)."""
    out = []
    for i in range(10):
        n, seen = points.get(i, (0, 0.0))
        mean = (i + 0.5) / 10
        out.append(
            CalibrationBin(i / 10, (i + 1) / 10, n, mean if n else None, seen if n else None,
                           max(seen - 0.2, 0.0) if n else None, min(seen + 0.2, 1.0) if n else None)
        )  # fmt: skip
    return out


def pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def count(img: np.ndarray, hex_colour: str, tol: int = 8) -> int:
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int(np.all(np.abs(img - rgb) <= tol, axis=2).sum())


ALICE = bins({1: (12, 0.1), 4: (20, 0.45), 8: (15, 0.9)})
BOB = bins({6: (3, 0.2)})
CROWD = bins({i: (30, (i + 0.5) / 10) for i in range(10)})


def test_a_reused_figure_draws_each_reader_as_a_fresh_one_would():
    reused = Painter(CROWD)
    reused.png(ALICE)
    assert reused.png(BOB) == Painter(CROWD).png(BOB)
    assert reused.png(ALICE) == Painter(CROWD).png(ALICE)


def test_the_picture_is_the_reader_s_bins_over_the_crowd():
    img = pixels(Painter(CROWD).png(ALICE))
    assert img.shape == (HEIGHT, WIDTH, 3)
    assert np.all(img[0, 0] == 255) and np.all(img[-1, -1] == 255)  # pure white, like the mail
    assert count(img, BLUE) > 150  # alice's line and points
    assert count(img, "#9a9a9a") > 50  # the crowd
    # With no bins of the reader's, nothing is blue; the crowd is still there.
    empty = pixels(Painter(CROWD).png(bins({})))
    assert count(empty, BLUE) == 0 and count(empty, "#9a9a9a") > 50


def test_the_png_is_small():
    png = Painter(CROWD).png(ALICE)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) <= 20_000  # the limit is 60 KB

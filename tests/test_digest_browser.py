"""The digest's HTML renders in a real browser: a preview for the shipped questions after
a made-up week (tests/digest_world.py), screenshotted by headless Chromium.

Set DIGEST_SCREENSHOT=docs/digest.png to keep the screenshot (docs/digest.md shows it).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from freezegun import freeze_time

import digest_world
from browser import requires_chromium, screenshot
from conftest import REPO
from digest_world import SEND_AT, ok

WIDTH, HEIGHT = 720, 3200


@requires_chromium
def test_the_preview_renders_in_headless_chromium(cli, db_url, tmp_path):
    import matplotlib.image as mpimg

    digest_world.build(cli, db_url, tmp_path)
    with freeze_time(SEND_AT):
        ok(cli("digest", "--preview", "alice.html", "--to", "alice"))
    shot = tmp_path / "shot.png"
    screenshot(tmp_path / "alice.html", shot, width=WIDTH, height=HEIGHT)
    assert shot.is_file() and shot.stat().st_size > 50_000
    img = (mpimg.imread(shot)[:, :, :3] * 255).round().astype(int)
    assert img.shape[:2] == (HEIGHT, WIDTH)

    def count(rgb: tuple[int, int, int], tol: int = 6) -> int:
        return int(np.all(np.abs(img - np.array(rgb)) <= tol, axis=2).sum())

    # Not blank: the white card on its grey page, with text in it.
    assert count((0xEE, 0xF0, 0xF3), tol=1) > 20_000  # the page around the card
    assert count((0xFF, 0xFF, 0xFF), tol=0) > 300_000  # the card
    dark = int(np.all(img < 90, axis=2).sum())
    assert dark > 20_000  # text
    assert count((0x1F, 0x5F, 0xA8)) > 3_000  # headings, the rule, the chart's line and points
    assert count((0xC2, 0x41, 0x0C)) > 100  # the "possible resolution" badge
    assert count((0x82, 0x50, 0xDF)) > 100  # the "disputed" badge
    assert count((210, 223, 236), tol=5) > 2_000  # the chart's Wilson band (18% blue on white)
    # The card is at most 640 px wide (plus its border): the page shows on both sides.
    row = img[HEIGHT // 4]
    card = np.flatnonzero(np.all(row == 255, axis=1))
    assert card.size and card.max() - card.min() <= 642

    keep = os.environ.get("DIGEST_SCREENSHOT")
    if keep:
        target = Path(keep) if Path(keep).is_absolute() else REPO / keep
        _crop_to_content(shot, target)


def _crop_to_content(shot: Path, target: Path) -> None:
    """The screenshot without the empty page below the card, as a small PNG."""
    from PIL import Image

    image = Image.open(shot).convert("RGB")
    pixels = np.asarray(image)
    rows = np.flatnonzero(np.any(np.abs(pixels.astype(int) - [0xEE, 0xF0, 0xF3]) > 2, axis=(1, 2)))
    bottom = min(int(rows.max()) + 24, pixels.shape[0]) if rows.size else pixels.shape[0]
    image.crop((0, 0, pixels.shape[1], bottom)).quantize(colors=256).save(target, optimize=True)

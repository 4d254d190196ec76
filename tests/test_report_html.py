"""The HTML report: autoescaped, self-contained, and it renders in headless Chromium."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from pathlib import Path

import numpy as np
import pytest

from browser import requires_chromium, screenshot
from forecasts import clock, scoring
from forecasts.report.build import Report, ReportOptions, shape_report
from forecasts.report.html import render_html
from forecasts.report.load import _empty_forecasts
from forecasts.report.text import fmt
from forecasts.scoring import BINARY, ForecastArrays, QuestionArrays

DAY = 86400.0
EVIL = '<script>alert("x")</script>'


AS_OF = dt.date(2025, 6, 30)


def synthetic_report(n_q: int = 300, handles: tuple[str, ...] = ("alice", EVIL, "paper")) -> Report:
    """Binary questions with decently calibrated forecasters, scored without a database."""
    rng = np.random.default_rng(2)
    truth = rng.uniform(0.02, 0.98, n_q)
    outcome = (rng.random(n_q) < truth).astype(float)
    qa = QuestionArrays(
        kind=np.full(n_q, BINARY, dtype=np.int8),
        n_options=np.full(n_q, 2, dtype=np.int32),
        outcome=outcome,
        opens=np.zeros(n_q),
        end=np.full(n_q, 30 * DAY),
        range_width=np.full(n_q, np.nan),
    )
    n_p = len(handles)
    q = np.repeat(np.arange(n_q), n_p)
    p = np.tile(np.arange(n_p), n_q)
    noise = rng.normal(0, 0.08, q.size) * np.where(p == n_p - 1, 3, 1)
    made_at = rng.uniform(0, 20 * DAY, q.size)
    p_yes = np.clip(truth[q] + noise, 0.01, 0.99)
    # an earlier, vaguer first guess, so that the time-averaged Brier differs from the final
    first_at = made_at * rng.uniform(0.1, 0.9, q.size)
    first_p = np.clip(0.5 + (p_yes - 0.5) * 0.3, 0.01, 0.99)
    fa = ForecastArrays(
        question=np.concatenate([q, q]).astype(np.int32),
        person=np.concatenate([p, p]).astype(np.int32),
        made_at=np.concatenate([first_at, made_at]),
        p_yes=np.concatenate([first_p, p_yes]),
        choice_row=np.full(2 * q.size, -1, dtype=np.int32),
        choice=np.zeros((0, 2)),
        quantile_row=np.full(2 * q.size, -1, dtype=np.int32),
        quantiles=np.zeros((0, 5)),
    )
    s = scoring.score(qa, fa, n_p, paper=n_p - 1, bins=10)
    return shape_report(
        s,
        handles=list(handles),
        paper=n_p - 1,
        options=ReportOptions(as_of=AS_OF),
        cutoff=clock.end_of_day(AS_OF),
        counts={"scored_questions": n_q, "binary": n_q},
    )


@pytest.fixture(scope="module")
def rep() -> Report:
    return synthetic_report()


@pytest.fixture(scope="module")
def html(rep: Report) -> str:
    return render_html(rep)


def test_autoescape(html: str) -> None:
    assert EVIL not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<script" not in html.lower()


def test_self_contained(html: str) -> None:
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html, flags=re.I)
    assert refs, "the inline SVG uses internal references"
    assert all(r.startswith("#") for r in refs), [r for r in refs if not r.startswith("#")]
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", html, flags=re.I)
    assert "<link" not in html.lower() and "@import" not in html.lower()
    assert "<!--" not in html  # matplotlib's label comments are stripped


def test_sections_and_chart(html: str) -> None:
    for anchor in (
        "leaderboard",
        "paper",
        "paper-record",
        "reliability",
        "calibration",
        "methodology",
    ):
        assert f'id="{anchor}"' in html
    assert html.count("<svg") == 1
    svg = html[html.index("<svg") : html.index("</svg>")]
    # the diagonal is dashed; the Wilson bands are a filled, translucent polygon
    assert "stroke-dasharray" in svg
    assert "fill-opacity" in svg or "opacity" in svg


def cells(html: str, section: str) -> list[list[str]]:
    """The text of each body row's cells in the first table after ``id="section"``."""
    start = html.index(f'id="{section}"')
    table = html[html.index("<tbody>", start) : html.index("</tbody>", start)]
    rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.DOTALL)
    return [
        [htmllib.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, flags=re.DOTALL)]
        for r in rows
    ]  # fmt: skip


def test_leaderboard_shows_each_forecaster_s_scores(rep: Report, html: str) -> None:
    """Each row carries that forecaster's numbers from the report, in the header's order."""
    rows = cells(html, "leaderboard")
    assert len(rows) == len(rep.forecasters) == 2
    for row, e in zip(rows, rep.forecasters, strict=True):
        assert row == [
            str(e.rank),
            e.forecaster,
            str(e.questions),
            fmt(e.brier),
            fmt(e.brier_time_avg),
            fmt(e.coverage, "pct"),
            fmt(e.relative_brier, "signed"),
            fmt(e.log_score),
            fmt(e.baseline_score, "base"),
        ]
    # the numbers are the data's: 300 questions each, Briers that differ by forecaster, and
    # a time-averaged Brier (vaguer first guesses count) that differs from the final one
    assert {row[2] for row in rows} == {"300"}
    assert len({row[3] for row in rows}) == 2
    assert all(row[3] != row[4] for row in rows)


def test_paper_scorecard_shows_the_paper_s_numbers(rep: Report, html: str) -> None:
    p = rep.paper
    assert p is not None and p.predictions == 300
    assert f"{p.came_true} of 300 resolved paper predictions came true" in html
    rows = {row[0]: row[1:] for row in cells(html, "paper-team")}
    assert rows["Brier"] == [fmt(p.brier), fmt(rep.crowd.brier), fmt(rep.team.mean.brier)]
    assert rows["Relative Brier"][0] == fmt(p.relative_brier, "signed")
    # nothing is tagged retrospective here: every question is live
    record = {row[0]: row[1:] for row in cells(html, "paper-record")}
    assert record["Retrospective"] == ["0", "0 of 0", "0", "-", "-", "-"]
    total = ["300", f"{p.came_true} of 300", str(p.undecided), fmt(p.brier)]
    assert record["Live"][:4] == record["Total"][:4] == total


def test_empty_report_renders() -> None:
    s = scoring.score(
        QuestionArrays(
            kind=np.zeros(0, np.int8),
            n_options=np.zeros(0, np.int32),
            outcome=np.zeros(0),
            opens=np.zeros(0),
            end=np.zeros(0),
            range_width=np.zeros(0),
        ),
        _empty_forecasts(),
        1,
        paper=0,
    )
    day = dt.date(2025, 1, 1)
    empty = shape_report(
        s,
        handles=["paper"],
        paper=0,
        options=ReportOptions(as_of=day),
        cutoff=clock.end_of_day(day),
    )
    out = render_html(empty)
    assert "No forecaster has a resolved question to score yet." in out
    assert "The paper has no resolved predictions yet." in out


@requires_chromium
def test_screenshot_in_headless_chromium(html: str, tmp_path: Path) -> None:
    """The page renders: the reliability diagram's series colour, its Wilson band and the
    diagonal's grey are all on screen."""
    import matplotlib.image as mpimg

    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    shot = tmp_path / "shot.png"
    screenshot(page, shot, width=1200, height=2000)
    assert shot.is_file() and shot.stat().st_size > 20_000
    img = (mpimg.imread(shot)[:, :, :3] * 255).round().astype(int)

    def count(rgb: tuple[int, int, int], tol: int = 6) -> int:
        return int(np.all(np.abs(img - np.array(rgb)) <= tol, axis=2).sum())

    assert count((0x1F, 0x5F, 0xA8)) > 200  # the team's points and line
    assert count((0xC2, 0x50, 0x1D)) > 100  # the paper's
    assert count((210, 223, 236), tol=5) > 2000  # the team's Wilson band (18% blue on white)
    assert count((0x55, 0x55, 0x55), tol=2) > 50  # the dashed diagonal

"""`forecasts show` as a question page: the crowd over time, dates in words, the latest
news, and the same as JSON."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
from freezegun import freeze_time

from forecasts.domain.questions import crowd_history, days_until
from forecasts.store.models import Forecast, Question

OPENS = dt.date(2027, 3, 1)


def _question(kind: str = "binary") -> Question:
    return Question(
        id="q", title="Q?", type=kind, criteria="c", opens=OPENS,
        closes=dt.date(2027, 6, 30), resolve_by=dt.date(2027, 9, 30),
        options=["A", "B"] if kind == "choice" else None,
        range_min=0.0 if kind == "numeric" else None,
        range_max=100.0 if kind == "numeric" else None,
    )  # fmt: skip


def _forecast(n: int, person: str, value: object) -> Forecast:
    return Forecast(
        id=n, question_id="q", person=person, value=value,
        made_at=dt.datetime(2027, 3, 1, tzinfo=dt.UTC) + dt.timedelta(hours=n),
    )  # fmt: skip


def test_crowd_history_is_the_crowd_after_each_forecast_without_the_paper() -> None:
    forecasts = [
        _forecast(1, "paper", 0.9),
        _forecast(2, "ann", 0.2),
        _forecast(3, "bob", 0.6),
        _forecast(4, "ann", 0.8),  # ann changes her mind: her latest counts
    ]
    history = crowd_history(_question(), forecasts)
    assert [v for _, v in history] == [0.2, pytest.approx(0.4), pytest.approx(0.7)]
    assert [t for t, _ in history] == [f.made_at for f in forecasts[1:]]


def test_crowd_history_of_many_forecasts_keeps_points_evenly_first_and_last() -> None:
    forecasts = [_forecast(n, f"p{n % 7}", 0.1 + (n % 9) / 10) for n in range(1, 201)]
    history = crowd_history(_question(), forecasts, points=40)
    assert len(history) == 40
    assert history[0][0] == forecasts[0].made_at and history[-1][0] == forecasts[-1].made_at
    gaps = {(b[0] - a[0]) // dt.timedelta(hours=1) for a, b in itertools.pairwise(history)}
    assert gaps <= {5, 6}


def test_days_until_each_date() -> None:
    assert days_until(_question(), dt.date(2027, 6, 18)) == {
        "opens": -109,
        "closes": 12,
        "resolve_by": 104,
    }


@pytest.fixture
def page(cli, db_url):
    """A question with forecasts, a numeric one, five matched articles (one a possible
    resolution, one marked irrelevant)."""
    from forecasts.news.store import NewArticle, NewMatch, insert_matches, mark, upsert_articles
    from forecasts.store import db

    with freeze_time("2027-03-02 12:00:00"):
        for args in (
            ("add", "--id", "engines-2028", "--title", "Will a new engine contract be signed?",
             "--criteria", "Yes if signed.", "--opens", "2027-03-01", "--closes", "2027-06-30",
             "--resolve-by", "2027-09-30", "--query", "engine"),
            ("add", "--id", "trade-2027", "--type", "numeric", "--min", "0", "--max", "500",
             "--unit", "bn USD", "--title", "Trade?", "--criteria", "c", "--opens", "2027-03-01",
             "--closes", "2027-06-30", "--resolve-by", "2027-09-30"),
            ("people", "add", "ann"),
            ("people", "add", "bob"),
            ("predict", "engines-2028", "0.2", "--by", "ann"),
            ("predict", "engines-2028", "0.6", "--by", "bob"),
            ("predict", "trade-2027", "p10=200,p50=250,p90=300", "--by", "ann"),
        ):  # fmt: skip
            r = cli(*args)
            assert r.exit_code == 0, r.output
    with db.session_scope(db.get_engine(db_url), write=True) as session:
        ids = upsert_articles(
            session,
            articles=[
                NewArticle(
                    f"https://news.example.org/{n}",
                    f"Engine story {n}",
                    None,
                    "wire",
                    dt.datetime(2027, 3, 10 + n, tzinfo=dt.UTC),
                )
                for n in range(5)
            ],
        )
        insert_matches(
            session,
            matches=[
                NewMatch(aid, "engines-2028", 1.0, ["engine"], ["signed"] if n == 3 else [], n == 3)
                for n, (aid, _) in enumerate(ids)
            ],
        )
        mark(session, article_id=ids[4][0], relevant=False, question_id="engines-2028")
    return cli


@freeze_time("2027-06-18 12:00:00")
def test_show_page_in_words_with_history_and_the_latest_news(page, monkeypatch) -> None:
    from termhelp import as_terminal, plain

    as_terminal(monkeypatch, 100)
    lines = plain(page("show", "engines-2028").stdout).splitlines()
    assert lines[:3] == ["engines-2028  (binary)", "Will a new engine contract be signed?", ""]
    assert lines[3] == "Status  open: closes in 12 days (2027-06-30)"
    assert lines[5] == "Crowd   40% from 2 forecasters   Paper  -"
    history = lines[lines.index("Forecast history") + 1]
    assert history == "  crowd ▂▄  40%"
    news = lines.index("Latest news (3 of 4; all of them: forecasts news list engines-2028)")
    assert [line.split() for line in lines[news + 1 : news + 5]] == [
        ["published", "source", "title"],
        ["2027-03-13", "wire", "possible", "resolution", "Engine", "story", "3"],
        ["2027-03-12", "wire", "Engine", "story", "2"],
        ["2027-03-11", "wire", "Engine", "story", "1"],
    ]  # newest first; the article marked irrelevant never shows


@freeze_time("2027-06-18 12:00:00")
def test_show_json_has_the_page(page) -> None:
    d = json.loads(page("show", "engines-2028", "--json").stdout)
    assert d["days_until"] == {"opens": -109, "closes": 12, "resolve_by": 104}
    assert [(p["at"], p["crowd"]) for p in d["crowd_history"]] == [
        ("2027-03-02T12:00:00Z", 0.2),
        ("2027-03-02T12:00:00Z", pytest.approx(0.4)),
    ]
    assert d["news_total"] == 4
    assert [a["title"] for a in d["latest_news"]] == [
        "Engine story 3",
        "Engine story 2",
        "Engine story 1",
    ]
    assert d["latest_news"][0]["possible_resolution"] is True


@freeze_time("2027-06-18 12:00:00")
def test_show_numeric_history_is_the_median_on_the_question_s_range(page, monkeypatch) -> None:
    from termhelp import as_terminal, plain

    as_terminal(monkeypatch, 100)
    lines = plain(page("show", "trade-2027").stdout).splitlines()
    assert lines[0] == "trade-2027  (numeric, 0 to 500 bn USD)"
    assert "Crowd   250 (200–300) from 1 forecaster   Paper  -" in lines
    assert "  crowd median ▅  250 (200–300)" in lines  # half its 0-500 range
    assert "Latest news" not in "\n".join(lines)


def test_sparkline_heights_and_gaps() -> None:
    from forecasts.report.text import reliability_curve, sparkline

    assert sparkline([0.0, 0.125, 0.5, 0.99, 1.0, None]) == "▁▂▅██·"
    assert sparkline([-5, 50, 500], low=0, high=100) == "▁▅█"  # clamped to the range
    assert sparkline([3, 3], low=3, high=3) == "▅▅"  # no range: the middle

    class Bin:
        def __init__(self, n: int, observed: float | None) -> None:
            self.n, self.observed = n, observed

    assert reliability_curve([Bin(0, None), Bin(4, 0.0), Bin(2, 1.0)]) == "·▁█"  # type: ignore[list-item]


def test_days_in_words() -> None:
    from forecasts.report.text import days_in_words

    cases = {0: "today", 1: "tomorrow", -1: "yesterday", 12: "in 12 days", -44: "44 days ago",
             45: "in 1 month", 400: "in 13 months", 548: "in 2 years", -1000: "3 years ago"}  # fmt: skip
    assert {d: days_in_words(d) for d in cases} == cases


def test_compact_values() -> None:
    from forecasts.report.text import compact_value

    assert compact_value(0.65) == "65%"
    assert compact_value(None) == "-"
    assert compact_value({"Zero": 0.3, "One": 0.35, "Two or more": 0.35}) == "One 35%"
    assert compact_value(
        {"p10": 222.09, "p25": 240.3, "p50": 260.53, "p75": 280.77, "p90": 299.2}
    ) == ("261 (222–299)")
    assert compact_value({"p10": 35.21, "p50": 41.62, "p90": 48.0}) == "41.6 (35.2–48.0)"
    assert compact_value({"p25": 0.0012, "p50": 0.0523, "p75": 0.09}) == "0.0523 (0.0012–0.0900)"
    assert compact_value({"p50": 1234567.0}) == "1,234,567"
    assert compact_value({"p10": 1.0}) == "p10=1"  # no median: the quantiles as they are


def test_paragraphs_reflow_hard_wrapped_text() -> None:
    from forecasts.report.text import paragraphs

    text = "One line\ncontinued.\n\n- an item\n  that goes on\n- another\n\n\nLast."
    assert paragraphs(text) == [
        "One line continued.",
        "",
        "- an item that goes on",
        "- another",
        "",
        "Last.",
    ]

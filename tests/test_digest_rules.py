"""The digest's rules at the core (``gather`` and ``digest_for`` on a real database):
what is closing soon for whom, when the crowd has moved, which news is shown and in which
order, and whose news a reader gets."""

from __future__ import annotations

import datetime as dt
from typing import Any

from forecasts.digest.gather import gather
from forecasts.digest.sections import digest_for
from forecasts.digest.weeks import IsoWeek
from forecasts.news.models import Article, ArticleMatch
from forecasts.store.models import Forecast, Person, Question

UTC = dt.UTC
WEEK = IsoWeek.parse("2027-W10")  # Monday 8 to Sunday 14 March 2027 (UTC here)


def t(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def people(session: Any, *handles: str) -> None:
    for h in handles:
        session.add(Person(handle=h, email=f"{h}@example.org", roles=["forecaster"]))
    session.flush()


def question(session: Any, qid: str, closes: str, kind: str = "binary", **kw: Any) -> None:
    session.add(
        Question(id=qid, title=f"Title of {qid}", type=kind, criteria="c",
                 opens=dt.date(2027, 1, 1), closes=dt.date.fromisoformat(closes),
                 resolve_by=dt.date(2027, 12, 31), **kw)
    )  # fmt: skip
    session.flush()


def forecast(session: Any, qid: str, who: str, when: str, value: Any) -> None:
    session.add(Forecast(question_id=qid, person=who, value=value, made_at=t(when)))
    session.flush()


def digests(session: Any) -> dict[str, Any]:
    session.commit()
    g = gather(session, WEEK, UTC, quorum=1)
    return {r.handle: digest_for(r, g) for r in g.readers}


def test_closing_soon_is_open_questions_closing_within_14_days_without_a_fresh_forecast(
    session,
):
    people(session, "ann", "ben")
    question(session, "in-window", "2027-03-20")
    question(session, "last-day", "2027-03-28")  # 14 days after the week: Monday 15 + 13
    question(session, "too-late", "2027-03-29")
    question(session, "closed", "2027-03-12")  # closed during the week
    # The week ends 2027-03-15 00:00; 30 days before is 2027-02-13 00:00.
    forecast(session, "in-window", "ann", "2027-02-12 23:59", 0.3)  # stale: listed
    forecast(session, "last-day", "ann", "2027-02-13 00:01", 0.3)  # fresh: not listed
    d = digests(session)
    assert [(c.id, c.yours) for c in d["ann"].closing] == [("in-window", "30% on 2027-02-12")]
    assert [(c.id, c.yours) for c in d["ben"].closing] == [("in-window", None), ("last-day", None)]
    assert d["ben"].closing[0].crowd == "30%" and d["ben"].closing[1].paper == "none"


def test_the_crowd_moved_by_ten_points_or_more(session):
    people(session, "ann", "ben")
    question(session, "ten", "2027-12-31")
    question(session, "nine", "2027-12-31")
    question(session, "choice", "2027-12-31", "choice", options=["A", "B"])
    question(session, "numeric", "2027-12-31", "numeric", range_min=0.0, range_max=100.0)
    question(session, "small-numeric", "2027-12-31", "numeric", range_min=0.0, range_max=100.0)
    question(session, "new", "2027-12-31")  # no crowd before the week: nothing to move from
    before, during = "2027-03-01 12:00", "2027-03-10 12:00"
    for qid, ann_then, ann_now in (
        ("ten", 0.4, 0.6),  # the crowd of two is their mean: 0.5 -> 0.6
        ("nine", 0.4, 0.58),  # 0.5 -> 0.59
        ("choice", {"A": 0.5, "B": 0.5}, {"A": 0.9, "B": 0.1}),  # A: 50% -> 70%
        ("numeric", {"p10": 10, "p50": 50, "p90": 90}, {"p10": 10, "p50": 80, "p90": 90}),
        ("small-numeric", {"p10": 10, "p50": 50, "p90": 90}, {"p10": 10, "p50": 60, "p90": 90}),
    ):
        forecast(session, qid, "ann", before, ann_then)
        forecast(session, qid, "ben", before, 0.6 if qid in ("ten", "nine") else ann_then)
        forecast(session, qid, "ann", during, ann_now)
    forecast(session, "new", "ann", during, 0.9)
    d = digests(session)["ben"]
    assert [(m.id, m.what, m.before, m.after, m.change) for m in d.moves] == [
        ("choice", "A", "50%", "70%", "+20 points"),
        ("numeric", "median", "50", "65", "+15% of the range"),
        ("ten", "", "50%", "60%", "+10 points"),
    ]
    assert [m.yours for m in d.moves] == ["A 50%; B 50%", "50 (p10 10, p90 90)", "60%"]


def _article(session: Any, n: int, qid: str, published: str | None, score: float,
             **match: Any) -> None:  # fmt: skip
    session.add(
        Article(id=n, url=f"https://example.org/{n}", title=f"Article {n}", source="wire",
                published=t(published) if published else None,
                fetched_at=t("2027-03-09 10:00"))
    )  # fmt: skip
    session.flush()
    session.add(ArticleMatch(article_id=n, question_id=qid, score=score, **match))
    session.flush()


def test_the_week_s_news_ranked_by_score_and_picked_for_each_reader(session):
    people(session, "ann", "ben", "cy")
    for qid in ("qa", "qb", "qc"):
        question(session, qid, "2027-12-31")
    forecast(session, "qa", "ann", "2027-02-01 12:00", 0.5)
    forecast(session, "qb", "ben", "2027-02-01 12:00", 0.5)
    for n, score in enumerate((1.0, 3.0, 2.0, 0.5, 2.5, 1.5, 0.7), start=1):
        _article(session, n, "qa", f"2027-03-{8 + n % 7:02d} 09:00", score)
    _article(session, 20, "qa", "2027-03-10 09:00", 9.0, relevant=False)  # hidden for good
    _article(session, 21, "qa", "2027-03-07 23:59", 9.0)  # the week before
    _article(session, 22, "qa", None, 1.2)  # undated: fetched in the week, so it counts
    _article(session, 30, "qb", "2027-03-11 09:00", 0.9, gdelt_only=True)
    _article(session, 31, "qb", "2027-03-11 10:00", 0.1, possible_resolution=True)
    _article(session, 40, "qc", "2027-03-12 09:00", 5.0)
    d = digests(session)
    ann = d["ann"].news
    assert [n.id for n in ann] == ["qa"]  # ann follows qa only
    assert [a.title for a in ann[0].articles] == [
        "Article 2", "Article 5", "Article 3", "Article 6", "Article 22",
    ]  # fmt: skip
    assert ann[0].more == 3  # 8 of the week's, 5 shown
    assert ann[0].articles[-1].date == ""  # undated
    ben = d["ben"].news
    assert [a.title for a in ben[0].articles] == ["Article 30", "Article 31"]
    assert [a.possible_resolution for a in ben[0].articles] == [False, True]
    # cy follows nothing: every question with news, a possible resolution first, then by
    # the best article.
    assert [n.id for n in d["cy"].news] == ["qb", "qc", "qa"]

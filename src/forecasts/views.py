"""Read views that bring several parts of the core together for one screen: a question's
page (`forecasts show`) and the dashboard (`forecasts` with no command).

Plain data, typed; the CLI renders it, ``to_dict`` is the JSON.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from forecasts import clock

if TYPE_CHECKING:
    from sqlmodel import Session

    from forecasts.news.store import ArticleView
    from forecasts.runtime import Runtime
    from forecasts.scheduler.status import SchedulerStatus

#: Articles on a question's page (the rest: `forecasts news list ID`).
PAGE_NEWS = 3
#: Questions awaiting resolution listed on the dashboard.
DASHBOARD_DUE = 5


# --------------------------------------------------------------------------------------
# A question's page


@dataclass(frozen=True)
class QuestionPage:
    """``detail`` is ``domain.questions.question_detail`` (the question, its forecasts,
    crowd history, resolutions, proposals and revisions); ``news`` its newest matched
    articles, of ``news_total``."""

    detail: dict[str, Any]
    news: list[ArticleView]
    news_total: int

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.detail,
            "latest_news": [a.to_dict() for a in self.news],
            "news_total": self.news_total,
        }


def question_page(
    session: Session, *, question_id: str, as_of: dt.date | None = None, news: int = PAGE_NEWS
) -> QuestionPage:
    """Everything `forecasts show` prints about one question."""
    from forecasts.domain.questions import question_detail
    from forecasts.news.store import count_matches, list_articles

    detail = question_detail(session, question_id=question_id, as_of=as_of)
    articles = list_articles(session, question_id=question_id, limit=news) if news else []
    total = count_matches(session, question_id=question_id) if articles else 0
    return QuestionPage(detail=detail, news=articles, news_total=total)


# --------------------------------------------------------------------------------------
# The dashboard


@dataclass(frozen=True)
class NoDatabase:
    """The database is not ready: no schema yet (``revision`` None), or one older than
    this version's (``head``)."""

    database: str
    revision: str | None
    head: str


@dataclass(frozen=True)
class Dashboard:
    """What a person wants to know on arriving: how many questions in each status, what
    awaits resolution, who forecasts, when news last came in, and the scheduler: whether
    one runs, each job's next and last run (``scheduler.status.scheduler_status``)."""

    database: str
    today: dt.date
    questions: int
    #: Status -> how many, in ``domain.questions.STATUSES`` order, zeros left out.
    by_status: dict[str, int]
    #: The first ``DASHBOARD_DUE`` questions awaiting resolution (``due`` rows), of ``due_total``.
    due: list[dict[str, Any]]
    due_total: int
    forecasters: int
    forecasts: int
    news_last_attempt: dt.datetime | None
    news_last_success: dt.datetime | None
    articles: int
    scheduler: SchedulerStatus | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "today": self.today.isoformat(),
            "questions": self.questions,
            "by_status": self.by_status,
            "due": self.due,
            "due_total": self.due_total,
            "forecasters": self.forecasters,
            "forecasts": self.forecasts,
            "news": {
                "last_attempt": clock.iso(self.news_last_attempt),
                "last_success": clock.iso(self.news_last_success),
                "articles": self.articles,
            },
            "scheduler": self.scheduler.to_dict() if self.scheduler is not None else None,
        }


def dashboard(runtime: Runtime) -> Dashboard | NoDatabase:
    """The dashboard, or what keeps the database from having one. Never creates a database
    (a missing SQLite file stays missing)."""
    from forecasts.store import db

    engine = runtime.engine
    revision, head = db.current_revision(engine), db.head_revision()
    if revision != head:
        return NoDatabase(runtime.database_label, revision, head)
    from forecasts.scheduler.status import scheduler_status

    with runtime.session() as session:
        view = _dashboard(session, runtime.database_label)
    return dataclasses.replace(view, scheduler=scheduler_status(runtime))


def _dashboard(session: Session, database: str) -> Dashboard:
    import sqlalchemy as sa
    from sqlmodel import col

    from forecasts.domain.people import PAPER
    from forecasts.domain.questions import STATUSES, awaiting, list_questions
    from forecasts.news.store import count_articles, last_pull
    from forecasts.store.models import Forecast, Person

    rows = list_questions(session)
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in STATUSES}
    due = awaiting(rows)
    people = session.execute(sa.select(col(Person.handle), col(Person.roles))).all()
    forecasts = session.execute(
        sa.select(sa.func.count()).select_from(Forecast).where(col(Forecast.person) != PAPER)
    ).scalar_one()
    pulled = last_pull(session)
    return Dashboard(
        database=database,
        today=clock.today(),
        questions=len(rows),
        by_status={s: n for s, n in counts.items() if n},
        due=due[:DASHBOARD_DUE],
        due_total=len(due),
        forecasters=sum(1 for h, roles in people if h != PAPER and "forecaster" in roles),
        forecasts=int(forecasts),
        news_last_attempt=pulled.attempt,
        news_last_success=pulled.success,
        articles=count_articles(session),
    )

"""The report from a real database: loading, as-of, corrections, options, the CLI."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from freezegun import freeze_time

from forecasts.errors import BadInput, PersonNotFound
from forecasts.report.build import ForecasterEntry, Report, ReportOptions, build_report
from forecasts.report.html import check_writable
from forecasts.report.load import _parse_times, load_history
from forecasts.report.run import run_report
from forecasts.report.text import paper_summary
from forecasts.store.models import Forecast, Person, Question, Resolution

UTC = dt.UTC


def at(day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2025, 1, day, hour, tzinfo=UTC)


def add_people(session: Any, *handles: str) -> None:
    for h in handles:
        session.add(Person(handle=h, roles=["forecaster"]))
    session.flush()


def add_question(session: Any, qid: str, qtype: str = "binary", **kw: Any) -> None:
    defaults: dict[str, Any] = {
        "title": qid,
        "criteria": "as stated",
        "opens": dt.date(2025, 1, 1),
        "closes": dt.date(2025, 1, 10),
        "resolve_by": dt.date(2025, 2, 1),
        "tags": ["tech"],
    }
    defaults.update(kw)
    session.add(Question(id=qid, type=qtype, **defaults))
    session.flush()


def forecast(session: Any, qid: str, who: str, when: dt.datetime, value: Any) -> None:
    session.add(Forecast(question_id=qid, person=who, value=value, made_at=when))
    session.flush()


def resolve(session: Any, qid: str, outcome: str, day: dt.date, **kw: Any) -> None:
    session.add(Resolution(question_id=qid, outcome=outcome, resolved_on=day, by="paper", **kw))
    session.flush()


def no_nan(text: str) -> Any:
    def bad(name: str) -> Any:
        raise AssertionError(f"{name} in JSON")

    return json.loads(text, parse_constant=bad)


def build(session: Any, **options: Any) -> Report:
    return build_report(session, ReportOptions.parse(**options))


def entry(rep: Report, who: str) -> ForecasterEntry:
    return next(e for e in rep.forecasters if e.forecaster == who)


@pytest.fixture
def history(session: Any) -> Any:
    """Alice and Bob on a few questions, the paper on one; an annulled question, a corrected
    resolution, one resolved after 2025-01-20 and one not resolved."""
    add_people(session, "alice", "bob")
    add_question(session, "q-yes")
    add_question(session, "q-choice", "choice", options=["A", "B", "C"])
    add_question(session, "q-num", "numeric", range_min=0.0, range_max=10.0, tags=["econ"])
    add_question(session, "q-annul")
    add_question(session, "q-fixed")
    add_question(session, "q-late")
    add_question(session, "q-open")
    # q-yes: the time-average example for alice (0.6 days 1-2, 0.8 days 3-5)
    forecast(session, "q-yes", "paper", at(1), 0.9)
    forecast(session, "q-yes", "alice", at(1), 0.6)
    forecast(session, "q-yes", "alice", at(3), 0.8)
    forecast(session, "q-yes", "bob", at(1), 0.4)
    resolve(session, "q-yes", "yes", dt.date(2025, 1, 6))
    forecast(session, "q-choice", "alice", at(2), {"A": 0.6, "B": 0.1, "C": 0.3})
    forecast(session, "q-choice", "bob", at(2), {"A": 0.2, "B": 0.4, "C": 0.4})
    resolve(session, "q-choice", "A", dt.date(2025, 1, 12))
    forecast(session, "q-num", "alice", at(2), {"p10": 1, "p25": 2, "p50": 3, "p75": 4, "p90": 5})
    resolve(session, "q-num", "3.5", dt.date(2025, 1, 12))
    forecast(session, "q-annul", "alice", at(2), 0.01)
    resolve(session, "q-annul", "annulled", dt.date(2025, 1, 12))
    forecast(session, "q-fixed", "alice", at(2), 0.8)
    resolve(session, "q-fixed", "no", dt.date(2025, 1, 12))
    resolve(session, "q-fixed", "yes", dt.date(2025, 1, 12), correction_reason="misread the source")
    forecast(session, "q-late", "bob", at(2), 0.9)
    resolve(session, "q-late", "no", dt.date(2025, 1, 25))
    forecast(session, "q-open", "bob", at(2), 0.5)
    session.commit()
    return session


# --------------------------------------------------------------------------------------
# The numbers


def test_scores_from_the_database(history: Any) -> None:
    rep = build(history, as_of="2025-01-20")
    no_nan(rep.to_json())
    rq = rep.resolved_questions
    assert (rq.scored, rq.binary, rq.choice, rq.numeric) == (4, 2, 1, 1)
    assert rq.annulled == 1 and rq.unresolved == 2
    a = entry(rep, "alice")
    assert a.questions == 4
    # binary: q-yes final 0.8 -> 0.08; q-fixed (corrected to yes) 0.8 -> 0.08; choice 0.26
    assert a.brier == pytest.approx((0.08 + 0.08 + 0.26) / 3)
    # q-yes window is days 1-5 (resolved on the 6th): the 0.176
    # q-fixed: 0.8 from day 2 to the 11th (closes 10th, 24:00): 0.08; choice: 0.26
    assert a.brier_time_avg == pytest.approx((0.176 + 0.08 + 0.26) / 3)
    # coverage: q-yes full, q-fixed 9 of 10 days, q-choice 9 of 10 days
    assert a.coverage == pytest.approx((1.0 + 0.9 + 0.9) / 3)
    assert a.numeric.pinball == pytest.approx((0.25 + 0.375 + 0.25 + 0.125 + 0.15) / 5 / 10)
    assert (a.numeric.interval_coverage.p10_p90, a.numeric.interval_coverage.p25_p75) == (1, 1)
    assert a.counts.binary == 2
    assert "2 resolved binary questions: too few to judge calibration" in a.notes
    assert "4 resolved questions: too few to judge calibration" in rep.notes


def test_relative_brier_against_the_crowd_without_me(history: Any) -> None:
    rep = build(history, as_of="2025-01-20")
    a, b = entry(rep, "alice"), entry(rep, "bob")
    # q-yes: alice 0.6 then 0.8, bob 0.4 throughout (the crowd without alice is bob; without
    # bob it is alice; the paper is never in it).
    alice_q = (2 * (0.32 - 0.72) + 3 * (0.08 - 0.72)) / 5
    bob_q = (2 * (0.72 - 0.32) + 3 * (0.72 - 0.08)) / 5
    # q-choice: alice 0.26 vs bob's 0.2,0.4,0.4 -> 0.64+0.16+0.16 = 0.96
    assert a.relative_brier == pytest.approx((alice_q + (0.26 - 0.96)) / 2)
    assert b.relative_brier == pytest.approx((bob_q + (0.96 - 0.26)) / 2)
    assert a.counts.relative == 2


def test_relative_brier_matches_the_core_crowd(session: Any) -> None:
    """Many forecasters on one question: cross-check with forecasts.crowd.crowd."""
    from forecasts.crowd import crowd

    handles = [f"f{i:02d}" for i in range(12)]
    add_people(session, *handles)
    add_question(session, "q", closes=dt.date(2025, 1, 20))
    rng = np.random.default_rng(5)
    made: list[tuple[dt.datetime, str, float]] = []
    for i in range(60):
        who = handles[int(rng.integers(0, 12))]
        when = at(1) + dt.timedelta(hours=int(rng.integers(0, 24 * 19)), minutes=i)
        p = round(float(rng.uniform(0.05, 0.95)), 2)
        forecast(session, "q", who, when, p)
        made.append((when, who, p))
    resolve(session, "q", "yes", dt.date(2025, 1, 25))
    session.commit()
    rep = build(session, as_of="2025-02-01")
    end = dt.datetime(2025, 1, 21, tzinfo=UTC)
    made.sort()
    times = sorted({t for t, _, _ in made} | {end})
    for who in handles:
        num = den = 0.0
        for t0, t1 in itertools.pairwise(times):
            latest: dict[str, tuple[dt.datetime, float]] = {}
            for t, w, p in made:
                if t <= t0:
                    latest[w] = (t, p)
            if who not in latest or len(latest) < 2:
                continue
            others = sorted((v for w, v in latest.items() if w != who), key=lambda x: x[0])
            c = crowd("binary", [p for _, p in others])
            assert isinstance(c, float)
            secs = (t1 - t0).total_seconds()
            num += (2 * (latest[who][1] - 1) ** 2 - 2 * (c - 1) ** 2) * secs
            den += secs
        got = entry(rep, who).relative_brier
        if den == 0:
            assert got is None
        else:
            assert got == pytest.approx(num / den, abs=2e-6)


def test_as_of_excludes_later_resolutions_and_forecasts(history: Any) -> None:
    early = build(history, as_of="2025-01-11")
    assert early.resolved_questions.scored == 1  # only q-yes (6th); the rest the 12th
    late = build(history, as_of="2025-01-31")
    assert late.resolved_questions.scored == 5
    assert entry(late, "bob").questions == 3  # q-yes, q-choice, q-late


def test_forecasts_after_the_as_of_day_do_not_count(session: Any) -> None:
    add_people(session, "alice")
    add_question(session, "q", closes=dt.date(2025, 1, 20))
    forecast(session, "q", "alice", at(2), 0.9)
    forecast(session, "q", "alice", at(5, 12), 0.1)  # after the end of the 4th
    resolve(session, "q", "yes", dt.date(2025, 1, 3))
    session.commit()
    rep = build(session, as_of="2025-01-04")
    assert entry(rep, "alice").brier == pytest.approx(0.02)


def test_the_newest_resolution_row_wins(history: Any) -> None:
    rep = build(history, as_of="2025-01-20", tag=None)
    # q-fixed was corrected from no to yes: alice's 0.8 scores 0.08, not 1.28
    brier = entry(rep, "alice").brier
    assert brier is not None and brier < 0.2


def test_tag_filter_ignores_case(history: Any) -> None:
    rep = build(history, as_of="2025-01-20", tag="ECON")
    assert rep.resolved_questions.scored == 1
    assert rep.resolved_questions.numeric == 1
    assert entry(rep, "alice").numeric.questions == 1
    assert rep.filters.tag == "ECON"


def test_paper_scorecard(history: Any) -> None:
    rep = build(history, as_of="2025-01-20")
    p = rep.paper
    assert p is not None
    assert (p.predictions, p.came_true) == (1, 1)
    assert p.brier == pytest.approx(0.02)
    assert paper_summary(rep) == "1 of 1 resolved paper prediction came true."
    # the paper against the crowd of alice and bob (median of two = mean)
    crowd_b = (2 * (2 * (0.5 - 1) ** 2) + 3 * (2 * (0.6 - 1) ** 2)) / 5
    assert p.relative_brier == pytest.approx(0.02 - crowd_b)


def test_forecaster_filter(history: Any) -> None:
    rep = build(history, as_of="2025-01-20", forecaster="bob")
    assert [e.forecaster for e in rep.forecasters] == ["bob"]


def test_empty_database_is_an_honest_report(session: Any) -> None:
    rep = build(session)
    no_nan(rep.to_json())
    assert rep.forecasters == []
    assert rep.notes == ["no resolved questions yet: nothing to score"]
    assert rep.paper is not None and rep.paper.questions == 0
    assert paper_summary(rep) == "The paper has no resolved predictions yet."


def test_two_questions_say_too_few(session: Any) -> None:
    add_people(session, "alice")
    for q in ("a", "b"):
        add_question(session, q)
        forecast(session, q, "alice", at(2), 0.7)
        resolve(session, q, "yes", dt.date(2025, 1, 5))
    session.commit()
    rep = build(session)
    assert "2 resolved questions: too few to judge calibration" in rep.notes
    a = entry(rep, "alice")
    assert a.relative_brier is None  # nobody else: no crowd
    assert any("relative Brier undefined" in n for n in a.notes)
    no_nan(rep.to_json())


@freeze_time("2025-01-06 12:00:00.250000")
def test_default_as_of_is_now(session: Any) -> None:
    add_people(session, "alice")
    add_question(session, "q")
    forecast(session, "q", "alice", at(2), 0.7)
    resolve(session, "q", "yes", dt.date(2025, 1, 6))  # today counts
    session.commit()
    rep = build(session)
    data = rep.to_dict()
    assert data["as_of"] == "2025-01-06T12:00:00Z"  # clock.iso, to the second
    assert data["as_of_is_end_of_day"] is False
    assert rep.resolved_questions.scored == 1


def test_json_keeps_its_keys_and_their_order(history: Any) -> None:
    """``to_dict`` keeps the keys, and their order, that `report --json` has always had
    (the paper's record split into retrospective and live is added at the end)."""
    data = build(history, as_of="2025-01-20").to_dict()
    assert list(data) == [
        "as_of", "as_of_is_end_of_day", "bins", "filters", "resolved_questions",
        "forecasters", "paper", "crowd", "team", "notes",
    ]  # fmt: skip
    common = [
        "forecaster", "questions", "counts", "brier", "brier_time_avg", "coverage",
        "relative_brier", "log_score", "baseline_score", "calibration", "murphy", "numeric",
        "notes",
    ]  # fmt: skip
    assert list(data["forecasters"][0]) == [*common, "rank"]
    assert list(data["paper"]) == [
        *common, "predictions", "came_true", "undecided", "retrospective", "live",
    ]  # fmt: skip
    assert list(data["crowd"]) == [*common, "predictions", "came_true"]
    assert list(data["team"]) == ["forecasters", "mean", "calibration", "forecasts"]
    assert list(data["forecasters"][0]["calibration"][0]) == [
        "low", "high", "n", "mean_forecast", "observed", "ci_low", "ci_high",
    ]  # fmt: skip
    assert data["forecasters"][0]["numeric"]["interval_coverage"] == {
        "p10_p90": 1.0,
        "p25_p75": 1.0,
    }


def test_json_is_finite_for_random_histories(session: Any) -> None:
    rng = np.random.default_rng(11)
    add_people(session, "a", "b", "c")
    for i in range(8):
        add_question(session, f"q{i}", closes=dt.date(2025, 1, 3 + i))
        for _ in range(int(rng.integers(0, 4))):
            who = ["a", "b", "c", "paper"][int(rng.integers(0, 4))]
            forecast(
                session, f"q{i}", who, at(int(rng.integers(1, 12))), float(rng.uniform(0.01, 0.99))
            )
        if rng.random() < 0.8:
            resolve(
                session,
                f"q{i}",
                ["yes", "no", "annulled"][int(rng.integers(0, 3))],
                dt.date(2025, 1, 2 + i),
            )
    session.commit()
    data = no_nan(build(session, as_of="2025-02-01").to_json())
    for e in data["forecasters"]:
        for key in ("brier", "brier_time_avg", "coverage", "log_score"):
            assert e[key] is None or math.isfinite(e[key])


# --------------------------------------------------------------------------------------
# The paper's record: retrospective and live questions


@pytest.fixture
def retrospective(history: Any) -> Any:
    """The history plus three questions tagged retrospective that the paper forecast; bob
    also forecast one of them (imported data can do that)."""
    add_question(history, "r-yes", tags=["retrospective", "engines"])
    add_question(history, "r-half", tags=["Retrospective"])
    add_question(history, "r-choice", "choice", options=["up", "down"], tags=["retrospective"])
    forecast(history, "r-yes", "paper", at(1), 0.8)
    resolve(history, "r-yes", "yes", dt.date(2025, 1, 8))
    forecast(history, "r-half", "paper", at(1), 0.5)
    forecast(history, "r-half", "bob", at(2), 0.3)
    resolve(history, "r-half", "no", dt.date(2025, 1, 9))
    forecast(history, "r-choice", "paper", at(1), {"up": 0.3, "down": 0.7})
    resolve(history, "r-choice", "up", dt.date(2025, 1, 9))
    history.commit()
    return history


def test_paper_record_is_split_into_retrospective_and_live(retrospective: Any) -> None:
    p = build(retrospective, as_of="2025-01-20").paper
    assert p is not None
    r, live = p.retrospective, p.live
    # r-yes 0.8 on yes: 0.08, came true; r-half 0.5 on no: 0.5, undecided;
    # r-choice 0.3 on up: 0.7**2 + 0.7**2 = 0.98, did not come true
    assert (r.questions, r.predictions, r.came_true, r.undecided) == (3, 2, 1, 1)
    assert r.brier == pytest.approx((0.08 + 0.5 + 0.98) / 3)
    assert r.log_score == pytest.approx((math.log(0.8) + math.log(0.5) + math.log(0.3)) / 3)
    # live: q-yes only (0.9 on yes)
    assert (live.questions, live.predictions, live.came_true, live.undecided) == (1, 1, 1, 0)
    assert live.brier == pytest.approx(0.02)
    # the total is what it always was, over both
    assert (p.questions, p.predictions, p.came_true, p.undecided) == (4, 3, 2, 1)
    assert p.brier == pytest.approx((0.08 + 0.5 + 0.98 + 0.02) / 4)


def test_retrospective_part_matches_the_tag_filter(retrospective: Any) -> None:
    """The split scores the paper on its own forecasts; filtering by the tag scores
    everyone (crowd included). The paper's numbers must agree."""
    split = build(retrospective, as_of="2025-01-20").paper
    alone = build(retrospective, as_of="2025-01-20", tag="retrospective").paper
    assert split is not None and alone is not None
    for key in ("questions", "predictions", "came_true", "undecided"):
        assert getattr(split.retrospective, key) == getattr(alone, key), key
    for key in ("brier", "log_score", "baseline_score"):
        assert getattr(split.retrospective, key) == pytest.approx(getattr(alone, key)), key
    assert alone.live.questions == 0 and alone.live.brier is None


def test_without_retrospective_questions_everything_is_live(history: Any) -> None:
    p = build(history, as_of="2025-01-20").paper
    assert p is not None
    assert p.retrospective.questions == 0 and p.retrospective.brier is None
    live = p.live
    assert (live.questions, live.predictions, live.came_true, live.undecided) == (
        p.questions,
        p.predictions,
        p.came_true,
        p.undecided,
    )
    assert (live.brier, live.log_score, live.baseline_score) == (
        p.brier,
        p.log_score,
        p.baseline_score,
    )


def test_json_keeps_the_total_and_adds_the_split(retrospective: Any) -> None:
    data = no_nan(build(retrospective, as_of="2025-01-20").to_json())["paper"]
    assert (data["predictions"], data["came_true"], data["undecided"]) == (3, 2, 1)
    part_keys = [
        "questions", "predictions", "came_true", "undecided", "brier", "log_score",
        "baseline_score",
    ]  # fmt: skip
    assert list(data["retrospective"]) == part_keys and list(data["live"]) == part_keys
    assert (data["retrospective"]["came_true"], data["live"]["came_true"]) == (1, 1)


def test_cli_shows_which_questions_are_retrospective(
    retrospective: Any, cli: Callable[..., Any], tmp_path: Path
) -> None:
    html = tmp_path / "r.html"
    r = cli("report", "--as-of", "2025-01-20", "--html", str(html))
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "The paper's record: retrospective and live questions" in out
    parts = ("Retrospective", "Live", "Total")
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith(parts)}
    assert "1 of 2" in lines["Retrospective"] and "0.520" in lines["Retrospective"]
    assert "1 of 1" in lines["Live"] and "0.020" in lines["Live"]
    assert "2 of 3" in lines["Total"] and "0.395" in lines["Total"]
    assert "tagged retrospective" in out
    page = html.read_text(encoding="utf-8")
    for part, came_true, brier in (
        ("Retrospective", "1 of 2", "0.520"),
        ("Live", "1 of 1", "0.020"),
        ("Total", "2 of 3", "0.395"),
    ):
        row = page[page.index(f"<td>{part}</td>") :]
        row = row[: row.index("</tr>")]
        assert f'<td class="num">{came_true}</td>' in row and f">{brier}<" in row, row
    assert "tagged retrospective" in page


def test_shipped_questions_split_the_paper_s_record(empty_db_url: str) -> None:
    """`init` on the shipped questions.yaml, then `report`: the retrospective questions
    (with their resolutions from the file) are the retrospective part, the same numbers
    as `report --tag retrospective`, and the terminal says which is which."""
    from conftest import REPO, make_cli
    from forecasts.store.db import load_models

    load_models()  # table models are built before the clock is frozen (pydantic needs it)
    cli = make_cli(empty_db_url)
    with freeze_time("2026-12-01 12:00:00"):
        assert cli("init", "--questions", str(REPO / "questions.yaml")).exit_code == 0
        whole = no_nan(cli("report", "--json").stdout)["paper"]
        tagged = no_nan(cli("report", "--json", "--tag", "retrospective").stdout)["paper"]
        table = cli("report").stdout
    retro = whole["retrospective"]
    assert retro["questions"] >= 10
    for key in retro:
        assert retro[key] == tagged[key], key
    assert whole["live"]["questions"] == whole["questions"] - retro["questions"]
    row = next(line for line in table.splitlines() if line.startswith("Retrospective"))
    assert f"{retro['came_true']} of {retro['predictions']}" in row


# --------------------------------------------------------------------------------------
# Loading


def test_loader_reads_what_the_orm_reads(history: Any) -> None:
    """The bulk loader bypasses the ORM's column types; it must agree with them."""
    from sqlmodel import select

    hist = load_history(history, as_of=dt.date(2025, 1, 31))
    rows = history.exec(select(Forecast).order_by(Forecast.id)).all()
    wanted = [
        (hist.question_ids.index(f.question_id), hist.handles.index(f.person), f.made_at)
        for f in rows
        if f.question_id in hist.question_ids
    ]
    got = list(
        zip(
            hist.forecasts.question.tolist(),
            hist.forecasts.person.tolist(),
            hist.forecasts.made_at.tolist(),
            strict=True,
        )
    )
    assert [(q, p) for q, p, _ in got] == [(q, p) for q, p, _ in wanted]
    assert [t for _, _, t in got] == [w.timestamp() for _, _, w in wanted]
    by_id = dict(zip(hist.question_ids, range(len(hist.question_ids)), strict=True))
    q_yes = hist.forecasts.question == by_id["q-yes"]
    assert sorted(hist.forecasts.p_yes[q_yes].tolist()) == [0.4, 0.6, 0.8, 0.9]
    choice = hist.forecasts.choice[hist.forecasts.choice_row[hist.forecasts.choice_row >= 0]]
    assert choice.tolist() == [[0.6, 0.1, 0.3], [0.2, 0.4, 0.4]]
    assert hist.forecasts.quantiles.tolist() == [[1, 2, 3, 4, 5]]
    assert hist.questions.outcome[by_id["q-choice"]] == 0.0  # option A
    assert hist.questions.outcome[by_id["q-num"]] == 3.5


def test_stored_outcomes_as_numbers() -> None:
    """The loader reads outcomes through forecasts.domain.values.outcome_number."""
    from forecasts.domain.values import outcome_number

    assert outcome_number("binary", [], "yes") == 1.0
    assert outcome_number("binary", [], "no") == 0.0
    assert outcome_number("choice", ["A", "B", "C"], "C") == 2.0
    assert outcome_number("numeric", [], "3.5") == 3.5
    # annulled, and outcomes that no longer fit a question changed since
    assert outcome_number("binary", [], "annulled") is None
    assert outcome_number("choice", ["A", "B"], "annulled") is None
    assert outcome_number("choice", ["A", "B"], "C") is None
    assert outcome_number("binary", [], "3.5") is None
    assert outcome_number("numeric", [], "yes") is None
    assert outcome_number("numeric", [], "nan") is None


def test_sqlite_times_parse_like_datetimes() -> None:
    values = [
        "2025-01-02 03:04:05.123456",
        "1999-12-31 23:59:59.999999",
        "2024-02-29 00:00:00.000000",
        "1900-03-01 12:00:00.000001",
    ]
    fast = _parse_times(values)
    slow = [dt.datetime.fromisoformat(v).replace(tzinfo=UTC).timestamp() for v in values]
    assert fast == pytest.approx(slow, abs=1e-6)
    # a different layout falls back to the slow path; what cannot be read is NaN
    assert _parse_times(["2025-01-02T03:04:05"])[0] == pytest.approx(
        dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()
    )
    assert math.isnan(_parse_times(["2025-01-02 03:04:05.12345x"])[0])


# --------------------------------------------------------------------------------------
# Options: checked once, in the core, with the field they are about


@pytest.mark.parametrize("bins", [0, -3, 101, True, 2.5])
def test_bins_must_be_a_whole_number_from_1_to_100(bins: Any) -> None:
    with pytest.raises(BadInput) as e:
        ReportOptions(bins=bins)
    assert e.value.field == "bins"
    assert e.value.message == f"bins must be a whole number from 1 to 100, not {bins!r}"


@pytest.mark.parametrize("bins", [1, 100])
def test_bins_limits_are_allowed(bins: int) -> None:
    assert ReportOptions(bins=bins).bins == bins


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("20-01-2025", "'20-01-2025' is not an ISO date; use YYYY-MM-DD"),
        ("yesterday", "'yesterday' is not an ISO date; use YYYY-MM-DD"),
        ("", "'' is not an ISO date; use YYYY-MM-DD"),
        ("2025-02-30", "'2025-02-30' is not a real date (day is out of range for month)"),
    ],
)
def test_as_of_must_be_an_iso_date(text: str, message: str) -> None:
    with pytest.raises(BadInput) as e:
        ReportOptions.parse(as_of=text)
    assert (e.value.field, e.value.message) == ("as_of", message)


def test_as_of_accepts_a_date_or_iso_text() -> None:
    assert ReportOptions.parse(as_of=" 2025-01-20 ").as_of == dt.date(2025, 1, 20)
    assert ReportOptions.parse(as_of=dt.date(2025, 1, 20)).as_of == dt.date(2025, 1, 20)
    assert ReportOptions.parse().as_of is None


def test_tag_must_not_be_blank() -> None:
    with pytest.raises(BadInput) as e:
        ReportOptions(tag="  ")
    assert e.value.field == "tag"
    assert ReportOptions(tag=" econ ").tag == "econ"


def test_unknown_forecaster(history: Any) -> None:
    with pytest.raises(PersonNotFound) as e:
        build(history, forecaster="nobody")
    assert e.value.field == "forecaster"


@pytest.mark.parametrize(
    ("name", "field", "message"),
    [
        ("missing-dir/r.html", "html", "cannot write the HTML report to missing-dir/r.html: "
         "directory missing-dir does not exist"),
        (".", "png", "cannot write the reliability diagram to .: it is a directory; give a file name"),
    ],
)  # fmt: skip
def test_output_paths_are_checked(name: str, field: str, message: str) -> None:
    with pytest.raises(BadInput) as e:
        check_writable(name, field)
    assert (e.value.field, e.value.message) == (field, message)


def test_errors_do_not_name_command_line_flags(history: Any) -> None:
    """Core messages are read in logs and emails too: no `--as-of`, only domain words."""
    attempts: list[Callable[[], Any]] = [
        lambda: ReportOptions(bins=0),
        lambda: ReportOptions.parse(as_of="x"),
        lambda: ReportOptions(tag=""),
        lambda: build(history, forecaster="nobody"),
        lambda: check_writable("/nonexistent-dir/r.html", "html"),
        lambda: check_writable(".", "png"),
    ]
    for attempt in attempts:
        with pytest.raises(BadInput) as e:
            attempt()
        assert "--" not in str(e.value), str(e.value)
        assert e.value.field is not None


def test_run_checks_everything_before_any_work(tmp_path: Path) -> None:
    """A bad option or output path fails before a session is opened or a file written."""

    def sessions() -> Any:
        raise AssertionError("a session was opened")

    html = tmp_path / "r.html"
    with pytest.raises(BadInput) as e:
        run_report(sessions, html=html, png=tmp_path / "missing" / "r.png")
    assert e.value.field == "png"
    with pytest.raises(BadInput) as e:
        run_report(sessions, html=tmp_path / "missing" / "r.html")
    assert e.value.field == "html"
    with pytest.raises(BadInput):
        run_report(sessions, html=html, bins=0)
    assert not html.exists()


# --------------------------------------------------------------------------------------
# The real CLI


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    return w, h


def test_cli_tables(history: Any, cli: Callable[..., Any]) -> None:
    r = cli("report", "--as-of", "2025-01-20")
    assert r.exit_code == 0, r.output
    assert "Scores as of end of 2025-01-20 (UTC)" in r.stdout
    assert "Leaderboard" in r.stdout and "alice" in r.stdout
    assert "1 of 1 resolved paper prediction came true." in r.stdout
    calibration = r.stdout.split("Calibration (binary questions)")[1]
    assert any(line.startswith("alice ") for line in calibration.splitlines())
    assert "Calibration: alice" not in r.stdout  # the full table only when asked for
    assert "forecasts report --calibration" in r.stdout
    assert r.stderr == ""
    for args in (("--calibration",), ("--forecaster", "alice")):
        r = cli("report", "--as-of", "2025-01-20", *args)
        assert r.exit_code == 0, r.output
        assert "Calibration: alice" in r.stdout
        assert "Mean forecast" in r.stdout


def test_cli_json(history: Any, cli: Callable[..., Any]) -> None:
    r = cli("report", "--as-of", "2025-01-20", "--json", "--bins", "5", "--tag", "tech")
    assert r.exit_code == 0, r.output
    data = no_nan(r.stdout)
    assert data["bins"] == 5 and len(data["forecasters"][0]["calibration"]) == 5
    assert data["filters"] == {"forecaster": None, "tag": "tech"}
    assert data["resolved_questions"]["scored"] == 3  # q-yes, q-choice, q-fixed


def test_cli_writes_html_and_png(history: Any, cli: Callable[..., Any], tmp_path: Path) -> None:
    html, png = tmp_path / "r.html", tmp_path / "r.png"
    r = cli("report", "--as-of", "2025-01-20", "--html", str(html), "--png", str(png))
    assert r.exit_code == 0, r.output
    assert r.stdout.endswith(f"wrote {html}\nwrote {png}\n")
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    # alice's row carries her Brier, (0.08 + 0.08 + 0.26) / 3
    row = page[page.index("<td>alice</td>") :]
    assert '<td class="num">0.140</td>' in row[: row.index("</tr>")]
    assert png_size(png) == (800, 600)
    assert png.stat().st_size < 200_000
    # with --json, stdout is only the JSON: the file names go to stderr
    r = cli("report", "--json", "--png", str(png))
    assert r.exit_code == 0, r.output
    no_nan(r.stdout)
    assert r.stderr == f"wrote {png}\n"


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (["--forecaster", "nobody"], "--forecaster: no person with handle 'nobody'; "
         "add them with `forecasts people add nobody`"),
        (["--as-of", "yesterday"], "--as-of: 'yesterday' is not an ISO date; use YYYY-MM-DD"),
        (["--bins", "0"], "--bins: bins must be a whole number from 1 to 100, not 0"),
        (["--tag", " "], "--tag: a tag cannot be blank"),
        (["--html", "/nonexistent-dir/r.html"], "--html: cannot write the HTML report to "
         "/nonexistent-dir/r.html: directory /nonexistent-dir does not exist"),
        (["--png", "."], "--png: cannot write the reliability diagram to .: it is a directory; "
         "give a file name"),
    ],
)  # fmt: skip
def test_cli_bad_input_is_one_line_naming_the_option(
    history: Any, cli: Callable[..., Any], args: list[str], stderr: str
) -> None:
    r = cli("report", *args)
    assert (r.exit_code, r.stdout, r.stderr) == (2, "", f"Error: {stderr}\n")


def test_cli_writes_nothing_when_one_output_is_bad(
    history: Any, cli: Callable[..., Any], tmp_path: Path
) -> None:
    html = tmp_path / "r.html"
    r = cli("report", "--html", str(html), "--png", str(tmp_path / "no" / "r.png"))
    assert r.exit_code == 2
    assert not html.exists()


def test_cli_empty_database(cli: Callable[..., Any]) -> None:
    r = cli("report")
    assert r.exit_code == 0, r.output
    assert "no resolved questions yet" in r.stdout
    r = cli("report", "--json")
    assert r.exit_code == 0
    assert no_nan(r.stdout)["forecasters"] == []


def test_report_command_imports_nothing_heavy() -> None:
    import subprocess
    import sys

    heavy = ("numpy", "matplotlib", "jinja2", "sqlmodel", "sqlalchemy")
    code = (
        "import sys; import forecasts.cli.report; import forecasts.report; "
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

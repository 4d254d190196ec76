"""When reviewers are prompted, under a frozen clock: the first prompt when a question
closes, none the next day, a re-prompt after 7 days, every reviewer once it is overdue,
a possible resolution flagged by news before it closes, and at most one prompt a day."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import mailbox

import pytest
from freezegun import freeze_time

from forecasts.store import db

UTC = dt.UTC


@pytest.fixture
def reviewers(cli):
    for handle in ("ann", "bob", "cy"):
        r = cli("people", "add", handle, "--reviewer", "--email", f"{handle}@example.org")
        assert r.exit_code == 0, r.output
    assert cli("people", "add", "fay", "--email", "fay@example.org").exit_code == 0  # no reviewer
    return cli


@pytest.fixture
def world(reviewers):
    r = reviewers(
        "add", "--id", "cq", "--title", "Will the contract be signed?",
        "--criteria", "Yes if a contract is signed.",
        "--opens", "2027-03-01", "--closes", "2027-03-31", "--resolve-by", "2027-04-30",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    return reviewers


def prompts(cli, when: str, *args: str) -> dict[str, list[tuple[str, str]]]:
    """Run `forecasts prompts --json` at ``when``: handle -> [(question, reason)]."""
    with freeze_time(when):
        r = cli("prompts", "--json", *args)
    assert r.exit_code == 0, r.output
    run = json.loads(r.stdout)
    return {
        p["handle"]: [(q["id"], q["reason"]) for q in p["questions"]]
        for p in run["prompts"]
        if p["queued"] or run["dry_run"]
    }


def first_reviewer(cli) -> str:
    with freeze_time("2027-04-01 06:00"):
        run = json.loads(cli("prompts", "--dry-run", "--json").stdout)
    (only,) = run["prompts"]
    return only["handle"]


def test_the_cadence_of_a_closed_question(world):
    assert prompts(world, "2027-03-31 23:59") == {}  # still open on its closing day
    who = first_reviewer(world)
    assert prompts(world, "2027-04-01 06:00") == {who: [("cq", "closed")]}
    assert prompts(world, "2027-04-01 18:00") == {}  # one prompt a day
    assert prompts(world, "2027-04-02 06:00") == {}
    assert prompts(world, "2027-04-07 06:00") == {}
    assert prompts(world, "2027-04-08 06:00") == {who: [("cq", "closed")]}  # 7 days on
    assert prompts(world, "2027-04-09 06:00") == {}
    for day in ("2027-04-15", "2027-04-22", "2027-04-29"):
        assert prompts(world, f"{day} 06:00") == {who: [("cq", "closed")]}
    assert prompts(world, "2027-04-30 23:00") == {}  # resolve_by: still closed, not overdue
    # Past resolve_by, every reviewer (and only reviewers) is asked.
    everyone = {h: [("cq", "overdue")] for h in ("ann", "bob", "cy")}
    assert prompts(world, "2027-05-01 06:00") == everyone
    assert prompts(world, "2027-05-02 06:00") == {}
    assert prompts(world, "2027-05-08 06:00") == everyone
    # Resolved: nobody is asked again.
    with freeze_time("2027-05-09 06:00"):
        assert world("resolve", "cq", "yes", "--by", who).exit_code == 0
    assert prompts(world, "2027-05-20 06:00") == {}


def test_the_assigned_reviewer_is_prompted(cli):
    for handle in ("ann", "bob"):
        assert (
            cli("people", "add", handle, "--reviewer", "--email", f"{handle}@example.org").exit_code
            == 0
        )
    qfile = "q.yaml"
    with open(qfile, "w", encoding="utf-8") as f:
        f.write(
            "questions:\n  - {id: aq, title: 'Assigned?', criteria: 'Yes if so.', opens: 2027-03-01,"
            " closes: 2027-03-31, resolve_by: 2027-04-30, reviewers: [bob, nobody]}\n"
        )
    assert cli("sync", qfile).exit_code == 0
    with freeze_time("2027-04-01 06:00"):
        r = cli("prompts")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("Prompted bob <bob@example.org>: 1 question\n  aq  closed\n")
    assert r.stderr == "warning: aq: assigned reviewer nobody is not a reviewer\n"


def test_a_dry_run_shows_who_would_get_what_and_sends_nothing(world, tmp_path):
    who = first_reviewer(world)
    with freeze_time("2027-04-01 06:00"):
        r = world("prompts", "--dry-run")
    assert r.exit_code == 0, r.output
    assert r.stdout == f"Would prompt {who} <{who}@example.org>: 1 question\n  cq  closed\n"
    assert json.loads(world("outbox", "--json").stdout) == []
    assert not (tmp_path / "outbox").exists()
    # Nothing was logged either: the real run still prompts.
    assert prompts(world, "2027-04-01 07:00") == {who: [("cq", "closed")]}


def test_as_of_prompts_as_on_that_day(world):
    who = first_reviewer(world)
    with freeze_time("2027-06-01 06:00"):
        r = world("prompts", "--as-of", "2027-04-01", "--json")
    run = json.loads(r.stdout)
    assert run["day"] == "2027-04-01"
    assert [(p["key"], p["questions"][0]["reason"]) for p in run["prompts"]] == [
        (f"prompt:2027-04-01:{who}", "closed")
    ]


def add_news(
    db_url: str, qid: str, *, flagged: bool, title: str, url: str, when: dt.datetime
) -> int:
    from forecasts.news.models import Article, ArticleMatch

    with db.session_scope(db.get_engine(db_url), write=True) as s:
        a = Article(url=url, title=title, source="wire", published=when, fetched_at=when)
        s.add(a)
        s.flush()
        assert a.id is not None
        match = ArticleMatch(
            article_id=a.id, question_id=qid, score=2.5, terms=["contract"],
            resolution_terms=["signed"] if flagged else [], possible_resolution=flagged,
            matched_at=when,
        )  # fmt: skip
        s.add(match)
        return a.id


def test_news_flagging_a_possible_resolution_prompts_before_close(reviewers, db_url, tmp_path):
    world = reviewers
    r = world(
        "add", "--id", "oq", "--title", "Will the deal close?", "--criteria", "Yes if it closes.",
        "--opens", "2027-03-01", "--closes", "2027-06-30", "--resolve-by", "2027-07-31",
    )  # fmt: skip
    assert r.exit_code == 0
    when = dt.datetime(2027, 4, 9, 12, tzinfo=UTC)
    add_news(
        db_url, "oq", flagged=False, title="Talks go on", url="https://n.example.org/1", when=when
    )
    assert prompts(world, "2027-04-09 18:00") == {}  # open, nothing flagged
    article = add_news(
        db_url, "oq", flagged=True, title="Deal <signed> at last", url="https://n.example.org/2",
        when=when + dt.timedelta(hours=1),
    )  # fmt: skip
    got = prompts(world, "2027-04-10 06:00")
    ((who, items),) = got.items()
    assert items == [("oq", "possible_resolution")]
    (msg,) = [
        email.message_from_bytes(m.as_bytes(), policy=email.policy.default)
        for m in mailbox.Maildir(tmp_path / "outbox", create=False)
    ]
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Why: possible resolution flagged by news (it closes on 2027-06-30)" in text
    assert "Flagged by news as a possible resolution:" in text
    assert "2027-04-09  Deal <signed> at last (wire) [possible resolution]" in text
    assert "https://n.example.org/2" in text
    assert "Talks go on" not in text  # only the flagged articles before close
    assert '<a href="https://n.example.org/2">Deal &lt;signed&gt; at last</a>' in html
    assert f"forecasts resolve oq yes --by {who} --evidence URL" in text
    # The reviewer marks it irrelevant: no more prompts about it.
    with freeze_time("2027-04-11 06:00"):
        assert world("news", "mark", str(article), "--irrelevant").exit_code == 0
    assert prompts(world, "2027-04-20 06:00") == {}


def test_news_since_close_is_in_the_prompt(world, db_url, tmp_path):
    who = first_reviewer(world)
    before = dt.datetime(2027, 3, 20, tzinfo=UTC)
    after = dt.datetime(2027, 3, 31, 8, tzinfo=UTC)
    add_news(
        db_url, "cq", flagged=False, title="Old talk", url="https://n.example.org/old", when=before
    )
    add_news(
        db_url,
        "cq",
        flagged=False,
        title="Contract signed",
        url="https://n.example.org/new",
        when=after,
    )
    assert prompts(world, "2027-04-01 06:00") == {who: [("cq", "closed")]}
    (msg,) = list(mailbox.Maildir(tmp_path / "outbox", create=False))
    text = (
        email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
        .get_body(("plain",))
        .get_content()
    )
    assert "News since it closed:\n   - 2027-03-31  Contract signed (wire)\n" in text
    assert "Old talk" not in text


def test_a_reviewer_gets_at_most_one_prompt_a_day(world):
    who = first_reviewer(world)
    r = world(
        "add", "--id", "later", "--title", "Later?", "--criteria", "Yes.",
        "--opens", "2027-03-01", "--closes", "2027-03-31", "--resolve-by", "2027-04-30",
    )  # fmt: skip
    assert r.exit_code == 0
    first = prompts(world, "2027-04-01 06:00")
    # Everything due that day went out in one prompt per reviewer.
    assert sum(len(v) for v in first.values()) == 2
    with freeze_time("2027-04-01 09:00"):
        r = world("prompts")
    assert r.exit_code == 0
    assert "(already queued today)" in r.stdout and "Outbox: 0 sent" in r.stdout
    rows = json.loads(world("outbox", "--json").stdout)
    assert sorted(r["key"] for r in rows) == sorted(f"prompt:2027-04-01:{h}" for h in first)
    assert who in first

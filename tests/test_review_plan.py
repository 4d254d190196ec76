"""Who is prompted about what, and when: the pure rules (no database, no clock)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from forecasts.review.plan import (
    Item,
    LastPrompt,
    OpenProposal,
    QuestionState,
    Reviewer,
    is_due,
    plan,
    ranked,
    reason_for,
    targets,
)

D = dt.date(2027, 4, 2)
RB = dt.date(2027, 4, 30)
ALL = ["ann", "bob", "cy", "dee"]


def q(qid="q1", status="closed", **kw) -> QuestionState:
    return QuestionState(id=qid, status=status, resolve_by=kw.pop("resolve_by", RB), **kw)


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (q(status="upcoming"), None),
        (q(status="open"), None),
        (q(status="open", flagged=True), "possible_resolution"),
        (q(status="upcoming", flagged=True), None),
        (q(status="closed"), "closed"),
        (q(status="closed", flagged=True), "closed"),
        (q(status="overdue"), "overdue"),
        (q(status="resolved"), None),
        (q(status="annulled", flagged=True), None),
        (q(proposals=(OpenProposal("ann", "yes"),)), "pending"),
        (q(proposals=(OpenProposal("ann", "yes"), OpenProposal("bob", "yes"))), "pending"),
        (q(proposals=(OpenProposal("ann", "yes"), OpenProposal("bob", "no"))), "disputed"),
        (q(status="resolved", proposals=(OpenProposal("ann", "no", True),)), "pending"),
        (q(status="overdue", proposals=(OpenProposal("ann", "no"),)), "pending"),
    ],
)
def test_why_a_question_is_listed(state, reason):
    assert reason_for(state) == reason


def test_the_rotation_is_stable_and_moves_only_a_leaving_reviewers_questions():
    ids = [f"question-{i}" for i in range(400)]
    first = {i: ranked(i, ALL)[0] for i in ids}
    assert first == {i: ranked(i, list(reversed(ALL)))[0] for i in ids}  # order-free
    assert first == {i: ranked(i, ALL)[0] for i in ids}  # same on every run
    load = Counter(first.values())
    assert set(load) == set(ALL) and min(load.values()) > 400 / len(ALL) * 0.7
    without_bob = {i: ranked(i, ["ann", "cy", "dee"])[0] for i in ids}
    moved = {i for i in ids if without_bob[i] != first[i]}
    assert moved == {i for i in ids if first[i] == "bob"}


def test_assigned_reviewers_else_one_by_rotation():
    assert targets(q(reviewers=("cy", "ann")), "closed", ALL, 1) == ["cy", "ann"]
    assert targets(q(), "closed", ALL, 1) == [ranked("q1", ALL)[0]]
    assert targets(q(), "possible_resolution", ALL, 1) == [ranked("q1", ALL)[0]]
    # An assigned reviewer who cannot be mailed does not count: the rotation steps in.
    assert targets(q(reviewers=("zed",)), "closed", ALL, 1) == [ranked("q1", ALL)[0]]
    assert targets(q(), "closed", [], 1) == []


def test_overdue_and_disputed_go_to_every_reviewer():
    assert targets(q(status="overdue", reviewers=("ann",)), "overdue", ALL, 1) == ALL
    disputed = q(proposals=(OpenProposal("ann", "yes"), OpenProposal("bob", "no")))
    assert targets(disputed, "disputed", ALL, 2) == ALL


def test_pending_asks_those_who_have_not_proposed():
    pending = q(reviewers=("ann", "bob"), proposals=(OpenProposal("ann", "yes"),))
    assert targets(pending, "pending", ALL, 2) == ["bob"]
    unassigned = q(proposals=(OpenProposal("ann", "yes"),))
    others = [h for h in ALL if h != "ann"]
    assert targets(unassigned, "pending", ALL, 2) == ranked("q1", others)[:1]
    assert targets(unassigned, "pending", ALL, 3) == ranked("q1", others)[:2]
    overdue = q(status="overdue", proposals=(OpenProposal("ann", "yes"),))
    assert targets(overdue, "pending", ALL, 2) == others


@pytest.mark.parametrize(
    ("last", "reason", "today", "due"),
    [
        (None, "closed", D, True),
        (LastPrompt(D - dt.timedelta(days=1), "closed"), "closed", D, False),
        (LastPrompt(D - dt.timedelta(days=6), "closed"), "closed", D, False),
        (LastPrompt(D - dt.timedelta(days=7), "closed"), "closed", D, True),
        (LastPrompt(D - dt.timedelta(days=1), "closed"), "overdue", D, True),
        (LastPrompt(D - dt.timedelta(days=1), "pending"), "disputed", D, True),
    ],
)
def test_cadence(last, reason, today, due):
    assert is_due(last, reason, today, 7) is due


def test_one_list_per_reviewer_most_urgent_first():
    questions = [
        q("closed-late", resolve_by=dt.date(2027, 5, 30), reviewers=("ann",)),
        q("closed-soon", resolve_by=dt.date(2027, 4, 10), reviewers=("ann",)),
        q("late", status="overdue"),
        q("fight", proposals=(OpenProposal("bob", "yes"), OpenProposal("cy", "no"))),
        q("open", status="open"),
        q("done", status="resolved"),
        q("quiet", reviewers=("ann",)),
        q("mute", resolve_by=dt.date(2027, 6, 30), reviewers=("eve", "zed")),
    ]
    reviewers = [Reviewer(h, f"{h}@example.org") for h in ("ann", "bob", "cy")]
    reviewers.append(Reviewer("eve", None))
    history = {("quiet", "ann"): LastPrompt(D - dt.timedelta(days=2), "closed")}
    result = plan(questions, reviewers, history, today=D, reprompt_days=7, quorum=1)
    # No one assigned to "mute" can be mailed: the rotation picks someone.
    mute_to = ranked("mute", ["ann", "bob", "cy"])[0]
    assert result.items["ann"] == [
        Item("fight", "disputed"),
        Item("late", "overdue"),
        Item("closed-soon", "closed"),
        Item("closed-late", "closed"),
    ] + ([Item("mute", "closed")] if mute_to == "ann" else [])
    assert [i.question_id for i in result.items["bob"]][:2] == ["fight", "late"]
    assert sorted(result.unreachable) == [
        "mute: assigned reviewer eve has no email address",
        "mute: assigned reviewer zed is not a reviewer",
    ]
    assert Item("mute", "closed") in result.items[mute_to]
    assert "eve" not in result.items

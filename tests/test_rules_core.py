"""The rules of forecasting, resolving and syncing, called as the scheduler and mail jobs
call them: core functions on a Session, no CLI. Errors carry the field at fault and never
name a command-line flag."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from freezegun import freeze_time
from sqlmodel import select

from forecasts.domain.forecasting import record_forecast
from forecasts.domain.people import add_person
from forecasts.domain.questions import add_question, sync_questions
from forecasts.domain.resolution import resolve
from forecasts.domain.schemas import PersonSpec, QuestionSpec
from forecasts.errors import BadInput, Conflict, ForecastsError, NotAllowed
from forecasts.store.models import Forecast, Question, QuestionRevision, Resolution

UTC = dt.UTC
FLAG = re.compile(r"(?<![\w-])--[a-z]")


def spec(**overrides) -> QuestionSpec:
    data = {
        "id": "cq",
        "title": "Core?",
        "criteria": "Yes if so.",
        "opens": "2027-03-01",
        "closes": "2027-03-31",
        "resolve_by": "2027-04-30",
    }
    return QuestionSpec.model_validate({**data, **overrides})


@pytest.fixture
def world(session):
    with freeze_time("2027-02-01"):
        add_question(session, spec=spec())
        add_question(
            session,
            spec=spec(id="pick", type="choice", options=["Red", "Blue"], criteria="The colour."),
        )
        add_person(session, spec=PersonSpec(handle="ann"))
        add_person(session, spec=PersonSpec(handle="rev", roles=["forecaster", "reviewer"]))
        add_person(session, spec=PersonSpec(handle="rita", roles=["forecaster", "reviewer"]))
    session.flush()
    return session


def refusal(call, *args, **kwargs) -> ForecastsError:
    with pytest.raises(ForecastsError) as info:
        call(*args, **kwargs)
    e = info.value
    assert not FLAG.search(str(e)), f"a core error names a flag: {e}"
    return e


# ------------------------------------------------------------------- forecast window


@pytest.mark.parametrize(
    ("now", "ok"),
    [
        ("2027-02-28 23:59:59.999999", False),
        ("2027-03-01 00:00:00", True),
        ("2027-03-31 23:59:59.999999", True),
        ("2027-04-01 00:00:00", False),
    ],
)
def test_the_open_window_is_whole_utc_days(world, now, ok):
    with freeze_time(now):
        if ok:
            f = record_forecast(world, question_id="cq", person="ann", value="0.6")
            assert f.made_at == dt.datetime.fromisoformat(now).replace(tzinfo=UTC)
        else:
            e = refusal(record_forecast, world, question_id="cq", person="ann", value="0.6")
            assert isinstance(e, NotAllowed)
            assert "forecasts are accepted from 2027-03-01 to 2027-03-31" in e.message


@freeze_time("2027-03-20 12:00:00")
def test_a_backdated_forecast_must_lie_in_the_window_and_not_in_the_future(world):
    at = dt.datetime(2027, 3, 2, 9, 30, tzinfo=UTC)
    f = record_forecast(world, question_id="cq", person="ann", value=0.3, at=at)
    assert (f.made_at, f.recorded_at) == (at, dt.datetime(2027, 3, 20, 12, tzinfo=UTC))

    e = refusal(
        record_forecast, world, question_id="cq", person="ann", value=0.3,
        at=dt.datetime(2027, 2, 28, 23, 59, tzinfo=UTC),
    )  # fmt: skip
    assert (e.field, e.message) == (
        "made_at",
        "2027-02-28T23:59:00Z is outside the question's open window 2027-03-01 to 2027-03-31 (UTC)",
    )
    e = refusal(
        record_forecast, world, question_id="cq", person="ann", value=0.3,
        at=dt.datetime(2027, 3, 20, 12, 0, 1, tzinfo=UTC),
    )  # fmt: skip
    assert (e.field, e.message) == ("made_at", "2027-03-20T12:00:01Z is in the future")


@freeze_time("2027-03-20 12:00:00")
def test_no_forecast_after_the_outcome_is_known(world):
    resolve(world, question_id="cq", outcome="yes", by="rev", on=dt.date(2027, 3, 15))
    e = refusal(record_forecast, world, question_id="cq", person="ann", value=0.9)
    assert e.message == "question 'cq' is resolved; forecasts are closed"
    # Backdating to before the day it resolved is still history worth importing...
    at = dt.datetime(2027, 3, 14, 23, 59, tzinfo=UTC)
    record_forecast(world, question_id="cq", person="ann", value=0.9, at=at)
    # ...but not to that day itself.
    e = refusal(
        record_forecast, world, question_id="cq", person="ann", value=0.9,
        at=dt.datetime(2027, 3, 15, 0, 0, tzinfo=UTC),
    )  # fmt: skip
    assert isinstance(e, NotAllowed)


# ------------------------------------------------------------- resolving, correcting


@freeze_time("2027-04-02 10:00:00")
def test_resolution_and_correction_keep_an_append_only_history(world):
    first = resolve(
        world, question_id="cq", outcome="Yes", by="rev", on=dt.date(2027, 3, 30),
        evidence=[" https://example.org/a "],
    ).resolution  # fmt: skip
    assert (first.outcome, first.resolved_on, first.evidence) == (
        "yes",
        dt.date(2027, 3, 30),
        ["https://example.org/a"],
    )
    e = refusal(resolve, world, question_id="cq", outcome="no", by="rita")
    assert isinstance(e, NotAllowed) and e.field == "correct"
    e = refusal(resolve, world, question_id="cq", outcome="no", by="rita", correct=True)
    assert (e.field, e.message) == ("reason", "a correction needs a reason saying why")

    fixed = resolve(
        world, question_id="cq", outcome="no", by="rita", correct=True, reason=" misread "
    ).resolution
    # A correction keeps the day the outcome became known, and the old row.
    assert (fixed.resolved_on, fixed.correction_reason) == (dt.date(2027, 3, 30), "misread")
    rows = world.exec(select(Resolution).where(Resolution.question_id == "cq")).all()
    assert [(r.outcome, r.by) for r in rows] == [("yes", "rev"), ("no", "rita")]


@freeze_time("2027-04-02 10:00:00")
@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"on": dt.date(2027, 4, 3)}, "resolved_on", "2027-04-03 is in the future"),
        (
            {"on": dt.date(2027, 2, 28)},
            "resolved_on",
            "2027-02-28 is before the question opened (2027-03-01)",
        ),
        ({"evidence": ["javascript:alert(1)"]}, "evidence", "is not an http(s) URL"),
        ({"reason": "why not"}, "reason", "a reason is only for corrections"),
        ({"correct": True, "reason": "x"}, "correct", "has no resolution to correct"),
        ({"by": "ann"}, "by", "'ann' is not a reviewer; only reviewers resolve"),
    ],
)
def test_a_refused_resolution_names_its_field_and_writes_nothing(world, kwargs, field, message):
    call = {"question_id": "cq", "outcome": "yes", "by": "rev", **kwargs}
    e = refusal(resolve, world, **call)
    assert isinstance(e, BadInput)
    assert e.field == field
    assert message in e.message
    assert world.exec(select(Resolution)).all() == []


# ------------------------------------------------------------------ sync protection


@freeze_time("2027-03-10 12:00:00")
@pytest.mark.parametrize(
    ("changed", "fields"),
    [
        ({"criteria": "The colour, as reported twice."}, ["criteria"]),
        ({"options": ["Red", "Blue", "Green"]}, ["options"]),
        ({"options": ["Blue", "Red"]}, ["options"]),  # order is part of the question
    ],
)
def test_sync_refuses_protected_changes_to_a_question_with_forecasts(world, changed, fields):
    original = spec(id="pick", type="choice", options=["Red", "Blue"], criteria="The colour.")
    record_forecast(world, question_id="pick", person="ann", value="Red=0.7,Blue=0.3")
    edited = original.model_copy(update=changed)

    e = refusal(sync_questions, world, specs=[spec(), edited])
    assert isinstance(e, Conflict) and e.field == "force"
    assert f"pick ({', '.join(fields)})" in e.message
    q = world.get(Question, "pick")
    assert (q.options, q.criteria) == (["Red", "Blue"], "The colour.")

    report = sync_questions(world, specs=[spec(), edited], force=True)
    assert (report.updated, report.forced) == (["pick"], ["pick"])
    (revision,) = world.exec(select(QuestionRevision)).all()
    assert sorted(revision.changes) == fields
    assert revision.forced is True
    assert getattr(world.get(Question, "pick"), fields[0]) == changed[fields[0]]


@freeze_time("2027-03-10 12:00:00")
def test_sync_changes_protected_fields_freely_before_anyone_forecasts(world):
    edited = spec(id="pick", type="choice", options=["Red", "Blue", "Green"], criteria="C.")
    report = sync_questions(world, specs=[spec(), edited])
    assert (report.updated, report.forced) == (["pick"], [])
    # A change to a protected field is still recorded, just not as forced.
    (revision,) = world.exec(select(QuestionRevision)).all()
    assert (sorted(revision.changes), revision.forced) == (["criteria", "options"], False)


@freeze_time("2027-03-10 12:00:00")
def test_a_dry_run_sync_reports_and_writes_nothing(world):
    before = [f.id for f in world.exec(select(Forecast)).all()]
    report = sync_questions(world, specs=[spec(title="Renamed?"), spec(id="new-q")], dry_run=True)
    assert (report.added, report.updated, report.dry_run) == (["new-q"], ["cq"], True)
    assert world.get(Question, "new-q") is None
    assert world.get(Question, "cq").title == "Core?"
    assert [f.id for f in world.exec(select(Forecast)).all()] == before

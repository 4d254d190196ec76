"""People: forecasters and reviewers. The paper itself is the forecaster ``paper``; the
resolutions written in questions.yaml are recorded by the reviewer ``curator``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from forecasts import clock
from forecasts.domain.schemas import PersonSpec
from forecasts.errors import Conflict, PersonNotFound
from forecasts.store.models import Person

PAPER = "paper"
CURATOR = "curator"


def _ensure(session: Session, handle: str, name: str, role: str) -> Person:
    p = session.get(Person, handle)
    if p is None:
        p = Person(handle=handle, name=name, roles=[role], digest=False, created_at=clock.now())
        session.add(p)
        session.flush()
    return p


def ensure_paper(session: Session) -> Person:
    """The ``paper`` forecaster exists in every initialised database."""
    return _ensure(session, PAPER, "The paper (implied by its wording)", "forecaster")


def ensure_curator(session: Session) -> Person:
    """The ``curator`` reviewer records the resolutions written in questions.yaml (created
    by the first sync that applies one). It has no email, so it is never prompted."""
    return _ensure(session, CURATOR, "questions.yaml (reviewed in the file's history)", "reviewer")


def add_person(session: Session, *, spec: PersonSpec) -> Person:
    if session.get(Person, spec.handle) is not None:
        raise Conflict(f"a person with handle {spec.handle!r} already exists")
    p = Person(**spec.model_dump(), created_at=clock.now())
    session.add(p)
    session.flush()
    return p


def get_person(session: Session, *, handle: str) -> Person:
    p = session.get(Person, handle)
    if p is None:
        raise PersonNotFound(handle)
    return p


def person_dict(p: Person) -> dict[str, Any]:
    return {
        "handle": p.handle,
        "name": p.name,
        "email": p.email,
        "roles": list(p.roles),
        "digest": p.digest,
        "created_at": clock.iso(p.created_at),
    }


def list_people(session: Session) -> list[dict[str, Any]]:
    people = session.execute(select(Person).order_by(Person.handle)).scalars()
    return [person_dict(p) for p in people]

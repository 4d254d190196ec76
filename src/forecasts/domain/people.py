"""People: forecasters and reviewers. The paper itself is the forecaster ``paper``; the
resolutions written in questions.yaml are recorded by the reviewer ``curator``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import Session

from forecasts import clock
from forecasts.errors import Conflict, NotAllowed
from forecasts.store.models import Person
from forecasts.suggest import person_not_found

if TYPE_CHECKING:
    from forecasts.domain.schemas import PersonSpec

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


def update_person(
    session: Session,
    *,
    handle: str,
    name: str | None = None,
    email: str | None = None,
    reviewer: bool | None = None,
    digest: bool | None = None,
) -> list[str]:
    """Change what is given (None leaves a field alone; an empty name or email clears
    it). Returns the fields that changed."""
    p = get_person(session, handle=handle)
    if p.handle == PAPER:
        raise NotAllowed("the paper's forecaster cannot be changed", field="handle")
    roles = list(p.roles)
    if reviewer is not None:
        roles = [r for r in roles if r != "reviewer"] + (["reviewer"] if reviewer else [])
    current = {"name": p.name, "email": p.email, "roles": list(p.roles), "digest": p.digest}
    wanted = {
        "name": current["name"] if name is None else (name.strip() or None),
        "email": current["email"] if email is None else (email.strip() or None),
        "roles": roles,
        "digest": current["digest"] if digest is None else digest,
    }
    from forecasts.domain.schemas import PersonSpec, validated  # built on first use: reads skip it

    spec = validated(PersonSpec, {"handle": p.handle, **wanted})
    changed = [k for k in current if getattr(spec, k) != current[k]]
    for k in changed:
        setattr(p, k, getattr(spec, k))
    session.add(p)
    session.flush()
    return changed


def get_person(session: Session, *, handle: str) -> Person:
    p = session.get(Person, handle)
    if p is None:
        raise person_not_found(session, handle)
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

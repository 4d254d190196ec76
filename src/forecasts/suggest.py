"""Did you mean ...? The closest known name to one that is not known.

Unknown question ids and handles are the commonest typing mistake; the error then names
the closest id or handle (``difflib``'s ratio, at least 0.6) so the fix is one copy away.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from forecasts.errors import PersonNotFound, QuestionNotFound

if TYPE_CHECKING:
    from sqlmodel import Session

#: How alike two names must be (difflib's ratio) to suggest one for the other.
CUTOFF = 0.6


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name most like ``name``, or None when none is alike enough."""
    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=CUTOFF)
    return matches[0] if matches else None


def question_ids(session: Session) -> list[str]:
    """Every question id, sorted (suggestions, and shell completion)."""
    from sqlalchemy import select
    from sqlmodel import col

    from forecasts.store.models import Question

    return list(session.execute(select(col(Question.id)).order_by(col(Question.id))).scalars())


def handles(session: Session) -> list[str]:
    """Every person's handle, sorted."""
    from sqlalchemy import select
    from sqlmodel import col

    from forecasts.store.models import Person

    return list(session.execute(select(col(Person.handle)).order_by(col(Person.handle))).scalars())


def question_not_found(session: Session, question_id: str) -> QuestionNotFound:
    """The error for an unknown question id, naming the closest id in the database."""
    return QuestionNotFound(question_id, suggestion=closest(question_id, question_ids(session)))


def person_not_found(session: Session, handle: str) -> PersonNotFound:
    """The error for an unknown handle, naming the closest handle in the database."""
    return PersonNotFound(handle, suggestion=closest(handle, handles(session)))

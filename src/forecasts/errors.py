"""Domain exceptions. Core code raises these; the CLI turns them into one-line errors."""

from __future__ import annotations


class ForecastsError(Exception):
    """Base class. ``exit_code`` is what the CLI exits with.

    ``field`` names the input at fault in domain words (``made_at``, ``evidence``); the
    message says what is wrong without naming it. Each caller shows the field its own way:
    the CLI as its option (``--at``), a log or an email as the field name.
    """

    exit_code = 1

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class BadInput(ForecastsError):
    """The user gave something malformed or inconsistent. Nothing was written."""

    exit_code = 2


class NotFound(BadInput):
    """A referenced object does not exist."""


class QuestionNotFound(NotFound):
    """``suggestion``: the closest known id, if any (``forecasts.suggest``)."""

    def __init__(self, question_id: str, *, suggestion: str | None = None) -> None:
        if suggestion:
            hint = f"did you mean {suggestion}? (`forecasts list` shows them all)"
        else:
            hint = "see `forecasts list`"
        super().__init__(f"no question with id {question_id!r}; {hint}")
        self.question_id = question_id
        self.suggestion = suggestion


class PersonNotFound(NotFound):
    """``suggestion``: the closest known handle, if any (``forecasts.suggest``)."""

    def __init__(self, handle: str, *, suggestion: str | None = None) -> None:
        if suggestion:
            hint = f"did you mean {suggestion}? (or add them with `forecasts people add {handle}`)"
        else:
            hint = f"add them with `forecasts people add {handle}`"
        super().__init__(f"no person with handle {handle!r}; {hint}")
        self.handle = handle
        self.suggestion = suggestion


class InvalidValue(BadInput):
    """A forecast value or outcome that does not fit the question."""


class NotAllowed(BadInput):
    """The action is well-formed but the question's state or the person's role forbids it."""


class NotAReviewer(NotAllowed):
    """Someone resolved who is not a reviewer; ``handle`` says who (each caller says how
    to make them one)."""

    def __init__(self, handle: str, *, field: str | None = None) -> None:
        super().__init__(f"{handle!r} is not a reviewer; only reviewers resolve", field=field)
        self.handle = handle


class Conflict(BadInput):
    """The change would overwrite something that needs an explicit override."""


class QuestionsFileError(BadInput):
    """questions.yaml is unreadable or invalid; the message names file and line."""


class DatabaseError(ForecastsError):
    """The database is unreachable, uninitialised or at the wrong schema version."""

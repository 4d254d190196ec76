"""Validated input models (pydantic). SQLModel table models skip validation, so all
input, from the CLI or from questions.yaml, passes through these first."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from forecasts.errors import BadInput
from forecasts.validate import error_field, error_line, http_url, iso_day

QUESTION_ID_RE = r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$"
HANDLE_RE = r"^[a-z0-9][a-z0-9_.-]{0,39}$"

QuestionType = Literal["binary", "choice", "numeric"]

Model = TypeVar("Model", bound=BaseModel)


def validated(model: type[Model], data: Any) -> Model:
    """``data`` checked as ``model``; pydantic's first complaint becomes a BadInput that
    names the field at fault."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise BadInput(error_line(e, with_location=False), field=error_field(e)) from None


def _question_id(v: str) -> str:
    if not re.fullmatch(QUESTION_ID_RE, v):
        raise ValueError(
            f"{v!r} is not a valid id; use 2 to 64 lower-case letters, digits and hyphens, "
            "starting and ending with a letter or digit (e.g. engines-2027)"
        )
    return v


def _handle(v: str) -> str:
    if not re.fullmatch(HANDLE_RE, v):
        raise ValueError(
            f"{v!r} is not a valid handle; use up to 40 lower-case letters, digits, '.', '_' "
            "or '-', starting with a letter or digit (e.g. alice)"
        )
    return v


def _day_field(v: Any) -> Any:
    """A YYYY-MM-DD day field. YAML dates arrive as text (see questions_file._loader)."""
    if isinstance(v, dt.datetime):
        raise ValueError("give a date (YYYY-MM-DD), not a datetime")
    if isinstance(v, str):
        return iso_day(v)
    return v


QuestionId = Annotated[str, AfterValidator(_question_id)]
Handle = Annotated[str, AfterValidator(_handle)]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Source(BaseModel):
    """An authoritative source a reviewer consults: a name, a URL, or both."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return None if v is None else http_url(v)

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        # A bare string is a URL if it looks like one, otherwise a name.
        if isinstance(data, str):
            is_url = data.strip().lower().startswith(("http://", "https://"))
            return {"url": data} if is_url else {"name": data}
        return data

    @model_validator(mode="after")
    def _something(self) -> Source:
        if not self.name and not self.url:
            raise ValueError("a source needs a name or a url")
        return self


@dataclass(frozen=True)
class _Shape:
    """The part of a question an outcome is checked against (values.QuestionShape)."""

    type: str
    options: Sequence[str] | None
    min: float | None
    max: float | None


class Claim(BaseModel):
    """The paper's section heading and the exact sentence a question tests."""

    model_config = ConfigDict(extra="forbid")

    section: NonEmpty
    quote: NonEmpty


class ResolutionSpec(BaseModel):
    """A resolution written in questions.yaml (the retrospective questions carry theirs).

    The file's own change history is its review: `sync` applies it once, as the
    ``curator`` reviewer, and turns a later edit into a correction."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: NonEmpty
    resolved_on: dt.date
    evidence: list[Annotated[str, AfterValidator(http_url)]]
    note: NonEmpty

    @field_validator("outcome", mode="before")
    @classmethod
    def _outcome_text(cls, v: Any) -> Any:
        # YAML reads a bare yes/no as a boolean and 228.1 as a number; an outcome is text.
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, int | float):
            return str(v)
        return v

    @field_validator("resolved_on", mode="before")
    @classmethod
    def _day(cls, v: Any) -> Any:
        return _day_field(v)

    @field_validator("evidence")
    @classmethod
    def _some(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("give at least one evidence URL (a source you read)")
        return v


class QuestionSpec(BaseModel):
    """One question as written in questions.yaml or given to `forecasts add`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: QuestionId
    title: NonEmpty
    type: QuestionType = "binary"
    options: (
        list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]]
        | None
    ) = None
    unit: Annotated[str, StringConstraints(max_length=64)] | None = None
    min: float | None = None
    max: float | None = None
    criteria: NonEmpty
    fine_print: str | None = None
    sources: list[Source] = Field(default_factory=list)
    opens: dt.date
    closes: dt.date
    resolve_by: dt.date
    tags: list[NonEmpty] = Field(default_factory=list)
    claim: Claim | None = None
    #: Same forms as `forecasts predict` VALUE: 0.7, "70%", "7:3", {A: 0.2, ...}, {p50: 5}.
    paper_forecast: float | str | dict[str, float | str] | None = None
    news: str | None = None
    resolution_terms: list[NonEmpty] = Field(default_factory=list)
    reviewers: list[Handle] = Field(default_factory=list)
    #: Declared after the fields it is checked against (type, options, range, opens).
    resolution: ResolutionSpec | None = None

    @field_validator("opens", "closes", "resolve_by", mode="before")
    @classmethod
    def _iso_date(cls, v: Any) -> Any:
        return _day_field(v)

    @field_validator("news")
    @classmethod
    def _news(cls, v: str | None) -> str | None:
        # Parsed now so a broken query is reported with the file and line, not at pull time.
        from forecasts.news.query import validate_query

        try:
            return validate_query(v)
        except BadInput as e:
            raise ValueError(f"invalid news query: {e}") from None

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(t.lower() for t in v))

    @field_validator("resolution")
    @classmethod
    def _resolution_fits(
        cls, v: ResolutionSpec | None, info: ValidationInfo
    ) -> ResolutionSpec | None:
        # A field validator (not the model one) so an error points at the `resolution:` line.
        if v is None or "type" not in info.data:
            return v
        from forecasts import clock
        from forecasts.domain.values import normalize_outcome
        from forecasts.errors import InvalidValue

        shape = _Shape(
            info.data["type"], info.data.get("options"), info.data.get("min"), info.data.get("max")
        )
        try:
            outcome = normalize_outcome(shape, v.outcome)
        except InvalidValue as e:
            raise ValueError(str(e)) from None
        opens = info.data.get("opens")
        if opens is not None and v.resolved_on < opens:
            raise ValueError(f"resolved_on {v.resolved_on} is before the question opens ({opens})")
        if v.resolved_on > clock.today():
            raise ValueError(f"resolved_on {v.resolved_on} is in the future")
        return v.model_copy(update={"outcome": outcome})

    @model_validator(mode="after")
    def _consistent(self) -> QuestionSpec:
        if not (self.opens <= self.closes <= self.resolve_by):
            raise ValueError(
                f"dates must satisfy opens <= closes <= resolve_by "
                f"(got {self.opens}, {self.closes}, {self.resolve_by})"
            )
        if self.type == "choice":
            if not self.options or len(self.options) < 2:
                raise ValueError("a choice question needs at least two options")
            lowered = [o.lower() for o in self.options]
            if len(set(lowered)) != len(lowered):
                raise ValueError("choice options must be unique (case-insensitively)")
            for o in self.options:
                if o.lower() in {"annul", "annulled"} or "=" in o or "," in o:
                    raise ValueError(f"option name {o!r} is reserved or contains '=' or ','")
        elif self.options:
            raise ValueError(f"options are only for choice questions, not {self.type}")
        if self.type == "numeric":
            if self.min is None or self.max is None:
                raise ValueError("a numeric question needs min and max")
            if not (math.isfinite(self.min) and math.isfinite(self.max)) or self.min >= self.max:
                raise ValueError("numeric range needs finite min < max")
        elif self.min is not None or self.max is not None or self.unit:
            raise ValueError(f"min, max and unit are only for numeric questions, not {self.type}")
        if self.paper_forecast is not None:
            # Reuse the forecast rules so the paper is held to what people are held to.
            from forecasts.domain.values import normalize_value
            from forecasts.errors import InvalidValue

            try:
                self.paper_forecast = normalize_value(self, self.paper_forecast)  # type: ignore[assignment]
            except InvalidValue as e:
                raise ValueError(f"paper_forecast: {e}") from None
        return self

    @property
    def paper_value(self) -> float | dict[str, float] | None:
        """The paper's forecast in stored form (validation has normalised it)."""
        return self.paper_forecast  # type: ignore[return-value]


Role = Literal["forecaster", "reviewer"]


def _default_roles() -> list[Role]:
    return ["forecaster"]


class PersonSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    handle: Handle
    name: str | None = None
    email: str | None = None
    roles: list[Role] = Field(default_factory=_default_roles)
    digest: bool = True

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", v):
            raise ValueError(f"{v!r} is not an email address")
        return v

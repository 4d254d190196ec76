"""The ``[review]`` section of ``forecasts.toml``: how questions get resolved.

``quorum``: how many reviewers must propose the same outcome before it becomes the
resolution (1: the first ``resolve`` is final). ``reprompt_days``: how often an
unresolved question is prompted again. ``require_evidence``: ``resolve`` refuses an
outcome without an evidence link. See docs/review.md.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ReviewSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quorum: int = Field(default=1, ge=1, le=10)
    reprompt_days: int = Field(default=7, ge=1, le=365)
    require_evidence: bool = False

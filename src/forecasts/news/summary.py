"""What a pull reports: one SourceOutcome per source and the PullSummary of the whole.

The CLI renders these; the scheduler logs them. Nothing here touches the network or the
database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from forecasts import clock


@dataclass
class SourceOutcome:
    name: str
    kind: str
    status: str  # ok | not_modified | failed | deferred | skipped
    error: str | None = None
    requests: int = 0
    failed_requests: int = 0
    items: int = 0
    new: int = 0
    next_allowed_at: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "status": self.status,
            "error": self.error,
            "requests": self.requests,
            "failed_requests": self.failed_requests,
            "items": self.items,
            "new": self.new,
            "next_allowed_at": clock.iso(self.next_allowed_at),
        }


@dataclass
class PullSummary:
    sources: list[SourceOutcome] = field(default_factory=list)
    questions: int = 0
    articles_new: int = 0
    articles_seen: int = 0
    matches_new: int = 0
    possible_resolutions_new: int = 0
    warnings: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def count(self, *statuses: str) -> int:
        return sum(1 for s in self.sources if s.status in statuses)

    @property
    def sources_ok(self) -> int:
        return self.count("ok", "not_modified")

    @property
    def sources_failed(self) -> int:
        return self.count("failed")

    @property
    def all_failed(self) -> bool:
        """Something was attempted and nothing succeeded: the pull exits 1."""
        return self.sources_failed > 0 and self.sources_ok == 0

    def line(self) -> str:
        parts = [
            f"sources {self.sources_ok} ok, {self.sources_failed} failed",
        ]
        deferred = self.count("deferred")
        if deferred:
            parts[0] += f", {deferred} backing off"
        parts.append(f"articles {self.articles_new} new, {self.articles_seen} seen")
        m = f"matches {self.matches_new} new"
        if self.possible_resolutions_new:
            n = self.possible_resolutions_new
            m += f" ({n} possible resolution{'s' if n != 1 else ''})"
        parts.append(m)
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources_ok": self.sources_ok,
            "sources_failed": self.sources_failed,
            "sources": [s.to_dict() for s in self.sources],
            "questions": self.questions,
            "articles_new": self.articles_new,
            "articles_seen": self.articles_seen,
            "matches_new": self.matches_new,
            "possible_resolutions_new": self.possible_resolutions_new,
            "warnings": self.warnings,
            "elapsed": round(self.elapsed, 3),
        }

"""The ``[schedule]`` section of ``forecasts.toml``: when each job runs, in which time zone.

Cron strings are checked for their shape here and parsed by APScheduler only when the
scheduler builds its triggers (importing it costs every other command a tenth of a second).
"""

from __future__ import annotations

import zoneinfo
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator

DEFAULT_TIMEZONE = "UTC"
#: The keys holding a cron schedule: one per scheduled job, named as the job.
CRON_KEYS = ("news", "prompts", "digest", "report", "outbox")


def _five_fields(value: str) -> str:
    value = " ".join(value.split())
    if len(value.split(" ")) != 5:
        raise ValueError(
            f"{value!r} is not a cron schedule; give five fields: minute hour day month weekday "
            '(e.g. "0 9 * * *")'
        )
    return value


class ScheduleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The IANA time zone the cron schedules and the digest's week are read in.
    timezone: str = DEFAULT_TIMEZONE
    #: Pull news (hourly).
    news: str = "0 * * * *"
    #: Send resolution prompts (daily, 09:00).
    prompts: str = "0 9 * * *"
    #: Send the weekly digest for the week just ended (Mondays, 08:00).
    digest: str = "0 8 * * mon"
    #: Write report.html and report.png to ``report_dir`` (Mondays, 08:30).
    report: str = "30 8 * * mon"
    #: Deliver the mail still due: retries after a failed send (every 10 minutes).
    outbox: str = "*/10 * * * *"
    #: Where the report job writes, relative to the working folder.
    report_dir: Path = Path("reports")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{v!r} is not a time zone; use an IANA name such as UTC, Europe/Berlin or "
                "Asia/Shanghai"
            ) from None
        return v

    @field_validator(*CRON_KEYS)
    @classmethod
    def _cron(cls, v: str) -> str:
        return _five_fields(v)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

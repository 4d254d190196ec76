"""The ``[schedule]`` cron strings as APScheduler triggers, in the schedule's time zone.

Importing APScheduler is left to the commands that schedule (``forecasts run``): it
costs every other command a tenth of a second.

Across a daylight-saving change a schedule keeps its wall-clock time (``0 8 * * mon``
in Europe/Berlin is 07:00 UTC in winter and 06:00 UTC in summer) and fires at most once
per wall-clock time:

- when clocks go forward, a time that does not exist that night (02:30 in Berlin on the
  last Sunday of March) fires once, at the moment after the jump;
- when clocks go back, a time that happens twice (02:30 on the last Sunday of October)
  fires once, the first time. APScheduler's own cron trigger fires twice; ``LocalCron``
  skips the repeat.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from apscheduler.triggers.cron import CronTrigger

from forecasts.errors import BadInput

if TYPE_CHECKING:
    from forecasts.scheduler.settings import ScheduleSettings


class LocalCron(CronTrigger):
    """A cron trigger that fires at most once per wall-clock time (see the module doc).

    Stored, pickled, in the job store: keep its name and module."""

    def get_next_fire_time(
        self, previous_fire_time: dt.datetime | None, now: dt.datetime
    ) -> dt.datetime | None:
        fire = super().get_next_fire_time(previous_fire_time, now)
        while fire is not None and _second_of_two(fire):
            fire = super().get_next_fire_time(fire, fire)
        return fire


def _second_of_two(t: dt.datetime) -> bool:
    """Whether ``t`` is the second occurrence of a wall-clock time clocks went back over."""
    return t.fold == 1 and t.replace(fold=0).utcoffset() != t.utcoffset()


def trigger(settings: ScheduleSettings, key: str) -> LocalCron:
    """The trigger for ``[schedule] <key>``; ``BadInput`` naming the key if APScheduler
    refuses the cron string (the settings only checked it has five fields)."""
    expr = getattr(settings, key)
    try:
        return LocalCron.from_crontab(expr, timezone=settings.zone)
    except ValueError as e:
        reason = str(e)
        if reason.startswith("Error validating expression"):
            reason = reason.split(": ", 1)[-1]
        raise BadInput(
            f"schedule.{key}: {expr!r} is not a valid cron schedule ({reason}); "
            'use five fields: minute hour day month weekday, e.g. "0 9 * * mon"'
        ) from None


def triggers(settings: ScheduleSettings, keys: tuple[str, ...]) -> dict[str, LocalCron]:
    """The triggers of ``keys``, all checked before anything runs."""
    return {key: trigger(settings, key) for key in keys}

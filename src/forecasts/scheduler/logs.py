"""The scheduler's log: one line per event on stderr, as text for people or JSON for
machines (``forecasts run --log-format json``).

Code logs through the standard ``logging`` module on the ``forecasts`` logger, naming
the event and its fields in ``extra``::

    log.info("news finished", extra={"event": "job.finished", "fields": {"job": "news"}})

A JSON line holds ``time`` (``clock.iso``), ``level``, ``event``, ``message`` and the
fields; a text line is ``time level message``. Messages carry no secrets: database URLs
are logged masked (``Runtime.database_label``) and SMTP errors arrive scrubbed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Callable
from typing import Any, Literal, TextIO

from forecasts import clock

LogFormat = Literal["text", "json"]

#: Where everything the scheduler and its jobs say is logged.
LOGGER = "forecasts"


def _time(record: logging.LogRecord) -> str:
    return clock.iso(dt.datetime.fromtimestamp(record.created, dt.UTC).replace(microsecond=0))


def _one_line(text: str) -> str:
    return " ".join(text.split())


class TextFormatter(logging.Formatter):
    """``2026-12-01T09:00:00Z INFO prompts finished in 0.4 s: ...``"""

    def format(self, record: logging.LogRecord) -> str:
        return f"{_time(record)} {record.levelname} {_one_line(record.getMessage())}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line; an unexpected exception's traceback in ``traceback``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", None) or record.name,
            "message": _one_line(record.getMessage()),
        }
        line.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(fmt: LogFormat = "text", stream: TextIO | None = None) -> Callable[[], None]:
    """Send the ``forecasts`` log (INFO and up) and APScheduler's warnings to ``stream``
    (stderr), one line per event, and nowhere else. Returns the function that undoes it
    (tests run several commands in one process)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    # APScheduler's own INFO lines repeat ours ("Running job ..."); its warnings (a job
    # that could not start) are worth a line.
    levels = {LOGGER: logging.INFO, "apscheduler": logging.WARNING}
    before = {}
    for name, level in levels.items():
        logger = logging.getLogger(name)
        before[name] = (logger.level, logger.propagate)
        logger.setLevel(level)
        logger.addHandler(handler)
        logger.propagate = False

    def undo() -> None:
        for name, (level, propagate) in before.items():
            logger = logging.getLogger(name)
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate

    return undo


def stop_now(signal_name: str) -> None:
    """Log that a second signal stops the process at once."""
    logging.getLogger("forecasts.scheduler").warning(
        "%s again: stopping now; a job cut short runs again at the next start",
        signal_name,
        extra={"event": "scheduler.stopping_now", "fields": {"signal": signal_name}},
    )

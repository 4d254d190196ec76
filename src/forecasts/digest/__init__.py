"""The weekly email digest: each reader's week in forecasts, by email.

- ``weeks``: ISO weeks in a time zone (``last_full_week``), pure;
- ``gather``: one read of everything the week's digests share;
- ``sections``: one reader's digest from that, pure;
- ``chart``: the reader's reliability diagram, cheaply, on one reused figure;
- ``render``: the subject, the text and HTML parts (``templates/``) and the email;
- ``send``: ``send_digests(runtime, week=None, send=True)``, the one call the CLI
  (``forecasts digest``) and the scheduler make.

Importing this package is cheap: the database, numpy, matplotlib and jinja2 load only
when a digest is built.
"""

from forecasts.digest.send import DigestRun, send_digests
from forecasts.digest.weeks import IsoWeek, last_full_week

__all__ = ["DigestRun", "IsoWeek", "last_full_week", "send_digests"]

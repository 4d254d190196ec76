"""Outgoing mail: the resolution prompts and the weekly digest both go through here.

- ``settings``: ``[mail]`` and ``[mail.smtp]`` (``MailSettings``).
- ``message``: ``render`` a text + HTML pair from Jinja2 templates (autoescaped) and
  ``build_message`` an ``EmailMessage`` (``multipart/alternative``, optionally with inline
  images as ``multipart/related``), with headers that data cannot break.
- ``models``: the ``mail_outbox`` table.
- ``outbox``: ``enqueue`` a message under an idempotency key, ``deliver`` what is due,
  ``retry`` now, ``list_outbox``.
- ``transport``: Maildir and SMTP.

A caller builds a message, enqueues it in its own transaction, and then calls
``deliver``; a key already in the outbox is never queued or sent again.
"""

"""The ``[mail]`` and ``[mail.smtp]`` sections of ``forecasts.toml``.

Exactly these keys (docs/configuration.md and docs/mail.md describe them)::

    [mail]
    transport = "maildir"            # "maildir" (default) or "smtp"
    maildir = "outbox"               # relative to the working folder
    sender = "forecasts <forecasts@localhost>"
    timeout = 30                     # seconds, per SMTP operation

    [mail.smtp]
    host = "localhost"
    port = 587
    security = "starttls"            # "none", "starttls" or "tls"
    user = ""                        # empty: no AUTH
    password_env = "FORECASTS_SMTP_PASSWORD"

There is no password key: the password is read from the environment variable named by
``password_env`` when a message is sent (``SmtpSettings.password``), so it is never in
the settings, their output, a message or an error.
"""

from __future__ import annotations

import os
import re
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_SENDER = "forecasts <forecasts@localhost>"
DEFAULT_PASSWORD_ENV = "FORECASTS_SMTP_PASSWORD"

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_address(text: str) -> Address:
    """``Name <user@host>`` or ``user@host`` as an Address; ValueError if it is not one
    address (or holds a line break, which could start a header of its own)."""
    if any(c in text for c in "\r\n\x00"):
        raise ValueError("an address cannot contain a line break")
    name, addr = parseaddr(text.strip())
    if not addr or addr.count("@") != 1 or any(c.isspace() for c in addr):
        raise ValueError(f"{text!r} is not an email address (e.g. forecasts <me@example.org>)")
    user, host = addr.split("@")
    if not user or not host:
        raise ValueError(f"{text!r} is not an email address (e.g. forecasts <me@example.org>)")
    return Address(display_name=name, username=user, domain=host)


class SmtpSettings(BaseModel):
    """How to reach the SMTP server (``transport = "smtp"``)."""

    model_config = ConfigDict(extra="forbid")

    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    #: "none": plain SMTP; "starttls": upgrade with STARTTLS (refused if the server
    #: cannot); "tls": TLS from the first byte (SMTPS, usually port 465).
    security: Literal["none", "starttls", "tls"] = "starttls"
    #: Empty: no AUTH. Otherwise AUTH as this user, with the password from ``password_env``.
    user: str = ""
    password_env: str = DEFAULT_PASSWORD_ENV

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        v = v.strip()
        if not v or any(c.isspace() or c in "/@" for c in v):
            raise ValueError(f"{v!r} is not a host name")
        return v

    @field_validator("password_env")
    @classmethod
    def _env(cls, v: str) -> str:
        if not _ENV_NAME.fullmatch(v):
            raise ValueError(f"{v!r} is not an environment variable name")
        return v

    @model_validator(mode="after")
    def _no_password_in_clear(self) -> SmtpSettings:
        if self.user and self.security == "none":
            raise ValueError(
                "user is set but security is none: the password would cross the network "
                "in clear; use starttls or tls"
            )
        return self

    def password(self) -> str | None:
        """The password from the environment, read now; None when the variable is unset
        or empty."""
        return os.environ.get(self.password_env) or None


class MailSettings(BaseModel):
    """Where outgoing mail goes. The default writes to the Maildir ``./outbox``, so a
    fresh machine needs no mail server."""

    model_config = ConfigDict(extra="forbid")

    transport: Literal["maildir", "smtp"] = "maildir"
    #: The Maildir folder, relative to the working folder.
    maildir: str = "outbox"
    sender: str = DEFAULT_SENDER
    #: Seconds each SMTP operation (connect, each command, each block of data) may take.
    timeout: float = Field(default=30.0, gt=0, le=600)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)

    @field_validator("sender")
    @classmethod
    def _sender(cls, v: str) -> str:
        parse_address(v)
        return v.strip()

    @field_validator("maildir")
    @classmethod
    def _maildir(cls, v: str) -> str:
        if not v.strip() or "\x00" in v:
            raise ValueError("give a folder name, e.g. outbox")
        return v.strip()

    @property
    def sender_address(self) -> Address:
        return parse_address(self.sender)

    def maildir_path(self) -> Path:
        """The Maildir folder, resolved against the working folder now."""
        return Path(self.maildir).expanduser().resolve()

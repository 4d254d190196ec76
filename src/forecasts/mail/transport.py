"""Transports: where a message goes once the outbox lets it go.

- ``MaildirTransport``: a real Maildir (``tmp/``, ``new/``, ``cur/``; the folder created
  owner-only), readable by mutt and ``mailbox.Maildir``. Each message's file name is
  derived from its outbox key, and a message is linked into ``new/`` only if no file of
  that name is there (or in ``cur/``, where a reader moves it): a retry after a crash
  finds the message already delivered and does not write it twice.
- ``SmtpTransport``: ``smtplib`` with ``security`` none, starttls or tls, ``timeout`` per
  operation, AUTH only when ``user`` is set (the password read from its environment
  variable when connecting). One connection serves a whole delivery run.

``send`` returns ``"sent"`` or ``"already delivered"``, or raises ``SendError``, whose
text never holds the password.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import socket
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    import smtplib

    from forecasts.mail.settings import MailSettings, SmtpSettings

Delivered = Literal["sent", "already delivered"]


class SendError(Exception):
    """A message was not delivered.

    ``permanent``: the server refused this message for good (a 5xx reply to it): trying
    again will not help. ``connection``: the transport itself failed (unreachable,
    TLS, AUTH), not this message: every other message would fail the same way now."""

    def __init__(self, message: str, *, permanent: bool = False, connection: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.connection = connection


class Transport(Protocol):
    """What the outbox needs of a transport."""

    def send(self, data: bytes, *, key: str, sender: str, recipients: Sequence[str]) -> Delivered:
        """Deliver the message ``data`` (RFC 5322 bytes) from the envelope ``sender`` to
        ``recipients``; raise ``SendError`` if it was not delivered."""
        ...

    def close(self) -> None: ...


def open_transport(settings: MailSettings) -> Transport:
    """The transport ``[mail] transport`` names. Nothing connects until the first send."""
    if settings.transport == "smtp":
        return SmtpTransport(settings)
    return MaildirTransport(settings.maildir_path())


# ------------------------------------------------------------------------------ Maildir


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def maildir_name(key: str) -> str:
    """The file name of the message with outbox key ``key``: readable, unique per key, and
    free of ``/`` and ``:`` (Maildir keeps flags after a colon)."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return f"{_UNSAFE.sub('-', key).strip('-')[:80]}.{digest}.forecasts"


class MaildirTransport:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._ready = False

    def _prepare(self) -> None:
        if self._ready:
            return
        try:
            if not self.path.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.path.mkdir(mode=0o700)
                self.path.chmod(0o700)  # whatever the umask
            elif not self.path.is_dir():
                raise SendError(
                    f"maildir {self.path} is not a folder; set [mail] maildir to a folder",
                    connection=True,
                )
            for sub in ("tmp", "new", "cur"):
                (self.path / sub).mkdir(mode=0o700, exist_ok=True)
        except OSError as e:
            raise SendError(f"maildir {self.path}: {e.strerror or e}", connection=True) from None
        self._ready = True

    def delivered(self, name: str) -> bool:
        if (self.path / "new" / name).exists() or (self.path / "cur" / name).exists():
            return True
        # A reader that has seen the message renamed it to cur/<name>:2,<flags>.
        return any(True for _ in (self.path / "cur").glob(f"{name}:*"))

    def send(self, data: bytes, *, key: str, sender: str, recipients: Sequence[str]) -> Delivered:
        self._prepare()
        name = maildir_name(key)
        if self.delivered(name):
            return "already delivered"
        tmp = self.path / "tmp" / f"{name}.{os.getpid()}.{uuid.uuid4().hex}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                # link, not rename: it fails if the name exists, so two processes
                # delivering the same key at once cannot both succeed.
                os.link(tmp, self.path / "new" / name)
            except FileExistsError:
                return "already delivered"
            _fsync_dir(self.path / "new")
        except OSError as e:
            raise SendError(f"maildir {self.path}: {e.strerror or e}") from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return "sent"

    def close(self) -> None:
        pass


def _fsync_dir(path: Path) -> None:
    """Make a new directory entry durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------ SMTP


class SmtpTransport:
    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self.smtp_settings: SmtpSettings = settings.smtp
        self._conn: smtplib.SMTP | None = None
        self._password: str | None = None

    @property
    def label(self) -> str:
        return f"smtp {self.smtp_settings.host}:{self.smtp_settings.port}"

    def _connect(self) -> smtplib.SMTP:
        import smtplib
        import ssl

        s = self.smtp_settings
        timeout = self.settings.timeout
        if s.user:
            self._password = s.password()
            if self._password is None:
                raise SendError(
                    f"{self.label}: [mail.smtp] user is set but the environment variable "
                    f"{s.password_env} (the password) is not",
                    connection=True,
                )
        context = ssl.create_default_context()
        helo = socket.gethostname() or "localhost"  # not getfqdn(): no DNS lookup
        conn: smtplib.SMTP | None = None
        try:
            if s.security == "tls":
                conn = smtplib.SMTP_SSL(
                    s.host, s.port, local_hostname=helo, timeout=timeout, context=context
                )
            else:
                conn = smtplib.SMTP(s.host, s.port, local_hostname=helo, timeout=timeout)
            conn.ehlo()
            if s.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise SendError(
                        f"{self.label}: the server does not offer STARTTLS; "
                        'set [mail.smtp] security = "tls" or "none"',
                        connection=True,
                    )
                conn.starttls(context=context)
                conn.ehlo()
            if s.user:
                assert self._password is not None
                conn.login(s.user, self._password)
        except SendError:
            _quit(conn)
            raise
        except Exception as e:
            _quit(conn)
            raise SendError(self._describe(e), connection=True) from None
        return conn

    def verify(self) -> None:
        """Connect, secure and log in as sending would, then quit; raises ``SendError``
        saying what failed (`forecasts doctor`)."""
        _quit(self._connect())

    def send(self, data: bytes, *, key: str, sender: str, recipients: Sequence[str]) -> Delivered:
        import smtplib

        conn = self._conn
        if conn is not None:
            try:
                # A connection left idle may have been closed by the server: find out
                # before sending, never by resending a message that may have gone.
                conn.noop()
            except (smtplib.SMTPException, OSError):
                _quit(conn)
                conn = self._conn = None
        if conn is None:
            conn = self._conn = self._connect()
        try:
            # Returns the recipients refused while others were accepted: the message went
            # and must not go again to the others, so it counts as sent. (Prompts and
            # digests have one recipient each: refusing it raises instead.)
            # smtplib sends bytes as they are: SMTP wants CRLF line ends.
            crlf = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            conn.sendmail(sender, list(recipients), crlf)
        except smtplib.SMTPRecipientsRefused as e:
            codes = [code for code, _ in e.recipients.values()]
            raise SendError(self._describe(e), permanent=all(c >= 500 for c in codes)) from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
            raise SendError(self._describe(e), permanent=e.smtp_code >= 500) from None
        except smtplib.SMTPResponseException as e:
            raise SendError(self._describe(e), permanent=e.smtp_code >= 500) from None
        except (smtplib.SMTPException, OSError) as e:
            # Disconnected or timed out mid-message: the connection is gone.
            _quit(conn)
            self._conn = None
            raise SendError(self._describe(e), connection=True) from None
        return "sent"

    def close(self) -> None:
        _quit(self._conn)
        self._conn = None

    def _describe(self, e: BaseException) -> str:
        """The error in one line, naming the server, with any trace of the password
        removed (a server may echo what it was sent)."""
        import smtplib

        if isinstance(e, smtplib.SMTPRecipientsRefused):
            detail = "; ".join(
                f"{rcpt} refused ({code} {_text(msg)})"
                for rcpt, (code, msg) in e.recipients.items()
            )
        elif isinstance(e, smtplib.SMTPResponseException):
            detail = f"{e.smtp_code} {_text(e.smtp_error)}"
            if isinstance(e, smtplib.SMTPAuthenticationError):
                detail = f"authentication failed as {self.smtp_settings.user!r}: {detail}"
        elif isinstance(e, ConnectionRefusedError):
            detail = "connection refused (is the server running?)"
        elif isinstance(e, TimeoutError | socket.timeout):
            detail = f"timed out after {self.settings.timeout:g} s"
        elif isinstance(e, smtplib.SMTPServerDisconnected):
            detail = f"the server closed the connection ({e or 'no reason given'})"
        else:
            detail = f"{type(e).__name__}: {e}"
        return _scrub(f"{self.label}: {detail}", self.smtp_settings.user, self._password)


def _text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return " ".join(text.split())


def _scrub(text: str, user: str, password: str | None) -> str:
    """``text`` with the password, and the base64 forms AUTH sends it in, masked."""
    if not password:
        return text
    forms = {
        password,
        base64.b64encode(password.encode()).decode(),
        base64.b64encode(f"\0{user}\0{password}".encode()).decode(),
    }
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "***")
    return text


def _quit(conn: smtplib.SMTP | None) -> None:
    if conn is None:
        return
    try:
        conn.quit()
    except Exception:
        with contextlib.suppress(Exception):
            conn.close()

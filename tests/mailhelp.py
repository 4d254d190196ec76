"""Real SMTP servers on localhost for the mail tests (aiosmtpd), a self-signed
certificate made here, and helpers to read what arrived."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes
    authenticated_as: str | None
    tls: bool


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps every message it accepts. ``refuse_after``: accept
    that many messages, then answer 421 and stop the server (a server shutting down)."""

    received: list[Received] = field(default_factory=list)
    refuse_after: int | None = None
    refuse_rcpt: set[str] = field(default_factory=set)
    on_refuse: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address in self.refuse_rcpt:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        with self.lock:
            if self.refuse_after is not None and len(self.received) >= self.refuse_after:
                if self.on_refuse is not None:
                    callback, self.on_refuse = self.on_refuse, None
                    threading.Thread(target=callback, daemon=True).start()
                return "421 4.3.2 shutting down"
            raw = envelope.original_content or envelope.content
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            login = session.auth_data.login.decode() if session.authenticated else None
            self.received.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    msg,  # type: ignore[arg-type]
                    raw,
                    login,
                    server.transport.get_extra_info("ssl_object") is not None,
                )
            )
        return "250 2.0.0 accepted"


class Server:
    """One aiosmtpd server: ``mode`` plain, starttls (TLS required, AUTH offered) or tls
    (TLS from the first byte)."""

    def __init__(
        self,
        handler: Recorder,
        *,
        mode: str = "plain",
        cert: tuple[Path, Path] | None = None,
        users: dict[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.handler = handler
        self.port = port or free_port()
        kwargs: dict[str, Any] = {"hostname": HOST, "port": self.port}
        if mode in ("starttls", "tls"):
            assert cert is not None
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(cert[0]), str(cert[1]))
            if mode == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                kwargs.update(ssl_context=context)
        if users is not None:
            kwargs.update(authenticator=_authenticator(users), auth_required=True)
        self.controller = Controller(handler, **kwargs)

    def start(self) -> Server:
        self.controller.start()
        return self

    def stop(self) -> None:
        with contextlib.suppress(AssertionError):  # already stopped
            self.controller.stop()


def _authenticator(users: dict[str, str]) -> Any:
    def check(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = (
            isinstance(auth_data, LoginPassword)
            and users.get(auth_data.login.decode()) == auth_data.password.decode()
        )
        if ok:
            return AuthResult(success=True, handled=False, auth_data=auth_data)
        # A careless server that echoes what it was sent: the client must not repeat it.
        said = auth_data.password.decode() if isinstance(auth_data, LoginPassword) else "?"
        return AuthResult(success=False, handled=False, message=f"535 5.7.8 bad password {said}")

    return check


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key, made now."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "forecasts test SMTP")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def smtp_config(
    folder: Path, port: int, *, security: str = "none", user: str = "", extra: str = ""
) -> Path:
    """A forecasts.toml sending through the test server."""
    path = folder / "mail.toml"
    path.write_text(
        "[mail]\n"
        'transport = "smtp"\n'
        'sender = "forecasts <forecasts@example.org>"\n'
        "timeout = 5\n"
        f"{extra}"
        "[mail.smtp]\n"
        f'host = "{HOST}"\n'
        f"port = {port}\n"
        f'security = "{security}"\n'
        f'user = "{user}"\n',
        encoding="utf-8",
    )
    return path


def parts(msg: EmailMessage) -> tuple[str, str]:
    """The text and HTML bodies of a multipart/alternative message."""
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()

"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives.

With `tls`, the server offers STARTTLS (and requires it) or, with `implicit`,
speaks TLS from the first byte (port 465 style). `certificates()` makes a test
certificate authority and a certificate for 127.0.0.1 with trustme.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from typing import TYPE_CHECKING, Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

if TYPE_CHECKING:
    import ssl
    from collections.abc import Iterator
    from email.message import EmailMessage
    from pathlib import Path


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Received:
    """One message as the server got it."""

    sender: str
    recipients: list[str]
    message: EmailMessage
    tls: str | None = None  # the TLS version the message travelled under


@dataclass
class Inbox:
    """aiosmtpd handler: stores messages, refuses listed recipients."""

    refuse: set[str] = field(default_factory=set)
    messages: list[Received] = field(default_factory=list)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd hook name
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        tls = server.transport.get_extra_info("ssl_object")
        self.messages.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                msg,
                tls.version() if tls is not None else None,
            )
        )
        return "250 2.0.0 Ok: queued as TEST42"


def _authenticator(user: str, password: str) -> Any:
    def check(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (
            data.login.decode() == user and data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False)  # False: server sends 535

    return check


def start(
    inbox: Inbox,
    *,
    user: str | None = None,
    password: str | None = None,
    tls: ssl.SSLContext | None = None,
    implicit: bool = False,
) -> tuple[Controller, int]:
    """Start a server on 127.0.0.1.

    Args:
        inbox: keeps what arrives.
        user: require this login (with `password`).
        password: the password of `user`.
        tls: the server's certificate; STARTTLS is then offered and required.
        implicit: with `tls`, TLS from the first byte instead of STARTTLS.
    """
    port = free_port()
    kwargs: dict[str, Any] = {}
    if user is not None:
        kwargs = {
            "authenticator": _authenticator(user, password or ""),
            "auth_required": False,  # True warns without TLS; login is still checked
            "auth_require_tls": False,
            # smtplib's AUTH LOGIN with an initial response stalls aiosmtpd.
            "auth_exclude_mechanism": ["LOGIN"],
        }
    if tls is not None and implicit:
        kwargs["ssl_context"] = tls
    elif tls is not None:
        kwargs.update(tls_context=tls, require_starttls=True)
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, port


def attachments(msg: EmailMessage) -> Iterator[tuple[str, bytes]]:
    """(filename, content) of each attachment."""
    for part in msg.iter_attachments():
        yield str(part.get_filename()), part.get_payload(decode=True)  # type: ignore[misc]  # bytes when decoded


@dataclass
class Certificates:
    """A test authority, the server's TLS context signed by it, and its PEM file."""

    server: ssl.SSLContext
    ca_file: Path


def certificates(folder: Path, *names: str) -> Certificates:
    """A fresh CA and a server certificate for `names` (default 127.0.0.1)."""
    import ssl

    import trustme

    ca = trustme.CA(organization_name="O2C test CA")
    cert = ca.issue_cert(*(names or ("127.0.0.1",)))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server)
    ca_file = folder / "o2c-test-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return Certificates(server, ca_file)

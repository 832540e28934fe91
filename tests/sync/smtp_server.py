"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from typing import TYPE_CHECKING, Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

if TYPE_CHECKING:
    from collections.abc import Iterator
    from email.message import EmailMessage


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
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
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
    inbox: Inbox, *, user: str | None = None, password: str | None = None
) -> tuple[Controller, int]:
    """Start a server on 127.0.0.1; with `user`, it requires that login."""
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
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, port


def attachments(msg: EmailMessage) -> Iterator[tuple[str, bytes]]:
    """(filename, content) of each attachment."""
    for part in msg.iter_attachments():
        yield str(part.get_filename()), part.get_payload(decode=True)  # type: ignore[misc]  # bytes when decoded

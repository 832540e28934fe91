"""Sending reminders by email (SMTP), or saving them as .eml for Outlook users.

The SMTP password lives in the OS keyring under `smtp_key(host, user)`, never
in the settings file. The message goes out from the configured mailbox
(`mail_from`) with the collector as Reply-To, or from the collector when no
mailbox is configured. `send()` returns a `SendLog` (message id, time, the
server's answer) that the action keeps; any failure raises `MailError` with a
reason a collector can read.

STARTTLS and SSL always verify the server's certificate and name. A company
whose mail server has a certificate from its own authority gives that
authority's PEM file (`smtp_ca_file`); it is trusted on top of the system's.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import TYPE_CHECKING

from o2c_desktop import secrets

if TYPE_CHECKING:
    from pathlib import Path

    from o2c_desktop.settings import Settings

log = logging.getLogger(__name__)

SECURITY_MODES = ("starttls", "ssl", "none")


def smtp_key(host: str, user: str) -> str:
    """The keyring entry name of an SMTP account's password."""
    return f"smtp:{user}@{host}"


@dataclass(frozen=True)
class MailConfig:
    """How to reach the mail server.

    Attributes:
        host: SMTP server name; empty means mail is not set up.
        port: 587 for STARTTLS, 465 for SSL, 25 for none.
        security: "starttls", "ssl" or "none" (loopback tests only).
        user: login; empty for a server that relays without one.
        password: read from the keyring, never from settings.
        mail_from: the sending mailbox; empty sends from the collector.
        timeout: seconds before a silent server counts as down.
        ca_file: PEM file of an extra certificate authority to trust.
    """

    host: str = ""
    port: int = 587
    security: str = "starttls"
    user: str = ""
    password: str | None = field(default=None, repr=False)
    mail_from: str = ""
    timeout: float = 20.0
    ca_file: str = ""


def config_from_settings(settings: Settings) -> MailConfig:
    """Mail settings plus the password stored in the keyring."""
    password = None
    if settings.smtp_host and settings.smtp_user:
        password = secrets.get_password(
            smtp_key(settings.smtp_host, settings.smtp_user)
        )
    return MailConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        user=settings.smtp_user,
        password=password,
        mail_from=settings.mail_from,
        ca_file=settings.smtp_ca_file,
    )


@dataclass(frozen=True)
class Attachment:
    """A file attached to an email."""

    filename: str
    content: bytes
    mime_type: str = "application/pdf"


@dataclass(frozen=True)
class OutgoingMail:
    """One email to a customer.

    Attributes:
        to: recipients.
        subject: in the customer's language.
        text: the plain-text body.
        html: the HTML body (same content).
        sender_name: shown in From (the collector's name).
        reply_to: where answers go (the collector's address).
        cc: copies.
        attachments: PDFs and other files.
    """

    to: tuple[str, ...]
    subject: str
    text: str
    html: str = ""
    sender_name: str = ""
    reply_to: str = ""
    cc: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class SendLog:
    """What the server said when it took a message."""

    message_id: str
    sent_at: datetime
    server_answer: str
    recipients: tuple[str, ...]
    refused: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        """The log as stored on the action."""
        data = asdict(self)
        data["sent_at"] = self.sent_at.isoformat()
        return json.dumps(data, ensure_ascii=False)


class MailError(Exception):
    """The message was not sent; the text says why.

    Attributes:
        transient: the server could not be reached or answered "try later"
            before taking the message: trying again later may work, and
            cannot send it twice.
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


def build_message(
    mail: OutgoingMail, config: MailConfig, now: datetime
) -> EmailMessage:
    """The MIME message: plain text and HTML alternatives, attachments.

    Raises:
        MailError: no recipient, or no sender address.
    """
    if not mail.to:
        raise MailError("no email address for this customer or contact")
    sender = config.mail_from or mail.reply_to
    if not sender:
        raise MailError("no sender address: set mail_from or the collector's email")
    msg = EmailMessage()
    msg["From"] = formataddr((mail.sender_name, sender)) if mail.sender_name else sender
    msg["To"] = ", ".join(mail.to)
    if mail.cc:
        msg["Cc"] = ", ".join(mail.cc)
    if mail.reply_to and mail.reply_to != sender:
        msg["Reply-To"] = mail.reply_to
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(mail.text)
    if mail.html:
        msg.add_alternative(mail.html, subtype="html")
    for att in mail.attachments:
        maintype, _, subtype = att.mime_type.partition("/")
        msg.add_attachment(
            att.content, maintype=maintype, subtype=subtype, filename=att.filename
        )
    return msg


def tls_context(config: MailConfig) -> ssl.SSLContext:
    """The TLS settings: the system's authorities plus `ca_file`, names checked.

    Raises:
        MailError: the CA file can't be read or is not a PEM certificate.
    """
    context = ssl.create_default_context()
    if config.ca_file:
        try:
            context.load_verify_locations(cafile=config.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise MailError(
                f"cannot use the CA file {config.ca_file} "
                f"({getattr(exc, 'strerror', None) or exc})"
            ) from exc
    return context


def _untrusted(config: MailConfig, exc: ssl.SSLCertVerificationError) -> MailError:
    """A collector-readable reason for a certificate the client refused."""
    reason = (exc.verify_message or str(exc)).rstrip(".")
    hint = "check the CA file" if config.ca_file else "set the CA file of your company"
    return MailError(
        f"the certificate of the mail server {config.host}:{config.port} is not "
        f"trusted ({reason}); nothing was sent: {hint} or ask IT"
    )


def _connect(config: MailConfig) -> smtplib.SMTP:
    if not config.host:
        raise MailError("mail server not configured (smtp_host is empty)")
    if config.security not in SECURITY_MODES:
        raise MailError(f"unknown SMTP security {config.security!r}")
    context = tls_context(config) if config.security != "none" else None
    try:
        if config.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    except ssl.SSLCertVerificationError as exc:
        raise _untrusted(config, exc) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(
            f"cannot reach the mail server {config.host}:{config.port} ({exc})",
            transient=True,
        ) from exc
    try:
        smtp.ehlo()
        if config.security == "starttls":
            if not smtp.has_extn("starttls"):
                # Never fall back to clear text: the password would travel in it.
                raise MailError(
                    f"the mail server {config.host}:{config.port} does not offer "
                    "STARTTLS; nothing was sent"
                )
            smtp.starttls(context=context)
            smtp.ehlo()
        if config.user:
            smtp.login(config.user, config.password or "")
    except MailError:
        smtp.close()
        raise
    except ssl.SSLCertVerificationError as exc:
        smtp.close()
        raise _untrusted(config, exc) from exc
    except smtplib.SMTPAuthenticationError as exc:
        smtp.close()
        raise MailError(
            f"the mail server refused the login of {config.user!r}: "
            f"{_answer(exc.smtp_code, exc.smtp_error)}"
        ) from exc
    except (OSError, smtplib.SMTPException) as exc:
        smtp.close()  # a failed handshake must not leak the socket
        raise MailError(
            f"the mail server {config.host}:{config.port} failed the handshake ({exc})"
        ) from exc
    return smtp


def _answer(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()


def send(
    mail: OutgoingMail, config: MailConfig, now: datetime | None = None
) -> SendLog:
    """Send one email and return the server's receipt.

    Args:
        mail: the message.
        config: the server.
        now: the Date header (UTC); defaults to the current time.

    Returns:
        The send log (message id, time, final server answer, refused addresses).

    Raises:
        MailError: the server is down, refused the login, every recipient, or
            the message.
    """
    if not config.host:
        # Say what the collector must fix first, before any address problem.
        raise MailError("mail server not configured (smtp_host is empty)")
    now = now or datetime.now(UTC)
    msg = build_message(mail, config, now)
    sender = config.mail_from or mail.reply_to
    recipients = (*mail.to, *mail.cc)
    smtp = _connect(config)
    try:
        code, resp = smtp.mail(sender)
        if code != 250:
            raise MailError(
                f"sender {sender} refused: {_answer(code, resp)}",
                transient=400 <= code < 500,  # "try again later", before any data
            )
        refused: dict[str, str] = {}
        for rcpt in recipients:
            code, resp = smtp.rcpt(rcpt)
            if code not in (250, 251):
                refused[rcpt] = _answer(code, resp)
        if len(refused) == len(recipients):
            smtp.rset()
            detail = "; ".join(f"{k}: {v}" for k, v in refused.items())
            raise MailError(f"every recipient was refused ({detail})")
        # smtplib fixes line ends of str data only; bytes must already be CRLF.
        code, resp = smtp.data(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))
        if code != 250:
            raise MailError(f"message refused: {_answer(code, resp)}")
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"sending failed: {exc}") from exc
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            log.debug("QUIT failed after sending", exc_info=True)
    log.info("Sent %s to %s", msg["Message-ID"], ", ".join(recipients))
    return SendLog(
        message_id=str(msg["Message-ID"]),
        sent_at=now,
        server_answer=_answer(code, resp),
        recipients=tuple(r for r in recipients if r not in refused),
        refused=refused,
    )


def save_eml(mail: OutgoingMail, config: MailConfig, path: Path, now: datetime) -> Path:
    """Write the message as a draft .eml that Outlook opens ready to send.

    Returns:
        The path written.
    """
    msg = build_message(mail, config, now)
    # Outlook opens a message marked unsent as an editable draft with Send.
    msg["X-Unsent"] = "1"
    path.write_bytes(msg.as_bytes())
    return path


def eml_bytes(mail: OutgoingMail, config: MailConfig, now: datetime) -> bytes:
    """The message as .eml bytes (stored with the action after sending)."""
    return build_message(mail, config, now).as_bytes()


def check(config: MailConfig) -> str:
    """Connect, authenticate and say hello: what `o2c mail test` reports.

    Returns:
        The server's greeting line.

    Raises:
        MailError: the server is unreachable or refused the login.
    """
    smtp = _connect(config)
    try:
        code, resp = smtp.noop()
        where = f"{config.host}:{config.port} ({config.security})"
        return f"{where} answers {_answer(code, resp)}"
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"the mail server stopped answering ({exc})") from exc
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            log.debug("QUIT failed after check", exc_info=True)

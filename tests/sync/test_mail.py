"""Email through a real SMTP server on loopback: what arrives, and failures."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from o2c_desktop import secrets
from o2c_desktop.settings import Settings
from o2c_desktop.sync import mail
from tests.sync.smtp_server import (
    Inbox,
    attachments,
    certificates,
    free_port,
    start,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

NOW = dt.datetime(2020, 3, 22, 21, 11, 53, tzinfo=dt.UTC)


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box = Inbox(refuse={"nobody@example.org"})
    controller, port = start(box)
    try:
        yield box, port
    finally:
        controller.stop()


def _mail(**kw: object) -> mail.OutgoingMail:
    values: dict[str, object] = {
        "to": ("compta@dupont.example",),
        "subject": "Relance \u2013 facture(s) échue(s) non réglée(s)",
        "text": "Madame, Monsieur,\n\nSauf erreur...\n",
        "html": "<p>Madame, Monsieur,</p><p>Sauf erreur...</p>",
        "sender_name": "Alex Rossi",
        "reply_to": "alex.rossi@acme.example",
        "attachments": (
            mail.Attachment("releve_compte_18981_2020-03-22_22-12-01.pdf", b"%PDF-1 a"),
            mail.Attachment("releve_interet_penalite_18981.pdf", b"%PDF-1 b"),
        ),
    }
    values.update(kw)
    return mail.OutgoingMail(**values)  # type: ignore[arg-type]


def test_message_arrives_with_recipients_subject_bodies_and_attachments(
    inbox: tuple[Inbox, int],
) -> None:
    box, port = inbox
    config = mail.MailConfig(
        host="127.0.0.1", port=port, security="none", mail_from="relances@acme.example"
    )
    log = mail.send(_mail(cc=("dg@dupont.example",)), config, NOW)

    assert len(box.messages) == 1
    got = box.messages[0]
    assert got.sender == "relances@acme.example"
    assert got.recipients == ["compta@dupont.example", "dg@dupont.example"]
    msg = got.message
    assert msg["Subject"] == "Relance \u2013 facture(s) échue(s) non réglée(s)"
    assert msg["From"] == "Alex Rossi <relances@acme.example>"
    assert msg["Reply-To"] == "alex.rossi@acme.example"
    assert msg["Message-ID"] == log.message_id
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None
    assert "Sauf erreur" in text.get_content()
    assert html is not None
    assert "<p>Madame, Monsieur,</p>" in html.get_content()
    assert dict(attachments(msg)) == {
        "releve_compte_18981_2020-03-22_22-12-01.pdf": b"%PDF-1 a",
        "releve_interet_penalite_18981.pdf": b"%PDF-1 b",
    }
    assert log.server_answer == "250 2.0.0 Ok: queued as TEST42"
    assert log.sent_at == NOW
    assert '"message_id"' in log.to_json()


def test_collector_is_the_sender_when_no_mailbox_is_configured(
    inbox: tuple[Inbox, int],
) -> None:
    box, port = inbox
    config = mail.MailConfig(host="127.0.0.1", port=port, security="none")
    mail.send(_mail(), config, NOW)
    msg = box.messages[0].message
    assert msg["From"] == "Alex Rossi <alex.rossi@acme.example>"
    assert msg["Reply-To"] is None


def test_login_uses_the_password_from_the_keyring() -> None:
    box = Inbox()
    controller, port = start(box, user="relances", password="pa55-word")
    try:
        secrets.set_password(mail.smtp_key("127.0.0.1", "relances"), "pa55-word")
        settings = Settings(
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            smtp_user="relances",
            mail_from="relances@acme.example",
        )
        config = mail.config_from_settings(settings)
        assert config.password == "pa55-word"
        assert "pa55" not in repr(config)
        assert "answers 250" in mail.check(config)
        mail.send(_mail(), config, NOW)
        assert len(box.messages) == 1

        wrong = mail.MailConfig(
            host="127.0.0.1", port=port, security="none", user="relances", password="x"
        )
        with pytest.raises(mail.MailError, match="refused the login of 'relances'"):
            mail.send(_mail(), wrong, NOW)
    finally:
        controller.stop()


def test_refused_recipient_and_server_down_raise_with_the_reason(
    inbox: tuple[Inbox, int],
) -> None:
    box, port = inbox
    config = mail.MailConfig(host="127.0.0.1", port=port, security="none")
    with pytest.raises(mail.MailError, match=r"every recipient was refused.*550"):
        mail.send(_mail(to=("nobody@example.org",)), config, NOW)
    # One good, one refused: sent, and the log says who was refused.
    log = mail.send(_mail(to=("ok@dupont.example", "nobody@example.org")), config, NOW)
    assert log.recipients == ("ok@dupont.example",)
    assert "550" in log.refused["nobody@example.org"]
    assert len(box.messages) == 1

    down = mail.MailConfig(
        host="127.0.0.1", port=free_port(), security="none", timeout=3
    )
    with pytest.raises(mail.MailError, match="cannot reach the mail server"):
        mail.send(_mail(), down, NOW)
    with pytest.raises(mail.MailError, match="not configured"):
        mail.send(_mail(), mail.MailConfig(), NOW)
    with pytest.raises(mail.MailError, match="no email address"):
        mail.send(_mail(to=()), config, NOW)


def test_eml_for_outlook_is_a_draft_with_attachments(tmp_path: Path) -> None:
    path = mail.save_eml(
        _mail(),
        mail.MailConfig(mail_from="relances@acme.example"),
        tmp_path / "x.eml",
        NOW,
    )
    from email import message_from_bytes, policy

    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert msg["X-Unsent"] == "1"
    assert msg["To"] == "compta@dupont.example"
    assert msg["Subject"] == "Relance \u2013 facture(s) échue(s) non réglée(s)"
    assert len(list(msg.iter_attachments())) == 2


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_the_company_ca_logs_in_and_sends_encrypted(
    tmp_path: Path, security: str
) -> None:
    certs = certificates(tmp_path)
    box = Inbox()
    controller, port = start(
        box,
        user="relances",
        password="pa55-word",
        tls=certs.server,
        implicit=security == "ssl",
    )
    try:
        secrets.set_password(mail.smtp_key("127.0.0.1", "relances"), "pa55-word")
        config = mail.config_from_settings(
            Settings(
                smtp_host="127.0.0.1",
                smtp_port=port,
                smtp_security=security,
                smtp_user="relances",
                mail_from="relances@acme.example",
                smtp_ca_file=str(certs.ca_file),
            )
        )
        assert config.ca_file == str(certs.ca_file)
        assert f"({security}) answers 250" in mail.check(config)
        log = mail.send(_mail(), config, NOW)
    finally:
        controller.stop()
    [got] = box.messages
    assert got.tls in ("TLSv1.2", "TLSv1.3")
    assert got.message["Message-ID"] == log.message_id
    assert len(dict(attachments(got.message))) == 2


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_an_untrusted_or_misnamed_certificate_is_refused_clearly(
    tmp_path: Path, security: str
) -> None:
    trusted = certificates(tmp_path)
    box = Inbox()
    # A certificate from the company CA, but for another server's name.
    (tmp_path / "other").mkdir()
    other = certificates(tmp_path / "other", "mail.other.example")
    servers = [
        start(box, tls=trusted.server, implicit=security == "ssl"),
        start(box, tls=other.server, implicit=security == "ssl"),
    ]
    try:
        (_c, port), (_c2, other_port) = servers

        def config(port: int, ca_file: Path | None) -> mail.MailConfig:
            return mail.MailConfig(
                host="127.0.0.1",
                port=port,
                security=security,
                mail_from="relances@acme.example",
                ca_file=str(ca_file or ""),
                timeout=5,
            )

        # Without the company CA, the system's authorities don't know it.
        with pytest.raises(
            mail.MailError,
            match=rf"the certificate of the mail server 127\.0\.0\.1:{port} is not "
            r"trusted \(unable to get local issuer certificate\); nothing was sent: "
            r"set the CA file of your company or ask IT",
        ):
            mail.send(_mail(), config(port, None), NOW)
        with pytest.raises(mail.MailError, match="is not trusted"):
            mail.check(config(port, None))
        # With the CA of the other certificate: the name does not match.
        with pytest.raises(
            mail.MailError,
            match=r"not trusted \(IP address mismatch, certificate is not valid for "
            r"'127\.0\.0\.1'\); nothing was sent: check the CA file or ask IT",
        ):
            mail.send(_mail(), config(other_port, other.ca_file), NOW)
        with pytest.raises(mail.MailError, match="cannot use the CA file"):
            mail.send(_mail(), config(port, tmp_path / "missing.pem"), NOW)
    finally:
        for controller, _port in servers:
            controller.stop()
    assert box.messages == []


def test_starttls_is_never_skipped_when_the_server_lacks_it(
    inbox: tuple[Inbox, int],
) -> None:
    box, port = inbox
    plain = mail.MailConfig(host="127.0.0.1", port=port, security="starttls")
    with pytest.raises(mail.MailError, match="does not offer STARTTLS; nothing"):
        mail.send(_mail(), plain, NOW)
    assert box.messages == []

"""Documents of actions from the database, and emails to a real SMTP server.

Scenario: Alex Rossi, collector at Acme France, works a Spanish customer
(Distribuciones <Ñandú> & Cía) and a French one; on both databases.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from o2c_desktop.engine.types import (
    ActionStatus,
    ActionType,
    CaseKind,
    Channel,
    DocumentKind,
    ItemKind,
    StepMode,
)
from o2c_desktop.models import (
    Action,
    ActionItem,
    Case,
    CaseItem,
    Contact,
    Customer,
    Document,
    Entity,
    Item,
    Scenario,
    Step,
    Template,
    User,
)
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.documents import DocumentService, seed_default_templates
from o2c_desktop.services.outbox import AutomaticAction, Entry, channel_for
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

    from o2c_desktop.models.db import Database

D = Decimal
TODAY = dt.date(2024, 9, 30)
NOW = dt.datetime(2024, 9, 30, 8, 15, 0, tzinfo=dt.UTC)


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(p.extract_text() or "" for p in reader.pages)
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _book(db: Database, *, language: str = "es") -> dict[str, uuid.UUID]:
    """An entity, a collector, a customer with items, and three actions."""
    with db.session("alex") as s:
        entity = Entity(
            code="FR01",
            name="Acme France",
            legal_form="SAS",
            city="Lyon",
            postal_code="69002",
            address1="12 rue de la République",
            iban="FR76 3000 4000 0500 0012 3456 789",
            legal_id="RCS Lyon 123 456 789",
        )
        alex = User(
            login="alex",
            full_name="Alex Rossi",
            email="alex.rossi@acme.example",
            phone="04 72 00 00 10",
        )
        s.add_all([entity, alex])
        s.flush()
        customer = Customer(
            entity_id=entity.id,
            reference="18981",
            name="Distribuciones <Ñandú> & Cía",
            address1="Calle Mayor 1",
            postal_code="28013",
            city="Madrid",
            country="ES",
            language=language,
            email="info@nandu.example",
            collector_id=alex.id,
        )
        s.add(customer)
        s.flush()
        contact = Contact(
            customer_id=customer.id,
            name="Lucía Pérez",
            role="accounts_payable",
            email="cuentas@nandu.example",
            is_dunning_contact=True,
        )
        s.add(contact)
        items = [
            Item(
                entity_id=entity.id,
                customer_id=customer.id,
                kind=ItemKind.INVOICE,
                number="FA-2024-0512",
                issue_date=dt.date(2024, 4, 15),
                due_date=dt.date(2024, 5, 15),
                amount=D("10000.00"),
                remaining=D("10000.00"),
                currency="EUR",
            ),
            Item(
                entity_id=entity.id,
                customer_id=customer.id,
                kind=ItemKind.INVOICE,
                number="FA-2024-0733",
                issue_date=dt.date(2024, 7, 1),
                due_date=dt.date(2024, 7, 31),
                amount=D("2450.80"),
                remaining=D("1450.80"),
                currency="EUR",
            ),
            Item(
                entity_id=entity.id,
                customer_id=customer.id,
                kind=ItemKind.UNAPPLIED_CASH,
                number="RG-90",
                issue_date=dt.date(2024, 9, 2),
                due_date=dt.date(2024, 9, 2),
                amount=D("-48.40"),
                remaining=D("-48.40"),
                currency="EUR",
            ),
        ]
        s.add_all(items)
        scenario = Scenario(name="Standard")
        s.add(scenario)
        s.flush()
        email_step = Step(
            scenario_id=scenario.id,
            name="Relance 1",
            offset_days=10,
            action_type=ActionType.EMAIL,
            mode=StepMode.AUTOMATIC,
            template_code="REMINDER_1",
            attach_statement=True,
        )
        notice_step = Step(
            scenario_id=scenario.id,
            name="Mise en demeure",
            offset_days=45,
            action_type=ActionType.REGISTERED_LETTER,
            mode=StepMode.MANUAL,
            template_code="FORMAL_NOTICE",
            attach_statement=True,
            attach_interest=True,
        )
        s.add_all([email_step, notice_step])
        s.flush()
        ids: dict[str, uuid.UUID] = {}
        for key, step, kind in (
            ("email", email_step, ActionType.EMAIL),
            ("notice", notice_step, ActionType.REGISTERED_LETTER),
        ):
            action = Action(
                customer_id=customer.id,
                step_id=step.id,
                action_type=kind,
                planned_date=TODAY,
                status=ActionStatus.PENDING,
                assigned_to_id=alex.id,
            )
            s.add(action)
            s.flush()
            for item in items[:2]:
                s.add(
                    ActionItem(
                        action_id=action.id,
                        item_id=item.id,
                        step_id=step.id,
                        amount=item.remaining,
                        days_late=(TODAY - item.due_date).days,
                    )
                )
            ids[key] = action.id
        promise = Case(
            number="P-6437",
            customer_id=customer.id,
            kind=CaseKind.PROMISE,
            opened_on=TODAY,
            promised_date=dt.date(2024, 10, 15),
            amount=D("1450.80"),
            currency="EUR",
        )
        s.add(promise)
        s.flush()
        s.add(CaseItem(case_id=promise.id, item_id=items[1].id, amount=D("1450.80")))
        confirm = Action(
            customer_id=customer.id,
            case_id=promise.id,
            action_type=ActionType.LETTER,
            planned_date=TODAY,
            assigned_to_id=alex.id,
        )
        s.add(confirm)
        s.flush()
        ids["promise"] = confirm.id
        seed_default_templates(s)
    return ids


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    box = Inbox()
    controller, port = start(box)
    try:
        yield box, port
    finally:
        controller.stop()


def _service(db: Database, port: int | None = None) -> DocumentService:
    ctx = AppContext(db=db, user_login="alex")
    config = mail.MailConfig(
        host="127.0.0.1",
        port=port or free_port(),
        security="none",
        mail_from="relances@acme.example",
        timeout=3,
    )
    return DocumentService(ctx, config, clock=lambda: NOW)


def _entry(action_id: uuid.UUID, kind: ActionType) -> Entry:
    """An outbox entry for an automatic action, as a run writes it."""
    send = AutomaticAction(
        action_id=action_id, customer_id=0, step_id=0, action_type=kind
    )
    return Entry(
        uuid.uuid4(), f"action:{action_id.hex}", channel_for(kind),
        send.payload(), action_id, 1,
    )  # fmt: skip


def test_default_templates_are_seeded_once(db: Database) -> None:
    _book(db)
    with db.session("alex") as s:
        # 10 codes x (email, letter) x (FR, EN, ES, DE)
        assert s.scalar(select(func.count()).select_from(Template)) == 80
        assert seed_default_templates(s) == 0


def test_registered_letter_renders_three_pdfs_stored_with_the_action(
    db: Database,
) -> None:
    ids = _book(db, language="fr")
    result = _service(db).render_action(ids["notice"], today=TODAY)
    stamp = NOW.astimezone().strftime("%Y-%m-%d_%H-%M-%S")
    assert [d.filename for d in result.documents] == [
        f"letter_18981_{stamp}.pdf",
        f"releve_compte_18981_{stamp}.pdf",
        f"releve_interet_penalite_18981_{stamp}.pdf",
    ]
    assert result.stored
    letter = _pdf_text(result.documents[0].content)
    assert "Distribuciones <Ñandú> & Cía" in letter
    assert "Mise en demeure de payer" in letter
    assert "LETTRE RECOMMANDÉE" in letter
    assert "12 058,87 €" in letter
    interest = _pdf_text(result.documents[2].content)
    assert "182,74 €" in interest
    assert "359,18 €" in interest
    # Rendering again replaces the generated PDFs instead of piling them up.
    _service(db).render_action(ids["notice"], today=TODAY)
    with db.session("alex") as s:
        docs = s.scalars(
            select(Document).where(Document.action_id == ids["notice"])
        ).all()
        assert sorted(d.kind for d in docs) == sorted(
            [
                DocumentKind.LETTER,
                DocumentKind.STATEMENT,
                DocumentKind.INTEREST_STATEMENT,
            ]
        )


@pytest.mark.parametrize(
    ("customer_rate", "entity_rate"),
    [
        (None, D("15")),  # the entity's general terms of sale
        (D("15"), D("16")),  # the customer's own contract overrides them
    ],
)
def test_formal_notice_claims_interest_at_the_contractual_rate(
    db: Database, customer_rate: Decimal | None, entity_rate: Decimal | None
) -> None:
    ids = _book(db, language="fr")
    with db.session("alex") as s:
        s.scalars(select(Entity)).one().late_interest_rate = entity_rate
        s.scalars(select(Customer)).one().late_interest_rate = customer_rate
    result = _service(db).render_action(ids["notice"], today=TODAY)
    # 15 % a year, statement on 30 September 2024:
    # FA-2024-0512, 10,000.00 due 15 May: 16 May - 30 June = 46 days at the legal
    # floor 3 x 5.07 = 15.21 % (above 15 %): 10,000 x 0.1521 x 46 / 365 = 191.69;
    # 1 July - 30 September = 92 days at 15 % (floor 14.76 %):
    # 10,000 x 0.15 x 92 / 365 = 378.08.
    # FA-2024-0733, 1,450.80 due 31 July: 61 days at 15 %:
    # 1,450.80 x 0.15 x 61 / 365 = 36.37. Interest 606.14, indemnities 80.00.
    interest = _pdf_text(result.documents[2].content)
    for amount in ("191,69 €", "378,08 €", "36,37 €", "606,14 €", "686,14 €"):
        assert amount in interest
    assert "15,21 %" in interest
    assert "Taux contractuel (conditions générales de vente) : 15,00 % l'an" in (
        interest
    )
    # The letter claims 11,450.80 - 48.40 unapplied + 606.14 + 80.00.
    assert "12 088,54 €" in _pdf_text(result.documents[0].content)


def test_email_arrives_in_the_customer_language_and_the_action_is_done(
    db: Database, smtp: tuple[Inbox, int]
) -> None:
    box, port = smtp
    ids = _book(db, language="es")
    result = _service(db, port).send_action_email(ids["email"], today=TODAY)
    assert result.sent, result.reason
    assert len(box.messages) == 1
    got = box.messages[0]
    assert got.recipients == ["cuentas@nandu.example"]
    assert (
        got.message["Subject"]
        == "Recordatorio \u2013 factura(s) vencida(s) pendiente(s) de pago"
    )
    assert got.message["Reply-To"] == "alex.rossi@acme.example"
    body = got.message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "Estimados señores:" in text
    assert "11.450,80" in text
    names = [n for n, _ in attachments(got.message)]
    # Named in the customer's language, as the documents are written.
    stamp = f"{NOW.astimezone():%Y-%m-%d_%H-%M-%S}"
    assert names == [f"extracto_cuenta_18981_{stamp}.pdf"]
    with db.session("alex") as s:
        action = s.get(Action, ids["email"])
        assert action is not None
        assert action.status is ActionStatus.DONE
        assert action.reason is None
        assert action.performed_at == NOW
        log = json.loads(action.send_log or "{}")
        assert log["message_id"] == got.message["Message-ID"]
        assert log["server_answer"].startswith("250")
        kinds = s.scalars(
            select(Document.kind).where(Document.action_id == ids["email"])
        ).all()
        assert sorted(kinds) == [DocumentKind.EMAIL, DocumentKind.STATEMENT]


def test_email_can_carry_its_letter_as_a_pdf(
    db: Database, smtp: tuple[Inbox, int]
) -> None:
    box, port = smtp
    ids = _book(db, language="es")
    result = _service(db, port).send_action_email(
        ids["email"], today=TODAY, attach_letter=True
    )
    assert result.sent, result.reason
    stamp = f"{NOW.astimezone():%Y-%m-%d_%H-%M-%S}"
    got = dict(attachments(box.messages[0].message))
    assert list(got) == [
        f"carta_18981_{stamp}.pdf",
        f"extracto_cuenta_18981_{stamp}.pdf",
    ]
    letter = _pdf_text(got[f"carta_18981_{stamp}.pdf"])
    assert "Distribuciones <Ñandú> & Cía" in letter
    assert "FA-2024-0512" in letter
    with db.session("alex") as s:
        kinds = s.scalars(
            select(Document.kind).where(Document.action_id == ids["email"])
        ).all()
        assert sorted(kinds) == sorted(
            [DocumentKind.EMAIL, DocumentKind.LETTER, DocumentKind.STATEMENT]
        )


def test_server_down_leaves_the_action_pending_with_the_reason(db: Database) -> None:
    ids = _book(db)
    result = _service(db).send_action_email(ids["email"], today=TODAY)
    assert not result.sent
    assert result.reason is not None
    assert "cannot reach the mail server" in result.reason
    with db.session("alex") as s:
        action = s.get(Action, ids["email"])
        assert action is not None
        assert action.status is ActionStatus.PENDING
        assert action.performed_at is None
        assert action.reason == result.reason


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_an_untrusted_certificate_leaves_the_action_pending_until_the_ca_is_set(
    db: Database, tmp_path: Path, security: str
) -> None:
    certs = certificates(tmp_path)
    box = Inbox()
    controller, port = start(box, tls=certs.server, implicit=security == "ssl")
    ids = _book(db)
    ctx = AppContext(db=db, user_login="alex")

    def service(ca_file: str) -> DocumentService:
        config = mail.MailConfig(
            host="127.0.0.1",
            port=port,
            security=security,
            mail_from="relances@acme.example",
            ca_file=ca_file,
            timeout=5,
        )
        return DocumentService(ctx, config, clock=lambda: NOW)

    try:
        refused = service("").send_action_email(ids["email"], today=TODAY)
        assert not refused.sent
        assert refused.reason == (
            f"Email not sent: the certificate of the mail server 127.0.0.1:{port} "
            "is not trusted (unable to get local issuer certificate); nothing was "
            "sent: set the CA file of your company or ask IT"
        )
        assert box.messages == []
        with db.session("alex") as s:
            action = s.get(Action, ids["email"])
            assert action is not None
            assert (action.status, action.reason) == (
                ActionStatus.PENDING,
                refused.reason,
            )
            assert action.send_log is None
        sent = service(str(certs.ca_file)).send_action_email(ids["email"], today=TODAY)
        assert sent.sent, sent.reason
    finally:
        controller.stop()
    [got] = box.messages
    assert got.tls is not None
    with db.session("alex") as s:
        action = s.get(Action, ids["email"])
        assert action is not None
        assert (action.status, action.reason) == (ActionStatus.DONE, None)


def test_missing_translation_falls_back_to_the_entity_language_and_says_so(
    db: Database,
) -> None:
    ids = _book(db, language="it")
    result = _service(db).render_action(ids["notice"], today=TODAY)
    assert result.language == "fr"
    assert result.note is not None
    assert "'it'" in result.note
    with db.session("alex") as s:
        action = s.get(Action, ids["notice"])
        assert action is not None
        assert result.note in (action.comment or "")


def test_an_edited_template_in_the_database_wins(db: Database) -> None:
    ids = _book(db, language="fr")
    with db.session("alex") as s:
        row = s.scalars(
            select(Template).where(
                Template.code == "FORMAL_NOTICE",
                Template.channel == Channel.LETTER,
                Template.language == "fr",
            )
        ).one()
        row.subject = "Ultime mise en demeure \u2013 {{ customer.reference }}"
    result = _service(db).render_action(ids["notice"], today=TODAY)
    assert "Ultime mise en demeure \u2013 18981" in _pdf_text(
        result.documents[0].content
    )


def test_promise_confirmation_letter_quotes_the_promise(db: Database) -> None:
    ids = _book(db, language="fr")
    result = _service(db).render_action(ids["promise"], today=TODAY)
    assert result.template_code == "PROMISE_CONFIRMATION"
    text = _pdf_text(result.documents[0].content)
    assert "1 450,80 €" in text
    assert "15/10/2024" in text
    assert "FA-2024-0733" in text
    assert "FA-2024-0512" not in text  # only the promised item


def test_statement_for_a_customer_by_reference(db: Database) -> None:
    _book(db)
    doc = _service(db).statement("18981", language="fr", today=TODAY)
    assert doc.filename.startswith("releve_compte_18981_")
    text = _pdf_text(doc.content)
    assert "Relevé de compte" in text
    assert "11 402,40 €" in text  # 10,000 + 1,450.80 - 48.40
    with pytest.raises(LookupError, match="Customer 99999 not found"):
        _service(db).statement("99999")


def test_perform_sends_automatic_actions_for_the_dunning_run(
    db: Database, smtp: tuple[Inbox, int]
) -> None:
    box, port = smtp
    ids = _book(db)

    sent = _service(db, port).perform(_entry(ids["email"], ActionType.EMAIL))
    letter = _service(db, port).perform(_entry(ids["notice"], ActionType.LETTER))
    assert (sent.done, letter.done) == (True, True)
    assert '"message_id"' in sent.log
    assert letter.log.startswith("carta_18981_")  # a Spanish customer
    assert len(box.messages) == 1
    # The .eml is kept with the outcome, in the outbox's transaction.
    assert sent.keep is not None
    with db.session("alex") as s:
        sent.keep(s)
        kinds = s.scalars(
            select(Document.kind).where(Document.action_id == ids["email"])
        ).all()
    assert DocumentKind.EMAIL in kinds
    down = _service(db).perform(_entry(ids["email"], ActionType.EMAIL))
    assert not down.done
    assert "cannot reach the mail server" in down.log
    # Nothing left: the outbox may try again later.
    assert down.retry


def test_a_stored_template_that_would_hang_fails_its_action_and_the_run_goes_on(
    db: Database, smtp: tuple[Inbox, int]
) -> None:
    # Issue 14 §5: a template written into the database without the editor's
    # check (an import) would loop 10^8 times: the nightly run stalled on it.
    box, port = smtp
    ids = _book(db)
    with db.session("alex") as s:
        row = s.scalars(
            select(Template).where(
                Template.code == "REMINDER_1",
                Template.channel == Channel.EMAIL,
                Template.language == "es",
            )
        ).one()
        row.body = (
            "{% set n = 10000 %}{% for a in range(n) %}\n"
            "{% for b in range(n) %}x{% endfor %}{% endfor %}"
        )

    email = _service(db, port).perform(_entry(ids["email"], ActionType.EMAIL))
    letter = _service(db, port).perform(_entry(ids["notice"], ActionType.LETTER))
    assert (email.done, letter.done) == (False, True)
    assert not email.retry  # the template will not get better by waiting
    assert email.log == (
        "Email not sent: body, line 2: loops run more than 10000 times in all"
    )
    assert box.messages == []
    # Sent by hand: the action stays pending with the same reason.
    result = _service(db, port).send_action_email(ids["email"], today=TODAY)
    assert not result.sent
    assert result.reason == email.log
    with db.session("alex") as s:
        action = s.get(Action, ids["email"])
        assert action is not None
        assert action.status is ActionStatus.PENDING
        assert action.reason == result.reason

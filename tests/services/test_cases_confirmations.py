"""Confirming a promise or a plan to the customer, in the entity's language (both DBs).

Alice records Monnier's promise on the phone and sends the confirmation
letter; a payment plan's letter lists its schedule; an email waits in her
agenda while mail is not set up and goes out once it is.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from o2c_desktop.engine.cases import CaseEvent
from o2c_desktop.engine.types import ActionStatus, ActionType, DocumentKind
from o2c_desktop.models import Action, AuditEntry, Case, Document
from o2c_desktop.services import cases as cases_module
from o2c_desktop.services.cases import CasesService
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.documents import DocumentService
from o2c_desktop.sync import mail
from tests.services._cases_book import Book, build_book
from tests.sync.smtp_server import Inbox, attachments, start

if TYPE_CHECKING:
    from collections.abc import Iterator

    from o2c_desktop.models.db import Database

D = Decimal
MONDAY = dt.date(2026, 3, 9)


@pytest.fixture
def book(db: Database) -> Book:
    return build_book(db)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    box = Inbox()
    controller, port = start(box)
    try:
        yield box, port
    finally:
        controller.stop()


def _with_documents(book: Book, config: mail.MailConfig | None = None) -> CasesService:
    ctx = AppContext(db=book.db, user_login="alice")
    return CasesService(ctx, documents=DocumentService(ctx, config))


def _pdf_text(book: Book, action_id: str) -> str:
    with book.db.session() as s:
        [content] = s.scalars(
            select(Document.content).where(
                Document.action_id == uuid.UUID(action_id),
                Document.kind == DocumentKind.LETTER,
            )
        ).all()
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def _action(book: Book, action_id: str) -> Action:
    with book.db.session() as s:
        action = s.get(Action, uuid.UUID(action_id))
        assert action is not None
        s.expunge(action)
        return action


def test_a_promise_is_confirmed_by_letter_with_the_amount_and_the_date(
    book: Book,
) -> None:
    alice = _with_documents(book)
    promise = alice.open_promise(
        book.monnier,
        today=MONDAY,
        promised_date=dt.date(2026, 3, 20),
        item_ids=[book.f1, book.f2],
        source="call",
    ).case
    sent = alice.send_confirmation(promise.id, today=MONDAY)
    assert (sent.channel, sent.sent, sent.reason) == ("letter", True, None)
    assert len(sent.documents) == 1
    assert sent.documents[0].endswith(".pdf")
    text = _pdf_text(book, sent.action_id)
    assert "1,500.00" in text
    assert "20/03/2026" in text
    assert "23854826" in text
    assert "47997206" in text
    action = _action(book, sent.action_id)
    assert (action.status, action.action_type) == (ActionStatus.DONE, ActionType.LETTER)
    assert action.case_event == CaseEvent.CONFIRMED
    events = [a.event for a in alice.case_actions(promise.id)]
    assert events == [CaseEvent.OPENED, CaseEvent.CONFIRMED]


def test_a_payment_plan_confirmation_lists_the_schedule(book: Book) -> None:
    alice = _with_documents(book)
    plan = alice.open_payment_plan(
        book.monnier,
        today=MONDAY,
        item_ids=[book.f1, book.f2],
        count=3,
        first_due=dt.date(2026, 4, 1),
    ).case
    sent = alice.send_confirmation(plan.id, today=MONDAY)
    assert sent.sent
    text = _pdf_text(book, sent.action_id)
    for day in ("01/04/2026", "01/05/2026", "01/06/2026"):
        assert day in text
    assert text.count("500.00") >= 3
    assert "1,500.00" in text  # the plan's total


def test_an_email_confirmation_waits_until_mail_is_set_up(
    book: Book, smtp: tuple[Inbox, int]
) -> None:
    promise = (
        book.service("alice")
        .open_promise(book.monnier, today=MONDAY, promised_date=dt.date(2026, 3, 20))
        .case
    )
    waiting = _with_documents(book).send_confirmation(
        promise.id, today=MONDAY, by_email=True
    )
    assert not waiting.sent
    assert waiting.reason == "Email not sent: mail is not configured"
    action = _action(book, waiting.action_id)
    assert (action.status, action.reason) == (ActionStatus.PENDING, waiting.reason)
    assert [s for s, _c in book.agenda("alice")] == [action.subject]

    box, port = smtp
    config = mail.MailConfig(
        host="127.0.0.1",
        port=port,
        security="none",
        mail_from="relances@vallet.example",
        timeout=3,
    )
    sent = _with_documents(book, config).send_confirmation(
        promise.id, today=MONDAY, by_email=True
    )
    assert sent.sent, sent.reason
    [got] = box.messages
    assert got.recipients == ["compta@monnier.example"]
    body = got.message.get_body(preferencelist=("plain",))
    assert body is not None
    assert "1,500.00" in body.get_content()
    assert "20/03/2026" in body.get_content()
    assert any(name.endswith(".eml") for name in sent.documents)
    assert _action(book, sent.action_id).status == ActionStatus.DONE
    # The confirmation letter travels as a PDF the customer can print and file.
    [(name, pdf)] = list(attachments(got.message))
    assert name.startswith("letter_18981_")
    assert name.endswith(".pdf")
    assert name in sent.documents
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Monnier et Fils" in text
    assert "20/03/2026" in text
    assert "1,500.00" in text
    # The PDF kept with the action is the one that was sent.
    assert _pdf_text(book, sent.action_id) == text


def test_a_plan_confirmation_email_carries_the_schedule_as_a_pdf(
    book: Book, smtp: tuple[Inbox, int]
) -> None:
    box, port = smtp
    config = mail.MailConfig(
        host="127.0.0.1",
        port=port,
        security="none",
        mail_from="relances@vallet.example",
        timeout=3,
    )
    alice = _with_documents(book, config)
    plan = alice.open_payment_plan(
        book.monnier,
        today=MONDAY,
        item_ids=[book.f1, book.f2],
        count=3,
        first_due=dt.date(2026, 4, 1),
    ).case
    sent = alice.send_confirmation(plan.id, today=MONDAY, by_email=True)
    assert sent.sent, sent.reason
    [got] = box.messages
    [(name, pdf)] = list(attachments(got.message))
    assert name.endswith(".pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for day in ("01/04/2026", "01/05/2026", "01/06/2026"):
        assert day in text


def test_a_closed_promise_is_not_confirmed(book: Book) -> None:
    alice = _with_documents(book)
    promise = alice.open_promise(
        book.denis, today=MONDAY, promised_date=dt.date(2026, 3, 20)
    ).case
    alice.keep_promise(promise.id, today=MONDAY)
    with pytest.raises(cases_module.CaseStateError, match="already kept"):
        alice.send_confirmation(promise.id, today=MONDAY)


def test_a_french_entity_gets_its_case_actions_in_french(db: Database) -> None:
    book = build_book(db, language="fr")
    alice = book.service("alice")
    promise = alice.open_promise(
        book.monnier,
        today=MONDAY,
        promised_date=dt.date(2026, 3, 13),
        grace_days=0,
        item_ids=[book.f1, book.f2],
    ).case
    book.pay(book.f1, D("400.00"))
    assert alice.review_due_cases(dt.date(2026, 3, 14)).report.promises_broken
    [(subject, comment)] = book.agenda("alice")
    assert subject == f"Promesse de paiement N°{promise.number} - Promesse non tenue"
    assert comment == "Payé 400,00 sur 1\u202f500,00"
    dispute = alice.open_dispute(
        book.denis, today=MONDAY, items=[book.g1], reason="price", number="1419"
    ).case
    [registered] = alice.case_actions(dispute.id)
    # "Contestation sur le prix - Dossier N°1419 - Enregistrement du litige"
    assert registered.subject is not None
    assert registered.subject.startswith("Contestation sur le prix - ")
    assert registered.subject.endswith(" N°1419 - Enregistrement du litige")


def test_two_desktops_opening_a_case_at_the_same_moment_get_two_numbers(
    book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = book.service("alice"), book.service("bob")
    real = cases_module._next_number
    raced: list[bool] = []
    taken: list[str] = []

    def bob_is_quicker(s: Any) -> str:
        number = real(s)
        if not raced:
            raced.append(True)
            # Bob's desktop computes the same number and saves first.
            taken.append(
                bob.open_promise(
                    book.denis, today=MONDAY, promised_date=dt.date(2026, 3, 20)
                ).case.number
            )
        return number

    monkeypatch.setattr(cases_module, "_next_number", bob_is_quicker)
    mine = alice.open_promise(
        book.monnier, today=MONDAY, promised_date=dt.date(2026, 3, 20)
    ).case
    monkeypatch.undo()
    assert taken == ["1"]
    assert mine.number == "2"
    with book.db.session() as s:
        numbers = sorted(s.scalars(select(Case.number)))
        inserts = s.scalars(
            select(AuditEntry.changes).where(
                AuditEntry.table_name == "case_file", AuditEntry.operation == "insert"
            )
        ).all()
    assert numbers == ["1", "2"]
    # No trace of the refused insert in the audit trail.
    assert sorted(c["number"] for c in inserts) == ["1", "2"]
    # A number given by the ERP is not renumbered: it is refused.
    with pytest.raises(ValueError, match="case number 2 is already used"):
        alice.open_dispute(
            book.denis, today=MONDAY, items=[book.g1], reason="price", number="2"
        )

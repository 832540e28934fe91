"""Disputes (litiges), as the collector and the sales rep live them (both DBs)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from o2c_desktop.engine.cases import DisputeOutcome, DisputeReason, FollowUpKind
from o2c_desktop.engine.types import CaseStatus
from o2c_desktop.services.cases import CasesService
from o2c_desktop.services.context import AppContext
from tests.services._cases_book import Book, build_book

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database

D = Decimal
OCT16 = dt.date(2026, 3, 16)


@pytest.fixture
def book(db: Database) -> Book:
    return build_book(db)


def test_the_seed_dispute_from_registration_to_unjustified(book: Book) -> None:
    alice, sam = book.service("alice"), book.service("sam")
    # "Contestation sur le prix - Dossier N°1419 - Enregistrement du litige"
    change = alice.open_dispute(
        book.monnier,
        today=OCT16,
        items=[book.f1, book.f2],
        reason="price",
        owner="sam",
        number="1419",
        comment="Unit price differs from the quote",
    )
    dispute = change.case
    assert change.changes.notifications
    assert dispute.answer_due == OCT16 + dt.timedelta(days=15)
    assert dispute.amount == D("1500.00")
    assert book.item(book.f1).disputed
    assert book.item(book.f2).disputed
    assert book.item(book.f1).remaining == D("1000.00")  # still in the outstanding
    [note] = sam.notifications(unread_only=True)
    assert note.message.startswith("Price dispute - Case N°1419 - Dispute registered")
    assert note.customer_id == book.monnier
    assert note.sender == "alice"

    # "Retour commercial": Sam answers; then Alice calls the customer.
    sam.record_follow_up(
        dispute.id,
        today=dt.date(2026, 3, 25),
        kind=FollowUpKind.ANSWER,
        comment="The quote was for 2025; 2026 prices apply",
    )
    alice.record_follow_up(
        dispute.id, today=dt.date(2026, 3, 26), kind=FollowUpKind.CALL_OUT
    )
    subjects = [a.subject for a in alice.case_actions(dispute.id)]
    assert subjects == [
        "Price dispute - Case N°1419 - Dispute registered",
        "Price dispute - Case N°1419 - Sales feedback",
        "Price dispute - Case N°1419 - Dispute follow-up - outgoing call",
    ]
    # Answered: no escalation after the due date.
    assert not alice.review_due_cases(dt.date(2026, 4, 2)).report.disputes_escalated

    resolved = alice.resolve_dispute(
        dispute.id,
        today=dt.date(2026, 3, 27),
        outcome=DisputeOutcome.UNJUSTIFIED,
        version=alice.case(dispute.id).version,
    ).case
    assert resolved.status == CaseStatus.RESOLVED
    assert resolved.resolution == "unjustified"
    # Back in dunning at their next step.
    assert not book.item(book.f1).disputed
    assert not book.item(book.f2).disputed
    sam.mark_read(note.id)
    assert sam.notifications(unread_only=True) == ()


def test_an_unanswered_dispute_escalates_to_the_credit_manager_once(
    book: Book,
) -> None:
    alice = book.service("alice")
    dispute = alice.open_dispute(
        book.denis,
        today=OCT16,
        items=[book.g1],
        reason="delivery",
        owner="sam",
        answer_due=dt.date(2026, 3, 31),
    ).case
    assert not alice.review_due_cases(dt.date(2026, 3, 31)).report.changed
    report = alice.review_due_cases(dt.date(2026, 4, 1)).report
    assert report.disputes_escalated == (dispute.number,)
    assert report.notifications_sent == 1
    [(subject, comment)] = book.agenda("carla")
    assert (
        subject == f"Delivery dispute - Case N°{dispute.number} - No answer: escalated"
    )
    assert comment == "No answer from Sam Dumas since 31/03/2026"
    [note] = book.service("carla").notifications()
    assert note.customer_id == book.denis
    assert note.action_id is not None
    # The next night: nothing new.
    assert not alice.review_due_cases(dt.date(2026, 4, 2)).report.changed
    # The due date is postponed, and missed again: a second escalation.
    alice.record_follow_up(
        dispute.id,
        today=dt.date(2026, 4, 2),
        kind=FollowUpKind.CALL_OUT,
        answer_due=dt.date(2026, 4, 10),
    )
    assert alice.review_due_cases(dt.date(2026, 4, 11)).report.disputes_escalated
    # Resolving the dispute cancels the escalation tasks left open.
    alice.resolve_dispute(
        dispute.id, today=dt.date(2026, 4, 12), outcome=DisputeOutcome.JUSTIFIED
    )
    assert book.agenda("carla") == []


def test_a_partly_justified_dispute_waits_for_its_credit_note(book: Book) -> None:
    alice = book.service("alice")
    dispute = alice.open_dispute(
        book.monnier,
        today=OCT16,
        items={book.f1: D("300.00"), book.f2: D("200.00")},
        reason="quantity",
    ).case
    assert [i.covered for i in dispute.items] == [D("300.00"), D("200.00")]
    alice.resolve_dispute(
        dispute.id,
        today=dt.date(2026, 3, 20),
        outcome=DisputeOutcome.PARTLY_JUSTIFIED,
        justified_amount=D("120.00"),
    )
    # 120 is credited on the first invoice; the second goes back to dunning.
    assert book.item(book.f1).disputed
    assert not book.item(book.f2).disputed
    waiting = alice.case(dispute.id)
    assert [i.covered for i in waiting.items] == [D("300.00"), D("200.00")]
    assert [i.credit_expected for i in waiting.items] == [D("120.00"), D("0.00")]

    alice.record_credit_note(dispute.id, today=dt.date(2026, 3, 30))
    assert alice.case(dispute.id).status == CaseStatus.CLOSED
    assert not book.item(book.f1).disputed


def test_a_justified_dispute_closes_when_the_credit_note_settles_the_item(
    book: Book,
) -> None:
    alice = book.service("alice")
    dispute = alice.open_dispute(
        book.denis, today=OCT16, items=[book.g1], reason="duplicate"
    ).case
    alice.resolve_dispute(
        dispute.id, today=dt.date(2026, 3, 18), outcome=DisputeOutcome.JUSTIFIED
    )
    assert book.item(book.g1).disputed  # until the credit note arrives
    book.pay(book.g1, D("300.00"))  # the ERP applies the credit note
    report = alice.review_due_cases(dt.date(2026, 3, 25)).report
    assert report.disputes_closed == (dispute.number,)
    assert alice.case(dispute.id).status == CaseStatus.CLOSED
    assert not book.item(book.g1).disputed


def test_a_payment_of_the_item_resolves_the_dispute(book: Book) -> None:
    alice = book.service("alice")
    dispute = alice.open_dispute(
        book.denis, today=OCT16, items=[book.g1], reason="quality"
    ).case
    book.pay(book.g1, D("300.00"))
    report = alice.review_due_cases(dt.date(2026, 3, 20)).report
    assert report.disputes_paid == (dispute.number,)
    resolved = alice.case(dispute.id)
    assert (resolved.status, resolved.resolution) == (CaseStatus.RESOLVED, "paid")
    assert not book.item(book.g1).disputed
    assert not alice.review_due_cases(dt.date(2026, 3, 21)).report.changed


def test_a_dispute_on_part_of_an_item_and_on_bad_input(book: Book) -> None:
    alice = book.service("alice")
    part = alice.open_dispute(
        book.monnier, today=OCT16, items={book.f1: D("100.00")}, reason="price"
    ).case
    assert part.amount == D("100.00")
    # Only the disputed 100.00 leaves dunning; the other 900.00 is still claimed.
    item = book.item(book.f1)
    assert (item.disputed, item.disputed_amount) == (True, D("100.00"))
    with pytest.raises(ValueError, match=r"at most 500\.00"):
        alice.open_dispute(
            book.monnier, today=OCT16, items={book.f2: D("600.00")}, reason="price"
        )
    with pytest.raises(ValueError, match="unknown dispute reason 'colour'"):
        alice.open_dispute(book.monnier, today=OCT16, items=[book.f2], reason="colour")


def test_the_list_of_reasons_is_configurable(book: Book) -> None:
    service = CasesService(
        AppContext(db=book.db, user_login="alice"),
        dispute_reasons=[DisputeReason("packaging", "Damaged packaging")],
    )
    assert [r.code for r in service.dispute_reasons] == ["packaging"]
    dispute = service.open_dispute(
        book.denis, today=OCT16, items=[book.g1], reason="packaging"
    ).case
    [action] = service.case_actions(dispute.id)
    assert action.subject == (
        f"Damaged packaging - Case N°{dispute.number} - Dispute registered"
    )
    with pytest.raises(ValueError, match="unknown dispute reason"):
        service.open_dispute(book.monnier, today=OCT16, items=[book.f1], reason="price")

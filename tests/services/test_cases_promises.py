"""Promises to pay, as the collector lives them (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from o2c_desktop.engine.cases import CaseEvent
from o2c_desktop.engine.types import CaseStatus
from o2c_desktop.models import AuditEntry
from o2c_desktop.services.cases import CaseStateError
from tests.services._cases_book import Book, build_book

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database

D = Decimal
MONDAY = dt.date(2026, 3, 9)


@pytest.fixture
def book(db: Database) -> Book:
    return build_book(db)


def test_a_promise_kept_closes_itself_and_counts_for_reliability(book: Book) -> None:
    alice = book.service("alice")
    # Monday: on the phone, Monnier promises to pay both overdue invoices on the 20th.
    promise = alice.open_promise(
        book.monnier, today=MONDAY, promised_date=dt.date(2026, 3, 20), source="call"
    ).case
    assert promise.amount == D("1500.00")
    assert [i.number for i in promise.items] == ["23854826", "47997206"]
    assert book.item(book.f1).suspended_until == dt.date(2026, 3, 23)  # 3 grace days
    assert book.item(book.f3).suspended_until is None  # not due: not covered

    # The 19th: the ERP records the payment.
    book.pay(book.f1, D("1000.00"))
    book.pay(book.f2, D("500.00"))
    # The nightly run of the 20th closes the promise as kept.
    report = alice.review_due_cases(dt.date(2026, 3, 20)).report
    assert report.promises_kept == (promise.number,)
    after = alice.case(promise.id)
    assert after.status == CaseStatus.KEPT
    assert after.closed_on == dt.date(2026, 3, 20)
    assert book.item(book.f1).suspended_until is None
    events = [a.event for a in alice.case_actions(promise.id)]
    assert events == [CaseEvent.OPENED, CaseEvent.KEPT]
    assert book.agenda("alice") == []
    reliability = alice.promise_reliability(book.monnier, dt.date(2026, 3, 20))
    assert (reliability.kept, reliability.made, reliability.ratio) == (1, 1, D("1.00"))


def test_an_unpaid_promise_breaks_after_the_grace_days_and_lands_in_the_agenda(
    book: Book,
) -> None:
    alice = book.service("alice")
    promise = alice.open_promise(
        book.monnier,
        today=MONDAY,
        promised_date=dt.date(2026, 3, 20),
        amount=D("1200.00"),
        item_ids=[book.f1, book.f2],
    ).case

    # Nothing is paid. Until the end of the grace days, nothing happens.
    for day in (20, 21, 22, 23):
        assert not alice.review_due_cases(dt.date(2026, 3, day)).report.changed
    assert alice.case(promise.id).status == CaseStatus.OPEN

    result = alice.review_due_cases(dt.date(2026, 3, 24))
    assert result.report.promises_broken == (promise.number,)
    assert result.changes.actions
    broken = alice.case(promise.id)
    assert broken.status == CaseStatus.BROKEN
    # Dunning resumes: the items are no longer suspended.
    assert book.item(book.f1).suspended_until is None
    assert book.item(book.f2).suspended_until is None
    subject, _comment = book.agenda("alice")[0]
    assert subject == f"Promise to pay N°{promise.number} - Broken promise"

    # The same night run again creates nothing.
    assert not alice.review_due_cases(dt.date(2026, 3, 24)).report.changed
    assert len(book.agenda("alice")) == 1
    reliability = alice.promise_reliability(book.monnier, dt.date(2026, 3, 24))
    assert (reliability.kept, reliability.made, reliability.ratio) == (0, 1, D("0.00"))


def test_a_partly_paid_promise_is_broken_for_what_is_left(book: Book) -> None:
    alice = book.service("alice")
    promise = alice.open_promise(
        book.monnier,
        today=MONDAY,
        promised_date=dt.date(2026, 3, 13),
        grace_days=0,
        item_ids=[book.f1, book.f2],
    ).case
    book.pay(book.f1, D("400.00"))

    report = alice.review_due_cases(dt.date(2026, 3, 14)).report
    assert report.promises_broken == (promise.number,)
    [(_subject, comment)] = book.agenda("alice")
    assert comment == "Paid 400.00 of 1,500.00"
    [task] = [a for a in alice.case_actions(promise.id) if a.event == "case_broken"]
    assert task.assigned_to == "alice"


def test_a_broken_promise_goes_to_the_replacement_while_the_collector_is_away(
    book: Book,
) -> None:
    from o2c_desktop.models import User

    with book.db.session("admin") as s:
        alice_row = s.scalars(select(User).where(User.login == "alice")).one()
        alice_row.absent_from = dt.date(2026, 3, 16)
        alice_row.absent_until = dt.date(2026, 3, 27)
    alice = book.service("alice")
    alice.open_promise(book.denis, today=MONDAY, promised_date=dt.date(2026, 3, 16))
    alice.review_due_cases(dt.date(2026, 3, 20))
    assert book.agenda("alice") == []
    assert len(book.agenda("bob")) == 1


def test_the_collector_keeps_or_cancels_a_promise_by_hand(book: Book) -> None:
    alice = book.service("alice")
    kept = alice.open_promise(
        book.monnier, today=MONDAY, promised_date=dt.date(2026, 3, 20)
    ).case
    alice.keep_promise(kept.id, today=dt.date(2026, 3, 10), comment="transfer seen")
    assert alice.case(kept.id).status == CaseStatus.KEPT
    with pytest.raises(CaseStateError, match="already kept"):
        alice.break_promise(kept.id, today=dt.date(2026, 3, 11))

    cancelled = alice.open_promise(
        book.denis, today=MONDAY, promised_date=dt.date(2026, 3, 20)
    ).case
    assert book.item(book.g1).suspended_until == dt.date(2026, 3, 23)
    alice.cancel_case(cancelled.id, today=dt.date(2026, 3, 11))
    assert alice.case(cancelled.id).status == CaseStatus.CANCELLED
    assert book.item(book.g1).suspended_until is None
    reliability = alice.promise_reliability(book.denis, dt.date(2026, 3, 11))
    assert reliability.made == 0  # a cancelled promise is not counted


def test_closing_a_promise_keeps_a_longer_hold_on_its_items(book: Book) -> None:
    alice = book.service("alice")
    promise = alice.open_promise(
        book.denis, today=MONDAY, promised_date=dt.date(2026, 3, 20)
    ).case
    alice.hold_items(
        [book.g1], today=MONDAY, reason="director on leave", until=dt.date(2026, 4, 30)
    )
    alice.break_promise(promise.id, today=dt.date(2026, 3, 12))
    # The promise's suspension ends; the item's own hold stays.
    item = book.item(book.g1)
    assert item.suspended_until is None
    assert (item.hold_until, item.hold_reason) == (
        dt.date(2026, 4, 30),
        "director on leave",
    )


def test_a_promise_needs_a_future_date_and_something_to_cover(book: Book) -> None:
    alice = book.service("alice")
    with pytest.raises(ValueError, match="in the past"):
        alice.open_promise(
            book.monnier, today=MONDAY, promised_date=dt.date(2026, 3, 1)
        )
    with pytest.raises(ValueError, match="belongs to another customer"):
        alice.open_promise(
            book.monnier,
            today=MONDAY,
            promised_date=dt.date(2026, 3, 20),
            item_ids=[book.g1],
        )
    book.pay(book.g1, D("300.00"))
    with pytest.raises(ValueError, match="no open debt"):
        alice.open_promise(book.denis, today=MONDAY, promised_date=dt.date(2026, 3, 20))


def test_every_change_of_a_promise_is_in_the_audit_trail(book: Book) -> None:
    alice = book.service("alice")
    promise = alice.open_promise(
        book.denis, today=MONDAY, promised_date=dt.date(2026, 3, 20)
    ).case
    book.service("bob").break_promise(promise.id, today=dt.date(2026, 3, 12))
    with book.db.session() as s:
        case_log = s.execute(
            select(AuditEntry.user_login, AuditEntry.operation, AuditEntry.changes)
            .where(AuditEntry.table_name == "case_file")
            .order_by(AuditEntry.id)
        ).all()
        item_log = s.execute(
            select(AuditEntry.user_login, AuditEntry.changes)
            .where(
                AuditEntry.table_name == "item",
                AuditEntry.record_id == str(book.g1),
                AuditEntry.operation == "update",
            )
            .order_by(AuditEntry.id)
        ).all()
    assert [(who, op) for who, op, _c in case_log] == [
        ("alice", "insert"),
        ("bob", "update"),
    ]
    assert case_log[1][2]["status"] == ["open", "broken"]
    assert [(who, c["suspended_until"]) for who, c in item_log] == [
        ("alice", [None, "2026-03-23"]),
        ("bob", ["2026-03-23", None]),
    ]

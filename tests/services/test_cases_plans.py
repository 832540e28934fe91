"""Payment plans (échéanciers), as the collector lives them (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from o2c_desktop.engine.cases import CaseEvent
from o2c_desktop.engine.types import CaseStatus
from tests.services._cases_book import Book, build_book

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database

D = Decimal
DAY = dt.date(2026, 3, 9)


@pytest.fixture
def book(db: Database) -> Book:
    return build_book(db)


def test_a_plan_paid_on_time_runs_to_its_end_and_closes_as_kept(book: Book) -> None:
    alice = book.service("alice")
    # Monnier can't pay 1,500 at once: three monthly instalments from 1 April.
    plan = alice.open_payment_plan(
        book.monnier, today=DAY, count=3, first_due=dt.date(2026, 4, 1)
    ).case
    assert [(i.due_date, i.amount) for i in plan.instalments] == [
        (dt.date(2026, 4, 1), D("500.00")),
        (dt.date(2026, 5, 1), D("500.00")),
        (dt.date(2026, 6, 1), D("500.00")),
    ]
    # The plan replaces the items for dunning until its last instalment + grace
    # (10 days by default, issue 16).
    assert plan.grace_days == 10
    assert book.item(book.f1).suspended_until == dt.date(2026, 6, 11)
    assert book.item(book.f2).suspended_until == dt.date(2026, 6, 11)

    book.pay(book.f1, D("500.00"))  # first instalment, on 31 March
    assert not alice.review_due_cases(dt.date(2026, 4, 10)).report.changed
    running = alice.case(plan.id)
    assert [i.paid for i in running.instalments] == [D("500.00"), D("0"), D("0")]

    book.pay(book.f1, D("500.00"))  # second, on 30 April
    alice.review_due_cases(dt.date(2026, 5, 10))
    book.pay(book.f2, D("500.00"))  # third, on 29 May
    report = alice.review_due_cases(dt.date(2026, 5, 30)).report
    assert report.plans_kept == (plan.number,)
    assert alice.case(plan.id).status == CaseStatus.KEPT
    assert book.item(book.f2).suspended_until is None
    assert book.agenda("alice") == []


def test_a_missed_instalment_breaks_the_plan_and_puts_the_items_back(
    book: Book,
) -> None:
    alice = book.service("alice")
    plan = alice.open_payment_plan(
        book.monnier,
        today=DAY,
        item_ids=[book.f1, book.f2],
        schedule=[
            (dt.date(2026, 3, 31), D("700.00")),
            (dt.date(2026, 4, 30), D("800.00")),
        ],
    ).case
    book.pay(book.f1, D("700.00"))
    assert not alice.review_due_cases(dt.date(2026, 4, 3)).report.changed
    book.pay(book.f1, D("100.00"))  # 100 of the 800 due on 30 April
    assert not alice.review_due_cases(dt.date(2026, 5, 10)).report.changed  # grace

    report = alice.review_due_cases(dt.date(2026, 5, 11)).report
    assert report.plans_broken == (plan.number,)
    assert alice.case(plan.id).status == CaseStatus.BROKEN
    assert book.item(book.f1).suspended_until is None
    assert book.item(book.f2).suspended_until is None
    [(subject, comment)] = book.agenda("alice")
    assert subject == f"Payment plan N°{plan.number} - Broken payment plan"
    assert comment == "Instalment 2 of 30/04/2026: 100.00 paid of 800.00"


def test_editing_the_schedule_keeps_what_was_paid_and_the_history(book: Book) -> None:
    alice = book.service("alice")
    plan = alice.open_payment_plan(
        book.monnier, today=DAY, count=3, first_due=dt.date(2026, 4, 1)
    ).case
    book.pay(book.f1, D("500.00"))
    # May: the customer asks for smaller instalments ("Modifier l'échéancier").
    edited = alice.edit_schedule(
        plan.id,
        today=dt.date(2026, 4, 20),
        version=plan.version,
        count=4,
        first_due=dt.date(2026, 5, 15),
    ).case
    assert edited.plan_version == 2
    assert [(i.seq, i.due_date, i.amount, i.paid) for i in edited.instalments] == [
        (1, dt.date(2026, 4, 1), D("500.00"), D("500.00")),
        (2, dt.date(2026, 5, 15), D("250.00"), D("0.00")),
        (3, dt.date(2026, 6, 15), D("250.00"), D("0.00")),
        (4, dt.date(2026, 7, 15), D("250.00"), D("0.00")),
        (5, dt.date(2026, 8, 15), D("250.00"), D("0.00")),
    ]
    assert book.item(book.f2).suspended_until == dt.date(2026, 8, 25)
    history = alice.schedule_history(plan.id)
    assert [i.plan_version for i in history] == [1, 1, 1, 2, 2, 2, 2, 2]
    events = [a.event for a in alice.case_actions(plan.id)]
    assert events == [CaseEvent.OPENED, CaseEvent.SCHEDULE_EDITED]
    # The old 1 May date no longer counts; the new 15 May one does.
    book.pay(book.f2, D("250.00"))
    assert not alice.review_due_cases(dt.date(2026, 6, 1)).report.changed
    assert alice.review_due_cases(dt.date(2026, 6, 26)).report.plans_broken == (
        plan.number,
    )


def test_cancelling_a_plan_puts_the_items_back_under_the_scenario(book: Book) -> None:
    alice = book.service("alice")
    plan = alice.open_payment_plan(
        book.denis, today=DAY, count=2, first_due=dt.date(2026, 4, 1)
    ).case
    alice.cancel_case(plan.id, today=dt.date(2026, 3, 20), comment="customer refused")
    assert alice.case(plan.id).status == CaseStatus.CANCELLED
    assert book.item(book.g1).suspended_until is None


def test_a_plan_with_interest_is_kept_when_the_items_are_paid(book: Book) -> None:
    alice = book.service("alice")
    plan = alice.open_payment_plan(
        book.denis,
        today=dt.date(2026, 3, 1),
        count=2,
        first_due=dt.date(2026, 4, 1),
        annual_rate=D("12"),
    ).case
    # 31 days on 300 at 12 %, then 30 days on 150.
    assert [i.amount for i in plan.instalments] == [D("153.06"), D("151.48")]
    book.pay(book.g1, D("300.00"))  # interest is invoiced apart by the ERP
    assert alice.review_due_cases(dt.date(2026, 4, 2)).report.plans_kept == (
        plan.number,
    )


def test_a_schedule_must_cover_the_debt(book: Book) -> None:
    alice = book.service("alice")
    with pytest.raises(ValueError, match="must cover"):
        alice.open_payment_plan(
            book.denis, today=DAY, schedule=[(dt.date(2026, 4, 1), D("100.00"))]
        )
    with pytest.raises(ValueError, match="first date"):
        alice.open_payment_plan(book.denis, today=DAY, count=3)

"""Litigation, holds and notifications, as the team lives them (both DBs)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
import zipfile
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from openpyxl import load_workbook

from o2c_desktop.engine.cases import LitigationStage
from o2c_desktop.engine.types import (
    ActionStatus,
    ActionType,
    CaseStatus,
    DocumentKind,
)
from o2c_desktop.models import Action, Contact, Customer, Document
from tests.services._cases_book import Book, build_book

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database

D = Decimal
DAY = dt.date(2026, 3, 9)


@pytest.fixture
def book(db: Database) -> Book:
    return build_book(db)


def _reminder_sent(book: Book, day: dt.date, filename: str) -> None:
    """A letter the dunning engine sent to Monnier, with its PDF."""
    with book.db.session("server") as s:
        action = Action(
            id=uuid.uuid4(),
            customer_id=book.monnier,
            action_type=ActionType.REGISTERED_LETTER,
            subject="Formal notice",
            planned_date=day,
            status=ActionStatus.DONE,
            automatic=True,
        )
        s.add(action)
        s.flush()
        s.add(
            Document(
                id=uuid.uuid4(),
                customer_id=book.monnier,
                action_id=action.id,
                kind=DocumentKind.LETTER,
                filename=filename,
                content=b"%PDF-1.4 " + filename.encode(),
            )
        )


def test_a_customer_handed_to_a_lawyer_and_the_file_the_lawyer_gets(
    book: Book,
) -> None:
    alice = book.service("alice")
    _reminder_sent(book, dt.date(2026, 2, 20), "letter_18981_2026-02-20.pdf")
    _reminder_sent(book, dt.date(2026, 3, 2), "formal notice 18981.pdf")
    # After the formal notice, Monnier goes to the lawyer: every open item.
    case = alice.open_litigation(
        book.monnier,
        today=DAY,
        stage=LitigationStage.FORMAL_NOTICE,
        partner="Cabinet Lefèvre",
        fees=D("450.00"),
    ).case
    assert case.amount == D("3500.00")
    assert all(book.item(i).in_litigation for i in (book.f1, book.f2, book.f3))

    moved = alice.update_litigation(
        case.id,
        today=dt.date(2026, 4, 1),
        version=case.version,
        stage=LitigationStage.PAYMENT_ORDER,
    ).case
    assert moved.stage == "payment_order"

    data = alice.export_litigation(case.id, today=dt.date(2026, 4, 15))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = sorted(zf.namelist())
        assert names == [
            "history.csv",
            f"litigation_{case.number}.xlsx",
            "reminders/2026-02-20_letter_18981_2026-02-20.pdf",
            "reminders/2026-03-02_formal_notice_18981.pdf",
        ]
        workbook = load_workbook(io.BytesIO(zf.read(f"litigation_{case.number}.xlsx")))
        history = zf.read("history.csv").decode()
    sheet = workbook["Items"]
    rows = list(sheet.iter_rows(min_row=5, values_only=True))
    first = rows[0]
    assert first[0] == "23854826"
    assert first[3] == 90  # days late on 15 April
    # France: ECB rate 2.15 + 10 points on 1,000 for 90 days; 40 € indemnity.
    assert D(str(first[7])) == D("29.96")
    assert D(str(first[8])) == D("40")
    total = next(r for r in rows if r[0] == "Total")
    assert D(str(total[5])) == D("3500.00")
    legal = {r[0]: r[1] for r in workbook["Customer"].iter_rows(values_only=True)}
    assert legal["Legal id"] == "552100554"
    assert legal["Partner"] == "Cabinet Lefèvre"
    assert "Handed over to litigation" in history
    assert "Litigation stage changed" in history
    assert "Formal notice" in history

    alice.close_litigation(case.id, today=dt.date(2026, 6, 1), comment="paid in court")
    assert alice.case(case.id).status == CaseStatus.CLOSED
    assert not book.item(book.f1).in_litigation


def test_the_lawyer_file_claims_interest_at_the_contractual_rate(
    book: Book,
) -> None:
    alice = book.service("alice")
    case = alice.open_litigation(
        book.monnier, today=DAY, stage=LitigationStage.FORMAL_NOTICE
    ).case

    def first_row(customer_rate: str | None, entity_rate: str | None) -> list[Any]:
        with book.db.session("setup") as s:
            customer = s.get(Customer, book.monnier)
            assert customer is not None
            customer.late_interest_rate = (
                None if customer_rate is None else D(customer_rate)
            )
            customer.entity.late_interest_rate = (
                None if entity_rate is None else D(entity_rate)
            )
        data = alice.export_litigation(case.id, today=dt.date(2026, 4, 15))
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            book_ = load_workbook(io.BytesIO(zf.read(f"litigation_{case.number}.xlsx")))
        rows = list(book_["Items"].iter_rows(min_row=5, values_only=True))
        assert rows[0][0] == "23854826"
        assert rows[0][3] == 90
        notes = [
            r[0] for r in rows if r[0] and str(r[0]).startswith(("Contr", "Where"))
        ]
        return [D(str(rows[0][7])), *notes]

    # 1,000.00 due 15 January 2026, claimed 15 April: 16 + 28 + 31 + 15 = 90 days.
    # Customer at 15 % (overrides the entity's 5 %): 1,000 x 0.15 x 90 / 365
    # = 36.9863 -> 36.99.
    assert first_row("15", "5") == [D("36.99"), "Contractual rate, percent a year"]
    # Entity at 5 %, below the floor of 3 x 2.76 = 8.28 %: 1,000 x 0.0828 x 90 / 365
    # = 20.4164 -> 20.42.
    assert first_row(None, "5") == [
        D("20.42"),
        "Contractual rate, percent a year",
        "Where lower, the contractual rate was raised to the legal floor.",
    ]
    # Neither: the default 2.15 + 10 = 12.15 %: 1,000 x 0.1215 x 90 / 365 = 29.96.
    assert first_row(None, None) == [D("29.96")]


HOSTILE_NAME = '=HYPERLINK("http://x","y")'
HOSTILE_SUBJECT = "=cmd|' /C calc'!A0"


def test_the_lawyer_file_holds_hostile_text_as_text_never_as_formulas(
    book: Book,
) -> None:
    """Issue 14 section 3: a name, a phone or a comment is never a live formula."""
    with book.db.session("setup") as s:
        customer = s.get(Customer, book.monnier)
        assert customer is not None
        customer.name = HOSTILE_NAME
        customer.phone = "+33 1 23"
        s.add(Contact(customer_id=book.monnier, name="-Jo", phone="+33 1 23"))
        s.add(
            Action(
                id=uuid.uuid4(),
                customer_id=book.monnier,
                action_type=ActionType.PHONE_CALL,
                subject=HOSTILE_SUBJECT,
                comment="@SUM(A1)",
                planned_date=dt.date(2026, 3, 1),
                status=ActionStatus.DONE,
            )
        )
    alice = book.service("alice")
    case = alice.open_litigation(
        book.monnier, today=DAY, stage=LitigationStage.FORMAL_NOTICE
    ).case
    data = alice.export_litigation(case.id, today=dt.date(2026, 4, 15))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        workbook = load_workbook(io.BytesIO(zf.read(f"litigation_{case.number}.xlsx")))
        history = zf.read("history.csv").decode()

    cells = [
        c for sheet in workbook for row in sheet.iter_rows() for c in row if c.value
    ]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    by_value = {c.value: c for c in cells}
    for text in (HOSTILE_NAME, "+33 1 23", "-Jo", HOSTILE_SUBJECT, "@SUM(A1)"):
        assert by_value[text].data_type == "s", text
    # The quote prefix keeps them text when someone edits the cell in Excel.
    assert by_value[HOSTILE_NAME].quotePrefix
    legal = {r[0]: r[1] for r in workbook["Customer"].iter_rows(values_only=True)}
    assert legal["Name"] == HOSTILE_NAME
    assert legal["Phone"] == "+33 1 23"  # still a phone number for a person
    opened = legal["Opened on"]
    assert isinstance(opened, dt.datetime)  # a date, not text
    assert opened.date() == DAY
    logged = list(workbook["History"].iter_rows(values_only=True))
    call = next(r for r in logged if r[3] == HOSTILE_SUBJECT)
    assert isinstance(call[0], dt.datetime)
    assert call[0].date() == dt.date(2026, 3, 1)
    assert call[5] == "@SUM(A1)"
    # Numbers stay numbers: the lawyer's sums work.
    items = list(workbook["Items"].iter_rows(min_row=5, values_only=True))
    assert isinstance(items[0][4], int | float)

    rows = list(csv.reader(io.StringIO(history)))
    call_row = next(r for r in rows if r[3].endswith(HOSTILE_SUBJECT))
    assert call_row[0] == "2026-03-01"
    assert call_row[3] == "'" + HOSTILE_SUBJECT
    assert call_row[5] == "'@SUM(A1)"
    cells_csv = [v for r in rows for v in r]
    assert not [v for v in cells_csv if v.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_a_customer_hold_lifts_itself_after_its_end_date(book: Book) -> None:
    alice = book.service("alice")
    changes = alice.hold_customer(
        book.denis, today=DAY, reason="merger under way", until=dt.date(2026, 3, 31)
    )
    assert changes.customers
    held = book.customer(book.denis)
    assert (held.on_hold, held.hold_reason) == (True, "merger under way")
    assert not alice.review_due_cases(dt.date(2026, 3, 31)).report.changed
    report = alice.review_due_cases(dt.date(2026, 4, 1)).report
    assert report.customer_holds_lifted == ("118436",)
    lifted = book.customer(book.denis)
    assert (lifted.on_hold, lifted.hold_until, lifted.hold_reason) == (
        False,
        None,
        None,
    )


def test_an_item_hold_lifts_itself_after_its_end_date(book: Book) -> None:
    alice = book.service("alice")
    alice.hold_items(
        [book.f1], today=DAY, reason="waiting for the PO", until=dt.date(2026, 3, 20)
    )
    assert book.item(book.f1).hold_until == dt.date(2026, 3, 20)
    assert not alice.review_due_cases(dt.date(2026, 3, 20)).report.changed
    assert alice.review_due_cases(dt.date(2026, 3, 21)).report.item_holds_lifted == 1
    lifted = book.item(book.f1)
    assert (lifted.hold_until, lifted.hold_reason) == (None, None)
    with pytest.raises(ValueError, match="in the past"):
        alice.hold_items([book.f1], today=DAY, reason="x", until=dt.date(2026, 3, 1))


def test_notifying_colleagues_after_performing_an_action(book: Book) -> None:
    alice, bob = book.service("alice"), book.service("bob")
    promise = alice.open_promise(
        book.monnier, today=DAY, promised_date=dt.date(2026, 3, 20)
    ).case
    [action] = alice.case_actions(promise.id)
    alice.notify(
        ["bob", "carla", "bob"],
        "Monnier promised 1,500 for the 20th",
        customer_id=book.monnier,
        action_id=action.id,
    )
    [note] = bob.notifications(unread_only=True)
    assert (note.sender, note.customer_id, note.action_id) == (
        "alice",
        book.monnier,
        action.id,
    )
    assert len(book.service("carla").notifications()) == 1
    bob.mark_read(note.id)
    assert bob.notifications(unread_only=True) == ()
    assert bob.notifications()[0].read
    with pytest.raises(LookupError, match="user zoe not found"):
        alice.notify(["zoe"], "hello")

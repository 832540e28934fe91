"""A short or wrong file must not close the book; every import can be undone.

Issue 14: a 5-row file imported in full into an entity of 3,831 open items
closed them all, and the next case review recorded promises kept and
disputes paid. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import sessionmaker

from o2c_desktop.engine.cases import CaseEvent
from o2c_desktop.engine.types import CaseStatus, ItemStatus
from o2c_desktop.models import (
    Action,
    BalanceSnapshot,
    Case,
    Customer,
    DunningRun,
    ImportBatch,
    Item,
)
from o2c_desktop.models.base import Base
from o2c_desktop.models.db import AuditedSession, Database, make_engine
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.dunning import DunningService
from o2c_desktop.services.importing import (
    CloseNotConfirmedError,
    ImportRefusedError,
    ImportService,
    UndoRefusedError,
)
from tests.services._cases_book import Book, build_book
from tests.sync import import_builders as b

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path


D = dt.date
HEAD = ["Code client", "Nom client", "N° facture", "Type", "Date facture"]
HEAD += ["Date d'échéance", "Montant TTC", "Reste dû"]


def _rows(count: int, prefix: str = "F", customer: str = "C1") -> list[list[str]]:
    return [
        [
            customer,
            "Dupont",
            f"{prefix}{i}",
            "Facture",
            "01/01/2026",
            "31/01/2026",
            "100,00",
            "100,00",
        ]
        for i in range(count)
    ]


def _file(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    return b.write_csv(path, [HEAD, *rows])


def _book(db: Database) -> dict[str, tuple[str, Decimal, Decimal]]:
    """number -> (status, amount, remaining) of every item."""
    with db.session() as s:
        return {
            i.number: (i.status.value, i.amount, i.remaining)
            for i in s.scalars(select(Item))
        }


def _count(db: Database, model: type[object]) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_short_full_import_is_refused_and_writes_nothing(
    db: Database, tmp_path: Path
) -> None:
    service = ImportService(db, "night-job")
    service.apply(
        service.preview(_file(tmp_path / "a.csv", _rows(50))), as_of=D(2026, 2, 1)
    )
    before = _book(db)
    short = service.preview(_file(tmp_path / "short.csv", _rows(5)))
    with pytest.raises(CloseNotConfirmedError) as refused:
        service.apply(short, as_of=D(2026, 2, 2))
    check = refused.value.check
    assert (check.items, check.amount, check.open_items, check.outstanding) == (
        45,
        Decimal("4500.00"),
        50,
        Decimal("5000.00"),
    )
    assert "would close 45 of 50 open items (4500.00 EUR" in str(refused.value)
    assert _book(db) == before
    assert (_count(db, ImportBatch), _count(db, BalanceSnapshot)) == (1, 1)

    dry = service.apply(short, as_of=D(2026, 2, 2), dry_run=True)
    assert dry.close == check
    assert dry.close is not None
    assert dry.close.needs_confirmation
    assert _book(db) == before

    done = service.apply(short, as_of=D(2026, 2, 2), confirm_close=True)
    assert done.items_closed == 45
    assert sum(v[0] == "open" for v in _book(db).values()) == 5


def test_the_share_applies_to_items_and_to_money(db: Database, tmp_path: Path) -> None:
    service = ImportService(db)
    rows = _rows(10)
    rows[0] = [*rows[0][:6], "5000,00", "5000,00"]  # one large invoice
    service.apply(service.preview(_file(tmp_path / "a.csv", rows)), as_of=D(2026, 2, 1))
    # One small item of ten (10 %, 100 of 5,900): a normal day's payments.
    small = service.apply(
        service.preview(_file(tmp_path / "b.csv", rows[:9])), as_of=D(2026, 2, 2)
    )
    assert small.items_closed == 1
    # One large item of nine (11 % of the items, 85 % of the money): asks.
    with pytest.raises(CloseNotConfirmedError):
        service.apply(
            service.preview(_file(tmp_path / "c.csv", rows[1:9])), as_of=D(2026, 2, 3)
        )
    # A stricter share makes the small one ask too.
    with pytest.raises(CloseNotConfirmedError):
        service.apply(
            service.preview(_file(tmp_path / "d.csv", rows[:8])),
            as_of=D(2026, 2, 3),
            max_close_share=Decimal("0.05"),
        )


def _erp_file(tmp_path: Path, book: Book, name: str, numbers: Sequence[str]) -> Path:
    """The book's items as an ERP export listing only `numbers`."""
    lines = {
        "23854826": ["18981", "Monnier et Fils", "23854826", "15/01/2026", "1000,00"],
        "47997206": ["18981", "Monnier et Fils", "47997206", "01/02/2026", "500,00"],
        "45933709": ["18981", "Monnier et Fils", "45933709", "01/04/2026", "2000,00"],
        "48064383": ["118436", "Denis S.A.S.", "48064383", "10/01/2026", "300,00"],
    }
    rows = [
        [r[0], r[1], r[2], "Facture", "01/12/2025", r[3], r[4], r[4]]
        for n, r in lines.items()
        if n in numbers
    ]
    return _file(tmp_path / name, rows)


def test_closing_an_item_under_a_case_always_asks(db: Database, tmp_path: Path) -> None:
    book = build_book(db)
    alice = book.service("alice")
    alice.open_dispute(
        book.denis, today=D(2026, 2, 10), items=[book.g1], reason="price"
    )
    service = ImportService(db)
    # g1 (300 of 3,800, one item of four) is under the 50 % share, but disputed.
    parsed = service.preview(
        _erp_file(tmp_path, book, "a.csv", ["23854826", "47997206", "45933709"])
    )
    with pytest.raises(CloseNotConfirmedError) as refused:
        service.apply(parsed, as_of=D(2026, 2, 11), max_close_share=Decimal("0.5"))
    check = refused.value.check
    assert (check.items, check.disputed, check.promised, check.too_many) == (
        1,
        1,
        0,
        False,
    )
    assert book.item(book.g1).status == ItemStatus.OPEN


def test_undo_puts_items_and_the_case_review_back(db: Database, tmp_path: Path) -> None:
    book = build_book(db)
    alice = book.service("alice")
    alice.open_promise(
        book.monnier,
        today=D(2026, 2, 10),
        promised_date=D(2026, 2, 20),
        amount=Decimal("1000.00"),
        item_ids=[book.f1],
    )
    alice.open_dispute(
        book.denis, today=D(2026, 2, 10), items=[book.g1], reason="price"
    )
    suspended = book.item(book.f1).suspended_until
    assert suspended is not None
    assert book.item(book.g1).disputed
    with db.session() as s:
        before_cases = {c.number: c.status for c in s.scalars(select(Case))}
        actions_before = int(s.scalar(select(func.count()).select_from(Action)) or 0)
    before = _book(db)
    service = ImportService(db, "night-job")
    # The truncated export: f1 and g1 missing, f2 partly paid, one new invoice
    # (and the ERP's issue dates, which update f3 too).
    path = _erp_file(tmp_path, book, "short.csv", ["47997206", "45933709"])
    rows = path.read_text(encoding="utf-8").splitlines()
    rows[1] = rows[1].rsplit(";", 1)[0] + ";200,00"
    rows.append("18981;Monnier et Fils;NEW1;Facture;01/02/2026;03/03/2026;70,00;70,00")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    parsed = service.preview(path)
    with pytest.raises(CloseNotConfirmedError) as refused:
        service.apply(parsed, as_of=D(2026, 2, 11))
    check = refused.value.check
    assert (check.items, check.disputed, check.promised) == (2, 1, 1)
    result = service.apply(parsed, as_of=D(2026, 2, 11), confirm_close=True)
    assert (result.items_created, result.items_updated, result.items_closed) == (
        1,
        2,
        2,
    )
    report = alice.review_due_cases(D(2026, 2, 20)).report
    assert len(report.promises_kept) == 1
    assert len(report.disputes_paid) == 1
    assert not book.item(book.g1).disputed

    assert result.import_id is not None
    undone = service.undo(result.import_id)

    assert (undone.items_restored, undone.items_deleted) == (4, 1)
    assert sorted(undone.cases_reopened) == sorted(before_cases)
    assert _book(db) == before
    with db.session() as s:
        assert {c.number: c.status for c in s.scalars(select(Case))} == before_cases
        assert s.scalar(select(func.count()).select_from(Action)) == actions_before
        events = set(s.scalars(select(Action.case_event)))
        assert CaseEvent.KEPT.value not in events
        assert CaseEvent.RESOLVED.value not in events
        assert s.get(BalanceSnapshot, result.snapshot_id) is None
    assert book.item(book.f1).suspended_until == suspended
    assert book.item(book.g1).disputed
    [record] = service.history()
    assert (record.id, record.closed, record.undone_at is not None) == (
        result.import_id,
        2,
        True,
    )
    with pytest.raises(UndoRefusedError, match="already undone"):
        service.undo(result.import_id)


def test_undo_is_refused_once_a_later_import_or_a_run_built_on_it(
    db: Database, tmp_path: Path
) -> None:
    service = ImportService(db)
    first = service.apply(
        service.preview(_file(tmp_path / "a.csv", _rows(10))), as_of=D(2026, 2, 1)
    )
    second = service.apply(
        service.preview(_file(tmp_path / "b.csv", _rows(9))), as_of=D(2026, 2, 2)
    )
    assert first.import_id is not None
    assert second.import_id is not None
    before = _book(db)
    with pytest.raises(UndoRefusedError, match=f"import {second.import_id} of .* came"):
        service.undo(first.import_id)
    assert _book(db) == before
    DunningService(AppContext(db=db, user_login="night-job")).run(D(2026, 2, 3))
    assert _count(db, DunningRun) == 1
    with pytest.raises(UndoRefusedError, match="dunning run 1 for 2026-02-03"):
        service.undo(second.import_id)
    assert _book(db) == before


def test_undo_of_a_partial_import(db: Database, tmp_path: Path) -> None:
    service = ImportService(db)
    service.apply(
        service.preview(_file(tmp_path / "a.csv", _rows(3))), as_of=D(2026, 2, 1)
    )
    before = _book(db)
    rows = [*_rows(1), *_rows(2, prefix="G", customer="C9")]
    rows[0] = [*rows[0][:7], "40,00"]
    part = service.apply(
        service.preview(_file(tmp_path / "p.csv", rows)),
        as_of=D(2026, 2, 2),
        partial=True,
    )
    assert (part.items_created, part.items_updated, part.snapshot_id) == (2, 1, None)
    assert part.import_id is not None
    service.undo(part.import_id)
    assert _book(db) == before
    with db.session() as s:  # the new customer stays, with nothing on it
        assert s.scalar(select(Customer.id).where(Customer.reference == "C9"))


def test_an_import_waiting_too_long_for_another_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'busy.sqlite3'}"
    engine = make_engine(url)

    def short_wait(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=100")

    event.listen(engine, "connect", short_wait)
    Base.metadata.create_all(engine)
    db = Database(engine, sessionmaker(engine, class_=AuditedSession))
    service = ImportService(db)
    parsed = service.preview(_file(tmp_path / "a.csv", _rows(3)))
    other = sqlite3.connect(tmp_path / "busy.sqlite3")
    try:
        other.execute("BEGIN IMMEDIATE")  # another import is writing
        with pytest.raises(ImportRefusedError, match="the database is busy"):
            service.apply(parsed, as_of=D(2026, 2, 1))
    finally:
        other.rollback()
        other.close()
    assert service.apply(parsed, as_of=D(2026, 2, 1)).items_created == 3
    engine.dispose()


def test_undo_reopens_a_plan_the_review_closed_as_kept(
    db: Database, tmp_path: Path
) -> None:
    book = build_book(db)
    alice = book.service("alice")
    plan = alice.open_payment_plan(
        book.monnier,
        today=D(2026, 3, 1),
        item_ids=[book.f1, book.f2],
        count=3,
        first_due=D(2026, 4, 1),
    ).case
    suspended = book.item(book.f1).suspended_until
    assert suspended is not None
    service = ImportService(db)
    path = _erp_file(tmp_path, book, "cut.csv", ["45933709", "48064383"])
    parsed = service.preview(path)
    with pytest.raises(CloseNotConfirmedError) as refused:
        service.apply(parsed, as_of=D(2026, 3, 2), max_close_share=Decimal("0.9"))
    assert (refused.value.check.items, refused.value.check.planned) == (2, 2)
    result = service.apply(parsed, as_of=D(2026, 3, 2), confirm_close=True)
    assert alice.review_due_cases(D(2026, 3, 2)).report.plans_kept == (plan.number,)
    assert result.import_id is not None

    undone = service.undo(result.import_id)

    assert undone.cases_reopened == (plan.number,)
    reopened = alice.case(plan.id)
    assert reopened.status == CaseStatus.OPEN
    assert [i.paid for i in reopened.instalments] == [Decimal("0.00")] * 3
    assert book.item(book.f1).suspended_until == suspended
    assert book.item(book.f2).status == ItemStatus.OPEN
    events = [a.event for a in alice.case_actions(plan.id)]
    assert CaseEvent.KEPT not in events

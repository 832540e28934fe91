"""Every write path records who/what/when and bumps the change marker (issue 13).

A replica syncs from the rows' `change_seq` and the audit trail: an ORM edit,
a bulk import, a dunning run and the outbox's completion must all be seen the
same way, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select

from o2c_desktop.engine.types import ActionStatus
from o2c_desktop.models import Action, AuditEntry, Customer, Item
from o2c_desktop.models.base import utcnow
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.documents import DocumentService
from o2c_desktop.services.dunning import DunningService
from o2c_desktop.services.importing import ImportService
from o2c_desktop.services.outbox import ACTION_CHANNELS, Outbox
from o2c_desktop.settings import Settings
from o2c_desktop.sync import mail
from tests.services._book import standard_book
from tests.sync import import_builders as b
from tests.sync.smtp_server import Inbox, free_port, start

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from o2c_desktop.models.db import Database

HEAD = ["Code client", "Nom client", "N° facture", "Type", "Date facture",
        "Date d'échéance", "Montant TTC", "Reste dû"]  # fmt: skip


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    box = Inbox()
    controller, port = start(box)
    try:
        yield box, port
    finally:
        controller.stop()


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now


def outbox(db: Database, port: int, clock: Clock) -> Outbox:
    config = mail.MailConfig(
        host="127.0.0.1",
        port=port,
        security="none",
        mail_from="relances@acme.example",
        timeout=3,
    )
    documents = DocumentService(context(db), config)
    return Outbox(context(db), dict.fromkeys(ACTION_CHANNELS, documents), clock=clock)


def context(db: Database) -> AppContext:
    return AppContext(db=db, user_login="claire", settings=Settings(send_cap=500))


def markers(db: Database, model: Any) -> dict[Any, int | None]:
    key = model.number if model is Item else model.id
    with db.session() as s:
        return dict(s.execute(select(key, model.change_seq)).all())


def top(db: Database) -> int:
    """The highest marker in the synced tables this test touches."""
    with db.session() as s:
        return max(
            s.scalar(select(func.max(m.change_seq))) or 0
            for m in (Item, Customer, Action)
        )


def audit(db: Database, table: str, after: int) -> list[tuple[str | None, str, str]]:
    """(who, record, operation) of the audit rows about `table` after id `after`."""
    with db.session() as s:
        rows = s.execute(
            select(AuditEntry.user_login, AuditEntry.record_id, AuditEntry.operation)
            .where(AuditEntry.table_name == table, AuditEntry.id > after)
            .order_by(AuditEntry.id)
        ).all()
        assert all(
            at is not None
            for at in s.scalars(select(AuditEntry.at).where(AuditEntry.id > after))
        )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def last_audit(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.max(AuditEntry.id))) or 0


def test_every_write_path_audits_and_marks_the_rows_it_touches(
    db: Database, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    box, port = smtp
    ids = standard_book(
        db,
        {
            "Dupont": [("F1", "2026-02-20", "100.00")],
            "Martin": [("F2", "2026-02-20", "50.00")],
        },
    )
    dupont, martin = ids.customers["Dupont"], ids.customers["Martin"]
    # ORM inserts got a marker each.
    assert None not in markers(db, Item).values()
    assert None not in markers(db, Customer).values()

    # 1. ORM edit: the customers' emails.
    before, seen = top(db), last_audit(db)
    with db.session("claire") as s:
        for cid in (dupont, martin):
            s.get_one(Customer, cid).email = f"ap{cid}@example.com"
    edited = markers(db, Customer)
    assert all(edited[c] > before for c in (dupont, martin))  # type: ignore[operator]
    assert audit(db, "customer", seen) == [
        ("claire", str(dupont), "update"),
        ("claire", str(martin), "update"),
    ]

    # 2. Bulk import (partial): F1 changes, F3 is new, a new customer C9.
    before, seen = top(db), last_audit(db)
    items_before = markers(db, Item)
    dates = ["21/01/2026", "20/02/2026"]
    rows = [
        ["C00000", "Dupont", "F1", "Facture", *dates, "100,00", "80,00"],
        ["C00000", "Dupont", "F3", "Facture", *dates, "30,00", "30,00"],
        ["C9", "Durand", "F9", "Facture", *dates, "40,00", "40,00"],
    ]
    service = ImportService(db, "importer")
    path = b.write_csv(tmp_path / "delta.csv", [HEAD, *rows])
    result = service.apply(
        service.preview(path),
        entity_code="FR01",
        as_of=dt.date(2026, 2, 25),
        partial=True,
    )
    assert (result.items_created, result.items_updated) == (2, 1)
    imported = markers(db, Item)
    assert all(imported[n] > before for n in ("F1", "F3", "F9"))  # type: ignore[operator]
    assert imported["F2"] == items_before["F2"]  # untouched: unchanged
    with db.session() as s:
        durand = s.scalars(select(Customer).where(Customer.reference == "C9")).one()
        assert durand.change_seq is not None
        assert durand.change_seq > before
        assert durand.updated_by == "importer"
        durand_id = durand.id
    assert audit(db, "customer", seen) == [("importer", str(durand_id), "insert")]
    assert [(who, op) for who, _key, op in audit(db, "item", seen)] == [
        ("importer", "import")
    ]

    # 3. Engine run: actions written in bulk, the items' dunning columns set.
    before, seen = top(db), last_audit(db)
    clock = Clock()
    DunningService(context(db), outbox=outbox(db, free_port(), clock)).run(
        dt.date(2026, 3, 1)
    )
    dunned = markers(db, Item)
    assert all(dunned[n] > before for n in ("F1", "F2", "F3"))  # type: ignore[operator]
    actions = markers(db, Action)
    assert len(actions) == 2
    assert all(m is not None and m > before for m in actions.values())
    with db.session() as s:
        tried = set(s.scalars(select(Action.id).where(Action.reason.is_not(None))))
    assert len(tried) == 1  # the first send found no server; the other waits
    assert sorted(audit(db, "action", seen)) == sorted(
        [("claire", key.hex, "insert") for key in actions]
        # claimed (sending), then handed back to try again later
        + [("claire", key.hex, "update") for key in tried for _ in range(2)]
    )

    # 4. Outbox completion: the server is back, both reminders go.
    before, seen = top(db), last_audit(db)
    clock.now += dt.timedelta(minutes=6)
    assert outbox(db, port, clock).drain().sent == 2
    assert len(box.messages) == 2
    done = markers(db, Action)
    assert all(done[k] > before for k in actions)  # type: ignore[operator]
    with db.session() as s:
        statuses = set(s.scalars(select(Action.status)))
        assert statuses == {ActionStatus.DONE}
        assert set(s.scalars(select(Action.updated_by))) == {"claire"}
    assert sorted(audit(db, "action", seen)) == sorted(
        ("claire", key.hex, "update") for key in actions for _ in range(2)
    )

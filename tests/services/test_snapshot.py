"""A feed's snapshot applied to the book, on SQLite and PostgreSQL (issue 13).

An ERP connector hands `apply_snapshot` what it read: new and changed items,
items it knows paid (with their date) and items gone from the ERP, and its
cursor. All of it lands in one transaction, or none of it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd  # noqa: TID253 - test data frames
import pytest
from sqlalchemy import select

from o2c_desktop.engine.imports import CloseNotConfirmedError
from o2c_desktop.engine.types import ItemStatus
from o2c_desktop.models import AuditEntry, Item
from o2c_desktop.services.snapshot import (
    Snapshot,
    Watermark,
    apply_snapshot,
    read_cursor,
)

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database

D = dt.date


def items(*rows: tuple[str, str, str, int, str]) -> pd.DataFrame:
    """(customer, number, due date, remaining cents, ERP id) rows."""
    return pd.DataFrame(
        {
            "customer_ref": [r[0] for r in rows],
            "customer_name": [f"Customer {r[0]}" for r in rows],
            "number": [r[1] for r in rows],
            "instalment": [0] * len(rows),
            "kind": ["invoice"] * len(rows),
            "reference": [""] * len(rows),
            "issue_date": pd.to_datetime([r[2] for r in rows]).values.astype(
                "datetime64[D]"
            )
            - 30,
            "due_date": pd.to_datetime([r[2] for r in rows]).values.astype(
                "datetime64[D]"
            ),
            "amount": [r[3] for r in rows],
            "remaining": [r[3] for r in rows],
            "currency": ["EUR"] * len(rows),
            "external_id": [r[4] for r in rows],
        }
    )


def snapshot(frame: pd.DataFrame, **changes: Any) -> Snapshot:
    values: dict[str, Any] = {
        "source": "tryton:FR01",
        "entity": "FR01",
        "customers": frame[["customer_ref", "customer_name"]].drop_duplicates(),
        "items": frame.drop(columns=["customer_name"]),
        "as_of": D(2026, 3, 31),
        **changes,
    }
    return Snapshot(**values)


def book(db: Database) -> dict[str, tuple[str, Decimal, D | None, str | None]]:
    with db.session() as s:
        return {
            i.number: (i.status.value, i.remaining, i.closed_on, i.external_id)
            for i in s.scalars(select(Item))
        }


def keys(*numbers: str, **extra: Any) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_ref": ["C1"] * len(numbers),
            "number": list(numbers),
            "instalment": [0] * len(numbers),
            **extra,
        }
    )


def test_a_delta_settles_drops_and_upserts_and_saves_its_cursor(db: Database) -> None:
    first = items(
        ("C1", "F1", "2026-02-01", 10000, "inv-1"),
        ("C1", "F2", "2026-02-15", 5000, "inv-2"),
        ("C1", "F3", "2026-03-01", 2500, "inv-3"),
    )
    done = apply_snapshot(
        db,
        snapshot(first, watermark=Watermark("tryton:FR01", "2026-03-31T08:00")),
        user_login="erp-sync",
    )
    assert (done.entity_created, done.items_created, done.full) == (True, 3, True)
    assert read_cursor(db, "tryton:FR01") == "2026-03-31T08:00"

    # The next sync: F1 paid on 3 April, F2 deleted in the ERP, F4 new, F3 and
    # the rest of the book not mentioned (a delta leaves them alone).
    delta = snapshot(
        items(("C1", "F4", "2026-04-10", 700, "inv-4")),
        scope="delta",
        as_of=D(2026, 4, 5),
        settled=keys("F1", paid_on=pd.to_datetime(["2026-04-03"]).values),
        vanished=keys("F2", reason=["deleted in Tryton"]),
        watermark=Watermark("tryton:FR01", "2026-04-05T08:00"),
    )
    done = apply_snapshot(db, delta, user_login="erp-sync")
    assert (done.items_created, done.items_closed) == (1, 2)
    assert (done.items_settled, done.items_vanished) == (1, 1)
    assert done.snapshot_id is None
    assert done.outstanding_after == Decimal("32.00")  # F3 + F4
    assert book(db) == {
        "F1": ("closed", Decimal("0.00"), D(2026, 4, 3), "inv-1"),
        "F2": ("closed", Decimal("0.00"), D(2026, 4, 5), "inv-2"),
        "F3": ("open", Decimal("25.00"), None, "inv-3"),
        "F4": ("open", Decimal("7.00"), None, "inv-4"),
    }
    assert read_cursor(db, "tryton:FR01") == "2026-04-05T08:00"
    with db.session() as s:
        trail = s.scalars(
            select(AuditEntry.changes)
            .where(AuditEntry.operation == "import")
            .order_by(AuditEntry.id.desc())
        ).first()
        f2 = s.scalar(select(Item.id).where(Item.number == "F2"))
    assert trail is not None
    assert trail["vanished"] == {str(f2): "deleted in Tryton"}


def test_a_refused_snapshot_leaves_rows_and_cursor_as_they_were(db: Database) -> None:
    first = items(
        ("C1", "F1", "2026-02-01", 10000, "inv-1"),
        ("C1", "F2", "2026-02-15", 5000, "inv-2"),
    )
    mark = Watermark("tryton:FR01", "one")
    apply_snapshot(db, snapshot(first, watermark=mark), user_login="erp-sync")
    before = book(db)
    # A full snapshot listing half the book would close 50 % of it: refused.
    short = snapshot(
        items(("C1", "F1", "2026-02-01", 9000, "inv-1")),
        watermark=Watermark("tryton:FR01", "two"),
    )
    with pytest.raises(CloseNotConfirmedError):
        apply_snapshot(db, short, user_login="erp-sync")
    assert book(db) == before
    assert read_cursor(db, "tryton:FR01") == "one"
    # Confirmed, the change to F1 (and its ERP id) lands with the cursor.
    done = apply_snapshot(db, short, user_login="erp-sync", confirm_close=True)
    assert (done.items_updated, done.items_closed) == (1, 1)
    assert book(db)["F1"] == (ItemStatus.OPEN.value, Decimal("90.00"), None, "inv-1")
    assert read_cursor(db, "tryton:FR01") == "two"

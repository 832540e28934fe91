"""Paid history comes in with a file (#17): settled rows become closed items."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from o2c_desktop.engine.types import ItemStatus
from o2c_desktop.models import Item
from o2c_desktop.services.importing import (
    ImportOutcome,
    ImportRefusedError,
    ImportService,
)
from o2c_desktop.sync.importing.parse import ImportOptions
from tests.sync.import_builders import write_csv

if TYPE_CHECKING:
    from pathlib import Path

    from o2c_desktop.models.db import Database

D = dt.date
AS_OF = D(2026, 3, 31)
HEAD = ["Customer number", "Customer name", "Invoice number", "Invoice date"]
HEAD += ["Due date", "Amount", "Open amount", "Settled date"]
OPEN = [
    ["C1", "Dupont", "INV-1", "2026-01-05", "2026-02-04", "100.00", "100.00", ""],
    ["C2", "Durand", "INV-3", "2026-02-01", "2026-03-03", "80.00", "80.00", ""],
]
MIXED = [
    ["C1", "Dupont", "INV-1", "2026-01-05", "2026-02-04", "100.00", "0", "2026-03-10"],
    ["C1", "Dupont", "INV-2", "2025-11-20", "2025-12-20", "250.50", "0", "2026-01-02"],
    ["C2", "Durand", "INV-3", "2026-02-01", "2026-03-03", "80.00", "80.00", ""],
]


def _book(db: Database) -> dict[str, tuple[ItemStatus, Decimal, dt.date | None]]:
    with db.session() as s:
        items = s.scalars(select(Item)).all()
        return {i.number: (i.status, i.remaining, i.closed_on) for i in items}


def _import(db: Database, path: Path, *, history: bool = False) -> ImportOutcome:
    service = ImportService(db)
    parsed = service.preview(path, ImportOptions(history=history))
    return service.apply(parsed, as_of=AS_OF, confirm_close=True)


def test_settled_rows_close_known_items_and_create_the_unknown_ones(
    db: Database, tmp_path: Path
) -> None:
    _import(db, write_csv(tmp_path / "open.csv", [HEAD, *OPEN], sep=","))
    result = _import(db, write_csv(tmp_path / "mixed.csv", [HEAD, *MIXED], sep=","))
    closed = ItemStatus.CLOSED
    assert _book(db) == {
        "INV-1": (closed, Decimal("0.00"), D(2026, 3, 10)),  # paid on its own date
        "INV-2": (closed, Decimal("0.00"), D(2026, 1, 2)),  # history, never open here
        "INV-3": (ItemStatus.OPEN, Decimal("80.00"), None),
    }
    assert result.items_settled == 2
    assert result.outstanding_after == Decimal("80.00")
    # The same history again changes nothing.
    again = _import(db, write_csv(tmp_path / "again.csv", [HEAD, *MIXED], sep=","))
    assert (again.items_created, again.items_updated, again.items_closed) == (0, 0, 0)


def test_forced_history_never_closes_nor_reopens_open_items(
    db: Database, tmp_path: Path
) -> None:
    _import(db, write_csv(tmp_path / "open.csv", [HEAD, *OPEN], sep=","))
    paid = [r for r in MIXED if r[-1]]
    _import(db, write_csv(tmp_path / "paid.csv", [HEAD, *paid], sep=","), history=True)
    assert _book(db) == {
        "INV-1": (ItemStatus.OPEN, Decimal("100.00"), None),  # open today: kept
        "INV-2": (ItemStatus.CLOSED, Decimal("0.00"), D(2026, 1, 2)),
        "INV-3": (ItemStatus.OPEN, Decimal("80.00"), None),
    }
    with pytest.raises(ImportRefusedError, match="holds no item the book does not"):
        _import(
            db, write_csv(tmp_path / "p2.csv", [HEAD, *paid], sep=","), history=True
        )

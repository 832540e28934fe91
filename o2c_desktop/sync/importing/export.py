"""Writing items to .xlsx in our own layout, which imports back unchanged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from o2c_desktop.sync import spreadsheet
from o2c_desktop.sync.importing.fields import OWN_HEADERS

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable
    from decimal import Decimal
    from pathlib import Path

SHEET_NAME = "Items"


@dataclass(frozen=True)
class ExportRow:
    """One item as exported (plain values, no ORM)."""

    customer_ref: str
    customer_name: str
    number: str
    instalment: int
    kind: str
    reference: str | None
    issue_date: dt.date
    due_date: dt.date
    amount: Decimal
    remaining: Decimal
    currency: str


def write_items_xlsx(path: Path, rows: Iterable[ExportRow]) -> int:
    """Write `rows` to `path`; return how many were written.

    Text is always written as text (`o2c_desktop.sync.spreadsheet`): a value
    starting with = + - or @ is data, never a formula.
    """
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_NAME)
    spreadsheet.append(sheet, [h for h, _f in OWN_HEADERS])
    count = 0
    for r in rows:
        spreadsheet.append(
            sheet,
            [
                r.customer_ref,
                r.customer_name,
                r.number,
                r.instalment,
                r.kind,
                r.reference or "",
                r.issue_date,
                r.due_date,
                r.amount,
                r.remaining,
                r.currency,
            ],
        )
        count += 1
    spreadsheet.save_workbook(book, path)
    return count
